/**
 * The primitives BOLT 8 needs (BOLT 8 "Handshake State": ECDH, HKDF, encryptWithAD,
 * decryptWithAD, SHA-256), behind one small module: nothing else in lnpeer imports a
 * crypto library.
 *
 * Built on audited libraries only. The noble libraries are the default and run everywhere.
 * On Node, the AEAD runs on the built-in `node:crypto` (the same RFC 8439 cipher, faster at
 * every size), and ECDH on libsecp256k1 when the application installed the optional
 * `secp256k1` package.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import * as secp from '@noble/secp256k1';

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return nobleSha256(parts[0]);
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

const EMPTY = new Uint8Array(0);

/**
 * BOLT 8 `HKDF(salt, ikm)`: RFC 5869 HKDF-SHA256 with a zero-length `info`, 64 bytes out,
 * returned as its two 32-byte halves.
 */
export function hkdf2(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(nobleSha256, ikm, salt, EMPTY, 64);
  return [out.subarray(0, 32), out.subarray(32, 64)];
}

/** The secp256k1 operations BOLT 8 needs. */
export interface Curve {
  readonly name: string;
  /** The 33-byte compressed public key of a 32-byte private key. */
  getPublicKey(privateKey: Uint8Array): Uint8Array;
  /** True when `publicKey` is a 33-byte compressed encoding of a point on secp256k1. */
  isValidPublicKey(publicKey: Uint8Array): boolean;
  /**
   * BOLT 8 `ECDH(k, rk)`: "the SHA256 of the compressed format of the generated point".
   * Throws when `publicKey` is not a valid point.
   */
  ecdh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

/** secp256k1 from `@noble/secp256k1`: pure JavaScript, runs on every platform. */
export const nobleCurve: Curve = {
  name: '@noble/secp256k1',
  getPublicKey: (privateKey) => secp.getPublicKey(privateKey, true),
  isValidPublicKey: (publicKey) => publicKey.length === 33 && secp.utils.isValidPublicKey(publicKey, true),
  ecdh: (privateKey, publicKey) => nobleSha256(secp.getSharedSecret(privateKey, publicKey, true)),
};

/** The API of the `secp256k1` npm package (libsecp256k1 as a native addon) that lnpeer uses. */
interface NativeSecp256k1 {
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
  publicKeyVerify(publicKey: Uint8Array): boolean;
  /** With no hash function given, returns SHA-256(compressed shared point), BOLT 8's ECDH. */
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array;
}

/**
 * libsecp256k1 when the application has installed the optional `secp256k1` package (about
 * 40× faster ECDH than pure JavaScript), loaded only if present, as `ws` loads its optional
 * native helpers. `LNPEER_SECP256K1=noble` in the environment turns it off.
 */
async function loadNativeCurve(): Promise<Curve | undefined> {
  if (globalThis.process?.env?.LNPEER_SECP256K1 === 'noble') return undefined;
  const packageName = 'secp256k1';
  try {
    const mod = (await import(packageName)) as { default: NativeSecp256k1 };
    const native = mod.default;
    return {
      name: 'secp256k1 (libsecp256k1)',
      getPublicKey: (privateKey) => native.publicKeyCreate(privateKey, true),
      isValidPublicKey: (publicKey) => publicKey.length === 33 && native.publicKeyVerify(publicKey),
      ecdh: (privateKey, publicKey) => native.ecdh(publicKey, privateKey),
    };
  } catch {
    return undefined;
  }
}

const nativeCurve = await loadNativeCurve();

/** Every secp256k1 implementation available here (the test suite runs the spec vectors through each). */
export const curveBackends: readonly Curve[] = nativeCurve ? [nativeCurve, nobleCurve] : [nobleCurve];

/** The secp256k1 implementation lnpeer uses: the fastest available. */
export const curve: Curve = curveBackends[0];

/** The 33-byte compressed public key of a 32-byte private key. */
export function getPublicKey(privateKey: Uint8Array): Uint8Array {
  return curve.getPublicKey(privateKey);
}

/** True when `privateKey` is a valid secp256k1 scalar (32 bytes, 1 ≤ k < n). */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  return privateKey.length === 32 && secp.utils.isValidSecretKey(privateKey);
}

/** True when `publicKey` is a 33-byte compressed encoding of a point on secp256k1. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return curve.isValidPublicKey(publicKey);
}

/** A fresh private key from the platform's cryptographic random source. */
export function randomPrivateKey(): Uint8Array {
  return secp.utils.randomSecretKey();
}

/** ChaCha20-Poly1305 (RFC 8439) with a BOLT 8 nonce counter. */
export interface Aead {
  readonly name: string;
  /**
   * Returns `ciphertext || tag` (plaintext length + 16), written into `out` when given
   * (which must be exactly that long), so that callers can build a packet without a copy.
   */
  seal(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array;
  /**
   * The same as `seal`, as `[ciphertext, tag]` in the buffers the cipher produced, where that
   * saves copying a large message into one buffer (`node:crypto`). Optional.
   */
  sealParts?(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array): [Uint8Array, Uint8Array];
  /**
   * Returns the plaintext (written into `out` when given, which must be exactly
   * `sealed.length - 16` long), or `null` when the tag does not authenticate. The plaintext
   * is `out` or a new array, never a view of `sealed` (MessageDecryptor reuses its input).
   */
  open(key: Uint8Array, nonce: number, ad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null;
}

/** Size of the Poly1305 tag that follows every ciphertext. */
export const TAG_LENGTH = 16;

/**
 * BOLT 8: the 96-bit nonce is "32 bits of leading zeros followed by a 64-bit little-endian
 * value". Counters here never exceed 1000 (keys rotate there), so a u32 suffices.
 */
function nonceBytes(n: number): Uint8Array {
  // One buffer, rewritten per call: the ciphers read the nonce at once and keep no reference.
  nonce[4] = n;
  nonce[5] = n >>> 8;
  nonce[6] = n >>> 16;
  nonce[7] = n >>> 24;
  return nonce;
}
const nonce = new Uint8Array(12);

/** The AEAD from `@noble/ciphers`: pure JavaScript, runs on every platform. */
export const nobleAead: Aead = {
  name: '@noble/ciphers',
  seal: (key, n, ad, plaintext, out) => chacha20poly1305(key, nonceBytes(n), ad).encrypt(plaintext, out),
  open(key, n, ad, sealed, out) {
    try {
      return chacha20poly1305(key, nonceBytes(n), ad).decrypt(sealed, out);
    } catch {
      return null;
    }
  },
};

type NodeCrypto = typeof import('node:crypto');
const nodeCrypto: NodeCrypto | undefined = await import('node:crypto').catch(() => undefined);

function makeNodeAead(nc: NodeCrypto): Aead {
  const opts = { authTagLength: TAG_LENGTH } as const;
  return {
    name: 'node:crypto',
    sealParts(key, n, ad, plaintext) {
      const cipher = nc.createCipheriv('chacha20-poly1305', key, nonceBytes(n), opts);
      if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
      const ciphertext = cipher.update(plaintext);
      cipher.final();
      return [ciphertext, cipher.getAuthTag()];
    },
    seal(key, n, ad, plaintext, out = new Uint8Array(plaintext.length + TAG_LENGTH)) {
      const cipher = nc.createCipheriv('chacha20-poly1305', key, nonceBytes(n), opts);
      if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
      out.set(cipher.update(plaintext), 0);
      cipher.final();
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
    },
    open(key, n, ad, sealed, out) {
      if (sealed.length < TAG_LENGTH) return null;
      const bodyLength = sealed.length - TAG_LENGTH;
      const decipher = nc.createDecipheriv('chacha20-poly1305', key, nonceBytes(n), opts);
      decipher.setAuthTag(sealed.subarray(bodyLength));
      if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: bodyLength });
      const plaintext = decipher.update(sealed.subarray(0, bodyLength));
      try {
        decipher.final();
      } catch {
        return null;
      }
      if (out) {
        out.set(plaintext);
        return out;
      }
      // A plain Uint8Array view (no copy): lnpeer hands out Uint8Array, never Buffer.
      return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
    },
  };
}

/** The AEAD on Node's built-in crypto, when this platform has it and it supports ChaCha20-Poly1305. */
export const nodeAead: Aead | undefined =
  nodeCrypto?.getCiphers().includes('chacha20-poly1305') ? makeNodeAead(nodeCrypto) : undefined;

/** Every AEAD available on this platform (the test suite runs the spec vectors through each). */
export const aeadBackends: readonly Aead[] = nodeAead ? [nodeAead, nobleAead] : [nobleAead];

/** The AEAD lnpeer uses: the fastest available. */
export const aead: Aead = aeadBackends[0];
