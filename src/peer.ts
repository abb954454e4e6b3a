/**
 * One encrypted connection to a Lightning node over any {@link Connection}: the BOLT 8
 * handshake as initiator or responder, then whole messages both ways. It knows nothing of
 * BOLT 1 beyond "a message starts with a 2-byte type"; `PeerManager` speaks BOLT 1 on top.
 */
import { defer, dialTcp, EventEmitter, unref } from '#platform';
import type { NetAddress } from './addresses.js';
import { checkWaitOptions, type WaitOptions } from './wait.js';
import { describe, toHex } from './bytes.js';
import { asConnection, type Connection, type ConnectionHandler, type Transport } from './connection.js';
import { checkObject, isObject } from './checks.js';
import { LnPeerError } from './errors.js';
import { reportListenerError } from './listener-errors.js';
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
import { chargeHandshake, handshakeBudgetLeft } from './handshake-budget.js';
import type { TypedEmitter } from './typed-emitter.js';

/** The default time allowed for the whole BOLT 8 handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;
/**
 * Time allowed for each act of the handshake, within the whole handshake's time: LND gives
 * each act 5 s. A socket that sends nothing holds its state no longer than this.
 */
export const ACT_TIMEOUT_MS = 5_000;
/**
 * Messages delivered in one turn of the event loop before the peer yields: a fast sender
 * must not keep the loop from timers and other peers (one read can hold 2 MiB of small
 * messages). 256 small messages take about 2 ms to decrypt and dispatch.
 */
export const MESSAGES_PER_TURN = 256;
/** Above this size a message is written as the cipher's own buffers: no packet-sized copy. */
const WRITE_AS_PARTS_ABOVE = 768;
/** How long `close()` waits for buffered bytes to flush before it drops the connection. */
export const CLOSE_GRACE_MS = 2_000;

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
  /** The handshake completed; `peerId` is the authenticated node id of the other side. */
  ready: (peerId: string) => void;
  /**
   * A whole decrypted message: 2-byte type followed by the payload. A message emitted while
   * nobody listens is not kept: listen before the handshake completes, or at the latest
   * right after `ready()` resolves (the first messages wait one turn of the event loop).
   * An exception thrown by a listener is the application's: it is rethrown as an uncaught
   * exception, and the connection carries on.
   */
  message: (message: Uint8Array) => void;
  /** The connection ended; emitted exactly once. `info.error` says what failed, if anything did. */
  close: (info: PeerCloseInfo) => void;
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
  /** The node to connect to: its 33-byte public key, as bytes or 66 hex characters. */
  peerId: Uint8Array | string;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

interface PendingSend {
  /** The write offset after this message's last byte: it is flushed once the offset is. */
  end: number;
  resolve: () => void;
  reject: (error: LnPeerError) => void;
}

/**
 * An encrypted Lightning connection over any byte stream.
 *
 * @example
 * ```ts
 * import { connect } from 'node:net';
 * const peer = Peer.initiator(connect(9735, '127.0.0.1'), { peerId, localKey });
 * await peer.ready();
 * peer.on('message', (m) => console.log('type', (m[0] << 8) | m[1]));
 * await peer.send(Uint8Array.from([0x00, 0x10, 0, 0, 0, 0])); // a BOLT 1 init with no features
 * ```
 */
export class Peer extends (EventEmitter as new () => TypedEmitter<PeerEvents>) {
  /** `initiator` when this side opened the connection. */
  readonly role: 'initiator' | 'responder';
  #state: State = 'handshake';
  #peerId: string | undefined;
  readonly #connection: Connection;
  // The handshake state and its input; dropped once the handshake completed, so that an idle
  // peer keeps little more than its two cipher states.
  #handshakeBytes: ByteQueue | undefined = new ByteQueue();
  #handshake: InitiatorHandshake | ResponderHandshake | undefined;
  #handshakeDeadline = 0;
  #handshakeTimeoutMs: number;
  #encryptor: MessageEncryptor | undefined;
  #decryptor: MessageDecryptor | undefined;
  /** The handshake timer, then the close grace period: never both. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closeInfo: PeerCloseInfo | undefined;
  #closed: Promise<PeerCloseInfo> | undefined;
  /** Reading is paused by the application (`pause()`). */
  #paused = false;
  /** The handshake waits for the next turn's budget (handshake-budget.ts). */
  #handshakeWaiting = false;
  /** Reading is paused until the next turn of the event loop (see MESSAGES_PER_TURN). */
  #yielding = false;
  /** Messages are being delivered (see #pump). */
  #pumping = false;
  /** Bytes written to the connection since it opened. */
  #written = 0;
  #bytesReceived = 0;
  /** Sends not yet flushed, oldest first (`#sendsHead` is the first live one). */
  #sends: PendingSend[] = [];
  #sendsHead = 0;

  private constructor(transport: Transport, role: 'initiator' | 'responder', options: PeerOptions, peerId?: Uint8Array) {
    super();
    this.role = role;
    const call = `Peer.${role}()`;
    checkObject(options, `${call} options`);
    const { localKey } = options;
    if (!(localKey instanceof Uint8Array) && !isObject(localKey)) {
      throw new LnPeerError('INVALID_ARGUMENT', `${call} options.localKey must be a 32-byte private key or a key pair from keyPair(), got ${describe(localKey)}`);
    }
    this.#connection = asConnection(transport);
    const local = localKey instanceof Uint8Array ? keyPair(localKey) : localKey;
    this.#handshake = peerId ? new InitiatorHandshake(local, peerId) : new ResponderHandshake(local);
    this.#handshakeTimeoutMs = checkTimeout(options.handshakeTimeoutMs);
    this.#handshakeDeadline = Date.now() + this.#handshakeTimeoutMs;
    this.#armHandshakeTimer();
    this.#connection.open(this.#handler);
    if (this.#handshake instanceof InitiatorHandshake) this.#writeRaw(this.#handshake.actOne());
  }

  /** Starts the handshake as initiator on an open connection (or a connected Node stream). */
  static initiator(transport: Transport, options: InitiatorOptions): Peer {
    return new Peer(transport, 'initiator', options, parseNodeId(checkObject(options, 'Peer.initiator() options').peerId));
  }

  /** Starts the handshake as responder on an accepted connection (or Node stream). */
  static responder(transport: Transport, options: PeerOptions): Peer {
    return new Peer(transport, 'responder', options);
  }

  /**
   * Opens a TCP connection (Node.js) and completes the handshake as initiator. Rejects with
   * `CONNECTION_FAILED`, `HANDSHAKE_FAILED`, `TIMEOUT` (`timeoutMs` bounds the TCP connect),
   * `ABORTED`, or `UNSUPPORTED` where there is no TCP (a browser).
   */
  static async connect(options: InitiatorOptions & NetAddress & WaitOptions): Promise<Peer> {
    const peerId = parseNodeId(checkObject(options, 'Peer.connect() options').peerId);
    const connection = await dialTcp({ host: options.host, port: options.port }, checkWaitOptions(options, 'Peer.connect()'));
    const peer = new Peer(connection, 'initiator', options, peerId);
    await peer.ready();
    return peer;
  }

  /** Resolves when the handshake completes; rejects with the error that ended it otherwise. */
  ready(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#closeInfo) return Promise.reject(closedError(this.#closeInfo));
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
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /** True between the end of the handshake and the start of closing. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Bytes received from the connection so far, the handshake's included. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Bytes sent and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.#connection.bufferedAmount;
  }

  /** How the connection ended, once it has. */
  get closed(): PeerCloseInfo | undefined {
    return this.#state === 'closed' ? this.#closeInfo : undefined;
  }

  /**
   * Encrypts and sends one whole message (2-byte type + payload, at most 65535 bytes),
   * encrypted at once: changing `message` afterwards changes nothing. Resolves once the
   * bytes were handed to the network (the operating system, for TCP); rejects with
   * `CONNECTION_CLOSED` if the connection ends first. Messages sent in the same turn leave
   * together.
   */
  send(message: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(this.#notOpenError());
    if (!(message instanceof Uint8Array)) {
      return Promise.reject(new LnPeerError('INVALID_ARGUMENT', `a message must be a Uint8Array, got ${describe(message)}`));
    }
    try {
      this.#write(message);
    } catch (err) {
      return Promise.reject(err);
    }
    const end = this.#written;
    if (this.#written - this.#connection.bufferedAmount >= end) return Promise.resolve();
    return new Promise((resolve, reject) => this.#sends.push({ end, resolve, reject }));
  }

  /**
   * Stops reading from the connection: no `message` is emitted until `resume()`, and the
   * remote is slowed down by the transport's flow control (TCP's window fills).
   */
  pause(): void {
    this.#paused = true;
    this.#connection.pause();
  }

  /**
   * Reads from the connection again after `pause()`. Messages already received are delivered
   * from the next turn of the event loop, never from within this call.
   */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#state === 'open' && !this.#yielding) this.#yieldTurn();
  }

  /**
   * Closes the connection. After the handshake: what was sent before is flushed (for at most
   * 2 s), then the connection ends; nothing more is read. During the handshake: at once.
   * `cause` (a sentence, or the error that made this side close) is reported in the `close`
   * event. Resolves with how the connection ended, once it has.
   */
  close(cause: string | LnPeerError = 'closed by this side'): Promise<PeerCloseInfo> {
    if (typeof cause !== 'string' && !(cause instanceof LnPeerError)) {
      return Promise.reject(new LnPeerError('INVALID_ARGUMENT', `Peer close() cause must be a sentence (a string) or an LnPeerError, got ${describe(cause)}`));
    }
    if (this.#state === 'handshake' || this.#state === 'open') {
      this.#closeInfo = typeof cause === 'string' ? { reason: cause, local: true } : { reason: cause.message, error: cause, local: true };
      if (this.#state === 'handshake') this.#abort();
      else this.#closeGracefully();
    }
    return (this.#closed ??= this.#state === 'closed' ? Promise.resolve(this.#closeInfo!) : new Promise((resolve) => this.once('close', resolve)));
  }

  readonly #handler: ConnectionHandler = {
    data: (chunk) => this.#onData(chunk),
    flushed: () => this.#settleFlushed(),
    end: () => this.#onEnd(),
    closed: (error) => this.#finish(error),
  };

  #onData(chunk: Uint8Array): void {
    this.#bytesReceived += chunk.length;
    // After this side decided to close, input is dropped without being decrypted.
    if (this.#state === 'closing' || this.#state === 'closed') return;
    try {
      if (this.#state === 'handshake') {
        this.#handshakeBytes!.push(chunk);
        this.#advanceHandshake();
      } else {
        this.#decryptor!.push(chunk);
        this.#pump();
      }
    } catch (err) {
      this.#fail(asPeerFault(err));
    }
  }

  /** `#pump`, closing the connection when what was received is bad. */
  #deliver(): void {
    try {
      this.#pump();
    } catch (err) {
      this.#fail(asPeerFault(err));
    }
  }

  /** Delivers the whole messages received, up to MESSAGES_PER_TURN, then yields a turn. */
  #pump(): void {
    const decryptor = this.#decryptor;
    // Not re-entered: a listener that makes more bytes arrive (a synchronous in-memory
    // transport) leaves them for this loop, in order.
    if (!decryptor || this.#paused || this.#yielding || this.#pumping) return;
    this.#pumping = true;
    try {
      this.#deliverUpTo(decryptor, MESSAGES_PER_TURN);
    } finally {
      this.#pumping = false;
    }
  }

  #deliverUpTo(decryptor: MessageDecryptor, budget: number): void {
    for (let delivered = 0; this.#state === 'open' && !this.#paused; delivered++) {
      if (delivered === budget) {
        this.#yieldTurn();
        return;
      }
      const message = decryptor.next();
      if (!message) return;
      // BOLT 1 "Lightning Message Format": every message starts with a 2-byte type.
      if (message.length < 2) {
        throw new LnPeerError('INVALID_MESSAGE', `received a ${message.length}-byte message: every Lightning message starts with a 2-byte type`);
      }
      try {
        this.emit('message', message);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  /** Stops reading until the next turn of the event loop, then goes on where it stopped. */
  #yieldTurn(): void {
    this.#yielding = true;
    this.#connection.pause();
    defer(() => {
      this.#yielding = false;
      if (this.#state !== 'open') return;
      this.#updateReading();
      this.#deliver();
    });
  }

  #updateReading(): void {
    if (this.#state === 'open' && !this.#paused && !this.#yielding) this.#connection.resume();
  }

  #advanceHandshake(): void {
    const hs = this.#handshake!;
    const queue = this.#handshakeBytes!;
    let result: HandshakeResult;
    // BOLT 8 "Handshake Exchange": each act is read in full ("Read exactly 50/66 bytes") and
    // each reply goes out in a single write (Electrum reads act two with one read).
    if (hs instanceof InitiatorHandshake) {
      if (queue.length < ACT_TWO_LENGTH) return;
      const step = hs.actTwoToThree(queue.take(ACT_TWO_LENGTH));
      result = step.result;
      this.#open(result);
      // Act three, then in the same turn what the 'ready' listeners send (PeerManager's init):
      // both leave in one segment, while responders still read act three as exactly 66 bytes.
      this.#writeRaw(step.actThree);
    } else {
      // A responder's acts are work a remote can make this side do: within the turn's budget.
      if (!hs.readActOne) {
        if (queue.length < ACT_ONE_LENGTH || !this.#withinHandshakeBudget()) return;
        const actTwo = chargeHandshake(() => hs.actOneToTwo(queue.take(ACT_ONE_LENGTH)));
        this.#armHandshakeTimer();
        this.#writeRaw(actTwo);
      }
      if (queue.length < ACT_THREE_LENGTH || !this.#withinHandshakeBudget()) return;
      result = chargeHandshake(() => hs.actThree(queue.take(ACT_THREE_LENGTH)));
      this.#open(result);
    }
    this.#ready(queue);
  }

  /** True when this turn's handshake budget has room; else the handshake goes on next turn. */
  #withinHandshakeBudget(): boolean {
    if (handshakeBudgetLeft()) return true;
    if (!this.#handshakeWaiting) {
      this.#handshakeWaiting = true;
      defer(() => {
        this.#handshakeWaiting = false;
        if (this.#state !== 'handshake') return;
        try {
          this.#advanceHandshake();
        } catch (err) {
          this.#fail(asPeerFault(err));
        }
      });
    }
    return false;
  }

  /** The handshake succeeded: from now on, messages. */
  #open(result: HandshakeResult): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#handshake = undefined;
    this.#peerId = toHex(result.remoteStaticKey);
    this.#encryptor = new MessageEncryptor(result.sending);
    this.#decryptor = new MessageDecryptor(result.receiving);
    this.#state = 'open';
  }

  #ready(queue: ByteQueue): void {
    this.#handshakeBytes = undefined;
    // Bytes that came with the last act (an initiator sends its init with act three) wait,
    // with everything after them, for one turn of the event loop: an application that
    // awaits ready() and then listens for 'message' misses none of them.
    if (queue.length > 0) this.#decryptor!.push(queue.take(queue.length));
    this.#yieldTurn();
    try {
      this.emit('ready', this.#peerId!);
    } catch (err) {
      reportListenerError(err);
    }
  }

  #write(message: Uint8Array): void {
    const encryptor = this.#encryptor!;
    if (message.length > WRITE_AS_PARTS_ABOVE) {
      // Large messages as the cipher produced them: no packet-sized allocation and copy.
      for (const part of encryptor.encryptParts(message)) this.#writeRaw(part);
    } else {
      this.#writeRaw(encryptor.encrypt(message));
    }
  }

  #writeRaw(bytes: Uint8Array): void {
    this.#written += bytes.length;
    this.#connection.write(bytes);
  }

  /** Resolves the sends whose bytes have all been handed to the network. */
  #settleFlushed(): void {
    const flushed = this.#written - this.#connection.bufferedAmount;
    const sends = this.#sends;
    let head = this.#sendsHead;
    while (head < sends.length && sends[head].end <= flushed) sends[head++].resolve();
    if (head === sends.length) {
      this.#sends = [];
      this.#sendsHead = 0;
    } else {
      this.#sendsHead = head;
    }
  }

  #armHandshakeTimer(): void {
    clearTimeout(this.#timer);
    const remaining = this.#handshakeDeadline - Date.now();
    this.#timer = setTimeout(() => this.#onHandshakeTimeout(), Math.max(0, Math.min(ACT_TIMEOUT_MS, remaining)));
    unref(this.#timer);
  }

  #onHandshakeTimeout(): void {
    const overall = this.#handshakeDeadline - Date.now() <= 0;
    const act = this.#handshake instanceof ResponderHandshake && this.#handshake.readActOne ? 3 : this.#handshake instanceof ResponderHandshake ? 1 : 2;
    this.#fail(
      new LnPeerError(
        'TIMEOUT',
        overall ? `the BOLT 8 handshake did not complete within ${this.#handshakeTimeoutMs} ms` : `act ${act} of the BOLT 8 handshake did not arrive within ${ACT_TIMEOUT_MS} ms`,
        { stage: 'handshake', act, timeoutMs: overall ? this.#handshakeTimeoutMs : ACT_TIMEOUT_MS },
      ),
    );
  }

  #onEnd(): void {
    if (this.#state === 'handshake') {
      this.#fail(new LnPeerError('HANDSHAKE_FAILED', 'the remote closed the connection during the BOLT 8 handshake (a wrong node id, or it refused us)', { reason: 'SHORT_READ', stage: 'handshake' }), false);
      return;
    }
    if (this.#state === 'open') {
      this.#closeInfo = { reason: 'the remote closed the connection', local: false };
      this.#closeGracefully();
    }
  }

  #closeGracefully(): void {
    this.#state = 'closing';
    // Still read, to see the remote's end, but only to drop what comes (see #onData).
    this.#connection.resume();
    this.#connection.end();
    // A peer that never reads must not keep the connection (and this object) alive.
    this.#timer = setTimeout(() => this.#connection.destroy(), CLOSE_GRACE_MS);
    unref(this.#timer);
  }

  /** Closes at once because of `error`; `local` is false when the remote caused it (a hang-up). */
  #fail(error: LnPeerError, local = true): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'closing') this.#closeInfo = { reason: error.message, error, local };
    this.#abort();
  }

  #abort(): void {
    this.#state = 'closing';
    clearTimeout(this.#timer);
    this.#connection.destroy();
  }

  #finish(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    const info = this.#closeInfo ?? this.#unexpectedClose(error);
    this.#closeInfo = info;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#handshake = undefined;
    this.#handshakeBytes = undefined;
    if (this.#sendsHead < this.#sends.length) {
      const failure = closedError(info);
      for (let i = this.#sendsHead; i < this.#sends.length; i++) this.#sends[i].reject(failure);
    }
    this.#sends = [];
    this.#sendsHead = 0;
    this.emit('close', info);
  }

  #unexpectedClose(error: Error | undefined): PeerCloseInfo {
    if (this.#state === 'handshake') {
      const what = error ? `the connection failed during the BOLT 8 handshake: ${error.message}` : 'the connection closed during the BOLT 8 handshake';
      return { reason: what, error: new LnPeerError('HANDSHAKE_FAILED', what, { reason: 'SHORT_READ', stage: 'handshake' }, { cause: error }), local: false };
    }
    if (error) return { reason: `the connection failed: ${error.message}`, error: new LnPeerError('CONNECTION_CLOSED', `the connection failed: ${error.message}`, {}, { cause: error }), local: false };
    return { reason: 'the connection was closed', local: false };
  }

  #notOpenError(): LnPeerError {
    if (this.#closeInfo) return closedError(this.#closeInfo);
    return new LnPeerError('CONNECTION_CLOSED', 'cannot send before the handshake completed');
  }
}

/** The error a pending or later operation gets once the connection has ended. */
function closedError(info: PeerCloseInfo): LnPeerError {
  return info.error ?? new LnPeerError('CONNECTION_CLOSED', `the connection is closed: ${info.reason}`, { reason: info.reason });
}

/**
 * Received bytes made lnpeer throw: an `LnPeerError` names what was wrong with them; anything
 * else is a defect in lnpeer, reported as such, and it closes only this connection.
 */
function asPeerFault(err: unknown): LnPeerError {
  if (err instanceof LnPeerError) return err;
  return new LnPeerError('INTERNAL_ERROR', `lnpeer failed on bytes this peer sent (a defect in lnpeer; please report it): ${String(err)}`, {}, { cause: err });
}

function checkTimeout(value: number | undefined): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new LnPeerError('INVALID_ARGUMENT', `handshakeTimeoutMs must be a whole number of milliseconds from 1 to ${2 ** 31 - 1}, got ${describe(value)}`, { value });
  }
  return value;
}
