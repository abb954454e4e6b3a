/**
 * Faster backends from audited native or wasm builds, as adapters around the module the
 * platform (or the application) loaded: libsodium's one-shot ChaCha20-Poly1305 (`sodium-native`
 * on Node, `libsodium-wrappers` in wasm anywhere) and libsecp256k1 in wasm (`tiny-secp256k1`).
 * They import nothing: each takes the module object.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { checkMethods } from '../checks.js';
import { nonceBytes } from './nonce.js';
import { TAG_LENGTH, type Aead, type Curve } from './types.js';

/** The functions of the `sodium-native` addon used here. */
export interface SodiumNative {
  /** Seals `message` into `ciphertext` (its length + 16); returns the bytes written. */
  crypto_aead_chacha20poly1305_ietf_encrypt(ciphertext: Uint8Array, message: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, key: Uint8Array): number;
  /** Opens `ciphertext` into `message`; throws when the tag does not authenticate. */
  crypto_aead_chacha20poly1305_ietf_decrypt(message: Uint8Array, nsec: null, ciphertext: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, key: Uint8Array): number;
}

/** The functions of libsodium's AEAD that both adapters call, in the `sodium-native` and `libsodium-wrappers` modules. */
const SODIUM_AEAD = ['crypto_aead_chacha20poly1305_ietf_encrypt', 'crypto_aead_chacha20poly1305_ietf_decrypt'];

/** The functions of `libsodium-wrappers` used here (after `await sodium.ready`). */
export interface LibsodiumWrappers {
  /** Returns `message` sealed: ciphertext then the 16-byte tag. */
  crypto_aead_chacha20poly1305_ietf_encrypt(message: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, key: Uint8Array): Uint8Array;
  /** Returns the plaintext; throws when the tag does not authenticate. */
  crypto_aead_chacha20poly1305_ietf_decrypt(nsec: null, ciphertext: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, key: Uint8Array): Uint8Array;
}

/** The functions of `tiny-secp256k1` used here. */
export interface TinySecp256k1 {
  /** The public key of `privateKey`, or null for an invalid key. */
  pointFromScalar(privateKey: Uint8Array, compressed?: boolean): Uint8Array | null;
  /** `point` times `scalar`, or null when the result is the point at infinity. */
  pointMultiply(point: Uint8Array, scalar: Uint8Array, compressed?: boolean): Uint8Array | null;
  /** Whether `point` encodes a point on the curve. */
  isPoint(point: Uint8Array): boolean;
}

/**
 * ChaCha20-Poly1305 (RFC 8439, libsodium's "IETF" variant) from the `sodium-native` addon: one
 * call per message. On Node lnpeer loads it by itself when it is installed.
 *
 * @example
 * ```ts
 * import sodium from 'sodium-native';
 * useCrypto({ aead: sodiumNativeAead(sodium) });
 * ```
 */
export function sodiumNativeAead(sodium: SodiumNative): Aead {
  checkMethods(sodium, 'sodiumNativeAead() sodium', 'the sodium-native module', SODIUM_AEAD);
  return {
    name: 'sodium-native (libsodium)',
    alias: 'sodium',
    seal(key, n, ad, plaintext, out = new Uint8Array(plaintext.length + TAG_LENGTH)) {
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, ad.length > 0 ? ad : null, null, nonceBytes(n), key);
      return out;
    },
    open(key, n, ad, sealed, out) {
      if (sealed.length < TAG_LENGTH) return null;
      const plaintext = out ?? new Uint8Array(sealed.length - TAG_LENGTH);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, sealed, ad.length > 0 ? ad : null, nonceBytes(n), key);
      } catch {
        return null;
      }
      return plaintext;
    },
  };
}

/**
 * The same cipher from `libsodium-wrappers` (libsodium in wasm): for browsers, where there is no addon.
 *
 * @example
 * ```ts
 * import sodium from 'libsodium-wrappers';
 * await sodium.ready;
 * useCrypto({ aead: libsodiumAead(sodium) });
 * ```
 */
export function libsodiumAead(sodium: LibsodiumWrappers): Aead {
  checkMethods(sodium, 'libsodiumAead() sodium', 'the libsodium-wrappers module, after `await sodium.ready`', SODIUM_AEAD);
  return {
    name: 'libsodium-wrappers (libsodium, wasm)',
    alias: 'libsodium',
    seal(key, n, ad, plaintext, out) {
      const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, ad.length > 0 ? ad : null, null, nonceBytes(n), key);
      if (!out) return sealed;
      out.set(sealed);
      return out;
    },
    open(key, n, ad, sealed, out) {
      if (sealed.length < TAG_LENGTH) return null;
      let plaintext: Uint8Array;
      try {
        plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed, ad.length > 0 ? ad : null, nonceBytes(n), key);
      } catch {
        return null;
      }
      if (!out) return plaintext;
      out.set(plaintext);
      return out;
    },
  };
}

/**
 * secp256k1 from `tiny-secp256k1` (libsecp256k1 in wasm): about 13 times noble's ECDH. On
 * Node lnpeer loads it by itself; a page whose bundler handles wasm can hand it over.
 *
 * @example
 * ```ts
 * import * as secp from 'tiny-secp256k1';
 * useCrypto({ curve: libsecp256k1WasmCurve(secp) });
 * ```
 */
export function libsecp256k1WasmCurve(secp: TinySecp256k1): Curve {
  checkMethods(secp, 'libsecp256k1WasmCurve() secp', 'the tiny-secp256k1 module', ['pointFromScalar', 'pointMultiply', 'isPoint']);
  const isValidPublicKey = (publicKey: Uint8Array) => publicKey.length === 33 && (publicKey[0] === 2 || publicKey[0] === 3) && secp.isPoint(publicKey);
  return {
    name: 'tiny-secp256k1 (libsecp256k1, wasm)',
    alias: 'wasm',
    getPublicKey(privateKey) {
      const point = secp.pointFromScalar(privateKey, true);
      if (!point) throw new Error('invalid private key');
      return point;
    },
    isValidPublicKey,
    ecdh(privateKey, publicKey) {
      if (!isValidPublicKey(publicKey)) throw new Error('invalid public key');
      const point = secp.pointMultiply(publicKey, privateKey, true);
      // BOLT 8 ECDH: "the SHA256 of the compressed format of the generated point".
      if (!point) throw new Error('the shared point is at infinity');
      return sha256(point);
    },
  };
}

/**
 * Messages below this size (plaintext bytes) go to the one-shot AEAD, larger ones to the
 * streaming one (`node:crypto`). Measured here: a one-shot libsodium call costs about 1 µs
 * plus 2.3 ns a byte (wasm) or 1.1 ns (addon); `node:crypto` about 4 µs (it builds a cipher
 * object per call) plus 0.6 to 0.9 ns a byte, so it wins from about 2 KiB up (a 65,000-byte
 * message: 40 to 61 µs against 73 to 150 µs).
 */
export const ONE_SHOT_AEAD_BELOW = 2048;

/**
 * One AEAD made of two: `small` below {@link ONE_SHOT_AEAD_BELOW} bytes, `large` from there
 * up. Both are the same cipher (RFC 8439), so the split is invisible on the wire.
 *
 * @example
 * ```ts
 * useCrypto({ aead: sizeSwitchedAead(libsodiumAead(sodium), aeadBackends.find((a) => a.alias === 'node')!) });
 * ```
 */
export function sizeSwitchedAead(small: Aead, large: Aead): Aead {
  for (const [aead, what] of [[small, 'small'], [large, 'large']] as const) {
    checkMethods(aead, `sizeSwitchedAead() ${what}`, 'an AEAD backend (one of aeadBackends, or libsodiumAead(…))', ['seal', 'open']);
  }
  return {
    name: `${small.name} below ${ONE_SHOT_AEAD_BELOW / 1024} KiB, ${large.name} above`,
    alias: small.alias,
    seal: (key, n, ad, plaintext, out) => (plaintext.length < ONE_SHOT_AEAD_BELOW ? small : large).seal(key, n, ad, plaintext, out),
    ...(large.sealParts ? { sealParts: (key, n, ad, plaintext) => (plaintext.length < ONE_SHOT_AEAD_BELOW ? [small.seal(key, n, ad, plaintext)] : large.sealParts!(key, n, ad, plaintext)) } : {}),
    open: (key, n, ad, sealed, out) => (sealed.length - TAG_LENGTH < ONE_SHOT_AEAD_BELOW ? small : large).open(key, n, ad, sealed, out),
  };
}
