/**
 * The backends Node.js has, reached through the Node platform module: the AEAD of the
 * built-in `node:crypto` (the same RFC 8439 cipher, faster than noble's at every size) or
 * libsodium's when the application installed `sodium-native`; libsecp256k1 as the optional
 * `secp256k1` addon, or in wasm (`tiny-secp256k1`, a dependency).
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { createRequire } from 'node:module';
import { libsecp256k1WasmCurve, libsodiumAead, sizeSwitchedAead, sodiumNativeAead, type LibsodiumWrappers, type SodiumNative, type TinySecp256k1 } from './accelerators.js';
import { nonceBytes } from './nonce.js';
import { TAG_LENGTH, type Aead, type Curve } from './types.js';

const AUTH_TAG = { authTagLength: TAG_LENGTH } as const;

/** The AEAD on `node:crypto` (OpenSSL). */
const nodeAead: Aead = {
  name: 'node:crypto',
  alias: 'node',
  sealParts(key, n, ad, plaintext) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonceBytes(n), AUTH_TAG);
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return [ciphertext, cipher.getAuthTag()];
  },
  seal(key, n, ad, plaintext, out = new Uint8Array(plaintext.length + TAG_LENGTH)) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonceBytes(n), AUTH_TAG);
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    out.set(cipher.update(plaintext), 0);
    cipher.final();
    out.set(cipher.getAuthTag(), plaintext.length);
    return out;
  },
  open(key, n, ad, sealed, out) {
    if (sealed.length < TAG_LENGTH) return null;
    const bodyLength = sealed.length - TAG_LENGTH;
    const decipher = createDecipheriv('chacha20-poly1305', key, nonceBytes(n), AUTH_TAG);
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
 * native helpers.
 */
function loadNativeCurve(): Curve | undefined {
  const native = optional<NativeSecp256k1>('secp256k1');
  if (!native) return undefined;
  return {
    name: 'secp256k1 (libsecp256k1)',
    alias: 'native',
    getPublicKey: (privateKey) => native.publicKeyCreate(privateKey, true),
    isValidPublicKey: (publicKey) => publicKey.length === 33 && native.publicKeyVerify(publicKey),
    ecdh: (privateKey, publicKey) => native.ecdh(publicKey, privateKey),
  };
}

/** A package's module when it is installed, else undefined: the accelerators are optional. */
function optional<T>(name: string): T | undefined {
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch {
    return undefined;
  }
}

const sodium = optional<SodiumNative>('sodium-native');
const nativeCurve = loadNativeCurve();
// A dependency: libsecp256k1 in wasm, for the default install (about 13 times noble's ECDH).
const wasmCurve = optional<TinySecp256k1>('tiny-secp256k1');

const hasNodeAead = getCiphers().includes('chacha20-poly1305');
/** A one-shot AEAD for small messages, with `node:crypto` for large ones (ONE_SHOT_AEAD_BELOW). */
const withNodeForLarge = (oneShot: Aead): Aead => (hasNodeAead ? sizeSwitchedAead(oneShot, nodeAead) : oneShot);

/** The Node AEADs, fastest first: libsodium's addon when installed, then `node:crypto`. */
export const nodeAeads: readonly Aead[] = [...(sodium ? [withNodeForLarge(sodiumNativeAead(sodium))] : []), ...(hasNodeAead ? [nodeAead] : [])];

/**
 * libsodium in wasm (`libsodium-wrappers`, a dependency), ready after its asynchronous
 * start: about four times `node:crypto` on small messages. Empty if it fails to load.
 */
export async function nodeLateAeads(): Promise<Aead[]> {
  const libsodium = optional<LibsodiumWrappers & { ready: Promise<void> }>('libsodium-wrappers');
  if (!libsodium) return [];
  try {
    await libsodium.ready;
  } catch {
    return [];
  }
  return [withNodeForLarge(libsodiumAead(libsodium))];
}
/** The Node curves, fastest first: libsecp256k1 as an addon when installed, then in wasm. */
export const nodeCurves: readonly Curve[] = [...(nativeCurve ? [nativeCurve] : []), ...(wasmCurve ? [libsecp256k1WasmCurve(wasmCurve)] : [])];
