/**
 * BigSize: the variable-length unsigned integer of BOLT 1 (Appendix A), used for TLV types
 * and lengths. Like Bitcoin's CompactSize, but big-endian.
 */
import { describe } from '../bytes.js';
import { checkBytes } from '../checks.js';
import { LnPeerError } from '../errors.js';

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Encodes `value` (0 ≤ value < 2^64) in the fewest bytes.
 *
 * BOLT 1 "Appendix A: BigSize Test Vectors": `uint8(x)` if x < 0xfd, `0xfd + be16(x)` if
 * x < 0x10000, `0xfe + be32(x)` if x < 0x100000000, `0xff + be64(x)` otherwise.
 */
export function encodeBigSize(value: bigint | number): Uint8Array {
  const x = toU64(value);
  if (x < 0xfdn) return Uint8Array.of(Number(x));
  const width = x < 0x10000n ? 2 : x < 0x100000000n ? 4 : 8;
  const out = new Uint8Array(1 + width);
  out[0] = width === 2 ? 0xfd : width === 4 ? 0xfe : 0xff;
  const view = new DataView(out.buffer);
  if (width === 2) view.setUint16(1, Number(x));
  else if (width === 4) view.setUint32(1, Number(x));
  else view.setBigUint64(1, x);
  return out;
}

/**
 * Decodes one BigSize at `offset` (an integer from 0 to `bytes.length`, else
 * `INVALID_ARGUMENT`). `length` is the number of bytes it took (1, 3, 5 or 9).
 *
 * Throws `UNEXPECTED_EOF` when the bytes end before the value does (including no byte at
 * all), and `BIGSIZE_NOT_CANONICAL` for a value that fits a shorter encoding
 * (BOLT 1 "Appendix A": "All values decoded with BigSize should be checked to ensure they
 * are minimally encoded").
 */
export function decodeBigSize(bytes: Uint8Array, offset = 0): { value: bigint; length: number } {
  checkBytes(bytes, 'decodeBigSize() bytes');
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new LnPeerError('INVALID_ARGUMENT', `decodeBigSize() offset must be an integer from 0 to the length of bytes (${bytes.length}), got ${describe(offset)}`, { offset });
  }
  return readBigSize(bytes, offset);
}

/** `decodeBigSize` for callers whose `offset` is an integer from 0 to `bytes.length` already. */
export function readBigSize(bytes: Uint8Array, offset: number): { value: bigint; length: number } {
  if (offset >= bytes.length) {
    throw new LnPeerError('UNEXPECTED_EOF', `BigSize at offset ${offset}: no bytes left, expected 1 to 9`, { offset });
  }
  const prefix = bytes[offset];
  if (prefix < 0xfd) return { value: BigInt(prefix), length: 1 };
  const width = prefix === 0xfd ? 2 : prefix === 0xfe ? 4 : 8;
  if (offset + 1 + width > bytes.length) {
    throw new LnPeerError(
      'UNEXPECTED_EOF',
      `BigSize at offset ${offset}: prefix 0x${prefix.toString(16)} needs ${width} more bytes, only ${bytes.length - offset - 1} left`,
      { offset },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset + 1, width);
  const value =
    width === 2 ? BigInt(view.getUint16(0)) : width === 4 ? BigInt(view.getUint32(0)) : view.getBigUint64(0);
  const minimum = width === 2 ? 0xfdn : width === 4 ? 0x10000n : 0x100000000n;
  if (value < minimum) {
    throw new LnPeerError(
      'BIGSIZE_NOT_CANONICAL',
      `BigSize at offset ${offset}: value ${value} is encoded in ${1 + width} bytes but a shorter encoding exists; only minimal encodings are allowed`,
      { offset, value: String(value) },
    );
  }
  return { value, length: 1 + width };
}

function toU64(value: bigint | number): bigint {
  if (typeof value !== 'bigint' && typeof value !== 'number') {
    throw new LnPeerError('INVALID_ARGUMENT', `encodeBigSize() value must be a bigint or a number from 0 to 2^64-1, got ${describe(value)}`);
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new LnPeerError('INVALID_ARGUMENT', `BigSize value ${value} is not a safe integer: pass a bigint for values above 2^53`);
  }
  const x = BigInt(value);
  if (x < 0n || x > MAX_U64) {
    throw new LnPeerError('INVALID_ARGUMENT', `BigSize value ${x} is out of range: allowed are 0 to 2^64-1`);
  }
  return x;
}
