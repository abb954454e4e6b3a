/**
 * The BOLT 1 life of one connection after its BOLT 8 handshake: the `init` exchange and
 * feature negotiation, ping/pong keepalive, "it's ok to be odd" dispatch, and a send queue
 * with backpressure. `PeerManager` owns the sessions; a session reports through `hooks`.
 */
import { LnPeerError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { Peer, PeerCloseInfo } from './peer.js';
import { ipAddress, isPrivateAddress, type Address } from './wire/address.js';
import { decodeFeatures, featureName, missingDependencies, unknownEvenBits } from './wire/features.js';
import { channelIdOf, isChannelMessageType, isGossipMessageType, messageTypeName } from './wire/message-types.js';
import {
  combinedFeatures,
  decodeError,
  decodeInit,
  decodePing,
  decodePong,
  decodeWarning,
  encodeError,
  encodeInit,
  encodePing,
  encodePong,
  encodeWarning,
  formatErrorData,
  MAX_PONG_BYTES,
  type InitMessage,
} from './wire/messages.js';
import { networkName } from './wire/networks.js';
import { toHex } from './bytes.js';

// BOLT 1 message types that the session handles itself.
const WARNING = 1;
const INIT = 16;
const ERROR = 17;
const PING = 18;
const PONG = 19;
const ALL_CHANNELS = new Uint8Array(32);

/** A connected peer, as `PeerManager.peers()` and the `peer:connect` event report it. */
export interface PeerInfo {
  /** The remote node id, 66 hex characters. */
  nodeId: string;
  /** `outbound` when this side connected, `inbound` when the remote did. */
  direction: 'inbound' | 'outbound';
  /** The remote's IP address and port as the socket sees them. */
  address: { host: string; port: number };
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

/** Pings a session may have in flight at once. */
const MAX_PENDING_PINGS = 16;

interface Waiting {
  message: Uint8Array;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class Session {
  /** `init` sent, remote `init` awaited; then `active`; then `closed`. */
  state: 'init' | 'active' | 'closed' = 'init';
  readonly nodeId: string;
  private info: PeerInfo | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastReceived = Date.now();
  private heardSinceInit = false;
  /** Pings sent and not yet answered, oldest first (pongs come back in order). */
  private pings: PendingPing[] = [];
  private waiting: Waiting[] = [];
  private waitingHead = 0;
  private waitingBytes = 0;

  constructor(
    readonly peer: Peer,
    readonly direction: 'inbound' | 'outbound',
    readonly address: { host: string; port: number },
    private readonly options: ResolvedOptions,
    private readonly hooks: SessionHooks,
  ) {
    this.nodeId = peer.remoteNodeId!;
    peer.on('message', (m) => this.onMessage(m));
    peer.on('drain', () => this.flushWaiting());
    peer.on('close', (info) => this.onClose(info));
    this.sendInit();
    this.setTimer(options.initTimeoutMs);
  }

  /**
   * True when the remote sent nothing after its `init`: a peer that hangs up then (Electrum
   * does) most likely refused this node's features, without saying so.
   */
  get silentSinceInit(): boolean {
    return !this.heardSinceInit;
  }

  /** The connected peer's description; `undefined` until `init` was exchanged. */
  get peerInfo(): PeerInfo | undefined {
    return this.info;
  }

  /**
   * Sends a whole message once the session is active. Waits while more than
   * `sendHighWaterMark` bytes are buffered; fails with `QUEUE_FULL` past `maxQueuedBytes`.
   */
  send(message: Uint8Array): Promise<void> {
    if (this.state !== 'active') {
      return Promise.reject(new LnPeerError('PEER_NOT_CONNECTED', `peer ${this.nodeId} is ${this.state === 'init' ? 'still exchanging init' : 'disconnected'}`, { nodeId: this.nodeId }));
    }
    const buffered = this.peer.bufferedAmount;
    if (this.waitingHead === this.waiting.length && buffered < this.options.sendHighWaterMark) return this.peer.send(message);
    if (buffered + this.waitingBytes + message.length > this.options.maxQueuedBytes) {
      return Promise.reject(
        new LnPeerError(
          'QUEUE_FULL',
          `peer ${this.nodeId} has ${buffered + this.waitingBytes} bytes waiting to be sent; this message (${message.length} bytes) would pass maxQueuedBytes (${this.options.maxQueuedBytes}). Wait for earlier sends to resolve`,
          { nodeId: this.nodeId, queued: buffered + this.waitingBytes },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ message, resolve, reject });
      this.waitingBytes += message.length;
    });
  }

  /**
   * Sends a `ping` asking for `pongBytes` bytes back (0 to 65531) and resolves with the
   * round trip in milliseconds. Without a `pong` within `pongTimeoutMs` the connection is
   * closed (BOLT 1: "MAY close the network connection") and the promise rejects.
   */
  ping(pongBytes: number): Promise<number> {
    if (this.state !== 'active') {
      return Promise.reject(new LnPeerError('PEER_NOT_CONNECTED', `peer ${this.nodeId} is not connected`, { nodeId: this.nodeId }));
    }
    if (this.pings.length >= MAX_PENDING_PINGS) {
      return Promise.reject(new LnPeerError('QUEUE_FULL', `${MAX_PENDING_PINGS} pings to ${this.nodeId} are already waiting for their pong`, { nodeId: this.nodeId }));
    }
    return new Promise((resolve, reject) => this.sendPing(pongBytes, resolve, reject));
  }

  private sendPing(pongBytes: number, resolve?: PendingPing['resolve'], reject?: PendingPing['reject']): void {
    const message = encodePing(pongBytes);
    if (this.pings.length === 0) this.setTimer(this.options.pongTimeoutMs);
    this.pings.push({ pongBytes, sentAt: Date.now(), resolve, reject });
    this.sendInternal(message);
  }

  /** Sends a `warning` (when given), then closes once what was sent before is written. */
  disconnect(cause: string | LnPeerError, warning?: string): void {
    if (this.state === 'closed') return;
    if (warning !== undefined) this.peer.send(encodeWarning(ALL_CHANNELS, warning)).catch(() => {});
    this.peer.close(cause);
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
    this.sendInternal(encodeInit({ features, networks: networks ? [...networks] : undefined, remoteAddr }));
  }

  private onMessage(message: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    const type = (message[0] << 8) | message[1];
    try {
      if (this.state === 'init') {
        this.onInit(type, message);
      } else {
        this.heardSinceInit = true;
        this.dispatch(type, message);
      }
    } catch (err) {
      if (!(err instanceof LnPeerError)) throw err;
      // BOLT 1: "upon receiving a known message with insufficient length for the contents: MUST close the connection".
      this.disconnect(err, `invalid ${messageTypeName(type) ?? `type ${type}`} message: ${err.message}`);
    }
  }

  private onInit(type: number, message: Uint8Array): void {
    // BOLT 1: "MUST wait to receive init before sending any other messages"; init comes first.
    if (type !== INIT) {
      const error = new LnPeerError('PROTOCOL_VIOLATION', `the first message from ${this.nodeId} was type ${type} (${messageTypeName(type) ?? 'unknown'}), not init (BOLT 1)`, { type });
      this.disconnect(error, 'the first message must be init');
      return;
    }
    const init = decodeInit(message);
    const bits = decodeFeatures(combinedFeatures(init));
    // BOLT 1: "upon receiving unknown even feature bits that are non-zero: MUST close the connection".
    const unknown = unknownEvenBits(bits, this.options.knownBits);
    if (unknown.length > 0) {
      const error = new LnPeerError('UNKNOWN_EVEN_FEATURE', `peer ${this.nodeId} requires feature bit${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which lnpeer does not know; offer the feature to accept such peers`, { bits: unknown });
      this.disconnect(error, `unknown even feature bits ${unknown.join(', ')}`);
      return;
    }
    // BOLT 1: "if the feature vector does not set all known, transitive dependencies: MUST close the connection".
    const missing = missingDependencies(bits);
    if (missing.length > 0) {
      const text = missing.map((m) => `${featureName(m.bit) ?? m.bit} needs ${m.missing.map((b) => featureName(b) ?? b).join(', ')}`).join('; ');
      const error = new LnPeerError('MISSING_FEATURE_DEPENDENCY', `peer ${this.nodeId} sets features without their dependencies: ${text}`, { missing });
      this.disconnect(error, `feature dependencies missing: ${text}`);
      return;
    }
    // BOLT 1: networks with no common chain: "MAY close the connection" (CLN and LDK do).
    if (this.options.networks && init.networks && !init.networks.some((theirs) => this.options.networks!.some((ours) => equal(ours, theirs)))) {
      const theirs = init.networks.map(chainLabel).join(', ') || 'none';
      const error = new LnPeerError('NO_COMMON_NETWORK', `peer ${this.nodeId} is on ${theirs}; this node is on ${this.options.networks.map(chainLabel).join(', ')}`, { theirs });
      this.disconnect(error, 'No common network');
      return;
    }
    this.activate(init, bits);
  }

  private activate(init: InitMessage, bits: number[]): void {
    this.state = 'active';
    this.info = {
      nodeId: this.nodeId,
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
      case PING: {
        const { numPongBytes } = decodePing(message);
        // BOLT 1: "if num_pong_bytes is less than 65532: MUST respond by sending a pong
        // message, with byteslen equal to num_pong_bytes"; otherwise "MUST ignore the ping".
        if (numPongBytes <= MAX_PONG_BYTES) this.sendInternal(encodePong(numPongBytes));
        return;
      }
      case PONG: {
        const { byteslen } = decodePong(message);
        // BOLT 1: a pong that matches no ping "MAY close the connection"; lnpeer ignores it.
        const ping = this.pings[0];
        if (ping?.pongBytes !== byteslen) return;
        this.pings.shift();
        ping.resolve?.(Date.now() - ping.sentAt);
        return;
      }
      case ERROR:
      case WARNING: {
        const { channelId, data } = type === ERROR ? decodeError(message) : decodeWarning(message);
        this.hooks.onRemoteError(this, type === ERROR ? 'error' : 'warning', {
          peerId: this.nodeId,
          channelId: toHex(channelId),
          message: formatErrorData(data),
          data,
        });
        return;
      }
      case INIT:
        // BOLT 1 sends init once; a repeat changes nothing.
        decodeInit(message);
        return;
    }
    // BOLT 7: gossip a node did not ask for (lnpeer never sends gossip_timestamp_filter) is ignored.
    if (isGossipMessageType(type)) return;
    if (isChannelMessageType(type)) {
      // BOLT 1: "SHOULD send error with the unknown channel_id in reply to messages of type
      // 32-255 related to unknown channels": lnpeer has no channels.
      this.sendInternal(encodeError(channelIdOf(message)!, 'lnpeer does not open or accept channels'));
      return;
    }
    if (type % 2 === 1 || this.options.evenTypes.has(type)) {
      this.hooks.onCustomMessage(this, type, message.subarray(2));
      return;
    }
    // BOLT 1: "upon receiving a message of even, unknown type: MUST close the connection".
    const error = new LnPeerError('PROTOCOL_VIOLATION', `peer ${this.nodeId} sent unknown even message type ${type} (BOLT 1 requires closing the connection)`, { type });
    this.disconnect(error, `Invalid unknown even msg type ${type}`);
  }

  /**
   * Messages lnpeer itself sends (init, pong, error). A peer that makes us queue more than
   * `maxQueuedBytes` of them (a ping flood it does not read) is disconnected.
   */
  private sendInternal(message: Uint8Array): void {
    if (this.peer.bufferedAmount > this.options.maxQueuedBytes) {
      this.disconnect(new LnPeerError('QUEUE_FULL', `peer ${this.nodeId} does not read what it asks for: more than ${this.options.maxQueuedBytes} bytes are waiting to be sent to it`));
      return;
    }
    // A failure here means the connection is closing; the close event reports why.
    this.peer.send(message).catch(() => {});
  }

  private flushWaiting(): void {
    while (this.waitingHead < this.waiting.length && this.peer.bufferedAmount < this.options.sendHighWaterMark) {
      const next = this.waiting[this.waitingHead++];
      this.waitingBytes -= next.message.length;
      this.peer.send(next.message).then(next.resolve, next.reject);
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
  }

  /** One timer per session: the init deadline first, then the keepalive. */
  private setTimer(ms: number): void {
    clearTimeout(this.timer);
    if (ms === 0) return;
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    const { initTimeoutMs, pingIntervalMs, pongTimeoutMs } = this.options;
    if (this.state === 'init') {
      this.disconnect(new LnPeerError('TIMEOUT', `peer ${this.nodeId} did not send init within ${initTimeoutMs} ms`, { phase: 'init', timeoutMs: initTimeoutMs }));
      return;
    }
    if (this.state !== 'active') return;
    const now = Date.now();
    const oldest = this.pings[0];
    if (oldest) {
      const waited = now - oldest.sentAt;
      if (waited >= pongTimeoutMs) {
        // BOLT 1: a node that gets no pong "MAY close the network connection".
        this.disconnect(new LnPeerError('TIMEOUT', `peer ${this.nodeId} did not answer a ping within ${pongTimeoutMs} ms`, { phase: 'ping', timeoutMs: pongTimeoutMs }));
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
    // The errors only when someone waits for them: an error captures a stack trace (~10 µs).
    if (this.waitingHead < this.waiting.length) {
      const error = new LnPeerError('CONNECTION_CLOSED', `the connection to ${this.nodeId} closed before the message was sent: ${info.reason}`, { nodeId: this.nodeId });
      for (let i = this.waitingHead; i < this.waiting.length; i++) this.waiting[i].reject(error);
    }
    if (this.pings.some((ping) => ping.reject)) {
      const pingError = info.error?.code === 'TIMEOUT' ? info.error : new LnPeerError('CONNECTION_CLOSED', `the connection to ${this.nodeId} closed before the pong arrived: ${info.reason}`, { nodeId: this.nodeId });
      for (const ping of this.pings) ping.reject?.(pingError);
    }
    this.pings = [];
    this.waiting = [];
    this.waitingHead = 0;
    this.waitingBytes = 0;
    this.hooks.onClose(this, info);
  }
}

function chainLabel(hash: Uint8Array): string {
  return networkName(hash) ?? toHex(hash);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function tryIpAddress({ host, port }: { host: string; port: number }): Address | undefined {
  try {
    return ipAddress(host, port);
  } catch {
    return undefined;
  }
}
