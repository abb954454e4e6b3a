/**
 * The browser scenario: in one headless Chromium page (the harness of test/browser/), lnpeer's
 * browser bundle (its default browser backends: noble) and lnmessage take turns against the
 * same Node server, an lnpeer `PeerManager` listening for WebSocket in a worker process
 * (default install backends). The page measures sequential handshakes; for 100-byte messages
 * page → server, the server counts, as in the Node scenarios.
 *
 * Chromium lets one WebSocket to an endpoint (host and port) be opening at a time, and frees
 * the endpoint 10 ms after a connection opened (RFC 6455 section 4.1; Chromium's
 * net/socket/websocket_endpoint_lock_manager.cc, `kUnlockDelayInMs`): sequential connections
 * to one endpoint cannot exceed about 100 a second, whatever follows the opening. So the
 * handshakes are measured twice, to one endpoint and to four ports of the same server in
 * turn, and a bare WebSocket (opened, then closed: no BOLT 8) measures the browser's own
 * ceiling in both.
 */
import type { TestContext } from 'node:test';
import { build } from 'esbuild';
import type LnMessage from 'lnmessage';
import { chromiumAvailability, closeBrowser, openPage, type BrowserPage, type Lnpeer } from '../test/browser/harness.js';
import { BENCH_TYPE, type Target } from './impls.js';
import type { CryptoNames, NotRun, ReceiveResult } from './protocol.js';
import type { Params } from './suite.js';
import { checkBackends, DEFAULT_INSTALL, interleaved, median, Worker, type Log } from './workers.js';

/** The libraries compared. */
export const BROWSER_CLIENTS = ['lnpeer', 'lnmessage'] as const;
export type BrowserClient = (typeof BROWSER_CLIENTS)[number];
/** The handshake loops: the two libraries, and a bare WebSocket opened and closed (no BOLT 8). */
export const HANDSHAKE_CLIENTS = [...BROWSER_CLIENTS, 'websocket'] as const;
export type HandshakeClient = (typeof HANDSHAKE_CLIENTS)[number];

/** The ports of the server that the rotating handshake loop takes in turn. */
export const ROTATED_ENDPOINTS = 4;

export interface BrowserResult {
  userAgent: string;
  /** lnpeer's backends in the page (the browser bundle's defaults) and in the Node server. */
  pageCrypto: CryptoNames;
  serverCrypto: CryptoNames;
  /** Sequential handshakes/s per loop: to one endpoint, and to {@link ROTATED_ENDPOINTS} in turn. */
  handshakes: Record<HandshakeClient, { oneEndpoint: number; rotated: number }>;
  /** 100-byte messages/s page → server, per library. */
  msgs: Record<BrowserClient, number>;
}

/** lnpeer in the browser has only noble (src/platform/browser.ts adds no backend). */
const BROWSER_DEFAULTS: CryptoNames = { curve: '@noble/secp256k1', aead: '@noble/ciphers' };

interface PageArgs {
  client: HandshakeClient;
  host: string;
  /** The server's ports: connection i goes to `ports[i % ports.length]`. */
  ports: number[];
  nodeId: string;
  /** The message type (bench/impls.ts's BENCH_TYPE). */
  bench: number;
  /** Handshakes for `seconds` after `warmup` of them; or (`send`) messages of `size` bytes in chunks of `chunk`. */
  mode: 'handshakes' | 'send';
  seconds: number;
  warmup: number;
  size: number;
  chunk: number;
}

/**
 * Runs in the page, sent there as source text: it sees only its arguments and the page's
 * globals (`lnmessage` is the bundle added by {@link lnmessageBundle}). Handshakes: connect
 * (to init received; a bare WebSocket: to open) and close, one after the other, each to the
 * next of `ports`. Send: the chunking of bench/worker.ts's `sendBulk`, until `globalThis.benchStop`.
 */
async function inPage({ PeerManager }: Lnpeer, a: PageArgs): Promise<{ count: number; seconds: number }> {
  interface Connection {
    /** Sends the message; with `ack`, resolves once its bytes left the WebSocket's buffer. */
    send(ack: boolean): Promise<unknown> | undefined;
    close(): Promise<unknown>;
  }
  // A message event is a task of its own, unclamped (a nested setTimeout(0) waits 4 ms).
  const nextTask = () =>
    new Promise<void>((resolve) => {
      const channel = new MessageChannel();
      channel.port1.addEventListener('message', () => (channel.port1.close(), resolve()));
      channel.port1.start();
      channel.port2.postMessage(null);
    });
  const key = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const message = new Uint8Array(a.size).fill(0x5a);
  message.set([a.bench >> 8, a.bench & 0xff]);
  const pm = new PeerManager({ privateKey: key });
  let connections = 0;
  const nextPort = () => a.ports[connections++ % a.ports.length];
  const lnpeerConnect = async (): Promise<Connection> => {
    await pm.connect(`${a.nodeId}@ws://${a.host}:${nextPort()}`);
    return {
      send: (ack) => {
        const sent = pm.sendCustomMsg(a.nodeId, message);
        return ack ? sent : undefined;
      },
      close: () => pm.disconnect(a.nodeId),
    };
  };
  const LnMessageClass = (globalThis as unknown as { lnmessage: { default: typeof LnMessage } }).lnmessage.default;
  const privateKey = Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');
  const lnmessageConnect = async (): Promise<Connection> => {
    const ln = new LnMessageClass({ remoteNodePublicKey: a.nodeId, ip: a.host, port: nextPort(), wsProtocol: 'ws:', privateKey });
    if (!(await ln.connect(false))) throw new Error('lnmessage did not connect');
    const socket = ln.socket as unknown as { bufferedAmount: number; send(data: Uint8Array): void };
    const payload = (ln.Buffer as unknown as { from(bytes: Uint8Array): Parameters<LnMessage['noise']['encryptMessage']>[0] }).from(message);
    let queued = 0;
    return {
      // lnmessage has no public send for arbitrary messages: this is what it does for its own
      // (one WebSocket frame each). The browser tells nothing when bytes left: its bufferedAmount is watched.
      send: (ack) => {
        const packet = ln.noise.encryptMessage(payload);
        socket.send(packet);
        queued += packet.length;
        if (!ack) return undefined;
        const mark = queued;
        return (async () => {
          while (queued - socket.bufferedAmount < mark) await nextTask();
        })();
      },
      close: async () => ln.disconnect(),
    };
  };
  const websocketConnect = async (): Promise<Connection> => {
    const url = `ws://${a.host}:${nextPort()}`;
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`the WebSocket to ${url} failed`));
    });
    return {
      send: () => {
        throw new Error('a bare WebSocket sends no Lightning message');
      },
      close: async () => ws.close(),
    };
  };
  const connect = { lnpeer: lnpeerConnect, lnmessage: lnmessageConnect, websocket: websocketConnect }[a.client];
  try {
    if (a.mode === 'handshakes') {
      for (let i = 0; i < a.warmup; i++) await (await connect()).close();
      let count = 0;
      const start = performance.now();
      let last = start;
      while (performance.now() < start + a.seconds * 1000) {
        await (await connect()).close();
        count++;
        last = performance.now();
      }
      return { count, seconds: (last - start) / 1000 };
    }
    const stop = globalThis as { benchStop?: boolean };
    stop.benchStop = false;
    const c = await connect();
    let previous: Promise<unknown> | undefined;
    let sent = 0;
    while (!stop.benchStop) {
      let last: Promise<unknown> | undefined;
      for (let i = 0; i < a.chunk; i++) last = c.send(i === a.chunk - 1);
      sent += a.chunk;
      await previous;
      previous = last;
      await nextTask();
    }
    await previous;
    await c.close();
    return { count: sent, seconds: 0 };
  } finally {
    await pm.close();
  }
}

/** lnmessage for the page: esbuild's browser build of the npm package, as a script that sets `globalThis.lnmessage`. */
async function lnmessageBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: "export { default } from 'lnmessage';", resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'lnmessage',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/**
 * openPage() takes a node:test context to skip a test when Chromium is missing (checked
 * before here) and to close the page when the test ends: here, when the scenario ends.
 */
function scenarioContext(cleanups: (() => unknown)[]): TestContext {
  return { skip: () => {}, after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as TestContext;
}

/** Sequential handshakes/s of each loop (one endpoint, or every port in turn), the loops taking turns run by run. */
async function handshakeRates(page: BrowserPage, base: Omit<PageArgs, 'client'>, params: Params, log: Log, label: string): Promise<Record<HandshakeClient, number>> {
  const runs = await interleaved(HANDSHAKE_CLIENTS, params.runs, async (client) => {
    const r = await page.run(inPage, { ...base, client }, { timeoutMs: base.seconds * 1000 + 60_000, what: `${client} handshakes in the page` });
    return r.count / r.seconds;
  });
  return perClient(runs, (client, rates) => log(`  browser ${client} handshakes, ${label}: ${Math.round(median(rates))}/s (runs: ${rates.map(Math.round).join(', ')})`));
}

/** 100-byte messages/s page → server, counted by the server; the page sends until told to stop. */
async function messageRates(page: BrowserPage, server: Worker, base: Omit<PageArgs, 'client'>, params: Params, log: Log): Promise<Record<BrowserClient, number>> {
  const runs = await interleaved(BROWSER_CLIENTS, params.runs, async (client) => {
    await server.call({ cmd: 'receive', warmMs: params.small.warmMs, windowMs: params.small.windowMs });
    const sending = page.run(inPage, { ...base, client }, { timeoutMs: 120_000, what: `${client} sending in the page` });
    sending.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    const received = await server.call<ReceiveResult>({ cmd: 'received' });
    await page.page.evaluate(() => void ((globalThis as { benchStop?: boolean }).benchStop = true));
    await sending;
    await server.call({ cmd: 'resetLink' });
    return received.messages / received.seconds;
  });
  return perClient(runs, (client, rates) => log(`  browser ${client} ${base.size} B messages: ${Math.round(median(rates))}/s (runs: ${rates.map(Math.round).join(', ')})`));
}

function perClient<C extends string>(runs: Map<C, number[]>, log: (client: C, rates: number[]) => void): Record<C, number> {
  const out = {} as Record<C, number>;
  for (const [client, rates] of runs) {
    log(client, rates);
    out[client] = median(rates);
  }
  return out;
}

/** The browser rows, or why they could not run (no Chromium here). */
export async function browserBenchmarks(params: Params, log: Log): Promise<BrowserResult | NotRun> {
  const found = chromiumAvailability();
  if (!found.available) return { notRun: `Chromium is missing: ${found.detail}; ${found.install}` };
  const cleanups: (() => unknown)[] = [];
  const server = await Worker.start('browser server', DEFAULT_INSTALL);
  try {
    const target = await server.call<Target>({ cmd: 'listen', impl: 'lnpeer-ws', maxPeers: 1_000 });
    const ports = [target.port];
    while (ports.length < ROTATED_ENDPOINTS) ports.push((await server.call<Target>({ cmd: 'listenAgain', impl: 'lnpeer-ws' })).port);
    const page = (await openPage(scenarioContext(cleanups)))!;
    await page.page.addScriptTag({ content: await lnmessageBundle() });
    const pageCrypto = await page.run((lnpeer) => lnpeer.cryptoInUse());
    checkBackends('lnpeer in the page', { name: "the browser bundle's defaults", expect: BROWSER_DEFAULTS }, pageCrypto);
    const userAgent = await page.page.evaluate(() => (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent);
    const base = { host: target.host, ports: [target.port], nodeId: target.nodeId, bench: BENCH_TYPE, warmup: params.handshakeWarmup, seconds: params.handshakeSeconds, size: params.small.size, chunk: params.small.chunk };
    const oneEndpoint = await handshakeRates(page, { ...base, mode: 'handshakes' }, params, log, 'one endpoint');
    const rotated = await handshakeRates(page, { ...base, ports, mode: 'handshakes' }, params, log, `${ROTATED_ENDPOINTS} endpoints in turn`);
    const msgs = await messageRates(page, server, { ...base, mode: 'send' }, params, log);
    await page.close();
    const handshakes = Object.fromEntries(HANDSHAKE_CLIENTS.map((c) => [c, { oneEndpoint: oneEndpoint[c], rotated: rotated[c] }])) as BrowserResult['handshakes'];
    return { userAgent, pageCrypto, serverCrypto: server.crypto, handshakes, msgs };
  } finally {
    for (const cleanup of cleanups) await cleanup();
    await closeBrowser();
    await server.stop();
  }
}
