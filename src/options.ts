/**
 * `PeerManager` options: each limit with a safe default, checked once at construction so
 * that a bad value fails early with a message that says what is allowed.
 */
import { bytesOrHex, describe, toHex } from './bytes.js';
import { checkArray, checkObject } from './checks.js';
import { checkProxy, parseProxyUrl, type Socks5Proxy } from './proxy.js';
import { checkPrivateKey, randomBytes, randomPrivateKey } from './crypto/index.js';
import { LnPeerError } from './errors.js';
import { keyPair, type KeyPair } from './noise/index.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './peer.js';
import { DEFAULT_RECONNECT_INITIAL_DELAY_MS, DEFAULT_RECONNECT_MAX_DELAY_MS } from './reconnect.js';
import { checkDuration } from './wait.js';
import { DEFAULT_FEATURES, encodeFeatures } from './wire/features.js';
import { parseNetwork, type NetworkName } from './wire/networks.js';

/** Default of `connectTimeoutMs`: the transport connection (TCP, WebSocket). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default of `initTimeoutMs`: BOLT 1 sets none; Core Lightning waits 60 s, LND 15 s for the handshake and init. */
export const DEFAULT_INIT_TIMEOUT_MS = 15_000;
/** Default of `pingIntervalMs`: LND pings an idle peer every 60 s. */
export const DEFAULT_PING_INTERVAL_MS = 60_000;
/** Default of `pongTimeoutMs`: LND allows 30 s for the pong. */
export const DEFAULT_PONG_TIMEOUT_MS = 30_000;
/** Default of `maxConcurrentHandshakes`: 512 connections in their handshake hold about 1 MiB here. */
export const DEFAULT_MAX_CONCURRENT_HANDSHAKES = 512;
/** Default of `handshakesPerSecondPerHost`: 50 pure-JavaScript handshakes take at most 40% of a core. */
export const DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST = 50;
/** Default of `proxyTimeoutMs`: Tor takes 10 to 30 s to reach an onion service. */
export const DEFAULT_PROXY_TIMEOUT_MS = 60_000;
/** Default of `maxPeers`. */
export const DEFAULT_MAX_PEERS = 10_000;
/** Default of `maxQueuedBytes`: 16 MiB, 256 of the largest messages. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 << 20;

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
  /** Time for the transport connection of `connect()` (TCP, WebSocket), in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Time for the BOLT 8 handshake, in ms (each act also has at most 5 s). Default 15,000. */
  handshakeTimeoutMs?: number;
  /** Time to wait for the remote's `init` after the handshake, in ms. Default 15,000. */
  initTimeoutMs?: number;
  /** Send a `ping` when nothing was received for this long, in ms. Default 60,000. 0 disables. */
  pingIntervalMs?: number;
  /** Disconnect when the `pong` to our `ping` takes longer than this, in ms. Default 30,000. */
  pongTimeoutMs?: number;
  /**
   * Inbound handshakes in progress at once. A connection past this takes the place of the
   * oldest one that has sent nothing yet (idle sockets cannot lock legitimate peers out), or
   * is refused when every one is busy. Default 512.
   */
  maxConcurrentHandshakes?: number;
  /**
   * New inbound connections accepted per second from one IP address (a token bucket holding
   * one second's worth): a handshake costs the responder up to 8 ms of CPU with the default
   * pure-JavaScript curve, and one source must not take a core. Past it, connections from
   * that address are closed at once. Behind a reverse proxy every client has the proxy's
   * address: raise it, or set 0 to turn the limit off. Default 50.
   */
  handshakesPerSecondPerHost?: number;
  /** Connected peers (plus outbound connections in progress) at once; more are refused with `TOO_MANY_PEERS`. Default 10,000. */
  maxPeers?: number;
  /**
   * Bytes waiting to be sent to one peer above which `sendCustomMsg` fails with `QUEUE_FULL`
   * (await earlier sends first). Default 16 MiB.
   */
  maxQueuedBytes?: number;
  /**
   * A SOCKS5 proxy (RFC 1928/1929), such as Tor's SocksPort: `socks5://[user:password@]host:port`
   * or `{ host, port, username?, password? }`. Tor `.onion` addresses always go through it (and
   * cannot be reached without it); other TCP addresses only with `alwaysUseProxy`.
   */
  proxy?: string | Socks5Proxy;
  /** Every outbound TCP connection goes through `proxy`, names resolved by the proxy, never locally (no DNS leak). Default false. */
  alwaysUseProxy?: boolean;
  /**
   * Distinct proxy credentials for each peer (`lnpeer-<peerId>` and a random password), so that
   * Tor (IsolateSOCKSAuth, its default) builds separate circuits per peer. For a proxy without
   * credentials of its own. Default false.
   */
  isolateProxyStreams?: boolean;
  /** Time for the proxy to connect to the target, in ms: Tor takes 10 to 30 s to reach an onion service. Default 60,000. */
  proxyTimeoutMs?: number;
  /**
   * Backoff of persistent peers (`connect(…, { persistent: true })`): the first wait, and the
   * longest, in ms; each wait doubles the one before, times a random factor from 0.5 to 1.5.
   * Defaults 1,000 and 300,000 (Core Lightning's connectd).
   */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * A WebSocket-to-TCP proxy (`ws://…` or `wss://…`) through which every TCP address is
   * reached, as `${wsProxy}/${host}:${port}` (lnmessage's convention): how a web page talks
   * to a node that only listens on TCP. `lnpeer ws-proxy` is one. Default: none.
   */
  wsProxy?: string;
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
  readonly handshakesPerSecondPerHost: number;
  readonly maxPeers: number;
  readonly maxQueuedBytes: number;
  readonly wsProxy: string | undefined;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly proxy: Socks5Proxy | undefined;
  readonly alwaysUseProxy: boolean;
  /** The password of per-peer proxy credentials, when streams are isolated. */
  readonly proxyIsolationPassword: string | undefined;
  readonly proxyTimeoutMs: number;
}

export function resolveOptions(options: PeerManagerOptions = {}): ResolvedOptions {
  checkObject(options, 'PeerManager options');
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
    connectTimeoutMs: duration(options.connectTimeoutMs, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS),
    handshakeTimeoutMs: duration(options.handshakeTimeoutMs, 'handshakeTimeoutMs', DEFAULT_HANDSHAKE_TIMEOUT_MS),
    initTimeoutMs: duration(options.initTimeoutMs, 'initTimeoutMs', DEFAULT_INIT_TIMEOUT_MS),
    pingIntervalMs: duration(options.pingIntervalMs, 'pingIntervalMs', DEFAULT_PING_INTERVAL_MS, true),
    pongTimeoutMs: duration(options.pongTimeoutMs, 'pongTimeoutMs', DEFAULT_PONG_TIMEOUT_MS),
    maxConcurrentHandshakes: count(options.maxConcurrentHandshakes, 'maxConcurrentHandshakes', DEFAULT_MAX_CONCURRENT_HANDSHAKES),
    handshakesPerSecondPerHost: count(options.handshakesPerSecondPerHost, 'handshakesPerSecondPerHost', DEFAULT_HANDSHAKES_PER_SECOND_PER_HOST, true),
    maxPeers: count(options.maxPeers, 'maxPeers', DEFAULT_MAX_PEERS),
    maxQueuedBytes: count(options.maxQueuedBytes, 'maxQueuedBytes', DEFAULT_MAX_QUEUED_BYTES),
    wsProxy: parseWsProxy(options.wsProxy),
    ...proxyOptions(options),
    proxyTimeoutMs: duration(options.proxyTimeoutMs, 'proxyTimeoutMs', DEFAULT_PROXY_TIMEOUT_MS),
    reconnect: {
      initialMs: duration(options.reconnect?.initialDelayMs, 'reconnect.initialDelayMs', DEFAULT_RECONNECT_INITIAL_DELAY_MS),
      maxMs: duration(options.reconnect?.maxDelayMs, 'reconnect.maxDelayMs', DEFAULT_RECONNECT_MAX_DELAY_MS),
    },
  };
}

function proxyOptions(options: PeerManagerOptions): Pick<ResolvedOptions, 'proxy' | 'alwaysUseProxy' | 'proxyIsolationPassword'> {
  const proxy = options.proxy === undefined ? undefined : typeof options.proxy === 'string' ? parseProxyUrl(options.proxy) : (checkProxy(options.proxy), { ...options.proxy });
  const alwaysUseProxy = flag(options.alwaysUseProxy, 'alwaysUseProxy');
  const isolate = flag(options.isolateProxyStreams, 'isolateProxyStreams');
  if ((alwaysUseProxy || isolate) && !proxy) {
    throw new LnPeerError('INVALID_ARGUMENT', `${alwaysUseProxy ? 'alwaysUseProxy' : 'isolateProxyStreams'} needs a proxy: set the proxy option (socks5://host:port)`);
  }
  if (isolate && proxy?.username !== undefined) {
    throw new LnPeerError('INVALID_ARGUMENT', 'isolateProxyStreams sets credentials per peer, so the proxy must have none of its own (Tor needs none)');
  }
  const password = isolate ? toHex(randomBytes(16)) : undefined;
  return { proxy, alwaysUseProxy, proxyIsolationPassword: password };
}

function flag(value: boolean | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new LnPeerError('INVALID_ARGUMENT', `${name} must be true or false, got ${describe(value)}`);
  return value;
}

function parseWsProxy(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.search || url.hash) {
    throw new LnPeerError('INVALID_ARGUMENT', `wsProxy must be a ws:// or wss:// URL without query or fragment, such as "wss://proxy.example.com", got ${describe(value)}`, { value });
  }
  return url.href.replace(/\/+$/, '');
}

function parsePrivateKey(value: Uint8Array | string | undefined): Uint8Array {
  if (value === undefined) return randomPrivateKey();
  const key = bytesOrHex(value, 'privateKey', 'INVALID_PRIVATE_KEY');
  checkPrivateKey(key, 'privateKey');
  return key;
}

function checkIntegers(values: readonly number[], name: string, min: number, max: number): number[] {
  checkArray(values, name, 'integers');
  for (const v of values) {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new LnPeerError('INVALID_ARGUMENT', `${name} contains ${describe(v)}: allowed are integers from ${min} to ${max}`, { value: v });
    }
  }
  return [...values];
}

function duration(value: number | undefined, name: string, fallback: number, zeroAllowed = false): number {
  return value === undefined ? fallback : checkDuration(value, name, zeroAllowed ? 0 : 1);
}

function count(value: number | undefined, name: string, fallback: number, zeroAllowed = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (zeroAllowed ? 0 : 1)) {
    throw new LnPeerError('INVALID_ARGUMENT', `${name} must be ${zeroAllowed ? 'a whole number from 0' : 'a positive integer'}, got ${describe(value)}`, { value });
  }
  return value;
}
