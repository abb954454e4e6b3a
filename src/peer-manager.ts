/**
 * Many peers under one node identity: listen and connect, one connection per node id,
 * `sendCustomMsg` and the `custommsg` event, with the limits of DESIGN "Limits".
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { toHex } from './bytes.js';
import { CustomMessage } from './custom-message.js';
import { LnPeerError } from './errors.js';
import { TypedEventEmitter, type TypedEmitter } from './events.js';
import { nodeIdHex, parsePeerAddress } from './node-id.js';
import { resolveOptions, type PeerManagerOptions, type ResolvedOptions } from './options.js';
import { Peer, type PeerCloseInfo } from './peer.js';
import { Session, type PeerInfo, type RemoteErrorInfo, type SessionHooks } from './session.js';
import { MAX_PONG_BYTES } from './wire/messages.js';

/** An incoming custom message. */
export interface CustomMessageEvent {
  /** The sender's node id, 66 hex characters. */
  peerId: string;
  /** The 16-bit message type. */
  type: number;
  /** The bytes after the type. */
  payload: Uint8Array;
}

/** Why a connected peer went away. */
export interface DisconnectEvent {
  peerId: string;
  direction: 'inbound' | 'outbound';
  /** A sentence a person can read. */
  reason: string;
  /** The error that ended the connection, if any (absent for a clean close by either side). */
  error?: LnPeerError;
  /** True when this side ended it. */
  local: boolean;
}

/** A connection that ended before it became a peer (handshake or `init` failed). */
export interface ConnectionFailedEvent {
  direction: 'inbound' | 'outbound';
  address: { host: string; port: number };
  /** Known when the handshake got that far. */
  peerId?: string;
  error: LnPeerError;
}

/** A non-fatal observation about what the application sends (for example a type below 32768). */
export interface NoticeEvent {
  message: string;
  peerId?: string;
  type?: number;
}

/** The events of a {@link PeerManager}. */
export type PeerManagerEvents = {
  /** An odd-typed message lnpeer does not handle itself, or an even type the app registered. */
  custommsg: (message: CustomMessageEvent) => void;
  /** A peer completed the handshake and the `init` exchange. */
  'peer:connect': (peer: PeerInfo) => void;
  /** A connected peer went away. */
  'peer:disconnect': (event: DisconnectEvent) => void;
  /** A peer sent a BOLT 1 `warning`. */
  'peer:warning': (warning: RemoteErrorInfo) => void;
  /** A peer sent a BOLT 1 `error`. */
  'peer:error': (error: RemoteErrorInfo) => void;
  /** A connection failed before it became a peer. */
  'connection:failed': (event: ConnectionFailedEvent) => void;
  /** A non-fatal observation about an outgoing message; emitted once per type. */
  notice: (notice: NoticeEvent) => void;
  /** A listening socket failed. Emitted only when someone listens. */
  error: (error: LnPeerError) => void;
};

/**
 * A Lightning node identity with its peers.
 *
 * @example
 * ```ts
 * const pm = new PeerManager({ privateKey });
 * pm.on('custommsg', ({ peerId, type, payload }) => console.log(peerId, type, payload));
 * await pm.connect('02…@127.0.0.1:9735');
 * await pm.sendCustomMsg('02…', 'fffb68656c6c6f');
 * await pm.close();
 * ```
 */
export class PeerManager extends (TypedEventEmitter as new () => TypedEmitter<PeerManagerEvents>) {
  /** This node's id: the compressed public key, 66 hex characters. */
  readonly nodeId: string;
  private readonly options: ResolvedOptions;
  private readonly sessions = new Map<string, Session>();
  private readonly handshakes = new Set<Peer>();
  private readonly waitingInbound = new Map<Duplex, WaitingConnection>();
  private readonly servers = new Set<Server>();
  private readonly noticedTypes = new Set<number>();
  /** How each session that has not finished `init` settles its `active` promise. */
  private readonly activations = new Map<Session, { activate: (info: PeerInfo) => void; fail: (error: LnPeerError) => void }>();
  /** One hooks object for every session (closures per session would cost memory per idle peer). */
  private readonly hooks: SessionHooks = {
    onActive: (s) => {
      this.activations.get(s)?.activate(s.peerInfo!);
      this.activations.delete(s);
      this.emit('peer:connect', s.peerInfo!);
    },
    onCustomMessage: (s, type, payload) => this.emit('custommsg', { peerId: s.nodeId, type, payload }),
    onRemoteError: (_s, kind, info) => this.emit(kind === 'error' ? 'peer:error' : 'peer:warning', info),
    onClose: (s, info) => {
      const activation = this.activations.get(s);
      this.activations.delete(s);
      this.onSessionClose(s, info, activation?.fail);
    },
  };
  private closing = false;

  /** Throws `INVALID_ARGUMENT` or `INVALID_PRIVATE_KEY` when an option is not valid. */
  constructor(options: PeerManagerOptions = {}) {
    super();
    this.options = resolveOptions(options);
    this.nodeId = toHex(this.options.localKey.publicKey);
  }

  /**
   * Accepts incoming connections on `host:port` (defaults 127.0.0.1 and 9735; port 0 picks a
   * free one). Resolves with the address actually bound.
   */
  async listen(options: { port?: number; host?: string } = {}): Promise<{ host: string; port: number }> {
    this.assertOpen();
    const { port = 9735, host = '127.0.0.1' } = options;
    const server = createServer((socket) => this.accept(socket, { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new LnPeerError('CONNECTION_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, { host, port }, { cause: err })));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => {
      if (this.listenerCount('error') > 0) this.emit('error', new LnPeerError('CONNECTION_FAILED', `listener on ${host}:${port} failed: ${err.message}`, {}, { cause: err }));
    });
    this.servers.add(server);
    const bound = server.address() as { address: string; port: number };
    return { host: bound.address, port: bound.port };
  }

  /**
   * Connects to a node and resolves once `init` was exchanged both ways, with the peer's
   * description. `target` is `nodeid@host:port`, or a node id with `{ host, port }`.
   * Resolves at once when that node is already connected. Rejects with `CONNECTION_FAILED`,
   * `TIMEOUT`, `HANDSHAKE_FAILED`, `CONNECTION_CLOSED` (the remote hung up during `init`),
   * or the `init` check that failed (`UNKNOWN_EVEN_FEATURE`, `NO_COMMON_NETWORK`, …).
   */
  async connect(target: string | Uint8Array, address?: { host: string; port: number }): Promise<PeerInfo> {
    this.assertOpen();
    const { nodeId, host, port } = address
      ? { nodeId: nodeIdHex(target), host: address.host, port: address.port }
      : parsePeerAddress(target as string);
    if (nodeId === this.nodeId) {
      throw new LnPeerError('INVALID_ARGUMENT', `cannot connect to ${nodeId}: that is this node's own id`, { nodeId });
    }
    const existing = this.sessions.get(nodeId)?.peerInfo;
    if (existing) return existing;
    this.assertRoom();
    const socket = await this.openSocket(host, port);
    return this.connectStream(socket, nodeId, { host, port });
  }

  /**
   * Like `connect()`, over a stream the application opened itself (a WebSocket, a SOCKS5
   * tunnel to a Tor node, an in-memory pair): lnpeer runs the handshake as initiator on it.
   * A connection to the same node that exists already is replaced. `address` is only
   * reported in `PeerInfo`.
   */
  async connectStream(stream: Duplex, nodeId: string | Uint8Array, address: { host: string; port: number } = { host: '', port: 0 }): Promise<PeerInfo> {
    this.assertOpen();
    const id = nodeIdHex(nodeId);
    const peer = Peer.initiator(stream, { localKey: this.options.localKey, remoteNodeId: id, handshakeTimeoutMs: this.options.handshakeTimeoutMs });
    const session = await this.afterHandshake(peer, 'outbound', address);
    return session.active;
  }

  /**
   * Accepts an incoming connection that arrived over another transport (any duplex byte
   * stream): lnpeer runs the handshake as responder, with the same limits as `listen()`.
   * The outcome is reported by the `peer:connect` or `connection:failed` event.
   */
  accept(stream: Duplex, address: { host: string; port: number } = { host: '', port: 0 }): void {
    if (this.closing || this.connectionCount() >= this.options.maxPeers) {
      stream.destroy();
      this.emitFailed('inbound', address, new LnPeerError(this.closing ? 'MANAGER_CLOSED' : 'TOO_MANY_PEERS', `refused a connection from ${address.host}:${address.port}: ${this.closing ? 'the PeerManager is closing' : `maxPeers (${this.options.maxPeers}) reached`}`));
      return;
    }
    if (this.handshakes.size < this.options.maxConcurrentHandshakes) {
      this.handshakeInbound(stream, address);
      return;
    }
    // Wait for a handshake slot without reading: the kernel and the stream buffer act one.
    const waiting: WaitingConnection = {
      address,
      onError: () => stream.destroy(),
      onClose: () => this.waitingInbound.delete(stream),
    };
    this.waitingInbound.set(stream, waiting);
    stream.on('error', waiting.onError);
    stream.once('close', waiting.onClose);
  }

  /**
   * Sends a custom message, as Core Lightning's `sendcustommsg node_id msg`: `msg` is the
   * whole message, the 2-byte big-endian type first, as hex or bytes. It is validated (see
   * `CustomMessage.validate`), then queued on that peer's connection.
   *
   * The promise resolves once the encrypted bytes were handed to the socket, and rejects
   * with a typed error when validation fails (`INVALID_NODE_ID`, `INVALID_HEX`,
   * `MESSAGE_TOO_SHORT`, `MESSAGE_TOO_LONG`, `INTERNAL_TYPE`, `EVEN_TYPE`), when the peer is
   * not connected (`PEER_NOT_CONNECTED`), when too much is queued for it (`QUEUE_FULL`), or
   * when the connection closes first (`CONNECTION_CLOSED`). A message that was not written
   * always rejects: nothing is dropped silently.
   */
  async sendCustomMsg(nodeId: string | Uint8Array, msg: string | Uint8Array): Promise<void> {
    // DESIGN validation step 1; a connected node id is valid, which spares the curve check.
    const id = typeof nodeId === 'string' && this.sessions.has(nodeId) ? nodeId : nodeIdHex(nodeId);
    // Steps 2 to 4.
    const message = CustomMessage.validate(msg, { evenTypes: this.options.evenTypes });
    this.noticeOnce(message, id);
    // Step 5.
    const session = this.sessions.get(id);
    if (!session || session.state !== 'active') {
      throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${id} is not connected${session ? ' yet (init not exchanged)' : ''}: connect() first`, { nodeId: id });
    }
    const bytes = typeof msg === 'string' ? message.encode() : msg;
    return session.send(bytes);
  }

  /**
   * Pings a connected peer (BOLT 1 `ping`) and resolves with the round trip in milliseconds.
   * `pongBytes` (0 to 65531, default 4) is how many bytes the `pong` must carry. Rejects
   * with `PEER_NOT_CONNECTED`, or `TIMEOUT` (the connection is then closed) when no `pong`
   * comes within `pongTimeoutMs`.
   */
  async ping(nodeId: string | Uint8Array, pongBytes = 4): Promise<number> {
    const id = nodeIdHex(nodeId);
    if (!Number.isInteger(pongBytes) || pongBytes < 0 || pongBytes > MAX_PONG_BYTES) {
      throw new LnPeerError('INVALID_ARGUMENT', `pongBytes must be an integer from 0 to ${MAX_PONG_BYTES} (BOLT 1: a larger num_pong_bytes is ignored), got ${String(pongBytes)}`, { pongBytes });
    }
    const session = this.sessions.get(id);
    if (!session) throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${id} is not connected: connect() first`, { nodeId: id });
    return session.ping(pongBytes);
  }

  /** The connected peers (init exchanged), with their features, address, direction and connect time. */
  peers(): PeerInfo[] {
    const list: PeerInfo[] = [];
    for (const session of this.sessions.values()) if (session.peerInfo) list.push(session.peerInfo);
    return list;
  }

  /** The connected peer with this node id, if any. */
  peer(nodeId: string | Uint8Array): PeerInfo | undefined {
    return this.sessions.get(nodeIdHex(nodeId))?.peerInfo;
  }

  /**
   * Disconnects a peer; resolves once the connection closed. Resolves `false` when it was
   * not connected.
   */
  async disconnect(nodeId: string | Uint8Array): Promise<boolean> {
    const session = this.sessions.get(nodeIdHex(nodeId));
    if (!session) return false;
    await closeSession(session, 'disconnected by this side');
    return true;
  }

  /**
   * Stops listening, closes every connection and clears every timer; resolves once all are
   * closed. The manager cannot be used afterwards.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const stream of this.waitingInbound.keys()) stream.destroy();
    this.waitingInbound.clear();
    const handshakes = [...this.handshakes].map((peer) => new Promise<void>((resolve) => {
      peer.once('close', () => resolve());
      peer.close('the peer manager is closing');
    }));
    const closedServers = [...this.servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    await Promise.all([...[...this.sessions.values()].map((s) => closeSession(s, 'the peer manager is closing')), ...handshakes, ...closedServers]);
    this.servers.clear();
  }

  private handshakeInbound(stream: Duplex, address: { host: string; port: number }): void {
    const peer = Peer.responder(stream, { localKey: this.options.localKey, handshakeTimeoutMs: this.options.handshakeTimeoutMs });
    this.afterHandshake(peer, 'inbound', address).then(
      (session) => session.active.catch(() => {}),
      (error: LnPeerError) => this.emitFailed('inbound', address, error),
    );
  }

  /**
   * Tracks a handshake and starts the session in the `ready` listener itself, so that the
   * session listens before the first messages (the remote's `init`) are emitted.
   */
  private afterHandshake(peer: Peer, direction: 'inbound' | 'outbound', address: { host: string; port: number }): Promise<ActiveSession> {
    this.handshakes.add(peer);
    return new Promise((resolve, reject) => {
      const onClose = (info: PeerCloseInfo) => {
        this.handshakeDone(peer);
        reject(info.error ?? new LnPeerError('HANDSHAKE_FAILED', `the BOLT 8 handshake did not complete: ${info.reason}`));
      };
      peer.once('close', onClose);
      peer.once('ready', () => {
        peer.off('close', onClose);
        this.handshakeDone(peer);
        if (this.closing) {
          reject(new LnPeerError('MANAGER_CLOSED', 'the PeerManager closed during the handshake'));
          return;
        }
        resolve(this.startSession(peer, direction, address));
      });
    });
  }

  private handshakeDone(peer: Peer): void {
    this.handshakes.delete(peer);
    if (this.closing) {
      peer.close('the peer manager is closing');
      return;
    }
    // A handshake slot is free: start the longest-waiting inbound connection.
    const next = this.waitingInbound.entries().next();
    if (next.done) return;
    const [stream, waiting] = next.value;
    this.waitingInbound.delete(stream);
    stream.off('error', waiting.onError).off('close', waiting.onClose);
    this.handshakeInbound(stream, waiting.address);
  }

  private startSession(peer: Peer, direction: 'inbound' | 'outbound', address: { host: string; port: number }): ActiveSession {
    const nodeId = peer.remoteNodeId!;
    // BOLT 1: "MUST use a single connection per peer": the newer connection replaces the older.
    const previous = this.sessions.get(nodeId);
    let activate!: (info: PeerInfo) => void;
    let fail!: (error: LnPeerError) => void;
    const active = new Promise<PeerInfo>((resolve, reject) => ((activate = resolve), (fail = reject)));
    const session = new Session(peer, direction, address, this.options, this.hooks);
    this.activations.set(session, { activate, fail });
    this.sessions.set(nodeId, session);
    previous?.disconnect('replaced by a newer connection from the same node');
    return Object.assign(session, { active });
  }

  private onSessionClose(session: Session, info: PeerCloseInfo, fail?: (error: LnPeerError) => void): void {
    if (this.sessions.get(session.nodeId) === session) this.sessions.delete(session.nodeId);
    const refused = !info.local && !info.error;
    if (session.peerInfo) {
      // A remote that hangs up in silence right after init (Electrum does) refused something.
      const reason = refused && session.silentSinceInit ? `${info.reason} right after init; ${this.featureHint()}` : info.reason;
      this.emit('peer:disconnect', { peerId: session.nodeId, direction: session.direction, reason, local: info.local, ...(info.error ? { error: info.error } : {}) });
      return;
    }
    // It never became a peer: say why, with what the remote may have wanted.
    const error =
      info.error ??
      new LnPeerError('CONNECTION_CLOSED', `peer ${session.nodeId} closed the connection before init was exchanged (${info.reason}); ${this.featureHint()}`, { nodeId: session.nodeId });
    fail?.(error);
    this.emitFailed(session.direction, session.address, error, session.nodeId);
  }

  private featureHint(): string {
    return `it may require features this node does not offer (offered: ${[...this.options.offeredBits].sort((a, b) => a - b).join(', ')})`;
  }

  private openSocket(host: string, port: number): Promise<Socket> {
    const { connectTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new LnPeerError('TIMEOUT', `TCP connection to ${host}:${port} did not open within ${connectTimeoutMs} ms`, { phase: 'connect', host, port, timeoutMs: connectTimeoutMs }));
      }, connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new LnPeerError('CONNECTION_FAILED', `could not connect to ${host}:${port}: ${err.message}`, { host, port }, { cause: err }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
    });
  }

  private noticeOnce(message: CustomMessage, peerId: string): void {
    if (this.noticedTypes.has(message.type)) return;
    this.noticedTypes.add(message.type);
    for (const text of message.warnings()) this.emit('notice', { message: text, peerId, type: message.type });
  }

  private emitFailed(direction: 'inbound' | 'outbound', address: { host: string; port: number }, error: LnPeerError, peerId?: string): void {
    this.emit('connection:failed', { direction, address, error, ...(peerId ? { peerId } : {}) });
  }

  private connectionCount(): number {
    return this.sessions.size + this.handshakes.size + this.waitingInbound.size;
  }

  private assertRoom(): void {
    if (this.connectionCount() >= this.options.maxPeers) {
      throw new LnPeerError('TOO_MANY_PEERS', `maxPeers (${this.options.maxPeers}) connections are open or opening; disconnect one or raise maxPeers`);
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new LnPeerError('MANAGER_CLOSED', 'this PeerManager was closed; create a new one');
  }
}

type ActiveSession = Session & { active: Promise<PeerInfo> };

/** An inbound connection waiting for a handshake slot, with the listeners to remove when it gets one. */
interface WaitingConnection {
  address: { host: string; port: number };
  onError: () => void;
  onClose: () => void;
}

function closeSession(session: Session, reason: string): Promise<void> {
  if (session.state === 'closed') return Promise.resolve();
  return new Promise((resolve) => {
    session.peer.once('close', () => resolve());
    session.disconnect(reason);
  });
}
