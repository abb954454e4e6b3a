/** The pure-JavaScript backends, from the audited noble libraries: they run on every platform. */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as secp from '@noble/secp256k1';
import type { Aead, Curve } from './types.js';
import { nonceBytes } from './nonce.js';

/** secp256k1 from `@noble/secp256k1`. */
export const nobleCurve: Curve = {
  name: '@noble/secp256k1',
  alias: 'noble',
  getPublicKey: (privateKey) => secp.getPublicKey(privateKey, true),
  isValidPublicKey: (publicKey) => publicKey.length === 33 && secp.utils.isValidPublicKey(publicKey, true),
  ecdh: (privateKey, publicKey) => sha256(secp.getSharedSecret(privateKey, publicKey, true)),
};

/** ChaCha20-Poly1305 from `@noble/ciphers`. */
export const nobleAead: Aead = {
  name: '@noble/ciphers',
  alias: 'noble',
  seal: (key, n, ad, plaintext, out) => chacha20poly1305(key, nonceBytes(n), ad).encrypt(plaintext, out),
  open(key, n, ad, sealed, out) {
    try {
      return chacha20poly1305(key, nonceBytes(n), ad).decrypt(sealed, out);
    } catch {
      return null;
    }
  },
};

/** True when `privateKey` is a valid secp256k1 scalar (32 bytes, 1 ≤ k < n). */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  return privateKey.length === 32 && secp.utils.isValidSecretKey(privateKey);
}

/** A fresh private key from the platform's cryptographic random source (`crypto.getRandomValues`). */
export function randomPrivateKey(): Uint8Array {
  return secp.utils.randomSecretKey();
}
