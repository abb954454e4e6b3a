import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromHex, readU16, toHex } from '../../src/bytes.js';
import { isValidPublicKey } from '../../src/crypto/index.js';
import { LnPeerError, type LnPeerErrorCode } from '../../src/errors.js';
import {
  BOLT_MESSAGE_TYPES,
  CHAIN_HASHES,
  DEFAULT_FEATURES,
  MAX_MESSAGE_LENGTH,
  MAX_PONG_BYTES,
  chainHash,
  channelIdOf,
  combinedFeatures,
  decodeAddress,
  decodeBigSize,
  decodeError,
  decodeFeatures,
  decodeInit,
  decodePing,
  decodePong,
  decodeTlvStream,
  decodeTu32,
  decodeTu64,
  decodeWarning,
  encodeAddress,
  encodeBigSize,
  encodeError,
  encodeFeatures,
  encodeInit,
  encodePing,
  encodePong,
  encodeTlvStream,
  encodeWarning,
  exactLength,
  featureName,
  formatAddress,
  formatErrorData,
  hasFeature,
  ipAddress,
  isBoltMessageType,
  isChannelMessageType,
  isGossipMessageType,
  isKnownFeature,
  isPrivateAddress,
  messageTypeName,
  messageTypeOf,
  missingDependencies,
  networkName,
  orFeatures,
  parseNetwork,
  unknownEvenBits,
  type Address,
  type TlvRecord,
  type TlvSchema,
  type TlvValidator,
} from '../../src/wire/index.js';

// ---------------------------------------------------------------------------------------
// Vectors and helpers

interface Field {
  name: string;
  type: string;
}
interface NamespaceEntry {
  type: number;
  name: string;
  fields: Field[];
}
interface Vectors {
  bigsize: {
    decoding: { name: string; bytes: string; valid: boolean; value?: string; error_kind?: string }[];
    encoding: { name: string; value: string; bytes: string }[];
  };
  tlv: {
    namespaces: Record<'n1' | 'n2', NamespaceEntry[]>;
    invalid_records: { stream: string; error_kind: string; namespaces: ('n1' | 'n2')[] }[];
    valid_ignored_unknown_odd: { stream: string; namespaces: ('n1' | 'n2')[]; decoded_records: unknown[] }[];
    valid_n1: {
      stream: string;
      namespaces: ('n1' | 'n2')[];
      decoded_records: { type: number; name: string; fields: Record<string, string> }[];
    }[];
    invalid_streams: { stream: string; error_kind: string; namespaces: ('n1' | 'n2')[] }[];
  };
  init_extension: { base_init_message: string; vectors: { message: string; valid: boolean; explanation: string }[] };
  derived_examples: {
    feature_bitfields: { vectors: { bits: number[]; features: string }[] };
    messages: { name: string; hex: string }[];
  };
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/bolt1.json', import.meta.url), 'utf8')) as Vectors;

/** Plain `Uint8Array` (not `Buffer`) so deep equality with decoder output holds. */
const hex = (s: string): Uint8Array => new Uint8Array(fromHex(s, 'test vector'));

/** Asserts that `fn` throws an `LnPeerError` with exactly `code`. */
function throwsCode(fn: () => unknown, code: LnPeerErrorCode): LnPeerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LnPeerError, `expected LnPeerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}

// ---------------------------------------------------------------------------------------
// BigSize (BOLT 1 Appendix A)

const BIGSIZE_ERROR_CODES: Record<string, LnPeerErrorCode> = {
  non_canonical: 'BIGSIZE_NOT_CANONICAL',
  unexpected_eof: 'UNEXPECTED_EOF',
  eof: 'UNEXPECTED_EOF',
};

describe('BigSize decoding vectors (Appendix A)', () => {
  it('has all 18 vectors', () => assert.equal(vectors.bigsize.decoding.length, 18));
  for (const v of vectors.bigsize.decoding) {
    it(`${v.name}: ${v.bytes || '(empty)'}`, () => {
      if (v.valid) {
        assert.deepEqual(decodeBigSize(hex(v.bytes)), { value: BigInt(v.value ?? ''), length: v.bytes.length / 2 });
      } else {
        const code = BIGSIZE_ERROR_CODES[v.error_kind ?? ''];
        assert.ok(code, `unmapped error_kind ${v.error_kind}`);
        throwsCode(() => decodeBigSize(hex(v.bytes)), code);
      }
    });
  }
});

describe('BigSize encoding vectors (Appendix A)', () => {
  it('has all 8 vectors', () => assert.equal(vectors.bigsize.encoding.length, 8));
  for (const v of vectors.bigsize.encoding) {
    it(`${v.name}: ${v.value}`, () => {
      assert.equal(toHex(encodeBigSize(BigInt(v.value))), v.bytes);
      const n = Number(v.value);
      if (Number.isSafeInteger(n)) assert.equal(toHex(encodeBigSize(n)), v.bytes);
    });
  }
});

describe('BigSize', () => {
  it('round-trips values around every width boundary and decodes at an offset', () => {
    const values = [0n, 1n, 0xfcn, 0xfdn, 0xfen, 0xffn, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, (1n << 64n) - 1n];
    for (const value of values) {
      const bytes = encodeBigSize(value);
      const padded = new Uint8Array([0xaa, 0xbb, ...bytes, 0xcc]);
      assert.deepEqual(decodeBigSize(padded, 2), { value, length: bytes.length });
    }
  });
  it('refuses to encode values outside 0..2^64-1 or unsafe numbers', () => {
    throwsCode(() => encodeBigSize(-1), 'INVALID_ARGUMENT');
    throwsCode(() => encodeBigSize(1n << 64n), 'INVALID_ARGUMENT');
    throwsCode(() => encodeBigSize(1.5), 'INVALID_ARGUMENT');
    throwsCode(() => encodeBigSize(2 ** 53), 'INVALID_ARGUMENT');
  });
  it('reports a read past the end at an offset as UNEXPECTED_EOF', () => {
    throwsCode(() => decodeBigSize(hex('00'), 1), 'UNEXPECTED_EOF');
  });
});

// ---------------------------------------------------------------------------------------
// TLV (BOLT 1 Appendix B). The namespaces are built from the vector file's definitions.

const FIXED_SIZES: Record<string, number> = { short_channel_id: 8, point: 33, u64: 8, u16: 2 };

function validatorOf(fields: Field[]): TlvValidator {
  if (fields.length === 1 && fields[0].type === 'tu64') return (v) => void decodeTu64(v);
  if (fields.length === 1 && fields[0].type === 'tu32') return (v) => void decodeTu32(v);
  const sizes = fields.map((f) => {
    const size = FIXED_SIZES[f.type];
    assert.ok(size, `no size for field type ${f.type}`);
    return size;
  });
  const checkLength = exactLength(sizes.reduce((a, b) => a + b, 0));
  return (value) => {
    checkLength(value);
    let offset = 0;
    fields.forEach((f, i) => {
      if (f.type === 'point' && !isValidPublicKey(value.subarray(offset, offset + 33))) {
        throw new LnPeerError('TLV_INVALID_VALUE', `${f.name} is not a valid point`);
      }
      offset += sizes[i];
    });
  };
}

const SCHEMAS: Record<'n1' | 'n2', TlvSchema> = {
  n1: new Map(vectors.tlv.namespaces.n1.map((e) => [BigInt(e.type), validatorOf(e.fields)])),
  n2: new Map(vectors.tlv.namespaces.n2.map((e) => [BigInt(e.type), validatorOf(e.fields)])),
};

/** The field values of a known record, rendered as the vector file writes them. */
function decodeFields(fields: Field[], value: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let offset = 0;
  for (const f of fields) {
    if (f.type === 'tu64') out[f.name] = decodeTu64(value).toString();
    else if (f.type === 'u64') out[f.name] = new DataView(value.buffer, value.byteOffset + offset, 8).getBigUint64(0).toString();
    else if (f.type === 'u16') out[f.name] = String(readU16(value, offset));
    else if (f.type === 'point') out[f.name] = toHex(value.subarray(offset, offset + 33));
    else if (f.type === 'short_channel_id') {
      const scid = value.subarray(offset, offset + 8);
      const block = (scid[0] << 16) | (scid[1] << 8) | scid[2];
      const tx = (scid[3] << 16) | (scid[4] << 8) | scid[5];
      out[f.name] = `${block}x${tx}x${readU16(scid, 6)}`;
      out[`${f.name}_u64_hex`] = toHex(scid);
    }
    offset += FIXED_SIZES[f.type] ?? 0;
  }
  return out;
}

const TLV_ERROR_CODES: Record<string, LnPeerErrorCode> = {
  type_truncated: 'UNEXPECTED_EOF',
  non_minimal_type: 'TLV_NOT_MINIMAL',
  length_truncated: 'UNEXPECTED_EOF',
  non_minimal_length: 'TLV_NOT_MINIMAL',
  value_truncated: 'TLV_LENGTH_EXCEEDS_DATA',
  unknown_even_type: 'TLV_UNKNOWN_EVEN',
  length_too_long_for_known_type: 'TLV_INVALID_VALUE',
  length_too_short_for_known_type: 'TLV_INVALID_VALUE',
  non_minimal_truncated_int_value: 'TLV_NOT_MINIMAL',
  invalid_point: 'TLV_INVALID_VALUE',
  types_not_strictly_increasing: 'TLV_NOT_INCREASING',
  duplicate_type: 'TLV_NOT_INCREASING',
};

const short = (s: string): string => (s.length > 40 ? `${s.slice(0, 40)}…(${s.length / 2} bytes)` : s || '(empty)');

describe('TLV decoding failures (Appendix B)', () => {
  it('has all 33 invalid records and 5 invalid streams', () => {
    assert.equal(vectors.tlv.invalid_records.length, 33);
    assert.equal(vectors.tlv.invalid_streams.length, 5);
  });
  for (const v of [...vectors.tlv.invalid_records, ...vectors.tlv.invalid_streams]) {
    for (const ns of v.namespaces) {
      it(`${ns}: ${short(v.stream)} → ${v.error_kind}`, () => {
        const code = TLV_ERROR_CODES[v.error_kind];
        assert.ok(code, `unmapped error_kind ${v.error_kind}`);
        throwsCode(() => decodeTlvStream(hex(v.stream), SCHEMAS[ns]), code);
      });
    }
  }
});

describe('TLV valid streams with ignored unknown odd types (Appendix B)', () => {
  it('has all 7 vectors', () => assert.equal(vectors.tlv.valid_ignored_unknown_odd.length, 7));
  for (const v of vectors.tlv.valid_ignored_unknown_odd) {
    for (const ns of v.namespaces) {
      it(`${ns}: ${short(v.stream)}`, () => {
        const records = decodeTlvStream(hex(v.stream), SCHEMAS[ns]);
        assert.deepEqual(
          records.filter((r) => SCHEMAS[ns].has(r.type)),
          v.decoded_records,
        );
        assert.ok(records.every((r) => r.type % 2n === 1n));
        // The kept unknown records are exactly the stream.
        assert.equal(toHex(encodeTlvStream(records)), v.stream);
      });
    }
  }
});

describe('TLV valid n1 streams (Appendix B)', () => {
  it('has all 12 vectors', () => assert.equal(vectors.tlv.valid_n1.length, 12));
  for (const v of vectors.tlv.valid_n1) {
    it(`n1: ${short(v.stream)}`, () => {
      const records = decodeTlvStream(hex(v.stream), SCHEMAS.n1);
      assert.equal(records.length, v.decoded_records.length);
      records.forEach((record, i) => {
        const expected = v.decoded_records[i];
        assert.equal(record.type, BigInt(expected.type));
        const entry = vectors.tlv.namespaces.n1.find((e) => e.type === expected.type);
        assert.ok(entry);
        assert.equal(entry.name, expected.name);
        const actual = decodeFields(entry.fields, record.value);
        for (const [key, value] of Object.entries(actual)) assert.equal(value, expected.fields[key], key);
        assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected.fields).filter((k) => !k.endsWith('_spec_text')).sort());
      });
      assert.equal(toHex(encodeTlvStream(records)), v.stream);
    });
  }
});

describe('TLV stream composition (Appendix B)', () => {
  const valid = [...vectors.tlv.valid_n1, ...vectors.tlv.valid_ignored_unknown_odd].map((v) => v.stream);
  const typesOf = (stream: string): bigint[] => decodeTlvStream(hex(stream), SCHEMAS.n1).map((r) => r.type);

  it('appending any invalid n1 stream to any valid n1 stream fails', () => {
    const invalid = [...vectors.tlv.invalid_records, ...vectors.tlv.invalid_streams].filter((v) => v.namespaces.includes('n1'));
    for (const a of valid) {
      for (const b of invalid) {
        assert.throws(() => decodeTlvStream(hex(a + b.stream), SCHEMAS.n1), LnPeerError, `${a} + ${b.stream}`);
      }
    }
  });

  it('appending a higher-numbered valid n1 stream to a lower-numbered one succeeds', () => {
    let pairs = 0;
    for (const a of valid) {
      for (const b of valid) {
        const ta = typesOf(a);
        const tb = typesOf(b);
        if (ta.length === 0 || tb.length === 0 || ta[ta.length - 1] >= tb[0]) continue;
        assert.deepEqual(decodeTlvStream(hex(a + b), SCHEMAS.n1), [
          ...decodeTlvStream(hex(a), SCHEMAS.n1),
          ...decodeTlvStream(hex(b), SCHEMAS.n1),
        ]);
        pairs++;
      }
    }
    assert.ok(pairs > 50, `only ${pairs} pairs`);
  });
});

describe('TLV encoding and truncated integers', () => {
  it('round-trips records of every BigSize width', () => {
    const records: TlvRecord[] = [
      { type: 0n, value: new Uint8Array(0) },
      { type: 0xfbn, value: hex('01') },
      { type: 0xfdn, value: new Uint8Array(300) },
      { type: 0x10001n, value: new Uint8Array(70000) },
      { type: (1n << 64n) - 1n, value: hex('ff') },
    ];
    const bytes = encodeTlvStream(records);
    assert.equal(toHex(bytes.subarray(0, 11)), '0000fb0101fd00fdfd012c');
    const schema: TlvSchema = new Map([[0n, exactLength(0)]]);
    assert.deepEqual(decodeTlvStream(bytes, schema), records);
  });
  it('refuses records out of order or duplicated', () => {
    throwsCode(() => encodeTlvStream([{ type: 3n, value: hex('') }, { type: 1n, value: hex('') }]), 'TLV_NOT_INCREASING');
    throwsCode(() => encodeTlvStream([{ type: 3n, value: hex('') }, { type: 3n, value: hex('') }]), 'TLV_NOT_INCREASING');
  });
  it('returns copies, not views of the input', () => {
    const input = hex('0102abcd');
    const [record] = decodeTlvStream(input, new Map([[1n, exactLength(2)]]));
    input[2] = 0;
    assert.equal(toHex(record.value), 'abcd');
  });
  it('decodes tu64 and tu32 and refuses leading zeros or excess bytes', () => {
    assert.equal(decodeTu64(hex('')), 0n);
    assert.equal(decodeTu64(hex('ffffffffffffffff')), (1n << 64n) - 1n);
    assert.equal(decodeTu32(hex('0100')), 256);
    assert.equal(decodeTu32(hex('ffffffff')), 0xffffffff);
    throwsCode(() => decodeTu32(hex('0001')), 'TLV_NOT_MINIMAL');
    throwsCode(() => decodeTu32(hex('0100000000')), 'TLV_INVALID_VALUE');
    throwsCode(() => decodeTu64(hex('00')), 'TLV_NOT_MINIMAL');
  });
  it('names the record type in the error of a validator', () => {
    const err = throwsCode(() => decodeTlvStream(hex('0101ff'), new Map([[1n, exactLength(2)]])), 'TLV_INVALID_VALUE');
    assert.match(err.message, /type 1/);
    assert.equal(err.details.type, '1');
  });
  it('fails fast on a hostile length without allocating it', () => {
    const stream = new Uint8Array(65535);
    stream.set(hex('01ffffffffffffffffff'));
    throwsCode(() => decodeTlvStream(stream, new Map()), 'TLV_LENGTH_EXCEEDS_DATA');
  });
});

// ---------------------------------------------------------------------------------------
// init extension (BOLT 1 Appendix C)

const INIT_EXTENSION_ERRORS: Record<string, LnPeerErrorCode> = {
  '00100000000001': 'UNEXPECTED_EOF',
  '001000000000ca012a': 'TLV_UNKNOWN_EVEN',
  '001000000000c90101c90102': 'TLV_NOT_INCREASING',
};

describe('init message extension (Appendix C)', () => {
  it('has all 5 vectors', () => assert.equal(vectors.init_extension.vectors.length, 5));
  for (const v of vectors.init_extension.vectors) {
    it(`${v.valid ? 'valid' : 'invalid'}: ${v.message} (${v.explanation})`, () => {
      if (v.valid) {
        const init = decodeInit(hex(v.message));
        assert.equal(init.globalFeatures.length, 0);
        assert.equal(init.features.length, 0);
        assert.equal(toHex(encodeInit(init)), v.message);
      } else {
        const code = INIT_EXTENSION_ERRORS[v.message];
        assert.ok(code, `no expected code for ${v.message}`);
        throwsCode(() => decodeInit(hex(v.message)), code);
      }
    });
  }
  it('keeps the unknown odd records c9 and cb', () => {
    const init = decodeInit(hex('001000000000c9012acb0104'));
    assert.deepEqual(init.unknownTlvs, [
      { type: 0xc9n, value: hex('2a') },
      { type: 0xcbn, value: hex('04') },
    ]);
    assert.equal(init.networks, undefined);
    assert.equal(init.remoteAddr, undefined);
  });
});

// ---------------------------------------------------------------------------------------
// Derived examples (not spec vectors: feature bitfields and message encodings)

describe('derived feature bitfields', () => {
  it('has all 7 vectors', () => assert.equal(vectors.derived_examples.feature_bitfields.vectors.length, 7));
  for (const v of vectors.derived_examples.feature_bitfields.vectors) {
    it(`{${v.bits.join(',')}} ↔ ${short(v.features)}`, () => {
      assert.equal(toHex(encodeFeatures(v.bits)), v.features);
      assert.deepEqual(decodeFeatures(hex(v.features)), v.bits);
    });
  }
});

const ZERO_CHANNEL = new Uint8Array(32);
const DERIVED_MESSAGES: [string, () => Uint8Array][] = [
  ['init, interop-minimal', () => encodeInit({ features: encodeFeatures(DEFAULT_FEATURES) })],
  ['init, same features + networks', () => encodeInit({ features: encodeFeatures(DEFAULT_FEATURES), networks: [chainHash('bitcoin')] })],
  ['init with no features', () => encodeInit({ features: new Uint8Array(0) })],
  ['ping num_pong_bytes=4 ', () => encodePing(4)],
  ['pong reply', () => encodePong(4)],
  ['ping num_pong_bytes=65532', () => encodePing(65532)],
  ['warning, all-zero channel_id', () => encodeWarning(ZERO_CHANNEL, 'hi')],
  ['custom message type 32769', () => hex('8001010203')],
];

describe('derived message encodings', () => {
  it('covers all 8 examples', () => assert.equal(vectors.derived_examples.messages.length, DERIVED_MESSAGES.length));
  for (const v of vectors.derived_examples.messages) {
    it(v.name, () => {
      const builders = DERIVED_MESSAGES.filter(([prefix]) => v.name.startsWith(prefix));
      assert.equal(builders.length, 1, `exactly one builder for ${v.name}`);
      assert.equal(toHex(builders[0][1]()), v.hex);
    });
  }
  it('decodes them back', () => {
    const [initMin, initNet, initNone, ping4, pong4, pingBig, warning, custom] = vectors.derived_examples.messages.map((m) => hex(m.hex));
    assert.deepEqual(decodeFeatures(decodeInit(initMin).features), [1, 9, 13, 15, 45]);
    const withNetworks = decodeInit(initNet);
    assert.deepEqual(withNetworks.networks?.map(networkName), ['bitcoin']);
    assert.equal(withNetworks.unknownTlvs.length, 0);
    assert.equal(decodeInit(initNone).features.length, 0);
    assert.deepEqual(decodePing(ping4), { numPongBytes: 4, byteslen: 0 });
    assert.deepEqual(decodePong(pong4), { byteslen: 4 });
    assert.ok(decodePing(pingBig).numPongBytes > MAX_PONG_BYTES);
    const w = decodeWarning(warning);
    assert.deepEqual(w.channelId, ZERO_CHANNEL);
    assert.equal(formatErrorData(w.data), 'hi');
    assert.equal(messageTypeOf(custom), 32769);
    assert.equal(isBoltMessageType(32769), false);
  });
});

// ---------------------------------------------------------------------------------------
// Features (BOLT 9)

describe('features', () => {
  it('DEFAULT_FEATURES encode to 20000000a202', () => {
    assert.deepEqual([...DEFAULT_FEATURES], [1, 9, 13, 15, 45]);
    assert.equal(toHex(encodeFeatures(DEFAULT_FEATURES)), '20000000a202');
  });
  it('encodes a set (duplicates and order do not matter) and refuses invalid bits', () => {
    assert.equal(toHex(encodeFeatures([9, 1, 9])), '0202');
    throwsCode(() => encodeFeatures([-1]), 'INVALID_ARGUMENT');
    throwsCode(() => encodeFeatures([1.5]), 'INVALID_ARGUMENT');
    throwsCode(() => encodeFeatures([65535 * 8]), 'INVALID_ARGUMENT');
  });
  it('ignores leading zero bytes when decoding and reads the largest vector quickly', () => {
    assert.deepEqual(decodeFeatures(hex('000002')), [1]);
    const all = new Uint8Array(65535).fill(0xff);
    assert.equal(decodeFeatures(all).length, 65535 * 8);
  });
  it('hasFeature reads bits from the end', () => {
    const f = hex('20000000a202');
    assert.equal(hasFeature(f, 1), true);
    assert.equal(hasFeature(f, 0), false);
    assert.equal(hasFeature(f, 45), true);
    assert.equal(hasFeature(f, 44), false);
    assert.equal(hasFeature(f, 1000), false);
  });
  it('orFeatures aligns on the last byte', () => {
    assert.equal(toHex(orFeatures(hex('0100'), hex('02'))), '0102');
    assert.equal(toHex(orFeatures(hex('02'), hex('800001'))), '800003');
    assert.equal(toHex(orFeatures(hex(''), hex(''))), '');
  });
  it('combinedFeatures ORs globalfeatures into features (BOLT 1)', () => {
    const init = decodeInit(encodeInit({ globalFeatures: encodeFeatures([8, 12]), features: encodeFeatures([1, 15]) }));
    assert.deepEqual(decodeFeatures(combinedFeatures(init)), [1, 8, 12, 15]);
  });
  it('knows exactly the BOLT 9 bits 0–29, 34–39, 42–51, 60–63', () => {
    const known = new Set<number>();
    for (const [lo, hi] of [[0, 29], [34, 39], [42, 51], [60, 63]]) for (let b = lo; b <= hi; b++) known.add(b);
    for (let bit = 0; bit < 600; bit++) assert.equal(isKnownFeature(bit), known.has(bit), `bit ${bit}`);
  });
  it('unknownEvenBits lists unknown even bits only, minus the app’s own', () => {
    assert.deepEqual(unknownEvenBits([0, 1, 8, 12, 14, 44, 31, 30, 52, 256, 257]), [30, 52, 256]);
    assert.deepEqual(unknownEvenBits([30, 256], [256]), [30]);
  });
  it('missingDependencies checks the BOLT 9 dependency table', () => {
    assert.deepEqual(missingDependencies(DEFAULT_FEATURES), []);
    assert.deepEqual(missingDependencies([17]), [{ bit: 17, missing: [14] }]);
    assert.deepEqual(missingDependencies([16, 17]), [{ bit: 16, missing: [14] }]);
    assert.deepEqual(missingDependencies([17, 14]), []);
    assert.deepEqual(missingDependencies([50, 61]), [
      { bit: 50, missing: [46] },
      { bit: 61, missing: [26] },
    ]);
    assert.deepEqual(missingDependencies([51, 47, 60, 27]), []);
  });
  it('featureName names both bits of a pair', () => {
    assert.equal(featureName(0), 'option_data_loss_protect');
    assert.equal(featureName(45), 'option_channel_type');
    assert.equal(featureName(63), 'option_splice');
    assert.equal(featureName(30), undefined);
    assert.equal(featureName(257), undefined);
  });
});

// ---------------------------------------------------------------------------------------
// Address descriptors (BOLT 7)

describe('address descriptors', () => {
  const cases: [Address, string][] = [
    [{ type: 'ipv4', host: '203.0.113.7', port: 9735 }, '01cb0071072607'],
    [{ type: 'ipv6', host: '2001:db8::1', port: 9735 }, '0220010db80000000000000000000000012607'],
    [{ type: 'torv2', host: `${'a'.repeat(15)}b.onion`, port: 9735 }, '0300000000000000000001' + '2607'],
    // Tor's test_hs_common.c vector: the public key, its checksum, version 3.
    [{ type: 'torv3', host: '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion', port: 9735 }, '04d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511abec903' + '2607'],
    [{ type: 'dns', host: 'example.com', port: 9735 }, '050b6578616d706c652e636f6d2607'],
  ];
  for (const [address, bytes] of cases) {
    it(`${address.type} ${formatAddress(address)} ↔ ${bytes}`, () => {
      assert.equal(toHex(encodeAddress(address)), bytes);
      assert.deepEqual(decodeAddress(hex(bytes)), address);
    });
  }
  it('round-trips a real Tor v3 address', () => {
    const host = 'vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd.onion';
    const bytes = encodeAddress({ type: 'torv3', host, port: 443 });
    assert.equal(bytes.length, 38);
    assert.equal(bytes[35], 3); // version byte of an onion v3 address
    assert.deepEqual(decodeAddress(bytes), { type: 'torv3', host, port: 443 });
  });
  it('formats addresses', () => {
    assert.equal(formatAddress({ type: 'ipv4', host: '1.2.3.4', port: 9735 }), '1.2.3.4:9735');
    assert.equal(formatAddress({ type: 'ipv6', host: '::1', port: 9735 }), '[::1]:9735');
    assert.equal(formatAddress({ type: 'dns', host: 'node.example', port: 1 }), 'node.example:1');
  });
  it('writes IPv6 in RFC 5952 form', () => {
    const text = (bytes: string): string => decodeAddress(hex(`02${bytes}2607`)).host;
    assert.equal(text('00000000000000000000000000000001'), '::1');
    assert.equal(text('00000000000000000000000000000000'), '::');
    assert.equal(text('20010db8000000010000000000000001'), '2001:db8:0:1::1');
    assert.equal(text('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
    assert.equal(text('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
    assert.equal(text('fe800000000000000000000000000000'), 'fe80::');
  });
  it('ipAddress takes socket host text and unwraps IPv4-mapped IPv6', () => {
    assert.deepEqual(ipAddress('127.0.0.1', 9735), { type: 'ipv4', host: '127.0.0.1', port: 9735 });
    assert.deepEqual(ipAddress('::ffff:198.51.100.1', 1), { type: 'ipv4', host: '198.51.100.1', port: 1 });
    assert.deepEqual(ipAddress('2001:DB8:0:0:0:0:0:1', 2), { type: 'ipv6', host: '2001:db8::1', port: 2 });
    assert.deepEqual(ipAddress('::1.2.3.4', 3), { type: 'ipv6', host: '::102:304', port: 3 });
    for (const bad of ['localhost', '1.2.3', '01.2.3.4', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', ':1', '']) {
      throwsCode(() => ipAddress(bad, 9735), 'INVALID_ADDRESS');
    }
  });
  it('isPrivateAddress flags addresses that must not go into remote_addr', () => {
    const priv = ['10.1.2.3', '127.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.0.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '2001:db8::5'];
    const pub = ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'];
    for (const host of priv) assert.equal(isPrivateAddress(ipAddress(host, 1)), true, host);
    for (const host of pub) assert.equal(isPrivateAddress(ipAddress(host, 1)), false, host);
    assert.equal(isPrivateAddress({ type: 'dns', host: 'localhost', port: 1 }), false);
  });
  it('refuses invalid addresses to encode with INVALID_ADDRESS', () => {
    const bad: Address[] = [
      { type: 'ipv4', host: '1.2.3.4', port: 0 },
      { type: 'ipv4', host: '1.2.3.4', port: 65536 },
      { type: 'ipv4', host: '::1', port: 1 },
      { type: 'ipv6', host: '1.2.3.4', port: 1 },
      { type: 'torv3', host: 'abc.onion', port: 1 },
      { type: 'torv2', host: `${'a'.repeat(16)}.com`, port: 1 },
      { type: 'dns', host: 'bad host', port: 1 },
      { type: 'dns', host: 'exämple.com', port: 1 },
      { type: 'dns', host: 'a'.repeat(256), port: 1 },
      { type: 'dns', host: '', port: 1 },
      { type: 'carrier-pigeon' as Address['type'], host: 'x', port: 1 },
    ];
    for (const address of bad) throwsCode(() => encodeAddress(address), 'INVALID_ADDRESS');
    assert.equal(encodeAddress({ type: 'torv3', host: '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion', port: 0 }).length, 38);
  });
  it('refuses invalid descriptors with INVALID_ADDRESS_DESCRIPTOR', () => {
    const bad = ['', '00', '06', '01cb007107', '01cb0071072607ff', '01cb0071070000', '0500', '05022020', '050161', '05021f612607', '050220612607'];
    for (const bytes of bad) throwsCode(() => decodeAddress(hex(bytes)), 'INVALID_ADDRESS_DESCRIPTOR');
  });
});

// ---------------------------------------------------------------------------------------
// Messages (BOLT 1)

describe('init', () => {
  it('round-trips all fields', () => {
    const init = {
      globalFeatures: encodeFeatures([8, 12]),
      features: encodeFeatures([1, 9, 13, 15, 45, 257]),
      networks: [chainHash('bitcoin'), chainHash('signet')],
      remoteAddr: { type: 'ipv4', host: '203.0.113.7', port: 9735 } as Address,
      unknownTlvs: [
        { type: 5n, value: hex('00') },
        { type: 0x10001n, value: hex('abcd') },
      ],
    };
    const bytes = encodeInit(init);
    assert.deepEqual(decodeInit(bytes), init);
    // TLVs come out in type order: networks (1), remote_addr (3), 5, 65537.
    const tlvStart = 2 + 2 + init.globalFeatures.length + 2 + init.features.length;
    assert.deepEqual(
      decodeTlvStream(bytes.subarray(tlvStart), new Map()).map((r) => r.type),
      [1n, 3n, 5n, 0x10001n],
    );
  });
  it('encodes an empty networks list as an empty TLV 1', () => {
    assert.equal(toHex(encodeInit({ features: hex(''), networks: [] })), '0010000000000100');
    assert.deepEqual(decodeInit(hex('0010000000000100')).networks, []);
  });
  it('leaves out a remote_addr that is not a valid descriptor', () => {
    const init = decodeInit(hex('0010000000000303010203'));
    assert.equal(init.remoteAddr, undefined);
    assert.deepEqual(init.unknownTlvs, []);
  });
  it('refuses networks that are not whole chain hashes', () => {
    throwsCode(() => decodeInit(hex(`0010000000000121${'00'.repeat(33)}`)), 'TLV_INVALID_VALUE');
    throwsCode(() => encodeInit({ features: hex(''), networks: [new Uint8Array(31)] }), 'INVALID_ARGUMENT');
  });
  it('refuses a truncated init and another message type', () => {
    throwsCode(() => decodeInit(hex('0010')), 'INVALID_MESSAGE');
    throwsCode(() => decodeInit(hex('00100000')), 'INVALID_MESSAGE');
    throwsCode(() => decodeInit(hex('00100000000200')), 'INVALID_MESSAGE');
    throwsCode(() => decodeInit(hex('001100000000')), 'INVALID_MESSAGE');
    throwsCode(() => decodeInit(hex('00')), 'INVALID_MESSAGE');
  });
  it('refuses extra TLVs that clash with its fields, are even, or repeat', () => {
    throwsCode(() => encodeInit({ features: hex(''), unknownTlvs: [{ type: 1n, value: hex('') }] }), 'INVALID_ARGUMENT');
    throwsCode(() => encodeInit({ features: hex(''), unknownTlvs: [{ type: 3n, value: hex('') }] }), 'INVALID_ARGUMENT');
    throwsCode(() => encodeInit({ features: hex(''), unknownTlvs: [{ type: 6n, value: hex('') }] }), 'INVALID_ARGUMENT');
    throwsCode(
      () => encodeInit({ features: hex(''), unknownTlvs: [{ type: 7n, value: hex('') }, { type: 7n, value: hex('') }] }),
      'TLV_NOT_INCREASING',
    );
  });
  it('refuses an init over 65535 bytes', () => {
    throwsCode(() => encodeInit({ features: new Uint8Array(65530) }), 'MESSAGE_TOO_LONG');
  });
});

describe('error and warning', () => {
  const channelId = hex('11'.repeat(32));
  it('round-trip with bytes and text data', () => {
    const e = encodeError(channelId, hex('00ff'));
    assert.equal(toHex(e), `0011${'11'.repeat(32)}000200ff`);
    assert.deepEqual(decodeError(e), { channelId, data: hex('00ff') });
    assert.deepEqual(decodeWarning(encodeWarning(channelId)), { channelId, data: hex('') });
    assert.deepEqual(decodeError(encodeError(channelId, 'é')).data, hex('c3a9'));
  });
  it('allow an extension after data and refuse a short message or the other type', () => {
    assert.deepEqual(decodeError(hex(`0011${'11'.repeat(32)}0001417777`)).data, hex('41'));
    throwsCode(() => decodeError(hex(`0011${'11'.repeat(31)}`)), 'INVALID_MESSAGE');
    throwsCode(() => decodeError(hex(`0011${'11'.repeat(32)}000341`)), 'INVALID_MESSAGE');
    throwsCode(() => decodeWarning(encodeError(channelId)), 'INVALID_MESSAGE');
    throwsCode(() => decodeError(encodeWarning(channelId)), 'INVALID_MESSAGE');
  });
  it('refuse a bad channel id or too much data', () => {
    throwsCode(() => encodeError(new Uint8Array(31)), 'INVALID_ARGUMENT');
    assert.equal(encodeError(channelId, new Uint8Array(65499)).length, MAX_MESSAGE_LENGTH);
    throwsCode(() => encodeError(channelId, new Uint8Array(65500)), 'MESSAGE_TOO_LONG');
  });
  it('formatErrorData prints printable ASCII and hex for anything else', () => {
    assert.equal(formatErrorData(hex('')), '');
    assert.equal(formatErrorData(new TextEncoder().encode(' ~ok~ ')), ' ~ok~ ');
    assert.equal(formatErrorData(hex('68690a')), 'hex:68690a');
    assert.equal(formatErrorData(hex('7f')), 'hex:7f');
    assert.equal(formatErrorData(new TextEncoder().encode('é')), 'hex:c3a9');
  });
});

describe('ping and pong', () => {
  it('encode zero padding and decode lengths', () => {
    assert.equal(toHex(encodePing(0, 3)), '001200000003000000');
    assert.deepEqual(decodePing(encodePing(7, 3)), { numPongBytes: 7, byteslen: 3 });
    assert.deepEqual(decodePong(encodePong(0)), { byteslen: 0 });
  });
  it('enforce the 65535-byte message size', () => {
    assert.equal(encodePing(65535, 65529).length, MAX_MESSAGE_LENGTH);
    throwsCode(() => encodePing(0, 65530), 'MESSAGE_TOO_LONG');
    assert.equal(encodePong(MAX_PONG_BYTES).length, MAX_MESSAGE_LENGTH);
    throwsCode(() => encodePong(MAX_PONG_BYTES + 1), 'MESSAGE_TOO_LONG');
  });
  it('refuse arguments that are not u16 lengths', () => {
    throwsCode(() => encodePing(65536), 'INVALID_ARGUMENT');
    throwsCode(() => encodePing(-1), 'INVALID_ARGUMENT');
    throwsCode(() => encodePing(1, 0.5), 'INVALID_ARGUMENT');
    throwsCode(() => encodePong(-1), 'INVALID_ARGUMENT');
  });
  it('refuse truncated messages and accept extensions', () => {
    throwsCode(() => decodePing(hex('0012000400')), 'INVALID_MESSAGE');
    throwsCode(() => decodePing(hex('00120004000200')), 'INVALID_MESSAGE');
    throwsCode(() => decodePong(hex('0013000200')), 'INVALID_MESSAGE');
    throwsCode(() => decodePong(hex('00120000')), 'INVALID_MESSAGE');
    assert.deepEqual(decodePing(hex('00120004000100ff')), { numPongBytes: 4, byteslen: 1 });
    assert.deepEqual(decodePong(hex('0013000000ff')), { byteslen: 0 });
  });
});

// ---------------------------------------------------------------------------------------
// Message-type registry

describe('message types', () => {
  it('lists the 50 BOLT types', () => {
    assert.equal(BOLT_MESSAGE_TYPES.size, 50);
    assert.equal(messageTypeName(7), 'peer_storage');
    assert.equal(messageTypeName(9), 'peer_storage_retrieval');
    assert.equal(messageTypeName(16), 'init');
    assert.equal(messageTypeName(36), 'channel_ready');
    assert.equal(messageTypeName(127), 'start_batch');
    assert.equal(messageTypeName(513), 'onion_message');
    assert.equal(messageTypeName(260), undefined);
    assert.equal(isBoltMessageType(0), false);
    assert.equal(isBoltMessageType(137), false);
    assert.equal(isBoltMessageType(32768), false);
  });
  it('classifies gossip and channel messages', () => {
    const gossip = [...BOLT_MESSAGE_TYPES.keys()].filter(isGossipMessageType);
    assert.deepEqual(gossip, [256, 257, 258, 259, 261, 262, 263, 264, 265]);
    const channel = [...BOLT_MESSAGE_TYPES.keys()].filter(isChannelMessageType);
    assert.equal(channel.length, 33);
    assert.ok(channel.every((t) => t === 2 || (t >= 32 && t <= 255)));
    for (const t of BOLT_MESSAGE_TYPES.keys()) if (t >= 32 && t <= 255) assert.ok(isChannelMessageType(t), String(t));
    assert.equal(isChannelMessageType(17), false);
    assert.equal(isChannelMessageType(32769), false);
  });
  it('channelIdOf finds the (temporary) channel id', () => {
    const id = hex('ab'.repeat(32));
    const chain = chainHash('bitcoin');
    const openChannel = new Uint8Array([0x00, 0x20, ...chain, ...id, 1, 2, 3]);
    assert.deepEqual(channelIdOf(openChannel), id);
    const openChannel2 = new Uint8Array([0x00, 0x40, ...chain, ...id]);
    assert.deepEqual(channelIdOf(openChannel2), id);
    assert.deepEqual(channelIdOf(new Uint8Array([0x00, 0x21, ...id, 9])), id);
    assert.deepEqual(channelIdOf(new Uint8Array([0x00, 0x02, ...id, 1])), id);
    assert.deepEqual(channelIdOf(new Uint8Array([0x00, 0x88, ...id])), id);
    assert.equal(channelIdOf(encodeError(id)), undefined);
    assert.equal(channelIdOf(hex('0100')), undefined);
    assert.equal(channelIdOf(hex('8001')), undefined);
    throwsCode(() => channelIdOf(new Uint8Array([0x00, 0x20, ...chain, ...id.subarray(1)])), 'INVALID_MESSAGE');
    throwsCode(() => channelIdOf(hex('0021')), 'INVALID_MESSAGE');
    throwsCode(() => channelIdOf(hex('00')), 'INVALID_MESSAGE');
  });
});

// ---------------------------------------------------------------------------------------
// Networks

describe('networks', () => {
  it('maps names to wire chain hashes and back', () => {
    assert.equal(toHex(chainHash('bitcoin')), '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000');
    for (const name of Object.keys(CHAIN_HASHES) as (keyof typeof CHAIN_HASHES)[]) {
      assert.equal(networkName(chainHash(name)), name);
      assert.deepEqual(parseNetwork(name), chainHash(name));
      assert.deepEqual(parseNetwork(CHAIN_HASHES[name]), chainHash(name));
    }
    assert.equal(networkName(new Uint8Array(32)), undefined);
  });
  it('parseNetwork accepts other chain hashes as hex or bytes', () => {
    assert.deepEqual(parseNetwork('11'.repeat(32)), hex('11'.repeat(32)));
    assert.deepEqual(parseNetwork(hex('22'.repeat(32))), hex('22'.repeat(32)));
  });
  it('parseNetwork explains what is allowed', () => {
    const err = throwsCode(() => parseNetwork('mainnet'), 'INVALID_ARGUMENT');
    assert.match(err.message, /"mainnet".*'bitcoin', 'testnet', 'testnet4', 'signet', 'regtest'/);
    throwsCode(() => parseNetwork('11'.repeat(31)), 'INVALID_ARGUMENT');
    throwsCode(() => parseNetwork(new Uint8Array(31)), 'INVALID_ARGUMENT');
    throwsCode(() => parseNetwork(42 as unknown as string), 'INVALID_ARGUMENT');
    const reversed = throwsCode(() => parseNetwork('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'), 'INVALID_ARGUMENT');
    assert.match(reversed.message, /display order.*'bitcoin'/);
  });
});

// ---------------------------------------------------------------------------------------
// One test per error code raised by wire/

describe('error codes', () => {
  const cases: [LnPeerErrorCode, () => unknown][] = [
    ['UNEXPECTED_EOF', () => decodeBigSize(hex(''))],
    ['BIGSIZE_NOT_CANONICAL', () => decodeBigSize(hex('fd00fc'))],
    ['TLV_NOT_MINIMAL', () => decodeTlvStream(hex('fd000100'), new Map())],
    ['TLV_NOT_INCREASING', () => decodeTlvStream(hex('03000100'), new Map())],
    ['TLV_LENGTH_EXCEEDS_DATA', () => decodeTlvStream(hex('0102ff'), new Map())],
    ['TLV_UNKNOWN_EVEN', () => decodeTlvStream(hex('0200'), new Map())],
    ['TLV_INVALID_VALUE', () => decodeTlvStream(hex('0200'), new Map([[2n, exactLength(1)]]))],
    ['INVALID_MESSAGE', () => decodePong(hex('0013'))],
    ['INVALID_ADDRESS_DESCRIPTOR', () => decodeAddress(hex('07'))],
    ['INVALID_ADDRESS', () => ipAddress('example.com', 1)],
    ['INVALID_ARGUMENT', () => parseNetwork('nope')],
    ['MESSAGE_TOO_LONG', () => encodePong(65532)],
  ];
  for (const [code, fn] of cases) {
    it(code, () => {
      const err = throwsCode(fn, code);
      assert.ok(err.message.length > 10);
    });
  }
});
