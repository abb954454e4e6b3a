/**
 * `PeerManager` options: each limit with a safe default, checked once at construction so
 * that a bad value fails early with a message that says what is allowed.
 */
import { bytesOrHex, describe } from './bytes.js';
import { isValidPrivateKey, randomPrivateKey } from './crypto.js';
import { LnPeerError } from './errors.js';
import { keyPair, type KeyPair } from './noise/index.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './peer.js';
import { DEFAULT_FEATURES, encodeFeatures } from './wire/features.js';
import { parseNetwork, type NetworkName } from './wire/networks.js';

/** Options of a {@link PeerManager}. Every one is optional. */
export interface PeerManagerOptions {
  /** This node's private key: 32 bytes or 64 hex characters. Default: a fresh random key. */
  privateKey?: Uint8Array | string;
  /**
   * Feature bits to offer in `init` on top of the defaults {1, 9, 13, 15, 45}. For a custom
   * protocol use an odd bit ≥ 256 (bLIP-0002); an even bit makes peers without it disconnect.
   * The bits offered here also count as known when the remote sets them.
   */
  features?: readonly number[];
  /**
   * Chains to announce in `init` (`networks`): names (`'bitcoin' | 'testnet' | 'testnet4' |
   * 'signet' | 'regtest'`) or 32-byte chain hashes. Omitted: no `networks` is sent and any
   * remote chain is accepted.
   */
  networks?: ReadonlyArray<NetworkName | string | Uint8Array>;
  /**
   * Even message types this application handles (negotiated, for example, with a feature
   * bit). They are delivered as `custommsg` and may be sent; other unknown even types make
   * lnpeer warn the remote and disconnect (BOLT 1).
   */
  evenTypes?: readonly number[];
  /** Time for the TCP connection of `connect()`, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Time for the BOLT 8 handshake, in ms. Default 15,000. */
  handshakeTimeoutMs?: number;
  /** Time to wait for the remote's `init` after the handshake, in ms. Default 15,000. */
  initTimeoutMs?: number;
  /** Send a `ping` when nothing was received for this long, in ms. Default 60,000. 0 disables. */
  pingIntervalMs?: number;
  /** Disconnect when the `pong` to our `ping` takes longer than this, in ms. Default 30,000. */
  pongTimeoutMs?: number;
  /** Handshakes in progress at once; further inbound connections wait their turn. Default 128. */
  maxConcurrentHandshakes?: number;
  /** Connections (connected or connecting) at once; more are refused. Default 10,000. */
  maxPeers?: number;
  /**
   * Bytes buffered on one connection above which `sendCustomMsg` waits for the socket to
   * drain before writing. Default 1 MiB.
   */
  sendHighWaterMark?: number;
  /**
   * Hard cap on the bytes buffered plus waiting per connection: a send past it fails with
   * `QUEUE_FULL`. Default 16 MiB.
   */
  maxQueuedBytes?: number;
}

/** The options with every default applied and every value checked. */
export interface ResolvedOptions {
  readonly localKey: KeyPair;
  readonly features: Uint8Array;
  readonly offeredBits: ReadonlySet<number>;
  /** Both bits of every offered feature: a remote may require (even) what we offer. */
  readonly knownBits: ReadonlySet<number>;
  readonly networks: readonly Uint8Array[] | undefined;
  readonly evenTypes: ReadonlySet<number>;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly initTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly maxConcurrentHandshakes: number;
  readonly maxPeers: number;
  readonly sendHighWaterMark: number;
  readonly maxQueuedBytes: number;
}

export function resolveOptions(options: PeerManagerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new LnPeerError('INVALID_ARGUMENT', `PeerManager options must be an object, got ${describe(options)}`);
  }
  const bits = new Set([...DEFAULT_FEATURES, ...checkIntegers(options.features ?? [], 'features', 0, 65535 * 8 - 1)]);
  for (const bit of bits) {
    // BOLT 9: the origin node "MUST NOT set both the optional and mandatory bits".
    if (bit % 2 === 0 && bits.has(bit + 1)) {
      throw new LnPeerError('INVALID_ARGUMENT', `features set both bits ${bit} and ${bit + 1} of one feature: offer the even bit (required) or the odd bit (optional), not both`, { bit });
    }
  }
  const evenTypes = checkIntegers(options.evenTypes ?? [], 'evenTypes', 0, 65535);
  const odd = evenTypes.find((t) => t % 2 === 1);
  if (odd !== undefined) {
    throw new LnPeerError('INVALID_ARGUMENT', `evenTypes lists ${odd}, which is odd: odd types are always delivered and need no registration`, { type: odd });
  }
  return {
    localKey: keyPair(parsePrivateKey(options.privateKey)),
    features: encodeFeatures(bits),
    offeredBits: bits,
    knownBits: new Set([...bits].flatMap((bit) => [bit - (bit % 2), bit - (bit % 2) + 1])),
    networks: options.networks?.map((n) => parseNetwork(n)),
    evenTypes: new Set(evenTypes),
    connectTimeoutMs: duration(options.connectTimeoutMs, 'connectTimeoutMs', 10_000),
    handshakeTimeoutMs: duration(options.handshakeTimeoutMs, 'handshakeTimeoutMs', DEFAULT_HANDSHAKE_TIMEOUT_MS),
    initTimeoutMs: duration(options.initTimeoutMs, 'initTimeoutMs', 15_000),
    pingIntervalMs: duration(options.pingIntervalMs, 'pingIntervalMs', 60_000, true),
    pongTimeoutMs: duration(options.pongTimeoutMs, 'pongTimeoutMs', 30_000),
    maxConcurrentHandshakes: count(options.maxConcurrentHandshakes, 'maxConcurrentHandshakes', 128),
    maxPeers: count(options.maxPeers, 'maxPeers', 10_000),
    sendHighWaterMark: count(options.sendHighWaterMark, 'sendHighWaterMark', 1 << 20),
    maxQueuedBytes: count(options.maxQueuedBytes, 'maxQueuedBytes', 16 << 20),
  };
}

function parsePrivateKey(value: Uint8Array | string | undefined): Uint8Array {
  if (value === undefined) return randomPrivateKey();
  const key = bytesOrHex(value, 'privateKey', 'INVALID_PRIVATE_KEY');
  if (!isValidPrivateKey(key)) {
    throw new LnPeerError(
      'INVALID_PRIVATE_KEY',
      key.length !== 32
        ? `privateKey is ${key.length} bytes: a private key is 32 bytes (64 hex characters)`
        : 'privateKey is not a valid secp256k1 scalar: it must be from 1 to n-1 (not zero, not above the curve order)',
    );
  }
  return key;
}

function checkIntegers(values: readonly number[], name: string, min: number, max: number): number[] {
  if (!Array.isArray(values)) {
    throw new LnPeerError('INVALID_ARGUMENT', `${name} must be an array of integers, got ${describe(values)}`);
  }
  for (const v of values) {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new LnPeerError('INVALID_ARGUMENT', `${name} contains ${describe(v)}: allowed are integers from ${min} to ${max}`, { value: v });
    }
  }
  return [...values];
}

function duration(value: number | undefined, name: string, fallback: number, zeroAllowed = false): number {
  if (value === undefined) return fallback;
  // setTimeout's limit: larger values fire at once.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (zeroAllowed ? 0 : 1) || value > 2 ** 31 - 1) {
    throw new LnPeerError('INVALID_ARGUMENT', `${name} must be a whole number of milliseconds from ${zeroAllowed ? 0 : 1} to ${2 ** 31 - 1}, got ${describe(value)}`, { value });
  }
  return value;
}

function count(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new LnPeerError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${describe(value)}`, { value });
  }
  return value;
}
