// Tor v3 onion addresses (rend-spec-v3 [ONIONADDRESS]) and BOLT 7 address type 4.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/bytes.js';
import { LnPeerError, type LnPeerErrorCode } from '../../src/errors.js';
import { decodeAddress, encodeAddress } from '../../src/wire/address.js';
import { decodeOnionBytes, encodeOnionAddress, isOnionAddress, onionBytes, parseOnionAddress } from '../../src/wire/onion.js';

const hex = (text: string): Uint8Array => fromHex(text, 'test vector');

function throwsCode(fn: () => unknown, code: LnPeerErrorCode, message?: RegExp): LnPeerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof LnPeerError, `expected an LnPeerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

// Tor's src/test/test_hs_common.c, test_build_address: the ed25519 key of
// draft-josefsson-eddsa-ed25519-02 §6 test 1 (hs_build_address.py), and its address.
const TOR_PUBKEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const TOR_ADDRESS = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion';
/** Its CHECKSUM: SHA3-256(".onion checksum" | PUBKEY | 03)[:2], computed with Python's hashlib. */
const TOR_CHECKSUM = 'bec9';

/**
 * Known-good addresses and their public keys. The keys are the base32 decoding of the address
 * (checked independently with Python's base64 and hashlib.sha3_256).
 */
const VALID: [string, string, string][] = [
  // [source, address, public key]
  ['test_hs_common.c test_build_address', TOR_ADDRESS, TOR_PUBKEY],
  // Tor 0.3.2's test_build_address: a key of 32 bytes 0x42.
  ['test_hs_common.c (0.3.2) test_build_address', 'ijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbezhid.onion', '42'.repeat(32)],
  // Tor 0.3.2's test_validate_address "Valid address".
  ['test_hs_common.c (0.3.2) test_validate_address', 'p3xnclpu4mu22dwaurjtsybyqk4xfjmcfz6z62yl24uwmhjatiwnlnad.onion', '7eeed12df4e329ad0ec0a45339603882b972a5822e7d9f6b0bd729661d209a2c'],
  // rend-spec-v3 [ONIONADDRESS] "Here are a few example addresses".
  ['rend-spec-v3 example 1', 'pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion', '79bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f'],
  ['rend-spec-v3 example 2', 'sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion', '93f6ad7b54b6391d2b78147a0b2e808e143780de07f1bda6ee7f052d2e9da67b'],
  ['rend-spec-v3 example 3', 'xa4r2iadxm55fbnqgwwi5mymqdcofiu3w6rpbtqn7b2dyn7mgwj64jyd.onion', 'b8391d2003bb3bd285b035ac8eb30c80c4e2a29bb7a2f0ce0df8743c37ec3593'],
];

describe('Tor v3 onion addresses', () => {
  it("encodes Tor's test vector byte for byte", () => {
    assert.equal(encodeOnionAddress(hex(TOR_PUBKEY)), TOR_ADDRESS);
    // PUBKEY | CHECKSUM | VERSION, the 35 bytes BOLT 7 type 4 carries.
    assert.equal(toHex(onionBytes(hex(TOR_PUBKEY))), `${TOR_PUBKEY}${TOR_CHECKSUM}03`);
  });

  for (const [source, address, publicKey] of VALID) {
    it(`parses and re-encodes ${source}`, () => {
      const parsed = parseOnionAddress(address);
      assert.equal(toHex(parsed.publicKey), publicKey);
      assert.equal(parsed.version, 3);
      assert.equal(parsed.host, address);
      assert.equal(encodeOnionAddress(hex(publicKey)), address);
      assert.equal(isOnionAddress(address), true);
      assert.deepEqual(decodeOnionBytes(onionBytes(hex(publicKey))), parsed);
    });
  }

  it('accepts any case and returns the lowercase host', () => {
    const parsed = parseOnionAddress(TOR_ADDRESS.toUpperCase());
    assert.equal(parsed.host, TOR_ADDRESS);
    assert.equal(toHex(parsed.publicKey), TOR_PUBKEY);
    assert.equal(isOnionAddress('25NJQAMCWEFLPVKL73J4SZAHHIHOC4XT3KTCGJNPAINGR5YHKENL5SID.Onion'), true);
  });

  it('refuses a checksum mismatch as a typo (Tor test_validate_address, from prop224)', () => {
    for (const address of ['l5satjgud6gucryazcyvyvhuxhr74u6ygigiuyixe3a6ysis67ororad.onion', 'btojiu7nu5y5iwut64eufevogqdw4wmqzugnoluw232r4t3ecsfv37ad.onion']) {
      throwsCode(() => parseOnionAddress(address), 'INVALID_ADDRESS', /checksum mismatch.*a typo\?/);
      assert.equal(isOnionAddress(address), false);
    }
  });

  it('catches a one-character typo in a valid address', () => {
    const typo = `25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5tid.onion`; // s -> t, in the checksum's bits
    const err = throwsCode(() => parseOnionAddress(typo), 'INVALID_ADDRESS', /checksum mismatch: the address carries [0-9a-f]{4} but its public key gives [0-9a-f]{4}; a typo\?/);
    assert.equal(err.details.address, typo);
    // A changed public key character breaks the checksum too.
    throwsCode(() => parseOnionAddress(`35njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion`), 'INVALID_ADDRESS', /checksum mismatch/);
    // A typo in the last characters hits the version byte: reported as such, with the hint.
    throwsCode(() => parseOnionAddress(`25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sie.onion`), 'INVALID_ADDRESS', /version byte is 4 .*a typo\?/);
  });

  it('refuses a version byte other than 3, even with a matching checksum', () => {
    // The same key with version 4, 2, 0 and the checksum of that version (computed with Python).
    for (const [address, version] of [
      ['25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenj73qe.onion', 4],
      ['25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkendphqc.onion', 2],
      ['25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenkm6ia.onion', 0],
      // The version-3 checksum with a version byte of 4.
      ['25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sie.onion', 4],
    ] as const) {
      throwsCode(() => parseOnionAddress(address), 'INVALID_ADDRESS', new RegExp(`version byte is ${version} .*not 3`));
      assert.equal(isOnionAddress(address), false);
    }
  });

  it('refuses wrong lengths, naming them (Tor test_validate_address)', () => {
    throwsCode(() => parseOnionAddress('blah.onion'), 'INVALID_ADDRESS', /4 characters before "\.onion"; a Tor v3 address has 56/);
    throwsCode(() => parseOnionAddress('p3xnclpu4mu22dwaurjtsybyqk4xfjmcfz6z62yl24uwmhjatiwnlnadb.onion'), 'INVALID_ADDRESS', /57 characters/);
    throwsCode(() => parseOnionAddress('.onion'), 'INVALID_ADDRESS', /0 characters/);
  });

  it('refuses a Tor v2 address, saying so', () => {
    for (const v2 of ['expyuzz4wqqyqhjn.onion', 'facebookcorewwwi.onion']) {
      throwsCode(() => parseOnionAddress(v2), 'INVALID_ADDRESS', /Tor v2 address .*no longer supports/);
      assert.equal(isOnionAddress(v2), false);
    }
  });

  it('refuses characters outside base32, naming the first (Tor test_validate_address)', () => {
    throwsCode(() => parseOnionAddress(`${'?'.repeat(56)}.onion`), 'INVALID_ADDRESS', /character "\?" at position 1 is not base32/);
    const withOne = `25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhken15sid.onion`;
    throwsCode(() => parseOnionAddress(withOne), 'INVALID_ADDRESS', /character "1" at position 52 is not base32 \(a-z, 2-7\) \(base32 has no 0, 1, 8 or 9/);
    // U+212A KELVIN SIGN lowercases to an ASCII "k" in JavaScript: not base32 here.
    throwsCode(() => parseOnionAddress(`\u212a${TOR_ADDRESS.slice(1)}`), 'INVALID_ADDRESS', /not base32/);
  });

  it('needs the .onion suffix', () => {
    throwsCode(() => parseOnionAddress(TOR_ADDRESS.slice(0, -'.onion'.length)), 'INVALID_ADDRESS', /does not end with "\.onion"/);
    throwsCode(() => parseOnionAddress(`${TOR_ADDRESS}.`), 'INVALID_ADDRESS', /does not end with/);
    throwsCode(() => parseOnionAddress(42 as unknown as string), 'INVALID_ADDRESS', /must be a string/);
    assert.equal(isOnionAddress('example.com'), false);
    assert.equal(isOnionAddress(undefined), false);
  });

  it('encodes only 32-byte keys', () => {
    throwsCode(() => encodeOnionAddress(new Uint8Array(31)), 'INVALID_ARGUMENT', /32 bytes/);
    throwsCode(() => encodeOnionAddress(TOR_PUBKEY as unknown as Uint8Array), 'INVALID_ARGUMENT', /32 bytes/);
  });

  it('decodeOnionBytes checks length, version and checksum', () => {
    const good = onionBytes(hex(TOR_PUBKEY));
    throwsCode(() => decodeOnionBytes(good.subarray(0, 34)), 'INVALID_ADDRESS', /35 bytes, not 34/);
    const badVersion = good.slice();
    badVersion[34] = 4;
    throwsCode(() => decodeOnionBytes(badVersion), 'INVALID_ADDRESS', /version byte is 4/);
    const badChecksum = good.slice();
    badChecksum[32] ^= 1;
    throwsCode(() => decodeOnionBytes(badChecksum), 'INVALID_ADDRESS', /checksum mismatch/);
    throwsCode(() => decodeOnionBytes(null as unknown as Uint8Array), 'INVALID_ARGUMENT', /must be a Uint8Array/);
  });
});

describe('BOLT 7 address type 4 (torv3)', () => {
  const descriptor = `04${TOR_PUBKEY}${TOR_CHECKSUM}03` + '2607'; // port 9735

  it("encodes and decodes Tor's test vector", () => {
    assert.equal(toHex(encodeAddress({ type: 'torv3', host: TOR_ADDRESS, port: 9735 })), descriptor);
    assert.deepEqual(decodeAddress(hex(descriptor)), { type: 'torv3', host: TOR_ADDRESS, port: 9735 });
    // Upper case in, canonical lower case out.
    assert.equal(toHex(encodeAddress({ type: 'torv3', host: TOR_ADDRESS.toUpperCase(), port: 9735 })), descriptor);
  });

  it('refuses to decode a bad checksum or version with INVALID_ADDRESS_DESCRIPTOR', () => {
    const bytes = hex(descriptor);
    const badChecksum = bytes.slice();
    badChecksum[33] ^= 0x80;
    throwsCode(() => decodeAddress(badChecksum), 'INVALID_ADDRESS_DESCRIPTOR', /Tor v3 onion address is not valid: checksum mismatch/);
    const badVersion = bytes.slice();
    badVersion[35] = 2;
    throwsCode(() => decodeAddress(badVersion), 'INVALID_ADDRESS_DESCRIPTOR', /version byte is 2/);
    // All zeros: neither a version 3 nor a checksum.
    throwsCode(() => decodeAddress(hex(`04${'00'.repeat(35)}2607`)), 'INVALID_ADDRESS_DESCRIPTOR', /version byte is 0/);
    throwsCode(() => decodeAddress(hex(`04${'00'.repeat(34)}032607`)), 'INVALID_ADDRESS_DESCRIPTOR', /checksum mismatch/);
  });

  it('refuses to encode an invalid onion host with INVALID_ADDRESS, saying why', () => {
    throwsCode(() => encodeAddress({ type: 'torv3', host: 'l5satjgud6gucryazcyvyvhuxhr74u6ygigiuyixe3a6ysis67ororad.onion', port: 9735 }), 'INVALID_ADDRESS', /not a valid torv3 address: checksum mismatch/);
    throwsCode(() => encodeAddress({ type: 'torv3', host: `${'a'.repeat(56)}.onion`, port: 0 }), 'INVALID_ADDRESS', /version byte is 0/);
    throwsCode(() => encodeAddress({ type: 'torv3', host: 'expyuzz4wqqyqhjn.onion', port: 9735 }), 'INVALID_ADDRESS', /Tor v2 address/);
    throwsCode(() => encodeAddress({ type: 'torv3', host: 'abc.onion', port: 1 }), 'INVALID_ADDRESS', /3 characters/);
  });

  it('allows port 0 for Tor (BOLT 7 forbids it only for types 1, 2 and 5)', () => {
    assert.equal(encodeAddress({ type: 'torv3', host: TOR_ADDRESS, port: 0 }).length, 38);
  });

  it('keeps decoding deprecated torv2 descriptors unchanged', () => {
    assert.deepEqual(decodeAddress(hex('0325df8a673cb421881d2d2607')), { type: 'torv2', host: 'expyuzz4wqqyqhjn.onion', port: 9735 });
  });
});
