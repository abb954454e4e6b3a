/**
 * Commando round trips per second against one Core Lightning node: lnpeer's `Commando` and
 * npm `lnmessage` 0.2.7's `commando()`, in the same run, one call at a time and with 16 in
 * flight; plus request/response round trips between two lnpeers with `Requests` over TCP
 * on loopback (no Core Lightning: lnpeer's own ceiling). Prints a markdown table.
 *
 *   node --conditions=lnpeer-source --import tsx bench/commando.ts [--seconds=3]
 *
 * Core Lightning comes from test/interop/partners/cln.ts (the tarball in ../shared/cln or
 * LIGHTNINGD). Each measurement runs for `--seconds` after a warm-up; lnpeer and lnmessage
 * take turns, three runs each, and the best run counts (most calls a second, least CPU a
 * call). The CPU column is this process's own time per call: the client's cost, which the
 * machine's load and Core Lightning's speed disturb less than the rate does.
 */
import net from 'node:net';
import LnMessage from 'lnmessage';
import { PeerManager, Requests } from '../src/index.js';
import { Commando } from '../src/protocols/commando.js';
import { randomPrivateKey } from '../src/crypto/index.js';
import { toHex } from '../src/bytes.js';
import { availability, cln } from '../test/interop/partners/cln.js';
import { closeAllPartners } from '../test/interop/partner.js';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 3);
const WARMUP_CALLS = 200;
const IN_FLIGHT = 16;
const ROUNDS = 3;

interface Rate {
  perSecond: number;
  /** This process's CPU time (user + system) per call, in microseconds: the client's own cost. */
  cpuMicros: number;
}

/** Calls per second of `call` for `seconds`, `concurrency` at a time, and the CPU each cost here. */
async function rate(call: () => Promise<unknown>, concurrency: number): Promise<Rate> {
  for (let i = 0; i < WARMUP_CALLS; i += concurrency) await Promise.all(Array.from({ length: concurrency }, call));
  const end = performance.now() + seconds * 1000;
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

/** The better of `ROUNDS` runs of each (most calls a second; least CPU a call), taking turns: `a`, `b`, `a`, `b`, … */
async function pair(a: () => Promise<Rate>, b: () => Promise<Rate>): Promise<[Rate, Rate]> {
  const ra: Rate[] = [];
  const rb: Rate[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    ra.push(await a());
    rb.push(await b());
  }
  return [best(ra), best(rb)];
}

function best(rates: Rate[]): Rate {
  return { perSecond: Math.max(...rates.map((r) => r.perSecond)), cpuMicros: Math.min(...rates.map((r) => r.cpuMicros)) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const found = await availability();
if (!found.available) {
  console.error(`Core Lightning is not available: ${found.detail}; ${found.install}`);
  process.exit(1);
}

const rows: string[][] = [];
try {
  const node = await cln.start();
  const { rune } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo']] });
  const request = { method: 'getinfo', rune };

  // lnpeer
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

  for (const concurrency of [1, IN_FLIGHT]) {
    const [x, y] = await pair(() => rate(lnpeerCall, concurrency), () => rate(lnmessageCall, concurrency));
    rows.push([
      `Commando \`getinfo\` to Core Lightning, ${concurrency === 1 ? 'one at a time' : `${concurrency} in flight`}`,
      fmt(x.perSecond),
      fmt(y.perSecond),
      `${(x.perSecond / y.perSecond).toFixed(2)}×`,
      `${fmt(x.cpuMicros)} / ${fmt(y.cpuMicros)}`,
    ]);
  }
  commando.close();
  ln.disconnect();
  tcpSocket.destroy();
  await pm.close();

  // lnpeer ↔ lnpeer, Requests over TCP on loopback: an 8-byte id, echoed back.
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
  for (const concurrency of [1, IN_FLIGHT]) {
    const runs: Rate[] = [];
    for (let i = 0; i < ROUNDS; i++) runs.push(await rate(requestCall, concurrency));
    const x = best(runs);
    // Both ends run in this process: the CPU is client and server together.
    rows.push([`\`Requests\` lnpeer ↔ lnpeer, TCP loopback, ${concurrency === 1 ? 'one at a time' : `${concurrency} in flight`}`, fmt(x.perSecond), '', '', `${fmt(x.cpuMicros)} (both ends)`]);
  }
  requests.close();
  await Promise.all([client.close(), server.close()]);
} finally {
  await closeAllPartners();
}

console.log(`\nRound trips per second (${seconds} s each, the best of ${ROUNDS} runs taken in turns; Core Lightning ${found.version}, Node ${process.version}):\n`);
console.log('| scenario | lnpeer | lnmessage 0.2.7 | lnpeer / lnmessage | client CPU µs per call (lnpeer / lnmessage) |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
