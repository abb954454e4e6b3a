/**
 * The field types of message schemas (see schema.ts): the BOLT 1 "Fundamental Types", each
 * with an encoder that checks the JS value and a decoder that checks the bytes. Pure: no I/O,
 * no Node built-ins.
 *
 * JS values: `byte`/`u8`/`u16`/`u32`/`s8`/`s16`/`s32`/`tu16`/`tu32` are `number`;
 * `u64`/`s64`/`tu64`/`bigsize` are `bigint`; every byte-string type is a `Uint8Array` (in and
 * out, decoders return copies); `short_channel_id` is the string `BLOCKxTXxOUT`; `utf8` is a
 * `string`.
 */
import { copyBytes, describe, toHex } from '../bytes.js';
import { isValidPublicKey } from '../crypto/index.js';
import { LnPeerError, type LnPeerErrorCode } from '../errors.js';
import { encodeBigSize, readBigSize } from '../wire/bigsize.js';
import { decodeTruncated } from '../wire/tlv.js';

/** The JS value of each named field type. */
export interface ScalarValues {
  byte: number;
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  s8: number;
  s16: number;
  s32: number;
  s64: bigint;
  tu16: number;
  tu32: number;
  tu64: bigint;
  bigsize: bigint;
  chain_hash: Uint8Array;
  channel_id: Uint8Array;
  sha256: Uint8Array;
  point: Uint8Array;
  signature: Uint8Array;
  short_channel_id: string;
  /** `[u16:len][len*utf8]`: a string, valid UTF-8 on the wire. */
  utf8: string;
  /** `[u16:len][len*byte]`. */
  bytes: Uint8Array;
}

/** A field type written by name: `'u64'`, `'point'`, `'utf8'`, … */
export type ScalarType = keyof ScalarValues;
/** The truncated integers: only as the last field of a TLV record. */
export type TruncatedType = 'tu16' | 'tu32' | 'tu64';

/** `N*byte`: exactly `size` bytes. Build with `fixedBytes(size)`. */
export interface FixedBytes<N extends number = number> {
  readonly kind: 'fixed';
  readonly size: N;
}

/** What an array can hold: any self-delimiting type (no truncated integer, no array). */
export type ItemType = Exclude<ScalarType, TruncatedType> | FixedBytes;

/**
 * `count*item`: as many items as the earlier field named `count` says (BOLT style
 * `[u16:num_keys][num_keys*point:keys]`). The count field is written from the array's
 * length and is not part of the JS value. Build with `arrayOf(item, count)`.
 */
export interface ArrayOf<I extends ItemType = ItemType, C extends string = string> {
  readonly kind: 'array';
  readonly item: I;
  readonly count: C;
}

/** `...*item`: items up to the end of the TLV record (BOLT 1 `init` `networks`). Build with `restOf(item)`. */
export interface RestOf<I extends ItemType = ItemType> {
  readonly kind: 'rest';
  readonly item: I;
}

/** Any field type. */
export type FieldType = ScalarType | FixedBytes | ArrayOf | RestOf;

/** Arrays of `byte`/`u8` are a `Uint8Array`, other arrays a JS array. */
export type ItemsValue<I> = I extends 'byte' | 'u8' ? Uint8Array : ItemValue<I>[];
/** The JS value of one array item. */
export type ItemValue<I> = I extends ScalarType ? ScalarValues[I] : I extends FixedBytes ? Uint8Array : never;

/** The JS value of a field type. */
export type FieldValue<T> = T extends ScalarType
  ? ScalarValues[T]
  : T extends FixedBytes
    ? Uint8Array
    : T extends ArrayOf<infer I, string>
      ? ItemsValue<I>
      : T extends RestOf<infer I>
        ? ItemsValue<I>
        : never;

/**
 * `N*byte`: a field of exactly `size` bytes (1 to 65535).
 *
 * @example
 * ```ts
 * defineMessage({ name: 'hello', type: 0xfff1, fields: { nodeId: fixedBytes(33) } });
 * ```
 */
export function fixedBytes<const N extends number>(size: N): FixedBytes<N> {
  return Object.freeze({ kind: 'fixed', size });
}

/**
 * `count*item`: an array whose length is the earlier unsigned integer field `count`.
 *
 * @example
 * ```ts
 * defineMessage({ name: 'ids', type: 0xfff3, fields: { n: 'u16', ids: arrayOf('u64', 'n') } }); // value: { ids: bigint[] }
 * ```
 */
export function arrayOf<const I extends ItemType, const C extends string>(item: I, count: C): ArrayOf<I, C> {
  return Object.freeze({ kind: 'array', item, count });
}

/**
 * `...*item`: the items filling the rest of a TLV record; only as a TLV record's last field.
 *
 * @example
 * ```ts
 * defineMessage({ name: 'note', type: 0xfff5, fields: {}, tlvs: { text: { type: 1, value: restOf('byte') } } });
 * ```
 */
export function restOf<const I extends ItemType>(item: I): RestOf<I> {
  return Object.freeze({ kind: 'rest', item });
}

// ---------------------------------------------------------------------------------------
// Reading, and the errors of both directions

/**
 * Reads `bytes[pos, end)`. `base` turns positions into offsets in the whole message (for
 * errors); `inTlv` says whether this is the value of a TLV record, which picks the error codes.
 */
export class Reader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly base: number,
    readonly inTlv: boolean,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** The offset of `at` in the whole message. */
  offset(at = this.pos): number {
    return this.base + at;
  }

  /**
   * Code for bytes that do not hold the field: BOLT 1 "Lightning Message Format" (a known
   * message "with insufficient length for the contents: MUST close the connection") or, in a
   * TLV record, BOLT 1 "Type-Length-Value Format" ("if `length` is not exactly equal to that
   * required for the known encoding for `type`: MUST fail to parse the `tlv_stream`").
   */
  get invalidCode(): LnPeerErrorCode {
    return this.inTlv ? 'TLV_INVALID_VALUE' : 'INVALID_MESSAGE';
  }

  /** The next `n` bytes, as a view; a field running past the end throws. */
  take(n: number, field: string): Uint8Array {
    if (n > this.remaining) {
      throw this.error(
        this.invalidCode,
        field,
        `needs ${n} bytes at offset ${this.offset()}, only ${this.remaining} remain${this.inTlv ? ' in its TLV record' : ''}`,
      );
    }
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  error(code: LnPeerErrorCode, field: string, text: string, offset = this.offset()): LnPeerError {
    return new LnPeerError(code, `${field}: ${text}`, { field, offset });
  }
}

/** `INVALID_ARGUMENT` for a value `encode` cannot write. */
export function invalidValue(field: string, text: string): LnPeerError {
  return new LnPeerError('INVALID_ARGUMENT', `${field}: ${text}`, { field });
}

// ---------------------------------------------------------------------------------------
// Codecs

/** How one field type is written and read. */
export interface Codec {
  /** Bytes of the shortest encoding (≥ 1 for every array item: a count cannot loop for free). */
  readonly minSize: number;
  encode(value: unknown, field: string): Uint8Array;
  decode(r: Reader, field: string): unknown;
}

/**
 * A big-endian integer of `width` bytes; signed ones are two's complement (BOLT 1
 * "Fundamental Types": "Signed integers use standard big-endian two's complement
 * representation"). Values of 8 bytes are `bigint`, others `number`.
 */
function integer(name: string, width: 1 | 2 | 4 | 8, signed: boolean): Codec {
  const bits = BigInt(width * 8);
  const [min, max] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  return {
    minSize: width,
    encode(value, field) {
      let x = checkInteger(value, name, width === 8, min, max, field);
      if (x < 0n) x += 1n << bits;
      const out = new Uint8Array(width);
      for (let i = width - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
      return out;
    },
    decode(r, field) {
      let x = 0n;
      for (const b of r.take(width, field)) x = (x << 8n) | BigInt(b);
      if (signed && x > max) x -= 1n << bits;
      return width === 8 ? x : Number(x);
    },
  };
}

/**
 * A truncated integer of at most `width` bytes (BOLT 1 "Fundamental Types": "For the final
 * value in TLV records, truncated integers may be used. Leading zeros in truncated integers
 * MUST be omitted"). It takes every byte left in its TLV record.
 */
function truncated(name: TruncatedType, width: 2 | 4 | 8): Codec {
  const max = (1n << BigInt(width * 8)) - 1n;
  return {
    minSize: 0,
    encode(value, field) {
      let x = checkInteger(value, name, width === 8, 0n, max, field);
      const out: number[] = [];
      for (; x > 0n; x >>= 8n) out.unshift(Number(x & 0xffn));
      return Uint8Array.from(out);
    },
    decode(r, field) {
      const at = r.offset();
      const bytes = r.take(r.remaining, field);
      if (bytes.length > width) {
        throw r.error('TLV_INVALID_VALUE', field, `${name} has ${bytes.length} bytes at offset ${at}: at most ${width} are allowed`, at);
      }
      try {
        const x = decodeTruncated(bytes, width, name);
        return width === 8 ? x : Number(x);
      } catch (err) {
        // decodeTruncated refuses a leading zero byte with TLV_NOT_MINIMAL.
        if (err instanceof LnPeerError) throw r.error(err.code, field, `${err.message} (offset ${at})`, at);
        throw err;
      }
    },
  };
}

/** `bigsize` (BOLT 1 "Appendix A"), through wire/bigsize.ts: decoders refuse non-minimal encodings. */
const bigsize: Codec = {
  minSize: 1,
  encode(value, field) {
    return encodeBigSize(checkInteger(value, 'bigsize', true, 0n, (1n << 64n) - 1n, field));
  },
  decode(r, field) {
    try {
      const { value, length } = readBigSize(r.bytes.subarray(0, r.end), r.pos);
      r.pos += length;
      return value;
    } catch (err) {
      if (!(err instanceof LnPeerError)) throw err;
      // UNEXPECTED_EOF is a field running past the end; BIGSIZE_NOT_CANONICAL stays as is.
      throw r.error(err.code === 'UNEXPECTED_EOF' ? r.invalidCode : err.code, field, err.message);
    }
  },
};

/** Exactly `size` bytes; `check` refuses bytes that are not a valid value (as text, or undefined when valid). */
function fixed(size: number, name: string, check?: (bytes: Uint8Array) => string | undefined): Codec {
  return {
    minSize: size,
    encode(value, field) {
      if (!(value instanceof Uint8Array) || value.length !== size) {
        const what = value instanceof Uint8Array ? `${value.length} bytes` : describe(value);
        throw invalidValue(field, `${what} is not a ${name}: it needs a Uint8Array of exactly ${size} bytes`);
      }
      const problem = check?.(value);
      if (problem) throw invalidValue(field, problem);
      return copyBytes(value);
    },
    decode(r, field) {
      const at = r.offset();
      const bytes = copyBytes(r.take(size, field));
      const problem = check?.(bytes);
      if (problem) throw r.error(r.invalidCode, field, `${problem} (offset ${at})`, at);
      return bytes;
    },
  };
}

/** BOLT 1 "Fundamental Types": `point` is "a 33-byte Elliptic Curve point (compressed encoding as per SEC 1)". */
const point = fixed(33, 'point', (bytes) =>
  isValidPublicKey(bytes) ? undefined : `${toHex(bytes)} is not a point: it must be a compressed secp256k1 public key`,
);

/**
 * BOLT 1 "Fundamental Types": `short_channel_id` is 8 bytes; BOLT 7 "Definition of
 * `short_channel_id`": 3 bytes block height, 3 bytes transaction index, 2 bytes output
 * index, shown as `BLOCKxTXxOUT`. Only the canonical decimal form is accepted, so that the
 * string and the bytes map one to one.
 */
const shortChannelId: Codec = {
  minSize: 8,
  encode(value, field) {
    const m = typeof value === 'string' ? /^(0|[1-9]\d{0,7})x(0|[1-9]\d{0,7})x(0|[1-9]\d{0,4})$/.exec(value) : null;
    const [block, tx, out] = m ? m.slice(1).map(Number) : [];
    if (!m || block > 0xffffff || tx > 0xffffff || out > 0xffff) {
      throw invalidValue(
        field,
        `${describe(value)} is not a short_channel_id: write BLOCKxTXxOUT in decimal, block and tx below 2^24, out below 2^16`,
      );
    }
    return Uint8Array.of(block >> 16, (block >> 8) & 0xff, block & 0xff, tx >> 16, (tx >> 8) & 0xff, tx & 0xff, out >> 8, out & 0xff);
  },
  decode(r, field) {
    const b = r.take(8, field);
    return `${(b[0] << 16) | (b[1] << 8) | b[2]}x${(b[3] << 16) | (b[4] << 8) | b[5]}x${(b[6] << 8) | b[7]}`;
  },
};

/** The u16 length prefix of `bytes` and `utf8` (BOLT 1 style `[u16:len][len*byte]`). */
const u16 = integer('u16', 2, false);

function lengthPrefixed(name: string, toBytes: (value: unknown, field: string) => Uint8Array, fromBytes: (bytes: Uint8Array, r: Reader, field: string, at: number) => unknown): Codec {
  return {
    minSize: 2,
    encode(value, field) {
      const bytes = toBytes(value, field);
      // A u16 length: more could never fit a message either (BOLT 1: at most 65535 bytes).
      if (bytes.length > 0xffff) {
        throw new LnPeerError('MESSAGE_TOO_LONG', `${field}: ${name} of ${bytes.length} bytes is too long: its length is a u16, at most 65535`, {
          field,
          length: bytes.length,
        });
      }
      const out = new Uint8Array(2 + bytes.length);
      out.set(u16.encode(bytes.length, field));
      out.set(bytes, 2);
      return out;
    },
    decode(r, field) {
      const length = u16.decode(r, field) as number;
      const at = r.offset();
      return fromBytes(r.take(length, field), r, field, at);
    },
  };
}

const bytes = lengthPrefixed(
  'bytes',
  (value, field) => {
    if (value instanceof Uint8Array) return value;
    throw invalidValue(field, `${describe(value)} is not bytes: it needs a Uint8Array`);
  },
  (view) => copyBytes(view),
);

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * BOLT 1 "Fundamental Types": `utf8` is "a byte as part of a UTF-8 string"; BOLT 12: "A writer
 * MUST ensure an array of these is a valid UTF-8 string, a reader MAY reject any messages
 * containing an array of these which is not a valid UTF-8 string". This one rejects.
 */
const utf8 = lengthPrefixed(
  'utf8',
  (value, field) => {
    // TextEncoder would silently replace a lone surrogate with U+FFFD.
    if (typeof value !== 'string' || LONE_SURROGATE.test(value)) {
      throw invalidValue(field, `${describe(value)} is not a utf8 string: it needs a string without lone surrogates`);
    }
    return textEncoder.encode(value);
  },
  (view, r, field, at) => {
    try {
      return textDecoder.decode(view);
    } catch {
      throw r.error(r.invalidCode, field, `the ${view.length} bytes at offset ${at} are not valid UTF-8`, at);
    }
  },
);

/** The codec of each named type. */
export const SCALARS: Readonly<Record<ScalarType, Codec>> = {
  byte: integer('byte', 1, false),
  u8: integer('u8', 1, false),
  u16,
  u32: integer('u32', 4, false),
  u64: integer('u64', 8, false),
  s8: integer('s8', 1, true),
  s16: integer('s16', 2, true),
  s32: integer('s32', 4, true),
  s64: integer('s64', 8, true),
  tu16: truncated('tu16', 2),
  tu32: truncated('tu32', 4),
  tu64: truncated('tu64', 8),
  bigsize,
  chain_hash: fixed(32, 'chain_hash'),
  channel_id: fixed(32, 'channel_id'),
  sha256: fixed(32, 'sha256'),
  point,
  // BOLT 1: "a 64-byte bitcoin Elliptic Curve signature"; checking one needs what was signed.
  signature: fixed(64, 'signature'),
  short_channel_id: shortChannelId,
  utf8,
  bytes,
};

/** The largest count each unsigned integer type can hold (the types allowed as an array's count). */
export const COUNT_MAX: Readonly<Partial<Record<ScalarType, bigint>>> = {
  byte: 0xffn,
  u8: 0xffn,
  u16: 0xffffn,
  u32: 0xffffffffn,
  u64: (1n << 64n) - 1n,
  bigsize: (1n << 64n) - 1n,
};

/** The codec of a fixed-size byte string type (`fixedBytes(n)`). */
export function fixedCodec(size: number): Codec {
  return fixed(size, `${size}-byte string`);
}

/** Checks an integer's JS type and range; returns it as a bigint. */
function checkInteger(value: unknown, name: string, big: boolean, min: bigint, max: bigint, field: string): bigint {
  if (big ? typeof value !== 'bigint' : typeof value !== 'number' || !Number.isInteger(value)) {
    const hint = big && typeof value === 'number' && Number.isSafeInteger(value) ? ` (write ${value}n)` : '';
    throw invalidValue(field, `${describe(value)} is not a ${name}: it needs ${big ? 'a bigint' : 'an integer number'}${hint}`);
  }
  const x = BigInt(value as number | bigint);
  if (x < min || x > max) {
    throw invalidValue(field, `${x} is out of range for ${name}: allowed are ${min} to ${max}`);
  }
  return x;
}
