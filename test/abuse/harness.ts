// The abuse harness: a victim PeerManager in a child process, an attacker in another, and a
// legitimate client here in the harness's process, connecting from another loopback address.
// Each scenario returns its figures and which targets held; test/abuse.test.ts runs the short
// sizes under `npm test`, test/abuse/run.ts the long ones (`npm run abuse`).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ACT_TIMEOUT_MS, PeerManager, type PeerManagerOptions } from '../../src/index.js';
import { DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST, DEFAULT_MAX_CONCURRENT_HANDSHAKES } from '../../src/options.js';
import { withTimeout } from '../wait.js';
import { LEGIT_HOST, LEGIT_REPLY_TYPE, LEGIT_REQUEST_TYPE, type AttackCommand, type AttackStatus, type Command, type VictimReport } from './protocol.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Targets of every flood. */
export const TARGETS = { loopDelayMaxMs: 100, memoryGrowthMB: 64 } as const;

export type Size = 'short' | 'long';

/** A child process spoken to over IPC: request/answer by id; an exit fails what is pending. */
class Child {
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; what: string }>();
  #stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  readonly ready: Promise<unknown>;

  constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stderr!.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    proc.stdout!.resume();
    this.ready = new Promise((resolve, reject) => {
      proc.on('message', (message: { id?: number; ready?: unknown; result?: unknown; error?: string }) => {
        if (message.ready !== undefined) return resolve(message.ready);
        const pending = this.#pending.get(message.id!);
        if (!pending) return;
        this.#pending.delete(message.id!);
        if (message.error !== undefined) pending.reject(new Error(`${this.name}: ${pending.what} failed: ${message.error}`));
        else pending.resolve(message.result);
      });
      proc.once('exit', () => reject(new Error(`${this.name} exited before it was ready: ${this.#stderr}`)));
    });
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const p of this.#pending.values()) p.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) during ${p.what}: ${this.#stderr}`));
        this.#pending.clear();
        resolve();
      }),
    );
  }

  static start(name: string, file: string, { env = {}, execArgv = [] }: { env?: Record<string, string>; execArgv?: string[] } = {}): Child {
    const proc = spawn(process.execPath, [...execArgv, '--conditions=lnpeer-source', '--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new Child(name, proc);
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get stderr(): string {
    return this.#stderr;
  }

  request<T>(command: Command | AttackCommand, timeoutMs = 60_000): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`${this.name} is not running (exit ${JSON.stringify(this.exit)}): ${this.#stderr}`));
    const id = this.#nextId++;
    const what = `${command.cmd}`;
    const answer = new Promise<T>((resolve, reject) => this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, what }));
    this.proc.send({ id, command });
    return withTimeout(answer, timeoutMs, `${this.name}'s answer to ${what}`);
  }

  async stop(command: Command | AttackCommand): Promise<void> {
    if (this.alive) {
      await this.request(command, 10_000).catch(() => {});
      await withTimeout(this.exited, 5_000, `${this.name} exits`).catch(() => this.proc.kill('SIGKILL'));
    }
  }
}

/** The victim: a PeerManager in a child process. */
export interface Victim {
  child: Child;
  port: number;
  nodeId: string;
  report(extra?: { watch?: string[]; peerIds?: string[]; gc?: boolean }): Promise<VictimReport>;
}

/** The crypto backends the last victim reported (cryptoInUse()). */
export let lastCrypto = 'unknown';

export async function startVictim(options: PeerManagerOptions = {}, env: Record<string, string> = {}): Promise<Victim> {
  // The install without native addons: @noble/secp256k1 does every ECDH (LNPEER_SECP256K1=noble)
  // and node:crypto the AEAD. ABUSE_CURVE / ABUSE_AEAD pick others (wasm, native, sodium).
  // ABUSE_VICTIM_PROF=dir writes a V8 CPU profile of each victim there.
  const profile = process.env.ABUSE_VICTIM_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ABUSE_VICTIM_PROF}`] : [];
  const crypto = { LNPEER_SECP256K1: process.env.ABUSE_CURVE ?? 'noble', LNPEER_AEAD: process.env.ABUSE_AEAD ?? 'node' };
  const child = Child.start('victim', './victim.ts', { env: { ...crypto, ABUSE_VICTIM_OPTIONS: JSON.stringify(options), ...env }, execArgv: ['--expose-gc', ...profile] });
  const { port, nodeId, crypto: inUse } = (await withTimeout(child.ready, 30_000, 'the victim starts')) as { port: number; nodeId: string; crypto?: string };
  lastCrypto = inUse ?? 'unknown';
  return { child, port, nodeId, report: (extra = {}) => child.request<VictimReport>({ cmd: 'report', ...extra }) };
}

export async function startAttacker(): Promise<Child> {
  const child = Child.start('attacker', './attacker.ts');
  await withTimeout(child.ready, 30_000, 'the attacker starts');
  return child;
}

/** What the legitimate client achieved. */
export interface LegitResult {
  ok: boolean;
  /** The TCP connect alone. */
  tcpMs?: number;
  /** From the start to `init` exchanged (TCP, handshake, init). */
  connectMs?: number;
  /** One custom message to the victim and its echo back. */
  rttMs?: number;
  error?: string;
}

/**
 * A legitimate peer: connects from 127.0.0.2 (the victim limits connections per source host),
 * completes the handshake and init with its own default timeouts, sends a custom message and
 * waits for the victim's echo.
 */
export async function legitExchange(port: number, victimId: string, timeoutMs = 15_000): Promise<LegitResult> {
  const client = new PeerManager();
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  try {
    const socket = connect({ host: '127.0.0.1', port, localAddress: LEGIT_HOST });
    socket.on('error', () => {});
    await withTimeout(once(socket, 'connect'), timeoutMs, 'the legitimate client TCP connect');
    const tcpMs = since();
    await client.connectStream(socket, victimId, { timeoutMs });
    const connectMs = since();
    const nonce = crypto.getRandomValues(new Uint8Array(8));
    const echoed = new Promise<void>((resolve) =>
      client.on('custommsg', ({ type, payload }) => {
        if (type === LEGIT_REPLY_TYPE && Buffer.compare(payload, nonce) === 0) resolve();
      }),
    );
    const sentAt = performance.now();
    await client.sendCustomMsg(victimId, Uint8Array.from([LEGIT_REQUEST_TYPE >> 8, LEGIT_REQUEST_TYPE & 0xff, ...nonce]), { timeoutMs });
    await withTimeout(echoed, timeoutMs, "the victim's echo");
    return { ok: true, tcpMs, connectMs, rttMs: Math.round(performance.now() - sentAt) };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, error: `after ${since()} ms: ${e.code ?? 'Error'}: ${e.message ?? String(err)}` };
  } finally {
    await client.close();
  }
}

/** How the victim treated the attacker. */
export type Fate = 'dropped' | 'paused' | 'flow-controlled' | 'absorbed' | 'refused' | 'ignored' | 'still served';

/** One scenario's figures and the targets that held. */
export interface ScenarioResult {
  scenario: string;
  size: Size;
  /** The attack, as run: counts and sizes. */
  attack: string;
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  /** Peak RSS during the attack minus RSS at the start (after gc). */
  memoryGrowthMB: number;
  heapGrowthMB: number;
  fate: Fate;
  fateDetail: string;
  legit: LegitResult;
  /** The victim's own connect() during the attack (the lock-out scenario). */
  outbound?: { ok: boolean; ms: number; error?: string };
  victimAlive: boolean;
  held: { loop: boolean; memory: boolean; attacker: boolean; legit: boolean; alive: boolean; outbound?: boolean };
  /** Everything else worth reading: the victim's counters, the attacker's view. */
  notes: string[];
  victim: VictimReport;
  attacker: AttackStatus;
}

export function allHeld(result: ScenarioResult): boolean {
  return Object.values(result.held).every((v) => v !== false);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `count` loopback source addresses 127.0.1.1, 127.0.1.2, … (never the legitimate client's 127.0.0.2). */
export function sources(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
}

export async function attackerStatus(attacker: Child): Promise<AttackStatus> {
  return attacker.request<AttackStatus>({ cmd: 'status' });
}

export async function waitFor(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}

/**
 * Waits until the victim holds none of the attacker's sockets: at least the act timeout after
 * the flood, every socket it accepted closed, and no new accept for 3 s (the kernel's accept
 * queue, backlog 511, overflows under a flood: sockets the attacker sees connected reach the
 * victim seconds later, through SYN-ACK retransmits, or never). At most `ms`.
 */
export async function victimDrained(victim: Victim, ms: number): Promise<VictimReport> {
  const start = Date.now();
  let last = await victim.report();
  let stableSince = Date.now();
  while (Date.now() - start < ms) {
    await sleep(250);
    const now = await victim.report();
    if (now.sockets.accepted !== last.sockets.accepted) stableSince = Date.now();
    last = now;
    if (Date.now() - start >= ACT_TIMEOUT_MS + 1000 && now.sockets.open === 0 && Date.now() - stableSince >= 3000) break;
  }
  return last;
}

/**
 * Sockets the victim kept 6 s or more after it accepted them (an idle socket goes at the 5-s
 * act timeout). A figure, not a target: a starved victim process fires its timers late too.
 */
export function lateAccepts(report: VictimReport): number {
  return report.sockets.lifetimes['6-16 s'] + report.sockets.lifetimes['>= 16 s'];
}

/** Runs `body` with a fresh victim and attacker, and always stops both. */
export async function world<T extends { notes: string[] }>(options: PeerManagerOptions, body: (victim: Victim, attacker: Child) => Promise<T>): Promise<T> {
  const victim = await startVictim(options);
  const attacker = await startAttacker();
  try {
    await victim.child.request({ cmd: 'baseline' });
    const result = await body(victim, attacker);
    // What the victim still holds once the attack is over and garbage is collected.
    const after = await victim.report({ gc: true });
    result.notes.push(`after the attack and a gc: heap ${after.heapUsedMB} MB (baseline ${after.baseHeapUsedMB} MB), RSS ${after.rssMB} MB (baseline ${after.baseRssMB} MB), ${after.peers} peers, ${after.sockets.open} sockets open`);
    return result;
  } finally {
    await attacker.stop({ cmd: 'stop' });
    await victim.child.stop({ cmd: 'close' });
  }
}

export function finish(
  base: Pick<ScenarioResult, 'scenario' | 'size' | 'attack' | 'fate' | 'fateDetail' | 'legit' | 'notes' | 'outbound'> & { attackerHeld: boolean },
  report: VictimReport,
  victim: Victim,
  attacker: AttackStatus,
): ScenarioResult {
  const memoryGrowthMB = Math.round((report.peakRssMB - report.baseRssMB) * 10) / 10;
  const heapGrowthMB = Math.round((report.peakHeapUsedMB - report.baseHeapUsedMB) * 10) / 10;
  const { attackerHeld, ...rest } = base;
  return {
    ...rest,
    loopDelayMaxMs: report.loopDelayMaxMs,
    loopDelayP99Ms: report.loopDelayP99Ms,
    memoryGrowthMB,
    heapGrowthMB,
    victimAlive: victim.child.alive,
    held: {
      loop: report.loopDelayMaxMs < TARGETS.loopDelayMaxMs,
      memory: memoryGrowthMB < TARGETS.memoryGrowthMB,
      attacker: attackerHeld,
      legit: base.legit.ok,
      alive: victim.child.alive,
      ...(base.outbound ? { outbound: base.outbound.ok } : {}),
    },
    victim: report,
    attacker,
  };
}

export function counts(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/** Half-open flood: sockets that send nothing; then a legitimate client; every idle socket must be dropped. */
export async function halfOpenFlood(size: Size): Promise<ScenarioResult> {
  const count = size === 'short' ? 300 : 2000;
  // 40 sockets per source: under the per-host bucket (50), so that every socket is admitted and
  // maxConcurrentHandshakes (512), not the rate limit, is what the flood meets.
  const from = sources(Math.ceil(count / 40));
  return world({}, async (victim, attacker) => {
    const opened = await attacker.request<AttackStatus>({ cmd: 'halfOpen', port: victim.port, count, sources: from }, 120_000);
    const legit = await legitExchange(victim.port, victim.nodeId);
    // Every idle socket is gone once the act timeout passed (evicted ones earlier). The kernel's
    // accept queue (backlog 511) overflows under the flood: a socket the attacker sees connected
    // may be accepted by the victim seconds later (SYN-ACK retransmits), so the wait is longer.
    const report = await victimDrained(victim, ACT_TIMEOUT_MS + 20_000);
    const status = await attackerStatus(attacker);
    const evicted = report.failed['TOO_MANY_PEERS'] ?? 0;
    const timedOut = report.failed['TIMEOUT'] ?? 0;
    const late = lateAccepts(report);
    // Dropped: the victim holds none of them any more, and said why for each (connection:failed).
    const held = report.sockets.open;
    // Minus the legitimate client's connection.
    const reached = report.sockets.accepted - 1;
    return finish(
      {
        scenario: 'half-open flood',
        size,
        attack: `${count} idle TCP sockets from ${from.length} loopback sources (${opened.connected} connected in ${opened.elapsedMs} ms)`,
        fate: held === 0 ? 'dropped' : 'still served',
        fateDetail: `the victim accepted ${reached} of the ${status.connected} sockets${reached < status.connected ? " (the others never left its kernel's full accept queue)" : ''} and ${held === 0 ? 'dropped every one' : `still holds ${held}`}: ${evicted} evicted for room (TOO_MANY_PEERS), ${timedOut} at the act-one timeout (TIMEOUT), ${report.failed['RATE_LIMITED'] ?? 0} rate-limited; ${late} of them 6 s or more after their accept (the act timeout is 5 s)`,
        legit,
        attackerHeld: held === 0,
        notes: [
          `victim sockets: peak ${report.sockets.peakOpen} open at once (maxConcurrentHandshakes ${DEFAULT_MAX_CONCURRENT_HANDSHAKES}); lifetimes at the victim: ${counts(report.sockets.lifetimes)}`,
          `attacker saw its sockets closed after: ${counts(status.lifetimes)}; connect errors: ${counts(status.connectErrors)}`,
          `victim connection:failed: ${counts(report.failed)}`,
        ],
      },
      report,
      victim,
      status,
    );
  });
}

/** Idle inbound sockets with maxPeers 50: the victim's own connect() to another node must still succeed. */
export async function idleLockout(size: Size): Promise<ScenarioResult> {
  const count = size === 'short' ? 200 : 1000;
  const from = sources(Math.ceil(count / 40));
  return world({ maxPeers: 50 }, async (victim, attacker) => {
    const opened = await attacker.request<AttackStatus>({ cmd: 'halfOpen', port: victim.port, count, sources: from }, 120_000);
    const other = new PeerManager();
    try {
      const { port } = await other.listen({ port: 0, host: '127.0.0.1' });
      const during = await victim.report();
      const outbound = await victim.child.request<{ ok: boolean; ms: number; error?: string }>({ cmd: 'connect', address: `${other.nodeId}@127.0.0.1:${port}`, timeoutMs: 15_000 });
      const legit = await legitExchange(victim.port, victim.nodeId);
      const report = await victimDrained(victim, ACT_TIMEOUT_MS + 20_000);
      const status = await attackerStatus(attacker);
      const stillOpen = report.sockets.open;
      return finish(
        {
          scenario: 'idle sockets vs outbound',
          size,
          attack: `${count} idle TCP sockets from ${from.length} sources (${opened.connected} connected), victim maxPeers 50`,
          fate: stillOpen === 0 ? 'dropped' : 'still served',
          fateDetail: `${during.sockets.open} idle sockets open at the victim when it dialed out; the victim accepted ${report.sockets.accepted - 1} of the ${status.connected} and ${stillOpen === 0 ? 'dropped every one' : `still holds ${stillOpen}`} (${counts(report.failed)}; lifetimes at the victim: ${counts(report.sockets.lifetimes)})`,
          legit,
          outbound,
          attackerHeld: stillOpen === 0,
          notes: [`victim connect() to another node: ${outbound.ok ? `succeeded in ${outbound.ms} ms` : `FAILED: ${outbound.error}`}`],
        },
        report,
        victim,
        status,
      );
    } finally {
      await other.close();
    }
  });
}

/**
 * Ping flood: handshake and init, then the attacker stops reading and sends `count` pings
 * asking `pongBytes` each. The victim must stop reading it (or drop it) rather than queue pongs.
 */
export async function pingFlood(size: Size, pongBytes: number): Promise<ScenarioResult> {
  const count = pongBytes > 0 ? (size === 'short' ? 20_000 : 200_000) : size === 'short' ? 40_000 : 400_000;
  return world({}, async (victim, attacker) => {
    const started = await attacker.request<AttackStatus>({ cmd: 'pingFlood', port: victim.port, victimId: victim.nodeId, count, pongBytes, source: '127.0.0.1' });
    const legit = await legitExchange(victim.port, victim.nodeId);
    await waitFor(async () => (await attackerStatus(attacker)).done === true, size === 'short' ? 30_000 : 120_000);
    // Has the victim stopped reading? Look at its socket every half second until what it read
    // stays the same for a second (it stopped, or it read everything), for at most 30 s.
    const watch = { watch: [started.key!], peerIds: [started.peerId!] };
    let samples: VictimReport[] = [await victim.report(watch)];
    const readOf = (r: VictimReport) => r.watched[started.key!]?.bytesRead ?? -1;
    const lookUntil = Date.now() + 30_000;
    while (Date.now() < lookUntil) {
      await sleep(500);
      samples = [...samples.slice(-2), await victim.report(watch)];
      if (samples.length === 3 && readOf(samples[0]) === readOf(samples[2])) break;
    }
    const second = samples[samples.length - 1];
    const status = await attackerStatus(attacker);
    const socket = second.watched[started.key!];
    const fateOf = second.peerFates[started.peerId!];
    // Everything the attacker wrote, handshake included; the victim's bytesRead counts the same bytes.
    const written = status.bytesWritten!;
    let fate: Fate;
    let detail: string;
    if (!socket?.open || fateOf) {
      fate = 'dropped';
      detail = `the victim closed the connection: ${fateOf ? `${fateOf.code}: ${fateOf.reason}` : 'socket closed'}`;
    } else if (readOf(samples[0]) !== readOf(second)) {
      fate = 'still served';
      detail = `the victim was still reading 30 s after the flood: ${readOf(samples[0])} then ${socket.bytesRead} of ${written} bytes`;
    } else if (socket.bytesRead < written) {
      fate = 'paused';
      detail = `the victim stopped reading: it read ${socket.bytesRead} of the ${written} bytes the attacker wrote (about ${Math.floor(socket.bytesRead / 40)} of ${status.sent} pings; ${written - socket.bytesRead} bytes wait in the kernels' buffers and in the attacker), and holds ${socket.writableLength} bytes of pongs in its own (socket.isPaused() ${socket.paused})`;
    } else {
      fate = 'absorbed';
      detail = `the victim read all ${status.sent} pings (${socket.bytesRead} bytes) and answered them; the pongs wait in the kernel's buffers (the attacker reads nothing) and ${socket.writableLength} bytes in the victim's process`;
    }
    // MAX_UNFLUSHED_REPLIES (16) replies may wait in the victim's process, one more in flight.
    const bound = 17 * (34 + 4 + pongBytes);
    const attackerHeld = fate === 'dropped' || ((fate === 'paused' || fate === 'absorbed') && (socket?.writableLength ?? 0) <= bound);
    const report = await victim.report({ ...watch, gc: false });
    return finish(
      {
        scenario: pongBytes > 0 ? 'ping flood, large pongs' : 'ping flood, empty pongs',
        size,
        attack: `${count} pings asking ${pongBytes} bytes, attacker not reading (${status.sent} sent in ${status.elapsedMs} ms)`,
        fate,
        fateDetail: detail,
        legit,
        attackerHeld,
        notes: [`victim queue for the attacker: ${socket?.writableLength ?? 0} bytes (bound ${bound}); attacker backlog peak ${status.maxUnsent} bytes`, `victim events: failed ${counts(report.failed)}; disconnects ${counts(report.disconnects)}`],
      },
      report,
      victim,
      status,
    );
  });
}

/** Custom-message flood: a fast sender of small odd messages to a victim whose listener does a little work. */
export async function customFlood(size: Size): Promise<ScenarioResult> {
  // ABUSE_CUSTOM_COUNT overrides the count (to see where memory levels off).
  const count = Number(process.env.ABUSE_CUSTOM_COUNT) || (size === 'short' ? 50_000 : 500_000);
  const bytes = 100;
  return world({}, async (victim, attacker) => {
    const started = await attacker.request<AttackStatus>({ cmd: 'customFlood', port: victim.port, victimId: victim.nodeId, count, size: bytes, source: '127.0.0.1' });
    const floodStart = performance.now();
    const legit = await legitExchange(victim.port, victim.nodeId);
    const watch = { watch: [started.key!], peerIds: [started.peerId!] };
    let report = await victim.report(watch);
    await waitFor(async () => {
      report = await victim.report(watch);
      return report.custommsgs >= count + 1 || report.peerFates[started.peerId!] !== undefined;
    }, size === 'short' ? 60_000 : 300_000);
    const seconds = (performance.now() - floodStart) / 1000;
    const status = await attackerStatus(attacker);
    const fateOf = report.peerFates[started.peerId!];
    const received = report.custommsgs - 1; // the legitimate client's one
    const fate: Fate = fateOf ? 'dropped' : received >= count ? 'flow-controlled' : 'still served';
    return finish(
      {
        scenario: 'custom-message flood',
        size,
        attack: `${count} custom messages of ${bytes} bytes, as fast as the victim takes them`,
        fate,
        fateDetail: fateOf
          ? `the victim closed the connection: ${fateOf.code}: ${fateOf.reason}`
          : `the victim delivered all ${received} messages to its listener at its own pace (about ${Math.round(received / seconds)} per second); the attacker's writes waited on TCP flow control (backlog peak ${status.maxUnsent} bytes)`,
        legit,
        attackerHeld: fate !== 'still served',
        notes: [
          `victim custommsg events ${report.custommsgs}; victim queue for the attacker ${report.watched[started.key!]?.writableLength ?? 0} bytes`,
          `victim socket reads: ${report.sockets.reads}, ${Math.round(report.sockets.readBytes / Math.max(1, report.sockets.reads))} bytes each on average, in buffers of ${Math.round(report.sockets.readBuffers / Math.max(1, report.sockets.reads))} bytes`,
        ],
      },
      report,
      victim,
      status,
    );
  });
}

/**
 * Act-one CPU: one valid act one replayed on new connections from one source as fast as
 * they open, against the pure-JavaScript curve, while a legitimate client connects.
 */
export async function actOneFlood(size: Size): Promise<ScenarioResult> {
  const durationMs = size === 'short' ? 1000 : 5000;
  return world({}, async (victim, attacker) => {
    const attack = attacker.request<AttackStatus>({ cmd: 'actOne', port: victim.port, victimId: victim.nodeId, durationMs, concurrency: 64, sources: ['127.0.0.1'] }, durationMs + 60_000);
    await sleep(durationMs * 0.3);
    const legit = await legitExchange(victim.port, victim.nodeId);
    const status = await attack;
    await sleep(200);
    const report = await victim.report();
    const computed = status.actTwos!;
    // The token bucket: a burst of one second's worth, then the rate, over the time the victim
    // was admitting (the attack and its last connections, accepted up to when the attack ended).
    const allowed = Math.floor(DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST * (1 + status.elapsedMs! / 1000));
    return finish(
      {
        scenario: `act-one CPU (${lastCrypto.split(' ')[0].replace(/;$/, '')})`,
        size,
        attack: `act one replayed for ${durationMs} ms from one source: ${status.attempts} connections (${Math.round(status.attempts! / (status.elapsedMs! / 1000))}/s)`,
        fate: 'refused',
        fateDetail: `the victim computed act two for ${computed} connections (${DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST}/s and a burst of ${DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST} over ${status.elapsedMs} ms: at most ${allowed}) and refused ${report.failed['RATE_LIMITED'] ?? 0} (RATE_LIMITED)`,
        legit,
        attackerHeld: computed <= allowed,
        notes: [`victim connection:failed: ${counts(report.failed)}`, `attacker: ${status.refused} refused, connect errors ${counts(status.connectErrors)}`],
      },
      report,
      victim,
      status,
    );
  });
}

/** Every scenario of the suite, in order. */
export const SCENARIOS: ReadonlyArray<{ name: string; run: (size: Size) => Promise<ScenarioResult> }> = [
  { name: 'half-open', run: halfOpenFlood },
  { name: 'lockout', run: idleLockout },
  { name: 'ping-large', run: (size) => pingFlood(size, 65531) },
  { name: 'ping-empty', run: (size) => pingFlood(size, 0) },
  { name: 'custom', run: customFlood },
  { name: 'act-one', run: actOneFlood },
];

/** One line per scenario, for test output and the long run's table. */
export function summary(r: ScenarioResult): string {
  const mark = (ok: boolean | undefined) => (ok === false ? 'FAILED' : 'held');
  return [
    `${r.scenario} (${r.size}): ${r.attack}`,
    `  loop delay max ${r.loopDelayMaxMs} ms (p99 ${r.loopDelayP99Ms} ms) [${mark(r.held.loop)}]; memory +${r.memoryGrowthMB} MB RSS, +${r.heapGrowthMB} MB heap, +${Math.round((r.victim.peakExternalMB - r.victim.baseExternalMB) * 10) / 10} MB external (peaks) [${mark(r.held.memory)}]`,
    `  attacker ${r.fate} [${mark(r.held.attacker)}]: ${r.fateDetail}`,
    `  legitimate client: ${r.legit.ok ? `connected in ${r.legit.connectMs} ms (TCP ${r.legit.tcpMs} ms), echo in ${r.legit.rttMs} ms` : `FAILED ${r.legit.error}`} [${mark(r.held.legit)}]; victim ${r.victimAlive ? 'alive' : 'DEAD'}`,
    ...r.notes.map((n) => `  ${n}`),
    ...(r.victim.stalls.length > 0 ? [`  victim stalls ≥ 50 ms (at ms after the start: length, CPU used meanwhile): ${r.victim.stalls.map((s) => `${s.atMs}: ${s.ms} (cpu ${s.cpuMs})`).join(', ')}`] : []),
  ].join('\n');
}
