/** The results of one run (bench/suite.ts) as the markdown of docs/benchmarks.md's results section. */
import { ROTATED_ENDPOINTS } from './browser.js';
import { commandoCaption, commandoTable } from './commando.js';
import type { NotRun } from './protocol.js';
import type { Column, Metric, Params, Results } from './suite.js';
import { envText } from './workers.js';

export function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : undefined;
}

function ratio(a: number | undefined, b: number | undefined): string {
  const r = ratioOf(a, b);
  return r === undefined ? 'n/a' : `${r.toFixed(2)}×`;
}

const DIRECTIONS = [
  ['CS', 'client → server'],
  ['SC', 'server → client'],
] as const;

interface Row {
  label: string;
  metric: Metric;
  digits: number;
  /** For the lnmessage ratio: the lnpeer column to compare with. */
  lnmessageBase?: string;
}

function rows(params: Params): Row[] {
  const s = params.small.size;
  const l = params.large.size.toLocaleString('en-US');
  const list: Row[] = [
    { label: 'handshakes/s, sequential (connect, handshake, init received, close)', metric: 'hsSeq', digits: 0, lnmessageBase: 'noble' },
    { label: `handshakes/s, ${params.parallel} in parallel`, metric: 'hsPar', digits: 0, lnmessageBase: 'noble' },
    { label: 'handshakes/s, sequential, both ends in one process', metric: 'hsSeqBoth', digits: 0 },
    ...DIRECTIONS.map(([d, dir]): Row => ({ label: `${s} B messages/s, ${dir}`, metric: `msgs${d}`, digits: 0 })),
    { label: `${s} B messages/s, both ends in one process`, metric: 'msgsBoth', digits: 0 },
    ...DIRECTIONS.map(([d, dir]): Row => ({ label: `${l} B messages, MB/s, ${dir}`, metric: `mb${d}`, digits: 1 })),
    { label: `round trip of a ${params.rtt.size} B message, p50 (µs)`, metric: 'rttP50', digits: 1 },
    { label: `round trip of a ${params.rtt.size} B message, p99 (µs)`, metric: 'rttP99', digits: 1 },
  ];
  for (const n of params.memoryPeers) {
    const peers = n.toLocaleString('en-US');
    list.push({ label: `resident bytes per idle peer, ${peers} peers`, metric: `rss${n}`, digits: 0 });
    list.push({ label: `heap bytes per idle peer, ${peers} peers`, metric: `heap${n}`, digits: 0 });
  }
  list.push(
    ...DIRECTIONS.map(([d, dir]): Row => ({ label: `receiver CPU per ${s} B message, ${dir} (µs)`, metric: `cpuSmall${d}`, digits: 2 })),
    { label: `CPU per ${s} B message, both ends in one process (µs)`, metric: 'cpuBoth', digits: 2 },
    ...DIRECTIONS.map(([d, dir]): Row => ({ label: `receiver CPU per ${l} B message, ${dir} (µs)`, metric: `cpuLarge${d}`, digits: 1 })),
  );
  return list;
}

/** A ratio column after a column: its title, and the figure of the columns it divides. */
interface RatioColumn {
  after: string;
  title: string;
  /** Numerator and denominator column keys for a row. */
  of: (row: Row) => [string, string];
}

const RATIO_COLUMNS: RatioColumn[] = [
  { after: 'nl', title: 'default install ÷ node-lightning', of: () => ['lnpeer', 'nl'] },
  { after: 'lnmessage', title: 'lnpeer ÷ lnmessage', of: (row) => [row.lnmessageBase ?? 'lnpeer', 'lnmessage'] },
  { after: 'before', title: 'lnpeer ÷ before', of: () => ['lnpeer', 'before'] },
  { after: 'before-noble', title: 'noble only ÷ before', of: () => ['noble', 'before-noble'] },
];

export function table(results: Results): string {
  const f = results.figures;
  const ratiosAfter = (c: Column) => RATIO_COLUMNS.filter((r) => r.after === c.key);
  const header = ['Scenario', ...results.columns.flatMap((c) => [c.title, ...ratiosAfter(c).map((r) => r.title)])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows(results.params)) {
    const cells = [
      row.label,
      ...results.columns.flatMap((c) => [
        fmt(f[c.key]?.[row.metric], row.digits),
        ...ratiosAfter(c).map((r) => {
          const [a, b] = r.of(row);
          return ratio(f[a]?.[row.metric], f[b]?.[row.metric]);
        }),
      ]),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const names = (c: { curve: string; aead: string }) => `${c.curve} + ${c.aead}`;

/** Per column, the backends its processes reported (they were checked against what they asked for). */
function backendsList(results: Results): string[] {
  const lines = [
    "lnpeer's crypto in each column, as `cryptoInUse()` reported it in the column's worker processes (asked for with `LNPEER_SECP256K1` and `LNPEER_AEAD`; the run stops when a process did not get what it asked for):",
    '',
  ];
  for (const col of results.columns) {
    const seen = results.backends[col.key];
    if (!col.backends || !seen) continue;
    const both = names(seen.server) === names(seen.client) ? `${names(seen.server)} (server and client)` : `server ${names(seen.server)}, client ${names(seen.client)}`;
    const client = col.client === 'lnmessage' ? `${names(seen.server)} in the server; the client is lnmessage, with its own pure-JavaScript crypto` : both;
    lines.push(`- ${col.title} (${envText(col.backends.env)}): ${client}`);
  }
  const others = results.columns.filter((c) => !c.backends).map((c) => c.title);
  if (others.length > 0) lines.push(`- not lnpeer: ${others.join(', ')} (@node-lightning/noise has its own crypto: the secp256k1 addon and node:crypto)`);
  return lines;
}

function cryptoLine(results: Results): string {
  const costs = results.crypto.map((c) => `${c.backends} (${c.aead}): encrypt ${fmt(c.encrypt, 2)} µs, decrypt ${fmt(c.decrypt, 2)} µs`);
  const line = `lnpeer's own crypto per ${results.params.small.size} B message (\`MessageEncryptor\` / \`MessageDecryptor\`, in one process): ${costs.join('; ')}.`;
  const raw = results.figures['raw-batched']?.msgsCS;
  if (raw === undefined) return line;
  // The most any sender or receiver doing this crypto could reach with raw TCP's batched write path.
  const limits = results.crypto.map((c) => `${c.backends} ${fmt(1 / (1 / raw + Math.max(c.encrypt, c.decrypt) / 1e6))}`);
  return `${line} Crypto-bound limit with the same batching, 1 / (1 / raw TCP batched rate + max(encrypt, decrypt)), client → server, in msgs/s: ${limits.join(', ')}.`;
}

const notRun = (r: object): r is NotRun => 'notRun' in r;

function browserSection(results: Results): string[] {
  const b = results.browser;
  if (notRun(b)) return [`Browser (Chromium): not run: ${b.notRun}`];
  const chrome = /HeadlessChrome\/\S+/.exec(b.userAgent)?.[0] ?? b.userAgent;
  const s = results.params.small.size;
  const row = (label: string, lnpeer: number, lnmessage: number, websocket: number | undefined) =>
    `| browser (Chromium), ${label} | ${fmt(lnpeer)} | ${fmt(lnmessage)} | ${ratio(lnpeer, lnmessage)} | ${websocket === undefined ? 'n/a' : fmt(websocket)} |`;
  const hs = (label: string, which: 'oneEndpoint' | 'rotated') =>
    row(`handshakes/s, sequential (connect, init received, close), ${label}`, b.handshakes.lnpeer[which], b.handshakes.lnmessage[which], b.handshakes.websocket[which]);
  return [
    `Browser: ${chrome}, one page; lnpeer's browser bundle with its default backends (\`cryptoInUse()\` in the page: ${names(b.pageCrypto)}) and lnmessage (its own pure JavaScript), each over WebSocket to the same Node server, an lnpeer \`PeerManager\` (${names(b.serverCrypto)}). The last column opens and closes a bare WebSocket to the same server, with no BOLT 8: the most that any library reaches in that row.`,
    '',
    '| Scenario | lnpeer (browser bundle) | lnmessage | lnpeer ÷ lnmessage | bare WebSocket (no handshake) |',
    '|---|---:|---:|---:|---:|',
    hs('one endpoint', 'oneEndpoint'),
    hs(`${ROTATED_ENDPOINTS} ports of the server in turn`, 'rotated'),
    row(`${s} B messages/s, page → server`, b.msgs.lnpeer, b.msgs.lnmessage, undefined),
  ];
}

function commandoSection(results: Results): string[] {
  const c = results.commando;
  if (notRun(c)) return [`Commando: not run: ${c.notRun}`];
  return [commandoCaption(c), '', commandoTable(c)];
}

interface Goal {
  what: string;
  measured: string;
  /** Undefined when not measured, or when the row only reports (no goal). */
  met: boolean | undefined;
  hasGoal: boolean;
}

const HANDSHAKE_GOAL = 225; // 5 × 45/s

/** The goals of this run, each measured in it. */
export function goals(results: Results): Goal[] {
  const f = results.figures;
  const { small, large, parallel, memoryPeers } = results.params;
  const l = large.size.toLocaleString('en-US');
  const list: Goal[] = [];
  const add = (what: string, value: number | undefined, met?: (v: number) => boolean, shown = (v: number) => `${v.toFixed(2)}×`) =>
    list.push({ what, measured: value === undefined ? 'n/a' : shown(value), met: value === undefined || !met ? undefined : met(value), hasGoal: !!met });
  const nl = '@node-lightning/noise';
  add(`default install: ${small.size} B msgs/s ≥ 1.5 × ${nl}, both ends in one process`, ratioOf(f.lnpeer?.msgsBoth, f.nl?.msgsBoth), (v) => v >= 1.5);
  for (const [d, dir] of DIRECTIONS) add(`default install: ${small.size} B msgs/s ≥ 2 × ${nl}, one process per end (${dir})`, ratioOf(f.lnpeer?.[`msgs${d}`], f.nl?.[`msgs${d}`]), (v) => v >= 2);
  add(`default install: RTT p50 ≤ 0.9 × ${nl}`, ratioOf(f.lnpeer?.rttP50, f.nl?.rttP50), (v) => v <= 0.9);
  for (const [d, dir] of DIRECTIONS) add(`default install: receiver CPU per ${l} B message ≤ 1.0 × ${nl} (${dir})`, ratioOf(f.lnpeer?.[`cpuLarge${d}`], f.nl?.[`cpuLarge${d}`]), (v) => v <= 1);
  for (const n of memoryPeers) add(`default install: resident memory per idle peer ≤ 0.6 × ${nl} (${n.toLocaleString('en-US')} peers)`, ratioOf(f.lnpeer?.[`rss${n}`], f.nl?.[`rss${n}`]), (v) => v <= 0.6);
  add(`default install: handshakes/s, sequential, one process per end ≥ ${HANDSHAKE_GOAL}/s (5 × 45/s)`, ratioOf(f.lnpeer?.hsSeq, HANDSHAKE_GOAL), (v) => v >= 1, (v) => `${fmt(v * HANDSHAKE_GOAL)}/s = ${v.toFixed(2)}× ${HANDSHAKE_GOAL}/s`);
  add(`+ secp256k1 addon: handshakes/s, sequential, both ends in one process ≥ 1.2 × ${nl}`, ratioOf(f.addon?.hsSeqBoth, f.nl?.hsSeqBoth), (v) => v >= 1.2);
  add(`+ secp256k1 addon: handshakes/s, sequential, one process per end ≥ 1.2 × ${nl}`, ratioOf(f.addon?.hsSeq, f.nl?.hsSeq), (v) => v >= 1.2);
  add(`+ secp256k1 addon: handshakes/s, ${parallel} in parallel, one process per end ≥ 1.2 × ${nl}`, ratioOf(f.addon?.hsPar, f.nl?.hsPar), (v) => v >= 1.2);
  for (const [d, dir] of DIRECTIONS) add(`accelerated: ${small.size} B msgs/s ≥ 3 × ${nl} (${dir})`, ratioOf(f.accel?.[`msgs${d}`], f.nl?.[`msgs${d}`]), (v) => v >= 3);
  for (const [d, dir] of DIRECTIONS) add(`accelerated: ${small.size} B msgs/s ≥ 0.5 × raw TCP, batched (${dir})`, ratioOf(f.accel?.[`msgs${d}`], f['raw-batched']?.[`msgs${d}`]), (v) => v >= 0.5);
  const b = notRun(results.browser) ? undefined : results.browser;
  add('browser (Chromium): handshakes/s, sequential, one endpoint ≥ 2 × lnmessage', ratioOf(b?.handshakes.lnpeer.oneEndpoint, b?.handshakes.lnmessage.oneEndpoint), (v) => v >= 2);
  add(`browser (Chromium): handshakes/s, sequential, ${ROTATED_ENDPOINTS} ports in turn ≥ 2 × lnmessage`, ratioOf(b?.handshakes.lnpeer.rotated, b?.handshakes.lnmessage.rotated), (v) => v >= 2);
  add(`browser (Chromium): ${small.size} B msgs/s page → server ≥ 2 × lnmessage`, ratioOf(b?.msgs.lnpeer, b?.msgs.lnmessage), (v) => v >= 2);
  const commando = notRun(results.commando) ? [] : results.commando.rows.filter((r) => r.lnmessage);
  for (const row of commando) add(`${row.scenario}: lnpeer ÷ lnmessage`, ratioOf(row.lnpeer.perSecond, row.lnmessage?.perSecond));
  return list;
}

function met(g: Goal): string {
  if (g.measured === 'n/a') return 'not measured';
  if (!g.hasGoal) return 'no goal';
  return g.met ? 'yes' : '**no**';
}

export function machineLine(results: Results): string {
  const v = results.versions;
  const pkgs = Object.entries(v.packages).map(([name, version]) => `${name} ${version}`).join(', ');
  return `${v.cpus} cores (${v.cpuModel}), Node ${v.node}; ${pkgs}.`;
}

export function report(results: Results): string {
  const lines = [
    `Run of ${results.date}${results.quick ? ' (quick mode: figures are not meaningful)' : ''}, ${results.seconds.toFixed(0)} s; load average ${results.load.before.toFixed(2)} before, ${results.load.after.toFixed(2)} after.`,
    '',
    `Machine: ${machineLine(results)}`,
    '',
    table(results),
    '',
    'Ratios are lnpeer ÷ the other (lnpeer, default install against @node-lightning/noise; against lnmessage, lnpeer noble only in the handshake rows and lnpeer, default install in the others). Above 1 is better for rates, below 1 for times and bytes.',
    '',
    ...backendsList(results),
    '',
    cryptoLine(results),
    '',
    ...browserSection(results),
    '',
    ...commandoSection(results),
    '',
    '| Goal | Measured | Met |',
    '|---|---:|:---:|',
    ...goals(results).map((g) => `| ${g.what} | ${g.measured} | ${met(g)} |`),
  ];
  return lines.join('\n');
}
