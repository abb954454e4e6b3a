/**
 * Codecs for the BOLT 1 setup and control messages: `init` (16), `error` (17),
 * `warning` (1), `ping` (18) and `pong` (19).
 *
 * Encoders return the whole message: the 2-byte big-endian type, then the payload (BOLT 1
 * "Lightning Message Format"). Decoders take the whole message, check its type and return
 * copies, never views of the input. A message too short for its fields throws
 * `INVALID_MESSAGE` (BOLT 1: "upon receiving a known message with insufficient length for
 * the contents: MUST close the connection"); bytes after the known fields are an extension
 * and are allowed.
 */
import { concatBytes, copyBytes, describe, readU16, toHex, writeU16 } from '../bytes.js';
import { checkArray, checkBytes, checkObject } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { type Address, decodeAddress, encodeAddress } from './address.js';
import { orFeatures } from './features.js';
import { ERROR_TYPE as ERROR, INIT_TYPE as INIT, MAX_MESSAGE_LENGTH, PING_TYPE as PING, PONG_TYPE as PONG, WARNING_TYPE as WARNING, typeOf } from './message-types.js';
import { checkTlvRecords, readTlvStream, writeTlvStream, type TlvRecord, type TlvSchema } from './tlv.js';


/** BOLT 1 "The `ping` and `pong` Messages": a `ping` with `num_pong_bytes` ≥ 65532 gets no `pong`. */
export const MAX_PONG_BYTES = 65531;

// BOLT 1 "The `init` Message": `init_tlvs` type 1 `networks` and type 3 `remote_addr`.
const NETWORKS = 1n;
const REMOTE_ADDR = 3n;
const CHAIN_HASH_SIZE = 32;

/** An `init` message. */
export interface InitMessage {
  /** Legacy feature bits; BOLT 1 combines them with `features` (see `combinedFeatures`). */
  globalFeatures: Uint8Array;
  features: Uint8Array;
  /** TLV 1: the chains the node is interested in (32-byte chain hashes); absent when not sent. */
  networks?: Uint8Array[];
  /** TLV 3: how the sender sees our address; left out when it is not a valid descriptor. */
  remoteAddr?: Address;
  /** The other TLV records (odd types lnpeer does not interpret), in type order. */
  unknownTlvs: TlvRecord[];
}

/** The fields to encode an `init` from; `globalFeatures` and `unknownTlvs` default to none. */
export type InitFields = Omit<InitMessage, 'globalFeatures' | 'unknownTlvs'> &
  Partial<Pick<InitMessage, 'globalFeatures' | 'unknownTlvs'>>;

/** Encodes an `init` (type 16). */
export function encodeInit(init: InitFields): Uint8Array {
  const { globalFeatures = new Uint8Array(0), features, networks, remoteAddr, unknownTlvs = [] } = checkObject(init, 'encodeInit() init');
  checkBytes(globalFeatures, 'encodeInit() init.globalFeatures');
  checkBytes(features, 'encodeInit() init.features');
  const tlvs: TlvRecord[] = [];
  if (networks) {
    checkArray(networks, 'encodeInit() init.networks', '32-byte chain hashes');
    networks.forEach((hash: unknown, i) => {
      if (!(hash instanceof Uint8Array) || hash.length !== CHAIN_HASH_SIZE) {
        throw new LnPeerError('INVALID_ARGUMENT', `encodeInit() init.networks[${i}] must be a 32-byte chain hash, got ${describe(hash)}`, { value: hash });
      }
    });
    tlvs.push({ type: NETWORKS, value: concatBytes(networks) });
  }
  if (remoteAddr) tlvs.push({ type: REMOTE_ADDR, value: encodeAddress(remoteAddr) });
  checkTlvRecords(unknownTlvs, 'encodeInit() init.unknownTlvs');
  for (const record of unknownTlvs) {
    if (record.type === NETWORKS || record.type === REMOTE_ADDR) {
      throw new LnPeerError(
        'INVALID_ARGUMENT',
        `init TLV type ${record.type} is ${record.type === NETWORKS ? 'networks' : 'remote_addr'}: set it through its own field`,
      );
    }
    // BOLT 1: the sender "MUST NOT send evenly-typed TLV records in the `extension` without
    // prior negotiation", and nothing can be negotiated before `init`.
    if (record.type % 2n === 0n) {
      throw new LnPeerError('INVALID_ARGUMENT', `init TLV type ${record.type} is even: only odd extra TLV types are allowed in init`);
    }
  }
  tlvs.push(...unknownTlvs);
  tlvs.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return message(INIT, [u16Prefixed(globalFeatures, 'init globalfeatures'), u16Prefixed(features, 'init features'), writeTlvStream(tlvs)]);
}

/**
 * Decodes an `init`. The `init_tlvs` stream follows BOLT 1's TLV reader rules: an unknown
 * even type, a bad order or a truncated record throws (see `decodeTlvStream`), and a
 * `networks` value that is not a whole number of chain hashes throws `TLV_INVALID_VALUE`.
 * `remote_addr` is defined as `...*byte`; one that is not a valid BOLT 7 descriptor is left
 * out rather than rejected, since the receiver only "MAY use the `remote_addr`".
 */
export function decodeInit(msg: Uint8Array): InitMessage {
  const r = new MessageReader(msg, INIT, 'init');
  const globalFeatures = r.bytes(r.u16('gflen'), 'globalfeatures');
  const features = r.bytes(r.u16('flen'), 'features');
  const init: InitMessage = { globalFeatures, features, unknownTlvs: [] };
  for (const record of readTlvStream(r.rest(), INIT_TLVS)) {
    if (record.type === NETWORKS) init.networks = splitChainHashes(record.value);
    else if (record.type === REMOTE_ADDR) {
      const remoteAddr = decodeAddressOrUndefined(record.value);
      if (remoteAddr) init.remoteAddr = remoteAddr;
    } else init.unknownTlvs.push(record);
  }
  return init;
}

/** BOLT 1 "The `init` Message": the receiver "MUST combine (logical OR) the two feature bitmaps". */
export function combinedFeatures(init: Pick<InitMessage, 'globalFeatures' | 'features'>): Uint8Array {
  const { globalFeatures, features } = checkObject(init, 'combinedFeatures() init');
  checkBytes(globalFeatures, 'combinedFeatures() init.globalFeatures');
  checkBytes(features, 'combinedFeatures() init.features');
  return orFeatures(globalFeatures, features);
}

const INIT_TLVS: TlvSchema = new Map([
  [
    NETWORKS,
    (value: Uint8Array) => {
      if (value.length % CHAIN_HASH_SIZE !== 0) {
        throw new LnPeerError('TLV_INVALID_VALUE', `networks has ${value.length} bytes: it must be a list of 32-byte chain hashes`);
      }
    },
  ],
  [REMOTE_ADDR, () => {}],
]);

function splitChainHashes(value: Uint8Array): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < value.length; i += CHAIN_HASH_SIZE) hashes.push(copyBytes(value, i, i + CHAIN_HASH_SIZE));
  return hashes;
}

function decodeAddressOrUndefined(value: Uint8Array): Address | undefined {
  try {
    return decodeAddress(value);
  } catch (err) {
    if (err instanceof LnPeerError) return undefined;
    throw err;
  }
}

/** An `error` or `warning` message: the channel it is about (all zero: every channel / none) and the data. */
export interface ErrorMessage {
  channelId: Uint8Array;
  data: Uint8Array;
}

/** Encodes an `error` (type 17). A string `data` is sent as UTF-8. */
export function encodeError(channelId: Uint8Array, data: Uint8Array | string = ''): Uint8Array {
  return encodeErrorLike(ERROR, 'error', 'encodeError()', channelId, data);
}

/** Encodes a `warning` (type 1). A string `data` is sent as UTF-8. */
export function encodeWarning(channelId: Uint8Array, data: Uint8Array | string = ''): Uint8Array {
  return encodeErrorLike(WARNING, 'warning', 'encodeWarning()', channelId, data);
}

/** Decodes an `error` (type 17). */
export function decodeError(msg: Uint8Array): ErrorMessage {
  return decodeErrorLike(msg, ERROR, 'error');
}

/** Decodes a `warning` (type 1). */
export function decodeWarning(msg: Uint8Array): ErrorMessage {
  return decodeErrorLike(msg, WARNING, 'warning');
}

/**
 * `error`/`warning` data made safe to print: the text itself when every byte is printable
 * ASCII, otherwise `hex:` and the hex. BOLT 1: "if `data` is not composed solely of printable
 * ASCII characters (… byte values 32 through 126, inclusive): SHOULD NOT print out `data`
 * verbatim."
 */
export function formatErrorData(data: Uint8Array): string {
  checkBytes(data, 'formatErrorData() data');
  return data.every((b) => b >= 32 && b <= 126) ? new TextDecoder('ascii').decode(data) : `hex:${toHex(data)}`;
}

function encodeErrorLike(type: number, name: string, call: string, channelId: Uint8Array, data: Uint8Array | string): Uint8Array {
  if (!(channelId instanceof Uint8Array) || channelId.length !== 32) {
    throw new LnPeerError('INVALID_ARGUMENT', `${call} channelId must be 32 bytes (all zero for no specific channel), got ${describe(channelId)}`, {
      value: channelId,
    });
  }
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new LnPeerError('INVALID_ARGUMENT', `${call} data must be a string (sent as UTF-8) or a Uint8Array, got ${describe(data)}`);
  }
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return message(type, [channelId, u16Prefixed(bytes, `${name} data`)]);
}

function decodeErrorLike(msg: Uint8Array, type: number, name: string): ErrorMessage {
  const r = new MessageReader(msg, type, name);
  const channelId = r.bytes(32, 'channel_id');
  const data = r.bytes(r.u16('len'), 'data');
  return { channelId, data };
}

/** A decoded `ping`: how many bytes the `pong` must carry, and how many it was padded with. */
export interface PingMessage {
  numPongBytes: number;
  byteslen: number;
}

/**
 * Encodes a `ping` (type 18) asking for `numPongBytes` in the `pong`, padded with
 * `paddingLength` zero bytes (BOLT 1: the sender "SHOULD set `ignored` to 0s"). The whole
 * message must fit 65535 bytes, so the padding is at most 65529.
 */
export function encodePing(numPongBytes: number, paddingLength = 0): Uint8Array {
  checkU16(numPongBytes, 'ping num_pong_bytes');
  checkLength(paddingLength, MAX_MESSAGE_LENGTH - 6, 'ping padding');
  return message(PING, [u16(numPongBytes), u16Prefixed(new Uint8Array(paddingLength), 'ping ignored')]);
}

/** Decodes a `ping` (type 18). */
export function decodePing(msg: Uint8Array): PingMessage {
  const r = new MessageReader(msg, PING, 'ping');
  const numPongBytes = r.u16('num_pong_bytes');
  const byteslen = r.u16('byteslen');
  r.skip(byteslen, 'ignored');
  return { numPongBytes, byteslen };
}

/**
 * Encodes a `pong` (type 19) with `byteslen` zero bytes, at most 65531 (BOLT 1: "MUST respond
 * by sending a `pong` message, with `byteslen` equal to `num_pong_bytes`"; "SHOULD set
 * `ignored` to 0s").
 */
export function encodePong(byteslen: number): Uint8Array {
  checkLength(byteslen, MAX_PONG_BYTES, 'pong byteslen');
  return message(PONG, [u16Prefixed(new Uint8Array(byteslen), 'pong ignored')]);
}

/** Decodes a `pong` (type 19): its `byteslen`. */
export function decodePong(msg: Uint8Array): { byteslen: number } {
  const r = new MessageReader(msg, PONG, 'pong');
  const byteslen = r.u16('byteslen');
  r.skip(byteslen, 'ignored');
  return { byteslen };
}

/** Reads the fields of one whole message, throwing `INVALID_MESSAGE` when a field runs past its end. */
class MessageReader {
  private offset = 2;

  constructor(
    private readonly msg: Uint8Array,
    type: number,
    private readonly name: string,
  ) {
    checkBytes(msg, `decode${name[0].toUpperCase()}${name.slice(1)}() msg`);
    const actual = typeOf(msg);
    if (actual !== type) {
      throw new LnPeerError('INVALID_MESSAGE', `expected a ${name} message (type ${type}), got type ${actual}`, { type: actual });
    }
  }

  u16(field: string): number {
    this.need(2, field);
    const value = readU16(this.msg, this.offset);
    this.offset += 2;
    return value;
  }

  bytes(length: number, field: string): Uint8Array {
    this.need(length, field);
    const value = copyBytes(this.msg, this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  skip(length: number, field: string): void {
    this.need(length, field);
    this.offset += length;
  }

  /** The bytes after the fields read so far, as a view. */
  rest(): Uint8Array {
    return this.msg.subarray(this.offset);
  }

  private need(length: number, field: string): void {
    const available = this.msg.length - this.offset;
    if (length > available) {
      throw new LnPeerError(
        'INVALID_MESSAGE',
        `${this.name} message is too short: ${field} needs ${length} bytes at offset ${this.offset}, only ${available} remain`,
        { field, offset: this.offset },
      );
    }
  }
}

/** Type + payload parts, refusing more than 65535 bytes in all with `MESSAGE_TOO_LONG`. */
function message(type: number, parts: Uint8Array[]): Uint8Array {
  const msg = concatBytes([u16(type), ...parts]);
  if (msg.length > MAX_MESSAGE_LENGTH) {
    throw new LnPeerError('MESSAGE_TOO_LONG', `message of type ${type} would be ${msg.length} bytes: at most ${MAX_MESSAGE_LENGTH} are allowed`, {
      length: msg.length,
    });
  }
  return msg;
}

function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  writeU16(out, 0, value);
  return out;
}

/** A u16 length followed by the bytes (`u16:len`, `len*byte`). */
function u16Prefixed(bytes: Uint8Array, what: string): Uint8Array {
  checkLength(bytes.length, 0xffff, what);
  return concatBytes([u16(bytes.length), bytes]);
}

function checkU16(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new LnPeerError('INVALID_ARGUMENT', `${what} ${String(value)} is not a u16: allowed are integers from 0 to 65535`, { value });
  }
}

function checkLength(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new LnPeerError('INVALID_ARGUMENT', `${what} ${String(value)} is not a length: use an integer from 0 to ${max}`, { value });
  }
  if (value > max) {
    throw new LnPeerError('MESSAGE_TOO_LONG', `${what} ${value} is too long: at most ${max} bytes fit in a message`, { value });
  }
}
