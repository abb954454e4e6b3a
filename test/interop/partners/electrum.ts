/**
 * Electrum 4.3.4 (Debian python3-electrum) through test/interop/electrum_driver.py.
 *
 * Two partners: `electrumRaw` (electrum.lntransport only: the test decides every message,
 * init included) and `electrumPeer` (electrum.lnpeer.Peer, as a wallet runs it: own init,
 * feature checks, pongs, its own reasons to disconnect). Both roles for both.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_TIMEOUT_MS,
  MessageQueue,
  PartnerClosedError,
  deferred,
  fromHex,
  keyBytes,
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

export const PYTHON = '/usr/bin/python3';
const DRIVER = fileURLToPath(new URL('../electrum_driver.py', import.meta.url));
// Not inside the electrum package: its logging.py would shadow the standard module.
const CWD = fileURLToPath(new URL('.', import.meta.url));

type Mode = 'raw' | 'peer';

type DriverEvent =
  | { event: 'listening'; nodeId: string; port: number }
  | { event: 'handshake'; nodeId: string; remoteNodeId: string }
  | { event: 'init_sent' | 'init_received' | 'message'; hex: string }
  | { event: 'initialized' }
  | { event: 'closed'; reason: string }
  | { event: 'done'; id: number }
  | { event: 'error'; id: number | null; message: string };

/** An Electrum Peer connection can also make Electrum send its own ping. */
export interface ElectrumPeerConnection extends PartnerConnection {
  /**
   * `Peer.send_message('ping', num_pong_bytes, byteslen)`, as its 30-s keepalive does (4, 4);
   * resolves with that ping once written.
   */
  ping(numPongBytes?: number, byteslen?: number): Promise<Message>;
}

/** One driver process = one connection. */
class ElectrumProcess {
  readonly queue: MessageQueue;
  readonly closed = deferred<{ reason: string }>();
  readonly listening = deferred<{ nodeId: string; port: number }>();
  /** Handshake done (raw) or init exchanged and accepted (peer). */
  readonly ready = deferred<{ nodeId: string; remoteNodeId: string }>();
  readonly init: { sent?: Message; received?: Message } = {};
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  private handshake?: { nodeId: string; remoteNodeId: string };
  private readonly exited = deferred<void>();
  readonly release: () => Promise<void>;

  constructor(
    readonly name: string,
    readonly mode: Mode,
    readonly role: Role,
    key: Uint8Array,
    connect?: string,
  ) {
    const args = [DRIVER, '--mode', mode, '--role', role, '--key', toHex(key)];
    if (connect) args.push('--connect', connect);
    this.queue = new MessageQueue(name);
    this.child = spawn(PYTHON, args, { cwd: CWD, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    this.child.stdin.on('error', () => {}); // EPIPE once the driver has exited
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onEvent(JSON.parse(line) as DriverEvent));
    this.child.on('error', (e) => this.end(`could not start ${PYTHON}: ${e.message}`));
    this.child.on('exit', (code, signal) => {
      this.end(`driver exited (code ${code}, signal ${signal}) without a closed event; stderr: ${this.stderr.trim()}`);
      this.exited.resolve();
    });
    this.release = track(`${name} driver process`, () => this.shutdown());
  }

  private onEvent(e: DriverEvent): void {
    switch (e.event) {
      case 'listening':
        this.listening.resolve(e);
        break;
      case 'handshake':
        this.handshake = e;
        if (this.mode === 'raw') this.ready.resolve(e);
        break;
      case 'init_sent':
        this.init.sent = fromHex(e.hex);
        break;
      case 'init_received':
        this.init.received = fromHex(e.hex);
        break;
      case 'initialized':
        if (this.handshake) this.ready.resolve(this.handshake);
        break;
      case 'message':
        this.queue.push(fromHex(e.hex));
        break;
      case 'closed':
        this.end(e.reason);
        break;
      case 'done':
        this.pending.get(e.id)?.resolve();
        this.pending.delete(e.id);
        break;
      case 'error':
        if (e.id !== null) this.pending.get(e.id)?.reject(new Error(`${this.name}: ${e.message}`));
        this.pending.delete(e.id ?? 0);
        break;
    }
  }

  private end(reason: string): void {
    const error = new PartnerClosedError(this.name, reason, { ...this.init });
    this.queue.end(error);
    for (const op of this.pending.values()) op.reject(error);
    this.pending.clear();
    this.listening.reject(error);
    this.ready.reject(error);
    this.closed.resolve({ reason });
  }

  /** Sends one op; resolves when the driver has carried it out (ops run in order). */
  command(op: Record<string, unknown>): Promise<void> {
    if (this.child.exitCode !== null || !this.child.stdin.writable) {
      return Promise.reject(new PartnerClosedError(this.name, 'driver has exited'));
    }
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.child.stdin.write(`${JSON.stringify({ ...op, id })}\n`);
    return done;
  }

  /** Ask the driver to close; kill it if it does not exit promptly. */
  private async shutdown(): Promise<void> {
    this.command({ op: 'close' }).catch(() => {});
    if (this.child.exitCode === null) {
      await withTimeout(this.exited.promise, 3000, `${this.name} exit`).catch(() => {
        this.child.kill('SIGKILL');
        return this.exited.promise;
      });
    }
  }

  connection(ids: { nodeId: string; remoteNodeId: string }): PartnerConnection {
    const init = this.mode === 'peer' && this.init.sent && this.init.received
      ? { sent: this.init.sent, received: this.init.received }
      : undefined;
    const ping = async (numPongBytes = 4, byteslen = 4): Promise<Message> => {
      await this.command({ op: 'ping', numPongBytes, byteslen });
      const message = new Uint8Array(6 + byteslen);
      message.set([0, 18, numPongBytes >> 8, numPongBytes & 0xff, byteslen >> 8, byteslen & 0xff]);
      return message;
    };
    return {
      name: this.name,
      role: this.role,
      localNodeId: ids.nodeId,
      remoteNodeId: ids.remoteNodeId,
      init,
      send: (message) => this.command({ op: 'send', hex: toHex(message) }),
      nextMessage: (timeoutMs) => this.queue.next(timeoutMs),
      close: this.release,
      closed: this.closed.promise,
      ...(this.mode === 'peer' ? { ping } : {}),
    };
  }
}

export interface ElectrumPartner<C extends PartnerConnection> extends Partner {
  connect(options: ConnectOptions): Promise<C>;
  listen(options: ListenOptions): Promise<PartnerListener & { accepted: Promise<C> }>;
}

function electrum<C extends PartnerConnection>(mode: Mode): ElectrumPartner<C> {
  const name = `electrum-${mode}`;
  return {
    name,
    async connect({ nodeId, host, port, privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }) {
      const proc = new ElectrumProcess(name, mode, 'initiator', keyBytes(privateKey), `${nodeId}@${host}:${port}`);
      try {
        return proc.connection(await withTimeout(proc.ready.promise, timeoutMs, `${name} connect`)) as C;
      } catch (e) {
        await proc.release();
        throw e;
      }
    },
    async listen({ privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }) {
      const proc = new ElectrumProcess(name, mode, 'responder', keyBytes(privateKey));
      const { nodeId, port } = await withTimeout(proc.listening.promise, timeoutMs, `${name} listen`).catch(
        async (e: unknown) => {
          await proc.release();
          throw e;
        },
      );
      const accepted = proc.ready.promise.then((ids) => proc.connection(ids) as C);
      accepted.catch(() => {});
      return { nodeId, host: '127.0.0.1', port, accepted, close: proc.release };
    },
  };
}

export const electrumRaw = electrum<PartnerConnection>('raw');
export const electrumPeer = electrum<ElectrumPeerConnection>('peer');
