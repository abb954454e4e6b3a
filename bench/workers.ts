/**
 * The orchestrator's side of a worker process (bench/worker.ts): forking it with the crypto
 * backends a column asks for, checking that it got them, and calling its commands over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, CryptoNames } from './protocol.js';

export type Log = (line: string) => void;

/**
 * lnpeer's crypto backends as a column asks for them, in the environment that
 * src/crypto/index.ts reads (`LNPEER_SECP256K1`, `LNPEER_AEAD`), and how `cryptoInUse()` must
 * then name them (the start of each name). src/crypto/index.ts falls back to the fastest
 * backend without a word when the one named is not installed: hence the check.
 */
export interface Backends {
  name: string;
  env: { LNPEER_SECP256K1: string; LNPEER_AEAD: string };
  expect: CryptoNames;
}

/** A backend: its name in the environment variable, and the start of the name `cryptoInUse()` gives it. */
type Choice = readonly [env: string, reported: string];
const WASM: Choice = ['wasm', 'tiny-secp256k1'];
const NATIVE: Choice = ['native', 'secp256k1 ('];
const NOBLE_CURVE: Choice = ['noble', '@noble/secp256k1'];
const NODE: Choice = ['node', 'node:crypto'];
const SODIUM: Choice = ['sodium', 'sodium-native'];
const LIBSODIUM: Choice = ['libsodium', 'libsodium-wrappers'];
const NOBLE_AEAD: Choice = ['noble', '@noble/ciphers'];

function backends(name: string, curve: Choice, aead: Choice): Backends {
  return { name, env: { LNPEER_SECP256K1: curve[0], LNPEER_AEAD: aead[0] }, expect: { curve: curve[1], aead: aead[1] } };
}

/**
 * What `npm install lnpeer` gives in Node: libsecp256k1 and libsodium in wasm (dependencies),
 * node:crypto for large messages. Named, because this machine also has the optional addons.
 */
export const DEFAULT_INSTALL = backends('default install', WASM, LIBSODIUM);
/** The default install plus the optional `secp256k1` native addon. */
export const ADDON = backends('+ secp256k1 addon', NATIVE, LIBSODIUM);
/** node:crypto alone for the AEAD (what the default install uses until libsodium has loaded). */
export const NODE_AEAD = backends('node:crypto AEAD', WASM, NODE);
/** Both native addons: `secp256k1` and `sodium-native`. */
export const ACCELERATED = backends('accelerated', NATIVE, SODIUM);
/** Pure JavaScript, as in a browser. */
export const NOBLE_ONLY = backends('noble only', NOBLE_CURVE, NOBLE_AEAD);

export function envText(env: Backends['env']): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Throws unless `crypto` (what a `cryptoInUse()` says) is what `asked` expects. */
export function checkBackends(where: string, asked: Pick<Backends, 'name' | 'expect'> & { env?: Backends['env'] }, crypto: CryptoNames): void {
  if (crypto.curve.startsWith(asked.expect.curve) && crypto.aead.startsWith(asked.expect.aead)) return;
  const how = asked.env ? ` (${envText(asked.env)})` : '';
  throw new Error(`${where}: asked for ${asked.name}${how}, but cryptoInUse() reports ${crypto.curve} + ${crypto.aead}, not ${asked.expect.curve}… + ${asked.expect.aead}…: is the package installed?`);
}

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

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
    /** lnpeer's backends in this process, as its `cryptoInUse()` reported them at start. */
    readonly crypto: CryptoNames,
  ) {
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
   * Forks a worker with `backends` in its environment (checked against what it reports, and
   * stopped if they differ); `root` runs the worker of another checkout of lnpeer (its bench/ and src/).
   */
  static async start(label: string, backends?: Backends, root?: string): Promise<Worker> {
    // BENCH_CPU_PROF=dir writes a V8 CPU profile of every worker into dir (node --cpu-prof).
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}/${label.replace(/\W+/g, '-')}`] : [];
    const child = fork(root ? join(root, 'bench', 'worker.ts') : WORKER, [], {
      execArgv: ['--conditions=lnpeer-source', '--import', tsxLoader(), '--expose-gc', ...profile],
      env: { ...process.env, ...backends?.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const crypto = await new Promise<CryptoNames>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; crypto?: CryptoNames }) => {
        if (!m.ready) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m.crypto ?? { curve: 'not reported', aead: 'not reported' });
      };
      const onExit = (code: number | null) => reject(new Error(`${label} did not start (exit ${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    const worker = new Worker(child, label, crypto);
    try {
      if (backends) checkBackends(label, backends, crypto);
    } catch (e) {
      await worker.stop();
      throw e;
    }
    return worker;
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

/**
 * Runs `measure` `runs` times for each item, the items taking turns run by run (so that a
 * change of machine load over time hits them alike); returns the values per item.
 */
export async function interleaved<C, T>(items: readonly C[], runs: number, measure: (item: C) => Promise<T>): Promise<Map<C, T[]>> {
  const results = new Map<C, T[]>(items.map((c) => [c, []]));
  for (let run = 0; run < runs; run++) for (const c of items) results.get(c)!.push(await measure(c));
  return results;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
