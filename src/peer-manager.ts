/**
 * Many peers under one node identity: listen and connect, one connection per node id,
 * `sendCustomMsg` and the `custommsg` event, with the limits of docs/architecture.md
 * "Limits".
 */
import { attachWebSocket, dialSocks5, dialTcp, EventEmitter, listenTcp, listenWebSocket } from '#platform';
import { isOnionHost, parseHostPort, parsePeerAddress, type Direction, type NetAddress, type PeerAddress } from './addresses.js';
import type { Socks5Proxy } from './proxy.js';
import { describe, toHex } from './bytes.js';
import { asConnection, type Connection, type Transport } from './connection.js';
import { CustomMessage } from './custom-message.js';
import { checkObject, isObject } from './checks.js';
import { LnPeerError } from './errors.js';
import { reportListenerError } from './listener-errors.js';
import { nodeIdHex } from './node-id.js';
import { resolveOptions, type PeerManagerOptions, type ResolvedOptions } from './options.js';
import { Peer, type PeerCloseInfo } from './peer.js';
import { ACT_ONE_LENGTH } from './noise/index.js';
import { HostRateLimiter } from './rate-limit.js';
import { STABLE_CONNECTION_MS, isPermanent, reconnectDelay } from './reconnect.js';
import { Session, type PeerInfo, type RemoteErrorInfo, type SessionHooks } from './session.js';
import type { TcpListener } from './platform/types.js';
import { dialWebSocket } from './transports/websocket.js';
import type { HttpServerLike, WebSocketListenerOptions } from './transports/websocket-server.js';
import type { TypedEmitter } from './typed-emitter.js';
import { abortError, checkWaitOptions, deadline, untilAborted, type WaitOptions } from './wait.js';
import { MessageStream, type FlowControl, type MessageFilter, type MessagesOptions } from './message-stream.js';
import type { MessageSchema } from './protocols/schema.js';
import { MAX_PONG_BYTES } from './wire/messages.js';
import { chainLabel } from './wire/networks.js';

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
  direction: Direction;
  /** A sentence a person can read. */
  reason: string;
  /** The error that ended the connection, if any (absent for a clean close by either side). */
  error?: LnPeerError;
  /** True when this side ended it. */
  local: boolean;
}

/** A connection that ended before it became a peer (handshake or `init` failed). */
export interface ConnectionFailedEvent {
  direction: Direction;
  address: NetAddress;
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
  /** A persistent peer is dialed again after `delayMs` (attempt 1, 2, …), because of `error`. */
  'peer:reconnecting': (event: ReconnectingEvent) => void;
  /** A persistent peer is no longer dialed: it refused this node for a reason a retry cannot change. */
  'peer:reconnect-stopped': (event: { peerId: string; error: LnPeerError }) => void;
  /** A non-fatal observation about an outgoing message; emitted once per type. */
  notice: (notice: NoticeEvent) => void;
  /**
   * A listening socket failed after it was bound (for example `EMFILE` on accept). As with any
   * Node emitter, an `error` nobody listens for is thrown: listen for it when you `listen()`.
   */
  error: (error: LnPeerError) => void;
};

/** A message decoded by a schema, from `messages({ schema })`. */
export interface SchemaMessageEvent<V> {
  /** The sender's node id, 66 hex characters. */
  peerId: string;
  /** The message type (the schema's). */
  type: number;
  /** The decoded fields. */
  value: V;
}

/** A persistent peer about to be dialed again. */
export interface ReconnectingEvent {
  peerId: string;
  /** 1 for the first retry after a loss, then 2, 3, … until a connection holds (see docs/architecture.md). */
  attempt: number;
  /** The wait before this attempt, jitter included. */
  delayMs: number;
  /** Why the peer is not connected: the disconnect's error, or the last attempt's. */
  error: LnPeerError;
}

/** Options of `connect()`. */
export interface ConnectOptions extends WaitOptions {
  /**
   * Keep this peer connected: after any disconnect this side did not ask for (`disconnect()`
   * and `close()` are asked for), dial it again with exponential backoff and jitter, each
   * attempt announced by `peer:reconnecting`, until a refusal no retry can change
   * (`peer:reconnect-stopped`). `connect()` itself resolves once connected; `timeoutMs`
   * bounds that wait only, `signal` also ends the persistence.
   */
  persistent?: boolean;
}

/** Options of `sendCustomMsg()`. */
export interface SendOptions extends WaitOptions {
  /**
   * When the peer is not connected, wait for it to connect (a persistent peer being dialed
   * again, say) instead of failing with `PEER_NOT_CONNECTED`: at most 1,024 messages, and
   * `maxQueuedBytes`, per peer wait so; `timeoutMs` bounds the wait (`TIMEOUT`).
   */
  waitForConnection?: boolean;
}

/**
 * The share of `maxPeers` kept for this node's own `connect()`: inbound peers may take the
 * rest only, so remotes that connect first cannot lock this node out of the peers it wants
 * (LND and LDK also give inbound peers without channels a quota of their own).
 */
export const OUTBOUND_RESERVE = 0.1;

/** Messages that may wait for one peer to connect (`SendOptions.waitForConnection`). */
export const MAX_SENDS_WAITING_FOR_CONNECTION = 1024;

/** Options of `ping()`. */
export interface PingOptions extends WaitOptions {
  /** How many bytes the `pong` must carry, 0 to 65531. Default 4. */
  pongBytes?: number;
}

/** Options of `listen()`. */
export interface ListenOptions {
  /** Port to listen on; 0 picks a free one. Default 9735. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1` (`0.0.0.0` for every IPv4 interface). */
  host?: string;
  /**
   * BOLT 8 over WebSocket instead of TCP, for browsers (Node, with the `ws` package): `true`
   * for an HTTP server of its own on `host:port`, or `{ server, path }` to accept upgrades on
   * the application's `http.Server` (then `host` and `port` are not used). `path` limits the
   * upgrades taken to one path; `maxFrameBytes` caps a frame (default 256 KiB).
   */
  websocket?: boolean | (WebSocketListenerOptions & { server?: HttpServerLike });
  /** Aborting it stops listening. */
  signal?: AbortSignal;
}

/** A `connect()` attempt: one per node id, shared by concurrent callers (docs/architecture.md). */
interface Attempt {
  promise: Promise<PeerInfo>;
  controller: AbortController;
  /** Callers still waiting; the attempt is aborted when the last one gives up. */
  waiting: number;
}

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
export class PeerManager extends (EventEmitter as new () => TypedEmitter<PeerManagerEvents>) {
  /** This node's id: the compressed public key, 66 hex characters. */
  readonly nodeId: string;
  readonly #options: ResolvedOptions;
  readonly #sessions = new Map<string, ActiveSession>();
  /** Inbound handshakes in progress, oldest first. */
  readonly #inbound = new Set<Peer>();
  /** Sessions the remote opened: at most maxPeers less OUTBOUND_RESERVE of it. */
  #inboundSessions = 0;
  /** Outbound connections before their session: dialing or in the handshake. */
  readonly #outbound = new Set<AbortController>();
  readonly #attempts = new Map<string, Attempt>();
  /** Persistent peers (`connect(…, { persistent: true })`), by node id. */
  readonly #persistent = new Map<string, Persistent>();
  /** Callers waiting for a peer to be connected, by node id (persistent connects, waiting sends). */
  readonly #connectWaiters = new Map<string, Set<ConnectWaiter>>();
  /** Sends waiting for their peer to connect, by node id: how many, how large, and the last one (for order). */
  readonly #waitingSends = new Map<string, { count: number; bytes: number; last: Promise<void> }>();
  readonly #listeners = new Set<TcpListener>();
  readonly #noticedTypes = new Set<number>();
  /** Iterators of `messages()` that have not ended, with the schema that decodes for them. */
  readonly #streams = new Map<MessageStream<StreamItem>, MessageSchema | undefined>();
  readonly #flow: FlowControl = { pause: (peerId) => this.pause(peerId), resume: (peerId) => this.resume(peerId) };
  readonly #rateLimiter: HostRateLimiter;
  /** How each session that has not finished `init` settles its `active` promise. */
  readonly #activations = new Map<Session, { activate: (info: PeerInfo) => void; fail: (error: LnPeerError) => void }>();
  /** Sessions that replaced an earlier connection from the same node (for the hang-up hint). */
  readonly #replacing = new WeakSet<Session>();
  /** Aborted by `close()`: every dial and handshake in progress listens to it. */
  readonly #closing = new AbortController();
  #closed: Promise<void> | undefined;
  /** One hooks object for every session (closures per session would cost memory per idle peer). */
  readonly #hooks: SessionHooks = {
    onActive: (s) => {
      this.#activations.get(s)?.activate(s.peerInfo!);
      this.#activations.delete(s);
      const persistent = this.#persistent.get(s.peerId);
      if (persistent) persistent.connectedAt = Date.now();
      this.#emit('peer:connect', s.peerInfo!);
      const waiters = this.#connectWaiters.get(s.peerId);
      this.#connectWaiters.delete(s.peerId);
      for (const waiter of waiters ?? []) waiter.connected(s.peerInfo!);
    },
    onCustomMessage: (s, type, payload) => {
      const message = { peerId: s.peerId, type, payload };
      this.#emit('custommsg', message);
      for (const [stream, decode] of this.#streams) {
        if (!stream.matches(message)) continue;
        if (!decode) {
          stream.push(message);
          continue;
        }
        let value: unknown;
        try {
          value = decode.decode(wholeMessage(type, payload));
        } catch (err) {
          // BOLT 1: "upon receiving a known message with insufficient length for the contents:
          // MUST close the connection" — the application said it knows this type.
          const error = err instanceof LnPeerError ? err : new LnPeerError('INVALID_MESSAGE', String(err), {}, { cause: err });
          void s.disconnect(error, `invalid ${decode.name} message: ${error.message}`);
          return;
        }
        stream.push({ peerId: s.peerId, type, value });
      }
    },
    onRemoteError: (_s, kind, info) => this.#emit(kind === 'error' ? 'peer:error' : 'peer:warning', info),
    onClose: (s, info) => {
      const activation = this.#activations.get(s);
      this.#activations.delete(s);
      this.#onSessionClose(s, info, activation?.fail);
    },
  };

  /** The feature bits this node offers in `init` (the defaults and the application's), ascending. */
  get features(): number[] {
    return [...this.#options.offeredBits].sort((a, b) => a - b);
  }

  /** Throws `INVALID_ARGUMENT` or `INVALID_PRIVATE_KEY` when an option is not valid. */
  constructor(options: PeerManagerOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    this.nodeId = toHex(this.#options.localKey.publicKey);
    this.#rateLimiter = new HostRateLimiter(this.#options.handshakesPerSecondPerHost);
  }

  /**
   * Accepts incoming TCP connections on `host:port` (defaults 127.0.0.1 and 9735; port 0
   * picks a free one). Resolves with the address actually bound. A failure of the listening
   * socket afterwards is emitted as `error`.
   */
  async listen(options: ListenOptions = {}): Promise<NetAddress> {
    this.#assertOpen();
    const { port = 9735, host = '127.0.0.1', signal } = checkWaitOptions(options, 'listen()');
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new LnPeerError('INVALID_ARGUMENT', `listen() port must be an integer from 0 to 65535, got ${describe(port)}`, { port });
    }
    if (typeof host !== 'string' || host === '') throw new LnPeerError('INVALID_ARGUMENT', `listen() host must be a host name or an IP address, got ${describe(host)}`);
    if (signal?.aborted) throw abortError(signal, 'listen()');
    const listener = await this.#openListener({ host, port }, options.websocket);
    this.#listeners.add(listener);
    const stop = () => {
      this.#listeners.delete(listener);
      void listener.close();
    };
    if (this.#closing.signal.aborted || signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
    return listener.address;
  }

  #openListener(address: NetAddress, websocket: ListenOptions['websocket']): Promise<TcpListener> {
    const onConnection = (connection: Connection, remote: NetAddress) => this.#accept(connection, remote);
    const onError = (error: LnPeerError) => this.emit('error', error);
    if (!websocket) return listenTcp(address, onConnection, onError);
    const options = websocket === true ? {} : websocket;
    if (options.server) {
      return attachWebSocket(options.server, options, onConnection).then((attached) => ({ address: { host: '', port: 0 }, close: attached.close }));
    }
    return listenWebSocket(address, options, onConnection, onError);
  }

  /**
   * Connects to a node and resolves once `init` was exchanged both ways, with the peer's
   * description: `connect('peerid@host:port')`, `connect('peerid@ws://host:port/path')`, or
   * `connect(peerId, { host, port })`. Resolves at once when that node is connected already;
   * concurrent calls for one node share one attempt. Rejects with `CONNECTION_FAILED`,
   * `TIMEOUT` (`details.stage`: `connect`, `handshake` or `init`), `ABORTED`,
   * `HANDSHAKE_FAILED`, `CONNECTION_CLOSED` (the remote hung up during `init`: the message
   * names the likely causes), or the `init` check that failed (`UNKNOWN_EVEN_FEATURE`,
   * `NO_COMMON_NETWORK`, …).
   */
  connect(address: string, options?: ConnectOptions): Promise<PeerInfo>;
  connect(peerId: string | Uint8Array, address: NetAddress | string, options?: ConnectOptions): Promise<PeerInfo>;
  async connect(target: string | Uint8Array, second?: NetAddress | string | ConnectOptions, third?: ConnectOptions): Promise<PeerInfo> {
    this.#assertOpen();
    const withAddress = typeof second === 'string' || (isObject(second) && 'host' in second);
    const address = withAddress ? addressOf(target, second as NetAddress | string) : parsePeerAddress(target as string);
    const options = checkWaitOptions((withAddress ? third : second) as ConnectOptions | undefined, 'connect()');
    if (address.peerId === this.nodeId) {
      throw new LnPeerError('INVALID_ARGUMENT', `cannot connect to ${address.peerId}: that is this node's own id`, { peerId: address.peerId });
    }
    if (options.persistent) return this.#connectPersistent(address, options);
    const existing = this.#sessions.get(address.peerId);
    if (existing?.peerInfo) return existing.peerInfo;
    const wait = deadline(options, `connect() to ${address.peerId}`, { stage: 'connect()' });
    if (existing?.state === 'init') {
      // A connection from that node is exchanging init: it is the one to wait for.
      try {
        return await untilAborted(existing.active, wait.signal, `connect() to ${address.peerId}`);
      } finally {
        wait.done();
      }
    }
    let attempt = this.#attempts.get(address.peerId);
    if (!attempt) {
      this.#assertRoom();
      attempt = this.#startAttempt(address);
    }
    attempt.waiting++;
    try {
      return await untilAborted(attempt.promise, wait.signal, `connect() to ${address.peerId}`);
    } finally {
      wait.done();
      // The last caller to give up ends the attempt; one that settled leaves nothing to end
      // (and no error is built for it: a stack trace per connection shows in the profile).
      if (--attempt.waiting === 0 && this.#attempts.get(address.peerId) === attempt) attempt.controller.abort(new LnPeerError('ABORTED', `every connect() to ${address.peerId} gave up`));
    }
  }

  /**
   * Like `connect()`, over a connection the application opened itself (a SOCKS5 tunnel, a
   * WebSocket, an in-memory pair; a Node duplex stream is taken too): lnpeer runs the
   * handshake as initiator on it. An existing connection to the same node is replaced.
   * `options.address` is only reported in `PeerInfo`.
   */
  async connectStream(transport: Transport, peerId: string | Uint8Array, options: ConnectOptions & { address?: NetAddress } = {}): Promise<PeerInfo> {
    this.#assertOpen();
    const id = nodeIdHex(peerId);
    checkWaitOptions(options, 'connectStream()');
    const wait = deadline(options, `connectStream() to ${id}`);
    try {
      return await this.#initiate(transport, id, options.address ?? { host: '', port: 0 }, wait.signal);
    } finally {
      wait.done();
    }
  }

  /**
   * Accepts an incoming connection that arrived over another transport (a {@link Connection},
   * or a Node duplex stream): lnpeer runs the handshake as responder, with the same limits as
   * `listen()`. The outcome is reported by the `peer:connect` or `connection:failed` event.
   */
  accept(transport: Transport, address: NetAddress = { host: '', port: 0 }): void {
    if (!isObject(address) || typeof address.host !== 'string' || !Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
      throw new LnPeerError('INVALID_ADDRESS', `accept() address must be the remote's { host: string, port: 0 to 65535 }, got ${describe(address)}`);
    }
    this.#accept(asConnection(transport), address);
  }

  /**
   * Sends a custom message, as Core Lightning's `sendcustommsg node_id msg`: `msg` is the
   * whole message, the 2-byte big-endian type first, as hex or bytes. It is validated (see
   * `CustomMessage.validate`), encrypted at once (changing `msg` afterwards changes nothing),
   * and queued on that peer's connection.
   *
   * The promise resolves once the encrypted bytes were handed to the network, and rejects
   * with a typed error when validation fails (`INVALID_NODE_ID`, `INVALID_HEX`,
   * `MESSAGE_TOO_SHORT`, `MESSAGE_TOO_LONG`, `INTERNAL_TYPE`, `EVEN_TYPE`), when the peer is
   * not connected (`PEER_NOT_CONNECTED`), when too much is queued for it (`QUEUE_FULL`), or
   * when the connection closes first (`CONNECTION_CLOSED`). A message that was not written
   * always rejects: nothing is dropped silently. `signal` and `timeoutMs` bound the wait
   * (`ABORTED`, `TIMEOUT`); the message may still leave afterwards, as nothing unsends it.
   */
  async sendCustomMsg(peerId: string | Uint8Array, msg: string | Uint8Array, options?: SendOptions): Promise<void> {
    // Validation, in the order of docs/custom-messages.md: 1. the node id (a connected node id
    // is valid, which spares the curve check).
    const id = typeof peerId === 'string' && this.#sessions.has(peerId) ? peerId : nodeIdHex(peerId);
    // 2. to 4.: form, type, odd or registered even.
    const message = CustomMessage.validate(msg, { evenTypes: this.#options.evenTypes });
    checkWaitOptions(options, 'sendCustomMsg()');
    this.#noticeOnce(message, id);
    // 5. connected (or, when asked, once connected).
    const session = this.#sessions.get(id);
    if (!session || session.state !== 'active') {
      if (options?.waitForConnection) return this.#sendWhenConnected(id, message.encode(), options);
      throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${id} is not connected${session ? ' yet (init not exchanged)' : ''}: connect() first, or send with { waitForConnection: true }`, { peerId: id });
    }
    const sent = session.send(typeof msg === 'string' ? message.encode() : msg);
    if (!options?.signal && options?.timeoutMs === undefined) return sent;
    const wait = deadline(options, `sendCustomMsg() to ${id}`);
    try {
      return await untilAborted(sent, wait.signal, `sendCustomMsg() to ${id}`);
    } finally {
      wait.done();
    }
  }

  /**
   * Pings a connected peer (BOLT 1 `ping`) and resolves with the round trip in milliseconds.
   * `pongBytes` (0 to 65531, default 4) is how many bytes the `pong` must carry. Rejects with
   * `PEER_NOT_CONNECTED`; `TIMEOUT` when no `pong` comes within `pongTimeoutMs` (the
   * connection is then closed) or within `options.timeoutMs` (it is not); `ABORTED`.
   */
  async ping(peerId: string | Uint8Array, options: PingOptions = {}): Promise<number> {
    const id = nodeIdHex(peerId);
    const { pongBytes = 4 } = checkWaitOptions(options, 'ping()');
    if (!Number.isInteger(pongBytes) || pongBytes < 0 || pongBytes > MAX_PONG_BYTES) {
      throw new LnPeerError('INVALID_ARGUMENT', `pongBytes must be an integer from 0 to ${MAX_PONG_BYTES} (BOLT 1: a larger num_pong_bytes is ignored), got ${describe(pongBytes)}`, { pongBytes });
    }
    const session = this.#sessions.get(id);
    if (!session) throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${id} is not connected: connect() first`, { peerId: id });
    const wait = deadline(options, `ping() to ${id}`, { stage: 'ping' });
    try {
      return await untilAborted(session.ping(pongBytes), wait.signal, `ping() to ${id}`);
    } finally {
      wait.done();
    }
  }

  /**
   * The incoming custom messages that match `options` (a type or types, a peer), as an async
   * iterator, from this call on: `for await (const m of pm.messages({ type: 0xfff9 }))`. A
   * consumer that falls behind by `bufferSize` messages (default 256) pauses the peers whose
   * messages keep coming (their connections are not read until it catches up), or, with
   * `overflow: 'error'`, ends with `QUEUE_FULL`. `signal`, `break` or `close()` end it.
   * Every message is also emitted as `custommsg`.
   */
  messages(options?: MessagesOptions): AsyncIterableIterator<CustomMessageEvent>;
  messages<V>(options: MessagesOptions & { schema: MessageSchema<V> }): AsyncIterableIterator<SchemaMessageEvent<V>>;
  messages(options: MessagesOptions & { schema?: MessageSchema } = {}): AsyncIterableIterator<StreamItem> {
    this.#assertOpen();
    const { schema, ...rest } = checkObject(options, 'messages() options');
    if (schema !== undefined && (typeof schema !== 'object' || schema === null || typeof schema.decode !== 'function' || !Number.isInteger(schema.type))) {
      throw new LnPeerError('INVALID_ARGUMENT', `messages() schema must be a message schema made by defineMessage(), got ${describe(schema)}`);
    }
    const stream = new MessageStream<StreamItem>(schema ? { ...rest, type: schema.type } : rest, this.#flow, (s) => this.#streams.delete(s));
    this.#streams.set(stream, schema);
    return stream;
  }

  /**
   * Sends a message defined with `defineMessage()`: `value` is encoded by `schema`, then sent
   * as `sendCustomMsg` sends it (validated: the schema's type must be one an application may
   * send). Rejects as `sendCustomMsg` does, or with `INVALID_ARGUMENT` naming a bad field.
   */
  async send<V>(peerId: string | Uint8Array, schema: MessageSchema<V>, value: NoInfer<V>, options?: WaitOptions): Promise<void> {
    if (typeof schema !== 'object' || schema === null || typeof schema.encode !== 'function') {
      throw new LnPeerError('INVALID_ARGUMENT', `send() takes a message schema made by defineMessage(), got ${describe(schema)}`);
    }
    return this.sendCustomMsg(peerId, schema.encode(value), options);
  }

  /**
   * The next incoming custom message that matches `options` (a type or types, a peer).
   * Rejects with `TIMEOUT` after `timeoutMs`, `ABORTED`, or `MANAGER_CLOSED`.
   */
  async nextMessage(options: MessageFilter & WaitOptions = {}): Promise<CustomMessageEvent> {
    this.#assertOpen();
    const { signal, timeoutMs, ...filter } = checkWaitOptions(options, 'nextMessage()');
    const stream = new MessageStream<StreamItem>({ ...filter, bufferSize: 1 }, this.#flow, (s) => this.#streams.delete(s));
    this.#streams.set(stream, undefined);
    const wait = deadline({ signal, timeoutMs }, 'nextMessage()');
    try {
      const next = await untilAborted(stream.next(), wait.signal, 'nextMessage()');
      if (next.done) throw new LnPeerError('MANAGER_CLOSED', 'nextMessage(): the PeerManager was closed');
      return next.value as CustomMessageEvent;
    } finally {
      wait.done();
      stream.end();
    }
  }

  /**
   * Stops reading from a connected peer: its messages wait in its connection (and TCP slows
   * it down) until `resume(peerId)`. Pauses count: each wants its own `resume`. Returns false
   * when the peer is not connected.
   */
  pause(peerId: string | Uint8Array): boolean {
    const session = this.#sessions.get(nodeIdHex(peerId));
    session?.pause();
    return session !== undefined;
  }

  /** Undoes one `pause(peerId)`; the peer is read again when no pause is left. */
  resume(peerId: string | Uint8Array): boolean {
    const session = this.#sessions.get(nodeIdHex(peerId));
    session?.resume();
    return session !== undefined;
  }

  /** The connected peers (init exchanged), with their features, address, direction and connect time. */
  peers(): PeerInfo[] {
    const list: PeerInfo[] = [];
    for (const session of this.#sessions.values()) if (session.peerInfo) list.push(session.peerInfo);
    return list;
  }

  /** The connected peer with this node id, if any. */
  peer(peerId: string | Uint8Array): PeerInfo | undefined {
    return this.#sessions.get(nodeIdHex(peerId))?.peerInfo;
  }

  /**
   * Disconnects a peer: what was sent before is flushed (for at most 2 s), then the
   * connection closes. A persistent peer is no longer dialed again. Resolves `true` once it
   * closed (or its reconnection ended), `false` when it was neither connected nor persistent.
   */
  async disconnect(peerId: string | Uint8Array, options?: WaitOptions): Promise<boolean> {
    const id = nodeIdHex(peerId);
    const session = this.#sessions.get(id);
    checkWaitOptions(options, 'disconnect()');
    const wasPersistent = this.#persistent.has(id) && this.#stopPersistence(id, new LnPeerError('ABORTED', `disconnect() of ${id} ended its reconnection`, { peerId: id }));
    if (!session) return wasPersistent;
    const wait = deadline(options ?? {}, `disconnect() of ${session.peerId}`);
    try {
      await untilAborted(session.disconnect('disconnected by this side'), wait.signal, `disconnect() of ${session.peerId}`);
    } finally {
      wait.done();
    }
    return true;
  }

  /**
   * Stops listening, stops every connection attempt, closes every connection and clears
   * every timer; resolves once all are closed. A second call returns the same promise. The
   * manager cannot be used afterwards.
   */
  close(): Promise<void> {
    return (this.#closed ??= this.#close());
  }

  /** `await using pm = new PeerManager()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const closed = new LnPeerError('MANAGER_CLOSED', 'the PeerManager was closed');
    this.#closing.abort(closed);
    for (const stream of this.#streams.keys()) stream.end();
    for (const peerId of [...this.#persistent.keys()]) this.#stopPersistence(peerId, closed);
    for (const peerId of [...this.#connectWaiters.keys()]) this.#failConnectWaiters(peerId, closed);
    const listeners = [...this.#listeners].map((l) => l.close());
    this.#listeners.clear();
    const handshakes = [...this.#inbound].map((peer) => peer.close('the peer manager is closing'));
    const sessions = [...this.#sessions.values()].map((s) => s.disconnect('the peer manager is closing'));
    await Promise.all([...listeners, ...handshakes, ...sessions, ...[...this.#attempts.values()].map((a) => a.promise.catch(() => {}))]);
  }

  /** One outbound attempt: dial, handshake, init. */
  #startAttempt(address: PeerAddress): Attempt {
    const controller = new AbortController();
    const promise = this.#dial(address, controller.signal);
    const attempt: Attempt = { promise, controller, waiting: 0 };
    this.#attempts.set(address.peerId, attempt);
    promise.then(
      () => this.#attempts.delete(address.peerId),
      () => this.#attempts.delete(address.peerId),
    );
    return attempt;
  }

  async #dial(address: PeerAddress, signal: AbortSignal): Promise<PeerInfo> {
    // Aborted by the caller(s) giving up or by close(); the dial itself also has its timeout.
    const stop = anySignal(signal, this.#closing.signal);
    this.#outbound.add(stop.controller);
    try {
      const connection = await this.#openTransport(address, stop.controller.signal);
      return await this.#initiate(connection, address.peerId, { host: address.host, port: address.port }, stop.controller.signal);
    } finally {
      this.#outbound.delete(stop.controller);
      stop.done();
    }
  }

  #openTransport(address: PeerAddress, signal: AbortSignal): Promise<Connection> {
    const options = { signal, timeoutMs: this.#options.connectTimeoutMs };
    const { proxy, alwaysUseProxy } = this.#options;
    if (address.url) {
      if (alwaysUseProxy) return Promise.reject(new LnPeerError('UNSUPPORTED', `${address.url}: a WebSocket through the SOCKS5 proxy is not supported, and alwaysUseProxy forbids a direct connection`, { address: address.url }));
      return dialWebSocket(address.url, options);
    }
    if (isOnionHost(address.host) || alwaysUseProxy) {
      // Through the proxy, which resolves the name itself: nothing reaches the local DNS.
      if (!proxy) return Promise.reject(new LnPeerError('INVALID_ADDRESS', `${address.host} is a Tor onion service: it is reached only through a SOCKS5 proxy (Tor's SocksPort); set the proxy option`, { host: address.host }));
      return dialSocks5(this.#proxyFor(address.peerId, proxy), address, { signal, timeoutMs: this.#options.proxyTimeoutMs });
    }
    const { wsProxy } = this.#options;
    // A page reaches a TCP-only node through a WebSocket-to-TCP proxy (lnmessage's convention).
    if (wsProxy) return dialWebSocket(`${wsProxy}/${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, options);
    return dialTcp(address, options);
  }

  /** The proxy for `peerId`: with per-peer credentials when streams are isolated (Tor: a circuit per peer). */
  #proxyFor(peerId: string, proxy: Socks5Proxy): Socks5Proxy {
    const password = this.#options.proxyIsolationPassword;
    return password === undefined ? proxy : { ...proxy, username: `lnpeer-${peerId}`, password };
  }

  /** The handshake as initiator on `transport`, then `init`; `signal` aborts it. */
  async #initiate(transport: Transport, peerId: string, address: NetAddress, signal: AbortSignal | undefined): Promise<PeerInfo> {
    const peer = Peer.initiator(transport, { localKey: this.#options.localKey, peerId, handshakeTimeoutMs: this.#options.handshakeTimeoutMs });
    const abort = () => void peer.close(abortError(signal!, `connecting to ${peerId}`));
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    try {
      const session = await this.#afterHandshake(peer, 'outbound', address);
      return await session.active;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  #accept(transport: Transport, address: NetAddress): void {
    const refuse = (error: LnPeerError) => {
      asConnection(transport).destroy();
      this.#emitFailed('inbound', address, error);
    };
    if (this.#closing.signal.aborted) {
      refuse(new LnPeerError('MANAGER_CLOSED', `refused a connection from ${address.host}:${address.port}: the PeerManager is closing`));
      return;
    }
    if (!this.#rateLimiter.admit(address.host)) {
      refuse(new LnPeerError('RATE_LIMITED', `refused a connection from ${address.host}: more than handshakesPerSecondPerHost (${this.#options.handshakesPerSecondPerHost}) connections a second from that address`, { host: address.host }));
      return;
    }
    const full = this.#inboundFull();
    if (full && !this.#oldestWithoutInit()) {
      refuse(new LnPeerError('TOO_MANY_PEERS', `refused a connection from ${address.host}:${address.port}: ${full}`));
      return;
    }
    if (this.#inbound.size >= this.#options.maxConcurrentHandshakes) {
      // The oldest handshake that has not sent a whole act one makes room, else the oldest of
      // all: sockets that idle or trickle cannot hold the slots against peers that complete
      // their handshake in milliseconds. It leaves the count at once, not when its socket closes.
      const handshakes = [...this.#inbound];
      const evicted = handshakes.find((peer) => peer.bytesReceived < ACT_ONE_LENGTH) ?? handshakes[0];
      this.#inbound.delete(evicted);
      void evicted.close(new LnPeerError('TOO_MANY_PEERS', `dropped to make room: maxConcurrentHandshakes (${this.#options.maxConcurrentHandshakes}) inbound handshakes were in progress`));
    }
    const peer = Peer.responder(transport, { localKey: this.#options.localKey, handshakeTimeoutMs: this.#options.handshakeTimeoutMs });
    this.#afterHandshake(peer, 'inbound', address).then(
      (session) => session.active.catch(() => {}),
      (error: LnPeerError) => this.#emitFailed('inbound', address, error),
    );
  }

  /**
   * Tracks a handshake and starts the session in the `ready` listener itself, so that the
   * session listens before the first messages (the remote's `init`) are emitted.
   */
  #afterHandshake(peer: Peer, direction: Direction, address: NetAddress): Promise<ActiveSession> {
    if (direction === 'inbound') this.#inbound.add(peer);
    return new Promise((resolve, reject) => {
      const onClose = (info: PeerCloseInfo) => {
        this.#inbound.delete(peer);
        reject(info.error ?? new LnPeerError('HANDSHAKE_FAILED', `the BOLT 8 handshake did not complete: ${info.reason}`, { stage: 'handshake' }));
      };
      peer.once('close', onClose);
      peer.once('ready', () => {
        peer.off('close', onClose);
        this.#inbound.delete(peer);
        if (this.#closing.signal.aborted) {
          void peer.close('the peer manager is closing');
          reject(new LnPeerError('MANAGER_CLOSED', 'the PeerManager closed during the handshake'));
          return;
        }
        const full = direction === 'inbound' && !this.#sessions.has(peer.peerId!) && this.#inboundFull();
        if (full) {
          // An inbound peer that has not sent its init yet gives up its place; else the newcomer is refused.
          const waiting = this.#oldestWithoutInit();
          if (!waiting) {
            const error = new LnPeerError('TOO_MANY_PEERS', `refused ${peer.peerId}: ${full}`);
            void peer.close(error);
            reject(error);
            return;
          }
          void waiting.disconnect(new LnPeerError('TOO_MANY_PEERS', `dropped before its init to make room: ${full}`, { peerId: waiting.peerId }));
        }
        resolve(this.#startSession(peer, direction, address));
      });
    });
  }

  #startSession(peer: Peer, direction: Direction, address: NetAddress): ActiveSession {
    const peerId = peer.peerId!;
    // BOLT 1: "MUST use a single connection per peer": the newer connection replaces the older.
    const previous = this.#sessions.get(peerId);
    let activate!: (info: PeerInfo) => void;
    let fail!: (error: LnPeerError) => void;
    const active = new Promise<PeerInfo>((resolve, reject) => ((activate = resolve), (fail = reject)));
    const session = Object.assign(new Session(peer, direction, address, this.#options, this.#hooks), { active });
    this.#activations.set(session, { activate, fail });
    this.#sessions.set(peerId, session);
    if (direction === 'inbound') this.#inboundSessions++;
    if (previous) {
      this.#replacing.add(session);
      void previous.disconnect('replaced by a newer connection from the same node');
    }
    return session;
  }

  #onSessionClose(session: Session, info: PeerCloseInfo, fail?: (error: LnPeerError) => void): void {
    const current = this.#sessions.get(session.peerId) === session;
    if (current) this.#sessions.delete(session.peerId);
    if (session.direction === 'inbound') this.#inboundSessions--;
    // A persistent peer that was connected and went away is dialed again (a failed attempt
    // is handled where the attempt settles).
    const persistent = this.#persistent.get(session.peerId);
    if (persistent && current && session.peerInfo && !this.#sessions.has(session.peerId)) {
      if (persistent.connectedAt !== undefined && Date.now() - persistent.connectedAt >= STABLE_CONNECTION_MS) persistent.attempt = 0;
      persistent.connectedAt = undefined;
      this.#reconnectLater(persistent, info.error ?? new LnPeerError('CONNECTION_CLOSED', `the connection to ${session.peerId} closed: ${info.reason}`, { peerId: session.peerId }));
    }
    const refused = !info.local && !info.error;
    if (session.peerInfo) {
      // A remote that hangs up in silence right after init (Electrum does) refused something.
      const reason = refused && session.quietSinceInit ? `${info.reason} right after init; ${this.#hangUpHint(session)}` : info.reason;
      this.#emit('peer:disconnect', { peerId: session.peerId, direction: session.direction, reason, local: info.local, ...(info.error ? { error: info.error } : {}) });
      return;
    }
    // It never became a peer: say why, with what the remote may have refused.
    const error =
      info.error ??
      new LnPeerError('CONNECTION_CLOSED', `peer ${session.peerId} closed the connection ${session.receivedInit ? 'right after its init' : 'before sending init'} (${info.reason}); ${this.#hangUpHint(session)}`, { peerId: session.peerId, stage: 'init' });
    fail?.(error);
    this.#emitFailed(session.direction, session.address, error, session.peerId);
  }

  /** `connect(…, { persistent: true })`: keeps the peer, dials it now if needed, resolves once it is connected. */
  async #connectPersistent(address: PeerAddress, options: ConnectOptions): Promise<PeerInfo> {
    const { peerId } = address;
    let persistent = this.#persistent.get(peerId);
    if (!persistent) {
      persistent = { address, attempt: 0 };
      this.#persistent.set(peerId, persistent);
    }
    persistent.address = address;
    const { signal } = options;
    if (signal) {
      // The caller's signal ends the persistence; its timeout only ends this wait.
      const stop = () => this.#stopPersistence(peerId, abortError(signal, `connect() to ${peerId}`));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    }
    const connected = this.#sessions.get(peerId)?.peerInfo;
    if (connected) return connected;
    const waiting = this.#untilConnected(peerId, options, `connect() to ${peerId}`);
    if (!this.#attempts.has(peerId) && persistent.timer === undefined) this.#dialPersistent(persistent);
    return waiting;
  }

  #dialPersistent(persistent: Persistent): void {
    persistent.timer = undefined;
    const { peerId } = persistent.address;
    if (this.#sessions.get(peerId)?.peerInfo || this.#persistent.get(peerId) !== persistent) return;
    let attempt = this.#attempts.get(peerId);
    if (!attempt) {
      try {
        this.#assertRoom();
      } catch (error) {
        this.#reconnectLater(persistent, error as LnPeerError);
        return;
      }
      attempt = this.#startAttempt(persistent.address);
    }
    attempt.promise.catch((error: LnPeerError) => {
      if (this.#persistent.get(peerId) === persistent && !this.#sessions.get(peerId)?.peerInfo) this.#reconnectLater(persistent, error);
    });
  }

  /** Schedules the next attempt, or ends the persistence on a refusal no retry can change. */
  #reconnectLater(persistent: Persistent, error: LnPeerError): void {
    const { peerId } = persistent.address;
    if (this.#closing.signal.aborted || persistent.timer !== undefined) return;
    if (isPermanent(error)) {
      this.#stopPersistence(peerId, error);
      this.#emit('peer:reconnect-stopped', { peerId, error });
      return;
    }
    const { initialMs, maxMs } = this.#options.reconnect;
    const { delayMs } = reconnectDelay(persistent.attempt++, initialMs, maxMs);
    persistent.timer = setTimeout(() => this.#dialPersistent(persistent), delayMs);
    this.#emit('peer:reconnecting', { peerId, attempt: persistent.attempt, delayMs, error });
  }

  /** Ends the persistence of `peerId`, failing those who wait for it; true when it was persistent. */
  #stopPersistence(peerId: string, error: LnPeerError): boolean {
    const persistent = this.#persistent.get(peerId);
    if (!persistent) return false;
    clearTimeout(persistent.timer);
    this.#persistent.delete(peerId);
    this.#failConnectWaiters(peerId, error);
    return true;
  }

  /** Resolves when `peerId` is connected; rejects on `options`' deadline or signal, or with what ends its persistence. */
  #untilConnected(peerId: string, options: WaitOptions, what: string): Promise<PeerInfo> {
    const wait = deadline(options, what, { stage: 'connect()' });
    return new Promise<PeerInfo>((resolve, reject) => {
      const waiter: ConnectWaiter = {
        connected: (info) => {
          waiter.done();
          resolve(info);
        },
        failed: (error) => {
          waiter.done();
          reject(error);
        },
        done: () => {
          wait.done();
          wait.signal?.removeEventListener('abort', onAbort);
          this.#connectWaiters.get(peerId)?.delete(waiter);
          if (this.#connectWaiters.get(peerId)?.size === 0) this.#connectWaiters.delete(peerId);
        },
      };
      const onAbort = () => waiter.failed(abortError(wait.signal!, what));
      if (wait.signal?.aborted) return onAbort();
      wait.signal?.addEventListener('abort', onAbort, { once: true });
      const set = this.#connectWaiters.get(peerId) ?? new Set();
      set.add(waiter);
      this.#connectWaiters.set(peerId, set);
    });
  }

  #failConnectWaiters(peerId: string, error: LnPeerError): void {
    for (const waiter of [...(this.#connectWaiters.get(peerId) ?? [])]) waiter.failed(error);
  }

  /** A send that waits for its peer to connect: bounded per peer, sent in order once it is. */
  async #sendWhenConnected(peerId: string, message: Uint8Array, options: SendOptions): Promise<void> {
    const queue = (this.#waitingSends.get(peerId) ?? { count: 0, bytes: 0, last: Promise.resolve() });
    if (queue.count >= MAX_SENDS_WAITING_FOR_CONNECTION || queue.bytes + message.length > this.#options.maxQueuedBytes) {
      throw new LnPeerError('QUEUE_FULL', `${queue.count} messages (${queue.bytes} bytes) already wait for ${peerId} to connect (at most ${MAX_SENDS_WAITING_FOR_CONNECTION}, and maxQueuedBytes)`, { peerId });
    }
    queue.count++;
    queue.bytes += message.length;
    this.#waitingSends.set(peerId, queue);
    const connected = this.#untilConnected(peerId, options, `sendCustomMsg() to ${peerId}, waiting for it to connect`);
    // In order: each waiting send is handed to the connection after the one before it.
    const previous = queue.last;
    const turn = connected.then(() => previous.catch(() => {}));
    queue.last = turn.then(() => {}, () => {});
    try {
      await turn;
    } finally {
      queue.count--;
      queue.bytes -= message.length;
      if (queue.count === 0) this.#waitingSends.delete(peerId);
    }
    const session = this.#sessions.get(peerId);
    if (!session || session.state !== 'active') throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${peerId} disconnected again before the message was sent`, { peerId });
    return session.send(message);
  }

  /** Every likely reason a remote hangs up on this node's `init` without saying why. */
  #hangUpHint(session: Session): string {
    const { offeredBits, networks } = this.#options;
    const causes = [`the features this node offers (${[...offeredBits].sort((a, b) => a - b).join(', ')}; LND, LDK and Eclair require one bit of each of 0/1, 8/9, 12/13, 14/15 and 44/45, Electrum also 6/7)`];
    if (networks) causes.push(`the networks it announces (${networks.map(chainLabel).join(', ')}): a node closes when none is its chain`);
    const required = [...offeredBits].filter((bit) => bit % 2 === 0);
    if (required.length > 0) causes.push(`the even feature bits it requires (${required.join(', ')}), which a node that lacks them must refuse`);
    if (this.#replacing.has(session)) causes.push('a second connection: some nodes keep their first connection from a node id and close the new one (LDK does)');
    return `the remote may have refused ${causes.length > 1 ? 'one of: ' : ''}${causes.join('; ')}`;
  }

  #noticeOnce(message: CustomMessage, peerId: string): void {
    if (this.#noticedTypes.has(message.type)) return;
    this.#noticedTypes.add(message.type);
    for (const text of message.warnings()) this.#emit('notice', { message: text, peerId, type: message.type });
  }

  #emitFailed(direction: Direction, address: NetAddress, error: LnPeerError, peerId?: string): void {
    this.#emit('connection:failed', { direction, address, error, ...(peerId ? { peerId } : {}) });
  }

  /** Emits an event to the application; an exception from its listener is the application's (see `reportListenerError`). */
  #emit<E extends keyof PeerManagerEvents>(event: E, ...args: Parameters<PeerManagerEvents[E]>): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      reportListenerError(err);
    }
  }

  /** Why another inbound peer cannot be taken, or undefined when it can. */
  #inboundFull(): string | undefined {
    const { maxPeers } = this.#options;
    if (this.#sessions.size >= maxPeers) return `maxPeers (${maxPeers}) peers are connected`;
    const maxInbound = maxPeers - Math.floor(maxPeers * OUTBOUND_RESERVE);
    if (this.#inboundSessions >= maxInbound) return `${this.#inboundSessions} inbound peers are connected, the most of maxPeers (${maxPeers}) that inbound peers may take`;
    return undefined;
  }

  /**
   * The oldest inbound session still waiting for the remote's init: it holds a place it does
   * not use yet, so it makes room for a newcomer rather than lock it out for initTimeoutMs.
   */
  #oldestWithoutInit(): Session | undefined {
    for (const session of this.#sessions.values()) if (session.direction === 'inbound' && !session.peerInfo) return session;
    return undefined;
  }

  #assertRoom(): void {
    if (this.#sessions.size + this.#outbound.size >= this.#options.maxPeers) {
      throw new LnPeerError('TOO_MANY_PEERS', `maxPeers (${this.#options.maxPeers}) connections are open or opening; disconnect one or raise maxPeers`);
    }
  }

  #assertOpen(): void {
    if (this.#closing.signal.aborted) throw new LnPeerError('MANAGER_CLOSED', 'this PeerManager was closed; create a new one');
  }
}

type ActiveSession = Session & { active: Promise<PeerInfo> };

/** A persistent peer: where to dial it, and its backoff. */
interface Persistent {
  address: PeerAddress;
  /** Retries since the last connection that held (see STABLE_CONNECTION_MS). */
  attempt: number;
  /** The next attempt's timer, while one is scheduled. */
  timer?: ReturnType<typeof setTimeout>;
  /** When its current connection completed `init`. */
  connectedAt?: number;
}

/** One wait for a peer to be connected. */
interface ConnectWaiter {
  connected(info: PeerInfo): void;
  failed(error: LnPeerError): void;
  done(): void;
}

/** What a `messages()` stream yields: the event itself, or the value its schema decoded. */
type StreamItem = CustomMessageEvent | SchemaMessageEvent<unknown>;

/** `connect(peerId, address)`: the address as `{ host, port }` or `"host:port"`. */
function addressOf(peerId: string | Uint8Array, address: NetAddress | string): PeerAddress {
  const id = nodeIdHex(peerId);
  if (typeof address === 'string') return { ...parsePeerAddress(`${id}@${address}`) };
  const { host, port } = address;
  if (typeof host !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LnPeerError('INVALID_ADDRESS', `connect() address must be { host: string, port: 1 to 65535 }, got ${describe(address)}`);
  }
  return { peerId: id, transport: 'tcp', ...parseHostPort(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`) };
}

/** A whole message (type, then payload) from a custom message's parts. */
function wholeMessage(type: number, payload: Uint8Array): Uint8Array {
  const message = new Uint8Array(2 + payload.length);
  message[0] = type >> 8;
  message[1] = type & 0xff;
  message.set(payload, 2);
  return message;
}

/** A controller aborted when any of `signals` aborts (with its reason); `done()` stops listening. */
function anySignal(...signals: AbortSignal[]): { controller: AbortController; done(): void } {
  const controller = new AbortController();
  const listeners = signals.map((signal) => {
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  });
  return { controller, done: () => listeners.forEach((remove) => remove()) };
}
