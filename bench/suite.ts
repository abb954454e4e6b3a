/**
 * The benchmark orchestrator: forks worker processes (bench/worker.ts), runs each scenario
 * for each implementation in the same way, and turns the figures into a table.
 *
 * Process layout: for every scenario the server (responder, and receiver of client → server
 * traffic) and the client (initiator) run in two separate worker processes; the orchestrator
 * only coordinates over IPC and is idle while a scenario runs. In the full run every
 * implementation gets a fresh pair of processes (and every memory figure a fresh pair too).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from './impls.js';
import type { Command, CryptoCost, HandshakeResult, MemoryResult, ReceiveResult, RttResult, SendResult, Versions } from './protocol.js';

// ---------------------------------------------------------------------------------------------
// Workers

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

export class Worker {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; what: string }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly label: string) {
    child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${label}: ${p.what} failed: ${m.error}`));
      else p.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`${label} exited (${code ?? signal}) during ${p.what}`));
      this.pending.clear();
    });
  }

  /**
   * Forks a worker; `env` is added to this process's environment (e.g. LNPEER_SECP256K1=noble);
   * `root` runs the worker of another checkout of lnpeer (its bench/ and src/).
   */
  static start(label: string, env: Record<string, string> = {}, root?: string): Promise<Worker> {
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of every worker into dir (node --cpu-prof).
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${label.replace(/\W+/g, '-')}`] : [];
    const child = fork(root ? join(root, 'bench', 'worker.ts') : WORKER, [], {
      execArgv: ['--conditions=lnpeer-source', '--import', tsxLoader(), '--expose-gc', ...profile],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new Worker(child, label);
    return new Promise((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (!m.ready) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(worker);
      };
      const onExit = (code: number | null) => reject(new Error(`${label} did not start (exit ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  call<T>(command: Command, timeoutMs = 300_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.label} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${command.cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
        what: command.cmd,
      });
      this.child.send({ id, command });
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    // 'exit' lets a profiled worker write its profile; SIGKILL if it does not go.
    this.child.send({ id: -1, command: { cmd: 'exit' } });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters

export interface Params {
  /**
   * Every rate is the median of `runs` runs; the implementations take turns run by run, so
   * that a change of machine load over time hits them alike.
   */
  runs: number;
  handshakeSeconds: number;
  handshakeWarmup: number;
  parallel: number;
  /** Throughput: a warm-up then a measured window (ms), on a fresh connection per run. */
  small: { size: number; warmMs: number; windowMs: number; chunk: number };
  large: { size: number; warmMs: number; windowMs: number; chunk: number };
  /** Round trips per run (after `warm`), a fresh connection every `perConnection`. */
  rtt: { warm: number; samples: number; perConnection: number; size: number };
  memoryPeers: number[];
  cryptoIterations: number;
}

export const FULL: Params = {
  runs: 3,
  handshakeSeconds: 2,
  handshakeWarmup: 20,
  parallel: 16,
  small: { size: 100, warmMs: 300, windowMs: 1_500, chunk: 1_000 },
  large: { size: 65_000, warmMs: 300, windowMs: 1_500, chunk: 16 },
  rtt: { warm: 200, samples: 2_000, perConnection: 400, size: 100 },
  memoryPeers: [1_000, 10_000],
  cryptoIterations: 200_000,
};

export const QUICK: Params = {
  runs: 1,
  handshakeSeconds: 0.05,
  handshakeWarmup: 1,
  parallel: 16,
  small: { size: 100, warmMs: 10, windowMs: 40, chunk: 500 },
  large: { size: 65_000, warmMs: 10, windowMs: 40, chunk: 8 },
  rtt: { warm: 5, samples: 50, perConnection: 25, size: 100 },
  memoryPeers: [20],
  cryptoIterations: 2_000,
};

// ---------------------------------------------------------------------------------------------
// Columns (implementations) and rows (figures)

export type Metric =
  | 'hsSeq'
  | 'hsPar'
  | 'msgsCS'
  | 'msgsSC'
  | 'mbCS'
  | 'mbSC'
  | 'rttP50'
  | 'rttP99'
  | 'cpuSmallCS'
  | 'cpuSmallSC'
  | 'cpuLargeCS'
  | 'cpuLargeSC'
  | `rss${number}`
  | `heap${number}`;

export interface Column {
  key: string;
  title: string;
  /** Implementation of each side (`bench/impls.ts`). */
  server: string;
  client: string;
  /** Extra environment for both worker processes. */
  env?: Record<string, string>;
  handshakes: boolean;
  messages: boolean;
  /** The client implementation that opens the idle connections of the memory figure. */
  memoryClient?: string;
  /** Another checkout of lnpeer to run (`--baseline`): its bench/worker.ts and src/. */
  root?: string;
}

const NOBLE = { LNPEER_SECP256K1: 'noble' };

export const COLUMNS: Column[] = [
  { key: 'lnpeer', title: 'lnpeer', server: 'lnpeer', client: 'lnpeer', handshakes: true, messages: true, memoryClient: 'lnpeer-peer' },
  { key: 'nl', title: '@node-lightning/noise', server: 'node-lightning', client: 'node-lightning', handshakes: true, messages: true, memoryClient: 'lnpeer-peer' },
  { key: 'noble', title: 'lnpeer, noble only', server: 'lnpeer', client: 'lnpeer', env: NOBLE, handshakes: true, messages: false },
  // lnmessage is initiator only: its server is lnpeer, noble only (the same server as the column before).
  { key: 'lnmessage', title: 'lnmessage → lnpeer (noble)', server: 'lnpeer', client: 'lnmessage', env: NOBLE, handshakes: true, messages: true },
  { key: 'peer', title: 'lnpeer Peer (transport only)', server: 'lnpeer-peer', client: 'lnpeer-peer', handshakes: true, messages: true },
  { key: 'raw', title: 'raw TCP (no crypto)', server: 'raw-tcp', client: 'raw-tcp', handshakes: true, messages: true, memoryClient: 'raw-tcp' },
];

/** lnpeer from another checkout (say, before a change), as two more columns. */
export function baselineColumns(root: string): Column[] {
  return [
    { key: 'before', title: `lnpeer at ${root}`, server: 'lnpeer', client: 'lnpeer', handshakes: true, messages: true, memoryClient: 'lnpeer-peer', root },
    { key: 'before-noble', title: `lnpeer at ${root}, noble only`, server: 'lnpeer', client: 'lnpeer', env: NOBLE, handshakes: true, messages: false, root },
  ];
}

export type Figures = Partial<Record<Metric, number>>;

export interface Results {
  quick: boolean;
  params: Params;
  versions: Versions;
  nobleVersions: Versions;
  crypto: CryptoCost;
  columns: Column[];
  figures: Record<string, Figures>;
  date: string;
  seconds: number;
  /** 1-minute load average before and after the run: other work on the machine skews every figure. */
  load: { before: number; after: number };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type Log = (line: string) => void;

async function pair(label: string, env?: Record<string, string>, root?: string): Promise<Pair> {
  const [server, client] = await Promise.all([Worker.start(`${label} server`, env, root), Worker.start(`${label} client`, env, root)]);
  return { server, client, stop: async () => void (await Promise.all([server.stop(), client.stop()])) };
}

async function oneWay(sender: Worker, receiver: Worker, p: Params['small']): Promise<ReceiveResult> {
  await receiver.call({ cmd: 'receive', warmMs: p.warmMs, windowMs: p.windowMs });
  const sent = sender.call<SendResult>({ cmd: 'send', size: p.size, chunk: p.chunk });
  const received = await receiver.call<ReceiveResult>({ cmd: 'received' });
  await sender.call({ cmd: 'stop' });
  await sent;
  return received;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Running {
  col: Column;
  server: Worker;
  client: Worker;
  target: Target;
  stop: () => Promise<void>;
}

type Pair = { server: Worker; client: Worker; stop: () => Promise<void> };

async function startColumn(col: Column, maxPeers = 1_000, label = '', shared?: Map<string, Promise<Pair>>): Promise<Running> {
  let started: Promise<Pair>;
  if (shared) {
    // Quick mode: one pair of processes per environment, for every column.
    const key = JSON.stringify([col.env ?? {}, col.root ?? '']);
    if (!shared.has(key)) shared.set(key, pair(`shared ${key}`, col.env, col.root));
    const p = await shared.get(key)!;
    started = Promise.resolve({ ...p, stop: async () => {} });
  } else {
    started = pair(`${col.key}${label ? ` ${label}` : ''}`, col.env, col.root);
  }
  const { server, client, stop } = await started;
  const target = await server.call<Target>({ cmd: 'listen', impl: col.server, maxPeers });
  return { col, server, client, target, stop };
}

/** Runs `measure` `runs` times for each column, the columns taking turns; returns the values per column. */
async function interleaved<T>(columns: Running[], runs: number, measure: (r: Running) => Promise<T>): Promise<Map<Running, T[]>> {
  const results = new Map<Running, T[]>(columns.map((r) => [r, []]));
  for (let run = 0; run < runs; run++) for (const r of columns) results.get(r)!.push(await measure(r));
  return results;
}

async function handshakeFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log): Promise<void> {
  const withHandshakes = columns.filter((r) => r.col.handshakes);
  for (const [metric, concurrency] of [['hsSeq', 1], ['hsPar', params.parallel]] as const) {
    const results = await interleaved(withHandshakes, params.runs, (r) =>
      r.client.call<HandshakeResult>({ cmd: 'handshakes', impl: r.col.client, target: r.target, seconds: params.handshakeSeconds, warmup: params.handshakeWarmup, concurrency }),
    );
    for (const [r, runs] of results) {
      const rates = runs.map((h) => h.count / h.seconds);
      figures[r.col.key][metric] = median(rates);
      log(`  ${r.col.key} handshakes ×${concurrency}: ${fmt(median(rates))}/s (runs: ${rates.map((x) => fmt(x)).join(', ')}), client CPU ${fmt(median(runs.map((h) => h.cpuMicros / h.count)))} µs per handshake`);
    }
  }
}

async function throughputFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log, skip: ReadonlySet<string>): Promise<void> {
  const withMessages = columns.filter((r) => r.col.messages);
  for (const size of ['small', 'large'] as const) {
    if (skip.has(size)) continue;
    const p = params[size];
    for (const direction of ['CS', 'SC'] as const) {
      const results = await interleaved(withMessages, params.runs, async ({ col, server, client, target }) => {
        await client.call({ cmd: 'connect', impl: col.client, target, hello: direction === 'SC' });
        if (direction === 'SC') await server.call({ cmd: 'awaitLink' });
        const r = direction === 'CS' ? await oneWay(client, server, p) : await oneWay(server, client, p);
        await client.call({ cmd: 'closeLink' });
        await server.call({ cmd: 'resetLink' });
        return r;
      });
      for (const [{ col }, runs] of results) {
        const f = figures[col.key];
        const rate = median(runs.map((r) => r.messages / r.seconds));
        const cpu = median(runs.map((r) => r.cpuMicros / r.messages));
        if (size === 'small') {
          f[`msgs${direction}`] = rate;
          f[`cpuSmall${direction}`] = cpu;
        } else {
          f[`mb${direction}`] = (rate * p.size) / 1e6;
          f[`cpuLarge${direction}`] = cpu;
        }
        log(`  ${col.key} ${p.size} B ${direction === 'CS' ? 'client → server' : 'server → client'}: ${fmt(rate)} msgs/s, ${fmt((rate * p.size) / 1e6, 1)} MB/s, ${fmt(cpu, 2)} µs receiver CPU/msg (runs: ${runs.map((r) => fmt(r.messages / r.seconds)).join(', ')})`);
      }
    }
  }
}

async function rttFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log): Promise<void> {
  const withMessages = columns.filter((r) => r.col.messages);
  for (const r of withMessages) await r.server.call({ cmd: 'echo', size: params.rtt.size });
  const results = await interleaved(withMessages, params.runs, (r) =>
    r.client.call<RttResult>({ cmd: 'rtt', impl: r.col.client, target: r.target, ...params.rtt }),
  );
  for (const r of withMessages) await r.server.call({ cmd: 'echo', size: 0 });
  for (const [{ col }, runs] of results) {
    const times = runs.flatMap((r) => r.times).sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    figures[col.key].rttP50 = at(0.5);
    figures[col.key].rttP99 = at(0.99);
    log(`  ${col.key} RTT: p50 ${fmt(at(0.5), 1)} µs, p99 ${fmt(at(0.99), 1)} µs (${times.length} round trips)`);
  }
}

async function memoryFigure({ col, server, client, target }: Running, peers: number, f: Figures, log: Log): Promise<void> {
  const before = await server.call<MemoryResult>({ cmd: 'memory', impl: col.server });
  const opened = await client.call<number>({ cmd: 'connectMany', impl: col.memoryClient!, target, count: peers, concurrency: 64 });
  let after = await server.call<MemoryResult>({ cmd: 'memory', impl: col.server });
  for (let i = 0; i < 100 && after.connected < before.connected + peers; i++) {
    await sleep(50);
    after = await server.call<MemoryResult>({ cmd: 'memory', impl: col.server });
  }
  // Every client connection got the server's init: the server holds them all (its own count
  // can also move with connections of earlier scenarios that are still closing).
  if (opened !== peers) throw new Error(`${col.key}: ${opened} of ${peers} peers connected`);
  if (after.connected < before.connected + peers) log(`  ${col.key}: the server counts ${after.connected - before.connected} new peers of ${peers}`);
  await sleep(500); // idle: let every per-connection timer and buffer settle
  after = await server.call<MemoryResult>({ cmd: 'memory', impl: col.server });
  f[`rss${peers}`] = (after.rss - before.rss) / peers;
  f[`heap${peers}`] = (after.heapUsed - before.heapUsed) / peers;
  log(`  ${col.key} memory, ${peers} idle peers: ${fmt(f[`rss${peers}`])} B resident, ${fmt(f[`heap${peers}`])} B heap per peer`);
  await client.call({ cmd: 'closeMany' });
}

export interface RunOptions {
  quick?: boolean;
  /** Column keys to run (default: all). */
  only?: string[];
  /** Scenarios to leave out: handshakes, small, large, rtt, memory. */
  skip?: string[];
  /** Another checkout of lnpeer to measure alongside (columns `before`, `before-noble`). */
  baseline?: string;
  log?: Log;
}

export async function runBenchmarks(options: RunOptions = {}): Promise<Results> {
  const params = options.quick ? QUICK : FULL;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  const columns = [...COLUMNS, ...(options.baseline ? baselineColumns(options.baseline) : [])].filter((c) => !options.only || options.only.includes(c.key));
  const skip = new Set(options.skip);
  const figures: Record<string, Figures> = Object.fromEntries(columns.map((c) => [c.key, {}]));
  const shared = options.quick ? new Map<string, Promise<Pair>>() : undefined;
  const running = await Promise.all(columns.map((col) => startColumn(col, 1_000, '', shared)));
  let versions: Versions;
  let nobleVersions: Versions;
  let crypto: CryptoCost;
  try {
    // Probes in the first worker of each environment (idle at this point).
    const native = running.find((r) => !r.col.env && !r.col.root) ?? running[0];
    const noble = running.find((r) => r.col.env === NOBLE && !r.col.root);
    versions = await native.server.call<Versions>({ cmd: 'versions' });
    nobleVersions = noble ? await noble.server.call<Versions>({ cmd: 'versions' }) : versions;
    crypto = await native.client.call<CryptoCost>({ cmd: 'cryptoCost', size: params.small.size, iterations: params.cryptoIterations });
    log(`lnpeer crypto per ${params.small.size} B message: encrypt ${fmt(crypto.encrypt, 2)} µs, decrypt ${fmt(crypto.decrypt, 2)} µs (${crypto.aead})`);
    if (!skip.has('handshakes')) await handshakeFigures(running, params, figures, log);
    await throughputFigures(running, params, figures, log, skip);
    if (!skip.has('rtt')) await rttFigures(running, params, figures, log);
    // Quick mode only proves that the memory scenario works: on the processes at hand.
    if (options.quick && !skip.has('memory')) {
      for (const r of running) if (r.col.memoryClient) for (const peers of params.memoryPeers) await memoryFigure(r, peers, figures[r.col.key], log);
    }
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    if (shared) await Promise.all([...shared.values()].map(async (p) => (await p).stop()));
  }
  // Memory last, each figure in a fresh pair of processes.
  for (const col of columns) {
    if (options.quick || !col.memoryClient || skip.has('memory')) continue;
    for (const peers of params.memoryPeers) {
      const r = await startColumn(col, peers + 100, 'memory');
      try {
        await memoryFigure(r, peers, figures[col.key], log);
      } finally {
        await r.stop();
      }
    }
  }
  return {
    quick: !!options.quick,
    params,
    versions,
    nobleVersions,
    crypto,
    columns,
    figures,
    date: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    load: { before: loadBefore, after: os.loadavg()[0] },
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

interface Row {
  label: string;
  metric: Metric;
  digits: number;
  /** For the lnmessage ratio: the lnpeer column to compare with. */
  lnmessageBase?: string;
  lowerIsBetter?: boolean;
}

function rows(params: Params): Row[] {
  const s = params.small.size;
  const l = params.large.size.toLocaleString('en-US');
  const list: Row[] = [
    { label: 'handshakes/s, sequential (connect, handshake, init received)', metric: 'hsSeq', digits: 0, lnmessageBase: 'noble' },
    { label: `handshakes/s, ${params.parallel} in parallel`, metric: 'hsPar', digits: 0, lnmessageBase: 'noble' },
    { label: `${s} B messages/s, client → server`, metric: 'msgsCS', digits: 0 },
    { label: `${s} B messages/s, server → client`, metric: 'msgsSC', digits: 0 },
    { label: `${l} B messages, MB/s, client → server`, metric: 'mbCS', digits: 1 },
    { label: `${l} B messages, MB/s, server → client`, metric: 'mbSC', digits: 1 },
    { label: `round trip of a ${params.rtt.size} B message, p50 (µs)`, metric: 'rttP50', digits: 1, lowerIsBetter: true },
    { label: `round trip of a ${params.rtt.size} B message, p99 (µs)`, metric: 'rttP99', digits: 1, lowerIsBetter: true },
  ];
  for (const n of params.memoryPeers) {
    const peers = n.toLocaleString('en-US');
    list.push({ label: `resident bytes per idle peer, ${peers} peers`, metric: `rss${n}`, digits: 0, lowerIsBetter: true });
    list.push({ label: `heap bytes per idle peer, ${peers} peers`, metric: `heap${n}`, digits: 0, lowerIsBetter: true });
  }
  list.push(
    { label: `receiver CPU per ${s} B message, client → server (µs)`, metric: 'cpuSmallCS', digits: 2, lowerIsBetter: true },
    { label: `receiver CPU per ${s} B message, server → client (µs)`, metric: 'cpuSmallSC', digits: 2, lowerIsBetter: true },
    { label: `receiver CPU per ${l} B message, client → server (µs)`, metric: 'cpuLargeCS', digits: 1, lowerIsBetter: true },
    { label: `receiver CPU per ${l} B message, server → client (µs)`, metric: 'cpuLargeSC', digits: 1, lowerIsBetter: true },
  );
  return list;
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  return `${(a / b).toFixed(2)}×`;
}

/** Raw-TCP rate, and the same with lnpeer's measured crypto cost per message added. */
export function cryptoBoundLimit(results: Results, direction: 'CS' | 'SC'): number | undefined {
  const raw = results.figures.raw?.[`msgs${direction}`];
  if (raw === undefined) return undefined;
  const crypto = Math.max(results.crypto.encrypt, results.crypto.decrypt) / 1e6;
  return 1 / (1 / raw + crypto);
}

export function table(results: Results): string {
  const f = results.figures;
  const has = (k: string) => results.columns.some((c) => c.key === k);
  const header = ['Scenario'];
  const cols = results.columns;
  for (const c of cols) {
    header.push(c.title);
    if (c.key === 'nl' && has('lnpeer')) header.push('lnpeer ÷ node-lightning');
    if (c.key === 'lnmessage' && (has('lnpeer') || has('noble'))) header.push('lnpeer ÷ lnmessage');
    if (c.key === 'before' && has('lnpeer')) header.push('lnpeer ÷ before');
    if (c.key === 'before-noble' && has('noble')) header.push('noble only ÷ before');
  }
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows(results.params)) {
    const cells = [row.label];
    for (const c of cols) {
      cells.push(fmt(f[c.key]?.[row.metric], row.digits));
      if (c.key === 'nl' && has('lnpeer')) cells.push(ratio(f.lnpeer?.[row.metric], f.nl?.[row.metric]));
      if (c.key === 'lnmessage' && (has('lnpeer') || has('noble'))) cells.push(ratio(f[row.lnmessageBase ?? 'lnpeer']?.[row.metric], f.lnmessage?.[row.metric]));
      if (c.key === 'before' && has('lnpeer')) cells.push(ratio(f.lnpeer?.[row.metric], f.before?.[row.metric]));
      if (c.key === 'before-noble' && has('noble')) cells.push(ratio(f.noble?.[row.metric], f['before-noble']?.[row.metric]));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

interface Check {
  what: string;
  measured: string;
  ok: boolean | undefined;
}

export function checks(results: Results): Check[] {
  const f = results.figures;
  const list: Check[] = [];
  const r = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b !== 0 ? a / b : undefined);
  const check = (what: string, value: number | undefined, ok: (v: number) => boolean, unit = '×') =>
    list.push({ what, measured: value === undefined ? 'n/a' : `${value.toFixed(2)}${unit}`, ok: value === undefined ? undefined : ok(value) });
  for (const d of ['CS', 'SC'] as const) {
    const dir = d === 'CS' ? 'client → server' : 'server → client';
    check(`${results.params.small.size} B msgs/s ≥ 1.5 × @node-lightning/noise (${dir})`, r(f.lnpeer?.[`msgs${d}`], f.nl?.[`msgs${d}`]), (v) => v >= 1.5);
    check(`${results.params.small.size} B msgs/s ≥ 50% of the raw-TCP crypto-bound limit (${dir}; limit ${fmt(cryptoBoundLimit(results, d))} msgs/s)`, r(f.lnpeer?.[`msgs${d}`], cryptoBoundLimit(results, d)), (v) => v >= 0.5);
  }
  for (const d of ['CS', 'SC'] as const) {
    check(`${results.params.large.size.toLocaleString('en-US')} B MB/s ≥ 1.0 × @node-lightning/noise (${d === 'CS' ? 'client → server' : 'server → client'})`, r(f.lnpeer?.[`mb${d}`], f.nl?.[`mb${d}`]), (v) => v >= 1);
  }
  check('RTT p50 ≤ 1.0 × @node-lightning/noise', r(f.lnpeer?.rttP50, f.nl?.rttP50), (v) => v <= 1);
  check('handshakes/s sequential ≥ 1.0 × @node-lightning/noise (native addon)', r(f.lnpeer?.hsSeq, f.nl?.hsSeq), (v) => v >= 1);
  check(`handshakes/s ${results.params.parallel} in parallel ≥ 1.0 × @node-lightning/noise (native addon)`, r(f.lnpeer?.hsPar, f.nl?.hsPar), (v) => v >= 1);
  check('handshakes/s sequential, noble only ≥ 2 × lnmessage', r(f.noble?.hsSeq, f.lnmessage?.hsSeq), (v) => v >= 2);
  check(`handshakes/s ${results.params.parallel} in parallel, noble only ≥ 2 × lnmessage`, r(f.noble?.hsPar, f.lnmessage?.hsPar), (v) => v >= 2);
  for (const n of results.params.memoryPeers) {
    check(`resident bytes per idle peer (${n.toLocaleString('en-US')} peers) ≤ @node-lightning/noise`, r(f.lnpeer?.[`rss${n}`], f.nl?.[`rss${n}`]), (v) => v <= 1);
    check(`heap bytes per idle peer (${n.toLocaleString('en-US')} peers) ≤ @node-lightning/noise`, r(f.lnpeer?.[`heap${n}`], f.nl?.[`heap${n}`]), (v) => v <= 1);
  }
  return list;
}

export function machineLine(results: Results): string {
  const v = results.versions;
  const pkgs = Object.entries(v.packages).map(([name, version]) => `${name} ${version}`).join(', ');
  return `${v.cpus} cores (${v.cpuModel}), Node ${v.node}; ${pkgs}. lnpeer backends: ${v.curve} + ${v.aead}; noble only: ${results.nobleVersions.curve} + ${results.nobleVersions.aead}.`;
}

export function report(results: Results): string {
  const c = results.crypto;
  const lines = [
    `Run of ${results.date}${results.quick ? ' (quick mode: figures are not meaningful)' : ''}, ${results.seconds.toFixed(0)} s; load average ${results.load.before.toFixed(2)} before, ${results.load.after.toFixed(2)} after.`,
    '',
    `Machine: ${machineLine(results)}`,
    '',
    table(results),
    '',
    `Ratios are lnpeer ÷ the other (lnpeer with the native addon against @node-lightning/noise; in the handshake rows lnpeer noble only against lnmessage). Above 1 is better for rates, below 1 for times and bytes.`,
    '',
    `lnpeer's own crypto per ${results.params.small.size} B message, measured in one process: encrypt ${fmt(c.encrypt, 2)} µs, decrypt ${fmt(c.decrypt, 2)} µs (${c.aead}). ` +
      `Raw-TCP crypto-bound limit = 1 / (1 / raw-TCP rate + max(encrypt, decrypt)): ${fmt(cryptoBoundLimit(results, 'CS'))} msgs/s client → server, ${fmt(cryptoBoundLimit(results, 'SC'))} msgs/s server → client.`,
    '',
    '| Target | Measured | Met |',
    '|---|---:|:---:|',
    ...checks(results).map((k) => `| ${k.what} | ${k.measured} | ${k.ok === undefined ? 'n/a' : k.ok ? 'yes' : '**no**'} |`),
  ];
  return lines.join('\n');
}
