/**
 * Incoming custom messages as an async iterator with a bounded buffer: the shape
 * `PeerManager.messages()` hands out. A consumer that falls behind stops the peers that feed
 * it (their connections are not read, so TCP slows them down), or, if it asked to, fails
 * loudly; the buffer never grows without bound.
 */
import { describe } from './bytes.js';
import { LnPeerError } from './errors.js';
import type { CustomMessageEvent } from './peer-manager.js';

/** Which incoming custom messages a stream or a wait takes. */
export interface MessageFilter {
  /** One type, or several; default: every type. */
  type?: number | readonly number[];
  /** Only from this peer (66 hex characters); default: from every peer. */
  peerId?: string;
}

/** Options of `PeerManager.messages()`. */
export interface MessagesOptions extends MessageFilter {
  /** Ends the iteration (the loop sees it end; nothing is thrown). */
  signal?: AbortSignal;
  /**
   * Messages held for a consumer that has not read them yet. Default 256. When it is full: a
   * peer whose message arrives is paused until the consumer catches up (`overflow: 'pause'`,
   * the default), or the iteration fails with `QUEUE_FULL` (`overflow: 'error'`).
   */
  bufferSize?: number;
  /** See `bufferSize`. */
  overflow?: 'pause' | 'error';
}

/** Default of `MessagesOptions.bufferSize`. */
export const DEFAULT_MESSAGE_BUFFER = 256;

/** How a stream stops and restarts reading from a peer (PeerManager's pause/resume). */
export interface FlowControl {
  pause(peerId: string): void;
  resume(peerId: string): void;
}

/** A test for a message against a filter, checked once when the filter is made. */
export function matcher(filter: MessageFilter, call: string): (message: CustomMessageEvent) => boolean {
  const { type, peerId } = filter;
  const types = type === undefined ? undefined : new Set(Array.isArray(type) ? type : [type]);
  for (const t of types ?? []) {
    if (!Number.isInteger(t) || t < 0 || t > 0xffff) throw new LnPeerError('INVALID_ARGUMENT', `${call} type must be an integer from 0 to 65535 (or a list of them), got ${describe(t)}`);
  }
  if (peerId !== undefined && (typeof peerId !== 'string' || !/^0[23][0-9a-f]{64}$/.test(peerId))) {
    throw new LnPeerError('INVALID_ARGUMENT', `${call} peerId must be a node id, 66 lowercase hex characters, got ${describe(peerId)}`);
  }
  return (m) => (types === undefined || types.has(m.type)) && (peerId === undefined || m.peerId === peerId);
}

/**
 * A stream of `T`: each matching custom message, made into a `T` by the PeerManager (itself,
 * or decoded by a message schema).
 */
export class MessageStream<T extends { peerId: string } = CustomMessageEvent> implements AsyncIterableIterator<T> {
  readonly matches: (message: CustomMessageEvent) => boolean;
  private readonly buffer: T[] = [];
  private readonly bufferSize: number;
  private readonly overflow: 'pause' | 'error';
  /** Peers this stream paused, to resume when it catches up or ends. */
  private readonly pausedPeers = new Set<string>();
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;
  private failure: LnPeerError | undefined;
  private done = false;

  constructor(
    options: MessagesOptions,
    private readonly flow: FlowControl,
    private readonly onEnd: (stream: MessageStream<T>) => void,
  ) {
    this.matches = matcher(options, 'messages()');
    this.bufferSize = options.bufferSize ?? DEFAULT_MESSAGE_BUFFER;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) {
      throw new LnPeerError('INVALID_ARGUMENT', `messages() bufferSize must be a positive integer, got ${describe(options.bufferSize)}`);
    }
    this.overflow = options.overflow ?? 'pause';
    if (this.overflow !== 'pause' && this.overflow !== 'error') {
      throw new LnPeerError('INVALID_ARGUMENT', `messages() overflow must be 'pause' or 'error', got ${describe(options.overflow)}`);
    }
    const { signal } = options;
    if (signal?.aborted) this.end();
    else signal?.addEventListener('abort', () => this.end(), { once: true });
  }

  /** A matching message arrived. */
  push(message: T): void {
    if (this.done || this.failure) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = undefined;
      resolve({ value: message, done: false });
      return;
    }
    if (this.buffer.length >= this.bufferSize) {
      if (this.overflow === 'error') {
        // The messages held are still read; the failure comes after them, and nothing more is taken.
        this.failure = new LnPeerError('QUEUE_FULL', `messages(): ${this.bufferSize} messages were waiting to be read when another arrived from ${message.peerId} (bufferSize, overflow: 'error')`, { peerId: message.peerId, bufferSize: this.bufferSize });
        this.stop();
        return;
      }
      if (!this.pausedPeers.has(message.peerId)) {
        this.pausedPeers.add(message.peerId);
        this.flow.pause(message.peerId);
      }
    }
    this.buffer.push(message);
  }

  next(): Promise<IteratorResult<T>> {
    const message = this.buffer.shift();
    if (message) {
      // Caught up to half the buffer: the peers it stopped may send again.
      if (this.pausedPeers.size > 0 && this.buffer.length <= this.bufferSize / 2) this.resumePeers();
      return Promise.resolve({ value: message, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      this.done = true;
      return Promise.reject(failure);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  /** `break` out of a `for await` loop: the stream ends, and the peers it paused are read again. */
  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream: a pending `next()` resolves as done, buffered messages are dropped. */
  end(): void {
    if (this.done) return;
    this.buffer.length = 0;
    this.failure = undefined;
    this.done = true;
    this.stop();
    const resolve = this.waiting;
    this.waiting = this.failWaiting = undefined;
    resolve?.({ value: undefined, done: true });
  }

  private stop(): void {
    this.resumePeers();
    this.onEnd(this);
    if (this.failure && this.failWaiting) {
      const reject = this.failWaiting;
      const failure = this.failure;
      this.waiting = this.failWaiting = undefined;
      this.failure = undefined;
      this.done = true;
      reject(failure);
    }
  }

  private resumePeers(): void {
    for (const peerId of this.pausedPeers) this.flow.resume(peerId);
    this.pausedPeers.clear();
  }
}
