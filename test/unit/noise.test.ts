// BOLT 8 Appendix A test vectors, byte for byte, through every AEAD backend; plus the
// stream decoder under arbitrary chunkings and corruption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { aeadBackends, cryptoReady, curveBackends, nobleAead, type Aead, type Curve } from '../../src/crypto/index.js';
import { LnPeerError } from '../../src/errors.js';
import sodium from 'libsodium-wrappers';
import { libsodiumAead, ONE_SHOT_AEAD_BELOW } from '../../src/crypto/accelerators.js';
import { fromHex, toHex } from '../../src/bytes.js';
import {
  CipherState,
  InitiatorHandshake,
  MessageDecryptor,
  MessageEncryptor,
  ResponderHandshake,
  keyPair,
  type HandshakeResult,
} from '../../src/noise/index.js';

/** Pushes a chunk into `decryptor` and hands every whole message it completes to `onMessage`. */
function feed(decryptor: MessageDecryptor, chunk: Uint8Array, onMessage: (m: Uint8Array) => void): void {
  decryptor.push(chunk);
  for (let m = decryptor.next(); m; m = decryptor.next()) onMessage(m);
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/bolt8.json', import.meta.url), 'utf8'));
const ini = vectors.initiator_successful_handshake;
const res = vectors.responder_successful_handshake;
const msg = vectors.message_encryption;
const hex = (s: string) => fromHex(s, 'vector');

const ERROR_KINDS: Record<string, { reason: string; act: number; stage: 'handshake' }> = {
  ACT1_READ_FAILED: { reason: 'SHORT_READ', act: 1, stage: 'handshake' },
  ACT1_BAD_VERSION: { reason: 'BAD_VERSION', act: 1, stage: 'handshake' },
  ACT1_BAD_PUBKEY: { reason: 'BAD_PUBKEY', act: 1, stage: 'handshake' },
  ACT1_BAD_TAG: { reason: 'BAD_TAG', act: 1, stage: 'handshake' },
  ACT2_READ_FAILED: { reason: 'SHORT_READ', act: 2, stage: 'handshake' },
  ACT2_BAD_VERSION: { reason: 'BAD_VERSION', act: 2, stage: 'handshake' },
  ACT2_BAD_PUBKEY: { reason: 'BAD_PUBKEY', act: 2, stage: 'handshake' },
  ACT2_BAD_TAG: { reason: 'BAD_TAG', act: 2, stage: 'handshake' },
  ACT3_READ_FAILED: { reason: 'SHORT_READ', act: 3, stage: 'handshake' },
  ACT3_BAD_VERSION: { reason: 'BAD_VERSION', act: 3, stage: 'handshake' },
  ACT3_BAD_CIPHERTEXT: { reason: 'BAD_CIPHERTEXT', act: 3, stage: 'handshake' },
  ACT3_BAD_PUBKEY: { reason: 'BAD_PUBKEY', act: 3, stage: 'handshake' },
  ACT3_BAD_TAG: { reason: 'BAD_TAG', act: 3, stage: 'handshake' },
};

function assertHandshakeError(fn: () => unknown, kind: string): void {
  const expected = ERROR_KINDS[kind];
  assert.ok(expected, `unmapped error kind ${kind}`);
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LnPeerError);
    assert.equal(err.code, 'HANDSHAKE_FAILED');
    assert.deepEqual(err.details, expected);
    assert.match(err.message, new RegExp(`act ${expected.act}`));
    return true;
  });
}

/** The packet for "hello" number `index` (zero-based) from a fresh cipher state. */
function helloPackets(cipher: CipherState, count: number): string[] {
  const encryptor = new MessageEncryptor(cipher);
  const hello = hex(msg.plaintext_hex);
  return Array.from({ length: count }, () => toHex(encryptor.encrypt(hello)));
}

function assertVectorPackets(packets: string[]): void {
  for (const { message_index, packet } of msg.outputs) assert.equal(packets[message_index], packet, `message ${message_index}`);
}

function initiator(aead: Aead, curve: Curve): InitiatorHandshake {
  return new InitiatorHandshake(keyPair(hex(ini.local_static_privkey), curve), hex(ini.remote_static_pubkey), { ephemeralPrivateKey: hex(ini.local_ephemeral_privkey), aead, curve });
}

function responder(aead: Aead, curve: Curve): ResponderHandshake {
  return new ResponderHandshake(keyPair(hex(res.local_static_privkey), curve), { ephemeralPrivateKey: hex(res.local_ephemeral_privkey), aead, curve });
}

// The accelerators lnpeer loads by itself on Node are among aeadBackends/curveBackends (the
// wasm libsodium once cryptoReady resolves); the bare wasm libsodium is one an application
// hands to useCrypto() (in a browser): it is checked too.
await Promise.all([sodium.ready, cryptoReady]);
const aeads = [...aeadBackends, libsodiumAead(sodium)];

describe('every AEAD backend', () => {
  it('is on Node: libsodium (wasm) for small messages, node:crypto for large ones, by itself', () => {
    assert.ok(aeadBackends.some((a) => a.name === `libsodium-wrappers (libsodium, wasm) below 2 KiB, node:crypto above`), aeadBackends.map((a) => a.name).join('; '));
  });

  it("seals and opens as noble's does, on each side of the one-shot threshold and at the largest size", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const ad = Uint8Array.of(1, 2, 3);
    for (const size of [0, 2, ONE_SHOT_AEAD_BELOW - 1, ONE_SHOT_AEAD_BELOW, 65535]) {
      const plaintext = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
      const expected = toHex(nobleAead.seal(key, 5, ad, plaintext));
      for (const aead of aeads) {
        assert.equal(toHex(aead.seal(key, 5, ad, plaintext)), expected, `${aead.name} seals ${size} bytes`);
        const parts = aead.sealParts?.(key, 5, ad, plaintext);
        if (parts) assert.equal(parts.map(toHex).join(''), expected, `${aead.name} sealParts ${size} bytes`);
        assert.equal(toHex(aead.open(key, 5, ad, fromHex(expected, 'sealed'))!), toHex(plaintext), `${aead.name} opens ${size} bytes`);
      }
    }
  });
});
const backends = aeads.flatMap((aead) => curveBackends.map((curve) => ({ aead, curve })));
assert.ok(backends.length >= 2, 'at least the noble backends');

for (const { aead, curve } of backends) {
  describe(`BOLT 8 vectors with ${aead.name} and ${curve.name}`, () => {
    it('initiator: acts one and three, then sk encrypts the spec messages', () => {
      const hs = initiator(aead, curve);
      assert.equal(toHex(hs.actOne()), ini.act_one.output);
      const { actThree, result } = hs.actTwoToThree(hex(ini.act_two.input));
      assert.equal(toHex(actThree), ini.act_three.output);
      assert.equal(toHex(result.remoteStaticKey), ini.remote_static_pubkey);
      // sk and sck are right iff the packets match byte for byte, rotations included.
      assertVectorPackets(helloPackets(result.sending, 1002));
    });

    it('responder: act two, the initiator static key, and rk decrypts the spec messages', () => {
      const hs = responder(aead, curve);
      assert.equal(toHex(hs.actOneToTwo(hex(res.act_one.input))), res.act_two.output);
      const result: HandshakeResult = hs.actThree(hex(res.act_three.input));
      assert.equal(toHex(result.remoteStaticKey), ini.local_static_pubkey);
      const reference = helloPackets(new CipherState(hex(res.result.sending_key_sk), hex(res.result.chaining_key_ck_for_both_sck_and_rck), aead), 3);
      assert.deepEqual(helloPackets(result.sending, 3), reference);
      const received: string[] = [];
      const decryptor = new MessageDecryptor(result.receiving);
      for (const packet of helloPackets(new CipherState(hex(msg.sending_key_sk), hex(msg.chaining_key_ck), aead), 1002)) {
        feed(decryptor, hex(packet), (m) => received.push(toHex(m)));
      }
      assert.equal(received.length, 1002);
      assert.ok(received.every((m) => m === msg.plaintext_hex));
    });

    it('message encryption: packets 0, 1, 500, 501, 1000, 1001 across two key rotations', () => {
      assertVectorPackets(helloPackets(new CipherState(hex(msg.sending_key_sk), hex(msg.chaining_key_ck), aead), 1002));
    });

    for (const c of vectors.initiator_failure_cases) {
      it(`initiator fails: ${c.name}`, () => {
        const hs = initiator(aead, curve);
        assert.equal(toHex(hs.actOne()), c.act_one_output);
        assertHandshakeError(() => hs.actTwoToThree(hex(c.act_two_input)), c.expected_error);
      });
    }

    for (const c of vectors.responder_failure_cases) {
      it(`responder fails: ${c.name}`, () => {
        const hs = responder(aead, curve);
        if (c.failing_act === 'act_one') {
          assertHandshakeError(() => hs.actOneToTwo(hex(c.act_one_input)), c.expected_error);
          return;
        }
        assert.equal(toHex(hs.actOneToTwo(hex(c.act_one_input))), c.act_two_output);
        assertHandshakeError(() => hs.actThree(hex(c.act_three_input)), c.expected_error);
      });
    }
  });
}

describe('MessageDecryptor', () => {
  const key = hex(msg.sending_key_sk);
  const ck = hex(msg.chaining_key_ck);
  const pair = () => ({ encryptor: new MessageEncryptor(new CipherState(key, ck)), decryptor: new MessageDecryptor(new CipherState(key, ck)) });

  // Deterministic pseudo-random source so a failure can be replayed.
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  function sampleMessages(rand: () => number): Uint8Array[] {
    const sizes = [2, 3, 100, 1000, 65535, 17, 2, 4096];
    return Array.from({ length: 1200 }, (_, i) => {
      const m = new Uint8Array(i < sizes.length ? sizes[i] : 2 + Math.floor(rand() * 300));
      for (let j = 0; j < m.length; j++) m[j] = (i * 31 + j) & 0xff;
      return m;
    });
  }

  function concatAll(parts: Uint8Array[]): Uint8Array {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  it('gives the same messages for every chunking: whole stream, random cuts, one byte at a time', () => {
    const rand = prng(42);
    const messages = sampleMessages(rand);
    const { encryptor } = pair();
    const stream = concatAll(messages.map((m) => encryptor.encrypt(m)));
    const chunkings: Array<(s: Uint8Array) => Uint8Array[]> = [
      (s) => [s],
      (s) => {
        const cuts: Uint8Array[] = [];
        for (let off = 0; off < s.length; ) {
          const n = 1 + Math.floor(rand() * 70000);
          cuts.push(s.slice(off, off + n));
          off += n;
        }
        return cuts;
      },
      (s) => Array.from(s.subarray(0, 200_000), (b) => Uint8Array.of(b)).concat([s.slice(200_000)]),
    ];
    for (const chunk of chunkings) {
      const { decryptor } = pair();
      const got: Uint8Array[] = [];
      for (const c of chunk(stream)) feed(decryptor, c, (m) => got.push(m));
      assert.equal(got.length, messages.length);
      got.forEach((m, i) => assert.deepEqual(m, messages[i], `message ${i}`));
      assert.equal(decryptor.buffered, 0);
    }
  });

  it('refuses a corrupted byte anywhere, then refuses all further input', () => {
    const rand = prng(7);
    const { encryptor } = pair();
    const packets = [10, 65535, 3].map((n) => encryptor.encrypt(new Uint8Array(n)));
    const stream = concatAll(packets);
    for (let trial = 0; trial < 40; trial++) {
      const bad = stream.slice();
      const at = Math.floor(rand() * bad.length);
      bad[at] ^= 1 + Math.floor(rand() * 255);
      const { decryptor } = pair();
      let delivered = 0;
      assert.throws(
        () => feed(decryptor, bad, () => delivered++),
        (err: unknown) => err instanceof LnPeerError && err.code === 'DECRYPT_FAILED' && /does not authenticate/.test(err.message),
        `corruption at byte ${at}`,
      );
      // Packets before the corrupted one are delivered; nothing after it.
      let start = 0;
      const before = packets.findIndex((p) => (start += p.length) > at);
      assert.equal(delivered, before);
      assert.throws(() => feed(decryptor, new Uint8Array(1), () => {}), { code: 'DECRYPT_FAILED' });
    }
  });

  it('refuses to encrypt a message over 65535 bytes', () => {
    const { encryptor } = pair();
    assert.throws(() => encryptor.encrypt(new Uint8Array(65536)), (err: unknown) => err instanceof LnPeerError && err.code === 'MESSAGE_TOO_LONG' && /65536 bytes.*65535/.test(err.message));
  });
});

describe('argument checks at the boundary', () => {
  const key = hex(msg.sending_key_sk);
  const ck = hex(msg.chaining_key_ck);

  it('a message of the wrong type is refused before the shared packet slab is touched: every other encryptor keeps working', () => {
    const bad = new MessageEncryptor(new CipherState(key, ck));
    for (const wrong of [0, undefined, 'fffb', { length: 2 }, [1, 2]]) {
      assert.throws(() => bad.encrypt(wrong as never), { code: 'INVALID_ARGUMENT' });
      assert.throws(() => bad.encryptParts(wrong as never), { code: 'INVALID_ARGUMENT' });
    }
    // Another connection's encryptor and decryptor, through more than one 8 KiB slab of packets.
    const encryptor = new MessageEncryptor(new CipherState(key, ck));
    const decryptor = new MessageDecryptor(new CipherState(key, ck));
    const received: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) feed(decryptor, encryptor.encrypt(Uint8Array.of(0xff, 0xfb, i & 0xff, i >> 8)), (m) => received.push(m.slice()));
    assert.equal(received.length, 400);
    assert.ok(received.every((m, i) => toHex(m) === toHex(Uint8Array.of(0xff, 0xfb, i & 0xff, i >> 8))));
  });

  it('CipherState refuses keys and output buffers of the wrong size, and a MessageDecryptor a chunk that is not bytes', () => {
    assert.throws(() => new CipherState(new Uint8Array(31), ck), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new CipherState(key, ck).seal(new Uint8Array(4), new Uint8Array(19)), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /20 bytes/.test(e.message));
    assert.throws(() => new CipherState(key, ck).open(new Uint8Array(20), new Uint8Array(5)), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /4 bytes/.test(e.message));
    assert.throws(() => new MessageDecryptor(new CipherState(key, ck)).push('00' as never), { code: 'INVALID_ARGUMENT' });
  });

  for (const aead of aeads) {
    it(`handshake acts out of order fail with HANDSHAKE_FAILED OUT_OF_ORDER (${aead.name}); a short act can be given again`, () => {
      const curve = curveBackends[0];
      const outOfOrder = (fn: () => unknown, act: number) =>
        assert.throws(fn, (e: unknown) => e instanceof LnPeerError && e.code === 'HANDSHAKE_FAILED' && e.details.reason === 'OUT_OF_ORDER' && e.details.act === act);
      outOfOrder(() => responder(aead, curve).actThree(new Uint8Array(66)), 3);
      const early = initiator(aead, curve);
      outOfOrder(() => early.actTwoToThree(hex(ini.act_two.input)), 2);
      const hs = initiator(aead, curve);
      hs.actOne();
      outOfOrder(() => hs.actOne(), 1);
      const r = responder(aead, curve);
      assertHandshakeError(() => r.actOneToTwo(hex(res.act_one.input).subarray(0, 49)), 'ACT1_READ_FAILED');
      assert.equal(toHex(r.actOneToTwo(hex(res.act_one.input))), res.act_two.output);
      outOfOrder(() => r.actOneToTwo(hex(res.act_one.input)), 1);
      assert.equal(toHex(r.actThree(hex(res.act_three.input)).remoteStaticKey), ini.local_static_pubkey);
      outOfOrder(() => r.actThree(hex(res.act_three.input)), 3);
    });
  }
});
