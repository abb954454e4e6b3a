/**
 * A Node.js duplex stream (a TCP socket, a TLS socket, any `Duplex`) as a {@link Connection}.
 * Platform-neutral code: it uses the stream's methods and imports nothing from Node.
 */
import type { Connection, ConnectionHandler } from '../connection.js';

/** The part of a Node `Duplex` this adapter uses. */
export interface DuplexLike {
  /** Received bytes. */
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  /** The remote ended, the stream closed, or its buffer drained. */
  on(event: 'end' | 'close' | 'drain', listener: () => void): unknown;
  /** The stream failed. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Queues bytes; `callback` runs once they were handed on (or failed). */
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
  /** Ends the writable side once what is queued was written. */
  end(): unknown;
  /** Closes at once. */
  destroy(): unknown;
  /** Stops `data` events. */
  pause(): unknown;
  /** Restarts `data` events. */
  resume(): unknown;
  /** Buffers writes until `uncork`. */
  cork(): void;
  /** Writes what `cork` buffered, together. */
  uncork(): void;
  readonly writableLength: number;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  /** `net.Socket` only. */
  setNoDelay?(noDelay: boolean): unknown;
}

/** True when `value` looks like a Node duplex stream. */
export function isDuplexLike(value: unknown): value is DuplexLike {
  const s = value as Partial<DuplexLike> | null;
  return typeof s === 'object' && s !== null && typeof s.on === 'function' && typeof s.write === 'function' && typeof s.cork === 'function' && typeof s.pause === 'function';
}

/** Wraps `stream`; from `open` on, the connection owns it. */
export function streamConnection(stream: DuplexLike): Connection {
  return new StreamConnection(stream);
}

class StreamConnection implements Connection {
  private handler: ConnectionHandler | undefined;
  private corked = false;
  private error: Error | undefined;
  /**
   * One callback for every write (a closure per write would cost an allocation per message).
   * A write that failed flushed nothing: the stream is being destroyed and `closed` follows.
   */
  private readonly onWritten = (error?: Error | null): void => {
    if (!error && !this.stream.destroyed) this.handler?.flushed();
  };
  private readonly uncork = (): void => {
    this.corked = false;
    this.stream.uncork();
  };

  constructor(private readonly stream: DuplexLike) {
    // Small packets otherwise wait up to 40 ms for Nagle's algorithm and the peer's delayed ACK.
    stream.setNoDelay?.(true);
    // From now on no stream error is unhandled, even before `open`; `closed` reports it.
    stream.on('error', (error) => (this.error ??= error));
  }

  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  open(handler: ConnectionHandler): void {
    this.handler = handler;
    const { stream } = this;
    stream.on('end', () => handler.end());
    stream.on('close', () => handler.closed(this.error));
    stream.on('data', (chunk) => handler.data(chunk));
  }

  write(bytes: Uint8Array): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    // The writes of one turn leave in one writev: one syscall, one TCP segment when small.
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      queueMicrotask(this.uncork);
    }
    this.stream.write(bytes, this.onWritten);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  end(): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }
}
