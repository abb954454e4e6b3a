/**
 * TLV streams (BOLT 1 "Type-Length-Value Format") and the truncated integers that BOLT
 * allows as the final value of a TLV record (BOLT 1 "Fundamental Types").
 */
import { concatBytes, copyBytes, describe, toHex } from '../bytes.js';
import { checkArray, checkBytes, checkInteger, isObject } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { encodeBigSize, readBigSize } from './bigsize.js';
import { MAX_MESSAGE_LENGTH } from './message-types.js';

/**
 * One record of a TLV stream. Decoders return a copy of the value, never a view of the input.
 * (In error `details`, TLV types and lengths are decimal strings, so the details stay JSON-safe.)
 */
export interface TlvRecord {
  type: bigint;
  value: Uint8Array;
}

/**
 * Checks the value of a known TLV type and throws an `LnPeerError` when it is not the known
 * encoding (wrong length, a non-minimal truncated integer, an invalid point, …).
 */
export type TlvValidator = (value: Uint8Array) => void;

/** The TLV types a reader knows, each with the validator of its encoding. */
export type TlvSchema = ReadonlyMap<bigint, TlvValidator>;

/** True for a `{ type, value }` record that can be encoded: `type` a bigint from 0 to 2^64-1, `value` bytes. */
export function isTlvRecord(record: unknown): record is TlvRecord {
  return isObject(record) && typeof record.type === 'bigint' && record.type >= 0n && record.type < 1n << 64n && record.value instanceof Uint8Array;
}

/** Throws `INVALID_ARGUMENT` unless `records` is an array of TLV records (`what` names it: `encodeTlvStream() records`). */
export function checkTlvRecords(records: unknown, what: string): asserts records is TlvRecord[] {
  checkArray(records, what, '{ type, value }');
  records.forEach((record, i) => {
    if (!isTlvRecord(record)) {
      throw new LnPeerError('INVALID_ARGUMENT', `${what}[${i}] must be a TLV record { type: bigint from 0n to 2^64-1, value: Uint8Array }, got ${describe(record)}`);
    }
  });
}

/**
 * Encodes `records` as a TLV stream.
 *
 * BOLT 1 "Type-Length-Value Format": the sender "MUST order `tlv_record`s in a `tlv_stream`
 * by strictly-increasing `type`" and "MUST minimally encode `type` and `length`". Records out
 * of order, or twice the same type, are refused with `TLV_NOT_INCREASING`; anything but an
 * array of `{ type: bigint, value: Uint8Array }` with `INVALID_ARGUMENT`.
 */
export function encodeTlvStream(records: readonly TlvRecord[]): Uint8Array {
  checkTlvRecords(records, 'encodeTlvStream() records');
  return writeTlvStream(records);
}

/** `encodeTlvStream` for records that are known to be `TlvRecord`s. */
export function writeTlvStream(records: readonly TlvRecord[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let previous: bigint | undefined;
  for (const { type, value } of records) {
    if (previous !== undefined && type <= previous) {
      throw new LnPeerError(
        'TLV_NOT_INCREASING',
        `TLV record type ${type} follows type ${previous}: records must be in strictly increasing type order, each type at most once`,
        { type: String(type), previous: String(previous) },
      );
    }
    previous = type;
    parts.push(encodeBigSize(type), encodeBigSize(value.length), value);
  }
  return concatBytes(parts);
}

/**
 * Decodes a whole TLV stream and returns its records in order: the known types (each checked
 * by its validator in `known`) and the unknown odd ones, which the caller may ignore.
 *
 * The reader rules of BOLT 1 "Type-Length-Value Format", in the spec's order:
 * - zero bytes left before a `type`: stop;
 * - `type` or `length` not minimally encoded: `TLV_NOT_MINIMAL` (truncated: `UNEXPECTED_EOF`);
 * - types not strictly increasing, duplicates and ignored odd types included: `TLV_NOT_INCREASING`;
 * - `length` beyond the remaining bytes: `TLV_LENGTH_EXCEEDS_DATA`;
 * - known type: its validator's error (`TLV_INVALID_VALUE`, `TLV_NOT_MINIMAL`, …);
 * - unknown even type: `TLV_UNKNOWN_EVEN`; unknown odd type: kept, never interpreted.
 */
export function decodeTlvStream(bytes: Uint8Array, known: TlvSchema): TlvRecord[] {
  checkBytes(bytes, 'decodeTlvStream() bytes');
  if (typeof (known as Partial<TlvSchema> | null)?.get !== 'function') {
    throw new LnPeerError('INVALID_ARGUMENT', `decodeTlvStream() known must be a Map from TLV type (bigint) to validator, got ${describe(known)}`);
  }
  return readTlvStream(bytes, known);
}

/** `decodeTlvStream` for callers whose arguments are checked already. */
export function readTlvStream(bytes: Uint8Array, known: TlvSchema): TlvRecord[] {
  const records: TlvRecord[] = [];
  let offset = 0;
  let previous: bigint | undefined;
  // BOLT 1: "if zero bytes remain before parsing a `type`: MUST stop parsing the `tlv_stream`."
  while (offset < bytes.length) {
    const recordOffset = offset;
    const type = readMinimalBigSize(bytes, offset, 'type');
    offset += type.length;
    const length = readMinimalBigSize(bytes, offset, 'length');
    offset += length.length;
    // BOLT 1: "if decoded `type`s are not strictly-increasing (including situations when two
    // or more occurrences of the same `type` are met): MUST fail to parse the `tlv_stream`."
    if (previous !== undefined && type.value <= previous) {
      throw new LnPeerError(
        'TLV_NOT_INCREASING',
        `TLV record at offset ${recordOffset} has type ${type.value} after type ${previous}: types must be strictly increasing`,
        { type: String(type.value), previous: String(previous), offset: recordOffset },
      );
    }
    previous = type.value;
    // BOLT 1: "if `length` exceeds the number of bytes remaining in the message: MUST fail".
    const remaining = bytes.length - offset;
    if (length.value > BigInt(remaining)) {
      throw new LnPeerError(
        'TLV_LENGTH_EXCEEDS_DATA',
        `TLV record type ${type.value} has length ${length.value} but only ${remaining} bytes remain`,
        { type: String(type.value), length: String(length.value), remaining },
      );
    }
    const value = copyBytes(bytes, offset, offset + Number(length.value));
    offset += value.length;
    const validate = known.get(type.value);
    if (validate) {
      checkKnownValue(type.value, value, validate);
    } else if (type.value % 2n === 0n) {
      // BOLT 1: unknown type, "if `type` is even: MUST fail to parse the `tlv_stream`."
      throw new LnPeerError(
        'TLV_UNKNOWN_EVEN',
        `TLV record type ${type.value} is even and unknown: only known types and odd types are allowed`,
        { type: String(type.value) },
      );
    }
    records.push({ type: type.value, value });
  }
  return records;
}

/** A validator for a fixed-size encoding: the value must be exactly `size` bytes (0 to 65535). */
export function exactLength(size: number): TlvValidator {
  checkInteger(size, 'exactLength() size', 0, MAX_MESSAGE_LENGTH);
  return (value) => {
    checkBytes(value, `the validator exactLength(${size}) value`);
    // BOLT 1: "if `length` is not exactly equal to that required for the known encoding".
    if (value.length !== size) {
      throw new LnPeerError('TLV_INVALID_VALUE', `value has ${value.length} bytes, the encoding needs exactly ${size}`, {
        length: value.length,
      });
    }
  };
}

/** Decodes a `tu64` (0 to 8 bytes, no leading zero byte). */
export function decodeTu64(value: Uint8Array): bigint {
  checkBytes(value, 'decodeTu64() value');
  return decodeTruncated(value, 8, 'tu64');
}

/** Decodes a `tu32` (0 to 4 bytes, no leading zero byte). */
export function decodeTu32(value: Uint8Array): number {
  checkBytes(value, 'decodeTu32() value');
  return Number(decodeTruncated(value, 4, 'tu32'));
}

/** A truncated integer of at most `maxBytes` bytes (`name`: `tu16`, `tu32`, `tu64`), for callers that pass bytes. */
export function decodeTruncated(value: Uint8Array, maxBytes: number, name: string): bigint {
  if (value.length > maxBytes) {
    throw new LnPeerError('TLV_INVALID_VALUE', `${name} has ${value.length} bytes: at most ${maxBytes} are allowed`, {
      length: value.length,
    });
  }
  // BOLT 1 "Fundamental Types": "Leading zeros in truncated integers MUST be omitted".
  if (value.length > 0 && value[0] === 0) {
    throw new LnPeerError('TLV_NOT_MINIMAL', `${name} ${toHex(value)} starts with a zero byte: leading zeros must be omitted`);
  }
  let x = 0n;
  for (const b of value) x = (x << 8n) | BigInt(b);
  return x;
}

function readMinimalBigSize(bytes: Uint8Array, offset: number, field: 'type' | 'length'): { value: bigint; length: number } {
  try {
    return readBigSize(bytes, offset);
  } catch (err) {
    // BOLT 1: "if a `type` or `length` is not minimally encoded: MUST fail to parse the `tlv_stream`."
    if (err instanceof LnPeerError && err.code === 'BIGSIZE_NOT_CANONICAL') {
      throw new LnPeerError('TLV_NOT_MINIMAL', `TLV ${field} at offset ${offset} is not minimally encoded: ${err.message}`, err.details, {
        cause: err,
      });
    }
    if (err instanceof LnPeerError) {
      throw new LnPeerError(err.code, `TLV ${field} at offset ${offset} is truncated: ${err.message}`, err.details, { cause: err });
    }
    throw err;
  }
}

function checkKnownValue(type: bigint, value: Uint8Array, validate: TlvValidator): void {
  try {
    validate(value);
  } catch (err) {
    // BOLT 1: for a known type, a wrong length or a non-minimal field "MUST fail to parse".
    // The validator's code is kept; the message gains the record type.
    if (err instanceof LnPeerError) {
      throw new LnPeerError(err.code, `TLV record type ${type}: ${err.message}`, { ...err.details, type: String(type) }, { cause: err });
    }
    throw err;
  }
}
