/**
 * One connection to a Lightning node over any duplex byte stream: the BOLT 8 handshake as
 * initiator or responder, then whole encrypted messages both ways. It knows nothing of
 * BOLT 1 beyond "a message starts with a 2-byte type"; `PeerManager` speaks BOLT 1 on top.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { toHex } from './bytes.js';
import { LnPeerError } from './errors.js';
import { TypedEventEmitter, type TypedEmitter } from './events.js';
import { parseNodeId } from './node-id.js';
import {
  ACT_ONE_LENGTH,
  ACT_TWO_LENGTH,
  ACT_THREE_LENGTH,
  InitiatorHandshake,
  MessageDecryptor,
  MessageEncryptor,
  ResponderHandshake,
  keyPair,
  type HandshakeResult,
  type KeyPair,
} from './noise/index.js';
import { ByteQueue } from './noise/byte-queue.js';

/** The default time allowed for the whole BOLT 8 handshake (LND allows 5 s per act). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;
/** Above this size a message is written as the cipher's own buffers: no packet-sized copy. */
const WRITE_AS_PARTS_ABOVE = 768;
/** How long `close()` waits for buffered bytes to flush before it destroys the stream. */
const CLOSE_GRACE_MS = 2_000;

/** How a connection ended. */
export interface PeerCloseInfo {
  /** A sentence a person can read: why the connection ended. */
  reason: string;
  /** The error that ended it, if one did (absent for a clean close by either side). */
  error?: LnPeerError;
  /** True when this side closed it (`close()` or a local protocol decision). */
  local: boolean;
}

/** The events of a {@link Peer}. */
export type PeerEvents = {
  /** The handshake completed; `remoteNodeId` is the authenticated node id of the other side. */
  ready: (remoteNodeId: string) => void;
  /**
   * A whole decrypted message: 2-byte type followed by the payload. A message emitted while
   * nobody listens is not kept: listen before the handshake completes, or at the latest
   * right after `ready()` resolves (the first messages wait one turn of the event loop).
   */
  message: (message: Uint8Array) => void;
  /** The stream's write buffer emptied after `bufferedAmount` had grown (Node stream `drain`). */
  drain: () => void;
  /** The connection ended; emitted exactly once. */
  close: (info: PeerCloseInfo) => void;
  /** The error that is about to close the connection; only emitted when someone listens. */
  error: (error: LnPeerError) => void;
};

/** Options shared by both roles. */
export interface PeerOptions {
  /** This node's static private key (32 bytes) or a key pair built with `keyPair()`. */
  localKey: Uint8Array | KeyPair;
  /** Time allowed for the handshake, in milliseconds. Default 15,000. */
  handshakeTimeoutMs?: number;
}

/** Options for the initiating side, which must know the remote node id (BOLT 8: `rs`). */
export interface InitiatorOptions extends PeerOptions {
  remoteNodeId: Uint8Array | string;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

/**
 * An encrypted Lightning connection over a duplex byte stream.
 *
 * @example
 * ```ts
 * const peer = await Peer.connect({ host: '127.0.0.1', port: 9735, remoteNodeId, localKey });
 * peer.on('message', (m) => console.log('type', (m[0] << 8) | m[1]));
 * await peer.send(Uint8Array.from([0x00, 0x10, 0, 0, 0, 0])); // a BOLT 1 init with no features
 * ```
 */
export class Peer extends (TypedEventEmitter as new () => TypedEmitter<PeerEvents>) {
  /** `initiator` when this side opened the connection. */
  readonly role: 'initiator' | 'responder';
  private state: State = 'handshake';
  private remoteId: string | undefined;
  // The handshake state and its input buffer; dropped once the handshake completed, so that
  // an idle peer keeps little more than its two cipher states.
  private handshakeBytes: ByteQueue | undefined = new ByteQueue();
  private handshake: InitiatorHandshake | ResponderHandshake | undefined;
  private encryptor: MessageEncryptor | undefined;
  private decryptor: MessageDecryptor | undefined;
  /** The handshake deadline, then the close grace period: never both. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  private corked = false;
  private closeInfo: PeerCloseInfo | undefined;

  private constructor(
    /** The underlying byte stream. */
    readonly stream: Duplex,
    role: 'initiator' | 'responder',
    options: PeerOptions,
    remoteNodeId?: Uint8Array,
  ) {
    super();
    this.role = role;
    const local = options.localKey instanceof Uint8Array ? keyPair(options.localKey) : options.localKey;
    const handshake = remoteNodeId ? new InitiatorHandshake(local, remoteNodeId) : new ResponderHandshake(local);
    this.handshake = handshake;
    const timeout = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.timer = setTimeout(
      () => this.fail(new LnPeerError('TIMEOUT', `the BOLT 8 handshake did not complete within ${timeout} ms`, { phase: 'handshake', timeoutMs: timeout })),
      timeout,
    );
    // Small frames otherwise wait ~40 ms for Nagle's algorithm (PARTNERS.md).
    (stream as Partial<Socket>).setNoDelay?.(true);
    stream.on('data', (chunk: Uint8Array) => this.onData(chunk));
    stream.on('drain', () => this.emit('drain'));
    stream.on('end', () => this.onEnd());
    stream.on('error', (err) => this.fail(new LnPeerError('CONNECTION_CLOSED', `the connection failed: ${err.message}`, {}, { cause: err }), false));
    stream.on('close', () => this.finish({ reason: 'the connection was closed', local: false }));
    if (handshake instanceof InitiatorHandshake) this.writeRaw(handshake.actOne());
  }

  /** Starts the handshake as initiator on an already connected stream. */
  static initiator(stream: Duplex, options: InitiatorOptions): Peer {
    return new Peer(stream, 'initiator', options, parseNodeId(options.remoteNodeId));
  }

  /** Starts the handshake as responder on an accepted stream. */
  static responder(stream: Duplex, options: PeerOptions): Peer {
    return new Peer(stream, 'responder', options);
  }

  /**
   * Opens a TCP connection and completes the handshake. Rejects with `CONNECTION_FAILED`,
   * `HANDSHAKE_FAILED` or `TIMEOUT`.
   */
  static connect(options: InitiatorOptions & { host: string; port: number }): Promise<Peer> {
    const remoteNodeId = parseNodeId(options.remoteNodeId);
    const socket = netConnect({ host: options.host, port: options.port });
    return new Promise((resolve, reject) => {
      const onConnectError = (err: Error) =>
        reject(new LnPeerError('CONNECTION_FAILED', `could not connect to ${options.host}:${options.port}: ${err.message}`, { host: options.host, port: options.port }, { cause: err }));
      socket.once('error', onConnectError);
      socket.once('connect', () => {
        socket.off('error', onConnectError);
        const peer = new Peer(socket, 'initiator', options, remoteNodeId);
        peer.ready().then(() => resolve(peer), reject);
      });
    });
  }

  /** Resolves when the handshake completes; rejects with the error that ended it otherwise. */
  ready(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.closeInfo) return Promise.reject(closedError(this.closeInfo));
    return new Promise((resolve, reject) => {
      const onReady = () => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = (info: PeerCloseInfo) => {
        this.off('ready', onReady);
        reject(closedError(info));
      };
      this.once('ready', onReady);
      this.once('close', onClose);
    });
  }

  /** The remote node id (66 hex characters), known once the handshake completed. */
  get remoteNodeId(): string | undefined {
    return this.remoteId;
  }

  /** True between the end of the handshake and the start of closing. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Bytes written to the stream and not yet flushed to the operating system. */
  get bufferedAmount(): number {
    return this.stream.writableLength;
  }

  /** How the connection ended, once it has. */
  get closed(): PeerCloseInfo | undefined {
    return this.state === 'closed' ? this.closeInfo : undefined;
  }

  /**
   * Encrypts and writes one whole message (2-byte type + payload, at most 65535 bytes).
   * The promise resolves once the stream accepted the bytes (flushed to the OS), and rejects
   * with `CONNECTION_CLOSED` if the connection ends first. Messages sent in the same tick
   * leave in one write.
   */
  send(message: Uint8Array): Promise<void> {
    if (this.state !== 'open' || !this.encryptor) {
      return Promise.reject(
        this.closeInfo
          ? closedError(this.closeInfo)
          : new LnPeerError('CONNECTION_CLOSED', this.state === 'handshake' ? 'cannot send before the handshake completed' : 'the connection is closing'),
      );
    }
    let packet: Uint8Array;
    let head: Uint8Array[] | undefined;
    try {
      if (message.length > WRITE_AS_PARTS_ABOVE) {
        // Large messages as the cipher produced them: no packet-sized allocation and copy.
        head = this.encryptor.encryptParts(message);
        packet = head.pop()!;
      } else {
        packet = this.encryptor.encrypt(message);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.cork();
      if (head) for (const part of head) this.stream.write(part);
      this.stream.write(packet, (err) => {
        if (err) reject(this.closeInfo ? closedError(this.closeInfo) : new LnPeerError('CONNECTION_CLOSED', `the write failed: ${err.message}`, {}, { cause: err }));
        else resolve();
      });
    });
  }

  /**
   * Closes the connection: what was sent before is flushed, then the stream ends.
   * `cause` (a sentence, or the error that made this side close) is reported in the `close` event.
   */
  close(cause: string | LnPeerError = 'closed by this side'): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.closeInfo = typeof cause === 'string' ? { reason: cause, local: true } : { reason: cause.message, error: cause, local: true };
    clearTimeout(this.timer);
    this.stream.end();
    // A peer that never reads must not keep the stream (and this object) alive.
    this.timer = setTimeout(() => this.stream.destroy(), CLOSE_GRACE_MS).unref();
  }

  /**
   * Closes the connection at once because of `error` (emitted as `error` if anyone listens).
   * `local` is false when the remote or the network caused it (a reset, a hang-up).
   */
  fail(error: LnPeerError, local = true): void {
    if (this.state === 'closed') return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    const wasClosing = this.state === 'closing';
    this.closeInfo = wasClosing && this.closeInfo ? this.closeInfo : { reason: error.message, error, local };
    this.state = 'closing';
    clearTimeout(this.timer);
    this.stream.destroy();
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    try {
      if (this.decryptor) {
        this.decryptor.push(chunk, this.onMessage);
      } else {
        this.handshakeBytes!.push(chunk);
        this.advanceHandshake();
      }
    } catch (err) {
      // Our own failures close the connection; an exception from an application's
      // 'message' listener propagates, as it would from any Node event listener.
      if (!(err instanceof LnPeerError)) throw err;
      this.fail(err);
    }
  }

  private readonly onMessage = (message: Uint8Array): void => {
    if (this.state !== 'open') return;
    // BOLT 1 "Lightning Message Format": every message starts with a 2-byte type.
    if (message.length < 2) {
      throw new LnPeerError('INVALID_MESSAGE', `received a ${message.length}-byte message: every Lightning message starts with a 2-byte type`);
    }
    this.emit('message', message);
  };

  private advanceHandshake(): void {
    const hs = this.handshake!;
    const queue = this.handshakeBytes!;
    let result: HandshakeResult;
    // BOLT 8 "Handshake Exchange": each act is read in full ("Read exactly 50/66 bytes") and
    // each reply goes out in a single write (Electrum reads act two with one read).
    if (hs instanceof InitiatorHandshake) {
      if (queue.length < ACT_TWO_LENGTH) return;
      const step = hs.actTwoToThree(queue.take(ACT_TWO_LENGTH));
      // Act three and what is sent on 'ready' (PeerManager's init) leave in one segment. The
      // act itself is still one write; responders read it as exactly 66 bytes (BOLT 8).
      this.cork();
      this.writeRaw(step.actThree);
      result = step.result;
    } else {
      if (!hs.readActOne) {
        if (queue.length < ACT_ONE_LENGTH) return;
        this.writeRaw(hs.actOneToTwo(queue.take(ACT_ONE_LENGTH)));
      }
      if (queue.length < ACT_THREE_LENGTH) return;
      result = hs.actThree(queue.take(ACT_THREE_LENGTH));
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.handshake = undefined;
    this.handshakeBytes = undefined;
    this.remoteId = toHex(result.remoteStaticKey);
    this.encryptor = new MessageEncryptor(result.sending);
    this.decryptor = new MessageDecryptor(result.receiving);
    this.state = 'open';
    this.emit('ready', this.remoteId);
    // The first messages wait one turn of the event loop, so that an app that awaits ready()
    // and then listens for 'message' misses none: the bytes that came with the last act (an
    // initiator sends its init with act three), and, the stream being paused meanwhile,
    // whatever arrives after them, and the stream's end.
    const early = queue.length > 0 ? queue.take(queue.length) : undefined;
    this.stream.pause();
    setImmediate(() => {
      try {
        if (early) this.onData(early);
      } finally {
        this.stream.resume();
      }
    });
  }

  private writeRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** Batches the writes of one tick into one `writev` (one syscall, one TCP segment when small). */
  private cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    process.nextTick(() => {
      this.corked = false;
      this.stream.uncork();
    });
  }

  private onEnd(): void {
    if (this.state === 'handshake') {
      this.fail(new LnPeerError('HANDSHAKE_FAILED', 'the remote closed the connection during the BOLT 8 handshake (wrong node id, or it refused us)', { reason: 'SHORT_READ' }), false);
      return;
    }
    if (this.state === 'open') {
      this.closeInfo = { reason: 'the remote closed the connection', local: false };
      this.state = 'closing';
    }
    // After our own close() the stream has ended already (a second end() builds an error).
    if (!this.stream.writableEnded) this.stream.end();
  }

  private finish(fallback: PeerCloseInfo): void {
    if (this.state === 'closed') return;
    const info = this.closeInfo ?? (this.state === 'handshake'
      ? { reason: 'the connection closed during the BOLT 8 handshake', error: new LnPeerError('HANDSHAKE_FAILED', 'the connection closed during the BOLT 8 handshake', { reason: 'SHORT_READ' }), local: false }
      : fallback);
    this.closeInfo = info;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.emit('close', info);
  }
}

/** The error a pending or later operation gets once the connection has ended. */
function closedError(info: PeerCloseInfo): LnPeerError {
  return info.error ?? new LnPeerError('CONNECTION_CLOSED', `the connection is closed: ${info.reason}`, { reason: info.reason });
}
