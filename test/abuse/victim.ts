// The victim of the abuse scenarios: a default PeerManager (plus the options the scenario
// names) in a process of its own, listening on 127.0.0.1 on a port it picks. It answers the
// harness over IPC with what it measured: event-loop delay, memory, peers, the TCP sockets
// it accepted, and the connection:failed / peer:disconnect events it saw.
//
// Run as: node --expose-gc --conditions=lnpeer-source --import tsx test/abuse/victim.ts
// with ABUSE_VICTIM_OPTIONS='{"maxPeers":50}' (JSON PeerManagerOptions) in the environment.
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as lnpeer from '../../src/index.js';
import { PeerManager, type PeerManagerOptions } from '../../src/index.js';
import type { Command, LifetimeBuckets, SocketState, VictimReport } from './protocol.js';
import { LEGIT_HOST, LEGIT_REPLY_TYPE, LEGIT_REQUEST_TYPE, LOOP_RESOLUTION_MS, lifetimeBucket, newLifetimeBuckets, serveCommands } from './protocol.js';

const options = JSON.parse(process.env.ABUSE_VICTIM_OPTIONS ?? '{}') as PeerManagerOptions;
const pm = new PeerManager(options);

// --- Event-loop delay: the 10-ms timer of monitorEventLoopDelay, how late it fired at worst.
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();

// When the worst stalls happened (ms since the baseline), how long they were, and how much CPU
// the process used meanwhile (all its threads): a stall with as much CPU as wall time is the
// victim's own work; one with little CPU is the machine's scheduler (another process ran).
// A watchdog timer of the same period, so that a stall can be matched with what the scenario did.
let since = performance.now();
let stalls: Array<{ atMs: number; ms: number; cpuMs: number }> = [];
let lastTick = performance.now();
let lastCpu = process.cpuUsage();
const watchdog = setInterval(() => {
  const now = performance.now();
  const cpu = process.cpuUsage();
  const late = now - lastTick - LOOP_RESOLUTION_MS;
  if (late >= 50) {
    const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    stalls.push({ atMs: Math.round(now - since - late), ms: Math.round(late), cpuMs: Math.round(cpuMs) });
    if (stalls.length > 40) stalls = stalls.sort((a, b) => b.ms - a.ms).slice(0, 20);
  }
  lastTick = now;
  lastCpu = cpu;
}, LOOP_RESOLUTION_MS);
watchdog.unref();

// --- Memory: the baseline (after gc) and the peak since, sampled every 50 ms.
const gc = (globalThis as { gc?: () => void }).gc;
let baseline = process.memoryUsage();
let peakRss = baseline.rss;
let peakHeap = baseline.heapUsed;
let peakExternal = baseline.external;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peakRss) peakRss = m.rss;
  if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  if (m.external > peakExternal) peakExternal = m.external;
}, 50);
sampler.unref();

// --- The TCP sockets the listener accepted (node:net publishes each one), by "host:port".
const open = new Map<string, { socket: Socket; at: number }>();
/** Sockets closed lately, for the harness to ask about one (a bounded ring: the flood scenarios close thousands). */
const recentlyClosed = new Map<string, SocketState>();
let accepted = 0;
let reads = 0;
let readBytes = 0;
let readBuffers = 0;
let refusedAtAccept = 0;
let peakOpen = 0;
let lifetimes: LifetimeBuckets = newLifetimeBuckets();

diagnostics.subscribe('net.server.socket', (message) => {
  const { socket } = message as { socket: Socket };
  accepted++;
  // lnpeer destroys a refused connection (rate limit, maxPeers) inside its connection handler.
  if (socket.destroyed) {
    refusedAtAccept++;
    lifetimes[lifetimeBucket(0)]++;
    return;
  }
  const key = `${socket.remoteAddress}:${socket.remotePort}`;
  const at = performance.now();
  // How the socket delivers what it reads: chunks and their sizes (each read has its own buffer).
  socket.on('data', (chunk: Buffer) => {
    reads++;
    readBytes += chunk.length;
    readBuffers += chunk.buffer.byteLength;
  });
  open.set(key, { socket, at });
  if (open.size > peakOpen) peakOpen = open.size;
  socket.once('close', () => {
    open.delete(key);
    const lived = performance.now() - at;
    lifetimes[lifetimeBucket(lived)]++;
    recentlyClosed.set(key, { open: false, paused: false, bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, writableLength: 0, livedMs: Math.round(lived) });
    if (recentlyClosed.size > 256) recentlyClosed.delete(recentlyClosed.keys().next().value!);
  });
});

function socketState(key: string): SocketState | undefined {
  const entry = open.get(key);
  if (!entry) return recentlyClosed.get(key);
  const { socket, at } = entry;
  return { open: true, paused: socket.isPaused(), bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, writableLength: socket.writableLength, livedMs: Math.round(performance.now() - at) };
}

// --- What lnpeer reported.
const failed: Record<string, number> = {};
const failedSamples: Record<string, string> = {};
const disconnects: Record<string, number> = {};
/** Disconnect reasons by peer id, for the peers the harness asks about (bounded). */
const disconnectOf = new Map<string, { code: string; reason: string; local: boolean }>();
const legitFailures: string[] = [];
let connects = 0;
let custommsgs = 0;
let workDone = 0;

pm.on('connection:failed', ({ error, address, peerId }) => {
  failed[error.code] = (failed[error.code] ?? 0) + 1;
  failedSamples[error.code] ??= error.message;
  if (address.host === LEGIT_HOST && legitFailures.length < 20) legitFailures.push(`${error.code}: ${error.message}`);
  if (peerId && disconnectOf.size < 1000) disconnectOf.set(peerId, { code: error.code, reason: error.message, local: true });
});
pm.on('peer:connect', () => connects++);
pm.on('peer:disconnect', ({ peerId, reason, error, local }) => {
  const code = error?.code ?? (local ? 'closed by this side' : 'closed by the remote');
  disconnects[code] = (disconnects[code] ?? 0) + 1;
  if (disconnectOf.size < 1000) disconnectOf.set(peerId, { code, reason, local });
});
pm.on('custommsg', ({ peerId, type, payload }) => {
  custommsgs++;
  // "A little work": an FNV-1a hash of the payload, as an application that parses it would.
  let h = 0x811c9dc5;
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i], 0x01000193);
  workDone ^= h;
  if (type === LEGIT_REQUEST_TYPE) {
    const reply = new Uint8Array(2 + payload.length);
    reply[0] = LEGIT_REPLY_TYPE >> 8;
    reply[1] = LEGIT_REPLY_TYPE & 0xff;
    reply.set(payload, 2);
    pm.sendCustomMsg(peerId, reply).catch(() => {});
  }
});
pm.on('error', (error) => {
  failed[`listener ${error.code}`] = (failed[`listener ${error.code}`] ?? 0) + 1;
});

function report(watch: string[] = [], peerIds: string[] = []): VictimReport {
  const m = process.memoryUsage();
  const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const late = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LOOP_RESOLUTION_MS) * 10) / 10);
  return {
    loopDelayMaxMs: late(loop.max),
    loopDelayP99Ms: late(loop.percentile(99)),
    stalls: [...stalls].sort((a, b) => a.atMs - b.atMs),
    rssMB: mb(m.rss),
    heapUsedMB: mb(m.heapUsed),
    peakRssMB: mb(peakRss),
    peakHeapUsedMB: mb(peakHeap),
    baseRssMB: mb(baseline.rss),
    baseHeapUsedMB: mb(baseline.heapUsed),
    externalMB: mb(m.external),
    peakExternalMB: mb(peakExternal),
    baseExternalMB: mb(baseline.external),
    peers: pm.peers().length,
    connects,
    sockets: { open: open.size, accepted, refusedAtAccept, peakOpen, lifetimes, reads, readBytes, readBuffers },
    failed: { ...failed },
    failedSamples: { ...failedSamples },
    disconnects: { ...disconnects },
    legitFailures: [...legitFailures],
    custommsgs,
    workDone,
    watched: Object.fromEntries(watch.map((key) => [key, socketState(key)])),
    peerFates: Object.fromEntries(peerIds.map((id) => [id, disconnectOf.get(id)])),
    connected: peerIds.filter((id) => pm.peer(id) !== undefined),
  };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'baseline': {
      // Settle, collect, then measure from here: memory growth and loop delay are counted from this point.
      for (let i = 0; i < 3; i++) {
        gc?.();
        await new Promise((r) => setTimeout(r, 20));
      }
      baseline = process.memoryUsage();
      peakRss = baseline.rss;
      peakHeap = baseline.heapUsed;
      peakExternal = baseline.external;
      lifetimes = newLifetimeBuckets();
      peakOpen = open.size;
      accepted = 0;
      refusedAtAccept = 0;
      loop.reset();
      since = performance.now();
      stalls = [];
      return report();
    }
    case 'report':
      if (command.gc) gc?.();
      return report(command.watch, command.peerIds);
    case 'resetLoop':
      loop.reset();
      return null;
    case 'connect': {
      const started = performance.now();
      try {
        await pm.connect(command.address, { timeoutMs: command.timeoutMs });
        return { ok: true, ms: Math.round(performance.now() - started) };
      } catch (err) {
        const e = err as { code?: string; message?: string };
        return { ok: false, ms: Math.round(performance.now() - started), error: `${e.code ?? 'non-LnPeerError'}: ${e.message ?? String(err)}` };
      }
    }
    case 'close':
      await pm.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

serveCommands(handle);

const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
// The backends in use (cryptoInUse() where this version of lnpeer has it).
const inUse = (lnpeer as { cryptoInUse?: () => { aead: string; curve: string } }).cryptoInUse?.();
process.send!({ ready: { port, nodeId: pm.nodeId, crypto: inUse ? `${inUse.curve}; ${inUse.aead}` : undefined } });
