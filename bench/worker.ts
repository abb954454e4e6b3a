/**
 * One benchmark process: the orchestrator (bench/suite.ts) forks a server worker and a client
 * worker per scenario and drives them over the IPC channel, so that sender and receiver each
 * have their own process (and, on 2 cores, their own core). For the scenarios with both ends
 * in one process, the server worker also runs the client, against its own server.
 */
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as crypto from '../src/crypto/index.js';
import { cryptoInUse, randomPrivateKey } from '../src/crypto/index.js';
import { CipherState, MessageDecryptor, MessageEncryptor } from '../src/noise/index.js';
import { IMPLS, benchMessage, type Impl, type Link, type OnMessage, type Server, type Target } from './impls.js';
import type { Command, CryptoCost, HandshakeResult, MemoryResult, ReceiveResult, RttResult, SendResult, Versions } from './protocol.js';

/** The servers this process runs, by implementation. */
const servers = new Map<string, Server>();
/** The client side's persistent connection, or the server side's most recent one. */
let link: Link | undefined;
let counter: Counter | undefined;
let receiving: Promise<ReceiveResult> | undefined;
let echo: Buffer | undefined;

/**
 * Counts received messages: a warm-up of `warmMs` from the first message, then a window of
 * `windowMs` (the clock is read every 64 messages, and on every large one).
 */
interface Counter {
  warmMs: number;
  windowMs: number;
  seen: number;
  bytes: number;
  /** 0 before the first message, then the end of the current phase. */
  until: number;
  measuring: boolean;
  t0: number;
  cpu0: NodeJS.CpuUsage;
  done: (result: ReceiveResult) => void;
}

/** What every received message goes through: counting, echoing, or nothing. */
const onMessage: OnMessage = (length, from) => {
  link = from;
  if (echo) {
    from.send(echo, false);
    return;
  }
  const c = counter;
  if (!c) return;
  if (c.until === 0) {
    c.until = performance.now() + c.warmMs;
    return;
  }
  c.seen++;
  c.bytes += length;
  if ((c.seen & 63) !== 0 && length < 4096) return;
  const now = performance.now();
  if (now < c.until) return;
  if (!c.measuring) {
    c.measuring = true;
    c.seen = 0;
    c.bytes = 0;
    c.t0 = now;
    c.cpu0 = process.cpuUsage();
    c.until = now + c.windowMs;
    return;
  }
  const cpu = process.cpuUsage(c.cpu0);
  counter = undefined;
  stopSending = true;
  c.done({ messages: c.seen, bytes: c.bytes, seconds: (now - c.t0) / 1000, cpuMicros: cpu.user + cpu.system });
};

function impl(name: string): Impl {
  const found = IMPLS[name];
  if (!found) throw new Error(`unknown implementation ${name}`);
  return found;
}

/** Set by the orchestrator (`stop`) once the receiver has its figure. */
let stopSending = false;

/**
 * Sends copies of `message` until told to stop, keeping between `chunk` and 2 × `chunk` of
 * them queued: each chunk waits for the write completion of the last message of the chunk
 * before it (the library's own completion signal: promise or write callback), then for one
 * turn of the event loop.
 */
async function sendBulk(to: Link, message: Buffer, chunk: number): Promise<number> {
  let previous: Promise<void> | undefined;
  let sent = 0;
  stopSending = false;
  while (!stopSending) {
    let last: Promise<void> | undefined;
    for (let i = 0; i < chunk; i++) last = to.send(message, i === chunk - 1);
    sent += chunk;
    await previous;
    previous = last;
    // Let the event loop run (I/O, and the orchestrator's `stop`): with write callbacks that
    // come on process.nextTick, awaiting them alone would never leave this loop.
    await new Promise(setImmediate);
  }
  await previous;
  return sent;
}

async function handshakes(name: string, target: Target, seconds: number, warmup: number, concurrency: number): Promise<HandshakeResult> {
  const clients = Array.from({ length: concurrency }, () => impl(name).createClient(randomPrivateKey()));
  const noop: OnMessage = () => {};
  let warmLeft = warmup;
  await Promise.all(
    clients.map(async (client) => {
      while (warmLeft-- > 0) await (await client.connect(target, noop)).close();
    }),
  );
  let count = 0;
  let last = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < deadline) {
        const l = await client.connect(target, noop);
        count++;
        last = performance.now();
        await l.close();
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { count, seconds: (last - start) / 1000, cpuMicros: cpu.user + cpu.system };
}

async function rtt(name: string, target: Target, samples: number, warm: number, perConnection: number, size: number): Promise<RttResult> {
  const client = impl(name).createClient(randomPrivateKey());
  const message = benchMessage(size);
  let waiter: (() => void) | undefined;
  const onReply: OnMessage = () => waiter?.();
  const times: number[] = [];
  let current: Link | undefined;
  for (let i = 0; i < warm + samples; i++) {
    // @node-lightning/noise fails once both directions rotated their keys (after 500 messages
    // each way): every implementation gets a fresh connection every `perConnection` round trips.
    if (i % perConnection === 0) {
      await current?.close();
      current = await client.connect(target, onReply);
    }
    const replied = new Promise<void>((resolve) => (waiter = resolve));
    const t0 = process.hrtime.bigint();
    current!.send(message, false);
    await replied;
    const t1 = process.hrtime.bigint();
    if (i >= warm) times.push(Number(t1 - t0) / 1000);
  }
  await current?.close();
  return { times };
}

async function connectMany(name: string, target: Target, count: number, concurrency: number): Promise<number> {
  const noop: OnMessage = () => {};
  let next = 0;
  let done = 0;
  const links: Link[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        // A distinct node id per connection: lnpeer keeps one connection per node id.
        links.push(await impl(name).createClient(randomPrivateKey()).connect(target, noop));
        done++;
      }
    }),
  );
  manyLinks = links;
  return done;
}
let manyLinks: Link[] = [];

async function memory(name: string): Promise<MemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the worker with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, connected: servers.get(name)?.connected() ?? manyLinks.length };
}

/** lnpeer's own cost to encrypt and to decrypt one message of `size` bytes, in this process. */
function cryptoCost(size: number, iterations: number): CryptoCost {
  const key = randomPrivateKey();
  const ck = randomPrivateKey();
  const encryptor = new MessageEncryptor(new CipherState(key, ck));
  const decryptor = new MessageDecryptor(new CipherState(key, ck));
  const message = benchMessage(size);
  const packets: Uint8Array[] = new Array(1000);
  // Batches of 1,000, so that the packets stay few and young (as on a connection).
  const run = (n: number) => {
    let encrypt = 0;
    let decrypt = 0;
    let received = 0;
    for (let done = 0; done < n; done += packets.length) {
      const t0 = performance.now();
      for (let i = 0; i < packets.length; i++) packets[i] = encryptor.encrypt(message);
      const t1 = performance.now();
      for (const p of packets) {
        decryptor.push(p);
        while (decryptor.next()) received++;
      }
      encrypt += t1 - t0;
      decrypt += performance.now() - t1;
    }
    if (received !== Math.ceil(n / packets.length) * packets.length) throw new Error('decryption lost messages');
    return { encrypt: (encrypt * 1000) / received, decrypt: (decrypt * 1000) / received };
  };
  run(Math.min(iterations, 5000)); // warm-up
  return { ...run(iterations), ...cryptoInUse() };
}

function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function versions(): Versions {
  const names = ['lnpeer', '@node-lightning/noise', 'lnmessage', 'tiny-secp256k1', 'secp256k1', 'sodium-native', '@noble/secp256k1', '@noble/ciphers', '@noble/hashes'];
  const packages: Record<string, string> = {};
  for (const name of names) {
    packages[name] = name === 'lnpeer'
      ? (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
      : packageVersion(name);
  }
  return { node: process.version, cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', packages };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'listen': {
      const server = await impl(command.impl).createServer!(randomPrivateKey(), onMessage, command.maxPeers);
      servers.set(command.impl, server);
      return server.target;
    }
    case 'listenAgain': {
      const server = servers.get(command.impl);
      if (!server?.listenAgain) throw new Error(`${command.impl}: no server that can listen on another port`);
      return server.listenAgain();
    }
    case 'handshakes':
      return handshakes(command.impl, command.target, command.seconds, command.warmup, command.concurrency);
    case 'connect':
      link = await impl(command.impl).createClient(randomPrivateKey()).connect(command.target, onMessage);
      // The server learns of this connection (to send on it) from a first message.
      if (command.hello) await link.send(benchMessage(100), true);
      return null;
    case 'awaitLink':
      while (!link) await sleep(1);
      return null;
    case 'resetLink':
      link = undefined;
      return null;
    case 'receive':
      receiving = new Promise<ReceiveResult>((done) => {
        counter = { warmMs: command.warmMs, windowMs: command.windowMs, seen: 0, bytes: 0, until: 0, measuring: false, t0: 0, cpu0: process.cpuUsage(), done };
      });
      return null;
    case 'received':
      return receiving;
    case 'send': {
      if (!link) throw new Error('no connection to send on');
      const message = benchMessage(command.size);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const messages = await sendBulk(link, message, command.chunk);
      const cpu = process.cpuUsage(cpu0);
      return { messages, seconds: (performance.now() - t0) / 1000, cpuMicros: cpu.user + cpu.system } satisfies SendResult;
    }
    case 'stop':
      stopSending = true;
      return null;
    case 'closeLink': {
      const l = link;
      link = undefined;
      await l?.close();
      return null;
    }
    case 'echo':
      echo = command.size > 0 ? benchMessage(command.size) : undefined;
      return null;
    case 'rtt':
      return rtt(command.impl, command.target, command.samples, command.warm, command.perConnection, command.size);
    case 'connectMany':
      return connectMany(command.impl, command.target, command.count, command.concurrency);
    case 'memory':
      return memory(command.impl);
    case 'closeMany': {
      const links = manyLinks;
      manyLinks = [];
      await Promise.all(links.map((l) => l.close()));
      return null;
    }
    case 'cryptoCost':
      return cryptoCost(command.size, command.iterations);
    case 'commando': {
      const { seconds, rounds, warmupCalls } = command;
      return (await import('./commando.js')).commandoBenchmarks({ seconds, rounds, warmupCalls });
    }
    case 'versions':
      return versions();
    case 'exit':
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: Error) => process.send!({ id: message.id, error: error?.stack ?? String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
// The backends this process got from LNPEER_SECP256K1 / LNPEER_AEAD: the orchestrator checks them.
// The backends that load asynchronously (libsodium in wasm) first; a baseline checkout may predate cryptoReady.
await (crypto as { cryptoReady?: Promise<void> }).cryptoReady;
process.send!({ ready: true, crypto: cryptoInUse() });
