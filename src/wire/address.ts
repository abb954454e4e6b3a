/**
 * BOLT 7 address descriptors ("The `node_announcement` Message"): one type byte and its
 * data. `init` carries one in its `remote_addr` TLV (BOLT 1 "The `init` Message").
 */
import { describe, toHex } from '../bytes.js';
import { checkBytes, isObject } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { formatIpv4, formatIpv6, isIpv4Mapped, isPrivateIpv4, isPrivateIpv6, parseIpv4, parseIpv6 } from './ip.js';
import { onionBytes, onionBytesProblem, parseOnionAddress } from './onion.js';

/** The descriptor types of BOLT 7. `torv2` is deprecated, kept so it can be decoded and shown. */
export type AddressType = 'ipv4' | 'ipv6' | 'torv2' | 'torv3' | 'dns';

/**
 * An address descriptor. `host` is dotted-quad IPv4, RFC 5952 IPv6 (no brackets), an
 * `….onion` name for Tor, or an ASCII DNS hostname.
 */
export interface Address {
  type: AddressType;
  host: string;
  port: number;
}

/**
 * BOLT 7: `1` ipv4 `[4:ipv4_addr][2:port]`; `2` ipv6 `[16:ipv6_addr][2:port]`; `3` deprecated
 * Tor v2 (length 12, a 10-byte onion address and a port); `4` Tor v3 `[35:onion_addr][2:port]`;
 * `5` DNS `[1:hostname_len][hostname_len:hostname][2:port]`.
 */
const ADDRESS_TYPES: readonly AddressType[] = ['ipv4', 'ipv6', 'torv2', 'torv3', 'dns']; // descriptor type = index + 1
/** Size of the address part of the fixed-size types. */
const HOST_BYTES: Readonly<Record<Exclude<AddressType, 'dns'>, number>> = { ipv4: 4, ipv6: 16, torv2: 10, torv3: 35 };

/** Encodes one address descriptor. Throws `INVALID_ADDRESS` for a host or port its type cannot hold. */
export function encodeAddress(address: Address): Uint8Array {
  const { type, port } = checkAddress(address, 'encodeAddress() address');
  const data = hostBytes(address);
  const out = new Uint8Array(1 + data.length + 2);
  out[0] = ADDRESS_TYPES.indexOf(type) + 1;
  out.set(data, 1);
  out[out.length - 2] = port >>> 8;
  out[out.length - 1] = port & 0xff;
  return out;
}

/**
 * Decodes exactly one address descriptor filling all of `bytes`. Throws
 * `INVALID_ADDRESS_DESCRIPTOR` for an unknown type, a wrong length, a port of 0 where BOLT 7
 * forbids it, or a hostname that is not printable ASCII.
 */
export function decodeAddress(bytes: Uint8Array): Address {
  checkBytes(bytes, 'decodeAddress() bytes');
  if (bytes.length === 0) throw invalid(bytes, 'it is empty');
  const type = ADDRESS_TYPES[bytes[0] - 1];
  if (type === undefined) throw invalid(bytes, `type ${bytes[0]} is not one of the BOLT 7 types 1 to 5`);
  if (type === 'dns' && !(bytes[1] > 0)) throw invalid(bytes, 'a dns descriptor needs a hostname of 1 to 255 bytes');
  const hostLength = type === 'dns' ? 1 + bytes[1] : HOST_BYTES[type];
  const expected = 1 + hostLength + 2;
  if (bytes.length !== expected) {
    throw invalid(bytes, `this ${type} descriptor must have ${expected} bytes, not ${bytes.length}`);
  }
  const data = bytes.subarray(1, 1 + hostLength);
  const port = (bytes[expected - 2] << 8) | bytes[expected - 1];
  checkPort(type, port, 'INVALID_ADDRESS_DESCRIPTOR');
  if (type === 'dns' && !isPrintableHostname(data.subarray(1))) {
    // BOLT 7: "`hostname` bytes MUST be ASCII characters".
    throw invalid(bytes, 'the hostname has bytes outside printable ASCII (33 to 126)');
  }
  // BOLT 7 type 4 carries Tor's `PUBKEY | CHECKSUM | VERSION`; rend-spec-v3 [ONIONADDRESS] defines both checks.
  const onionProblem = type === 'torv3' ? onionBytesProblem(data) : undefined;
  if (onionProblem) throw invalid(bytes, `its Tor v3 onion address is not valid: ${onionProblem}`);
  return { type, host: hostText(type, data), port };
}

/** Human-readable `host:port` (`[host]:port` for IPv6). Throws `INVALID_ADDRESS` for anything but an `Address`. */
export function formatAddress(address: Address): string {
  checkAddress(address, 'formatAddress() address');
  return address.type === 'ipv6' ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * The address of an IP `host` (IPv4 or IPv6 text, as a socket reports it) and `port`. An
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) becomes `ipv4`. Throws `INVALID_ADDRESS`.
 */
export function ipAddress(host: string, port: number): Address {
  if (typeof host !== 'string') throw new LnPeerError('INVALID_ADDRESS', `ipAddress() host must be an IPv4 or IPv6 address as text, got ${describe(host)}`);
  const v4 = parseIpv4(host);
  const v6 = v4 ? undefined : parseIpv6(host);
  let address: Address;
  if (v4) address = { type: 'ipv4', host: formatIpv4(v4), port };
  else if (v6 && isIpv4Mapped(v6)) address = { type: 'ipv4', host: formatIpv4(v6.subarray(12)), port };
  else if (v6) address = { type: 'ipv6', host: formatIpv6(v6), port };
  else throw new LnPeerError('INVALID_ADDRESS', `host ${JSON.stringify(host)} is not an IPv4 or IPv6 address`, { host });
  checkPort(address.type, port, 'INVALID_ADDRESS');
  return address;
}

/**
 * True for an IP address that is not publicly routable (loopback, RFC 1918, link-local, …).
 * BOLT 1 "The `init` Message": the sender "SHOULD NOT set private addresses as `remote_addr`".
 * Tor and DNS addresses are never private. Throws `INVALID_ADDRESS` for anything but a valid `Address`.
 */
export function isPrivateAddress(address: Address): boolean {
  checkAddress(address, 'isPrivateAddress() address');
  if (address.type === 'ipv4') return isPrivateIpv4(hostBytes(address));
  if (address.type === 'ipv6') return isPrivateIpv6(hostBytes(address));
  return false;
}

/** Checks the shape of `address` (`what` names it): a known type, a host string, a port its type allows. Throws `INVALID_ADDRESS`. */
function checkAddress(address: Address, what: string): Address {
  if (!isObject(address)) throw new LnPeerError('INVALID_ADDRESS', `${what} must be an object { type, host, port }, got ${describe(address)}`);
  const { type, host, port } = address;
  if (!ADDRESS_TYPES.includes(type)) throw new LnPeerError('INVALID_ADDRESS', `${what} type must be one of ${ADDRESS_TYPES.join(', ')}, got ${describe(type)}`);
  if (typeof host !== 'string') throw new LnPeerError('INVALID_ADDRESS', `${what} host must be a string (${HOST_RULES[type]}), got ${describe(host)}`);
  checkPort(type, port, 'INVALID_ADDRESS');
  return address;
}

function hostBytes({ type, host }: Address): Uint8Array {
  if (type === 'torv3') return torv3Bytes(host);
  const bytes =
    type === 'ipv4' ? parseIpv4(host) : type === 'ipv6' ? parseIpv6(host) : type === 'dns' ? dnsBytes(host) : torv2Bytes(host);
  if (!bytes) {
    throw new LnPeerError('INVALID_ADDRESS', `host ${JSON.stringify(host)} is not a valid ${type} address: ${HOST_RULES[type]}`, {
      host,
    });
  }
  return bytes;
}

const HOST_RULES: Readonly<Record<AddressType, string>> = {
  ipv4: 'use dotted-quad text such as 203.0.113.7',
  ipv6: 'use IPv6 text such as 2001:db8::1, without brackets or zone',
  torv2: 'use 16 base32 characters followed by .onion',
  torv3: 'use 56 base32 characters followed by .onion',
  dns: 'use 1 to 255 printable ASCII characters (BOLT 7 requires ASCII; encode others with Punycode)',
};

function dnsBytes(host: string): Uint8Array | undefined {
  if (!/^[\x21-\x7e]{1,255}$/.test(host)) return undefined;
  return Uint8Array.from([host.length, ...Array.from(host, (ch) => ch.charCodeAt(0))]);
}

/** `PUBKEY | CHECKSUM | VERSION` of a v3 onion host, checksum and version verified. Throws `INVALID_ADDRESS`. */
function torv3Bytes(host: string): Uint8Array {
  let publicKey: Uint8Array;
  try {
    ({ publicKey } = parseOnionAddress(host));
  } catch (err) {
    const reason = err instanceof LnPeerError && typeof err.details.reason === 'string' ? err.details.reason : HOST_RULES.torv3;
    throw new LnPeerError('INVALID_ADDRESS', `host ${JSON.stringify(host)} is not a valid torv3 address: ${reason}`, { host, reason }, { cause: err });
  }
  return onionBytes(publicKey);
}

function torv2Bytes(host: string): Uint8Array | undefined {
  const name = host.toLowerCase();
  if (!name.endsWith('.onion')) return undefined;
  const bytes = fromBase32(name.slice(0, -'.onion'.length));
  return bytes?.length === HOST_BYTES.torv2 ? bytes : undefined;
}

function hostText(type: AddressType, data: Uint8Array): string {
  if (type === 'ipv4') return formatIpv4(data);
  if (type === 'ipv6') return formatIpv6(data);
  if (type === 'dns') return String.fromCharCode(...data.subarray(1));
  return `${toBase32(data)}.onion`;
}

/** BOLT 7: no `type 1`, `type 2` or `type 5` descriptor "with `port` equal to 0". */
function checkPort(type: AddressType, port: number, code: 'INVALID_ADDRESS' | 'INVALID_ADDRESS_DESCRIPTOR'): void {
  const min = type === 'torv2' || type === 'torv3' ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 0xffff) {
    throw new LnPeerError(code, `port ${String(port)} is not valid for a ${type} address: allowed are ${min} to 65535`, { port });
  }
}

function isPrintableHostname(bytes: Uint8Array): boolean {
  return bytes.every((b) => b >= 33 && b <= 126);
}

function invalid(bytes: Uint8Array, why: string): LnPeerError {
  const shown = bytes.length > 40 ? `${toHex(bytes.subarray(0, 40))}…` : toHex(bytes);
  return new LnPeerError('INVALID_ADDRESS_DESCRIPTOR', `address descriptor ${shown || '(empty)'} is not valid: ${why}`, {
    value: toHex(bytes),
  });
}

// RFC 4648 base32, lowercase, as Tor writes onion addresses. 10 and 35 bytes need no padding.
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function toBase32(bytes: Uint8Array): string {
  let text = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return text;
}

function fromBase32(text: string): Uint8Array | undefined {
  if (text.length % 8 !== 0) return undefined;
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const digit = BASE32.indexOf(ch);
    if (digit < 0) return undefined;
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(out);
}
