/**
 * BOLT 8 over a WebSocket, as Core Lightning's `bind-addr=ws:` speaks it: the WebSocket is
 * only a byte pipe. Every write goes out as one whole, unfragmented binary frame; received
 * frames are bytes in any chunking (Core Lightning frames by its read chunks, so frame
 * boundaries have nothing to do with message boundaries). Platform-neutral: it drives a
 * browser `WebSocket` or the `ws` package's through what both have.
 */
import { defer, loadWebSocket, unref } from '#platform';
import type { Connection, ConnectionHandler } from '../connection.js';
import { LnPeerError } from '../errors.js';
import { abortError, watchDeadline, type WaitOptions } from '../wait.js';

/** The part of a WebSocket (the browser's, or the `ws` package's) this adapter uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: never) => void): void;
  removeEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: never) => void): void;
  /** `ws` only: closes the socket at once. */
  terminate?(): void;
  /** `ws` only: stops and restarts reading from the socket. */
  pause?(): void;
  resume?(): void;
}

/** A WebSocket constructor: the browser's global, or the `ws` package's class. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * Writes of one turn travel together in one frame, up to this size; a larger batch is cut
 * into frames of at most this plus one packet (65,569 bytes), well under any server's cap.
 */
const FRAME_BATCH_BYTES = 64 * 1024;
/**
 * A browser WebSocket cannot stop reading: while the peer is paused, frames wait here, up to
 * this many bytes; past it the connection is closed rather than buffered without bound.
 */
export const MAX_BUFFERED_WHILE_PAUSED = 16 << 20;
/** How long `end()` lets the WebSocket closing handshake run before dropping the socket (Core Lightning never answers it). */
const CLOSE_HANDSHAKE_MS = 1_000;
/** While a browser WebSocket holds unsent bytes, its `bufferedAmount` is checked this often (it has no event). */
const BUFFERED_POLL_MS = 10;

/** WebSocket `readyState` values (RFC 6455 as the WebSocket API numbers them). */
const OPEN = 1;

/**
 * Close codes that mean the other side or the network failed (RFC 6455 §7.4.1); 1000, 1001,
 * 1005 (no code) and 1006 (the TCP connection just ended, as when Core Lightning hangs up)
 * are ends without an error.
 */
function isFailureCode(code: number): boolean {
  return code !== 1000 && code !== 1001 && code !== 1005 && code !== 1006;
}

/** Wraps an open WebSocket; from `open` on, the connection owns it. */
export function webSocketConnection(ws: WebSocketLike): Connection {
  return new WebSocketConnection(ws);
}

class WebSocketConnection implements Connection {
  private handler: ConnectionHandler | undefined;
  /** Writes of this turn, not yet sent (see FRAME_BATCH_BYTES). */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchScheduled = false;
  /** Frames received while paused (browser WebSockets cannot stop reading). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private paused = false;
  private ending = false;
  private isClosed = false;
  private error: Error | undefined;
  private polling = false;
  private lastBuffered = 0;
  /** `ws` tells when each frame was written; a browser WebSocket must be polled. */
  private readonly hasSendCallback: boolean;

  constructor(private readonly ws: WebSocketLike) {
    ws.binaryType = 'arraybuffer';
    this.hasSendCallback = typeof ws.terminate === 'function';
    // From now on no error is unhandled, even before `open`; `closed` reports it.
    ws.addEventListener('error', this.onError);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.batchBytes;
  }

  open(handler: ConnectionHandler): void {
    this.handler = handler;
    this.ws.addEventListener('message', this.onMessage);
    this.ws.addEventListener('close', this.onClose);
  }

  write(bytes: Uint8Array): void {
    if (this.isClosed || this.ending) return;
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
    if (this.batchBytes >= FRAME_BATCH_BYTES) this.sendBatch();
    else if (!this.batchScheduled) {
      this.batchScheduled = true;
      queueMicrotask(this.sendBatch);
    }
  }

  pause(): void {
    this.paused = true;
    this.ws.pause?.();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.ws.resume?.();
    while (!this.paused && this.held.length > 0 && !this.isClosed) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      this.handler?.data(chunk);
    }
  }

  /** Sends what is queued, then closes; the WebSocket closing handshake is not awaited. */
  end(): void {
    if (this.isClosed || this.ending) return;
    this.ending = true;
    this.sendBatch();
    this.closeWhenFlushed();
  }

  destroy(): void {
    this.finish(undefined, true);
  }

  private readonly sendBatch = (): void => {
    this.batchScheduled = false;
    if (this.batch.length === 0 || this.isClosed || this.ws.readyState !== OPEN) return;
    const frame = this.batch.length === 1 ? this.batch[0] : concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    if (this.hasSendCallback) this.ws.send(frame, this.onSent);
    else {
      this.ws.send(frame);
      this.watchBuffered();
    }
  };

  private readonly onSent = (error?: Error): void => {
    if (error || this.isClosed) return;
    this.handler?.flushed();
    if (this.ending) this.closeWhenFlushed();
  };

  /** A browser WebSocket says nothing when it sends: its `bufferedAmount` is watched until it empties. */
  private watchBuffered(): void {
    if (this.polling) return;
    this.polling = true;
    this.lastBuffered = this.ws.bufferedAmount;
    let checks = 0;
    const check = () => {
      if (this.isClosed) return;
      const buffered = this.ws.bufferedAmount;
      if (buffered < this.lastBuffered || buffered === 0) this.handler?.flushed();
      this.lastBuffered = buffered;
      if (buffered === 0) {
        this.polling = false;
        if (this.ending) this.closeWhenFlushed();
        return;
      }
      // The first checks come at once (bytes usually leave within a task), then every 10 ms.
      if (++checks < 8) defer(check);
      else unref(setTimeout(check, BUFFERED_POLL_MS));
    };
    defer(check);
  }

  private closeWhenFlushed(): void {
    if (this.isClosed || this.bufferedAmount > 0) return;
    this.ws.close(1000, 'closed');
    // Both ends are done; a peer that never answers the close frame (Core Lightning) holds
    // nothing of ours: the socket is dropped after a short grace, and the close is reported now.
    if (this.ws.terminate) unref(setTimeout(() => this.ws.terminate!(), CLOSE_HANDSHAKE_MS));
    this.finish(undefined, false);
  }

  private readonly onMessage = (event: { data: unknown }): void => {
    if (this.isClosed) return;
    const { data } = event;
    if (!(data instanceof ArrayBuffer)) {
      // RFC 6455 1003 "unsupported data": BOLT 8 travels in binary frames only.
      this.fail(new Error('the remote sent a text frame: BOLT 8 over WebSocket uses binary frames only'), 1003);
      return;
    }
    const chunk = new Uint8Array(data);
    if (!this.paused) {
      this.handler?.data(chunk);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_BUFFERED_WHILE_PAUSED) {
      this.fail(new Error(`more than ${MAX_BUFFERED_WHILE_PAUSED} bytes arrived while reading was paused (a browser WebSocket cannot stop the sender)`), 1008);
    }
  };

  private readonly onError = (event: { error?: unknown; message?: string }): void => {
    this.error ??= event.error instanceof Error ? event.error : new Error(event.message || 'the WebSocket failed');
  };

  private readonly onClose = (event: { code: number; reason: string }): void => {
    if (this.isClosed) return;
    const failure = this.error ?? (isFailureCode(event.code) ? new Error(`the WebSocket closed with code ${event.code}${event.reason ? `: ${event.reason}` : ''}`) : undefined);
    // A WebSocket has no half-close: a clean end from the remote is its end and the close at once.
    if (!failure) this.handler?.end();
    this.finish(failure, false);
  };

  /** Closes with `code` (RFC 6455 §7.4.1) and reports `error`. */
  private fail(error: Error, code: number): void {
    if (this.isClosed) return;
    try {
      this.ws.close(code, error.message.slice(0, 120));
    } catch {
      // A code the WebSocket refuses to send: it is closed below anyway.
    }
    this.finish(error, true);
  }

  private finish(error: Error | undefined, drop: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.batch = [];
    this.batchBytes = 0;
    this.held = [];
    this.heldBytes = 0;
    if (drop) {
      if (this.ws.terminate) this.ws.terminate();
      else if (this.ws.readyState <= OPEN) this.ws.close(1000, 'closed');
    }
    this.ws.removeEventListener('message', this.onMessage);
    this.ws.removeEventListener('close', this.onClose);
    const handler = this.handler;
    // Reported from a later turn, as a socket's close is, never from within the caller's call.
    if (handler) queueMicrotask(() => handler.closed(error));
  }
}

function ignore(): void {}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Opens a WebSocket to `url` (`ws://` or `wss://`) with the platform's WebSocket (the
 * browser's; on Node, the `ws` package). Rejects with `CONNECTION_FAILED`, `TIMEOUT` (details
 * `{ stage: 'connect' }`), `ABORTED`, or `UNSUPPORTED` where there is no WebSocket.
 */
export async function dialWebSocket(url: string, { signal, timeoutMs }: WaitOptions = {}): Promise<Connection> {
  if (signal?.aborted) throw abortError(signal, `connecting to ${url}`);
  const WebSocketImpl = await loadWebSocket();
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = new WebSocketImpl(url);
    } catch (err) {
      reject(new LnPeerError('INVALID_ADDRESS', `cannot open a WebSocket to ${url}: ${(err as Error).message}`, { url }, { cause: err }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const fail = (error: LnPeerError) => {
      cleanup();
      // Dropping a WebSocket that is still connecting makes it emit `error`: listened to, ignored.
      ws.addEventListener('error', ignore);
      if (ws.terminate) ws.terminate();
      else ws.close();
      reject(error);
    };
    const onOpen = () => {
      cleanup();
      resolve(webSocketConnection(ws));
    };
    const onError = (event: { error?: unknown; message?: string }) => {
      const why = event.error instanceof Error ? event.error.message : event.message || 'the connection failed';
      fail(new LnPeerError('CONNECTION_FAILED', `could not open a WebSocket to ${url}: ${why}`, { url, stage: 'connect' }, { cause: event.error }));
    };
    const onClose = (event: { code: number; reason: string }) =>
      fail(new LnPeerError('CONNECTION_FAILED', `could not open a WebSocket to ${url}: closed with code ${event.code}${event.reason ? ` (${event.reason})` : ''}`, { url, stage: 'connect', code: event.code }));
    const unwatch = watchDeadline({ signal, timeoutMs }, `connecting to ${url}`, () => new LnPeerError('TIMEOUT', `the WebSocket to ${url} did not open within ${timeoutMs} ms`, { url, stage: 'connect', timeoutMs }), fail);
    const cleanup = () => {
      unwatch();
      ws.removeEventListener('open', onOpen);
      ws.removeEventListener('error', onError);
      ws.removeEventListener('close', onClose);
    };
    ws.addEventListener('open', onOpen);
    ws.addEventListener('error', onError);
    ws.addEventListener('close', onClose);
  });
}
