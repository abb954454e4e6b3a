/**
 * Where a node is: `peerid@host:port` as people type it, for each transport lnpeer has
 * (TCP, BOLT 8 over WebSocket), and the names shared by every layer for an address and a
 * direction.
 */
import { describe } from './bytes.js';
import { LnPeerError } from './errors.js';
import { nodeIdHex } from './node-id.js';
import { parseIpv4, parseIpv6 } from './wire/ip.js';
import { parseOnionAddress } from './wire/onion.js';

/** A host and a port. `host` is a name, an IPv4 address or an IPv6 address (without brackets). */
export interface NetAddress {
  host: string;
  port: number;
}

/** Who opened a connection: `outbound` when this side did. */
export type Direction = 'inbound' | 'outbound';

/** A parsed peer address. */
export interface PeerAddress extends NetAddress {
  /** The node to reach: 66 lowercase hex characters. */
  peerId: string;
  /** `tcp` for `peerid@host:port`; `ws`/`wss` for BOLT 8 over a WebSocket URL. */
  transport: 'tcp' | 'ws' | 'wss';
  /** For `ws`/`wss`: the whole URL to open. */
  url?: string;
}

/** The default Lightning port (BOLT 1: mainnet 9735). */
export const DEFAULT_PORT = 9735;

const FORMS = '"peerid@host:port" (a DNS name, a Tor .onion name, an IPv4 address or a bracketed IPv6 address; the port defaults to 9735) or "peerid@ws://host:port/path" (also wss://)';

/**
 * Parses a peer address: `peerid@host:port` (a DNS name, a Tor v3 `.onion` name with its
 * checksum checked, an IPv4 address, or an IPv6 address in brackets: `peerid@[::1]:9735`;
 * the port defaults to 9735), or `peerid@ws://host:port[/path]` and `wss://` for BOLT 8 over
 * a WebSocket. Throws `INVALID_NODE_ID` or `INVALID_ADDRESS`.
 *
 * @example
 * ```ts
 * const { peerId, host, port } = parsePeerAddress(`${id}@127.0.0.1:9735`);
 * parsePeerAddress(`${id}@wss://node.example.com/lightning`).url; // 'wss://node.example.com/lightning'
 * ```
 */
export function parsePeerAddress(address: string): PeerAddress {
  if (typeof address !== 'string') {
    throw new LnPeerError('INVALID_ADDRESS', `a peer address must be a string, ${FORMS}; got ${describe(address)}`);
  }
  const at = address.indexOf('@');
  if (at < 0) {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(address)} has no "@": expected ${FORMS}`, { address });
  }
  const peerId = nodeIdHex(address.slice(0, at));
  const rest = address.slice(at + 1);
  const scheme = /^(wss?):\/\//i.exec(rest)?.[1].toLowerCase() as 'ws' | 'wss' | undefined;
  if (scheme) return { peerId, transport: scheme, ...parseWebSocketUrl(rest, address) };
  return { peerId, transport: 'tcp', ...parseHostPort(rest, address, DEFAULT_PORT) };
}

/**
 * `host:port`, `[ipv6]:port`, or a host alone (then `defaultPort`). The host is an IPv4 or a
 * bracketed IPv6 address, a DNS name (RFC 1123: labels of letters, digits and hyphens, at most
 * 253 characters; BOLT 7 address type 5), or a Tor v3 `.onion` name, whose checksum is checked
 * (a typo is an error, not a connection attempt). Throws `INVALID_ADDRESS` naming `whole`.
 */
export function parseHostPort(text: string, whole = text, defaultPort?: number): NetAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]/?#@\s]+))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (!match || port === undefined || port < 1 || port > 65535) {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(whole)}: "${text}" is not a host and a port from 1 to 65535; expected ${FORMS}`, { address: whole });
  }
  const ipv6 = match[1];
  if (ipv6 !== undefined) {
    if (!parseIpv6(ipv6)) throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(whole)}: [${ipv6}] is not an IPv6 address`, { address: whole });
    return { host: ipv6, port };
  }
  const host = match[2];
  if (host.toLowerCase().endsWith('.onion')) return { host: parseOnionAddress(host).host, port };
  if (!parseIpv4(host) && !isDnsName(host)) {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(whole)}: "${host}" is neither an IPv4 address nor a DNS name (letters, digits, hyphens and dots, RFC 1123)`, { address: whole });
  }
  return { host, port };
}

/** RFC 1123 host names: dot-separated labels of 1 to 63 letters, digits and inner hyphens, not all digits at the end. */
function isDnsName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.replace(/\.$/, '').split('.');
  if (!labels.every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))) return false;
  // A name whose last label is all digits would be a mistyped IPv4 address (RFC 3696 §2).
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** True when `host` is a Tor `.onion` name (reached only through a SOCKS5 proxy). */
export function isOnionHost(host: string): boolean {
  return host.toLowerCase().endsWith('.onion');
}

function parseWebSocketUrl(text: string, whole: string): NetAddress & { url: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(whole)}: "${text}" is not a WebSocket URL; expected ${FORMS}`, { address: whole });
  }
  if (url.username || url.password || url.hash) {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(whole)}: a WebSocket URL here has no user, password or #fragment`, { address: whole });
  }
  const port = url.port ? Number(url.port) : url.protocol === 'wss:' ? 443 : 80;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port, url: url.href };
}
