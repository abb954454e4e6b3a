/**
 * One interface for every interop partner, so one test body can check every pairing.
 *
 * A partner is another implementation of BOLT 8 (+ BOLT 1). Its driver hides how that
 * implementation is started and fed (a Python process, wasm, rxjs, a Duplex stream) and
 * shows each connection as a `PartnerConnection`: whole Lightning messages in and out.
 */
import { randomBytes } from 'node:crypto';
import { getPublicKey } from '@noble/secp256k1';
import { withTimeout } from '../wait.js';

export type Role = 'initiator' | 'responder';

/** One whole Lightning message: 2-byte big-endian type + payload (no length prefix). */
export type Message = Uint8Array;

export interface PartnerConnection {
  /** The partner, e.g. `electrum-raw`, `electrum-peer`, `lnsocket`, `lnmessage`, `node-lightning`. */
  readonly name: string;
  readonly role: Role;
  /** The partner's own node id (66 hex). */
  readonly localNodeId: string;
  /** The other side's node id (66 hex), as the partner learnt it from the handshake. */
  readonly remoteNodeId: string;
  /**
   * Partners that run BOLT 1 `init` on their own (electrum-peer, lnsocket, lnmessage):
   * the `init` each way, whole messages. Absent for raw transports, where the test sends
   * and reads `init` like any other message.
   */
  readonly init?: { readonly sent: Message; readonly received: Message };
  /** The partner encrypts and sends one whole message; resolves once it was written. */
  send(message: Message): Promise<void>;
  /**
   * The next message the partner decrypted, in order. Self-`init` partners never show
   * the remote's `init` here, but do show everything after it (pings and pongs included).
   * Rejects on timeout, or when the connection has ended and nothing is left to read.
   */
  nextMessage(timeoutMs?: number): Promise<Message>;
  /**
   * Partners that ping on their own (electrum-peer, lnsocket, lnmessage): makes the partner
   * send the `ping` it builds itself (its keepalive's, where it has one); resolves with that
   * `ping`, whole, once written. Absent for raw transports.
   */
  ping?(): Promise<Message>;
  /**
   * What `nextMessage` shows: `all` (every message after `init`; transports and wallets) or
   * `custom` (only what a node hands to its custom-message API: Core Lightning's `custommsg`
   * hook, LDK's `CustomMessageHandler`; pings and pongs never show). Default `all`.
   */
  readonly shows?: 'all' | 'custom';
  /**
   * Nodes that ping with their own machinery and check the pong themselves (Core Lightning's
   * `ping` RPC, LDK's timer tick): the partner pings, and this resolves once the partner
   * accepted the pong, with the `num_pong_bytes` it asked for and the `byteslen` it got.
   */
  pingRoundTrip?(): Promise<{ numPongBytes: number; pongBytes: number }>;
  /**
   * Nodes: the `warning` and `error` messages the partner received on this connection, as
   * its own log or API reports them (their text), oldest first.
   */
  receivedWarnings?(): Promise<string[]>;
  /** Closes from the partner's side and frees everything it holds (process, socket, wasm). */
  close(): Promise<void>;
  /** Resolves (never rejects) when the partner sees the connection end, with why. */
  readonly closed: Promise<{ reason: string }>;
}

export interface ConnectOptions {
  /** The node to connect to (the thing under test, or another partner). */
  nodeId: string;
  host: string;
  port: number;
  /** The partner's static key: 32 bytes or 64 hex. Ignored by nodes with an identity of their own (`Partner.nodeId`). */
  privateKey: Uint8Array | string;
  /** Handshake (and, for self-`init` partners, `init`) must finish within this. Default 10 s. */
  timeoutMs?: number;
}

export interface ListenOptions {
  /** Ignored by nodes with an identity of their own (`Partner.nodeId`). */
  privateKey: Uint8Array | string;
  timeoutMs?: number;
}

/** A partner listening on 127.0.0.1 (port chosen by the OS) for exactly one connection. */
export interface PartnerListener {
  readonly nodeId: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The first inbound connection, once its handshake (and self-`init`) is done. */
  readonly accepted: Promise<PartnerConnection>;
  /** Stops listening, and closes the accepted connection if there is one. */
  close(): Promise<void>;
}

export interface Partner {
  readonly name: string;
  /**
   * A node with an identity of its own (a running Core Lightning or LDK node): every
   * connection it makes or accepts has this node id, whatever `privateKey` says.
   */
  readonly nodeId?: string;
  /** The partner as initiator. */
  connect(options: ConnectOptions): Promise<PartnerConnection>;
  /** The partner as responder; absent for initiator-only partners. */
  listen?(options: ListenOptions): Promise<PartnerListener>;
}

/** A connection ended, or never came up; `reason` is the partner's own account. */
export class PartnerClosedError extends Error {
  constructor(
    readonly partner: string,
    readonly reason: string,
    /** What a self-`init` partner had exchanged before it closed. */
    readonly init?: { sent?: Message; received?: Message },
  ) {
    super(`${partner}: connection closed: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the drivers.

export const DEFAULT_TIMEOUT_MS = 10_000;

export { deferred, withTimeout } from '../wait.js';

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function keyBytes(key: Uint8Array | string): Uint8Array {
  const bytes = typeof key === 'string' ? fromHex(key) : key;
  if (bytes.length !== 32) throw new Error(`private key must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

export function nodeIdOf(key: Uint8Array | string): string {
  return toHex(getPublicKey(keyBytes(key), true));
}

export function randomKey(): Uint8Array {
  for (;;) {
    const key = new Uint8Array(randomBytes(32));
    try {
      nodeIdOf(key);
      return key;
    } catch {
      // not a valid scalar (astronomically rare): draw again
    }
  }
}

/**
 * The receive side of a connection: messages in arrival order, waiters served in order,
 * and an end that lets queued messages drain before reads start to fail.
 */
export class MessageQueue {
  private readonly messages: Message[] = [];
  private readonly waiters: { resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  private ended?: Error;

  constructor(private readonly name: string) {}

  push(message: Message): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.messages.push(message);
  }

  end(error: Error): void {
    this.ended ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.ended);
  }

  get length(): number {
    return this.messages.length;
  }

  next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Message> {
    const queued = this.messages.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<Message>((resolve, reject) => {
      const waiter = {
        resolve: (m: Message) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no message within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.waiters.push(waiter);
    });
  }
}

// ---------------------------------------------------------------------------------------
// Clean-up: every driver registers what it must release; tests call `closeAllPartners()`
// in an `afterEach`, so a failed assertion never leaves a process or a socket behind.

const live = new Map<() => Promise<void>, string>();

/** How long one release may take before the clean-up reports it (and the test fails). */
const RELEASE_TIMEOUT_MS = 10_000;

/**
 * Registers a release function for `what` (named when it fails or hangs); returns one that
 * runs it once and unregisters it.
 */
export function track(what: string, release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => {
    live.delete(once);
    done ??= release();
    return done;
  };
  live.set(once, what);
  return once;
}

/** Releases everything any driver still holds; throws, naming them, if some release failed or hung. */
export async function closeAllPartners(): Promise<void> {
  const results = await Promise.allSettled([...live].map(([release, what]) => withTimeout(release(), RELEASE_TIMEOUT_MS, `releasing ${what}`)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
  if (failures.length > 0) throw new Error(`clean-up failed: ${failures.join('; ')}`);
}
