/**
 * npm `lightningdevkit` 0.1.0: LDK 0.1's Rust as wasm (its banner: "LDK v0.1-23-g7e2c5efd…,
 * LDK-C-Bindings v0.1.0.0"), with generated TypeScript bindings. A node as an LDK application
 * runs one: a real `ChannelManager` (regtest, KeysManager from a random seed, in-memory
 * persister) as the PeerManager's channel handler, so LDK's own `init` checks apply; ignoring
 * routing and onion-message handlers; our `CustomMessageHandler`; and LDK's sans-I/O
 * `PeerManager` driven over node:net sockets as lightning-net-tokio drives it (reads of at most
 * 4 KiB, `process_events()` after each, read pauses, write back-pressure). Both roles; the node
 * id is LDK's own: `ldk.start()` → `LdkNode` (a `Partner` with `nodeId`), one per identity.
 *
 * Quirks (each checked, see test/interop-ldk.test.ts):
 * - loading the wasm prints a line on stdout (swallowed here; it carries LDK's version);
 * - message types reach JavaScript as signed 16-bit numbers (65531 arrives as -5);
 * - custom messages queued before the peer's `init` was accepted are dropped silently: a
 *   connection is handed out, and can send, only once LDK reported the peer connected;
 * - its `init`: globalfeatures 0x1121, features bits 0 5 8 12 14 17 19 25 27 45 47 51 (0, 8,
 *   12, 14 required), its chain; it needs one bit of each pair 0/1, 8/9, 12/13, 14/15 back
 *   (smallest: 0xa202), no unknown even bit, its chain if `networks` is there;
 * - its reader hook sees every type LDK does not know: a type our `CustomMessageReader` claims
 *   reaches the handler whatever its parity (the driver claims every type ≥ 32768 unless told
 *   otherwise); an even type nobody claims → it disconnects;
 * - its ping is (num_pong_bytes 0, 64 ignored bytes), sent by a timer tick to every peer with
 *   none outstanding, and also after 32 messages sent since the last pong (a bulk run from
 *   LDK carries pings the remote must answer); a peer that sent nothing between two ticks
 *   while a ping was outstanding is dropped ("… due to ping/handshake timeout"), and so is a
 *   connection still in its handshake at the second tick; it ignores a ping asking ≥ 65532;
 * - it never says why it closes on the wire (no `warning`, no `error`): its reasons are only in
 *   its log, which the driver keeps per connection (trace level) and reports in `closed`;
 *   a second `init` closes the connection without a log line;
 * - a connection from (or to) a node id it is already connected to is closed as soon as the
 *   handshake names it ("Got second connection with …, closing"): the first one stays;
 * - it gives the application no `init` bytes: the driver decrypts the first message each way
 *   from the bytes it carried, with LDK's static key (`get_node_secret_key`) and the ephemeral
 *   key LDK derives from the random data the driver gave its PeerManager.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { getPublicKey, getSharedSecret } from '@noble/secp256k1';
import type * as LdkModule from 'lightningdevkit';
import type { Availability } from '../availability.js';
import {
  DEFAULT_TIMEOUT_MS,
  MessageQueue,
  PartnerClosedError,
  deferred,
  fromHex,
  toHex,
  track,
  withTimeout,
  type ConnectOptions,
  type ListenOptions,
  type Message,
  type PartnerConnection,
  type PartnerListener,
  type Role,
} from '../partner.js';

const NAME = 'ldk';
const PACKAGE = 'lightningdevkit';
const WRITTEN_FOR = '0.1.0';
/** LDK's background processor ticks the PeerManager every 10 s. */
const TICK_INTERVAL_MS = 10_000;
/** lightning-net-tokio reads into a 4 KiB buffer and hands each read to `read_event`. */
const READ_CHUNK = 4096;
const MAX_MESSAGE = 65535;

type Ldk = typeof LdkModule;
const require = createRequire(import.meta.url);

let loading: Promise<{ ldk: Ldk; version: string; banner: string }> | undefined;

/** Loads the module and its wasm once per process; swallows (and keeps) the line it prints. */
function load(): Promise<{ ldk: Ldk; version: string; banner: string }> {
  loading ??= (async () => {
    const ldk = (await import(PACKAGE)) as Ldk;
    const wasm = readFileSync(require.resolve(`${PACKAGE}/liblightningjs.wasm`));
    const { version } = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8')) as { version: string };
    const log = console.log;
    let banner = '';
    console.log = (...args: unknown[]) => void (banner += args.join(' '));
    try {
      await ldk.initializeWasmFromBinary(wasm);
    } finally {
      console.log = log;
    }
    return { ldk, version, banner };
  })();
  return loading;
}

export async function availability(): Promise<Availability> {
  const install = `npm install (it is a devDependency: ${PACKAGE}@${WRITTEN_FOR})`;
  try {
    const { version, banner } = await load();
    const written = version === WRITTEN_FOR ? '' : ` (the driver was written against ${WRITTEN_FOR})`;
    return { available: true, detail: `${PACKAGE} ${version}${written}: ${banner}`, version, install };
  } catch (e) {
    return { available: false, detail: `cannot load ${PACKAGE}: ${(e as Error).message}`, install };
  }
}

export interface LdkStartOptions {
  /** `timer_tick_occurred()` period; 0: only `tick()`. Default 10 s, LDK's background processor's. */
  tickIntervalMs?: number;
  /** The types our `CustomMessageReader` claims. Default: every type ≥ 32768. */
  customTypes?: (type: number) => boolean;
}

export interface LdkListener extends PartnerListener {
  readonly accepted: Promise<LdkConnection>;
  /** The TCP connection arrived and LDK took it (`new_inbound_connection`), before any handshake. */
  readonly tcpAccepted: Promise<void>;
}

/** One line LDK logged, as the driver keeps it. */
interface LogLine {
  level: string;
  text: string;
  peer?: string;
}

const LEVELS = ['GOSSIP', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
const PING_SENT = /^Enqueueing message Ping \{ ponglen: (\d+), byteslen: (\d+) \}/;
const PONG_RECEIVED = /^Received message Pong\(Pong \{ byteslen: (\d+) \}\)/;
const REMOTE_ERROR = /^Got (?:warning|Err) message from \w+: ([\s\S]*)$/;
/** Lines LDK logs on every connection: never the reason it closed one. */
const ROUTINE = /^(Received message |Enqueueing message |Finished noise handshake |Received peer Init message |Received unknown odd message |Generating channel_reestablish )/;

export class LdkNode {
  readonly name = NAME;
  readonly nodeId: string;
  /** Every line LDK logged (trace and up), oldest first. */
  readonly log: string[] = [];
  /** Every custom message LDK's handler got, with the sender LDK named. */
  readonly received: { sender: string; message: Message }[] = [];
  private readonly links = new Set<LdkConnection>();
  private readonly servers = new Set<net.Server>();
  /** Custom messages for LDK's next `get_and_clear_pending_msg()`. */
  private readonly outbox: { tuple: LdkModule.TwoTuple_PublicKeyTypeZ; done: () => void }[] = [];
  private readonly pm: LdkModule.PeerManager;
  private readonly timer: NodeJS.Timeout | undefined;
  /** The connection whose descriptor the current PeerManager call is about (log attribution). */
  private current: LdkConnection | undefined;
  private nextId = 1n;
  /** LDK logs this right before each `disconnect_socket` (some without a peer id). */
  private lastDisconnecting: string | undefined;
  /** For the `init` tap: LDK's static key, and the data its ephemeral keys derive from. */
  readonly secret: Uint8Array;
  readonly ephemeralData: Uint8Array;
  readonly release: () => Promise<void>;

  constructor(
    private readonly ldk: Ldk,
    options: LdkStartOptions,
  ) {
    const customTypes = options.customTypes ?? ((type: number) => type >= 0x8000);
    const network = ldk.Network.LDKNetwork_Regtest;
    const logger = ldk.Logger.new_impl({ log: (record) => this.onLog(record) });
    const fees = ldk.FeeEstimator.new_impl({ get_est_sat_per_1000_weight: () => 253 });
    const broadcaster = ldk.BroadcasterInterface.new_impl({ broadcast_transactions: () => {} });
    const monitors = new Map<string, Uint8Array>(); // the in-memory persister's store
    const persist = (outpoint: LdkModule.OutPoint, monitor: LdkModule.ChannelMonitor) => {
      monitors.set(toHex(outpoint.write()), monitor.write());
      return ldk.ChannelMonitorUpdateStatus.LDKChannelMonitorUpdateStatus_Completed;
    };
    const persister = ldk.Persist.new_impl({
      persist_new_channel: persist,
      update_persisted_channel: (outpoint, _update, monitor) => persist(outpoint, monitor),
      archive_persisted_channel: (outpoint) => void monitors.delete(toHex(outpoint.write())),
    });
    const chainMonitor = ldk.ChainMonitor.constructor_new(ldk.Option_FilterZ.constructor_none(), broadcaster, logger, fees, persister);
    const now = Math.floor(Date.now() / 1000);
    const keys = ldk.KeysManager.constructor_new(new Uint8Array(randomBytes(32)), BigInt(now), 0);
    const graph = ldk.NetworkGraph.constructor_new(network, logger);
    const scorer = ldk.ProbabilisticScorer.constructor_new(ldk.ProbabilisticScoringDecayParameters.constructor_default(), graph, logger);
    const score = ldk.MultiThreadedLockableScore.constructor_new(scorer.as_Score());
    const router = ldk.DefaultRouter.constructor_new(graph, logger, keys.as_EntropySource(), score.as_LockableScore(), ldk.ProbabilisticScoringFeeParameters.constructor_default());
    const messageRouter = ldk.DefaultMessageRouter.constructor_new(graph, keys.as_EntropySource());
    const params = ldk.ChainParameters.constructor_new(network, ldk.BestBlock.constructor_from_network(network));
    const channels = ldk.ChannelManager.constructor_new(fees, chainMonitor.as_Watch(), broadcaster, router.as_Router(), messageRouter.as_MessageRouter(), logger,
      keys.as_EntropySource(), keys.as_NodeSigner(), keys.as_SignerProvider(), ldk.UserConfig.constructor_default(), params, now);

    const custom = ldk.CustomMessageHandler.new_impl(
      {
        handle_custom_message: (msg, sender) => {
          const type = msg.type_id() & 0xffff; // signed 16-bit in the bindings
          const message = withType(type, msg.write());
          const from = toHex(sender);
          this.received.push({ sender: from, message });
          this.linkFor(from)?.queue.push(message);
          return ldk.Result_NoneLightningErrorZ.constructor_ok();
        },
        get_and_clear_pending_msg: () => {
          const taken = this.outbox.splice(0);
          for (const { done } of taken) queueMicrotask(done); // after process_events has written them
          return taken.map((m) => m.tuple);
        },
        peer_disconnected: () => {},
        peer_connected: (theirNodeId) => {
          // only ever called inside read_event, for the connection being read
          if (this.current) this.current.connected(toHex(theirNodeId));
          return ldk.Result_NoneNoneZ.constructor_ok();
        },
        provided_node_features: () => ldk.NodeFeatures.constructor_empty(),
        provided_init_features: () => ldk.InitFeatures.constructor_empty(),
      },
      {
        read: (messageType, buffer) => {
          const type = messageType & 0xffff;
          if (!customTypes(type)) return ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(ldk.Option_TypeZ.constructor_none());
          return ldk.Result_COption_TypeZDecodeErrorZ.constructor_ok(ldk.Option_TypeZ.constructor_some(customType(ldk, type, buffer.slice())));
        },
      },
    );
    const ignoring = ldk.IgnoringMessageHandler.constructor_new();
    this.ephemeralData = new Uint8Array(randomBytes(32));
    this.pm = ldk.PeerManager.constructor_new(channels.as_ChannelMessageHandler(), ignoring.as_RoutingMessageHandler(), ignoring.as_OnionMessageHandler(),
      custom, now, this.ephemeralData, logger, keys.as_NodeSigner());
    this.secret = keys.get_node_secret_key();
    this.nodeId = toHex(channels.get_our_node_id());
    const interval = options.tickIntervalMs ?? TICK_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => this.tick(), interval);
      this.timer.unref();
    }
    this.release = track(`${NAME} node ${this.nodeId.slice(0, 16)}`, () => this.shutdown());
  }

  /** One `timer_tick_occurred()`, as LDK's background processor does every 10 s. */
  tick(): void {
    this.pm.timer_tick_occurred();
    this.processEvents();
  }

  /** LDK initiates a connection to `host:port`; resolves once `init` was exchanged and accepted. */
  async connect({ nodeId, host, port, timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions): Promise<LdkConnection> {
    const socket = net.connect({ host, port });
    const link = this.adopt(socket, 'initiator', nodeId);
    socket.once('connect', () => {
      const result = this.pm.new_outbound_connection(fromHex(nodeId), link.descriptor, socketAddress(this.ldk, socket));
      if (!(result instanceof this.ldk.Result_CVec_u8ZPeerHandleErrorZ_OK)) return link.abort('new_outbound_connection refused');
      link.registered = true;
      link.write(result.res); // act one
    });
    try {
      return await withTimeout(link.ready.promise, timeoutMs, `${NAME} connect to ${host}:${port}`);
    } catch (e) {
      await link.close();
      throw e;
    }
  }

  /** A server on 127.0.0.1 feeding `new_inbound_connection`, for one connection. */
  async listen({ timeoutMs = DEFAULT_TIMEOUT_MS }: Partial<ListenOptions> = {}): Promise<LdkListener> {
    const accepted = deferred<LdkConnection>();
    const tcpAccepted = deferred<void>();
    let link: LdkConnection | undefined;
    const server = net.createServer((socket) => {
      if (link) return void socket.destroy(); // one connection per listener
      link = this.adopt(socket, 'responder');
      const result = this.pm.new_inbound_connection(link.descriptor, socketAddress(this.ldk, socket));
      if (!result.is_ok()) return link.abort('new_inbound_connection refused');
      link.registered = true;
      tcpAccepted.resolve();
      link.ready.promise.then(accepted.resolve, accepted.reject);
      server.close();
    });
    this.servers.add(server);
    const close = async () => {
      accepted.reject(new PartnerClosedError(NAME, 'listener closed'));
      tcpAccepted.reject(new PartnerClosedError(NAME, 'listener closed'));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      this.servers.delete(server);
      await link?.close();
    };
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: 0 }, resolve);
      }),
      timeoutMs,
      `${NAME} listen`,
    );
    const { port } = server.address() as net.AddressInfo;
    return { nodeId: this.nodeId, host: '127.0.0.1', port, accepted: accepted.promise, tcpAccepted: tcpAccepted.promise, close };
  }

  /** Stops the timer, disconnects every peer, closes every socket and server. */
  stop(): Promise<void> {
    return this.release();
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.timer);
    for (const server of this.servers) server.close();
    await Promise.all([...this.links].map((link) => link.close()));
  }

  // --- what the connections call ---------------------------------------------------------

  private adopt(socket: net.Socket, role: Role, remoteNodeId?: string): LdkConnection {
    const id = this.nextId++;
    const descriptor = this.ldk.SocketDescriptor.new_impl({
      send_data: (data, resumeRead) => link.sendData(data, resumeRead),
      disconnect_socket: () => {
        link.ldkDisconnects(this.lastDisconnecting);
        this.lastDisconnecting = undefined;
      },
      eq: (other) => other.hash() === id,
      hash: () => id,
    });
    const link: LdkConnection = new LdkConnection(this, socket, descriptor, role, remoteNodeId);
    this.links.add(link);
    void link.closed.then(() => this.links.delete(link));
    return link;
  }

  /** `read_event` for one piece; false when LDK refused it (the caller must close). */
  readEvent(link: LdkConnection, data: Uint8Array): { ok: boolean; pause: boolean; lines: LogLine[] } {
    const from = link.lines.length;
    const result = this.call(link, () => this.pm.read_event(link.descriptor, data));
    const ok = result instanceof this.ldk.Result_boolPeerHandleErrorZ_OK;
    return { ok, pause: ok && result.res, lines: link.lines.slice(from) };
  }

  writeSpaceAvailable(link: LdkConnection): boolean {
    return this.call(link, () => this.pm.write_buffer_space_avail(link.descriptor)).is_ok();
  }

  socketDisconnected(link: LdkConnection): void {
    this.call(link, () => this.pm.socket_disconnected(link.descriptor));
    this.processEvents();
  }

  processEvents(): void {
    this.pm.process_events();
  }

  disconnect(link: LdkConnection): void {
    this.pm.disconnect_by_node_id(fromHex(link.remoteNodeId));
  }

  /** Queues a custom message for LDK's next `get_and_clear_pending_msg()`, then lets it run. */
  queueCustom(link: LdkConnection, message: Message): Promise<void> {
    const done = deferred<void>();
    const type = customType(this.ldk, (message[0]! << 8) | message[1]!, message.slice(2));
    this.outbox.push({ tuple: this.ldk.TwoTuple_PublicKeyTypeZ.constructor_new(fromHex(link.remoteNodeId), type), done: () => link.whenFlushed(done) });
    this.processEvents();
    return done.promise;
  }

  private call<T>(link: LdkConnection, f: () => T): T {
    const previous = this.current;
    this.current = link;
    try {
      return f();
    } finally {
      this.current = previous;
    }
  }

  /** The live connection with this remote node id: the one LDK accepted, if there is one. */
  private linkFor(nodeId: string): LdkConnection | undefined {
    const candidates = [...this.links].filter((l) => l.knownRemote === nodeId && !l.ended);
    return candidates.find((l) => l.isConnected) ?? candidates.at(-1);
  }

  private onLog(record: LdkModule.Record): void {
    try {
      const level = record.get_level();
      if (level === this.ldk.Level.LDKLevel_Gossip) return;
      const peerBytes = record.get_peer_id();
      const peer = peerBytes && peerBytes.some((b) => b !== 0) ? toHex(peerBytes) : undefined;
      const line: LogLine = { level: LEVELS[level] ?? String(level), text: record.get_args(), ...(peer ? { peer } : {}) };
      this.log.push(`${line.level} ${line.peer ? `[${line.peer.slice(0, 8)}] ` : ''}${line.text}`);
      if (this.log.length > 20_000) this.log.splice(0, 10_000);
      if (line.text.startsWith('Disconnecting peer ')) this.lastDisconnecting = line.text;
      const link = this.current ?? (peer ? this.linkFor(peer) : undefined);
      link?.onLog(line);
    } catch {
      // never throw back into wasm
    }
  }
}

/**
 * One TCP connection of an LDK node, and, once LDK accepted the peer's `init`, the
 * `PartnerConnection` the tests use.
 */
export class LdkConnection implements PartnerConnection {
  readonly name = NAME;
  readonly shows = 'custom';
  readonly localNodeId: string;
  readonly queue = new MessageQueue(NAME);
  readonly lines: LogLine[] = [];
  readonly ready = deferred<LdkConnection>();
  private readonly done = deferred<{ reason: string }>();
  readonly closed = this.done.promise;
  /** LDK knows this descriptor (new_*_connection accepted it). */
  registered = false;
  ended = false;
  isConnected = false;
  knownRemote: string | undefined;
  private reason: string | undefined;
  /** LDK disconnected (or refused) it itself: no `socket_disconnected` owed. */
  private ldkDone = false;
  private readPaused = false;
  /** LDK holds bytes we did not take (awaiting `write_buffer_space_avail`). */
  private ldkHolding = false;
  private readonly inbox: Buffer[] = [];
  private flushWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private watchers: (() => void)[] = [];
  /** The bytes each way, until the `init` tap has what it needs. */
  private tap: { out: Buffer[]; in: Buffer[] } | undefined = { out: [], in: [] };
  private inits: { sent: Message; received: Message } | undefined;

  constructor(
    private readonly node: LdkNode,
    private readonly socket: net.Socket,
    readonly descriptor: LdkModule.SocketDescriptor,
    readonly role: Role,
    remoteNodeId?: string,
  ) {
    this.localNodeId = node.nodeId;
    this.knownRemote = remoteNodeId;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.inbox.push(chunk);
      this.pump();
    });
    socket.on('error', (e) => (this.reason ??= e.message));
    socket.on('close', () => this.onClose());
  }

  get remoteNodeId(): string {
    return this.knownRemote ?? '';
  }

  /** LDK's first message each way (its `init` and the peer's), whole, decrypted by the tap. */
  get init(): { sent: Message; received: Message } | undefined {
    return this.inits;
  }

  send(message: Message): Promise<void> {
    if (this.ended || this.ldkDone || !this.isConnected) return Promise.reject(new PartnerClosedError(NAME, this.reason ?? 'not connected'));
    if (message.length < 2 || message.length > MAX_MESSAGE) {
      // LDK panics (and the wasm instance with it) on a message over 65,535 bytes
      return Promise.reject(new Error(`${NAME}: a message is 2 to ${MAX_MESSAGE} bytes, got ${message.length}`));
    }
    return this.node.queueCustom(this, message);
  }

  nextMessage(timeoutMs?: number): Promise<Message> {
    return this.queue.next(timeoutMs);
  }

  /**
   * Ticks LDK's timer so that it pings this peer with its own ping, and resolves once LDK
   * logged the pong. A ping LDK already has outstanding is waited for first (it sends no
   * other until then).
   */
  async pingRoundTrip(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ numPongBytes: number; pongBytes: number }> {
    const lastPing = lastIndex(this.lines, PING_SENT);
    if (lastPing >= 0) await this.waitFor(PONG_RECEIVED, lastPing, timeoutMs);
    const from = this.lines.length;
    this.node.tick();
    const ping = this.lines.slice(from).map((l) => PING_SENT.exec(l.text)).find((m) => m);
    if (!ping) throw new Error(`${NAME}: the timer tick sent no ping to ${this.remoteNodeId}`);
    const pong = await this.waitFor(PONG_RECEIVED, from, timeoutMs);
    return { numPongBytes: Number(ping[1]), pongBytes: Number(pong[1]) };
  }

  async receivedWarnings(): Promise<string[]> {
    return this.lines.flatMap((l) => REMOTE_ERROR.exec(l.text)?.[1] ?? []);
  }

  /** LDK disconnects this peer (`disconnect_by_node_id`); resolves once the socket closed. */
  async close(): Promise<void> {
    this.reason ??= 'closed by driver';
    if (!this.ended) {
      // only the connection LDK accepted is the node id's: a refused second one is just a socket
      if (this.isConnected) this.node.disconnect(this);
      else this.shut();
    }
    await this.closed;
  }

  // --- driver internals --------------------------------------------------------------------

  /** The custom handler's `peer_connected` for this connection: LDK accepted the peer's `init`. */
  connected(remoteNodeId: string): void {
    this.knownRemote = remoteNodeId;
    this.isConnected = true;
  }

  onLog(line: LogLine): void {
    if (!this.knownRemote && line.peer) this.knownRemote = line.peer;
    this.lines.push(line);
    for (const watcher of this.watchers.slice()) watcher();
  }

  /** Resolves with the first line at or after `from` that matches. */
  private waitFor(re: RegExp, from: number, timeoutMs: number): Promise<RegExpExecArray> {
    const found = deferred<RegExpExecArray>();
    const check = () => {
      for (let i = from; i < this.lines.length; i++) {
        const m = re.exec(this.lines[i]!.text);
        if (m) return found.resolve(m);
      }
      if (this.ended) found.reject(new PartnerClosedError(NAME, this.reason ?? 'closed'));
    };
    this.watchers.push(check);
    check();
    return withTimeout(found.promise, timeoutMs, `${NAME}: a log line ${re}`).finally(() => {
      this.watchers = this.watchers.filter((w) => w !== check);
    });
  }

  /** `send_data`: takes everything while the socket has room; short writes pause reads (as tokio). */
  sendData(data: Uint8Array, resumeRead: boolean): number {
    try {
      if (resumeRead && this.readPaused) {
        this.readPaused = false;
        setImmediate(() => this.pump()); // never call back into LDK from inside it
      }
      if (data.length === 0 || this.socket.destroyed || !this.socket.writable) return 0;
      if (this.socket.writableNeedDrain) {
        if (!this.ldkHolding) {
          this.ldkHolding = true;
          this.readPaused = true; // "no further read_event calls until a send_data completes fully"
          this.socket.once('drain', () => this.drained());
        }
        return 0;
      }
      this.write(data);
      return data.length;
    } catch {
      return 0;
    }
  }

  write(data: Uint8Array): void {
    const bytes = Buffer.from(data); // a copy: `data` may be a view of wasm memory
    this.tap?.out.push(bytes);
    this.socket.write(bytes);
  }

  private drained(): void {
    this.ldkHolding = false;
    if (this.ended) return;
    if (!this.node.writeSpaceAvailable(this)) return this.refused('write_buffer_space_avail failed', []);
    this.flushed();
  }

  /** Resolves `done` once LDK holds none of this connection's bytes back. */
  whenFlushed(done: { resolve: () => void; reject: (e: unknown) => void }): void {
    if (this.ended || this.ldkDone) return done.reject(new PartnerClosedError(NAME, this.reason ?? 'closed'));
    this.flushWaiters.push(done);
    this.flushed();
  }

  private flushed(): void {
    if (this.ldkHolding) return;
    for (const { resolve } of this.flushWaiters.splice(0)) resolve();
  }

  /** Feeds what was read to LDK, 4 KiB at a time, unless LDK paused reading. */
  private pump(): void {
    while (!this.readPaused && !this.ldkDone && this.inbox.length > 0) {
      const chunk = this.inbox[0]!;
      const piece = chunk.subarray(0, READ_CHUNK);
      if (piece.length === chunk.length) this.inbox.shift();
      else this.inbox[0] = chunk.subarray(READ_CHUNK);
      if (this.tap && this.tap.in.length < 40) this.tap.in.push(piece);
      const { ok, pause, lines } = this.node.readEvent(this, piece);
      if (!ok) return this.refused('read_event failed', lines);
      if (pause) this.readPaused = true;
      this.node.processEvents();
      if (this.isConnected && this.tap) {
        // LDK's own init went out in this process_events at the latest: read both now
        this.inits = firstMessages(this.role, this.node, this.remoteNodeId, Buffer.concat(this.tap.out), Buffer.concat(this.tap.in));
        this.tap = undefined;
        this.ready.resolve(this);
      }
    }
    if (this.readPaused || this.ldkDone) this.socket.pause();
    else this.socket.resume();
  }

  /** LDK refused the connection in a call (must close at once): its last words are why. */
  private refused(what: string, lines: LogLine[]): void {
    // what LDK logged before it started tearing the peer down ("Handling disconnection …")
    const end = lines.findIndex((l) => /^Handling disconnection of peer /.test(l.text));
    const why = lines.slice(0, end < 0 ? lines.length : end).filter((l) => !ROUTINE.test(l.text)).at(-1);
    this.reason ??= why ? why.text : `${what} (LDK logged no reason)`;
    this.ldkDone = true;
    this.shut();
  }

  /**
   * LDK's `disconnect_socket` (from disconnect_by_node_id, a ping timeout, an error event):
   * it logs "Disconnecting peer … due to …" just before, for this socket.
   */
  ldkDisconnects(why: string | undefined): void {
    try {
      this.reason ??= why ?? 'LDK disconnected it (it logged no reason)';
      this.ldkDone = true;
      this.shut();
    } catch {
      // never throw back into wasm
    }
  }

  /** A connection LDK never took (or refused at the start). */
  abort(why: string): void {
    this.reason ??= why;
    this.ldkDone = true;
    this.shut();
  }

  /** Ends our side after what is queued was written; forces it if the remote lingers. */
  private shut(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onClose(): void {
    this.ended = true;
    if (this.registered && !this.ldkDone) this.node.socketDisconnected(this);
    const reason = this.reason ?? 'closed by remote';
    const error = new PartnerClosedError(NAME, reason);
    this.queue.end(error);
    this.ready.reject(error);
    for (const watcher of this.watchers.slice()) watcher();
    for (const { reject } of this.flushWaiters.splice(0)) reject(error); // LDK still held them
    this.done.resolve({ reason });
  }
}

export const ldk = {
  name: NAME,
  /** A fresh LDK node (loads the wasm on first use); `closeAllPartners()` stops it. */
  async start(options: LdkStartOptions = {}): Promise<LdkNode> {
    const { ldk } = await load();
    return new LdkNode(ldk, options);
  },
};

// --- helpers ---------------------------------------------------------------------------------

/** Index of the last line that matches (lib ES2022 has no findLastIndex). */
function lastIndex(lines: LogLine[], re: RegExp): number {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i]!.text)) return i;
  return -1;
}

function withType(type: number, payload: Uint8Array): Message {
  const message = new Uint8Array(2 + payload.length);
  message.set([type >> 8, type & 0xff]);
  message.set(payload, 2);
  return message;
}

function customType(ldk: Ldk, type: number, payload: Uint8Array): LdkModule.Type {
  return ldk.Type.new_impl({
    type_id: () => type,
    debug_str: () => `custom message type ${type}, ${payload.length} bytes`,
    write: () => payload,
  });
}

/** The peer's address as lightning-net-tokio passes it (LDK drops loopback ones from its `init`). */
function socketAddress(ldk: Ldk, socket: net.Socket): LdkModule.Option_SocketAddressZ {
  const ip = socket.remoteAddress && net.isIPv4(socket.remoteAddress) ? socket.remoteAddress : undefined;
  if (!ip || socket.remotePort === undefined) return ldk.Option_SocketAddressZ.constructor_none();
  const address = ldk.SocketAddress.constructor_tcp_ip_v4(new Uint8Array(ip.split('.').map(Number)), socket.remotePort);
  return ldk.Option_SocketAddressZ.constructor_some(address);
}

// --- the `init` tap: BOLT 8 from LDK's side, to read the first message each way ----------------

const EMPTY = new Uint8Array(0);
const cat = (...parts: (Uint8Array | string)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
const hash = (...parts: (Uint8Array | string)[]) => sha256(cat(...parts));
const ecdh = (secret: Uint8Array, point: Uint8Array) => sha256(getSharedSecret(secret, point, true));
const hkdf2 = (salt: Uint8Array, ikm: Uint8Array) => {
  const out = hkdf(sha256, ikm, salt, EMPTY, 64);
  return [out.subarray(0, 32), out.subarray(32)] as const;
};
const decrypt = (key: Uint8Array, n: number, ad: Uint8Array, data: Uint8Array) => {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(n), true);
  return chacha20poly1305(key, nonce, ad).decrypt(data);
};

/**
 * LDK's ephemeral key for a handshake: SHA-256(ephemeral_random_data || counter as u64 LE),
 * the counter counting handshakes in its PeerManager; found by the public key on the wire.
 */
function ephemeralKey(data: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  for (let counter = 0n; counter < 10_000n; counter++) {
    const le = new Uint8Array(8);
    new DataView(le.buffer).setBigUint64(0, counter, true);
    const key = hash(data, le);
    if (Buffer.from(getPublicKey(key, true)).equals(publicKey)) return key;
  }
  return undefined;
}

/** The first transport message each way, or undefined while either is incomplete. */
function firstMessages(role: Role, node: LdkNode, remote: string, out: Uint8Array, inb: Uint8Array): { sent: Message; received: Message } | undefined {
  try {
    const initiator = role === 'initiator';
    const [i2r, r2i] = initiator ? [out, inb] : [inb, out];
    if (i2r.length < 116 + 18 || r2i.length < 50 + 18) return undefined;
    const ie = i2r.subarray(1, 34);
    const re = r2i.subarray(1, 34);
    const e = ephemeralKey(node.ephemeralData, initiator ? ie : re);
    if (!e) return undefined;
    const responderKey = initiator ? fromHex(remote) : fromHex(node.nodeId);
    let h = hash('Noise_XK_secp256k1_ChaChaPoly_SHA256');
    let ck: Uint8Array = h;
    h = hash(h, 'lightning');
    h = hash(h, responderKey);
    h = hash(h, ie); // act one
    [ck] = hkdf2(ck, initiator ? ecdh(e, responderKey) : ecdh(node.secret, ie));
    h = hash(h, i2r.subarray(34, 50));
    h = hash(h, re); // act two
    const [ck2, k] = hkdf2(ck, ecdh(e, initiator ? re : ie));
    ck = ck2;
    h = hash(h, r2i.subarray(34, 50));
    const c = i2r.subarray(51, 100); // act three: the initiator's static key, encrypted
    const initiatorKey = decrypt(k, 1, h, c);
    [ck] = hkdf2(ck, initiator ? ecdh(node.secret, re) : ecdh(e, initiatorKey));
    const [i2rKey, r2iKey] = hkdf2(ck, EMPTY);
    const first = (bytes: Uint8Array, key: Uint8Array) => {
      const length = decrypt(key, 0, EMPTY, bytes.subarray(0, 18));
      const n = (length[0]! << 8) | length[1]!;
      return bytes.length < 18 + n + 16 ? undefined : decrypt(key, 1, EMPTY, bytes.subarray(18, 18 + n + 16));
    };
    const fromInitiator = first(i2r.subarray(116), i2rKey);
    const fromResponder = first(r2i.subarray(50), r2iKey);
    if (!fromInitiator || !fromResponder) return undefined;
    return initiator ? { sent: fromInitiator, received: fromResponder } : { sent: fromResponder, received: fromInitiator };
  } catch {
    return undefined;
  }
}
