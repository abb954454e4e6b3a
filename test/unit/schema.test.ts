import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/bytes.js';
import { getPublicKey } from '../../src/crypto/index.js';
import { LnPeerError, type LnPeerErrorCode } from '../../src/errors.js';
import { seededRandom, type Rand } from '../prng.js';
import {
  arrayOf,
  defineMessage,
  fixedBytes,
  restOf,
  type Infer,
  type MessageSchema,
  type TlvRecord,
} from '../../src/protocols/schema.js';
import {
  type Address,
  decodeAddress,
  decodeInit,
  decodePing,
  decodePong,
  encodeAddress,
  encodeBigSize,
  encodeInit,
  encodePing,
  encodePong,
  type InitFields,
  type InitMessage,
} from '../../src/wire/index.js';

// ---------------------------------------------------------------------------------------
// Helpers

interface Vectors {
  bigsize: {
    decoding: { name: string; bytes: string; valid: boolean; value?: string; error_kind?: string }[];
    encoding: { name: string; value: string; bytes: string }[];
  };
  init_extension: { vectors: { message: string; valid: boolean; explanation: string }[] };
  signed_integers: { vectors: { value: string; bytes: string; width_bytes: 1 | 2 | 4 | 8 }[] };
  derived_examples: { messages: { name: string; hex: string }[] };
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/bolt1.json', import.meta.url), 'utf8')) as Vectors;

const hex = (s: string): Uint8Array => new Uint8Array(fromHex(s, 'test vector'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs `fn`, which must throw an `LnPeerError` with `code` whose `details.field` is `field`. */
function throwsCode(fn: () => unknown, code: LnPeerErrorCode, field?: string): LnPeerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LnPeerError, `expected LnPeerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  if (field !== undefined) {
    assert.equal(caught.details.field, field, caught.message);
    assert.ok(caught.message.startsWith(`${field}`), `message names ${field}: ${caught.message}`);
  }
  return caught;
}

/** The result of `fn`, or the `LnPeerError` it threw (anything else is re-thrown). */
function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: LnPeerError } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof LnPeerError) return { ok: false, error: err };
    throw err;
  }
}


/** A mutation of `msg`: flipped bits, overwritten, inserted or deleted bytes, truncation, appended bytes. */
function mutate(msg: Uint8Array, rand: Rand): Uint8Array {
  const out = [...msg];
  const rounds = 1 + rand.int(3);
  for (let k = 0; k < rounds; k++) {
    // Keep the 2-byte type most of the time, so the fields are what gets fuzzed.
    const at = (): number => Math.min(out.length, (rand.int(4) === 0 ? 0 : 2) + rand.int(Math.max(1, out.length - 1)));
    switch (rand.int(6)) {
      case 0:
        if (out.length > 0) {
          const i = at() % out.length;
          out[i] ^= 1 << rand.int(8);
        }
        break;
      case 1:
        if (out.length > 0) out[at() % out.length] = rand.pick([0x00, 0xff, 0xfd, 0xfe, 0x01, rand.int(256)]);
        break;
      case 2:
        out.splice(at(), 0, ...rand.bytes(1 + rand.int(4)));
        break;
      case 3:
        out.splice(at(), 1 + rand.int(4));
        break;
      case 4:
        out.length = rand.int(out.length + 1);
        break;
      default:
        out.push(...rand.bytes(1 + rand.int(12)));
    }
  }
  return Uint8Array.from(out);
}

/** The generator point G and another valid point; an invalid one from BOLT 1 Appendix B. */
const G = hex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
const G_ODD = hex('0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
const NOT_A_POINT = hex('043da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb');
/** BOLT 1 Appendix B, invalid record of n1: tlv3 whose node_id is not a valid point. */
const INVALID_POINT_RECORD = '0331043da092f6980e58d2c037173180e9a465476026ee50f96695963e8efe436f54eb00000000000000010000000000000002';

/** A valid point from the PRNG. */
const randomPoint = (rand: Rand): Uint8Array => {
  const key = rand.bytes(32);
  key[0] = 1 + rand.int(200); // below the group order, never zero
  return getPublicKey(key);
};

/** Compile-time equality of two types. */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

// ---------------------------------------------------------------------------------------
// BOLT 1 init, ping and pong as schemas

/** BOLT 1 "The `init` Message": `[u16:gflen][gflen*byte:globalfeatures][u16:flen][flen*byte:features][init_tlvs:tlvs]`. */
const Init = defineMessage({
  name: 'init',
  type: 16,
  fields: { globalfeatures: 'bytes', features: 'bytes' },
  tlvs: {
    networks: { type: 1, value: restOf('chain_hash') }, // [...*chain_hash:chains]
    remote_addr: { type: 3, value: restOf('byte') }, // [...*byte:data]
  },
});

/** BOLT 1 "The `ping` and `pong` Messages": `[u16:num_pong_bytes][u16:byteslen][byteslen*byte:ignored]`. */
const Ping = defineMessage({ name: 'ping', type: 18, fields: { num_pong_bytes: 'u16', ignored: 'bytes' } });
/** `[u16:byteslen][byteslen*byte:ignored]`. */
const Pong = defineMessage({ name: 'pong', type: 19, fields: { ignored: 'bytes' } });

// The types follow the definitions.
const initType: Equal<
  Infer<typeof Init>,
  { globalfeatures: Uint8Array; features: Uint8Array; networks?: Uint8Array[]; remote_addr?: Uint8Array; unknownTlvs?: TlvRecord[] }
> = true;
const pingType: Equal<Infer<typeof Ping>, { num_pong_bytes: number; ignored: Uint8Array }> = true;
assert.ok(initType && pingType);

const tryAddress = (bytes: Uint8Array | undefined): Address | undefined => {
  if (bytes === undefined) return undefined;
  const r = attempt(() => decodeAddress(bytes));
  return r.ok ? r.value : undefined;
};

/** decodeInit's view of the schema's value: remote_addr parsed (and dropped when not a descriptor). */
function asInitMessage(v: Infer<typeof Init>): InitMessage {
  const out: InitMessage = { globalFeatures: v.globalfeatures, features: v.features, unknownTlvs: v.unknownTlvs ?? [] };
  if (v.networks) out.networks = v.networks;
  const addr = tryAddress(v.remote_addr);
  if (addr) out.remoteAddr = addr;
  return out;
}

function randomAddress(rand: Rand): Address {
  if (rand.int(2) === 0) return { type: 'ipv4', host: [...rand.bytes(4)].join('.'), port: 1 + rand.int(65535) };
  const groups = Array.from({ length: 8 }, () => (rand.int(3) === 0 ? 0 : rand.int(65536)).toString(16));
  return decodeAddress(encodeAddress({ type: 'ipv6', host: groups.join(':'), port: 1 + rand.int(65535) }));
}

/** A random init, as encodeInit's fields and as the schema's value. */
function randomInit(rand: Rand): { fields: InitFields; value: Infer<typeof Init> } {
  const globalFeatures = rand.bytes(rand.int(4));
  const features = rand.bytes(rand.int(9));
  const fields: InitFields = { globalFeatures, features, unknownTlvs: [] };
  const value: Infer<typeof Init> = { globalfeatures: globalFeatures, features };
  if (rand.int(2) === 0) fields.networks = value.networks = Array.from({ length: rand.int(4) }, () => rand.bytes(32));
  if (rand.int(2) === 0) {
    fields.remoteAddr = randomAddress(rand);
    value.remote_addr = encodeAddress(fields.remoteAddr);
  }
  const types = new Set<bigint>();
  for (let i = rand.int(4); i > 0; i--) types.add(rand.pick([5n, 7n, 0xc9n, 0xfffn, 0x10001n, (1n << 40n) + 1n, (1n << 64n) - 1n]));
  const unknownTlvs = [...types].sort((a, b) => (a < b ? -1 : 1)).map((type) => ({ type, value: rand.bytes(rand.int(10)) }));
  fields.unknownTlvs = unknownTlvs;
  if (unknownTlvs.length > 0 || rand.int(2) === 0) value.unknownTlvs = unknownTlvs;
  return { fields, value };
}

/** Both decoders accept with the same result, or both refuse with the same code. */
function sameAsDecodeInit(msg: Uint8Array): void {
  const a = attempt(() => decodeInit(msg));
  const b = attempt(() => Init.decode(msg));
  assert.equal(b.ok, a.ok, `${toHex(msg)}: decodeInit ${a.ok ? 'accepts' : `refuses (${a.error.message})`}, Init.decode ${b.ok ? 'accepts' : `refuses (${b.error.message})`}`);
  if (a.ok && b.ok) assert.deepEqual(asInitMessage(b.value), a.value, toHex(msg));
  if (!a.ok && !b.ok) assert.equal(b.error.code, a.error.code, `${toHex(msg)}: ${a.error.message} / ${b.error.message}`);
}

function sameAsDecodePing(msg: Uint8Array): void {
  const a = attempt(() => decodePing(msg));
  const b = attempt(() => Ping.decode(msg));
  assert.equal(b.ok, a.ok, toHex(msg));
  if (a.ok && b.ok) assert.deepEqual({ numPongBytes: b.value.num_pong_bytes, byteslen: b.value.ignored.length }, a.value);
  if (!a.ok && !b.ok) assert.equal(b.error.code, a.error.code);
}

function sameAsDecodePong(msg: Uint8Array): void {
  const a = attempt(() => decodePong(msg));
  const b = attempt(() => Pong.decode(msg));
  assert.equal(b.ok, a.ok, toHex(msg));
  if (a.ok && b.ok) assert.deepEqual({ byteslen: b.value.ignored.length }, a.value);
  if (!a.ok && !b.ok) assert.equal(b.error.code, a.error.code);
}

describe('schema: BOLT 1 init as a schema matches wire/messages.ts', () => {
  it('accepts and refuses exactly the init_extension vectors (Appendix C) that decodeInit does', () => {
    assert.equal(vectors.init_extension.vectors.length, 5);
    for (const v of vectors.init_extension.vectors) {
      const msg = hex(v.message);
      const r = attempt(() => Init.decode(msg));
      assert.equal(r.ok, v.valid, `${v.message}: ${v.explanation}`);
      sameAsDecodeInit(msg);
      if (r.ok) assert.equal(toHex(Init.encode(r.value)), v.message);
    }
  });
  it('names the TLV stream in the errors of the invalid vectors', () => {
    throwsCode(() => Init.decode(hex('00100000000001')), 'UNEXPECTED_EOF', 'init.tlvs');
    const even = throwsCode(() => Init.decode(hex('001000000000ca012a')), 'TLV_UNKNOWN_EVEN', 'init.tlvs');
    assert.equal(even.details.offset, 6);
    const dup = throwsCode(() => Init.decode(hex('001000000000c90101c90102')), 'TLV_NOT_INCREASING', 'init.tlvs');
    assert.equal(dup.details.offset, 9);
  });
  it('keeps the unknown odd records c9 and cb and writes them back', () => {
    const v = Init.decode(hex('001000000000c9012acb0104'));
    assert.deepEqual(v, {
      globalfeatures: new Uint8Array(0),
      features: new Uint8Array(0),
      unknownTlvs: [
        { type: 0xc9n, value: hex('2a') },
        { type: 0xcbn, value: hex('04') },
      ],
    });
  });
  it('encodes the derived init examples byte for byte', () => {
    for (const m of vectors.derived_examples.messages.filter((x) => x.name.startsWith('init'))) {
      const v = Init.decode(hex(m.hex));
      assert.equal(toHex(Init.encode(v)), m.hex, m.name);
      assert.equal(toHex(encodeInit({ features: v.features, globalFeatures: v.globalfeatures, networks: v.networks })), m.hex);
    }
  });
  it('encodes 2000 random inits as encodeInit does, and both decoders agree on them', () => {
    const rand = seededRandom(1);
    for (let i = 0; i < 2000; i++) {
      const { fields, value } = randomInit(rand);
      const bytes = encodeInit(fields);
      assert.equal(toHex(Init.encode(value)), toHex(bytes));
      sameAsDecodeInit(bytes);
      assert.deepEqual(Init.decode(bytes), { ...value, unknownTlvs: fields.unknownTlvs });
    }
  });
  it('refuses on encode what encodeInit refuses', () => {
    const base = { globalfeatures: new Uint8Array(0), features: new Uint8Array(0) };
    throwsCode(() => encodeInit({ features: base.features, unknownTlvs: [{ type: 4n, value: hex('') }] }), 'INVALID_ARGUMENT');
    throwsCode(() => Init.encode({ ...base, unknownTlvs: [{ type: 4n, value: hex('') }] }), 'INVALID_ARGUMENT', 'init.unknownTlvs[0]');
    throwsCode(() => encodeInit({ features: base.features, unknownTlvs: [{ type: 1n, value: hex('') }] }), 'INVALID_ARGUMENT');
    throwsCode(() => Init.encode({ ...base, unknownTlvs: [{ type: 1n, value: hex('') }] }), 'INVALID_ARGUMENT', 'init.unknownTlvs[0]');
    throwsCode(() => encodeInit({ features: base.features, networks: [new Uint8Array(31)] }), 'INVALID_ARGUMENT');
    throwsCode(() => Init.encode({ ...base, networks: [new Uint8Array(31)] }), 'INVALID_ARGUMENT', 'init.networks[0]');
    throwsCode(() => encodeInit({ features: new Uint8Array(65536) }), 'MESSAGE_TOO_LONG');
    throwsCode(() => Init.encode({ ...base, features: new Uint8Array(65536) }), 'MESSAGE_TOO_LONG', 'init.features');
  });
  it('agrees with decodeInit on 4000 mutated inits and 2000 random byte strings', () => {
    const rand = seededRandom(2);
    for (let i = 0; i < 4000; i++) sameAsDecodeInit(mutate(encodeInit(randomInit(rand).fields), rand));
    for (let i = 0; i < 2000; i++) {
      const body = rand.bytes(rand.int(60));
      sameAsDecodeInit(rand.int(4) === 0 ? body : new Uint8Array([0, 16, ...body]));
    }
  });
});

describe('schema: BOLT 1 ping and pong as schemas match wire/messages.ts', () => {
  it('encode byte for byte, at the size limits too', () => {
    for (const [n, pad] of [
      [0, 0],
      [4, 0],
      [65532, 0],
      [7, 3],
      [65535, 65529],
    ]) {
      assert.equal(toHex(Ping.encode({ num_pong_bytes: n, ignored: new Uint8Array(pad) })), toHex(encodePing(n, pad)));
      sameAsDecodePing(encodePing(n, pad));
    }
    for (const len of [0, 4, 65531]) {
      assert.equal(toHex(Pong.encode({ ignored: new Uint8Array(len) })), toHex(encodePong(len)));
      sameAsDecodePong(encodePong(len));
    }
    throwsCode(() => encodePing(0, 65530), 'MESSAGE_TOO_LONG');
    throwsCode(() => Ping.encode({ num_pong_bytes: 0, ignored: new Uint8Array(65530) }), 'MESSAGE_TOO_LONG', 'ping');
    throwsCode(() => encodePong(65532), 'MESSAGE_TOO_LONG');
    throwsCode(() => Pong.encode({ ignored: new Uint8Array(65532) }), 'MESSAGE_TOO_LONG', 'pong');
    throwsCode(() => encodePing(65536), 'INVALID_ARGUMENT');
    throwsCode(() => Ping.encode({ num_pong_bytes: 65536, ignored: new Uint8Array(0) }), 'INVALID_ARGUMENT', 'ping.num_pong_bytes');
  });
  it('encode the derived ping/pong examples', () => {
    for (const m of vectors.derived_examples.messages.filter((x) => /^(ping|pong)/.test(x.name))) {
      const schema: MessageSchema<Infer<typeof Ping>> | MessageSchema<Infer<typeof Pong>> = m.name.startsWith('ping') ? Ping : Pong;
      const v = schema.decode(hex(m.hex));
      assert.equal(toHex((schema as MessageSchema<typeof v>).encode(v)), m.hex, m.name);
    }
  });
  it('encode 2000 random pings and pongs as encodePing/encodePong do', () => {
    const rand = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const n = rand.int(65536);
      const pad = rand.int(3) === 0 ? rand.int(65530) : rand.int(40);
      assert.deepEqual(Ping.encode({ num_pong_bytes: n, ignored: new Uint8Array(pad) }), encodePing(n, pad));
      if (pad <= 65531) assert.deepEqual(Pong.encode({ ignored: new Uint8Array(pad) }), encodePong(pad));
    }
  });
  it('agree with decodePing/decodePong on 4000 mutated and 2000 random messages each, trailing bytes included', () => {
    const rand = seededRandom(4);
    for (let i = 0; i < 4000; i++) {
      sameAsDecodePing(mutate(encodePing(rand.int(65536), rand.int(20)), rand));
      sameAsDecodePong(mutate(encodePong(rand.int(20)), rand));
    }
    for (let i = 0; i < 2000; i++) {
      const body = rand.bytes(rand.int(30));
      sameAsDecodePing(rand.int(4) === 0 ? body : new Uint8Array([0, 18, ...body]));
      sameAsDecodePong(rand.int(4) === 0 ? body : new Uint8Array([0, 19, ...body]));
    }
    assert.deepEqual(Ping.decode(hex('00120004000100ff')), { num_pong_bytes: 4, ignored: hex('00') });
  });
});

// ---------------------------------------------------------------------------------------
// Every field type

/** One of every field type, arrays and TLV record shapes. */
const All = defineMessage({
  name: 'all',
  type: 0xfff3,
  fields: {
    a_byte: 'byte',
    a_u8: 'u8',
    a_u16: 'u16',
    a_u32: 'u32',
    a_u64: 'u64',
    a_s8: 's8',
    a_s16: 's16',
    a_s32: 's32',
    a_s64: 's64',
    a_bigsize: 'bigsize',
    chain: 'chain_hash',
    channel: 'channel_id',
    hash: 'sha256',
    key: 'point',
    sig: 'signature',
    scid: 'short_channel_id',
    text: 'utf8',
    blob: 'bytes',
    four: fixedBytes(4),
    num_keys: 'u16',
    keys: arrayOf('point', 'num_keys'),
    amounts: arrayOf('u64', 'num_keys'),
    len: 'byte',
    data: arrayOf('byte', 'len'),
    n_witnesses: 'bigsize',
    witnesses: arrayOf('bytes', 'n_witnesses'),
  },
  tlvs: {
    t16: { type: 1, value: 'tu16' },
    t32: { type: 3, value: 'tu32' },
    t64: { type: 5, value: 'tu64' },
    chains: { type: 6, value: restOf('chain_hash') },
    raw: { type: 7, value: restOf('byte') },
    payment: { type: 8, fields: { secret: 'sha256', n: 'u8', hops: arrayOf('short_channel_id', 'n'), total_msat: 'tu64' } },
    flag: { type: 10, fields: {} },
    last: { type: (1n << 64n) - 1n, value: 's32' },
  },
});
type AllValue = Infer<typeof All>;

const allType: Equal<
  AllValue,
  {
    a_byte: number;
    a_u8: number;
    a_u16: number;
    a_u32: number;
    a_u64: bigint;
    a_s8: number;
    a_s16: number;
    a_s32: number;
    a_s64: bigint;
    a_bigsize: bigint;
    chain: Uint8Array;
    channel: Uint8Array;
    hash: Uint8Array;
    key: Uint8Array;
    sig: Uint8Array;
    scid: string;
    text: string;
    blob: Uint8Array;
    four: Uint8Array;
    keys: Uint8Array[];
    amounts: bigint[];
    data: Uint8Array;
    witnesses: Uint8Array[];
    t16?: number;
    t32?: number;
    t64?: bigint;
    chains?: Uint8Array[];
    raw?: Uint8Array;
    payment?: { secret: Uint8Array; hops: string[]; total_msat: bigint };
    flag?: Record<never, never>;
    last?: number;
    unknownTlvs?: TlvRecord[];
  }
> = true;
assert.ok(allType);

const ALL: AllValue = {
  a_byte: 0,
  a_u8: 255,
  a_u16: 65535,
  a_u32: 0xffffffff,
  a_u64: (1n << 64n) - 1n,
  a_s8: -128,
  a_s16: 32767,
  a_s32: -2147483648,
  a_s64: (1n << 63n) - 1n,
  a_bigsize: 0xfdn,
  chain: new Uint8Array(32).fill(1),
  channel: new Uint8Array(32).fill(2),
  hash: new Uint8Array(32).fill(3),
  key: G,
  sig: new Uint8Array(64).fill(4),
  scid: '700000x1234x1',
  text: 'héllo ⚡ 👋',
  blob: hex('deadbeef'),
  four: hex('01020304'),
  keys: [G, G_ODD],
  amounts: [1n, 2n],
  data: hex('aabbcc'),
  witnesses: [hex(''), hex('00'), new Uint8Array(300)],
};

const ALL_TLVS: Partial<AllValue> = {
  t16: 0xffff,
  t32: 256,
  t64: 0n,
  chains: [new Uint8Array(32), new Uint8Array(32).fill(9)],
  raw: hex('0102'),
  payment: { secret: new Uint8Array(32).fill(7), hops: ['1x2x3', '16777215x16777215x65535'], total_msat: 1000n },
  flag: {},
  last: -1,
  unknownTlvs: [{ type: 9n, value: hex('99') }],
};

/** A message of `All` with one field replaced. */
const withField = (patch: Record<string, unknown>): AllValue => ({ ...ALL, ...patch }) as AllValue;

describe('schema: every field type', () => {
  it('round-trips a message with every field type and every TLV record', () => {
    for (const value of [ALL, { ...ALL, ...ALL_TLVS }]) {
      const bytes = All.encode(value);
      const decoded = All.decode(bytes);
      assert.deepEqual(decoded, { unknownTlvs: [], ...value });
      assert.deepEqual(All.encode(decoded), bytes);
    }
  });
  it('writes the fields in order, counts first, in the BOLT encodings', () => {
    const bytes = All.encode({ ...ALL, t64: 0x0102n, flag: {} });
    // type, byte 0, u8 ff, u16 ffff, u32 ffffffff, u64 max, s8 -128, s16 7fff, s32 -2^31, s64 max, bigsize fd00fd
    assert.equal(
      toHex(bytes.subarray(0, 36)),
      'fff3' + '00' + 'ff' + 'ffff' + 'ffffffff' + 'ffffffffffffffff' + '80' + '7fff' + '80000000' + '7fffffffffffffff' + 'fd00fd',
    );
    // The TLV stream: tu64 0x0102 as the 2 bytes 0102, then the empty flag record.
    assert.equal(toHex(bytes.subarray(bytes.length - 6)), '05020102' + '0a00');
    assert.ok(toHex(bytes).includes('0002' + toHex(G) + toHex(G_ODD) + '0000000000000001' + '0000000000000002' + '03aabbcc' + '03'));
  });

  const ints: [string, number | bigint, number | bigint][] = [
    ['a_byte', 0, 255],
    ['a_u8', 0, 255],
    ['a_u16', 0, 65535],
    ['a_u32', 0, 0xffffffff],
    ['a_u64', 0n, (1n << 64n) - 1n],
    ['a_s8', -128, 127],
    ['a_s16', -32768, 32767],
    ['a_s32', -(2 ** 31), 2 ** 31 - 1],
    ['a_s64', -(1n << 63n), (1n << 63n) - 1n],
    ['a_bigsize', 0n, (1n << 64n) - 1n],
  ];
  for (const [field, min, max] of ints) {
    it(`${field}: min and max round-trip, one beyond and a wrong JS type are refused naming the field`, () => {
      for (const v of [min, max]) assert.equal(All.decode(All.encode(withField({ [field]: v })))[field as keyof AllValue], v);
      const one = typeof max === 'bigint' ? 1n : 1;
      throwsCode(() => All.encode(withField({ [field]: (max as number) + (one as number) })), 'INVALID_ARGUMENT', `all.${field}`);
      throwsCode(() => All.encode(withField({ [field]: (min as number) - (one as number) })), 'INVALID_ARGUMENT', `all.${field}`);
      const wrong = typeof max === 'bigint' ? 1 : 1n;
      const err = throwsCode(() => All.encode(withField({ [field]: wrong })), 'INVALID_ARGUMENT', `all.${field}`);
      if (typeof max === 'bigint') assert.match(err.message, /write 1n/);
      throwsCode(() => All.encode(withField({ [field]: undefined })), 'INVALID_ARGUMENT', `all.${field}`);
      if (typeof max === 'number') throwsCode(() => All.encode(withField({ [field]: 1.5 })), 'INVALID_ARGUMENT', `all.${field}`);
    });
  }

  it('signed integers: the BOLT 1 Appendix D vectors', () => {
    const S = {
      1: defineMessage({ name: 's', type: 1, fields: { v: 's8' } }),
      2: defineMessage({ name: 's', type: 1, fields: { v: 's16' } }),
      4: defineMessage({ name: 's', type: 1, fields: { v: 's32' } }),
      8: defineMessage({ name: 's', type: 1, fields: { v: 's64' } }),
    } as const;
    assert.equal(vectors.signed_integers.vectors.length, 23);
    for (const v of vectors.signed_integers.vectors) {
      const schema = S[v.width_bytes] as MessageSchema<{ v: number | bigint }>;
      const value = v.width_bytes === 8 ? BigInt(v.value) : Number(v.value);
      assert.equal(toHex(schema.encode({ v: value })), `0001${v.bytes}`, v.value);
      assert.equal(schema.decode(hex(`0001${v.bytes}`)).v, value);
    }
  });

  it('bigsize: the BOLT 1 Appendix A vectors, and non-canonical encodings refused naming the field', () => {
    const B = defineMessage({ name: 'b', type: 1, fields: { v: 'bigsize' }, strict: true });
    for (const v of vectors.bigsize.encoding) assert.equal(toHex(B.encode({ v: BigInt(v.value) })), `0001${v.bytes}`);
    for (const v of vectors.bigsize.decoding) {
      if (v.valid) assert.equal(B.decode(hex(`0001${v.bytes}`)).v, BigInt(v.value ?? ''));
      else {
        const err = throwsCode(() => B.decode(hex(`0001${v.bytes}`)), v.error_kind === 'non_canonical' ? 'BIGSIZE_NOT_CANONICAL' : 'INVALID_MESSAGE', 'b.v');
        assert.equal(err.details.offset, 2);
      }
    }
  });

  it('truncated integers: 0 is no byte, no leading zero, at most 2/4/8 bytes, and only in TLV records', () => {
    const T = defineMessage({ name: 't', type: 1, fields: {}, tlvs: { a: { type: 1, value: 'tu16' }, b: { type: 3, value: 'tu32' }, c: { type: 5, value: 'tu64' } } });
    assert.equal(toHex(T.encode({ a: 0, b: 1, c: 0x0100n })), '0001' + '0100' + '030101' + '05020100');
    assert.equal(toHex(T.encode({ a: 65535, b: 0xffffffff, c: (1n << 64n) - 1n })), '0001' + '0102ffff' + '0304ffffffff' + '0508ffffffffffffffff');
    assert.deepEqual(T.decode(hex('0001' + '0100' + '030101' + '05020100')), { a: 0, b: 1, c: 0x100n, unknownTlvs: [] });
    throwsCode(() => T.encode({ a: 65536 }), 'INVALID_ARGUMENT', 't.a');
    throwsCode(() => T.encode({ b: 2 ** 32 }), 'INVALID_ARGUMENT', 't.b');
    throwsCode(() => T.encode({ c: 1n << 64n }), 'INVALID_ARGUMENT', 't.c');
    throwsCode(() => T.encode({ c: -1n }), 'INVALID_ARGUMENT', 't.c');
    const zero = throwsCode(() => T.decode(hex('0001' + '050200ff')), 'TLV_NOT_MINIMAL', 't.c');
    assert.equal(zero.details.offset, 4);
    assert.equal(zero.details.type, '5');
    throwsCode(() => T.decode(hex('0001' + '0101' + '00')), 'TLV_NOT_MINIMAL', 't.a');
    throwsCode(() => T.decode(hex('0001' + '0103010203')), 'TLV_INVALID_VALUE', 't.a');
    throwsCode(() => T.decode(hex('0001' + '03050102030405')), 'TLV_INVALID_VALUE', 't.b');
    throwsCode(() => T.decode(hex('0001' + '0509010203040506070809')), 'TLV_INVALID_VALUE', 't.c');
  });

  it('point: only a valid compressed secp256k1 point, on encode and on decode', () => {
    throwsCode(() => All.encode(withField({ key: NOT_A_POINT })), 'INVALID_ARGUMENT', 'all.key');
    throwsCode(() => All.encode(withField({ key: G.subarray(1) })), 'INVALID_ARGUMENT', 'all.key');
    throwsCode(() => All.encode(withField({ key: toHex(G) })), 'INVALID_ARGUMENT', 'all.key');
    throwsCode(() => All.encode(withField({ keys: [G, NOT_A_POINT] })), 'INVALID_ARGUMENT', 'all.keys[1]');
    const bytes = All.encode(ALL);
    const at = toHex(bytes).indexOf(toHex(G)) / 2;
    bytes.set(NOT_A_POINT, at);
    const err = throwsCode(() => All.decode(bytes), 'INVALID_MESSAGE', 'all.key');
    assert.equal(err.details.offset, at);
    const P = defineMessage({ name: 'p', type: 1, fields: {}, tlvs: { node: { type: 3, fields: { node_id: 'point', amount: 'u64' } } } });
    // BOLT 1 Appendix B: n1 tlv3 with an invalid node_id.
    throwsCode(() => P.decode(hex('0001' + INVALID_POINT_RECORD)), 'TLV_INVALID_VALUE', 'p.node.node_id');
  });

  it('short_channel_id: BLOCKxTXxOUT in canonical decimal, each part in range', () => {
    for (const scid of ['0x0x0', '1x2x3', '700000x1234x1', '16777215x16777215x65535']) {
      assert.equal(All.decode(All.encode(withField({ scid }))).scid, scid);
    }
    const S = defineMessage({ name: 's', type: 1, fields: { id: 'short_channel_id' } });
    assert.equal(toHex(S.encode({ id: '539268x845x1' })), '0001' + '083a8400034d0001');
    assert.equal(S.decode(hex('0001' + '083a8400034d0001')).id, '539268x845x1');
    for (const bad of ['16777216x0x0', '0x16777216x0', '0x0x65536', '01x0x0', '1x2', '1:2:3', '-1x0x0', ' 1x2x3', 1n]) {
      throwsCode(() => S.encode({ id: bad as string }), 'INVALID_ARGUMENT', 's.id');
    }
  });

  it('utf8: any valid string round-trips exactly (a BOM too); invalid UTF-8 is refused', () => {
    const U = defineMessage({ name: 'u', type: 1, fields: { text: 'utf8' }, strict: true });
    for (const text of ['', 'a', '\ufeffbom', 'é⚡👋\u0000', 'x'.repeat(65529)]) assert.equal(U.decode(U.encode({ text })).text, text);
    assert.equal(toHex(U.encode({ text: '⚡' })), '0001' + '0003' + 'e29aa1');
    for (const bad of ['c3', 'e29a', 'ff', 'eda080', 'c0af']) {
      const err = throwsCode(() => U.decode(hex(`0001${(bad.length / 2).toString(16).padStart(4, '0')}${bad}`)), 'INVALID_MESSAGE', 'u.text');
      assert.equal(err.details.offset, 4);
    }
    throwsCode(() => U.encode({ text: 'lone \ud800 surrogate' }), 'INVALID_ARGUMENT', 'u.text');
    throwsCode(() => U.encode({ text: utf8('bytes') as unknown as string }), 'INVALID_ARGUMENT', 'u.text');
    throwsCode(() => U.encode({ text: 'x'.repeat(65536) }), 'MESSAGE_TOO_LONG', 'u.text');
    throwsCode(() => U.encode({ text: 'x'.repeat(65532) }), 'MESSAGE_TOO_LONG', 'u');
    const T = defineMessage({ name: 't', type: 1, fields: {}, tlvs: { memo: { type: 1, value: 'utf8' } } });
    throwsCode(() => T.decode(hex('0001' + '0103' + '0001ff')), 'TLV_INVALID_VALUE', 't.memo');
  });

  it('bytes, fixedBytes and the 32/64-byte types: exact lengths, Uint8Array only, decoded as copies', () => {
    for (const [field, size] of [
      ['chain', 32],
      ['channel', 32],
      ['hash', 32],
      ['sig', 64],
      ['four', 4],
    ] as const) {
      throwsCode(() => All.encode(withField({ [field]: new Uint8Array(size - 1) })), 'INVALID_ARGUMENT', `all.${field}`);
      throwsCode(() => All.encode(withField({ [field]: new Uint8Array(size + 1) })), 'INVALID_ARGUMENT', `all.${field}`);
      throwsCode(() => All.encode(withField({ [field]: [...new Uint8Array(size)] })), 'INVALID_ARGUMENT', `all.${field}`);
    }
    throwsCode(() => All.encode(withField({ blob: 'deadbeef' })), 'INVALID_ARGUMENT', 'all.blob');
    throwsCode(() => All.encode(withField({ blob: new Uint8Array(65536) })), 'MESSAGE_TOO_LONG', 'all.blob');
    const B = defineMessage({ name: 'b', type: 1, fields: { blob: 'bytes' } });
    assert.equal(B.encode({ blob: new Uint8Array(65531) }).length, 65535);
    const input = B.encode({ blob: hex('0102') });
    const buffer = Buffer.from(input);
    const decoded = B.decode(buffer);
    buffer[4] = 0xff;
    assert.deepEqual(decoded.blob, hex('0102'));
    assert.equal(Object.getPrototypeOf(decoded.blob), Uint8Array.prototype);
  });

  it('arrays: counts written from the lengths, shared counts must agree, and must fit their type', () => {
    throwsCode(() => All.encode(withField({ amounts: [1n] })), 'INVALID_ARGUMENT', 'all.amounts');
    throwsCode(() => All.encode(withField({ keys: G })), 'INVALID_ARGUMENT', 'all.keys');
    throwsCode(() => All.encode(withField({ data: new Uint8Array(256) })), 'INVALID_ARGUMENT', 'all.len');
    throwsCode(() => All.encode(withField({ data: [1, 2] })), 'INVALID_ARGUMENT', 'all.data');
    throwsCode(() => All.encode(withField({ witnesses: [hex('00'), 'nope'] })), 'INVALID_ARGUMENT', 'all.witnesses[1]');
    assert.deepEqual(All.decode(All.encode(withField({ keys: [], amounts: [], data: hex(''), witnesses: [] }))).keys, []);
    // A count far beyond the bytes left fails at once, naming the count.
    const C = defineMessage({ name: 'c', type: 1, fields: { n: 'u64', xs: arrayOf('bytes', 'n') } });
    const err = throwsCode(() => C.decode(hex('0001' + 'ffffffffffffffff' + '0000')), 'INVALID_MESSAGE', 'c.n');
    assert.equal(err.details.offset, 2);
    assert.deepEqual(C.decode(hex('0001' + '0000000000000002' + '0000' + '000101')).xs, [hex(''), hex('01')]);
    throwsCode(() => C.decode(hex('0001' + '0000000000000002' + '0000' + '0002')), 'INVALID_MESSAGE', 'c.xs[1]');
  });

  it('restOf: whole items up to the end of the TLV record', () => {
    assert.deepEqual(All.decode(All.encode({ ...ALL, chains: [] })).chains, []);
    const bytes = All.encode({ ...ALL, chains: [new Uint8Array(32)] });
    const at = bytes.length - 34;
    assert.equal(toHex(bytes.subarray(at)), '0620' + '00'.repeat(32));
    const cut = new Uint8Array([...bytes.subarray(0, at), 0x06, 0x1f, ...new Uint8Array(31)]);
    const err = throwsCode(() => All.decode(cut), 'TLV_INVALID_VALUE', 'all.chains[0]');
    assert.equal(err.details.offset, at + 2);
  });

  it('a TLV record of several fields: exactly its length, its fields named', () => {
    const P = defineMessage({ name: 'p', type: 1, fields: {}, tlvs: { pay: { type: 2, fields: { secret: 'sha256', total: 'tu64' } } } });
    const value = { pay: { secret: new Uint8Array(32).fill(5), total: 70000n } };
    assert.equal(toHex(P.encode(value)), '0001' + '0223' + '05'.repeat(32) + '011170');
    assert.deepEqual(P.decode(P.encode(value)), { ...value, unknownTlvs: [] });
    throwsCode(() => P.decode(hex('0001' + '0210' + '05'.repeat(16))), 'TLV_INVALID_VALUE', 'p.pay.secret');
    throwsCode(() => P.encode({ pay: { secret: new Uint8Array(32) } as never }), 'INVALID_ARGUMENT', 'p.pay.total');
    throwsCode(() => P.encode({ pay: { secret: new Uint8Array(32), total: 1n, extra: 1 } as never }), 'INVALID_ARGUMENT', 'p.pay.extra');
    throwsCode(() => P.encode({ pay: 5 as never }), 'INVALID_ARGUMENT', 'p.pay');
    // Bytes after the record's last field: BOLT 1, length "not exactly equal to that required".
    const F = defineMessage({ name: 'f', type: 1, fields: {}, tlvs: { x: { type: 1, value: 'u16' } } });
    throwsCode(() => F.decode(hex('0001' + '0103' + '000102')), 'TLV_INVALID_VALUE', 'f.x');
    throwsCode(() => F.decode(hex('0001' + '0101' + '00')), 'TLV_INVALID_VALUE', 'f.x');
  });
});

// ---------------------------------------------------------------------------------------
// BOLT 1 decoding rules

describe('schema: BOLT 1 message and TLV rules', () => {
  const OpenChannel = defineMessage({
    name: 'open_channel',
    type: 32,
    fields: { chain_hash: 'chain_hash', temporary_channel_id: 'channel_id', funding_satoshis: 'u64', push_msat: 'u64' },
  });

  it('a field running past the end names the field, its offset and what remains', () => {
    const msg = new Uint8Array(2 + 32 + 32 + 3);
    msg[1] = 32;
    const err = throwsCode(() => OpenChannel.decode(msg), 'INVALID_MESSAGE', 'open_channel.funding_satoshis');
    assert.equal(err.message, 'open_channel.funding_satoshis: needs 8 bytes at offset 66, only 3 remain');
    assert.deepEqual(err.details, { field: 'open_channel.funding_satoshis', offset: 66 });
  });
  it('refuses another message type and messages shorter than the type', () => {
    const err = throwsCode(() => OpenChannel.decode(hex('0021')), 'INVALID_MESSAGE', 'open_channel.type');
    assert.match(err.message, /expected type 32, got 33/);
    throwsCode(() => OpenChannel.decode(hex('00')), 'INVALID_MESSAGE', 'open_channel.type');
    throwsCode(() => OpenChannel.decode(hex('')), 'INVALID_MESSAGE', 'open_channel.type');
    throwsCode(() => OpenChannel.decode('0020' as unknown as Uint8Array), 'INVALID_ARGUMENT', 'open_channel');
  });
  it('without a TLV stream: trailing bytes are an ignored extension, unless strict', () => {
    const value = { chain_hash: new Uint8Array(32), temporary_channel_id: new Uint8Array(32), funding_satoshis: 1n, push_msat: 2n };
    const bytes = OpenChannel.encode(value);
    assert.deepEqual(OpenChannel.decode(new Uint8Array([...bytes, 1, 2, 3])), value);
    const Strict = defineMessage({ name: 'strict', type: 32, fields: { chain_hash: 'chain_hash' }, strict: true });
    const err = throwsCode(() => Strict.decode(new Uint8Array([0, 32, ...new Uint8Array(32), 9])), 'INVALID_MESSAGE', 'strict');
    assert.equal(err.details.offset, 34);
    assert.deepEqual(Strict.decode(new Uint8Array([0, 32, ...new Uint8Array(32)])), { chain_hash: new Uint8Array(32) });
  });
  it('with a TLV stream: everything after the fixed fields is the stream, by the TLV reader rules', () => {
    const T = defineMessage({ name: 't', type: 0x8001, fields: { n: 'u16' }, tlvs: { a: { type: 1, value: 'u8' }, b: { type: 4, value: 'tu32' } } });
    assert.deepEqual(T.decode(hex('8001' + '0007' + '010105' + '04020100')), { n: 7, a: 5, b: 256, unknownTlvs: [] });
    const cases: [string, LnPeerErrorCode, string, number][] = [
      ['ff', 'UNEXPECTED_EOF', 't.tlvs', 4], // type truncated
      ['fd0001' + '00', 'TLV_NOT_MINIMAL', 't.tlvs', 4], // type not minimal
      ['01fd000105', 'TLV_NOT_MINIMAL', 't.tlvs', 5], // length not minimal
      ['0400' + '010105', 'TLV_NOT_INCREASING', 't.tlvs', 6],
      ['010105' + '010106', 'TLV_NOT_INCREASING', 't.tlvs', 7],
      ['0105ff', 'TLV_LENGTH_EXCEEDS_DATA', 't.a', 4],
      ['0200', 'TLV_UNKNOWN_EVEN', 't.tlvs', 4],
      ['0300' + '0600', 'TLV_UNKNOWN_EVEN', 't.tlvs', 6],
      ['0102ffff', 'TLV_INVALID_VALUE', 't.a', 7], // the byte after the u8
      ['0100', 'TLV_INVALID_VALUE', 't.a', 6],
      ['0300' + '040100', 'TLV_NOT_MINIMAL', 't.b', 8],
    ];
    for (const [stream, code, field, offset] of cases) {
      const err = throwsCode(() => T.decode(hex(`8001 0007 ${stream}`.replaceAll(' ', ''))), code, field);
      assert.equal(err.details.offset, offset, `${stream}: ${err.message}`);
    }
  });
  it('keeps unknown odd records, in order, and writes them back among the known ones', () => {
    const T = defineMessage({ name: 't', type: 0x8001, fields: {}, tlvs: { a: { type: 3, value: 'u8' } } });
    const bytes = hex('8001' + '0101aa' + '030107' + 'fd0101' + '00');
    const v = T.decode(bytes);
    assert.deepEqual(v, { a: 7, unknownTlvs: [{ type: 1n, value: hex('aa') }, { type: 257n, value: hex('') }] });
    assert.deepEqual(T.encode(v), bytes);
    throwsCode(() => T.encode({ unknownTlvs: [{ type: 2n, value: hex('') }] }), 'INVALID_ARGUMENT', 't.unknownTlvs[0]');
    throwsCode(() => T.encode({ unknownTlvs: [{ type: 3n, value: hex('07') }] }), 'INVALID_ARGUMENT', 't.unknownTlvs[0]');
    throwsCode(() => T.encode({ unknownTlvs: [{ type: 5, value: hex('') }] as never }), 'INVALID_ARGUMENT', 't.unknownTlvs[0]');
    throwsCode(() => T.encode({ unknownTlvs: [{ type: 1n << 64n, value: hex('') }] }), 'INVALID_ARGUMENT', 't.unknownTlvs[0]');
    throwsCode(() => T.encode({ unknownTlvs: [{ type: 5n, value: hex('') }, { type: 5n, value: hex('') }] }), 'INVALID_ARGUMENT', 't.unknownTlvs');
    throwsCode(() => T.encode({ unknownTlvs: 'x' as never }), 'INVALID_ARGUMENT', 't.unknownTlvs');
  });
  it('refuses unknown and missing keys on encode, naming them', () => {
    throwsCode(() => All.encode({ ...ALL, expiry: 1n } as never), 'INVALID_ARGUMENT', 'all.expiry');
    throwsCode(() => All.encode({ ...ALL, num_keys: 2 } as never), 'INVALID_ARGUMENT', 'all.num_keys');
    const missing: Partial<AllValue> = { ...ALL };
    delete missing.hash;
    throwsCode(() => All.encode(missing as never), 'INVALID_ARGUMENT', 'all.hash');
    throwsCode(() => All.encode(null as never), 'INVALID_ARGUMENT', 'all');
    throwsCode(() => All.encode([] as never), 'INVALID_ARGUMENT', 'all');
  });
  it('every truncation of a valid message either decodes or fails naming a field and an offset within it', () => {
    const bytes = All.encode({ ...ALL, ...ALL_TLVS });
    const fixedEnd = All.encode(ALL).length;
    for (let n = 0; n < bytes.length; n++) {
      const r = attempt(() => All.decode(bytes.subarray(0, n)));
      if (r.ok) {
        assert.ok(n >= fixedEnd, `prefix ${n} decoded`);
        continue;
      }
      assert.match(String(r.error.details.field), /^all\.[a-z_0-9]+(\.[a-z_]+)?(\[\d+\])?$/, r.error.message);
      assert.ok(typeof r.error.details.offset === 'number' && r.error.details.offset <= n, r.error.message);
      assert.ok(r.error.message.startsWith(String(r.error.details.field)), r.error.message);
    }
  });
});

describe('schema: definitions are checked', () => {
  const cases: [string, () => unknown, string][] = [
    ['unknown type name', () => defineMessage({ name: 'd', type: 1, fields: { x: 'u128' as 'u64' } }), 'd.x'],
    ['count declared after', () => defineMessage({ name: 'd', type: 1, fields: { xs: arrayOf('u8', 'n'), n: 'u8' } }), 'd.xs'],
    ['count of a wrong type', () => defineMessage({ name: 'd', type: 1, fields: { n: 's8', xs: arrayOf('u8', 'n') } }), 'd.xs'],
    ['count missing', () => defineMessage({ name: 'd', type: 1, fields: { xs: arrayOf('u8', 'n') } }), 'd.xs'],
    ['truncated in fixed fields', () => defineMessage({ name: 'd', type: 1, fields: { x: 'tu64' } }), 'd.x'],
    ['truncated not last', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { r: { type: 1, fields: { x: 'tu64', y: 'u8' } } } }), 'd.r.x'],
    ['truncated items', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { r: { type: 1, value: restOf('tu64' as 'u64') } } }), 'd.r'],
    ['restOf in fixed fields', () => defineMessage({ name: 'd', type: 1, fields: { x: restOf('u8') } }), 'd.x'],
    ['restOf not last', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { r: { type: 1, fields: { x: restOf('u8'), y: 'u8' } } } }), 'd.r.x'],
    ['nested arrays', () => defineMessage({ name: 'd', type: 1, fields: { n: 'u8', x: arrayOf(arrayOf('u8', 'n') as never, 'n') } }), 'd.x'],
    ['fixedBytes(0)', () => defineMessage({ name: 'd', type: 1, fields: { x: fixedBytes(0) } }), 'd.x'],
    ['integer field name', () => defineMessage({ name: 'd', type: 1, fields: { 1: 'u8' } }), 'd.1'],
    ['reserved name', () => defineMessage({ name: 'd', type: 1, fields: { unknownTlvs: 'u8' } }), 'd.unknownTlvs'],
    ['TLV named like a field', () => defineMessage({ name: 'd', type: 1, fields: { x: 'u8' }, tlvs: { x: { type: 1, value: 'u8' } } }), 'd.x'],
    ['duplicate TLV type', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { a: { type: 1, value: 'u8' }, b: { type: 1n, value: 'u8' } } }), 'd.b'],
    ['TLV type out of range', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { a: { type: 1n << 64n, value: 'u8' } } }), 'd.a.type'],
    ['TLV type not an integer', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { a: { type: 1.5, value: 'u8' } } }), 'd.a.type'],
    ['TLV with value and fields', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: { a: { type: 1, value: 'u8', fields: {} } } } as never), 'd.a'],
    ['message type out of range', () => defineMessage({ name: 'd', type: 65536, fields: {} }), 'd.type'],
    ['strict with tlvs', () => defineMessage({ name: 'd', type: 1, fields: {}, tlvs: {}, strict: true }), 'd'],
  ];
  for (const [what, fn, field] of cases) it(what, () => void throwsCode(fn, 'INVALID_ARGUMENT', field));
  it('exposes name and type, and is frozen', () => {
    assert.equal(All.name, 'all');
    assert.equal(All.type, 0xfff3);
    assert.ok(Object.isFrozen(All));
  });
});

// ---------------------------------------------------------------------------------------
// A custom protocol

/** A swap offer, as an application would define it (custom type range, odd: "it's ok to be odd"). */
const SwapOffer = defineMessage({
  name: 'swap_offer',
  type: 42069,
  fields: {
    amount_sat: 'u64',
    node_id: 'point',
    payment_hash: 'sha256',
    memo: 'utf8',
  },
  tlvs: {
    expiry_blocks: { type: 1, value: 'tu64' },
  },
});

/** Version 2 of the same message adds an odd record, so version 1 peers may ignore it. */
const SwapOfferV2 = defineMessage({
  name: 'swap_offer',
  type: 42069,
  fields: { amount_sat: 'u64', node_id: 'point', payment_hash: 'sha256', memo: 'utf8' },
  tlvs: {
    expiry_blocks: { type: 1, value: 'tu64' },
    refund: { type: 65537, fields: { address: 'utf8', fee_rate: 'tu32' } },
  },
});

describe('schema: a custom protocol message (swap offer)', () => {
  const offer: Infer<typeof SwapOffer> = {
    amount_sat: 250_000n,
    node_id: G,
    payment_hash: new Uint8Array(32).fill(0xab),
    memo: 'swap ⚡ 0.0025 BTC',
    expiry_blocks: 144n,
  };

  it('round-trips, with and without its optional TLV', () => {
    const bytes = SwapOffer.encode(offer);
    assert.equal(toHex(bytes.subarray(0, 10)), 'a455' + '000000000003d090');
    assert.equal(toHex(bytes.subarray(bytes.length - 3)), '010190');
    assert.deepEqual(SwapOffer.decode(bytes), { ...offer, unknownTlvs: [] });
    const plain = { ...offer };
    delete plain.expiry_blocks;
    assert.deepEqual(SwapOffer.decode(SwapOffer.encode(plain)), { ...plain, unknownTlvs: [] });
  });
  it('an older peer keeps the newer odd record and writes it back unchanged', () => {
    const v2 = { ...offer, refund: { address: 'bc1qexample', fee_rate: 12 } };
    const bytes = SwapOfferV2.encode(v2);
    const seen = SwapOffer.decode(bytes);
    assert.equal(seen.unknownTlvs?.length, 1);
    assert.equal(seen.unknownTlvs?.[0].type, 65537n);
    assert.deepEqual(SwapOffer.encode(seen), bytes);
    assert.deepEqual(SwapOfferV2.decode(SwapOffer.encode(seen)), { ...v2, unknownTlvs: [] });
    assert.deepEqual(SwapOffer.decode(SwapOffer.encode({ ...offer, unknownTlvs: [{ type: 7n, value: utf8('x') }] })).unknownTlvs, [
      { type: 7n, value: utf8('x') },
    ]);
  });
  it('names the field of each error', () => {
    throwsCode(() => SwapOffer.encode({ ...offer, amount_sat: 250000 as unknown as bigint }), 'INVALID_ARGUMENT', 'swap_offer.amount_sat');
    throwsCode(() => SwapOffer.encode({ ...offer, node_id: NOT_A_POINT }), 'INVALID_ARGUMENT', 'swap_offer.node_id');
    throwsCode(() => SwapOffer.encode({ ...offer, expiry_blocks: -1n }), 'INVALID_ARGUMENT', 'swap_offer.expiry_blocks');
    const bytes = SwapOffer.encode(offer);
    throwsCode(() => SwapOffer.decode(bytes.subarray(0, 50)), 'INVALID_MESSAGE', 'swap_offer.payment_hash');
    throwsCode(() => SwapOffer.decode(new Uint8Array([...bytes, 0x02, 0x00])), 'TLV_UNKNOWN_EVEN', 'swap_offer.tlvs');
  });
  it('types follow the schema', () => {
    const t: Equal<
      Infer<typeof SwapOffer>,
      { amount_sat: bigint; node_id: Uint8Array; payment_hash: Uint8Array; memo: string; expiry_blocks?: bigint; unknownTlvs?: TlvRecord[] }
    > = true;
    assert.ok(t);
    if (t) return; // compile-time only below
    // @ts-expect-error amount_sat is a u64: a bigint
    SwapOffer.encode({ ...offer, amount_sat: 1 });
    // @ts-expect-error memo is required
    SwapOffer.encode({ amount_sat: 1n, node_id: G, payment_hash: G });
    // @ts-expect-error no such field
    SwapOffer.encode({ ...offer, expiry: 1n });
    // @ts-expect-error count fields are not part of the value
    All.encode({ ...ALL, num_keys: 2 });
    // @ts-expect-error a u16 is a number
    Ping.encode({ num_pong_bytes: 1n, ignored: new Uint8Array(0) });
  });
  it('a generic send(schema, value) checks the value against the schema', () => {
    // The signature PeerManager.send can take: NoInfer makes the schema alone decide the type.
    const send = <V>(schema: MessageSchema<V>, value: NoInfer<V>): Uint8Array => schema.encode(value);
    assert.deepEqual(send(SwapOffer, offer), SwapOffer.encode(offer));
    // Any schema fits MessageSchema (= MessageSchema<unknown>), e.g. in a registry.
    const registry = new Map<number, MessageSchema>([[SwapOffer.type, SwapOffer], [Init.type, Init]]);
    assert.equal(registry.size, 2);
    if (registry.size) return; // compile-time only below
    // @ts-expect-error memo missing
    send(SwapOffer, { amount_sat: 1n, node_id: G, payment_hash: G });
  });
});

// ---------------------------------------------------------------------------------------
// Fuzz: only LnPeerError escapes a decoder, errors name a field, what decodes re-encodes

/** A random value of `All`. */
function randomAll(rand: Rand): AllValue {
  const n = rand.int(4);
  const v: AllValue = {
    a_byte: rand.int(256),
    a_u8: rand.int(256),
    a_u16: rand.int(65536),
    a_u32: rand.int(2 ** 32),
    a_u64: BigInt(rand.int(2 ** 32)) << BigInt(rand.int(33)),
    a_s8: rand.int(256) - 128,
    a_s16: rand.int(65536) - 32768,
    a_s32: rand.int(2 ** 32) - 2 ** 31,
    a_s64: (BigInt(rand.int(2 ** 32)) << BigInt(rand.int(32))) * (rand.int(2) ? 1n : -1n),
    a_bigsize: rand.pick([0n, 0xfcn, 0xfdn, 0xffffn, 0x10000n, 0x100000000n, (1n << 64n) - 1n]),
    chain: rand.bytes(32),
    channel: rand.bytes(32),
    hash: rand.bytes(32),
    key: randomPoint(rand),
    sig: rand.bytes(64),
    scid: `${rand.int(1 << 24)}x${rand.int(1 << 24)}x${rand.int(1 << 16)}`,
    text: rand.pick(['', 'memo', 'é⚡👋', '\ufeff']),
    blob: rand.bytes(rand.int(8)),
    four: rand.bytes(4),
    keys: Array.from({ length: n }, () => randomPoint(rand)),
    amounts: Array.from({ length: n }, () => BigInt(rand.int(2 ** 32))),
    data: rand.bytes(rand.int(5)),
    witnesses: Array.from({ length: rand.int(3) }, () => rand.bytes(rand.int(4))),
  };
  if (rand.int(2)) v.t16 = rand.int(65536);
  if (rand.int(2)) v.t32 = rand.int(2 ** 32);
  if (rand.int(2)) v.t64 = BigInt(rand.int(2 ** 32)) << BigInt(rand.int(33));
  if (rand.int(2)) v.chains = Array.from({ length: rand.int(3) }, () => rand.bytes(32));
  if (rand.int(2)) v.raw = rand.bytes(rand.int(5));
  if (rand.int(2)) v.payment = { secret: rand.bytes(32), hops: Array.from({ length: rand.int(3) }, () => '1x2x3'), total_msat: BigInt(rand.int(2 ** 32)) };
  if (rand.int(2)) v.flag = {};
  if (rand.int(2)) v.last = rand.int(2 ** 32) - 2 ** 31;
  if (rand.int(2)) v.unknownTlvs = [{ type: rand.pick([9n, 11n, 0xfffffn]), value: rand.bytes(rand.int(4)) }];
  return v;
}

function randomSwapOffer(rand: Rand): Infer<typeof SwapOffer> {
  const v: Infer<typeof SwapOffer> = { amount_sat: BigInt(rand.int(2 ** 32)), node_id: randomPoint(rand), payment_hash: rand.bytes(32), memo: rand.pick(['', 'swap', '⚡'.repeat(rand.int(5))]) };
  if (rand.int(2)) v.expiry_blocks = BigInt(rand.int(1000));
  if (rand.int(2)) v.unknownTlvs = [{ type: 3n, value: rand.bytes(rand.int(4)) }];
  return v;
}

interface FuzzTarget {
  name: string;
  schema: MessageSchema;
  valid: (rand: Rand) => Uint8Array;
  /** Has a TLV stream: a decoded message re-encodes to exactly its bytes. */
  canonical: boolean;
}

const TARGETS: FuzzTarget[] = [
  { name: 'init', schema: Init as MessageSchema, valid: (r) => Init.encode(randomInit(r).value), canonical: true },
  { name: 'ping', schema: Ping as MessageSchema, valid: (r) => encodePing(r.int(65536), r.int(16)), canonical: false },
  { name: 'pong', schema: Pong as MessageSchema, valid: (r) => encodePong(r.int(16)), canonical: false },
  { name: 'all', schema: All as MessageSchema, valid: (r) => All.encode(randomAll(r)), canonical: true },
  { name: 'swap_offer', schema: SwapOffer as MessageSchema, valid: (r) => SwapOffer.encode(randomSwapOffer(r)), canonical: true },
  { name: 'swap_offer v2', schema: SwapOfferV2 as MessageSchema, valid: (r) => SwapOfferV2.encode({ ...randomSwapOffer(r), refund: { address: 'a', fee_rate: r.int(300) } }), canonical: true },
];

describe('schema: fuzz (seeded)', () => {
  for (const [i, target] of TARGETS.entries()) {
    it(`${target.name}: 3000 mutated encodings and 3000 random byte strings; only LnPeerError escapes`, () => {
      const rand = seededRandom(1000 + i);
      const type = [target.schema.type >> 8, target.schema.type & 0xff];
      let accepted = 0;
      let refused = 0;
      for (let k = 0; k < 6000; k++) {
        const msg = k < 3000 ? mutate(target.valid(rand), rand) : (() => {
          const body = rand.bytes(rand.int(k % 2 ? 40 : 300));
          return rand.int(8) === 0 ? body : new Uint8Array([...type, ...body]);
        })();
        let decoded: unknown;
        try {
          decoded = target.schema.decode(msg);
        } catch (err) {
          assert.ok(err instanceof LnPeerError, `${toHex(msg)}: ${String(err)}`);
          assert.equal(typeof err.details.field, 'string', err.message);
          assert.ok((err.details.field as string).startsWith(target.schema.name), err.message);
          assert.ok(err.message.startsWith(err.details.field as string), err.message);
          assert.ok(typeof err.details.offset === 'number' && err.details.offset >= 0 && err.details.offset <= msg.length, `${err.message} ${String(err.details.offset)}`);
          refused++;
          continue;
        }
        accepted++;
        // What decodes re-encodes: exactly the same bytes with a TLV stream (minimal encodings,
        // ordered records), a prefix of them without one (the ignored extension dropped).
        const again = target.schema.encode(decoded);
        if (target.canonical) assert.equal(toHex(again), toHex(msg));
        else assert.equal(toHex(again), toHex(msg.subarray(0, again.length)));
        assert.deepEqual(target.schema.decode(again), decoded);
      }
      assert.ok(accepted > 50 && refused > 1000, `accepted ${accepted}, refused ${refused}`);
    });
  }
  it('a hostile bigsize count or TLV length fails fast', () => {
    const C = defineMessage({ name: 'c', type: 1, fields: { n: 'bigsize', xs: arrayOf('point', 'n') } });
    const start = performance.now();
    throwsCode(() => C.decode(new Uint8Array([0, 1, ...encodeBigSize((1n << 64n) - 1n), ...new Uint8Array(65000)])), 'INVALID_MESSAGE', 'c.n');
    const stream = new Uint8Array(65535);
    stream.set(hex('0010' + '0000' + '0000' + '01ffffffffffffffffff'));
    throwsCode(() => Init.decode(stream), 'TLV_LENGTH_EXCEEDS_DATA', 'init.networks');
    assert.ok(performance.now() - start < 500);
  });
});
