// Fuzzing: every decoder and parser lnpeer exports, fed thousands of random and mutated inputs
// from a seeded PRNG (deterministic: FUZZ_SEED=n reruns another sequence); a live PeerManager
// session fed random and mutated messages; and every exported function called with values of
// the wrong JavaScript type. The only thing allowed to escape is an LnPeerError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as lnpeer from '../../src/index.js';
import { CustomMessage, LnPeerError, Peer, PeerManager, Requests, memoryPair, noise, parseNodeId, parsePeerAddress, wire, type LnPeerErrorCode } from '../../src/index.js';
import { randomPrivateKey } from '../../src/crypto/index.js';
import { seededRandom, type Rand } from '../prng.js';

const SEED = process.env.FUZZ_SEED === undefined ? 0x5eed1e57 : Number(process.env.FUZZ_SEED);

// ---------------------------------------------------------------------------------------------
// The seeded generators and the mutations.

/** One generator per target, seeded from SEED and the target's name: adding a target changes no other's inputs. */
function rand(name: string): Rand {
  let seed = SEED >>> 0;
  for (let i = 0; i < name.length; i++) seed = Math.imul(seed ^ name.charCodeAt(i), 0x9e3779b1) >>> 0;
  return seededRandom(seed);
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfc, 0xfd, 0xfe, 0xff];

/** 1 to 3 of: flip a bit, set an interesting or random byte, insert, delete, truncate, duplicate a run. */
function mutate(r: Rand, input: Uint8Array): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  const splice = (at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array => {
    const end = Math.min(b.length, at + remove);
    const out = new Uint8Array(b.length - (end - at) + insert.length);
    out.set(b.subarray(0, at));
    out.set(insert, at);
    out.set(b.subarray(end), at + insert.length);
    return out;
  };
  for (let n = 1 + r.int(3); n > 0; n--) {
    const at = r.int(b.length + 1);
    switch (r.int(7)) {
      case 0:
        if (b.length > 0) b[at % b.length] ^= 1 << r.int(8);
        break;
      case 1:
        if (b.length > 0) b[at % b.length] = r.pick(INTERESTING);
        break;
      case 2:
        b = splice(at, 0, r.bytes(1 + r.int(8)));
        break;
      case 3:
        b = splice(at, 1 + r.int(8));
        break;
      case 4:
        b = b.slice(0, at);
        break;
      case 5:
        if (b.length > 0) b[at % b.length] = r.int(256);
        break;
      case 6: {
        const from = r.int(b.length + 1);
        b = splice(at, 0, b.slice(from, from + 1 + r.int(16)));
        break;
      }
    }
  }
  return b;
}

/** Bytes as a decoder may get them: a plain array, a Node Buffer, or a view at an offset in a larger buffer. */
function asView(r: Rand, bytes: Uint8Array): Uint8Array {
  const k = r.int(3);
  if (k === 0) return bytes;
  if (k === 1) return Buffer.from(bytes);
  const offset = 1 + r.int(7);
  const big = r.bytes(offset + bytes.length + r.int(8));
  big.set(bytes, offset);
  return big.subarray(offset, offset + bytes.length);
}

/** `count` inputs: mostly mutations of the valid ones, some random, some tiny, a few valid as they are. */
function* inputs(r: Rand, valid: readonly Uint8Array[], count: number, maxRandom = 300): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const k = r.next();
    const bytes = k < 0.08 ? r.bytes(r.int(6)) : k < 0.25 ? r.bytes(r.int(maxRandom)) : k < 0.3 ? r.pick(valid) : mutate(r, r.pick(valid));
    yield asView(r, bytes);
  }
}

/** The first of `promises` to settle, or undefined after `ms`; the timer is cleared either way (a losing timer must not hold the run open). */
async function within(ms: number, ...promises: Promise<unknown>[]): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([...promises, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const hex = (b: Uint8Array): string => (b.length > 80 ? `${Buffer.from(b.subarray(0, 80)).toString('hex')}…(${b.length} bytes)` : Buffer.from(b).toString('hex'));

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message}` : `a thrown ${typeof err}: ${String(err)}`;
}

/**
 * Runs `target` on every input; collects each exception that is not an LnPeerError (and each
 * INTERNAL_ERROR, lnpeer's own name for a defect it caught), then fails listing the first ones.
 */
function fuzz<T>(name: string, cases: Iterable<T>, target: (input: T) => unknown, show: (input: T) => string = (i) => (i instanceof Uint8Array ? hex(i) : JSON.stringify(i))): void {
  const failures: string[] = [];
  let count = 0;
  for (const input of cases) {
    count++;
    try {
      target(input);
    } catch (err) {
      if (!(err instanceof LnPeerError) || err.code === 'INTERNAL_ERROR') failures.push(`${show(input)} → ${describeError(err)}`);
    }
  }
  assert.ok(count > 0);
  assert.equal(failures.length, 0, `${name}: ${failures.length} of ${count} inputs threw something other than an LnPeerError (FUZZ_SEED=${SEED}):\n  ${failures.slice(0, 8).join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------
// Valid encodings to start from.

const NODE_KEY = noise.keyPair(randomPrivateKey());
const NODE_ID = Buffer.from(NODE_KEY.publicKey).toString('hex');
const CHAIN = wire.chainHash('regtest');

const ADDRESSES: wire.Address[] = [
  { type: 'ipv4', host: '203.0.113.7', port: 9735 },
  { type: 'ipv6', host: '2001:db8::1', port: 9735 },
  { type: 'torv3', host: `${'a'.repeat(55)}d.onion`, port: 9735 },
  { type: 'dns', host: 'node.example.com', port: 9735 },
];
const VALID_ADDRESSES = [...ADDRESSES.flatMap((a) => (a.type === 'torv3' ? [] : [wire.encodeAddress(a)])), Uint8Array.from([4, ...new Uint8Array(35), 0x26, 0x07]), Uint8Array.from([3, ...new Uint8Array(10), 0, 0])];

const VALID_INITS = [
  wire.encodeInit({ features: wire.encodeFeatures(wire.DEFAULT_FEATURES) }),
  wire.encodeInit({ features: wire.encodeFeatures([1, 9, 13, 15, 45, 257, 729]), networks: [CHAIN, wire.chainHash('bitcoin')] }),
  wire.encodeInit({ globalFeatures: Uint8Array.of(2, 2), features: wire.encodeFeatures([0, 12]), remoteAddr: ADDRESSES[0], unknownTlvs: [{ type: 5n, value: Uint8Array.of(1, 2, 3) }, { type: 0x10001n, value: new Uint8Array(40) }] }),
  wire.encodeInit({ features: new Uint8Array(0), remoteAddr: ADDRESSES[3] }),
  wire.encodeInit({ features: new Uint8Array(0), remoteAddr: ADDRESSES[1], networks: [] }),
];
const VALID_CONTROL = [
  wire.encodeError(new Uint8Array(32), 'all channels'),
  wire.encodeWarning(new Uint8Array(32).fill(7), Uint8Array.of(0, 1, 0xff)),
  wire.encodePing(4, 10),
  wire.encodePing(65532, 0),
  wire.encodePing(0, 0),
  wire.encodePong(4),
  wire.encodePong(0),
];
function channelMessage(type: number, length: number): Uint8Array {
  const m = new Uint8Array(2 + length).fill(0xab);
  m[0] = type >> 8;
  m[1] = type & 0xff;
  return m;
}
const VALID_CHANNEL = [channelMessage(32, 300), channelMessage(33, 270), channelMessage(2, 34), channelMessage(136, 40), channelMessage(64, 64), channelMessage(256, 430)];
const BIGSIZES = [0n, 1n, 0xfcn, 0xfdn, 0xffffn, 0x10000n, 0xffffffffn, 0x100000000n, (1n << 64n) - 1n].map((v) => wire.encodeBigSize(v));
const TLV_STREAMS = [
  wire.encodeTlvStream([]),
  wire.encodeTlvStream([{ type: 1n, value: new Uint8Array(32) }]),
  wire.encodeTlvStream([
    { type: 1n, value: new Uint8Array(64) },
    { type: 2n, value: new Uint8Array(8) },
    { type: 3n, value: Uint8Array.of(1) },
    { type: 4n, value: Uint8Array.of(1, 2) },
    { type: 253n, value: new Uint8Array(300) },
    { type: 0x1_0000_0001n, value: new Uint8Array(0) },
  ]),
];
const TLV_SCHEMAS: wire.TlvSchema[] = [
  new Map(),
  new Map<bigint, wire.TlvValidator>([
    [1n, (v) => void (v.length % 32 === 0 || (() => { throw new LnPeerError('TLV_INVALID_VALUE', 'not chain hashes'); })())],
    [2n, wire.exactLength(8)],
    [4n, (v) => void wire.decodeTu64(v)],
  ]),
];

// ---------------------------------------------------------------------------------------------

describe('fuzz: decoders let nothing but an LnPeerError escape', () => {
  it('decodeBigSize, also at every offset (negative, past the end, fractional)', () => {
    const r = rand('bigsize');
    fuzz('decodeBigSize', inputs(r, BIGSIZES, 2000, 12), (b) => wire.decodeBigSize(b));
    const offsets = (b: Uint8Array): number[] => [0, 1, b.length - 1, b.length, b.length + 1, -1, -9, 0.5, 1.5, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY];
    fuzz(
      'decodeBigSize(bytes, offset)',
      (function* () {
        for (const b of inputs(r, BIGSIZES, 400, 12)) for (const offset of offsets(b)) yield { b, offset };
      })(),
      ({ b, offset }) => wire.decodeBigSize(b, offset),
      ({ b, offset }) => `decodeBigSize(${hex(b)}, ${offset})`,
    );
  });

  it('decodeTlvStream with each schema, decodeTu32, decodeTu64', () => {
    const r = rand('tlv');
    for (const [i, schema] of TLV_SCHEMAS.entries()) fuzz(`decodeTlvStream, schema ${i}`, inputs(r, TLV_STREAMS, 2000), (b) => wire.decodeTlvStream(b, schema));
    fuzz('decodeTu32', inputs(r, [Uint8Array.of(1), Uint8Array.of(1, 0, 0, 0)], 1000, 10), (b) => wire.decodeTu32(b));
    fuzz('decodeTu64', inputs(r, [Uint8Array.of(1), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)], 1000, 10), (b) => wire.decodeTu64(b));
  });

  it('decodeInit, then what the session does with an init: combinedFeatures, decodeFeatures, unknownEvenBits, missingDependencies, chainLabel', () => {
    const r = rand('init');
    fuzz('decodeInit', inputs(r, VALID_INITS, 2000), (b) => {
      const init = wire.decodeInit(b);
      const bits = wire.decodeFeatures(wire.combinedFeatures(init));
      wire.unknownEvenBits(bits, [256, 257]);
      wire.missingDependencies(bits);
      for (const bit of bits.slice(0, 20)) wire.featureName(bit);
      init.networks?.map(wire.chainLabel);
      if (init.remoteAddr) wire.formatAddress(init.remoteAddr);
    });
  });

  it('decodeError, decodeWarning, decodePing, decodePong, formatErrorData', () => {
    const r = rand('control');
    fuzz('decodeError', inputs(r, VALID_CONTROL, 1500), (b) => wire.formatErrorData(wire.decodeError(b).data));
    fuzz('decodeWarning', inputs(r, VALID_CONTROL, 1500), (b) => wire.formatErrorData(wire.decodeWarning(b).data));
    fuzz('decodePing', inputs(r, VALID_CONTROL, 1500), (b) => wire.decodePing(b));
    fuzz('decodePong', inputs(r, VALID_CONTROL, 1500), (b) => wire.decodePong(b));
  });

  it('decodeAddress (all five descriptor types), formatAddress, isPrivateAddress', () => {
    const r = rand('address');
    fuzz('decodeAddress', inputs(r, VALID_ADDRESSES, 2000, 80), (b) => {
      const a = wire.decodeAddress(b);
      wire.formatAddress(a);
      wire.isPrivateAddress(a);
      wire.encodeAddress(a);
    });
  });

  it('decodeFeatures, orFeatures, hasFeature on random vectors up to 65535 bytes', () => {
    const r = rand('features');
    const vectors = [wire.encodeFeatures(wire.DEFAULT_FEATURES), wire.encodeFeatures([0, 300, 5000])];
    fuzz('decodeFeatures', inputs(r, vectors, 1500, 700), (b) => {
      wire.decodeFeatures(b);
      wire.orFeatures(b, vectors[0]);
      wire.hasFeature(b, r.int(6000));
    });
    fuzz('decodeFeatures (65535 bytes)', [r.bytes(65535)], (b) => wire.decodeFeatures(b));
  });

  it('messageTypeOf and channelIdOf on every channel message type', () => {
    const r = rand('types');
    fuzz('channelIdOf', inputs(r, VALID_CHANNEL, 2000), (b) => wire.channelIdOf(b));
    fuzz('messageTypeOf', inputs(r, VALID_CHANNEL, 1000, 4), (b) => wire.messageTypeOf(b));
  });

  it('parseNetwork, networkName and chainLabel on names, hex and bytes', () => {
    const r = rand('networks');
    const names = [...Object.keys(wire.CHAIN_HASHES), ...Object.values(wire.CHAIN_HASHES)];
    fuzz('parseNetwork(string)', strings(r, names, 2000), (s) => wire.parseNetwork(s));
    fuzz('parseNetwork(bytes)', inputs(r, [CHAIN], 1000, 40), (b) => {
      wire.parseNetwork(b);
      wire.networkName(b);
      wire.chainLabel(b);
    });
  });

  it('CustomMessage.decode and validate, as bytes and as hex', () => {
    const r = rand('custom');
    const valid = [Uint8Array.of(0xff, 0xfb, 1, 2, 3), Uint8Array.of(0xff, 0xfa), Uint8Array.of(0, 18, 0, 0, 0, 0), Uint8Array.of(0, 7, 0, 1, 2), new Uint8Array(65535).fill(0xff)];
    const evenTypes = [[], [0xfffa], new Set([0xfffa, 2]), [0.5, -1, 1e9]];
    fuzz('CustomMessage.validate(bytes)', inputs(r, valid, 2000), (b) => CustomMessage.validate(b, { evenTypes: r.pick(evenTypes) }).warnings());
    fuzz('CustomMessage.decode(bytes)', inputs(r, valid, 1000), (b) => CustomMessage.decode(b).toHex());
    fuzz('CustomMessage.validate(hex)', strings(r, valid.slice(0, 4).map((b) => Buffer.from(b).toString('hex')), 2000), (s) => CustomMessage.validate(s, { evenTypes: r.pick(evenTypes) }));
  });

  it('parseNodeId and parsePeerAddress on mutated ids and addresses', () => {
    const r = rand('ids');
    fuzz('parseNodeId(string)', strings(r, [NODE_ID, NODE_ID.toUpperCase()], 1500), (s) => parseNodeId(s));
    fuzz('parseNodeId(bytes)', inputs(r, [NODE_KEY.publicKey], 1000, 40), (b) => parseNodeId(b));
    const addresses = [`${NODE_ID}@127.0.0.1:9735`, `${NODE_ID}@[::1]:9735`, `${NODE_ID}@node.example.com`, `${NODE_ID}@ws://127.0.0.1:80/path?x=1`, `${NODE_ID}@wss://[2001:db8::1]/`, `${NODE_ID}@example.onion:9735`];
    fuzz('parsePeerAddress', strings(r, addresses, 2000), (s) => parsePeerAddress(s));
  });

  it('defineMessage(...).decode, a schema with every kind of field and TLVs', () => {
    const r = rand('schema');
    const schema = lnpeer.defineMessage({
      name: 'fuzzed',
      type: 0xfff9,
      fields: { a: 'u8', b: 'u16', c: 'u32', d: 'u64', e: 's32', n: 'u16', items: lnpeer.arrayOf('u32', 'n'), id: 'point', scid: 'short_channel_id', text: 'utf8', blob: 'bytes', s: 'bigsize', h: lnpeer.fixedBytes(32) },
      tlvs: { t1: { type: 1, value: 'tu64' }, t3: { type: 3, value: lnpeer.restOf(lnpeer.fixedBytes(32)) }, t5: { type: 5, fields: { x: 'u16', y: 'tu32' } } },
    });
    const valid = [
      schema.encode({ a: 1, b: 2, c: 3, d: 4n, e: -5, items: [1, 2, 3], id: NODE_KEY.publicKey, scid: '1x2x3', text: 'héllo', blob: Uint8Array.of(1, 2), s: 300n, h: CHAIN, t1: 5n, t3: [CHAIN, CHAIN], t5: { x: 1, y: 70000 } }),
      schema.encode({ a: 0, b: 0, c: 0, d: 0n, e: 0, items: [], id: NODE_KEY.publicKey, scid: '0x0x0', text: '', blob: new Uint8Array(0), s: 0n, h: CHAIN }),
    ];
    fuzz('schema.decode', inputs(r, valid, 2000), (b) => schema.decode(b));
  });
});

/** Strings: mutations of the valid ones (bytes of their UTF-8), with characters that parsers trip on, and random text. */
function* strings(r: Rand, valid: readonly string[], count: number): Generator<string> {
  const special = ['@', ':', '[', ']', '/', '?', '#', ' ', '%', '\u0000', '\u00e9', '\ud83d', '\u200b', '0x', '..', '::', 'ws://', '-1', '99999'];
  for (let i = 0; i < count; i++) {
    const base = r.pick(valid);
    const k = r.next();
    if (k < 0.1) {
      yield Array.from({ length: r.int(80) }, () => String.fromCharCode(r.int(r.bool(0.8) ? 128 : 0x10000))).join('');
    } else if (k < 0.5) {
      const at = r.int(base.length + 1);
      const cut = r.int(4);
      yield base.slice(0, at) + (r.bool() ? r.pick(special) : '') + base.slice(at + cut);
    } else if (k < 0.55) {
      yield base;
    } else {
      yield Buffer.from(mutate(r, Buffer.from(base))).toString('latin1');
    }
  }
}

describe('fuzz: BOLT 8', () => {
  it('MessageDecryptor: random bytes after a real key, and real packets mutated, in random chunks, with every AEAD backend', () => {
    const r = rand('decryptor');
    // A real handshake's keys for the first cases, then cipher states made directly (same key both ends).
    const initiator = new noise.InitiatorHandshake(noise.keyPair(randomPrivateKey()), NODE_KEY.publicKey);
    const responder = new noise.ResponderHandshake(NODE_KEY);
    const { actThree, result: sender } = initiator.actTwoToThree(responder.actOneToTwo(initiator.actOne()));
    const receiver = responder.actThree(actThree);
    const pairs = function* (): Generator<{ encryptor: noise.MessageEncryptor; decryptor: noise.MessageDecryptor; stream: Uint8Array }> {
      for (let i = 0; i < 400; i++) {
        const key = r.bytes(32);
        const ck = r.bytes(32);
        const aead = lnpeer.aeadBackends[i % lnpeer.aeadBackends.length];
        const [send, receive] = i === 0 ? [sender.sending, receiver.receiving] : [new noise.CipherState(key, ck, aead), new noise.CipherState(key, ck, aead)];
        const encryptor = new noise.MessageEncryptor(send);
        const decryptor = new noise.MessageDecryptor(receive);
        // Enough messages now and then to cross a key rotation (every 500 messages).
        const count = r.bool(0.02) ? 520 : 1 + r.int(5);
        const packets: Uint8Array[] = [];
        for (let m = 0; m < count; m++) packets.push(encryptor.encrypt(r.bytes(r.bool(0.05) ? 65535 : 2 + r.int(200))));
        const whole = Buffer.concat(packets);
        const k = r.next();
        const stream = k < 0.2 ? r.bytes(r.int(400)) : k < 0.3 ? whole : mutate(r, whole);
        yield { encryptor, decryptor, stream };
      }
    };
    fuzz(
      'MessageDecryptor',
      pairs(),
      ({ decryptor, stream }) => {
        // Any chunking, then every whole message out; after a failure, every call fails again.
        for (let at = 0; at < stream.length; ) {
          const size = 1 + r.int(r.bool(0.3) ? 8 : 4000);
          decryptor.push(asView(r, stream.subarray(at, at + size)));
          at += size;
          while (decryptor.next() !== undefined);
        }
      },
      ({ stream }) => hex(stream),
    );
  });

  it('the handshake acts: random and mutated act one, act two and act three, and acts out of order with every AEAD backend', () => {
    const r = rand('handshake');
    const clientKey = noise.keyPair(randomPrivateKey());
    const realActOne = new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey).actOne();
    fuzz('ResponderHandshake.actOneToTwo', inputs(r, [realActOne], 600, 60), (act) => new noise.ResponderHandshake(NODE_KEY).actOneToTwo(act));
    fuzz(
      'InitiatorHandshake.actTwoToThree',
      (function* () {
        for (let i = 0; i < 200; i++) {
          const initiator = new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey);
          const actTwo = new noise.ResponderHandshake(NODE_KEY).actOneToTwo(initiator.actOne());
          yield { initiator, act: asView(r, r.bool(0.2) ? r.bytes(r.int(60)) : mutate(r, actTwo)) };
        }
      })(),
      ({ initiator, act }) => initiator.actTwoToThree(act),
      ({ act }) => hex(act),
    );
    fuzz(
      'ResponderHandshake.actThree',
      (function* () {
        for (let i = 0; i < 200; i++) {
          const initiator = new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey);
          const responder = new noise.ResponderHandshake(NODE_KEY);
          const { actThree } = initiator.actTwoToThree(responder.actOneToTwo(initiator.actOne()));
          yield { responder, act: asView(r, r.bool(0.2) ? r.bytes(r.int(80)) : mutate(r, actThree)) };
        }
      })(),
      ({ responder, act }) => responder.actThree(act),
      ({ act }) => hex(act),
    );
    // A transport that mixes up the order (or a peer that sends act three first) must get an
    // LnPeerError too, whichever AEAD backend is in use.
    const orders: Array<[string, () => unknown]> = lnpeer.aeadBackends.flatMap((aead) => outOfOrder(aead).map(([name, call]): [string, () => unknown] => [`${name} (${aead.name})`, call]));
    fuzz('handshake acts out of order', orders, ([, call]) => call(), ([name]) => name);
  });
});

function outOfOrder(aead: lnpeer.Aead): Array<[string, () => unknown]> {
  const clientKey = noise.keyPair(randomPrivateKey());
  const options = { aead };
  const realActOne = new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey, options).actOne();
  return [
    ['responder.actThree before act one', () => new noise.ResponderHandshake(NODE_KEY, options).actThree(new Uint8Array(66))],
    ['initiator.actTwoToThree before actOne', () => new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey, options).actTwoToThree(new noise.ResponderHandshake(NODE_KEY, options).actOneToTwo(realActOne))],
    [
      'responder.actOneToTwo twice',
      () => {
        const responder = new noise.ResponderHandshake(NODE_KEY, options);
        responder.actOneToTwo(realActOne);
        return responder.actOneToTwo(realActOne);
      },
    ],
    [
      'initiator.actTwoToThree twice',
      () => {
        const initiator = new noise.InitiatorHandshake(clientKey, NODE_KEY.publicKey, options);
        const actTwo = new noise.ResponderHandshake(NODE_KEY, options).actOneToTwo(initiator.actOne());
        initiator.actTwoToThree(actTwo);
        return initiator.actTwoToThree(actTwo);
      },
    ],
  ];
}

// ---------------------------------------------------------------------------------------------
// A live session: a PeerManager, and raw Peers that send it random and mutated messages after init.

const CUSTOM_SEEDS = [Uint8Array.of(0xff, 0xfb, 1, 2, 3), Uint8Array.of(0xff, 0xfa, 9), Uint8Array.of(0, 7, 0, 2, 1, 2)];

function fuzzMessage(r: Rand): Uint8Array {
  const k = r.next();
  if (k < 0.3) {
    // An odd custom type: delivered as custommsg.
    const m = r.bytes(2 + r.int(r.bool(0.02) ? 65534 : 300));
    m[0] |= 0x80;
    m[1] |= 1;
    return m;
  }
  if (k < 0.6) return mutate(r, r.pick([...VALID_CONTROL, ...VALID_INITS, ...CUSTOM_SEEDS]));
  if (k < 0.7) return r.pick(VALID_CONTROL);
  if (k < 0.78) return mutate(r, channelMessage(r.pick([256, 257, 258, 259, 261, 263, 265, 513, 9]), r.int(200)));
  if (k < 0.86) return channelMessage(r.pick([32, 33, 36, 38, 64, 128, 136, 2]), 32 + r.int(300));
  if (k < 0.9) return mutate(r, channelMessage(r.pick([32, 33, 36, 38, 64, 128, 136, 2]), 32 + r.int(300)));
  if (k < 0.95) return r.bytes(2 + r.int(100));
  return r.bytes(r.int(2));
}

describe('fuzz: a PeerManager session', () => {
  it('fed random and mutated handshake acts, and garbage after a real handshake, reports only LnPeerErrors', async (t) => {
    const r = rand('session-handshake');
    const pm = new PeerManager({ handshakesPerSecondPerHost: 0 });
    const bad: string[] = [];
    const codes: Record<string, number> = {};
    pm.on('connection:failed', ({ error }) => {
      codes[error.code] = (codes[error.code] ?? 0) + 1;
      if (!(error instanceof LnPeerError) || error.code === 'INTERNAL_ERROR') bad.push(describeError(error));
    });
    const clientKey = noise.keyPair(randomPrivateKey());
    for (let i = 0; i < 150; i++) {
      const [a, b] = memoryPair();
      pm.accept(a, { host: 'fuzz', port: i });
      let received = new Uint8Array(0);
      const closed = new Promise<void>((resolve) =>
        b.open({
          data: (chunk) => (received = Buffer.concat([received, chunk])),
          flushed() {},
          end: () => b.end(),
          closed: () => resolve(),
        }),
      );
      const initiator = new noise.InitiatorHandshake(clientKey, parseNodeId(pm.nodeId));
      const actOne = initiator.actOne();
      const k = r.next();
      if (k < 0.4) {
        b.write(r.bool(0.8) ? mutate(r, actOne) : r.bytes(r.int(120)));
      } else {
        // A real act one; then act three mutated, or a real act three and garbage for messages.
        b.write(actOne);
        const deadline = Date.now() + 2000;
        while (received.length < 50 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
        const { actThree, result } = initiator.actTwoToThree(received.subarray(0, 50));
        if (k < 0.7) b.write(mutate(r, actThree));
        else {
          b.write(actThree);
          const packet = new noise.MessageEncryptor(result.sending).encrypt(wire.encodeInit({ features: wire.encodeFeatures(wire.DEFAULT_FEATURES) }));
          b.write(r.bool() ? mutate(r, packet) : r.bytes(1 + r.int(200)));
        }
      }
      // Hang up (a short act waits for more otherwise), then wait for the close.
      setTimeout(() => b.end(), 5);
      await within(3000, closed);
    }
    t.diagnostic(`connection:failed codes: ${JSON.stringify(codes)}`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} connection:failed events carried something other than an LnPeerError (FUZZ_SEED=${SEED})`);
    await pm.close();
  });

  it('fed random and mutated messages after init, lets only LnPeerErrors out and stays usable', async (t) => {
    const r = rand('session');
    const pm = new PeerManager({ evenTypes: [0xfffa], handshakesPerSecondPerHost: 0 });
    const bad: string[] = [];
    const checkError = (where: string, error: unknown) => {
      if (!(error instanceof LnPeerError) || error.code === 'INTERNAL_ERROR') bad.push(`${where}: ${describeError(error)}`);
    };
    pm.on('connection:failed', ({ error }) => checkError('connection:failed', error));
    pm.on('peer:disconnect', ({ error }) => error && checkError('peer:disconnect', error));
    pm.on('peer:warning', () => {});
    pm.on('peer:error', () => {});
    let delivered = 0;
    pm.on('custommsg', () => delivered++);
    let sent = 0;
    let connections = 0;
    let batches = 0;
    const init = wire.encodeInit({ features: wire.encodeFeatures(wire.DEFAULT_FEATURES) });
    while (sent < 2000 && connections < 200) {
      const [a, b] = memoryPair();
      pm.accept(a, { host: 'fuzz', port: connections });
      const peer = Peer.initiator(b, { peerId: pm.nodeId, localKey: randomPrivateKey() });
      const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
      let marker = -1;
      let answered: () => void = () => {};
      peer.on('message', (m) => {
        if (m[0] === 0 && m[1] === 19 && m.length === 4 + marker) answered();
      });
      await peer.ready();
      await peer.send(init);
      connections++;
      while (peer.isOpen && sent < 2000) {
        const batch = 1 + r.int(24);
        for (let i = 0; i < batch; i++, sent++) peer.send(fuzzMessage(r)).catch(() => {});
        // A ping last: its pong says every message before it was handled (or the connection closed).
        marker = 40_000 + (batches++ % 20_000);
        const pong = new Promise<void>((resolve) => (answered = resolve));
        peer.send(wire.encodePing(marker)).catch(() => {});
        await within(2000, pong, closed);
      }
      void peer.close();
      await closed;
    }
    t.diagnostic(`${sent} messages on ${connections} connections, ${delivered} delivered as custommsg`);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} events carried something other than an LnPeerError (FUZZ_SEED=${SEED})`);
    assert.ok(delivered > 100, `custom messages delivered: ${delivered}`);
    // Still usable: another node connects and exchanges a message.
    const other = new PeerManager();
    const [c, d] = memoryPair();
    pm.accept(c, { host: 'after', port: 1 });
    await other.connectStream(d, pm.nodeId, { timeoutMs: 5000 });
    const got = new Promise<number>((resolve) => pm.once('custommsg', (m) => resolve(m.type)));
    await other.sendCustomMsg(pm.nodeId, 'fff301');
    assert.equal(await got, 0xfff3);
    await Promise.all([other.close(), pm.close()]);
  });
});

// ---------------------------------------------------------------------------------------------
// Every exported function, called with values of the wrong JavaScript type, one argument at a
// time (the others valid): each must throw (or reject with) an LnPeerError whose code is
// INVALID_ARGUMENT, or the code that parameter is documented to fail with (INVALID_NODE_ID for
// a node id, INVALID_HEX for a message, …). Values of the right type but a bad value may throw
// only LnPeerErrors too.

/** The values tried for every parameter. */
const VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['null', null],
  ['undefined', undefined],
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['NaN', Number.NaN],
  ['""', ''],
  ['"abc"', 'abc'],
  ['"00"', '00'],
  ['true', true],
  ['1n', 1n],
  ['{}', {}],
  ['{ length: 2 }', { length: 2 }],
  ['[]', []],
  ['[1, 2]', [1, 2]],
  ['() => {}', () => {}],
];

/** What a parameter takes; a value of another JavaScript type is a wrong type. */
type Kind = 'bytes' | 'hexOrBytes' | 'stringOrBytes' | 'string' | 'number' | 'numberOrBigint' | 'bigint' | 'object' | 'stringOrObject' | 'array' | 'iterable' | 'map' | 'function' | 'any';

const RIGHT_TYPE: Record<Kind, (v: unknown) => boolean> = {
  bytes: (v) => v instanceof Uint8Array,
  hexOrBytes: (v) => typeof v === 'string' || v instanceof Uint8Array,
  stringOrBytes: (v) => typeof v === 'string' || v instanceof Uint8Array,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  numberOrBigint: (v) => typeof v === 'number' || typeof v === 'bigint',
  bigint: (v) => typeof v === 'bigint',
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  stringOrObject: (v) => typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)),
  array: (v) => Array.isArray(v),
  iterable: (v) => Array.isArray(v) || v instanceof Set,
  map: (v) => v instanceof Map,
  function: (v) => typeof v === 'function',
  any: () => true,
};

interface Param {
  kind: Kind;
  optional?: boolean;
  /** Codes other than INVALID_ARGUMENT this parameter is documented to fail with. */
  codes?: LnPeerErrorCode[];
  /** Values of the right type are not tried (they would do real I/O, such as listening on port 9735). */
  wrongTypesOnly?: boolean;
  /** A predicate's parameter: returning false for a value of another type is its answer (documented "false for anything else"). */
  falseForOthers?: boolean;
}

interface Spec {
  name: string;
  params: Param[];
  /** Valid arguments: each call replaces one of them. */
  valid: unknown[];
  call: (...args: unknown[]) => unknown;
}

/** In `valid`: a fresh in-memory connection for each call (a connection is opened once only). */
const FRESH_CONNECTION = Symbol('a fresh connection');
const fresh = (v: unknown): unknown => (v === FRESH_CONNECTION ? memoryPair()[0] : v);

const p = (kind: Kind, more: Omit<Param, 'kind'> = {}): Param => ({ kind, ...more });
const opt = (kind: Kind, more: Omit<Param, 'kind' | 'optional'> = {}): Param => ({ kind, optional: true, ...more });
const NODE: Param = { kind: 'hexOrBytes', codes: ['INVALID_NODE_ID'] };
const MSG: Param = { kind: 'hexOrBytes', codes: ['INVALID_HEX', 'MESSAGE_TOO_SHORT'] };

/** Builds the table of every exported function, with live objects to call methods on. */
async function specs(): Promise<{ list: Spec[]; cleanup: () => Promise<void> }> {
  const key = randomPrivateKey();
  const pair = noise.keyPair(key);
  const peerKey = noise.keyPair(randomPrivateKey());
  const pm = new PeerManager();
  // An LSP (bLIP-50 feature bit 729), for Lsps0Server.
  const other = new PeerManager({ features: [729] });
  const [m1, m2] = memoryPair();
  pm.accept(m1, { host: 'memory', port: 1 });
  await other.connectStream(m2, pm.nodeId);
  // An open raw Peer, for its methods.
  const [r1, r2] = memoryPair();
  const responder = Peer.responder(r1, { localKey: peerKey });
  const rawPeer = Peer.initiator(r2, { peerId: peerKey.publicKey, localKey: key });
  await Promise.all([rawPeer.ready(), responder.ready()]);
  const requests = new Requests(pm);
  const commando = new lnpeer.Commando(pm);
  const lsps0 = new lnpeer.Lsps0Client(pm);
  const lsps0Server = new lnpeer.Lsps0Server(other);
  const initiator = () => new noise.InitiatorHandshake(pair, peerKey.publicKey);
  const cipher = () => new noise.CipherState(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
  const actOne = initiator().actOne();
  const afterActOne = () => {
    const i = initiator();
    const r = new noise.ResponderHandshake(peerKey);
    return { i, r, actTwo: r.actOneToTwo(i.actOne()) };
  };
  const { i: hsI, actTwo } = afterActOne();
  const { actThree } = hsI.actTwoToThree(actTwo);
  const schema = lnpeer.defineMessage({ name: 'm', type: 0xfff9, fields: { a: 'u16' } });
  const id = other.nodeId;
  const address = { type: 'ipv4', host: '203.0.113.7', port: 9735 };
  const list: Spec[] = [
    // wire
    { name: 'wire.decodeBigSize', params: [p('bytes'), opt('number')], valid: [Uint8Array.of(1), 0], call: (a, b) => wire.decodeBigSize(a as Uint8Array, b as number) },
    { name: 'wire.encodeBigSize', params: [p('numberOrBigint')], valid: [5], call: (a) => wire.encodeBigSize(a as number) },
    { name: 'wire.decodeTlvStream', params: [p('bytes'), p('map')], valid: [new Uint8Array(0), new Map()], call: (a, b) => wire.decodeTlvStream(a as Uint8Array, b as wire.TlvSchema) },
    { name: 'wire.encodeTlvStream', params: [p('array')], valid: [[{ type: 1n, value: Uint8Array.of(1) }]], call: (a) => wire.encodeTlvStream(a as wire.TlvRecord[]) },
    { name: 'wire.decodeTu32', params: [p('bytes')], valid: [Uint8Array.of(1)], call: (a) => wire.decodeTu32(a as Uint8Array) },
    { name: 'wire.decodeTu64', params: [p('bytes')], valid: [Uint8Array.of(1)], call: (a) => wire.decodeTu64(a as Uint8Array) },
    { name: 'wire.exactLength', params: [p('number')], valid: [32], call: (a) => wire.exactLength(a as number) },
    { name: 'wire.exactLength(32) (the validator it returns)', params: [p('bytes')], valid: [new Uint8Array(32)], call: (a) => wire.exactLength(32)(a as Uint8Array) },
    { name: 'wire.decodeFeatures', params: [p('bytes')], valid: [Uint8Array.of(2)], call: (a) => wire.decodeFeatures(a as Uint8Array) },
    { name: 'wire.encodeFeatures', params: [p('iterable')], valid: [[1, 9]], call: (a) => wire.encodeFeatures(a as number[]) },
    { name: 'wire.featureName', params: [p('number')], valid: [9], call: (a) => wire.featureName(a as number) },
    { name: 'wire.hasFeature', params: [p('bytes'), p('number')], valid: [Uint8Array.of(2), 1], call: (a, b) => wire.hasFeature(a as Uint8Array, b as number) },
    { name: 'wire.isKnownFeature', params: [p('number', { falseForOthers: true })], valid: [9], call: (a) => wire.isKnownFeature(a as number) },
    { name: 'wire.missingDependencies', params: [p('iterable')], valid: [[16]], call: (a) => wire.missingDependencies(a as number[]) },
    { name: 'wire.orFeatures', params: [p('bytes'), p('bytes')], valid: [Uint8Array.of(1), Uint8Array.of(2)], call: (a, b) => wire.orFeatures(a as Uint8Array, b as Uint8Array) },
    { name: 'wire.unknownEvenBits', params: [p('iterable'), opt('iterable')], valid: [[300], [300]], call: (a, b) => wire.unknownEvenBits(a as number[], b as number[]) },
    { name: 'wire.decodeAddress', params: [p('bytes')], valid: [wire.encodeAddress(address as wire.Address)], call: (a) => wire.decodeAddress(a as Uint8Array) },
    { name: 'wire.encodeAddress', params: [p('object', { codes: ['INVALID_ADDRESS'] })], valid: [address], call: (a) => wire.encodeAddress(a as wire.Address) },
    { name: 'wire.formatAddress', params: [p('object', { codes: ['INVALID_ADDRESS'] })], valid: [address], call: (a) => wire.formatAddress(a as wire.Address) },
    { name: 'wire.ipAddress', params: [p('string', { codes: ['INVALID_ADDRESS'] }), p('number', { codes: ['INVALID_ADDRESS'] })], valid: ['203.0.113.7', 9735], call: (a, b) => wire.ipAddress(a as string, b as number) },
    { name: 'wire.isPrivateAddress', params: [p('object', { codes: ['INVALID_ADDRESS'] })], valid: [address], call: (a) => wire.isPrivateAddress(a as wire.Address) },
    { name: 'wire.channelIdOf', params: [p('bytes')], valid: [channelMessage(32, 300)], call: (a) => wire.channelIdOf(a as Uint8Array) },
    { name: 'wire.isBoltMessageType', params: [p('number', { falseForOthers: true })], valid: [16], call: (a) => wire.isBoltMessageType(a as number) },
    { name: 'wire.isChannelMessageType', params: [p('number', { falseForOthers: true })], valid: [32], call: (a) => wire.isChannelMessageType(a as number) },
    { name: 'wire.isGossipMessageType', params: [p('number', { falseForOthers: true })], valid: [256], call: (a) => wire.isGossipMessageType(a as number) },
    { name: 'wire.messageTypeName', params: [p('number')], valid: [16], call: (a) => wire.messageTypeName(a as number) },
    { name: 'wire.messageTypeOf', params: [p('bytes')], valid: [Uint8Array.of(0, 16)], call: (a) => wire.messageTypeOf(a as Uint8Array) },
    { name: 'wire.combinedFeatures', params: [p('object')], valid: [{ globalFeatures: Uint8Array.of(1), features: Uint8Array.of(2) }], call: (a) => wire.combinedFeatures(a as wire.InitMessage) },
    { name: 'wire.decodeError', params: [p('bytes')], valid: [VALID_CONTROL[0]], call: (a) => wire.decodeError(a as Uint8Array) },
    { name: 'wire.decodeInit', params: [p('bytes')], valid: [VALID_INITS[0]], call: (a) => wire.decodeInit(a as Uint8Array) },
    { name: 'wire.decodePing', params: [p('bytes')], valid: [VALID_CONTROL[2]], call: (a) => wire.decodePing(a as Uint8Array) },
    { name: 'wire.decodePong', params: [p('bytes')], valid: [VALID_CONTROL[5]], call: (a) => wire.decodePong(a as Uint8Array) },
    { name: 'wire.decodeWarning', params: [p('bytes')], valid: [VALID_CONTROL[1]], call: (a) => wire.decodeWarning(a as Uint8Array) },
    { name: 'wire.encodeError', params: [p('bytes'), opt('stringOrBytes')], valid: [new Uint8Array(32), 'x'], call: (a, b) => wire.encodeError(a as Uint8Array, b as string) },
    { name: 'wire.encodeWarning', params: [p('bytes'), opt('stringOrBytes')], valid: [new Uint8Array(32), 'x'], call: (a, b) => wire.encodeWarning(a as Uint8Array, b as string) },
    { name: 'wire.encodeInit', params: [p('object')], valid: [{ features: Uint8Array.of(2) }], call: (a) => wire.encodeInit(a as wire.InitFields) },
    { name: 'wire.encodePing', params: [p('number'), opt('number')], valid: [4, 0], call: (a, b) => wire.encodePing(a as number, b as number) },
    { name: 'wire.encodePong', params: [p('number')], valid: [4], call: (a) => wire.encodePong(a as number) },
    { name: 'wire.formatErrorData', params: [p('bytes')], valid: [Uint8Array.of(65)], call: (a) => wire.formatErrorData(a as Uint8Array) },
    { name: 'wire.chainHash', params: [p('string')], valid: ['regtest'], call: (a) => wire.chainHash(a as wire.NetworkName) },
    { name: 'wire.chainLabel', params: [p('bytes')], valid: [CHAIN], call: (a) => wire.chainLabel(a as Uint8Array) },
    { name: 'wire.networkName', params: [p('bytes')], valid: [CHAIN], call: (a) => wire.networkName(a as Uint8Array) },
    { name: 'wire.parseNetwork', params: [p('stringOrBytes')], valid: ['regtest'], call: (a) => wire.parseNetwork(a as string) },
    // noise
    { name: 'noise.keyPair', params: [p('bytes', { codes: ['INVALID_PRIVATE_KEY'] }), opt('object')], valid: [key, undefined], call: (a, b) => noise.keyPair(a as Uint8Array, b as never) },
    { name: 'noise.packetSize', params: [p('number')], valid: [10], call: (a) => noise.packetSize(a as number) },
    { name: 'new noise.InitiatorHandshake', params: [p('object'), p('bytes', { codes: ['INVALID_NODE_ID'] }), opt('object')], valid: [pair, peerKey.publicKey, {}], call: (a, b, c) => new noise.InitiatorHandshake(a as noise.KeyPair, b as Uint8Array, c as never).actOne() },
    { name: 'new noise.ResponderHandshake', params: [p('object'), opt('object')], valid: [peerKey, {}], call: (a, b) => new noise.ResponderHandshake(a as noise.KeyPair, b as never).actOneToTwo(actOne) },
    { name: 'noise.InitiatorHandshake.prototype.actTwoToThree', params: [p('bytes')], valid: [actTwo], call: (a) => afterActOne().i.actTwoToThree(a as Uint8Array) },
    { name: 'noise.ResponderHandshake.prototype.actOneToTwo', params: [p('bytes')], valid: [actOne], call: (a) => new noise.ResponderHandshake(peerKey).actOneToTwo(a as Uint8Array) },
    { name: 'noise.ResponderHandshake.prototype.actThree', params: [p('bytes')], valid: [actThree], call: (a) => afterActOne().r.actThree(a as Uint8Array) },
    { name: 'new noise.CipherState', params: [p('bytes'), p('bytes'), opt('object')], valid: [new Uint8Array(32), new Uint8Array(32), undefined], call: (a, b, c) => new noise.CipherState(a as Uint8Array, b as Uint8Array, c as never).seal(Uint8Array.of(1)) },
    { name: 'noise.CipherState.prototype.seal', params: [p('bytes'), opt('bytes')], valid: [Uint8Array.of(1), undefined], call: (a, b) => cipher().seal(a as Uint8Array, b as Uint8Array) },
    { name: 'noise.CipherState.prototype.sealParts', params: [p('bytes')], valid: [Uint8Array.of(1)], call: (a) => cipher().sealParts(a as Uint8Array) },
    { name: 'noise.CipherState.prototype.open', params: [p('bytes'), opt('bytes')], valid: [cipher().seal(Uint8Array.of(1)), undefined], call: (a, b) => cipher().open(a as Uint8Array, b as Uint8Array) },
    { name: 'new noise.MessageEncryptor', params: [p('object')], valid: [cipher()], call: (a) => new noise.MessageEncryptor(a as noise.CipherState).encrypt(Uint8Array.of(0, 1)) },
    { name: 'noise.MessageEncryptor.prototype.encryptParts', params: [p('bytes')], valid: [Uint8Array.of(0, 1)], call: (a) => new noise.MessageEncryptor(cipher()).encryptParts(a as Uint8Array) },
    { name: 'new noise.MessageDecryptor', params: [p('object')], valid: [cipher()], call: (a) => new noise.MessageDecryptor(a as noise.CipherState).next() },
    {
      name: 'noise.MessageDecryptor.prototype.push',
      params: [p('bytes')],
      valid: [new noise.MessageEncryptor(cipher()).encrypt(Uint8Array.of(0, 1))],
      call: (a) => {
        const d = new noise.MessageDecryptor(cipher());
        d.push(a as Uint8Array);
        return d.next();
      },
    },
    // top level
    { name: 'asConnection', params: [p('object')], valid: [FRESH_CONNECTION], call: (a) => lnpeer.asConnection(fresh(a) as never) },
    { name: 'isConnection', params: [p('any')], valid: [{}], call: (a) => lnpeer.isConnection(a) },
    { name: 'isLnPeerError', params: [p('any'), opt('string', { falseForOthers: true })], valid: [new Error('x'), 'TIMEOUT'], call: (a, b) => lnpeer.isLnPeerError(a, b as LnPeerErrorCode) },
    { name: 'memoryPair', params: [], valid: [], call: () => memoryPair() },
    { name: 'parseNodeId', params: [NODE], valid: [id], call: (a) => parseNodeId(a as string) },
    { name: 'parsePeerAddress', params: [p('string', { codes: ['INVALID_ADDRESS'] })], valid: [`${id}@127.0.0.1:9735`], call: (a) => parsePeerAddress(a as string) },
    { name: 'keyPair', params: [p('bytes', { codes: ['INVALID_PRIVATE_KEY'] }), opt('object')], valid: [key, undefined], call: (a, b) => lnpeer.keyPair(a as Uint8Array, b as never) },
    { name: 'defineMessage', params: [p('object')], valid: [{ name: 'm', type: 0xfff9, fields: { a: 'u16' } }], call: (a) => lnpeer.defineMessage(a as never) },
    { name: 'defineMessage(...).encode', params: [p('object')], valid: [{ a: 1 }], call: (a) => schema.encode(a as never) },
    { name: 'defineMessage(...).decode', params: [p('bytes')], valid: [schema.encode({ a: 1 })], call: (a) => schema.decode(a as Uint8Array) },
    { name: 'fixedBytes', params: [p('number')], valid: [32], call: (a) => lnpeer.defineMessage({ name: 'f', type: 0xfff9, fields: { f: lnpeer.fixedBytes(a as number) } }) },
    { name: 'arrayOf', params: [p('string'), p('string')], valid: ['u16', 'n'], call: (a, b) => lnpeer.defineMessage({ name: 'f', type: 0xfff9, fields: { n: 'u16', f: lnpeer.arrayOf(a as 'u16', b as string) } }) },
    { name: 'restOf', params: [p('string')], valid: ['u16'], call: (a) => lnpeer.defineMessage({ name: 'f', type: 0xfff9, fields: {}, tlvs: { t: { type: 1, value: lnpeer.restOf(a as 'u16') } } }) },
    { name: 'new CustomMessage', params: [p('number', { codes: ['INVALID_TYPE'] }), opt('bytes')], valid: [0xfffb, Uint8Array.of(1)], call: (a, b) => new CustomMessage(a as number, b as Uint8Array) },
    { name: 'CustomMessage.decode', params: [MSG], valid: ['fffb01'], call: (a) => CustomMessage.decode(a as string) },
    { name: 'CustomMessage.validate', params: [MSG, opt('object')], valid: ['fffa01', { evenTypes: [0xfffa] }], call: (a, b) => CustomMessage.validate(a as string, b as never) },
    { name: 'new PeerManager', params: [opt('object')], valid: [{}], call: (a) => new PeerManager(a as never).close() },
    {
      name: 'PeerManager.prototype.listen',
      params: [opt('object', { wrongTypesOnly: true })],
      valid: [{ port: 0 }],
      // A listen() that accepts its argument binds a port (9735 by default): close it at once.
      call: async (a) => {
        const m = new PeerManager();
        try {
          return await m.listen(a as never);
        } finally {
          await m.close();
        }
      },
    },
    { name: 'PeerManager.prototype.connect', params: [p('hexOrBytes', { codes: ['INVALID_ADDRESS', 'INVALID_NODE_ID'] }), opt('stringOrObject', { codes: ['INVALID_ADDRESS'] }), opt('object')], valid: [id, { host: '127.0.0.1', port: 1 }, { timeoutMs: 100 }], call: (a, b, c) => pm.connect(a as string, b as string, c as never) },
    { name: 'PeerManager.prototype.connectStream', params: [p('object'), NODE, opt('object')], valid: [FRESH_CONNECTION, peerKey.publicKey, { timeoutMs: 50 }], call: (a, b, c) => pm.connectStream(fresh(a) as never, b as string, c as never) },
    { name: 'PeerManager.prototype.accept', params: [p('object'), opt('object', { codes: ['INVALID_ADDRESS'] })], valid: [FRESH_CONNECTION, { host: 'memory', port: 2 }], call: (a, b) => pm.accept(fresh(a) as never, b as never) },
    { name: 'PeerManager.prototype.sendCustomMsg', params: [NODE, MSG, opt('object')], valid: [id, 'fffb01', {}], call: (a, b, c) => pm.sendCustomMsg(a as string, b as string, c as never) },
    { name: 'PeerManager.prototype.ping', params: [NODE, opt('object')], valid: [id, { pongBytes: 1 }], call: (a, b) => pm.ping(a as string, b as never) },
    { name: 'PeerManager.prototype.messages', params: [opt('object')], valid: [{ type: 0xfffb }], call: (a) => pm.messages(a as never).return?.() },
    { name: 'PeerManager.prototype.send', params: [NODE, p('object'), p('any'), opt('object')], valid: [id, schema, { a: 1 }, {}], call: (a, b, c, d) => pm.send(a as string, b as never, c as never, d as never) },
    { name: 'PeerManager.prototype.nextMessage', params: [opt('object')], valid: [{ timeoutMs: 10 }], call: (a) => pm.nextMessage(a as never) },
    { name: 'PeerManager.prototype.pause', params: [NODE], valid: [id], call: (a) => (pm.pause(a as string), pm.resume(a as string)) },
    { name: 'PeerManager.prototype.resume', params: [NODE], valid: [id], call: (a) => pm.resume(a as string) },
    { name: 'PeerManager.prototype.peer', params: [NODE], valid: [id], call: (a) => pm.peer(a as string) },
    { name: 'PeerManager.prototype.disconnect', params: [NODE, opt('object')], valid: [peerKey.publicKey, {}], call: (a, b) => pm.disconnect(a as string, b as never) },
    { name: 'Peer.initiator', params: [p('object'), p('object', { codes: ['INVALID_NODE_ID'] })], valid: [FRESH_CONNECTION, { peerId: peerKey.publicKey, localKey: key }], call: (a, b) => Peer.initiator(fresh(a) as never, b as never).close() },
    { name: 'Peer.responder', params: [p('object'), p('object')], valid: [FRESH_CONNECTION, { localKey: key }], call: (a, b) => Peer.responder(fresh(a) as never, b as never).close() },
    { name: 'Peer.connect', params: [p('object', { codes: ['INVALID_NODE_ID'] })], valid: [{ host: '127.0.0.1', port: 1, peerId: peerKey.publicKey, localKey: key }], call: (a) => Peer.connect(a as never) },
    { name: 'Peer.prototype.send', params: [p('bytes')], valid: [Uint8Array.of(0xff, 0xfb)], call: (a) => rawPeer.send(a as Uint8Array) },
    // On a fresh peer each time: closing the shared one would leave nothing to call the others on.
    { name: 'Peer.prototype.close', params: [opt('string')], valid: [undefined], call: (a) => Peer.responder(memoryPair()[0], { localKey: key }).close(a as string) },
    { name: 'new Commando', params: [p('object'), opt('object')], valid: [pm, {}], call: (a, b) => new lnpeer.Commando(a as never, b as never).close() },
    { name: 'Commando.prototype.call', params: [NODE, p('object'), opt('object')], valid: [id, { method: 'getinfo', rune: 'x' }, { timeoutMs: 10 }], call: (a, b, c) => commando.call(a as string, b as never, c as never) },
    { name: 'commandoSlices', params: [p('string'), p('bytes'), p('bytes')], valid: ['request', new Uint8Array(8), Uint8Array.of(123, 125)], call: (a, b, c) => lnpeer.commandoSlices(a as 'request', b as Uint8Array, c as Uint8Array) },
    { name: 'new Lsps0Client', params: [p('object'), opt('object')], valid: [pm, {}], call: (a, b) => new lnpeer.Lsps0Client(a as never, b as never).close() },
    { name: 'Lsps0Client.prototype.call', params: [NODE, p('object'), opt('object')], valid: [id, { method: 'lsps0.list_protocols' }, { timeoutMs: 10 }], call: (a, b, c) => lsps0.call(a as string, b as never, c as never) },
    { name: 'Lsps0Client.prototype.listProtocols', params: [NODE, opt('object')], valid: [id, { timeoutMs: 10 }], call: (a, b) => lsps0.listProtocols(a as string, b as never) },
    { name: 'Lsps0Client.prototype.notify', params: [NODE, p('string'), opt('object'), opt('object')], valid: [id, 'lsps9.x', {}, { timeoutMs: 10 }], call: (a, b, c, d) => lsps0.notify(a as string, b as string, c as never, d as never) },
    { name: 'Lsps0Client.prototype.advertisesLsps', params: [NODE], valid: [id], call: (a) => lsps0.advertisesLsps(a as string) },
    { name: 'Lsps0Client.prototype.stoppedReason', params: [NODE], valid: [id], call: (a) => lsps0.stoppedReason(a as string) },
    { name: 'Lsps0Error.invalidParams', params: [p('array'), opt('object')], valid: [['x'], {}], call: (a, b) => lnpeer.Lsps0Error.invalidParams(a as string[], b as never) },
    { name: 'new Lsps0Server', params: [p('object'), opt('object')], valid: [other, {}], call: (a, b) => new lnpeer.Lsps0Server(a as never, b as never).close() },
    { name: 'Lsps0Server.prototype.isClient', params: [NODE], valid: [pm.nodeId], call: (a) => lsps0Server.isClient(a as string) },
    { name: 'Lsps0Server.prototype.inFlight', params: [NODE], valid: [pm.nodeId], call: (a) => lsps0Server.inFlight(a as string) },
    { name: 'Lsps0Server.prototype.notify', params: [NODE, p('string'), opt('object'), opt('object')], valid: [pm.nodeId, 'lsps9.x', {}, { timeoutMs: 10 }], call: (a, b, c, d) => lsps0Server.notify(a as string, b as string, c as never, d as never) },
    { name: 'parseProxyUrl', params: [p('string')], valid: ['socks5://127.0.0.1:9050'], call: (a) => lnpeer.parseProxyUrl(a as string) },
    { name: 'cryptoInUse', params: [], valid: [], call: () => lnpeer.cryptoInUse() },
    { name: 'sodiumNativeAead', params: [p('object')], valid: [{ crypto_aead_chacha20poly1305_ietf_encrypt: () => 0, crypto_aead_chacha20poly1305_ietf_decrypt: () => 0 }], call: (a) => lnpeer.sodiumNativeAead(a as never) },
    { name: 'sizeSwitchedAead', params: [p('object'), p('object')], valid: [lnpeer.aeadBackends[0], lnpeer.aeadBackends[0]], call: (a, b) => lnpeer.sizeSwitchedAead(a as never, b as never) },
    { name: 'libsodiumAead', params: [p('object')], valid: [{ crypto_aead_chacha20poly1305_ietf_encrypt: () => new Uint8Array(16), crypto_aead_chacha20poly1305_ietf_decrypt: () => new Uint8Array(0) }], call: (a) => lnpeer.libsodiumAead(a as never) },
    { name: 'libsecp256k1WasmCurve', params: [p('object')], valid: [{ pointFromScalar: () => null, pointMultiply: () => null, isPoint: () => false }], call: (a) => lnpeer.libsecp256k1WasmCurve(a as never) },
    {
      name: 'useCrypto',
      params: [p('object')],
      valid: [{}],
      call: (a) => {
        // The backends are process-wide: put back the ones in use whatever happens.
        const before = lnpeer.cryptoInUse();
        try {
          return lnpeer.useCrypto(a as never);
        } finally {
          lnpeer.useCrypto({ aead: lnpeer.aeadBackends.find((x) => x.name === before.aead), curve: lnpeer.curveBackends.find((x) => x.name === before.curve) });
        }
      },
    },
    { name: 'wire.parseOnionAddress', params: [p('string', { codes: ['INVALID_ADDRESS'] })], valid: [wire.encodeOnionAddress(new Uint8Array(32).fill(7))], call: (a) => wire.parseOnionAddress(a as string) },
    { name: 'wire.isOnionAddress', params: [p('any')], valid: ['x.onion'], call: (a) => wire.isOnionAddress(a) },
    { name: 'wire.encodeOnionAddress', params: [p('bytes')], valid: [new Uint8Array(32).fill(7)], call: (a) => wire.encodeOnionAddress(a as Uint8Array) },
    { name: 'wire.onionBytes', params: [p('bytes')], valid: [new Uint8Array(32).fill(7)], call: (a) => wire.onionBytes(a as Uint8Array) },
    { name: 'wire.decodeOnionBytes', params: [p('bytes', { codes: ['INVALID_ADDRESS', 'INVALID_ADDRESS_DESCRIPTOR'] })], valid: [wire.onionBytes(new Uint8Array(32).fill(7))], call: (a) => wire.decodeOnionBytes(a as Uint8Array) },
    { name: 'new Requests', params: [p('object'), opt('object')], valid: [pm, {}], call: (a, b) => new Requests(a as never, b as never).close() },
    { name: 'Requests.prototype.request', params: [p('string', { codes: ['PEER_NOT_CONNECTED'] }), MSG, p('object')], valid: [id, 'fffb01', { match: () => false, timeoutMs: 10 }], call: (a, b, c) => requests.request(a as string, b as string, c as never) },
    { name: 'Requests.prototype.send', params: [p('string', { codes: ['PEER_NOT_CONNECTED'] }), p('object'), p('function')], valid: [id, { match: () => false, timeoutMs: 10 }, () => Promise.resolve()], call: (a, b, c) => requests.send(a as string, b as never, c as never) },
    // Last: a wrong-typed message here breaks every later encryption in the process (see the check after each case).
    { name: 'noise.MessageEncryptor.prototype.encrypt', params: [p('bytes')], valid: [Uint8Array.of(0, 1)], call: (a) => new noise.MessageEncryptor(cipher()).encrypt(a as Uint8Array) },
  ];
  return {
    list,
    cleanup: async () => {
      requests.close();
      commando.close();
      lsps0.close();
      lsps0Server.close();
      await rawPeer.close();
      await Promise.all([pm.close(), other.close()]);
    },
  };
}

/** The methods that take no argument, and the classes and predicates that need no check. */
const NO_ARGUMENTS = new Set([
  'PeerManager.prototype.peers',
  'PeerManager.prototype.close',
  'Peer.prototype.ready',
  'Peer.prototype.pause',
  'Peer.prototype.resume',
  'CustomMessage.prototype.warnings',
  'CustomMessage.prototype.encode',
  'CustomMessage.prototype.toHex',
  'Requests.prototype.close',
  'noise.InitiatorHandshake.prototype.actOne',
  'noise.MessageDecryptor.prototype.next',
  // Error classes: constructing one never throws, whatever it is given.
  'new LnPeerError',
  'new Lsps0Error',
  'Commando.prototype.close',
  'Lsps0Client.prototype.close',
  'Lsps0Server.prototype.close',
  // Private in TypeScript: Peer.initiator, Peer.responder and Peer.connect are the way in.
  'new Peer',
  'noise.CipherState.prototype.advance',
]);

/** Every function the package exports, and every public method and static method of its classes, by name. */
function exportedFunctions(): string[] {
  const names: string[] = [];
  const add = (prefix: string, value: unknown, key: string) => {
    if (typeof value !== 'function') return;
    const isClass = /^class\b/.test(Function.prototype.toString.call(value));
    if (!isClass) {
      names.push(`${prefix}${key}`);
      return;
    }
    names.push(`new ${prefix}${key}`);
    for (const m of Object.getOwnPropertyNames(value)) {
      if (['length', 'name', 'prototype'].includes(m)) continue;
      if (typeof (value as unknown as Record<string, unknown>)[m] === 'function') names.push(`${prefix}${key}.${m}`);
    }
    const proto = (value as { prototype: object }).prototype;
    for (const m of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, m)!;
      if (m !== 'constructor' && typeof d.value === 'function') names.push(`${prefix}${key}.prototype.${m}`);
    }
  };
  for (const [k, v] of Object.entries(lnpeer)) add('', v, k);
  for (const [k, v] of Object.entries(wire)) add('wire.', v, k);
  for (const [k, v] of Object.entries(noise)) add('noise.', v, k);
  return names;
}

/** What a call did, as the failure list shows it. */
async function outcome(call: () => unknown): Promise<{ threw?: unknown; returned?: unknown }> {
  try {
    const value = call();
    if (value && typeof (value as Promise<unknown>).then === 'function') {
      // A promise: its rejection counts as a throw; one still pending after 20 ms counts as a return
      // (argument checks reject at once).
      const settled = await within(
        20,
        (value as Promise<unknown>).then(
          (v) => ({ returned: v }),
          (e: unknown) => ({ threw: e }),
        ),
      );
      return (settled as { threw?: unknown; returned?: unknown } | undefined) ?? { returned: 'a pending promise' };
    }
    return { returned: value };
  } catch (err) {
    return { threw: err };
  }
}

describe('wrong argument types: every exported function throws LnPeerError INVALID_ARGUMENT', async () => {
  const { list, cleanup } = await specs();
  it('has a case for every exported function and method', () => {
    const covered = new Set([...list.map((s) => s.name), ...NO_ARGUMENTS]);
    const missing = exportedFunctions().filter((name) => !covered.has(name) && !covered.has(name.replace(/^new /, '')));
    assert.deepEqual(missing, [], 'exported functions without a wrong-type case in test/unit/fuzz.test.ts');
  });
  for (const spec of list) {
    it(spec.name, async (t) => {
      const violations: string[] = [];
      for (const [index, param] of spec.params.entries()) {
        for (const [label, value] of VALUES) {
          const rightType = RIGHT_TYPE[param.kind](value) || (param.optional && value === undefined);
          if (rightType && param.wrongTypesOnly) continue;
          const args = [...spec.valid];
          args[index] = value;
          const { threw, returned } = await outcome(() => spec.call(...args));
          const where = `argument ${index + 1} = ${label}`;
          if (threw !== undefined && !(threw instanceof LnPeerError)) violations.push(`${where}: threw ${describeError(threw)}`);
          else if (rightType) continue;
          else if (threw === undefined && param.falseForOthers && returned === false) continue;
          else if (threw === undefined) violations.push(`${where}: returned ${describeValue(returned)} instead of throwing`);
          else if (threw instanceof LnPeerError && threw.code !== 'INVALID_ARGUMENT' && !param.codes?.includes(threw.code)) violations.push(`${where}: threw LnPeerError ${threw.code} (${threw.message.slice(0, 80)}), not INVALID_ARGUMENT`);
        }
      }
      // lnpeer's packets come from one slab shared by every connection: a call must not leave it unusable.
      try {
        new noise.MessageEncryptor(new noise.CipherState(new Uint8Array(32), new Uint8Array(32))).encrypt(Uint8Array.of(0xff, 0xfb));
      } catch (err) {
        violations.push(`after these calls every encryption in the process fails (${describeError(err)}): every peer's sends, pongs and init fail from now on`);
      }
      for (const v of violations) t.diagnostic(`${spec.name}: ${v}`);
      assert.deepEqual(violations, [], `${spec.name}: ${violations.length} calls with a wrong argument type did not throw LnPeerError INVALID_ARGUMENT`);
    });
  }
  it('cleans up', cleanup);
});

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v instanceof Uint8Array) return `bytes ${hex(v)}`;
  if (typeof v === 'object' && v !== null) return `an object (${v.constructor?.name ?? 'Object'})`;
  return `${typeof v} ${String(v).slice(0, 40)}`;
}
