/**
 * The BOLT 1 life of one connection after its BOLT 8 handshake: the `init` exchange and
 * feature negotiation, ping/pong keepalive, "it's ok to be odd" dispatch, and the limits on
 * what a peer can make this side queue. `PeerManager` owns the sessions; a session reports
 * through `hooks`.
 */
import { unref } from '#platform';
import { toHex, writeU16 } from './bytes.js';
import type { Direction, NetAddress } from './addresses.js';
import { LnPeerError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { Peer, PeerCloseInfo } from './peer.js';
import { ipAddress, isPrivateAddress, type Address } from './wire/address.js';
import { decodeFeatures, featureName, missingDependencies, unknownEvenBits } from './wire/features.js';
import {
  ERROR_TYPE,
  INIT_TYPE,
  PING_TYPE,
  PONG_TYPE,
  WARNING_TYPE,
  channelIdOf,
  isChannelMessageType,
  isGossipMessageType,
  messageTypeName,
} from './wire/message-types.js';
import {
  MAX_PONG_BYTES,
  combinedFeatures,
  decodeError,
  decodeInit,
  decodePing,
  decodePong,
  decodeWarning,
  encodeError,
  encodeInit,
  encodePing,
  encodeWarning,
  formatErrorData,
  type InitMessage,
} from './wire/messages.js';
import { chainLabel } from './wire/networks.js';

const ALL_CHANNELS = new Uint8Array(32);

/**
 * Replies (pongs, errors) queued for a peer and not yet flushed, above which its connection
 * is no longer read until they flush: a peer that floods pings and never reads the pongs
 * stalls itself instead of making this side queue without bound (LDK pauses reading at 12
 * queued messages).
 */
export const MAX_UNFLUSHED_REPLIES = 16;
/**
 * The same bound in bytes: past it, reading stops after the reply that crossed it, so a peer
 * that asks for the largest pongs (65,531 bytes) and never reads them makes this side hold
 * two of them (128 KiB), not sixteen (1 MiB): thousands of such peers stay affordable.
 */
export const MAX_UNFLUSHED_REPLY_BYTES = 64 * 1024;
/** Pings a session may have in flight at once (`PeerManager.ping()`). */
export const MAX_PENDING_PINGS = 16;

/** A connected peer, as `PeerManager.peers()` and the `peer:connect` event report it. */
export interface PeerInfo {
  /** The remote node id, 66 hex characters. */
  peerId: string;
  /** `outbound` when this side connected, `inbound` when the remote did. */
  direction: Direction;
  /** Where the remote is: its IP address and port as the socket sees them, or the address dialed. */
  address: NetAddress;
  /** When the `init` exchange completed. */
  connectedAt: Date;
  /** The remote's feature bits (`globalfeatures` OR `features`, BOLT 1), ascending. */
  features: number[];
  /** The chains the remote announced in `init` (names where known, else chain hash hex); absent when it sent none. */
  networks?: string[];
  /** How the remote sees this node's address (`init` `remote_addr`), when it said. */
  remoteAddr?: Address;
}

/** A `warning` or `error` message received from a peer. */
export interface RemoteErrorInfo {
  peerId: string;
  /** The channel it is about (hex); all zeros means "all channels" (error) or "none" (warning). */
  channelId: string;
  /** The data, printable ASCII as text, anything else as `hex:` (BOLT 1: "SHOULD NOT print out data verbatim"). */
  message: string;
  /** The raw data bytes. */
  data: Uint8Array;
}

/** What a session tells its owner. */
export interface SessionHooks {
  onActive(session: Session): void;
  onCustomMessage(session: Session, type: number, payload: Uint8Array): void;
  onRemoteError(session: Session, kind: 'error' | 'warning', info: RemoteErrorInfo): void;
  onClose(session: Session, info: PeerCloseInfo): void;
}

interface PendingPing {
  pongBytes: number;
  sentAt: number;
  resolve?: (roundTripMs: number) => void;
  reject?: (err: LnPeerError) => void;
}

/**
 * One pong of every size from one zero-filled buffer: a session answers a ping without
 * allocating its `ignored` bytes (the transport encrypts the message before `send` returns,
 * so the buffer is free again right after).
 */
const pongBuffer = new Uint8Array(4 + MAX_PONG_BYTES);

function pongMessage(byteslen: number): Uint8Array {
  // BOLT 1 pong: type 19, u16 byteslen, byteslen zero bytes ("SHOULD set `ignored` to 0s").
  writeU16(pongBuffer, 0, PONG_TYPE);
  writeU16(pongBuffer, 2, byteslen);
  return pongBuffer.subarray(0, 4 + byteslen);
}

export class Session {
  /** `init` sent, remote `init` awaited; then `active`; then `closed`. */
  state: 'init' | 'active' | 'closed' = 'init';
  readonly peerId: string;
  private info: PeerInfo | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastReceived = Date.now();
  private initReceived = false;
  private exchangedSinceInit = false;
  /** Pings sent and not yet answered, oldest first (pongs come back in order). */
  private pings: PendingPing[] = [];
  private unflushedReplies = 0;
  private unflushedReplyBytes = 0;
  /** Pauses of reading by the application (`PeerManager.pause`) not yet undone. */
  private pausesByApp = 0;
  /** This session has paused the peer's reading (for either reason above). */
  private readingPaused = false;

  constructor(
    readonly peer: Peer,
    readonly direction: Direction,
    readonly address: NetAddress,
    private readonly options: ResolvedOptions,
    private readonly hooks: SessionHooks,
  ) {
    this.peerId = peer.peerId!;
    peer.on('message', (m) => this.onMessage(m));
    peer.on('close', (info) => this.onClose(info));
    this.sendInit();
    this.setTimer(options.initTimeoutMs);
  }

  /** True once the remote's `init` arrived (accepted or not). */
  get receivedInit(): boolean {
    return this.initReceived;
  }

  /**
   * True when nothing crossed either way after the `init` exchange: a peer that hangs up then
   * (Electrum does) most likely refused something in this node's `init`, without saying so.
   */
  get quietSinceInit(): boolean {
    return !this.exchangedSinceInit;
  }

  /** The connected peer's description; `undefined` until `init` was exchanged. */
  get peerInfo(): PeerInfo | undefined {
    return this.info;
  }

  /**
   * Sends a whole message once the session is active; resolves when it was handed to the
   * network. Fails with `QUEUE_FULL` when more than `maxQueuedBytes` would be waiting.
   */
  send(message: Uint8Array): Promise<void> {
    if (this.state !== 'active') {
      return Promise.reject(new LnPeerError('PEER_NOT_CONNECTED', `peer ${this.peerId} is ${this.state === 'init' ? 'still exchanging init' : 'disconnected'}`, { peerId: this.peerId }));
    }
    const queued = this.peer.bufferedAmount;
    if (queued + message.length > this.options.maxQueuedBytes) {
      return Promise.reject(
        new LnPeerError(
          'QUEUE_FULL',
          `peer ${this.peerId} has ${queued} bytes waiting to be sent; this message (${message.length} bytes) would pass maxQueuedBytes (${this.options.maxQueuedBytes}). Wait for earlier sends to resolve`,
          { peerId: this.peerId, queued },
        ),
      );
    }
    this.exchangedSinceInit = true;
    return this.peer.send(message);
  }

  /**
   * Sends a `ping` asking for `pongBytes` bytes back (0 to 65531) and resolves with the
   * round trip in milliseconds. Without a `pong` within `timeoutMs` the connection is
   * closed (BOLT 1: "MAY close the network connection") and the promise rejects.
   */
  ping(pongBytes: number): Promise<number> {
    if (this.state !== 'active') {
      return Promise.reject(new LnPeerError('PEER_NOT_CONNECTED', `peer ${this.peerId} is not connected`, { peerId: this.peerId }));
    }
    if (this.pings.length >= MAX_PENDING_PINGS) {
      return Promise.reject(new LnPeerError('QUEUE_FULL', `${MAX_PENDING_PINGS} pings to ${this.peerId} are already waiting for their pong`, { peerId: this.peerId }));
    }
    return new Promise((resolve, reject) => this.sendPing(pongBytes, resolve, reject));
  }

  /** Stops reading from this peer, for the application; counted: each `pause` wants a `resume`. */
  pause(): void {
    this.pausesByApp++;
    this.updateReading();
  }

  /** Undoes one `pause`; reading restarts when none is left. */
  resume(): void {
    if (this.pausesByApp === 0) return;
    this.pausesByApp--;
    this.updateReading();
  }

  /** Sends a `warning` (when given), then closes once what was sent before is flushed. */
  disconnect(cause: string | LnPeerError, warning?: string): Promise<PeerCloseInfo> {
    // BOLT 1: a node that closes over a protocol violation "SHOULD send a warning" first.
    if (warning !== undefined && this.peer.isOpen) this.reply(encodeWarning(ALL_CHANNELS, warning));
    return this.peer.close(cause);
  }

  private sendPing(pongBytes: number, resolve?: PendingPing['resolve'], reject?: PendingPing['reject']): void {
    if (this.pings.length === 0) this.setTimer(this.options.pongTimeoutMs);
    this.pings.push({ pongBytes, sentAt: Date.now(), resolve, reject });
    this.reply(encodePing(pongBytes));
  }

  private sendInit(): void {
    const { features, networks } = this.options;
    // BOLT 1: remote_addr "SHOULD set remote_addr to reflect the remote's IP address (and
    // port) if an incoming connection"; "SHOULD NOT set private addresses".
    let remoteAddr: Address | undefined;
    if (this.direction === 'inbound') {
      remoteAddr = tryIpAddress(this.address);
      if (remoteAddr && isPrivateAddress(remoteAddr)) remoteAddr = undefined;
    }
    // BOLT 1: "MUST send init as the first Lightning message for any connection", at once:
    // some peers (lnsocket) wait for ours before sending theirs.
    this.reply(encodeInit({ features, networks: networks ? [...networks] : undefined, remoteAddr }));
  }

  private onMessage(message: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    const type = (message[0] << 8) | message[1];
    try {
      if (this.state === 'init') {
        this.onInit(type, message);
      } else {
        this.exchangedSinceInit = true;
        this.dispatch(type, message);
      }
    } catch (err) {
      // Only lnpeer's own decoders throw here: the hooks report the app's exceptions themselves.
      const error = err instanceof LnPeerError ? err : new LnPeerError('INTERNAL_ERROR', `lnpeer failed on a ${messageTypeName(type) ?? `type ${type}`} message (a defect in lnpeer; please report it): ${String(err)}`, { type }, { cause: err });
      // BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection".
      void this.disconnect(error, `invalid ${messageTypeName(type) ?? `type ${type}`} message: ${error.message}`);
    }
  }

  private onInit(type: number, message: Uint8Array): void {
    // BOLT 1: "MUST wait to receive init before sending any other messages"; init comes first.
    if (type !== INIT_TYPE) {
      const error = new LnPeerError('PROTOCOL_VIOLATION', `the first message from ${this.peerId} was type ${type} (${messageTypeName(type) ?? 'unknown'}), not init (BOLT 1)`, { type });
      void this.disconnect(error, 'the first message must be init');
      return;
    }
    this.initReceived = true;
    const init = decodeInit(message);
    const bits = decodeFeatures(combinedFeatures(init));
    // BOLT 1: "upon receiving unknown even feature bits that are non-zero: MUST close the connection".
    const unknown = unknownEvenBits(bits, this.options.knownBits);
    if (unknown.length > 0) {
      const error = new LnPeerError('UNKNOWN_EVEN_FEATURE', `peer ${this.peerId} requires feature bit${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which lnpeer does not know; offer the feature to accept such peers`, { bits: unknown });
      void this.disconnect(error, `unknown even feature bits ${unknown.join(', ')}`);
      return;
    }
    // BOLT 1: "if the feature vector does not set all known, transitive dependencies: MUST close the connection".
    const missing = missingDependencies(bits);
    if (missing.length > 0) {
      const text = missing.map((m) => `${featureName(m.bit) ?? m.bit} needs ${m.missing.map((b) => featureName(b) ?? b).join(', ')}`).join('; ');
      const error = new LnPeerError('MISSING_FEATURE_DEPENDENCY', `peer ${this.peerId} sets features without their dependencies: ${text}`, { missing });
      void this.disconnect(error, `feature dependencies missing: ${text}`);
      return;
    }
    // BOLT 1: networks with no common chain: "MAY close the connection" (CLN and LDK do).
    const ours = this.options.networks;
    if (ours && init.networks && !init.networks.some((theirs) => ours.some((mine) => equal(mine, theirs)))) {
      const theirs = init.networks.map(chainLabel).join(', ') || 'none';
      const error = new LnPeerError('NO_COMMON_NETWORK', `peer ${this.peerId} is on ${theirs}; this node is on ${ours.map(chainLabel).join(', ')}`, { theirs });
      void this.disconnect(error, 'No common network');
      return;
    }
    this.activate(init, bits);
  }

  private activate(init: InitMessage, bits: number[]): void {
    this.state = 'active';
    this.info = {
      peerId: this.peerId,
      direction: this.direction,
      address: this.address,
      connectedAt: new Date(),
      features: bits,
      ...(init.networks ? { networks: init.networks.map(chainLabel) } : {}),
      ...(init.remoteAddr ? { remoteAddr: init.remoteAddr } : {}),
    };
    this.setTimer(this.options.pingIntervalMs);
    this.hooks.onActive(this);
  }

  private dispatch(type: number, message: Uint8Array): void {
    switch (type) {
      case PING_TYPE: {
        const { numPongBytes } = decodePing(message);
        // BOLT 1: "if num_pong_bytes is less than 65532: MUST respond by sending a pong
        // message, with byteslen equal to num_pong_bytes"; otherwise "MUST ignore the ping".
        if (numPongBytes <= MAX_PONG_BYTES) this.reply(pongMessage(numPongBytes));
        return;
      }
      case PONG_TYPE: {
        const { byteslen } = decodePong(message);
        // BOLT 1: a pong that matches no ping "MAY close the connection"; lnpeer ignores it.
        const ping = this.pings[0];
        if (ping?.pongBytes !== byteslen) return;
        this.pings.shift();
        ping.resolve?.(Date.now() - ping.sentAt);
        return;
      }
      case ERROR_TYPE:
      case WARNING_TYPE: {
        const { channelId, data } = type === ERROR_TYPE ? decodeError(message) : decodeWarning(message);
        this.hooks.onRemoteError(this, type === ERROR_TYPE ? 'error' : 'warning', {
          peerId: this.peerId,
          channelId: toHex(channelId),
          message: formatErrorData(data),
          data,
        });
        return;
      }
      case INIT_TYPE:
        // BOLT 1 sends init once; a repeat changes nothing.
        decodeInit(message);
        return;
    }
    // BOLT 7: gossip a node did not ask for (lnpeer never sends gossip_timestamp_filter) is ignored.
    if (isGossipMessageType(type)) return;
    if (isChannelMessageType(type)) {
      // BOLT 1: "SHOULD send error with the unknown channel_id in reply to messages of type
      // 32-255 related to unknown channels": lnpeer has no channels.
      this.reply(encodeError(channelIdOf(message)!, 'lnpeer does not open or accept channels'));
      return;
    }
    if (type % 2 === 1 || this.options.evenTypes.has(type)) {
      this.hooks.onCustomMessage(this, type, message.subarray(2));
      return;
    }
    // BOLT 1: "upon receiving a message of even, unknown type: MUST close the connection".
    const error = new LnPeerError('PROTOCOL_VIOLATION', `peer ${this.peerId} sent unknown even message type ${type} (BOLT 1 requires closing the connection)`, { type });
    void this.disconnect(error, `Invalid unknown even msg type ${type}`);
  }

  /**
   * Sends a message lnpeer itself composed (init, pong, ping, error, warning). While too many
   * of them wait to be flushed, the peer is not read (MAX_UNFLUSHED_REPLIES, MAX_UNFLUSHED_REPLY_BYTES).
   */
  private reply(message: Uint8Array): void {
    // Sent (encrypted) first: `message` may be a view of the shared pong buffer.
    // A failure means the connection is closing; the close event reports why.
    const { length } = message;
    const flushed = (): void => {
      this.unflushedReplies--;
      this.unflushedReplyBytes -= length;
      this.updateReading();
    };
    this.peer.send(message).then(flushed, flushed);
    this.unflushedReplies++;
    this.unflushedReplyBytes += length;
    this.updateReading();
  }

  private updateReading(): void {
    const pause = this.pausesByApp > 0 || this.unflushedReplies > MAX_UNFLUSHED_REPLIES || this.unflushedReplyBytes > MAX_UNFLUSHED_REPLY_BYTES;
    if (pause === this.readingPaused || !this.peer.isOpen) return;
    this.readingPaused = pause;
    if (pause) this.peer.pause();
    else this.peer.resume();
  }

  /** One timer per session: the init deadline first, then the keepalive. */
  private setTimer(ms: number): void {
    clearTimeout(this.timer);
    if (ms === 0) return;
    this.timer = setTimeout(() => this.onTimer(), ms);
    unref(this.timer);
  }

  private onTimer(): void {
    const { initTimeoutMs, pingIntervalMs, pongTimeoutMs } = this.options;
    if (this.state === 'init') {
      void this.disconnect(new LnPeerError('TIMEOUT', `peer ${this.peerId} did not send init within ${initTimeoutMs} ms`, { stage: 'init', timeoutMs: initTimeoutMs }));
      return;
    }
    if (this.state !== 'active') return;
    const now = Date.now();
    const oldest = this.pings[0];
    if (oldest) {
      const waited = now - oldest.sentAt;
      if (waited >= pongTimeoutMs) {
        // BOLT 1: a node that gets no pong "MAY close the network connection".
        void this.disconnect(new LnPeerError('TIMEOUT', `peer ${this.peerId} did not answer a ping within ${pongTimeoutMs} ms`, { stage: 'ping', timeoutMs: pongTimeoutMs }));
        return;
      }
      this.setTimer(pongTimeoutMs - waited);
      return;
    }
    const idle = now - this.lastReceived;
    if (pingIntervalMs === 0) return;
    if (idle < pingIntervalMs) {
      this.setTimer(pingIntervalMs - idle);
      return;
    }
    // A small random pong size tells our pong from a stray one.
    this.sendPing(1 + Math.floor(Math.random() * 8));
  }

  private onClose(info: PeerCloseInfo): void {
    this.state = 'closed';
    clearTimeout(this.timer);
    // The error only when someone waits for it: an error captures a stack trace (~10 µs).
    if (this.pings.some((ping) => ping.reject)) {
      const pingError = info.error?.code === 'TIMEOUT' ? info.error : new LnPeerError('CONNECTION_CLOSED', `the connection to ${this.peerId} closed before the pong arrived: ${info.reason}`, { peerId: this.peerId });
      for (const ping of this.pings) ping.reject?.(pingError);
    }
    this.pings = [];
    this.hooks.onClose(this, info);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function tryIpAddress({ host, port }: NetAddress): Address | undefined {
  try {
    return ipAddress(host, port);
  } catch {
    return undefined;
  }
}
