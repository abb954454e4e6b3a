/**
 * Core Lightning v26.06.6: a real `lightningd` on regtest with no bitcoind (the fakechain.py
 * plugin serves a fixed chain), driven through its JSON-RPC unix socket and
 * test/interop/cln_plugin.py, which streams its `connect`/`disconnect` notifications and its
 * `custommsg` hook to the driver. A node with an identity of its own: every connection it
 * makes or accepts has its node id. Both roles.
 *
 * Quirks (observed with this build; see test/interop-cln.test.ts):
 * - `sendcustommsg` trusts its hex: malformed hex (`fffbzz`, `fffb0`), an empty message or one
 *   over 65,535 bytes aborts its connectd (`FATAL SIGNAL 6`) and lightningd exits with code 1:
 *   the whole node is gone. The driver refuses messages outside 2..65,535 bytes before the call.
 *   It sends any type no BOLT defines, odd or even (even ones get the remote's warning), and
 *   peer storage (7, 9); other BOLT types get -32600 (`Cannot send messages of type 18
 *   (WIRE_PING)…`). It resolves when connectd has the message, not when it was written.
 * - The `custommsg` hook also carries peer storage (types 7 and 9, for its chanbackup plugin):
 *   another Core Lightning sends `peer_storage` right after `init`. They are no custom
 *   messages: the driver does not show them.
 * - An unknown even type: the receiver logs `UNUSUAL <peer>-connectd: Invalid unknown even msg
 *   <hex of the whole message>`, sends that as a `warning` and hangs up, unless a plugin lists
 *   the type in its manifest's `custommessages`. lightningd reads the manifest before plugins
 *   get their options, so the driver passes those types in the environment (`customMessages`).
 * - A received `warning`/`error` with an all-zero channel id is logged (INFO) as
 *   `<peer>-connectd: Received WIRE_WARNING: WARNING: <text>` (`WIRE_ERROR: ERROR: …`; text in
 *   hex unless printable ASCII; a malformed one as `Invalid ERROR message '<hex>'`). It stays
 *   after a warning and hangs up after an error. One for a channel it does not know is not
 *   logged so: it answers with `error` "Unknown channel for WIRE_WARNING" and hangs up.
 * - `init` without regtest in `networks`: warning "No common network", hang-up, and only a
 *   DEBUG line (`No common chain with this peer '<init hex>', closing`); as initiator its
 *   `connect` RPC fails with "… Exchanging init messages: Resource temporarily unavailable."
 * - `ping ID LEN PONGBYTES` resolves with `{ totlen }`: the length of the whole pong it got
 *   (type and byteslen included), so byteslen = totlen - 4. It does not check that length.
 *   Its own keepalive pings (num_pong_bytes 1, no bytes) go only to a peer silent for 60 s.
 * - `init` bytes are only in the log at level io (`--log-level=io:connectd`, which the driver
 *   sets: `<peer>-connectd: [OUT] 0010…` and `[IN] 0010…`). As responder it adds `remote_addr`
 *   (TLV 3) to its `init`; as initiator it does not. The io log also shows an internal message
 *   as if received (`[IN] 083f<peer id>`, after each custom message).
 * - The `connect` RPC returns once `init` was exchanged; the `connect` notification came
 *   after that answer, and sometimes before. Notifications are wrapped in an object named
 *   after the topic. A `disconnect` comes after the log lines that explain it (connectd logs
 *   nothing when the remote just closes); on `stop`, it may never come.
 * - `getinfo` answers before the TCP listener is on (a `connect` then is refused): ready is
 *   when "Server started with public key" is logged. Its `binding` omits the ws listener.
 * - A port already taken makes it exit at start with only a log line
 *   (`Failed to bind socket for 127.0.0.1:PORT: Address already in use`); nothing on stderr.
 * - Start to ready: 0.35–0.55 s; `stop` RPC to exit (and the directory removed): about 30 ms.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Availability } from '../availability.js';
import type { Driver } from '../lnpeer.js';
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
  type Partner,
  type PartnerConnection,
  type PartnerListener,
  type Role,
} from '../partner.js';

const NAME = 'cln';
export const CLN_VERSION = 'v26.06.6';
const TARBALL = `cln-${CLN_VERSION}-debian12-x86_64.tar.xz`;
const DEBIAN_LIBS = 'libsqlite3-0 libsodium23 libpq5 zlib1g libgmp10';
/** Where the tarball and fakechain.py are unless CLN_TARBALL / CLN_FAKECHAIN say otherwise. */
const DEFAULT_DIR = fileURLToPath(new URL('../../../../shared/cln/', import.meta.url));
const PLUGIN = fileURLToPath(new URL('../cln_plugin.py', import.meta.url));
const START_TIMEOUT_MS = 20_000;
/** From `stop` to SIGKILL: with the `stop` RPC's 3 s, under the 10 s `closeAllPartners` allows. */
const STOP_TIMEOUT_MS = 5000;
/** BOLT 1 peer storage: routed through the `custommsg` hook, but not custom messages. */
const PEER_STORAGE_TYPES = new Set([7, 9]);

const execFileP = promisify(execFile);

// ---------------------------------------------------------------------------------------
// Finding (or unpacking) lightningd.

interface Install {
  lightningd: string;
  fakechain: string;
  version: string;
}

const INSTALL_HINT =
  `set LIGHTNINGD to a lightningd ${CLN_VERSION} (lightning-cli beside it, the tarball's libexec layout), ` +
  `or put ${TARBALL} in ${DEFAULT_DIR} (or set CLN_TARBALL to it; fakechain.py beside it or CLN_FAKECHAIN); ` +
  `it needs the Debian packages ${DEBIAN_LIBS}`;

/** Unpacks the tarball once into a cache directory; safe when processes race (unpack aside, then rename). */
async function unpack(tarball: string): Promise<string> {
  const cache = path.join(tmpdir(), `lnpeer-cln-${CLN_VERSION}`);
  const lightningd = path.join(cache, 'usr/local/bin/lightningd');
  if (existsSync(lightningd)) return lightningd;
  const aside = await mkdtemp(`${cache}.unpacking-`);
  try {
    await execFileP('tar', ['-C', aside, '-xJf', tarball]);
    await rename(aside, cache);
  } catch (e) {
    await rm(aside, { recursive: true, force: true });
    // another process won the race: its copy is as good as ours
    if (!existsSync(lightningd)) throw e;
  }
  return lightningd;
}

async function locate(): Promise<Install> {
  let lightningd = process.env.LIGHTNINGD;
  const tarball = process.env.CLN_TARBALL ?? path.join(DEFAULT_DIR, TARBALL);
  if (!lightningd) {
    if (!existsSync(tarball)) throw new Error(`no LIGHTNINGD and no ${tarball}`);
    lightningd = await unpack(tarball);
  } else if (!existsSync(lightningd)) {
    throw new Error(`LIGHTNINGD=${lightningd} does not exist`);
  }
  const fakechain = process.env.CLN_FAKECHAIN ?? path.join(path.dirname(tarball), 'fakechain.py');
  if (!existsSync(fakechain)) throw new Error(`fakechain plugin ${fakechain} not found (set CLN_FAKECHAIN)`);
  let version: string;
  try {
    version = (await execFileP(lightningd, ['--version'], { timeout: 20_000 })).stdout.trim();
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
    if (/error while loading shared libraries/.test(stderr)) {
      throw new Error(`${lightningd} cannot load its shared libraries (${stderr}): install ${DEBIAN_LIBS}`);
    }
    throw new Error(`${lightningd} --version failed: ${stderr || (e as Error).message}`);
  }
  return { lightningd, fakechain, version };
}

let installed: Promise<Install> | undefined;
function install(): Promise<Install> {
  installed ??= locate();
  return installed;
}

export async function availability(): Promise<Availability> {
  try {
    const { lightningd, version } = await install();
    const writtenFor = version === CLN_VERSION ? '' : ` (the driver was written against ${CLN_VERSION})`;
    return { available: true, detail: `lightningd ${version} at ${lightningd}${writtenFor}`, version, install: INSTALL_HINT };
  } catch (e) {
    return { available: false, detail: (e as Error).message, install: INSTALL_HINT };
  }
}

// ---------------------------------------------------------------------------------------
// JSON-RPC over the node's unix socket.

/** An error answer from lightningd, with its `code`, `message` and `data`. */
export class ClnRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${NAME} ${method}: ${rpcMessage} (${code})`);
  }
}

/**
 * One connection to `lightning-rpc`: requests go out as JSON objects; answers (with their id,
 * in any order) are cut out of the byte stream by brace counting, since a chunk may hold part
 * of an answer or several.
 */
class RpcClient {
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  private scan = { pos: 0, depth: 0, inString: false, escape: false };
  private endError?: Error;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(this.decoder.write(chunk)));
    socket.on('error', (e) => (this.endError ??= e));
    socket.on('close', () => {
      this.endError ??= new Error(`${NAME}: RPC connection closed`);
      for (const p of this.pending.values()) p.reject(this.endError);
      this.pending.clear();
    });
  }

  static connect(file: string): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(file);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RpcClient(socket));
      });
    });
  }

  call(method: string, params: unknown): Promise<unknown> {
    if (this.endError) return Promise.reject(this.endError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(text: string): void {
    this.text += text;
    const s = this.scan;
    let start = 0;
    for (; s.pos < this.text.length; s.pos++) {
      const c = this.text[s.pos];
      if (s.inString) {
        if (s.escape) s.escape = false;
        else if (c === '\\') s.escape = true;
        else if (c === '"') s.inString = false;
      } else if (c === '"') s.inString = true;
      else if (c === '{') {
        if (s.depth++ === 0) start = s.pos;
      } else if (c === '}' && --s.depth === 0) {
        this.onAnswer(JSON.parse(this.text.slice(start, s.pos + 1)));
        start = s.pos + 1;
      }
    }
    // keep only the unfinished answer (or nothing, between answers)
    const keep = s.depth > 0 ? start : this.text.length;
    this.text = this.text.slice(keep);
    s.pos -= keep;
  }

  private onAnswer(answer: { id: number; result?: unknown; error?: { code: number; message: string; data?: unknown } }): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if (answer.error) p.reject(new ClnRpcError(p.method, answer.error.code, answer.error.message, answer.error.data));
    else p.resolve(answer.result);
  }
}

// ---------------------------------------------------------------------------------------
// Nodes.

export interface ClnStartOptions {
  /** Also accept BOLT 8 over WebSocket (`bind-addr=ws:`) on a free port (`ClnNode.wsPort`). */
  wsPort?: boolean;
  /** Extra lightningd options, e.g. `--dev-…`. */
  args?: string[];
  /** Even custom types the node accepts (its plugin's manifest `custommessages`). */
  customMessages?: number[];
}

/** A connection seen from Core Lightning: custom messages only, through its RPC and hook. */
export interface ClnConnection extends PartnerConnection {
  readonly shows: 'custom';
  /** `ping` RPC with len 8, pongbytes 4: `pongBytes` is the pong's byteslen (`totlen - 4`). */
  pingRoundTrip(): Promise<{ numPongBytes: number; pongBytes: number }>;
  /** Texts of `Received WIRE_WARNING|WIRE_ERROR: …` log lines for this peer on this connection. */
  receivedWarnings(): Promise<string[]>;
  /** The address the `connect` notification reported. */
  readonly address: unknown;
}

type PluginEvent =
  | { event: 'ready'; pid: number }
  | { event: 'connect'; id: string; direction: 'in' | 'out'; address: unknown }
  | { event: 'disconnect'; id: string }
  | { event: 'custommsg'; peer_id: string; payload: string };

/** Text of a `warning`/`error` message (hex), as Core Lightning's sanitize_error prints it. */
function errorText(hex: string): string {
  const m = fromHex(hex);
  const tag = m[1] === 1 ? 'WARNING' : 'ERROR';
  const channel = toHex(m.subarray(2, 34));
  const len = m.length >= 36 ? (m[34] << 8) | m[35] : 0;
  const data = m.subarray(36, 36 + len);
  const printable = data.every((b) => b >= 32 && b <= 127);
  const where = /^0+$/.test(channel) ? '' : ` channel ${channel}`;
  return `${tag}${where}: ${printable ? Buffer.from(data).toString('latin1') : toHex(data)}`;
}

/** One connection to one peer, from its `connect` event to its `disconnect` event. */
class Session {
  readonly queue = new MessageQueue(NAME);
  readonly closed = deferred<{ reason: string }>();
  /** Log offset where this connection starts (its `init` lines), and its `init`. */
  readonly logged: Promise<{ start: number; init?: { sent: Message; received: Message } }>;
  private end?: number;
  closing = false;
  ended = false;

  constructor(
    readonly node: ClnNode,
    readonly peerId: string,
    readonly role: Role,
    readonly address: unknown,
  ) {
    this.logged = node.readLog().then((log) => {
      const io = (dir: string) => {
        const at = log.lastIndexOf(`${peerId}-connectd: [${dir}] 0010`);
        if (at < 0) return undefined;
        const line = log.subarray(at, log.indexOf('\n', at)).toString('latin1');
        return { at: log.lastIndexOf('\n', at) + 1, message: fromHex(line.slice(line.indexOf('] ') + 2)) };
      };
      const sent = io('OUT');
      const received = io('IN');
      if (!sent || !received) return { start: log.length };
      return { start: Math.min(sent.at, received.at), init: { sent: sent.message, received: received.message } };
    });
    this.logged.catch(() => {});
  }

  /** This connection's log lines from this peer's connectd. */
  private async lines(): Promise<string[]> {
    const { start } = await this.logged;
    const log = (await this.node.readLog()).subarray(start, this.end).toString('latin1');
    return log.split('\n').filter((l) => l.includes(` ${this.peerId}-connectd: `));
  }

  async receivedWarnings(): Promise<string[]> {
    return (await this.lines()).flatMap((l) => /: Received WIRE_(?:WARNING|ERROR): (.*)$/.exec(l)?.[1] ?? []);
  }

  /** The `disconnect` event: why, in the driver's words or from the log. */
  async disconnected(): Promise<void> {
    this.ended = true;
    const log = await this.node.readLog().catch(() => undefined);
    this.end = log?.length;
    this.finish(this.closing ? 'closed by driver' : log ? await this.reason() : 'closed by remote');
  }

  /** Ends the connection with `reason` (the disconnect event, or the node's end). */
  finish(reason: string): void {
    this.ended = true;
    const error = new PartnerClosedError(NAME, reason);
    this.queue.end(error);
    this.closed.resolve({ reason });
  }

  /** The last warning or error either way on this connection decides; else the remote closed. */
  private async reason(): Promise<string> {
    for (const line of (await this.lines()).reverse()) {
      const sent = /: \[OUT\] (00(?:01|11)[0-9a-f]*)$/.exec(line);
      if (sent) return `CLN hung up after sending ${errorText(sent[1])}`;
      const received = /: Received WIRE_(WARNING|ERROR): (.*)$/.exec(line);
      if (received?.[1] === 'ERROR') return `CLN hung up after receiving ${received[2]}`;
      if (received) return `closed by remote after its ${received[2]}`;
    }
    return 'closed by remote';
  }

  async connection(): Promise<ClnConnection> {
    const { init } = await this.logged;
    const node = this.node;
    const peerId = this.peerId;
    return {
      name: NAME,
      role: this.role,
      localNodeId: node.nodeId,
      remoteNodeId: peerId,
      init,
      shows: 'custom',
      address: this.address,
      send: async (message) => {
        // lightningd trusts this hex: an empty or oversized message takes the whole node down
        if (!(message instanceof Uint8Array) || message.length < 2 || message.length > 65535) {
          throw new Error(`${NAME}: a message is 2 to 65,535 bytes, got ${message?.length}`);
        }
        if (this.ended) throw new PartnerClosedError(NAME, (await this.closed.promise).reason);
        await node.rpc('sendcustommsg', { node_id: peerId, msg: toHex(message) });
      },
      nextMessage: (ms) => this.queue.next(ms),
      pingRoundTrip: async () => {
        const { totlen } = await withTimeout(
          node.rpc<{ totlen: number }>('ping', { id: peerId, len: 8, pongbytes: 4 }),
          DEFAULT_TIMEOUT_MS,
          `${NAME} ping`,
        );
        return { numPongBytes: 4, pongBytes: totlen - 4 };
      },
      receivedWarnings: () => this.receivedWarnings(),
      close: async () => {
        if (!this.ended) {
          this.closing = true;
          await node.rpc('disconnect', { id: peerId, force: true }).catch((e: unknown) => {
            if (!this.ended) throw e;
          });
        }
        await withTimeout(this.closed.promise, DEFAULT_TIMEOUT_MS, `${NAME} disconnect event`);
      },
      closed: this.closed.promise,
    };
  }
}

/** Every node's lightningd (and directory), killed (removed) if the test process exits without stopping them. */
const children = new Map<ChildProcess, string>();
process.once('exit', () =>
  children.forEach((dir, child) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }),
);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A running Core Lightning node (see `cln.start`). */
export class ClnNode implements Partner, Driver<ClnConnection> {
  readonly name = NAME;
  readonly host = '127.0.0.1';
  nodeId = '';
  port = 0;
  wsPort?: number;
  readonly logFile: string;
  readonly rpcFile: string;
  private readonly events: net.Server;
  private readonly pluginSockets = new Set<net.Socket>();
  private readonly eventsFile: string;
  private child?: ChildProcess;
  private exited = deferred<void>();
  private ready = deferred<void>();
  private client?: RpcClient;
  private readonly sessions = new Map<string, Session>();
  /** Custom messages from a peer whose `connect` notification has not come yet (the hook can be first). */
  private readonly early = new Map<string, Uint8Array[]>();
  private readonly outbound = new Map<string, (s: Session) => void>();
  private readonly inbound: ((s: Session) => void)[] = [];
  /** Stops the node and removes its directory (also run by `closeAllPartners`). */
  readonly stop: () => Promise<void>;

  constructor(
    private readonly install: Install,
    readonly dir: string,
    private readonly options: ClnStartOptions,
  ) {
    this.logFile = path.join(dir, 'log');
    this.rpcFile = path.join(dir, 'regtest', 'lightning-rpc');
    this.eventsFile = path.join(dir, 'events.sock');
    this.events = net.createServer((socket) => {
      this.pluginSockets.add(socket.on('close', () => this.pluginSockets.delete(socket)));
      socket.on('error', () => {});
      createInterface({ input: socket }).on('line', (line) => this.onEvent(JSON.parse(line) as PluginEvent));
    });
    this.stop = track(`${NAME} node in ${dir}`, async () => {
      await this.halt();
      this.pluginSockets.forEach((s) => s.destroy()); // a plugin that outlives lightningd must not hold us
      await new Promise((resolve) => this.events.close(resolve));
      await rm(dir, { recursive: true, force: true });
    });
  }

  /** The whole log file (it is only appended to, so offsets stay valid across restarts). */
  readLog(): Promise<Buffer> {
    return readFile(this.logFile);
  }

  /** The log, as text. */
  async log(): Promise<string> {
    return (await this.readLog()).toString('utf8');
  }

  /** Log lines that match `pattern`. */
  async grepLog(pattern: RegExp): Promise<string[]> {
    return (await this.log()).split('\n').filter((l) => pattern.test(l));
  }

  /**
   * The first log line that matches `pattern`, once there is one (checked every 10 ms): for
   * what the log shows later than the peer sees it (connectd logs through lightningd).
   */
  async waitForLog(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [line] = await this.grepLog(pattern);
      if (line !== undefined) return line;
      if (Date.now() > deadline) throw new Error(`${NAME}: no log line matches ${pattern} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A JSON-RPC call; rejects with a `ClnRpcError` (CLN's code, message, data) on an error answer. */
  rpc<T = Record<string, unknown>>(method: string, params: Record<string, unknown> | unknown[] = {}): Promise<T> {
    if (!this.client) return Promise.reject(new Error(`${NAME}: node is not running`));
    return this.client.call(method, params) as Promise<T>;
  }

  private onEvent(e: PluginEvent): void {
    switch (e.event) {
      case 'ready':
        this.ready.resolve();
        break;
      case 'connect': {
        this.sessions.get(e.id)?.finish('replaced by a new connection');
        const session = new Session(this, e.id, e.direction === 'out' ? 'initiator' : 'responder', e.address);
        this.sessions.set(e.id, session);
        for (const message of this.early.get(e.id) ?? []) session.queue.push(message);
        this.early.delete(e.id);
        if (e.direction === 'out') this.outbound.get(e.id)?.(session);
        else this.inbound.shift()?.(session);
        break;
      }
      case 'custommsg': {
        const message = fromHex(e.payload);
        if (PEER_STORAGE_TYPES.has((message[0] << 8) | message[1])) break;
        const session = this.sessions.get(e.peer_id);
        // The hook and the `connect` notification travel apart: a message may come first.
        if (session) session.queue.push(message);
        else this.early.set(e.peer_id, [...(this.early.get(e.peer_id) ?? []), message]);
        break;
      }
      case 'disconnect': {
        const session = this.sessions.get(e.id);
        this.sessions.delete(e.id);
        this.early.delete(e.id);
        void session?.disconnected();
        break;
      }
    }
  }

  /** Core Lightning connects (`connect` RPC); resolves once `init` was exchanged. */
  async connect({ nodeId, host, port, timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions): Promise<ClnConnection> {
    const session = deferred<Session>();
    this.outbound.set(nodeId, session.resolve);
    try {
      await withTimeout(this.rpc('connect', { id: `${nodeId}@${host}:${port}` }), timeoutMs, `${NAME} connect`).catch((e: unknown) => {
        throw e instanceof ClnRpcError ? new PartnerClosedError(NAME, e.rpcMessage) : e;
      });
      const existing = this.sessions.get(nodeId);
      if (existing && existing.role === 'responder') return await existing.connection(); // already connected
      return await (await withTimeout(session.promise, timeoutMs, `${NAME} connect event`)).connection();
    } finally {
      this.outbound.delete(nodeId);
    }
  }

  /** The node's own TCP listener; `accepted` is the next inbound peer that completes `init`. */
  async listen(_options?: ListenOptions): Promise<PartnerListener & { accepted: Promise<ClnConnection> }> {
    const accepted = deferred<ClnConnection>();
    const take = (s: Session) => s.connection().then(accepted.resolve, accepted.reject);
    this.inbound.push(take);
    let connection: ClnConnection | undefined;
    accepted.promise.then((c) => (connection = c), () => {});
    return {
      nodeId: this.nodeId,
      host: this.host,
      port: this.port,
      accepted: accepted.promise,
      close: async () => {
        const i = this.inbound.indexOf(take);
        if (i >= 0) this.inbound.splice(i, 1);
        accepted.reject(new PartnerClosedError(NAME, 'listener closed'));
        await connection?.close();
      },
    };
  }

  /** Starts lightningd on this node's directory and ports; resolves once `getinfo` answers and the plugin is up. */
  async launch(): Promise<void> {
    const { lightningd, fakechain } = this.install;
    const plugin = path.join(this.dir, 'lnpeertest.py');
    await copyFile(PLUGIN, plugin);
    await chmod(plugin, 0o755); // lightningd executes plugins: they must be executable
    const args = [
      '--network=regtest',
      `--lightning-dir=${this.dir}`,
      `--bind-addr=127.0.0.1:${this.port}`,
      ...(this.wsPort ? [`--bind-addr=ws:127.0.0.1:${this.wsPort}`] : []),
      '--disable-plugin=bcli',
      `--plugin=${fakechain}`,
      `--plugin=${plugin}`,
      `--lnpeertest-events=${this.eventsFile}`,
      '--disable-dns',
      '--autoconnect-seeker-peers=0',
      '--developer',
      '--log-level=debug',
      '--log-level=io:connectd', // the bytes of `init` and of warnings sent
      `--log-file=${this.logFile}`,
      ...(this.options.args ?? []),
    ];
    const env = { ...process.env, LNPEERTEST_CUSTOMMESSAGES: (this.options.customMessages ?? []).join(',') };
    this.exited = deferred<void>();
    this.ready = deferred<void>();
    const logFrom = (await this.readLog().catch(() => Buffer.alloc(0))).length; // restarts append
    const child = spawn(lightningd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    children.set(child, this.dir);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
    child.on('error', (e) => (stderr += e.message));
    child.on('exit', (code, signal) => {
      children.delete(child);
      this.client?.close();
      this.client = undefined;
      for (const s of this.sessions.values()) s.finish(`lightningd exited (code ${code}, signal ${signal})`);
      this.sessions.clear();
      this.exited.reject(new Error(`lightningd exited (code ${code}, signal ${signal}) ${stderr.trim()}`));
    });

    // Ready: `getinfo` answers (the RPC socket comes up first), the TCP listener is on (it
    // only listens once "Server started" is logged: a `connect` before is refused), and
    // the plugin has reported in. Polled every 10 ms until a deadline.
    const deadline = Date.now() + START_TIMEOUT_MS;
    let dead: Error | undefined;
    this.exited.promise.catch((e: Error) => (dead = e));
    for (;;) {
      if (dead) throw new Error(`${dead.message}; log: ${(await this.grepLog(/\*\*BROKEN\*\*/).catch(() => [])).join(' | ')}`);
      try {
        if (!this.client) {
          this.client = await RpcClient.connect(this.rpcFile);
          this.nodeId = (await this.rpc<{ id: string }>('getinfo')).id;
        }
        const log = await this.readLog();
        if (log.indexOf('lightningd: Server started with public key', logFrom) >= 0) break;
        throw new Error('"Server started" is not logged yet');
      } catch (e) {
        if (!this.client || (e as Error).message.includes('RPC connection closed')) {
          this.client?.close();
          this.client = undefined;
        }
        if (Date.now() > deadline) {
          await this.halt();
          throw new Error(`${NAME}: not ready within ${START_TIMEOUT_MS} ms: ${(e as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await withTimeout(Promise.race([this.ready.promise, this.exited.promise]), Math.max(deadline - Date.now(), 1), `${NAME} plugin ready`);
  }

  /** `stop` RPC, then the process's exit (SIGKILL after a deadline). Keeps the directory. */
  private async halt(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    // its connections end here (a `disconnect` notification may or may not come on `stop`)
    for (const s of this.sessions.values()) s.finish('node stopped by driver');
    this.sessions.clear();
    const exited = this.exited.promise.catch(() => {});
    await withTimeout(this.rpc('stop'), 3000, `${NAME} stop`).catch(() => child.kill('SIGTERM'));
    await withTimeout(exited, STOP_TIMEOUT_MS, `${NAME} exit`).catch(() => {
      child.kill('SIGKILL');
      return exited;
    });
  }

  /** Stops and starts again with the same directory, ports and node id. */
  async restart(): Promise<void> {
    await this.halt();
    await this.launch();
  }

  /** First start: the events socket, then ports picked here (again if lightningd cannot bind them). */
  async boot(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.events.once('error', reject);
      this.events.listen(this.eventsFile, resolve);
    });
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      if (this.options.wsPort) this.wsPort = await freePort();
      try {
        return await this.launch();
      } catch (e) {
        const taken = (await this.grepLog(/Address already in use/).catch(() => [])).length > 0;
        if (!taken || attempt === 3) throw e;
        await rm(this.logFile, { force: true }); // a fresh log for the next attempt
      }
    }
  }
}

export const cln = {
  name: NAME,
  /** Starts a node in a fresh directory; `closeAllPartners()` stops it. */
  async start(options: ClnStartOptions = {}): Promise<ClnNode> {
    const found = await install();
    const dir = await mkdtemp(path.join(tmpdir(), 'lnpeer-cln-node-'));
    const node = new ClnNode(found, dir, options);
    try {
      await node.boot();
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  },
};
