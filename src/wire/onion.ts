/**
 * Tor v3 onion addresses, checksum included. Pure: no Node built-ins.
 *
 * rend-spec-v3 "Encoding onion addresses [ONIONADDRESS]":
 *
 *     onion_address = base32(PUBKEY | CHECKSUM | VERSION) + ".onion"
 *     CHECKSUM = H(".onion checksum" | PUBKEY | VERSION)[:2]    H = SHA3-256, VERSION = 0x03
 *
 * PUBKEY is the service's 32-byte ed25519 identity key. The checksum exists to catch typos:
 * an address whose checksum does not match is refused, never "corrected".
 */
import { sha3_256 } from '@noble/hashes/sha3.js';
import { describe, toHex } from '../bytes.js';
import { LnPeerError } from '../errors.js';

/** A parsed Tor v3 onion address. */
export interface OnionAddress {
  /** The service's ed25519 identity public key (32 bytes). */
  publicKey: Uint8Array;
  /** The address version: always 3 (v2 addresses are refused). */
  version: 3;
  /** The canonical text: 56 lowercase base32 characters and `.onion`. */
  host: string;
}

/** The version byte of a v3 address. */
export const ONION_V3_VERSION = 3;
/** `PUBKEY | CHECKSUM | VERSION`: what base32 encodes, and what BOLT 7 address type 4 carries. */
export const ONION_V3_BYTES = 35;
/** Base32 characters before `.onion` in a v3 address (35 bytes × 8 / 5). */
export const ONION_V3_CHARS = 56;

const SUFFIX = '.onion';
const PUBKEY_BYTES = 32;
/** Length of a (deprecated, unsupported by Tor since 0.4.6) v2 address before `.onion`. */
const V2_CHARS = 16;
const CHECKSUM_PREFIX = Uint8Array.from(Array.from('.onion checksum', (ch) => ch.charCodeAt(0)));

/**
 * Parses a Tor v3 onion address (`<56 base32 characters>.onion`, any case). Throws
 * `INVALID_ADDRESS` naming what is wrong: the suffix, the length (a v2 address is named as
 * such), a character outside base32, the version byte, or a checksum mismatch (a typo).
 *
 * @example
 * ```ts
 * parseOnionAddress('25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion').publicKey; // d75a9801…511a
 * ```
 */
export function parseOnionAddress(text: string): OnionAddress {
  if (typeof text !== 'string') {
    throw new LnPeerError('INVALID_ADDRESS', `an onion address must be a string, got ${describe(text)}`);
  }
  const why = textProblem(text);
  if (why) throw invalidOnion(text, why);
  const host = asciiLower(text);
  const bytes = fromBase32(host.slice(0, -SUFFIX.length))!;
  const problem = onionBytesProblem(bytes);
  if (problem) throw invalidOnion(text, problem);
  return { publicKey: bytes.slice(0, PUBKEY_BYTES), version: ONION_V3_VERSION, host };
}

/** True when `text` is a valid Tor v3 onion address (checksum and version included). */
export function isOnionAddress(text: unknown): text is string {
  if (typeof text !== 'string' || textProblem(text)) return false;
  return onionBytesProblem(fromBase32(asciiLower(text).slice(0, -SUFFIX.length))!) === undefined;
}

/**
 * The v3 onion address of an ed25519 public key (32 bytes), lowercase, `.onion` included.
 * Throws `INVALID_ARGUMENT` for anything but 32 bytes.
 */
export function encodeOnionAddress(publicKey: Uint8Array): string {
  return `${toBase32(onionBytes(publicKey))}${SUFFIX}`;
}

/** `PUBKEY | CHECKSUM | VERSION` (35 bytes) for a public key. Throws `INVALID_ARGUMENT`. */
export function onionBytes(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBKEY_BYTES) {
    throw new LnPeerError('INVALID_ARGUMENT', `an onion service public key must be ${PUBKEY_BYTES} bytes, got ${describe(publicKey)}`);
  }
  const out = new Uint8Array(ONION_V3_BYTES);
  out.set(publicKey);
  out.set(checksum(publicKey, ONION_V3_VERSION), PUBKEY_BYTES);
  out[ONION_V3_BYTES - 1] = ONION_V3_VERSION;
  return out;
}

/**
 * Decodes `PUBKEY | CHECKSUM | VERSION` (35 bytes, as in BOLT 7 address type 4). Throws
 * `INVALID_ADDRESS` for a wrong length, version byte or checksum.
 */
export function decodeOnionBytes(bytes: Uint8Array): OnionAddress {
  if (!(bytes instanceof Uint8Array)) throw new LnPeerError('INVALID_ARGUMENT', `onion address bytes must be a Uint8Array, got ${describe(bytes)}`);
  const problem = onionBytesProblem(bytes);
  if (problem) throw new LnPeerError('INVALID_ADDRESS', `onion address bytes ${toHex(bytes)} are not valid: ${problem}`, { value: toHex(bytes), reason: problem });
  const publicKey = bytes.slice(0, PUBKEY_BYTES);
  return { publicKey, version: ONION_V3_VERSION, host: encodeOnionAddress(publicKey) };
}

/** Why 35 address bytes are not a v3 onion address, or `undefined` when they are. */
export function onionBytesProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== ONION_V3_BYTES) return `a v3 onion address has ${ONION_V3_BYTES} bytes, not ${bytes.length}`;
  const version = bytes[ONION_V3_BYTES - 1];
  if (version !== ONION_V3_VERSION) {
    // With 56 characters the version byte is the last 8 bits: a v3 address always ends in "d".
    return `its version byte is ${version} (0x${hex2(version)}), not ${ONION_V3_VERSION} (v3 addresses end in "d"): a typo?`;
  }
  const expected = checksum(bytes.subarray(0, PUBKEY_BYTES), version);
  const found = bytes.subarray(PUBKEY_BYTES, PUBKEY_BYTES + 2);
  if (expected[0] !== found[0] || expected[1] !== found[1]) {
    return `checksum mismatch: the address carries ${toHex(found)} but its public key gives ${toHex(expected)}; a typo?`;
  }
  return undefined;
}

/** rend-spec-v3: CHECKSUM = SHA3-256(".onion checksum" | PUBKEY | VERSION)[:2]. */
function checksum(publicKey: Uint8Array, version: number): Uint8Array {
  const input = new Uint8Array(CHECKSUM_PREFIX.length + PUBKEY_BYTES + 1);
  input.set(CHECKSUM_PREFIX);
  input.set(publicKey, CHECKSUM_PREFIX.length);
  input[input.length - 1] = version;
  return sha3_256(input).subarray(0, 2);
}

/** Problems visible in the text itself: suffix, length, alphabet. */
function textProblem(text: string): string | undefined {
  const lower = asciiLower(text);
  if (!lower.endsWith(SUFFIX)) return `it does not end with "${SUFFIX}"`;
  const name = lower.slice(0, -SUFFIX.length);
  if (name.length === V2_CHARS && fromBase32(name)) {
    return `it is a Tor v2 address (${V2_CHARS} characters), which Tor no longer supports (since 0.4.6): use the service's v3 address (${ONION_V3_CHARS} characters)`;
  }
  if (name.length !== ONION_V3_CHARS) {
    return `it has ${name.length} characters before "${SUFFIX}"; a Tor v3 address has ${ONION_V3_CHARS}`;
  }
  const bad = [...name].findIndex((ch) => !BASE32.includes(ch));
  if (bad >= 0) {
    const hint = '0189'.includes(name[bad]) ? ' (base32 has no 0, 1, 8 or 9: a typo for o, l, b or g?)' : '';
    return `character ${JSON.stringify(name[bad])} at position ${bad + 1} is not base32 (a-z, 2-7)${hint}`;
  }
  return undefined;
}

function invalidOnion(text: string, why: string): LnPeerError {
  return new LnPeerError('INVALID_ADDRESS', `onion address ${JSON.stringify(text)} is not valid: ${why}`, { address: text, reason: why });
}

/** Lowercases A-Z only: `toLowerCase` would turn some non-ASCII letters (the Kelvin sign) into ASCII ones. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

// RFC 4648 base32, lowercase as Tor writes it. 35 bytes are exactly 56 characters: no padding.
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function toBase32(bytes: Uint8Array): string {
  let text = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += BASE32[(value >>> bits) & 31];
    }
  }
  if (bits > 0) text += BASE32[(value << (5 - bits)) & 31];
  return text;
}

/** Lowercase base32 without padding; `undefined` for a character outside the alphabet. */
function fromBase32(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let i = 0;
  for (const ch of text) {
    const digit = BASE32.indexOf(ch);
    if (digit < 0) return undefined;
    value = ((value << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[i++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}
