/** The commands the orchestrator sends to a worker process, and what they answer. */
import type { Target } from './impls.js';

export type Command =
  | { cmd: 'listen'; impl: string; maxPeers: number }
  | { cmd: 'listenAgain'; impl: string }
  | { cmd: 'handshakes'; impl: string; target: Target; seconds: number; warmup: number; concurrency: number }
  | { cmd: 'connect'; impl: string; target: Target; hello: boolean }
  | { cmd: 'awaitLink' }
  | { cmd: 'resetLink' }
  | { cmd: 'closeLink' }
  /** Arms the receive counter (answers at once); `received` then answers when it is done. */
  | { cmd: 'receive'; warmMs: number; windowMs: number }
  | { cmd: 'received' }
  /** Sends until `stop`. */
  | { cmd: 'send'; size: number; chunk: number }
  | { cmd: 'stop' }
  | { cmd: 'echo'; size: number }
  | { cmd: 'rtt'; impl: string; target: Target; samples: number; warm: number; perConnection: number; size: number }
  | { cmd: 'connectMany'; impl: string; target: Target; count: number; concurrency: number }
  | { cmd: 'closeMany' }
  /** Memory of this process, and the connections of its `impl` server. */
  | { cmd: 'memory'; impl: string }
  | { cmd: 'cryptoCost'; size: number; iterations: number }
  /** bench/commando.ts in this process: Commando against Core Lightning, and `Requests`. */
  | { cmd: 'commando'; seconds: number; rounds: number; warmupCalls: number }
  | { cmd: 'versions' }
  | { cmd: 'exit' };

export interface HandshakeResult {
  count: number;
  seconds: number;
  cpuMicros: number;
}

export interface ReceiveResult {
  messages: number;
  bytes: number;
  seconds: number;
  /** CPU time (user + system) of the receiving process over the measured messages. */
  cpuMicros: number;
}

export interface SendResult {
  messages: number;
  seconds: number;
  cpuMicros: number;
}

export interface RttResult {
  /** Every round trip, in microseconds. */
  times: number[];
}

export interface MemoryResult {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  connected: number;
}

/** The names of lnpeer's crypto backends, as `cryptoInUse()` reports them. */
export interface CryptoNames {
  curve: string;
  aead: string;
}

export interface CryptoCost extends CryptoNames {
  /** Microseconds per message: `MessageEncryptor.encrypt` (two AEAD seals). */
  encrypt: number;
  /** Microseconds per message: `MessageDecryptor.push` of one packet (two AEAD opens). */
  decrypt: number;
}

export interface Versions {
  node: string;
  cpus: number;
  cpuModel: string;
  packages: Record<string, string>;
}

/** A scenario that did not run, and why. */
export interface NotRun {
  notRun: string;
}
