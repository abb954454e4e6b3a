/**
 * Typed message schemas: define a Lightning message once (its type, its fields in the BOLT 1
 * "Fundamental Types", an optional TLV stream) and get an encoder and a decoder whose
 * TypeScript types follow the definition. Pure: no I/O, no Node built-ins.
 *
 * @example
 * ```ts
 * const SwapOffer = defineMessage({
 *   name: 'swap_offer',
 *   type: 42069,
 *   fields: { amount_sat: 'u64', payment_hash: 'sha256', node_id: 'point', memo: 'utf8' },
 *   tlvs: { expiry: { type: 1, value: 'tu64' } },
 * });
 * type SwapOffer = Infer<typeof SwapOffer>;
 * // { amount_sat: bigint; payment_hash: Uint8Array; node_id: Uint8Array; memo: string;
 * //   expiry?: bigint; unknownTlvs?: TlvRecord[] }
 * const msg = SwapOffer.encode({ amount_sat: 50_000n, payment_hash, node_id, memo: 'hi', expiry: 144n });
 * SwapOffer.decode(msg).expiry; // 144n
 * ```
 */
import { concatBytes, copyBytes, describe } from '../bytes.js';
import { isObject } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { readBigSize } from '../wire/bigsize.js';
import { MAX_MESSAGE_LENGTH } from '../wire/message-types.js';
import { isTlvRecord, readTlvStream, writeTlvStream, type TlvRecord, type TlvSchema } from '../wire/tlv.js';
import {
  COUNT_MAX,
  type ArrayOf,
  type Codec,
  type FieldType,
  type FieldValue,
  type ItemType,
  Reader,
  SCALARS,
  type ScalarType,
  fixedCodec,
  invalidValue,
} from './schema-fields.js';

export { arrayOf, fixedBytes, restOf } from './schema-fields.js';
export type { ArrayOf, FieldType, FieldValue, FixedBytes, ItemType, ItemsValue, ItemValue, RestOf, ScalarType, ScalarValues, TruncatedType } from './schema-fields.js';
export type { TlvRecord } from '../wire/tlv.js';

/** Named fields in wire order (object key order). */
export type Fields = { readonly [name: string]: FieldType };

/** A TLV record: one field (`value`), or several (`fields`, an object value). */
export type TlvDefinition =
  | { readonly type: number | bigint; readonly value: FieldType }
  | { readonly type: number | bigint; readonly fields: Fields };

/** The records of a TLV stream, by name. */
export type TlvDefinitions = { readonly [name: string]: TlvDefinition };

/** What `defineMessage` takes. */
export interface MessageDefinition<F extends Fields = Fields, T extends TlvDefinitions | undefined = TlvDefinitions | undefined> {
  /** Used in error messages and `details.field` (`swap_offer.amount_sat`). */
  name: string;
  /** The 16-bit message type (BOLT 1 "Lightning Message Format"). */
  type: number;
  /** The fixed fields, in wire order. */
  fields: F;
  /** A trailing TLV stream: everything after the fixed fields. */
  tlvs?: T;
  /** Without `tlvs`: refuse bytes after the last field instead of ignoring them. */
  strict?: boolean;
}

/** A message type with its encoder and decoder. `V` is the JS value of one message. */
export interface MessageSchema<V = unknown> {
  readonly name: string;
  /** The 16-bit message type, written first by `encode`. */
  readonly type: number;
  /** The whole message: 2-byte type, fields, TLV stream. Throws `INVALID_ARGUMENT` (or `MESSAGE_TOO_LONG`) naming the field. */
  encode(value: V): Uint8Array;
  /** Decodes a whole message (type first). Throws an `LnPeerError` with `details: { field, offset }`. */
  decode(msg: Uint8Array): V;
}

/** The JS value of a schema's messages: `Infer<typeof MySchema>`. */
export type Infer<S> = S extends MessageSchema<infer V> ? V : never;

/** `T` flattened into one object type, so that editors show decoded values readably. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** Fields some array uses as its count: written from the array's length, not part of the value. */
export type CountNames<F extends Fields> = { [K in keyof F]: F[K] extends ArrayOf<ItemType, infer C> ? C : never }[keyof F];
/** The JS value of named fields. */
export type FieldsValue<F extends Fields> = { -readonly [K in Exclude<keyof F, CountNames<F>>]: FieldValue<F[K]> };
/** The JS value of one TLV record: an object for a record of fields, else its one value. */
export type TlvValue<D> = D extends { fields: infer F extends Fields } ? Simplify<FieldsValue<F>> : D extends { value: infer T } ? FieldValue<T> : never;
/** The JS value of a TLV stream: each record optional, plus the unknown odd records. */
export type TlvsValue<T extends TlvDefinitions> = { -readonly [K in keyof T]?: TlvValue<T[K]> } & {
  /** Unknown odd records: kept by `decode` (always set, maybe empty), written back by `encode`. */
  unknownTlvs?: TlvRecord[];
};
/** The JS value of a message defined by fields `F` and TLV records `T`. */
export type MessageValue<F extends Fields, T extends TlvDefinitions | undefined> = Simplify<
  FieldsValue<F> & ([T] extends [TlvDefinitions] ? TlvsValue<T> : unknown)
>;

/**
 * Defines a message. The definition is checked now (types known, counts declared before
 * their arrays, truncated integers and `restOf` only last in a TLV record, TLV types unique):
 * a bad one throws `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * const Quote = defineMessage({ name: 'quote', type: 0xfff9, fields: { amountSat: 'u64', memoLength: 'u16', memo: arrayOf('byte', 'memoLength') } });
 * await pm.send(peerId, Quote, { amountSat: 1000n, memo: new TextEncoder().encode('hi') });
 * ```
 */
export function defineMessage<const F extends Fields, const T extends TlvDefinitions | undefined = undefined>(
  definition: MessageDefinition<F, T>,
): MessageSchema<MessageValue<F, T>> {
  if (!isObject(definition)) throw invalidValue('defineMessage()', `the definition must be an object { name, type, fields, tlvs?, strict? }, got ${describe(definition)}`);
  const { name, type, fields, tlvs, strict = false } = definition;
  if (typeof name !== 'string' || name === '') throw invalidValue('name', `${describe(name)} is not a message name`);
  if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
    throw invalidValue(`${name}.type`, `${describe(type)} is not a message type: allowed are 0 to 65535`);
  }
  if (tlvs !== undefined && strict) {
    throw invalidValue(name, 'strict has no meaning with tlvs: the TLV stream is everything after the fixed fields');
  }
  const slots = compileFields(fields, name, false);
  const records = tlvs === undefined ? undefined : compileTlvs(tlvs, name, new Set(Object.keys(fields)));
  const keys = new Set([...slots.filter((s) => !s.arrays).map((s) => s.name), ...(records ? [...records.map((r) => r.name), 'unknownTlvs'] : [])]);

  const encode = (value: MessageValue<F, T>): Uint8Array => {
    const v = checkObject(value, name, keys);
    const parts: Uint8Array[] = [Uint8Array.of(type >> 8, type & 0xff)];
    encodeFields(slots, v, parts);
    if (records) parts.push(encodeTlvs(records, v, name));
    const msg = concatBytes(parts);
    // BOLT 1 "Lightning Message Format": "the maximum possible size is 65535 bytes".
    if (msg.length > MAX_MESSAGE_LENGTH) {
      throw new LnPeerError('MESSAGE_TOO_LONG', `${name}: the message would be ${msg.length} bytes, at most ${MAX_MESSAGE_LENGTH} are allowed`, {
        field: name,
        length: msg.length,
      });
    }
    return msg;
  };

  const decode = (msg: Uint8Array): MessageValue<F, T> => {
    if (!(msg instanceof Uint8Array)) throw invalidValue(name, `${describe(msg)} is not a message: it needs a Uint8Array`);
    const r = new Reader(msg, 0, msg.length, 0, false);
    const actual = SCALARS.u16.decode(r, `${name}.type`);
    if (actual !== type) throw r.error('INVALID_MESSAGE', `${name}.type`, `expected type ${type}, got ${String(actual)}`, 0);
    const out = decodeFields(slots, r);
    if (records) {
      // BOLT 1 "Lightning Message Format": after the payload, "`extension`: an optional TLV stream".
      Object.assign(out, decodeTlvs(records, msg.subarray(r.pos), r.pos, name));
    } else if (strict && r.remaining > 0) {
      throw r.error('INVALID_MESSAGE', name, `${r.remaining} bytes after the last field at offset ${r.pos}, and this schema is strict`);
    }
    // Otherwise the bytes left are an extension this schema does not know: BOLT 1 "Lightning
    // Message Format", a receiving node "upon receiving a message with an `extension`: MAY
    // ignore the `extension`".
    return out as MessageValue<F, T>;
  };

  return Object.freeze({ name, type, encode, decode });
}

// ---------------------------------------------------------------------------------------
// Fields

/** One compiled field. */
interface Slot {
  name: string;
  /** `message.field`, for errors. */
  path: string;
  kind: 'scalar' | 'array' | 'rest';
  /** The field's codec, or the items' codec of an array. */
  codec: Codec;
  /** Items are bytes: the value is one `Uint8Array`. */
  byteItems: boolean;
  /** For an array: the name of its count field. */
  count?: string;
  /** For a count field: the arrays it counts, and the largest count it holds. */
  arrays?: string[];
  countMax?: bigint;
  countType?: ScalarType;
}

function codecOf(type: FieldType, path: string): Codec {
  if (typeof type === 'string' && Object.hasOwn(SCALARS, type)) return SCALARS[type];
  if (typeof type === 'object' && type !== null && type.kind === 'fixed') {
    if (!Number.isInteger(type.size) || type.size < 1 || type.size > 0xffff) {
      throw invalidValue(path, `fixedBytes(${describe(type.size)}) needs a size from 1 to 65535`);
    }
    return fixedCodec(type.size);
  }
  throw invalidValue(path, `${describe(type)} is not a field type: use one of ${Object.keys(SCALARS).join(', ')}, fixedBytes(n), arrayOf(item, count) or restOf(item)`);
}

/** Compiles fields in order; `inTlv` allows truncated integers and `restOf` as the last one. */
function compileFields(fields: Fields, prefix: string, inTlv: boolean): Slot[] {
  if (typeof fields !== 'object' || fields === null) throw invalidValue(prefix, `fields must be an object, got ${describe(fields)}`);
  const names = Object.keys(fields);
  const slots: Slot[] = [];
  names.forEach((name, i) => {
    const path = `${prefix}.${name}`;
    // Integer-like keys would be reordered by JavaScript: the wire order would not be the written one.
    if (/^(0|[1-9]\d*)$/.test(name)) throw invalidValue(path, 'a field name must not be an integer: JavaScript would reorder it');
    if (name === 'unknownTlvs') throw invalidValue(path, 'unknownTlvs is reserved for the unknown odd TLV records');
    const type = fields[name];
    const last = i === names.length - 1;
    if (typeof type === 'object' && type !== null && (type.kind === 'array' || type.kind === 'rest')) {
      if (typeof type.item === 'string' && ['tu16', 'tu32', 'tu64'].includes(type.item)) {
        throw invalidValue(path, 'array items cannot be truncated integers');
      }
      const codec = codecOf(type.item, path);
      const slot: Slot = { name, path, kind: type.kind, codec, byteItems: type.item === 'byte' || type.item === 'u8' };
      if (type.kind === 'rest') {
        // BOLT 1 `init`: `[...*chain_hash:chains]` fills its TLV record.
        if (!inTlv || !last) throw invalidValue(path, 'restOf(item) is only allowed as the last field of a TLV record');
      } else {
        const counter = slots.find((s) => s.name === type.count);
        const max = counter?.countType && COUNT_MAX[counter.countType];
        if (!counter || counter.kind !== 'scalar' || max === undefined) {
          throw invalidValue(path, `its count ${describe(type.count)} must be an earlier field of type byte, u8, u16, u32, u64 or bigsize`);
        }
        (counter.arrays ??= []).push(name);
        counter.countMax = max;
        slot.count = type.count;
      }
      slots.push(slot);
      return;
    }
    const codec = codecOf(type, path);
    // BOLT 1 "Fundamental Types": "For the final value in TLV records, truncated integers may be used".
    if (codec.minSize === 0 && (!inTlv || !last)) {
      throw invalidValue(path, `${String(type)} is only allowed as the last field of a TLV record`);
    }
    slots.push({ name, path, kind: 'scalar', codec, byteItems: false, countType: type as ScalarType });
  });
  return slots;
}

function encodeFields(slots: Slot[], value: Record<string, unknown>, parts: Uint8Array[]): void {
  for (const slot of slots) {
    if (slot.arrays) {
      parts.push(slot.codec.encode(countOf(slot, value, slots), slot.path));
      continue;
    }
    const v = value[slot.name];
    if (v === undefined) throw invalidValue(slot.path, 'is missing');
    if (slot.kind === 'scalar') {
      parts.push(slot.codec.encode(v, slot.path));
    } else if (slot.byteItems) {
      if (!(v instanceof Uint8Array)) throw invalidValue(slot.path, `${describe(v)} is not a byte array: it needs a Uint8Array`);
      parts.push(v);
    } else {
      if (!Array.isArray(v)) throw invalidValue(slot.path, `${describe(v)} is not an array`);
      v.forEach((item, i) => parts.push(slot.codec.encode(item, `${slot.path}[${i}]`)));
    }
  }
}

/** The value of a count field: the length of its arrays, which must agree and fit it. */
function countOf(counter: Slot, value: Record<string, unknown>, slots: Slot[]): number | bigint {
  let length: number | undefined;
  for (const name of counter.arrays ?? []) {
    const path = slots.find((s) => s.name === name)?.path ?? name;
    const v = value[name] as unknown[] | Uint8Array;
    const byteItems = slots.find((s) => s.name === name)?.byteItems;
    if (byteItems ? !(v instanceof Uint8Array) : !Array.isArray(v)) {
      throw invalidValue(path, `${describe(v)} is not ${byteItems ? 'a byte array: it needs a Uint8Array' : 'an array'}`);
    }
    if (length !== undefined && v.length !== length) {
      throw invalidValue(path, `has ${v.length} items but the other arrays counted by ${counter.name} have ${length}`);
    }
    length = v.length;
  }
  const n = length ?? 0;
  if (BigInt(n) > (counter.countMax ?? 0n)) {
    throw invalidValue(counter.path, `${n} items do not fit: this count is a ${counter.countType}, at most ${counter.countMax}`);
  }
  return counter.countType === 'u64' || counter.countType === 'bigsize' ? BigInt(n) : n;
}

function decodeFields(slots: Slot[], r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  for (const slot of slots) {
    const at = r.offset();
    if (slot.kind === 'scalar') {
      const v = slot.codec.decode(r, slot.path);
      if (!slot.arrays) out[slot.name] = v;
      else {
        // Each item takes at least one byte: a count beyond the bytes left fails now, not after a long loop.
        const n = BigInt(v as number | bigint);
        const min = slots.filter((s) => slot.arrays?.includes(s.name)).reduce((sum, s) => sum + s.codec.minSize, 0);
        if (n * BigInt(min) > BigInt(r.remaining)) {
          throw r.error(r.invalidCode, slot.path, `counts ${n} items, which need at least ${n * BigInt(min)} bytes after offset ${r.offset()}, only ${r.remaining} remain`, at);
        }
        counts.set(slot.name, Number(n));
      }
    } else if (slot.kind === 'array') {
      out[slot.name] = decodeItems(slot, r, counts.get(slot.count ?? '') ?? 0);
    } else {
      out[slot.name] = decodeItems(slot, r, undefined);
    }
  }
  return out;
}

/** `count` items, or (`undefined`) items up to the end of the reader. */
function decodeItems(slot: Slot, r: Reader, count: number | undefined): unknown {
  if (slot.byteItems) return copyBytes(r.take(count ?? r.remaining, slot.path));
  const items: unknown[] = [];
  for (let i = 0; count === undefined ? r.remaining > 0 : i < count; i++) items.push(slot.codec.decode(r, `${slot.path}[${i}]`));
  return items;
}

function checkObject(value: unknown, path: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw invalidValue(path, `${describe(value)} is not an object of fields`);
  }
  // A misspelt optional TLV name would otherwise be dropped without a word.
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) throw invalidValue(`${path}.${key}`, `is not a field of ${path}: the fields are ${[...keys].join(', ') || 'none'}`);
  }
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------
// TLV stream

interface CompiledTlv {
  name: string;
  path: string;
  type: bigint;
  /** One field (`value`) or several (`fields`). */
  single: boolean;
  slots: Slot[];
  keys: ReadonlySet<string>;
}

function compileTlvs(tlvs: TlvDefinitions, prefix: string, fieldNames: ReadonlySet<string>): CompiledTlv[] {
  if (typeof tlvs !== 'object' || tlvs === null) throw invalidValue(`${prefix}.tlvs`, `must be an object, got ${describe(tlvs)}`);
  const records = Object.entries(tlvs).map(([name, def]): CompiledTlv => {
    const path = `${prefix}.${name}`;
    if (fieldNames.has(name)) throw invalidValue(path, 'a TLV record cannot have the name of a field');
    if (name === 'unknownTlvs') throw invalidValue(path, 'unknownTlvs is reserved for the unknown odd TLV records');
    if (typeof def !== 'object' || def === null) throw invalidValue(path, `${describe(def)} is not a TLV record definition: use { type, value } or { type, fields }`);
    const raw = def.type;
    // BOLT 1 "Type-Length-Value Format": `type` is a BigSize, "a message-specific, 64-bit identifier".
    if (!(typeof raw === 'bigint' || Number.isSafeInteger(raw)) || BigInt(raw) < 0n || BigInt(raw) >= 1n << 64n) {
      throw invalidValue(`${path}.type`, `${describe(raw)} is not a TLV type: allowed are integers from 0 to 2^64-1`);
    }
    const single = 'value' in def;
    if (single === 'fields' in def) throw invalidValue(path, 'a TLV record has either value (one field) or fields (several)');
    const slots = single ? compileFields({ [name]: def.value }, prefix, true) : compileFields(def.fields, path, true);
    return { name, path, type: BigInt(raw), single, slots, keys: new Set(slots.filter((s) => !s.arrays).map((s) => s.name)) };
  });
  records.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  records.forEach((rec, i) => {
    if (i > 0 && rec.type === records[i - 1].type) throw invalidValue(rec.path, `TLV type ${rec.type} is also used by ${records[i - 1].name}`);
  });
  return records;
}

function encodeTlvs(records: CompiledTlv[], value: Record<string, unknown>, name: string): Uint8Array {
  const out: TlvRecord[] = [];
  for (const rec of records) {
    const v = value[rec.name];
    if (v === undefined) continue;
    const parts: Uint8Array[] = [];
    encodeFields(rec.slots, rec.single ? { [rec.name]: v } : checkObject(v, rec.path, rec.keys), parts);
    out.push({ type: rec.type, value: concatBytes(parts) });
  }
  const unknown = value.unknownTlvs ?? [];
  const path = `${name}.unknownTlvs`;
  if (!Array.isArray(unknown)) throw invalidValue(path, `${describe(unknown)} is not an array of TLV records`);
  unknown.forEach((record: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isTlvRecord(record)) throw invalidValue(at, `${describe(record)} is not a TLV record: it needs { type: bigint from 0n to 2^64-1, value: Uint8Array }`);
    const { type, value: bytes } = record;
    const known = records.find((rec) => rec.type === type);
    if (known) throw invalidValue(at, `TLV type ${type} is ${known.path}: set it through that field`);
    // An unknown even record would make this very schema refuse the message (BOLT 1: unknown
    // even type, "MUST fail to parse the `tlv_stream`"); even records must be defined.
    if (type % 2n === 0n) throw invalidValue(at, `TLV type ${type} is even: an even record must be defined in the schema`);
    out.push({ type, value: bytes });
  });
  // BOLT 1 "Type-Length-Value Format": the sender "MUST order `tlv_record`s in a `tlv_stream`
  // by strictly-increasing `type`, hence MUST not produce more than a single TLV record with
  // the same `type`".
  out.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  out.forEach((rec, i) => {
    if (i > 0 && rec.type === out[i - 1].type) throw invalidValue(path, `TLV type ${rec.type} appears twice`);
  });
  return writeTlvStream(out);
}

/**
 * Decodes the TLV stream through wire/tlv.ts `readTlvStream` (`decodeTlvStream`'s reader),
 * which applies every reader rule of BOLT 1 "Type-Length-Value Format" in order (minimal
 * `type`/`length`, strictly increasing types, `length` within the bytes left, known types
 * decoded, unknown even types refused, unknown odd ones kept). `start` is the stream's offset
 * in the message.
 */
function decodeTlvs(records: CompiledTlv[], stream: Uint8Array, start: number, name: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let cursor = 0;
  const known: TlvSchema = new Map(
    records.map((rec) => [
      rec.type,
      (value: Uint8Array) => {
        const at = locate(stream, rec.type, cursor);
        cursor = at?.next ?? cursor;
        out[rec.name] = decodeRecord(rec, value, start + (at?.value ?? 0));
      },
    ]),
  );
  let unknownTlvs: TlvRecord[];
  try {
    unknownTlvs = readTlvStream(stream, known).filter((record) => !records.some((rec) => rec.type === record.type));
  } catch (err) {
    if (!(err instanceof LnPeerError)) throw err;
    const inner = err.cause instanceof LnPeerError ? err.cause : undefined;
    // An error of one of our records (decodeTlvStream wrapped it): it already names its field.
    if (inner?.details.field !== undefined) throw new LnPeerError(inner.code, inner.message, { ...err.details, ...inner.details }, { cause: err });
    // An error of the stream itself: name the record when it is a known one whose length is
    // wrong, else the stream (an order or encoding error is the stream's).
    const type = typeof err.details.type === 'string' ? BigInt(err.details.type) : undefined;
    const rec = err.code === 'TLV_LENGTH_EXCEEDS_DATA' ? records.find((r) => r.type === type) : undefined;
    const relative = typeof err.details.offset === 'number' ? err.details.offset : type === undefined ? undefined : locate(stream, type, 0)?.header;
    const field = rec?.path ?? `${name}.tlvs`;
    throw new LnPeerError(err.code, `${field}: ${err.message} (in the TLV stream at offset ${start})`, { ...err.details, field, offset: start + (relative ?? 0) }, { cause: err });
  }
  out.unknownTlvs = unknownTlvs;
  return out;
}

function decodeRecord(rec: CompiledTlv, value: Uint8Array, base: number): unknown {
  const r = new Reader(value, 0, value.length, base, true);
  const fields = decodeFields(rec.slots, r);
  // BOLT 1: "if `length` is not exactly equal to that required for the known encoding for
  // `type`: MUST fail to parse the `tlv_stream`".
  if (r.remaining > 0) {
    throw r.error('TLV_INVALID_VALUE', rec.path, `${r.remaining} byte(s) after its last field at offset ${r.offset()}: the record's length must be exactly that of its fields`);
  }
  return rec.single ? fields[rec.name] : fields;
}

/**
 * Where the first record of `type` is in `stream`, scanning from `from`: the offsets of its
 * header and value, and of the record after it. The records before it were already read by
 * decodeTlvStream, so their headers are valid; `undefined` if not found.
 */
function locate(stream: Uint8Array, type: bigint, from: number): { header: number; value: number; next: number } | undefined {
  try {
    for (let header = from; header < stream.length; ) {
      const t = readBigSize(stream, header);
      const l = readBigSize(stream, header + t.length);
      const value = header + t.length + l.length;
      const next = value + Number(l.value);
      if (t.value === type) return { header, value, next };
      header = next;
    }
  } catch {
    // A header cut short: the record is not there.
  }
  return undefined;
}
