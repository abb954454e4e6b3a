/**
 * Commando round trips per second against one Core Lightning node: lnpeer's `Commando` and
 * npm `lnmessage` 0.2.7's `commando()`, in the same run, one call at a time and with 16 in
 * flight; plus request/response round trips between two lnpeers with `Requests` over TCP
 * on loopback (no Core Lightning: lnpeer's own ceiling).
 *
 * `npm run bench` runs it in a worker process (scenario `commando`) and puts its table in
 * docs/benchmarks.md; standalone, it prints the table:
 *
 *   node --conditions=lnpeer-source --import tsx bench/commando.ts [--seconds=3]
 *
 * Core Lightning comes from test/interop/partners/cln.ts (the tarball in ../shared/cln or
 * LIGHTNINGD). Each measurement runs for `seconds` after a warm-up; lnpeer and lnmessage
 * take turns, `rounds` runs each, and the best run counts (most calls a second, least CPU a
 * call). The CPU column is this process's own time per call: the client's cost, which the
 * machine's load and Core Lightning's speed disturb less than the rate does.
 */
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import LnMessage from 'lnmessage';
import { PeerManager, Requests, cryptoInUse } from '../src/index.js';
import { Commando } from '../src/protocols/commando.js';
import { randomPrivateKey } from '../src/crypto/index.js';
import { toHex } from '../src/bytes.js';
import { availability, cln, type ClnNode } from '../test/interop/partners/cln.js';
import { closeAllPartners } from '../test/interop/partner.js';
import type { CryptoNames, NotRun } from './protocol.js';

const IN_FLIGHT = 16;

export interface CommandoOptions {
  /** Length of each measured run. */
  seconds: number;
  /** Runs of each, taken in turns; the best counts. */
  rounds: number;
  /** Calls before the first measured run. */
  warmupCalls: number;
}

export interface Rate {
  perSecond: number;
  /** This process's CPU time (user + system) per call, in microseconds: the client's own cost. */
  cpuMicros: number;
}

export interface CommandoRow {
  scenario: string;
  lnpeer: Rate;
  /** Absent where lnmessage has no counterpart. */
  lnmessage?: Rate;
  /** Both ends ran in this process: the CPU figure is client and server together. */
  bothEnds?: boolean;
}

export interface CommandoResult {
  options: CommandoOptions;
  clnVersion: string;
  node: string;
  /** lnpeer's backends in the process that ran it. */
  crypto: CryptoNames;
  rows: CommandoRow[];
}

/** Calls per second of `call` for `seconds`, `concurrency` at a time, and the CPU each cost here. */
async function rate(call: () => Promise<unknown>, concurrency: number, o: CommandoOptions): Promise<Rate> {
  for (let i = 0; i < o.warmupCalls; i += concurrency) await Promise.all(Array.from({ length: concurrency }, call));
  const end = performance.now() + o.seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(cpu);
  return { perSecond: done / ((performance.now() - start) / 1000), cpuMicros: (used.user + used.system) / done };
}

/** The better of `rounds` runs of each (most calls a second; least CPU a call), taking turns: `a`, `b`, `a`, `b`, … */
async function pair(a: () => Promise<Rate>, b: () => Promise<Rate>, rounds: number): Promise<[Rate, Rate]> {
  const ra: Rate[] = [];
  const rb: Rate[] = [];
  for (let i = 0; i < rounds; i++) {
    ra.push(await a());
    rb.push(await b());
  }
  return [best(ra), best(rb)];
}

function best(rates: Rate[]): Rate {
  return { perSecond: Math.max(...rates.map((r) => r.perSecond)), cpuMicros: Math.min(...rates.map((r) => r.cpuMicros)) };
}

const inFlight = (concurrency: number) => (concurrency === 1 ? 'one at a time' : `${concurrency} in flight`);

/** lnpeer's Commando and lnmessage's commando() against the same node, the same rune. */
async function againstCoreLightning(node: ClnNode, o: CommandoOptions): Promise<CommandoRow[]> {
  const { rune } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo']] });
  const request = { method: 'getinfo', rune };

  const pm = new PeerManager({ pingIntervalMs: 0 });
  await pm.connect(`${node.nodeId}@127.0.0.1:${node.port}`);
  const commando = new Commando(pm);
  const lnpeerCall = () => commando.call(node.nodeId, request, { timeoutMs: 30_000 });

  // lnmessage 0.2.7, over TCP as test/interop/partners/lnmessage.ts drives it
  const tcpSocket = new net.Socket();
  tcpSocket.setNoDelay(true);
  const ln = new LnMessage({ remoteNodePublicKey: node.nodeId, ip: '127.0.0.1', port: node.port, privateKey: toHex(randomPrivateKey()), tcpSocket });
  if (!(await ln.connect(false))) throw new Error('lnmessage did not connect');
  const lnmessageCall = () => ln.commando({ method: 'getinfo', params: {}, rune });

  // Both answer the same thing.
  const [a, b] = await Promise.all([lnpeerCall(), lnmessageCall()]);
  if ((a as { id: string }).id !== node.nodeId || (b as { id: string }).id !== node.nodeId) throw new Error('getinfo did not return the node id');

  const rows: CommandoRow[] = [];
  for (const concurrency of [1, IN_FLIGHT]) {
    const [x, y] = await pair(() => rate(lnpeerCall, concurrency, o), () => rate(lnmessageCall, concurrency, o), o.rounds);
    rows.push({ scenario: `Commando \`getinfo\` to Core Lightning, ${inFlight(concurrency)}`, lnpeer: x, lnmessage: y });
  }
  commando.close();
  ln.disconnect();
  tcpSocket.destroy();
  await pm.close();
  return rows;
}

/** lnpeer ↔ lnpeer, Requests over TCP on loopback: an 8-byte id, echoed back. */
async function requestsLoopback(o: CommandoOptions): Promise<CommandoRow[]> {
  const server = new PeerManager({ pingIntervalMs: 0 });
  server.on('custommsg', ({ peerId, type, payload }) => {
    if (type === 0xfff9) void server.sendCustomMsg(peerId, Uint8Array.from([0xff, 0xfb, ...payload])).catch(() => {});
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  const client = new PeerManager({ pingIntervalMs: 0 });
  await client.connect(`${server.nodeId}@127.0.0.1:${port}`);
  const requests = new Requests(client, { replyKey: (m) => (m.type === 0xfffb && m.payload.length === 8 ? toHex(m.payload) : undefined) });
  const requestCall = () => {
    const id = globalThis.crypto.getRandomValues(new Uint8Array(8));
    return requests.request(server.nodeId, Uint8Array.from([0xff, 0xf9, ...id]), { key: toHex(id), timeoutMs: 30_000 });
  };
  const rows: CommandoRow[] = [];
  for (const concurrency of [1, IN_FLIGHT]) {
    const runs: Rate[] = [];
    for (let i = 0; i < o.rounds; i++) runs.push(await rate(requestCall, concurrency, o));
    rows.push({ scenario: `\`Requests\` lnpeer ↔ lnpeer, TCP loopback, ${inFlight(concurrency)}`, lnpeer: best(runs), bothEnds: true });
  }
  requests.close();
  await Promise.all([client.close(), server.close()]);
  return rows;
}

/** Every row, or why it could not run (no Core Lightning here). */
export async function commandoBenchmarks(o: CommandoOptions): Promise<CommandoResult | NotRun> {
  const found = await availability();
  if (!found.available) return { notRun: `Core Lightning is not available: ${found.detail}; ${found.install}` };
  try {
    const rows = await againstCoreLightning(await cln.start(), o);
    rows.push(...(await requestsLoopback(o)));
    return { options: o, clnVersion: found.version ?? 'unknown', node: process.version, crypto: cryptoInUse(), rows };
  } finally {
    await closeAllPartners();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The rows as a markdown table. */
export function commandoTable(result: CommandoResult): string {
  const lines = [
    '| scenario | lnpeer | lnmessage 0.2.7 | lnpeer ÷ lnmessage | client CPU µs per call (lnpeer / lnmessage) |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const { scenario, lnpeer, lnmessage, bothEnds } of result.rows) {
    const cpu = lnmessage ? `${fmt(lnpeer.cpuMicros)} / ${fmt(lnmessage.cpuMicros)}` : `${fmt(lnpeer.cpuMicros)}${bothEnds ? ' (both ends)' : ''}`;
    const ratio = lnmessage ? `${(lnpeer.perSecond / lnmessage.perSecond).toFixed(2)}×` : '';
    lines.push(`| ${scenario} | ${fmt(lnpeer.perSecond)} | ${lnmessage ? fmt(lnmessage.perSecond) : ''} | ${ratio} | ${cpu} |`);
  }
  return lines.join('\n');
}

/** What the table measured, in one sentence. */
export function commandoCaption(result: CommandoResult): string {
  const o = result.options;
  return `Round trips per second (${o.seconds} s each, the best of ${o.rounds} runs taken in turns; Core Lightning ${result.clnVersion}, Node ${result.node}; lnpeer's backends: ${result.crypto.curve} + ${result.crypto.aead}):`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 3);
  const result = await commandoBenchmarks({ seconds, rounds: 3, warmupCalls: 200 });
  if ('notRun' in result) {
    console.error(result.notRun);
    process.exit(1);
  }
  console.log(`\n${commandoCaption(result)}\n\n${commandoTable(result)}`);
}
