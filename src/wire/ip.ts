/** IPv4 and IPv6 addresses as text and bytes, for the BOLT 7 address descriptors. */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The 4 bytes of a dotted-quad IPv4 address (no leading zeros), or `undefined`. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const match = IPV4.exec(text);
  return match ? Uint8Array.from(match.slice(1, 5), Number) : undefined;
}

/** Dotted-quad text of 4 bytes. */
export function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes).join('.');
}

/**
 * The 16 bytes of an IPv6 address in RFC 4291 text form (`::` shorthand and a dotted IPv4
 * tail allowed, no zone id), or `undefined`.
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  let hexText = text;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const v4 = lastColon < 0 ? undefined : parseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    hexText = `${text.slice(0, lastColon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = hexText.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  if (!all.every((g) => HEX_GROUP.test(g))) return undefined;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return undefined;
  const words = [...head.map(hex), ...new Array<number>(8 - all.length).fill(0), ...tail.map(hex)];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text of 16 bytes: lowercase, no leading zeros, the longest run of ≥ 2 zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return text(words);
  return `${text(words.slice(0, bestStart))}::${text(words.slice(bestStart + bestLength))}`;
}

/** True for the IPv4-mapped IPv6 range `::ffff:0:0/96`. */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * True when an IPv4 address is not publicly routable (RFC 6890): this network, private
 * (RFC 1918), shared (100.64/10), loopback, link-local, documentation, benchmarking,
 * multicast and reserved.
 */
export function isPrivateIpv4([a, b, c]: Uint8Array): boolean {
  return (
    a === 0 ||
    a === 10 ||
    (a === 100 && b >= 64 && b < 128) ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19 || (b === 51 && c === 100))) ||
    (a === 203 && b === 0 && c === 113) ||
    a >= 224
  );
}

/**
 * True when an IPv6 address is not publicly routable (RFC 6890): unspecified, loopback,
 * unique local (fc00::/7), link-local (fe80::/10), multicast, documentation (2001:db8::/32),
 * and IPv4-mapped addresses of a private IPv4 address.
 */
export function isPrivateIpv6(bytes: Uint8Array): boolean {
  if (bytes.subarray(0, 15).every((b) => b === 0)) return bytes[15] <= 1;
  if (isIpv4Mapped(bytes)) return isPrivateIpv4(bytes.subarray(12));
  const [a, b, c, d] = bytes;
  return (a & 0xfe) === 0xfc || (a === 0xfe && (b & 0xc0) === 0x80) || a === 0xff || (a === 0x20 && b === 0x01 && c === 0x0d && d === 0xb8);
}

function hex(group: string): number {
  return parseInt(group, 16);
}
