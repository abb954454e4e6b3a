/**
 * The benchmark orchestrator: forks worker processes (bench/worker.ts), runs each scenario
 * for each implementation in the same way, and collects the figures (bench/report.ts turns
 * them into the tables).
 *
 * Process layout: for every scenario the server (responder, and receiver of client → server
 * traffic) and the client (initiator) run in two separate worker processes; the orchestrator
 * only coordinates over IPC and is idle while a scenario runs. In the full run every
 * implementation gets a fresh pair of processes (and every memory figure a fresh pair too).
 * The scenarios with both ends in one process run the client in the server's process. The
 * browser (bench/browser.ts) and Commando (bench/commando.ts) scenarios come last.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { browserBenchmarks, type BrowserResult } from './browser.js';
import type { CommandoResult } from './commando.js';
import type { Target } from './impls.js';
import type { CryptoCost, CryptoNames, HandshakeResult, MemoryResult, NotRun, ReceiveResult, RttResult, SendResult, Versions } from './protocol.js';
import { fmt } from './report.js';
import { ACCELERATED, ADDON, DEFAULT_INSTALL, NODE_AEAD, NOBLE_ONLY, interleaved, median, Worker, type Backends, type Log } from './workers.js';

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
  small: Flow;
  large: Flow;
  /** Round trips per run (after `warm`), a fresh connection every `perConnection`. */
  rtt: { warm: number; samples: number; perConnection: number; size: number };
  memoryPeers: number[];
  cryptoIterations: number;
  commando: { seconds: number; rounds: number; warmupCalls: number };
}

interface Flow {
  size: number;
  warmMs: number;
  windowMs: number;
  chunk: number;
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
  commando: { seconds: 2, rounds: 3, warmupCalls: 200 },
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
  commando: { seconds: 0.1, rounds: 1, warmupCalls: 5 },
};

/** What `--skip` can leave out. */
export const SCENARIOS = ['handshakes', 'small', 'large', 'rtt', 'oneprocess', 'memory', 'browser', 'commando'] as const;

// ---------------------------------------------------------------------------------------------
// Columns (implementations) and rows (figures)

export type Metric =
  | 'hsSeq'
  | 'hsPar'
  | 'hsSeqBoth'
  | 'msgsCS'
  | 'msgsSC'
  | 'msgsBoth'
  | 'mbCS'
  | 'mbSC'
  | 'rttP50'
  | 'rttP99'
  | 'cpuSmallCS'
  | 'cpuSmallSC'
  | 'cpuBoth'
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
  /** lnpeer's crypto in both worker processes, checked against what they report; none where no end is lnpeer. */
  backends?: Backends;
  handshakes: boolean;
  messages: boolean;
  /** Also with both ends in one process (its handshakes and 100-byte messages, as above). */
  oneProcess: boolean;
  /** The client implementation that opens the idle connections of the memory figure. */
  memoryClient?: string;
  /** Another checkout of lnpeer to run (`--baseline`): its bench/worker.ts and src/. */
  root?: string;
}

// The curve does not change a message and the AEAD hardly a handshake (three ECDH against
// four AEAD calls of a few bytes): the addon and noble columns are handshakes only, the
// accelerated and node:crypto AEAD columns messages only.
export const COLUMNS: Column[] = [
  { key: 'lnpeer', title: 'lnpeer, default install', server: 'lnpeer', client: 'lnpeer', backends: DEFAULT_INSTALL, handshakes: true, messages: true, oneProcess: true, memoryClient: 'lnpeer-peer' },
  { key: 'node-aead', title: 'lnpeer, node:crypto AEAD', server: 'lnpeer', client: 'lnpeer', backends: NODE_AEAD, handshakes: false, messages: true, oneProcess: true },
  { key: 'addon', title: 'lnpeer + secp256k1 addon', server: 'lnpeer', client: 'lnpeer', backends: ADDON, handshakes: true, messages: false, oneProcess: true },
  { key: 'accel', title: 'lnpeer, accelerated', server: 'lnpeer', client: 'lnpeer', backends: ACCELERATED, handshakes: false, messages: true, oneProcess: true },
  { key: 'nl', title: '@node-lightning/noise', server: 'node-lightning', client: 'node-lightning', handshakes: true, messages: true, oneProcess: true, memoryClient: 'lnpeer-peer' },
  { key: 'noble', title: 'lnpeer, noble only', server: 'lnpeer', client: 'lnpeer', backends: NOBLE_ONLY, handshakes: true, messages: false, oneProcess: true },
  // lnmessage is initiator only: its server is lnpeer, noble only (the same server as the column before).
  { key: 'lnmessage', title: 'lnmessage → lnpeer (noble only)', server: 'lnpeer', client: 'lnmessage', backends: NOBLE_ONLY, handshakes: true, messages: true, oneProcess: false },
  { key: 'peer', title: 'lnpeer Peer (transport only)', server: 'lnpeer-peer', client: 'lnpeer-peer', backends: DEFAULT_INSTALL, handshakes: true, messages: true, oneProcess: false },
  { key: 'raw', title: 'raw TCP (no crypto)', server: 'raw-tcp', client: 'raw-tcp', handshakes: true, messages: true, oneProcess: true, memoryClient: 'raw-tcp' },
  // Its handshake is raw TCP's: messages only.
  { key: 'raw-batched', title: 'raw TCP, batched (no crypto)', server: 'raw-tcp-batched', client: 'raw-tcp-batched', handshakes: false, messages: true, oneProcess: true },
];

/** lnpeer from another checkout (say, before a change), as two more columns. */
export function baselineColumns(root: string): Column[] {
  return [
    { key: 'before', title: `lnpeer at ${root}, default install`, server: 'lnpeer', client: 'lnpeer', backends: DEFAULT_INSTALL, handshakes: true, messages: true, oneProcess: true, memoryClient: 'lnpeer-peer', root },
    { key: 'before-noble', title: `lnpeer at ${root}, noble only`, server: 'lnpeer', client: 'lnpeer', backends: NOBLE_ONLY, handshakes: true, messages: false, oneProcess: true, root },
  ];
}

export type Figures = Partial<Record<Metric, number>>;

/** lnpeer's crypto per message with one column's backends, measured in one process. */
export interface BackendCost extends CryptoCost {
  backends: string;
}

export interface Results {
  quick: boolean;
  params: Params;
  versions: Versions;
  crypto: BackendCost[];
  columns: Column[];
  /** What `cryptoInUse()` reported in each column's server and client processes. */
  backends: Record<string, { server: CryptoNames; client: CryptoNames }>;
  figures: Record<string, Figures>;
  browser: BrowserResult | NotRun;
  commando: CommandoResult | NotRun;
  date: string;
  seconds: number;
  /** 1-minute load average before and after the run: other work on the machine skews every figure. */
  load: { before: number; after: number };
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type Pair = { server: Worker; client: Worker; stop: () => Promise<void> };

interface Running {
  col: Column;
  server: Worker;
  client: Worker;
  target: Target;
  stop: () => Promise<void>;
}

async function pair(label: string, backends?: Backends, root?: string): Promise<Pair> {
  const [server, client] = await Promise.all([Worker.start(`${label} server`, backends, root), Worker.start(`${label} client`, backends, root)]);
  return { server, client, stop: async () => void (await Promise.all([server.stop(), client.stop()])) };
}

async function oneWay(sender: Worker, receiver: Worker, p: Flow): Promise<ReceiveResult> {
  await receiver.call({ cmd: 'receive', warmMs: p.warmMs, windowMs: p.windowMs });
  const sent = sender.call<SendResult>({ cmd: 'send', size: p.size, chunk: p.chunk });
  const received = await receiver.call<ReceiveResult>({ cmd: 'received' });
  await sender.call({ cmd: 'stop' });
  await sent;
  return received;
}

async function startColumn(col: Column, seen: Results['backends'], maxPeers = 1_000, label = '', shared?: Map<string, Promise<Pair>>): Promise<Running> {
  let started: Promise<Pair>;
  if (shared) {
    // Quick mode: one pair of processes per environment, for every column.
    const key = JSON.stringify([col.backends?.env ?? {}, col.root ?? '']);
    if (!shared.has(key)) shared.set(key, pair(`shared ${key}`, col.backends, col.root));
    const p = await shared.get(key)!;
    started = Promise.resolve({ ...p, stop: async () => {} });
  } else {
    started = pair(`${col.key}${label ? ` ${label}` : ''}`, col.backends, col.root);
  }
  const { server, client, stop } = await started;
  seen[col.key] = { server: server.crypto, client: client.crypto };
  const target = await server.call<Target>({ cmd: 'listen', impl: col.server, maxPeers });
  return { col, server, client, target, stop };
}

/** Handshakes/s per column, for each `[metric, concurrency]`; `where` names the layout in the log. */
async function handshakeFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log, loops: [Metric, number][], where = ''): Promise<void> {
  for (const [metric, concurrency] of loops) {
    const results = await interleaved(columns, params.runs, (r) =>
      r.client.call<HandshakeResult>({ cmd: 'handshakes', impl: r.col.client, target: r.target, seconds: params.handshakeSeconds, warmup: params.handshakeWarmup, concurrency }),
    );
    for (const [r, runs] of results) {
      const rates = runs.map((h) => h.count / h.seconds);
      figures[r.col.key][metric] = median(rates);
      log(`  ${r.col.key} handshakes ×${concurrency}${where}: ${fmt(median(rates))}/s (runs: ${rates.map((x) => fmt(x)).join(', ')}), client CPU ${fmt(median(runs.map((h) => h.cpuMicros / h.count)))} µs per handshake`);
    }
  }
}

/** One stream of messages measured per column: which messages, which way, into which figures. */
interface Stream {
  size: 'small' | 'large';
  direction: 'CS' | 'SC';
  /** Messages/s for small messages, MB/s for large ones. */
  rate: Metric;
  /** CPU of the receiving process per message. */
  cpu: Metric;
}

const STREAMS: Stream[] = [
  { size: 'small', direction: 'CS', rate: 'msgsCS', cpu: 'cpuSmallCS' },
  { size: 'small', direction: 'SC', rate: 'msgsSC', cpu: 'cpuSmallSC' },
  { size: 'large', direction: 'CS', rate: 'mbCS', cpu: 'cpuLargeCS' },
  { size: 'large', direction: 'SC', rate: 'mbSC', cpu: 'cpuLargeSC' },
];
/** With both ends in one process the receiving process is the sending one too: its CPU is both ends'. */
const BOTH_ENDS_STREAM: Stream = { size: 'small', direction: 'CS', rate: 'msgsBoth', cpu: 'cpuBoth' };

async function throughputFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log, s: Stream, where = ''): Promise<void> {
  const p = params[s.size];
  const results = await interleaved(columns, params.runs, async ({ col, server, client, target }) => {
    await client.call({ cmd: 'connect', impl: col.client, target, hello: s.direction === 'SC' });
    if (s.direction === 'SC') await server.call({ cmd: 'awaitLink' });
    const r = s.direction === 'CS' ? await oneWay(client, server, p) : await oneWay(server, client, p);
    await client.call({ cmd: 'closeLink' });
    await server.call({ cmd: 'resetLink' });
    return r;
  });
  for (const [{ col }, runs] of results) {
    const rate = median(runs.map((r) => r.messages / r.seconds));
    const cpu = median(runs.map((r) => r.cpuMicros / r.messages));
    figures[col.key][s.rate] = s.size === 'small' ? rate : (rate * p.size) / 1e6;
    figures[col.key][s.cpu] = cpu;
    log(`  ${col.key} ${p.size} B ${s.direction === 'CS' ? 'client → server' : 'server → client'}${where}: ${fmt(rate)} msgs/s, ${fmt((rate * p.size) / 1e6, 1)} MB/s, ${fmt(cpu, 2)} µs receiver CPU/msg (runs: ${runs.map((r) => fmt(r.messages / r.seconds)).join(', ')})`);
  }
}

/** Both ends in one process: the client runs in the server's process, against its server. */
async function oneProcessFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log): Promise<void> {
  const selves = columns.filter((r) => r.col.oneProcess).map((r) => ({ ...r, client: r.server }));
  const where = ', both ends in one process';
  await handshakeFigures(selves.filter((r) => r.col.handshakes), params, figures, log, [['hsSeqBoth', 1]], where);
  await throughputFigures(selves.filter((r) => r.col.messages), params, figures, log, BOTH_ENDS_STREAM, where);
}

async function rttFigures(columns: Running[], params: Params, figures: Record<string, Figures>, log: Log): Promise<void> {
  for (const r of columns) await r.server.call({ cmd: 'echo', size: params.rtt.size });
  const results = await interleaved(columns, params.runs, (r) => r.client.call<RttResult>({ cmd: 'rtt', impl: r.col.client, target: r.target, ...params.rtt }));
  for (const r of columns) await r.server.call({ cmd: 'echo', size: 0 });
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

/** lnpeer's own encrypt and decrypt cost per small message, once per set of backends that sends messages. */
async function cryptoCosts(columns: Running[], params: Params, log: Log): Promise<BackendCost[]> {
  const costs: BackendCost[] = [];
  const measured = new Set<Backends>();
  for (const { col, server } of columns) {
    if (!col.messages || !col.backends || col.root || measured.has(col.backends)) continue;
    measured.add(col.backends);
    const cost = await server.call<CryptoCost>({ cmd: 'cryptoCost', size: params.small.size, iterations: params.cryptoIterations });
    costs.push({ backends: col.backends.name, ...cost });
    log(`lnpeer crypto per ${params.small.size} B message, ${col.backends.name}: encrypt ${fmt(cost.encrypt, 2)} µs, decrypt ${fmt(cost.decrypt, 2)} µs (${cost.aead})`);
  }
  return costs;
}

/** bench/commando.ts, in a worker process of its own with the default install's backends. */
async function commandoFigures(params: Params, log: Log): Promise<CommandoResult | NotRun> {
  const worker = await Worker.start('commando', DEFAULT_INSTALL);
  try {
    const result = await worker.call<CommandoResult | NotRun>({ cmd: 'commando', ...params.commando }, 600_000);
    if ('notRun' in result) log(`  commando: not run: ${result.notRun}`);
    else for (const row of result.rows) log(`  ${row.scenario}: lnpeer ${fmt(row.lnpeer.perSecond)}/s${row.lnmessage ? `, lnmessage ${fmt(row.lnmessage.perSecond)}/s` : ''}`);
    return result;
  } finally {
    await worker.stop();
  }
}

export interface RunOptions {
  quick?: boolean;
  /** Column keys to run (default: all); the browser and Commando scenarios are not columns. */
  only?: string[];
  /** Scenarios to leave out (`SCENARIOS`). */
  skip?: string[];
  /** Another checkout of lnpeer to measure alongside (columns `before`, `before-noble`). */
  baseline?: string;
  log?: Log;
}

function selectColumns(options: RunOptions): Column[] {
  const all = [...COLUMNS, ...(options.baseline ? baselineColumns(options.baseline) : [])];
  const unknownColumns = (options.only ?? []).filter((k) => !all.some((c) => c.key === k));
  const unknownScenarios = (options.skip ?? []).filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknownColumns.length > 0) throw new Error(`--only: no column ${unknownColumns.join(', ')} (columns: ${all.map((c) => c.key).join(', ')})`);
  if (unknownScenarios.length > 0) throw new Error(`--skip: no scenario ${unknownScenarios.join(', ')} (scenarios: ${SCENARIOS.join(', ')})`);
  return all.filter((c) => !options.only || options.only.includes(c.key));
}

/** Every scenario that runs on the pairs of worker processes started at first. */
async function pairScenarios(running: Running[], params: Params, figures: Record<string, Figures>, log: Log, skip: ReadonlySet<string>, quick: boolean): Promise<void> {
  const withHandshakes = running.filter((r) => r.col.handshakes);
  const withMessages = running.filter((r) => r.col.messages);
  if (!skip.has('handshakes')) await handshakeFigures(withHandshakes, params, figures, log, [['hsSeq', 1], ['hsPar', params.parallel]]);
  for (const s of STREAMS) if (!skip.has(s.size)) await throughputFigures(withMessages, params, figures, log, s);
  if (!skip.has('rtt')) await rttFigures(withMessages, params, figures, log);
  if (!skip.has('oneprocess')) await oneProcessFigures(running, params, figures, log);
  // Quick mode only proves that the memory scenario works: on the processes at hand.
  if (quick && !skip.has('memory')) {
    for (const r of running) if (r.col.memoryClient) for (const peers of params.memoryPeers) await memoryFigure(r, peers, figures[r.col.key], log);
  }
}

/** Memory, each figure in a fresh pair of processes (full mode). */
async function memoryFigures(columns: Column[], params: Params, figures: Record<string, Figures>, seen: Results['backends'], log: Log): Promise<void> {
  for (const col of columns) {
    if (!col.memoryClient) continue;
    for (const peers of params.memoryPeers) {
      const r = await startColumn(col, seen, peers + 100, 'memory');
      try {
        await memoryFigure(r, peers, figures[col.key], log);
      } finally {
        await r.stop();
      }
    }
  }
}

export async function runBenchmarks(options: RunOptions = {}): Promise<Results> {
  const params = options.quick ? QUICK : FULL;
  const quick = !!options.quick;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  const columns = selectColumns(options);
  const skip = new Set(options.skip);
  const figures: Record<string, Figures> = Object.fromEntries(columns.map((c) => [c.key, {}]));
  const backends: Results['backends'] = {};
  const shared = quick ? new Map<string, Promise<Pair>>() : undefined;
  const running = await Promise.all(columns.map((col) => startColumn(col, backends, 1_000, '', shared)));
  let versions: Versions;
  let crypto: BackendCost[];
  try {
    // Probes while every worker is idle.
    versions = await running[0].server.call<Versions>({ cmd: 'versions' });
    crypto = await cryptoCosts(running, params, log);
    await pairScenarios(running, params, figures, log, skip, quick);
  } finally {
    await Promise.all(running.map((r) => r.stop()));
    if (shared) await Promise.all([...shared.values()].map(async (p) => (await p).stop()));
  }
  if (!quick && !skip.has('memory')) await memoryFigures(columns, params, figures, backends, log);
  const browser = skip.has('browser') ? { notRun: 'left out (--skip=browser)' } : await browserBenchmarks(params, log);
  const commando = skip.has('commando') ? { notRun: 'left out (--skip=commando)' } : await commandoFigures(params, log);
  return {
    quick,
    params,
    versions,
    crypto,
    columns,
    backends,
    figures,
    browser,
    commando,
    date: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    load: { before: loadBefore, after: os.loadavg()[0] },
  };
}
