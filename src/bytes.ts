/** Byte helpers shared by every layer: hex in and out, with errors that say what was wrong. */
import { LnPeerError, type LnPeerErrorCode } from './errors.js';

const HEX_DIGITS = '0123456789abcdef';
/** The two lowercase hex digits of every byte value. */
const BYTE_TO_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15]);
const textDecoder = new TextDecoder();

/**
 * Lowercase hex of `bytes`, as one flat string: node ids are kept per peer and used as map
 * keys, and a string built by concatenation is a rope of many pieces (about 1 KB per id).
 */
export function toHex(bytes: Uint8Array): string {
  const codes = new Uint8Array(bytes.length * 2);
  for (let i = 0; i < bytes.length; i++) {
    const pair = BYTE_TO_HEX[bytes[i]];
    codes[2 * i] = pair.charCodeAt(0);
    codes[2 * i + 1] = pair.charCodeAt(1);
  }
  // Decoding the ASCII codes builds one flat string.
  return textDecoder.decode(codes);
}

/** The value of each ASCII hex digit, -1 for every other character code below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX_VALUE[HEX_DIGITS.charCodeAt(d)] = d;
  HEX_VALUE[HEX_DIGITS.toUpperCase().charCodeAt(d)] = d;
}

/**
 * Parses a hex string (no `0x` prefix, even length) into bytes. `what` names the value in
 * the error message; `code` is the error code used when it is not valid hex.
 */
export function fromHex(hex: string, what: string, code: LnPeerErrorCode = 'INVALID_HEX'): Uint8Array {
  if (hex.length % 2 !== 0) {
    throw new LnPeerError(code, `${what} has odd length ${hex.length}: hex needs two characters per byte`, { value: hex });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = HEX_VALUE[hex.charCodeAt(2 * i)] ?? -1;
    const low = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (high < 0 || low < 0) {
      const bad = high < 0 ? 2 * i : 2 * i + 1;
      throw new LnPeerError(code, `${what} has a non-hex character ${JSON.stringify(hex[bad])} at position ${bad}: only 0-9, a-f and A-F are allowed`, { value: hex });
    }
    out[i] = (high << 4) | low;
  }
  return out;
}

/** Accepts bytes (a `Uint8Array`; a Node `Buffer` is one) or a hex string, and returns bytes. */
export function bytesOrHex(value: Uint8Array | string, what: string, code: LnPeerErrorCode = 'INVALID_HEX'): Uint8Array {
  if (typeof value === 'string') return fromHex(value, what, code);
  if (value instanceof Uint8Array) return value;
  throw new LnPeerError(code, `${what} must be a hex string or a Uint8Array, got ${describe(value)}`);
}

/** A short description of a value of unexpected type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} byte${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Big-endian u16 at `offset`. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 8) | bytes[offset + 1];
}

/** Writes `value` as big-endian u16 at `offset`. */
export function writeU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 8;
  bytes[offset + 1] = value & 0xff;
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * A plain `Uint8Array` copy of `bytes[start, end)`, also when `bytes` is a Node `Buffer`:
 * decoders return copies, since a view would change when the caller reuses its buffer.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}
