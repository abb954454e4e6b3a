/**
 * The primitives BOLT 8 needs (BOLT 8 "Handshake State": ECDH, HKDF, encryptWithAD,
 * decryptWithAD, SHA-256), behind one module: nothing else in lnpeer imports a crypto library.
 *
 * Built on audited libraries only. The noble libraries are the default and run everywhere;
 * the platform module adds faster backends where it has them (on Node: `node:crypto` for the
 * AEAD, libsecp256k1 when the optional `secp256k1` package is installed).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { environment, platformAeads, platformCurves, platformLateAeads } from '#platform';
import { checkBytes, checkMethods, checkObject } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { isValidPrivateKey, nobleAead, nobleCurve } from './noble.js';
import type { Aead, Curve } from './types.js';

export type { Aead, Curve } from './types.js';
export { TAG_LENGTH } from './types.js';
export { isValidPrivateKey, nobleAead, nobleCurve, randomPrivateKey } from './noble.js';

/** `length` bytes from the platform's cryptographic random source (`crypto.getRandomValues`). */
export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

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

/** Every secp256k1 implementation available here, fastest first (the test suite runs the spec vectors through each). */
export const curveBackends: readonly Curve[] = [...platformCurves, nobleCurve];

/**
 * Every AEAD available on this platform, fastest first (the test suite runs the spec vectors
 * through each); those that load asynchronously join it when `cryptoReady` resolves.
 */
export const aeadBackends: readonly Aead[] = [...platformAeads, nobleAead];

/**
 * The backends in use: the fastest available, unless `LNPEER_AEAD` / `LNPEER_SECP256K1` (in
 * the environment, on Node) name another (`noble`, `node`, `sodium`, `native`, `wasm`, or the
 * start of a backend's name), or the application chose with `useCrypto()`.
 */
let aead: Aead = chosen(aeadBackends, environment('LNPEER_AEAD'));
let curve: Curve = chosen(curveBackends, environment('LNPEER_SECP256K1'));
/** `useCrypto()` chose the AEAD: a backend that loads later does not replace it. */
let aeadChosenByApp = false;

/**
 * Resolves once the backends that load asynchronously (libsodium in wasm, on Node) are ready:
 * from then on new connections use them (unless `useCrypto()` or `LNPEER_AEAD` chose
 * otherwise). Connections opened before keep the backend they started with: both are the same
 * cipher. Never rejects; await it where the first connection must already be the fastest.
 */
export const cryptoReady: Promise<void> = platformLateAeads().then((late) => {
  const backends = aeadBackends as Aead[];
  // Before the streaming and pure-JavaScript ones: the late ones are one-shot, faster on small messages.
  const at = backends.findIndex((b) => b.alias === 'node' || b.alias === 'noble');
  backends.splice(at, 0, ...late);
  if (!aeadChosenByApp) aead = chosen(aeadBackends, environment('LNPEER_AEAD'));
});

function chosen<T extends { name: string; alias: string }>(backends: readonly T[], wanted: string | undefined): T {
  if (!wanted) return backends[0];
  return backends.find((b) => b.alias === wanted || b.name.startsWith(wanted)) ?? backends[0];
}

/** The AEAD in use for new connections. */
export function activeAead(): Aead {
  return aead;
}

/** The secp256k1 implementation in use for new handshakes and keys. */
export function activeCurve(): Curve {
  return curve;
}

/**
 * Chooses the backends of new connections: an accelerator the application loaded itself (in a
 * browser, `libsodiumAead(await sodium.ready && sodium)` or `libsecp256k1WasmCurve(tinySecp)`),
 * or one of `aeadBackends`/`curveBackends`. Connections already open keep theirs.
 *
 * @example
 * ```ts
 * import sodium from 'libsodium-wrappers';
 * await sodium.ready;
 * useCrypto({ aead: libsodiumAead(sodium) });
 * cryptoInUse(); // { aead: 'libsodium-wrappers (libsodium, wasm)', curve: '@noble/secp256k1' }
 * ```
 */
export function useCrypto(choice: { aead?: Aead; curve?: Curve }): void {
  const { aead: newAead, curve: newCurve } = checkObject(choice, 'useCrypto() choice');
  if (newAead !== undefined) checkAead(newAead, 'useCrypto() choice.aead');
  if (newCurve !== undefined) checkCurve(newCurve, 'useCrypto() choice.curve');
  // Both checked before either is taken: a bad choice changes nothing.
  if (newAead !== undefined) {
    aead = newAead;
    aeadChosenByApp = true;
  }
  if (newCurve !== undefined) curve = newCurve;
}

/** Throws `INVALID_ARGUMENT` unless `value` has the functions of an {@link Aead} (`what` names it). */
export function checkAead(value: unknown, what: string): asserts value is Aead {
  checkMethods(value, what, 'an AEAD backend (one of aeadBackends, or libsodiumAead(…))', ['seal', 'open']);
}

/** Throws `INVALID_ARGUMENT` unless `value` has the functions of a {@link Curve} (`what` names it). */
export function checkCurve(value: unknown, what: string): asserts value is Curve {
  checkMethods(value, what, 'a secp256k1 backend (one of curveBackends, or libsecp256k1WasmCurve(…))', ['getPublicKey', 'isValidPublicKey', 'ecdh']);
}

/** Throws `INVALID_PRIVATE_KEY` unless `key` is a secp256k1 private key: 32 bytes, from 1 to n-1 (`what` names it). */
export function checkPrivateKey(key: unknown, what: string): asserts key is Uint8Array {
  checkBytes(key, what, 'INVALID_PRIVATE_KEY');
  if (!isValidPrivateKey(key)) {
    throw new LnPeerError(
      'INVALID_PRIVATE_KEY',
      key.length !== 32
        ? `${what} is ${key.length} bytes: a private key is 32 bytes (64 hex characters)`
        : `${what} is not a valid secp256k1 scalar: it must be from 1 to n-1 (not zero, not above the curve order)`,
    );
  }
}

/**
 * The names of the backends in use.
 *
 * @example
 * ```ts
 * cryptoInUse(); // { aead: 'node:crypto', curve: 'tiny-secp256k1 (libsecp256k1, wasm)' } on a default Node install
 * ```
 */
export function cryptoInUse(): { aead: string; curve: string } {
  return { aead: aead.name, curve: curve.name };
}

/** The 33-byte compressed public key of a 32-byte private key. */
export function getPublicKey(privateKey: Uint8Array): Uint8Array {
  return curve.getPublicKey(privateKey);
}

/** True when `publicKey` is a 33-byte compressed encoding of a point on secp256k1. */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return curve.isValidPublicKey(publicKey);
}
