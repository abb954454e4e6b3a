/**
 * The backends only Node.js has, reached through the Node platform module: the AEAD of the
 * built-in `node:crypto` (the same RFC 8439 cipher, faster at every size), and libsecp256k1
 * when the application installed the optional `secp256k1` package.
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import { createRequire } from 'node:module';
import { nonceBytes } from './nonce.js';
import { TAG_LENGTH, type Aead, type Curve } from './types.js';

const AUTH_TAG = { authTagLength: TAG_LENGTH } as const;

/** The AEAD on `node:crypto` (OpenSSL). */
const nodeAead: Aead = {
  name: 'node:crypto',
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
 * native helpers. `LNPEER_SECP256K1=noble` in the environment turns it off.
 */
function loadNativeCurve(): Curve | undefined {
  if (process.env.LNPEER_SECP256K1 === 'noble') return undefined;
  let native: NativeSecp256k1;
  try {
    native = createRequire(import.meta.url)('secp256k1') as NativeSecp256k1;
  } catch {
    return undefined;
  }
  return {
    name: 'secp256k1 (libsecp256k1)',
    getPublicKey: (privateKey) => native.publicKeyCreate(privateKey, true),
    isValidPublicKey: (publicKey) => publicKey.length === 33 && native.publicKeyVerify(publicKey),
    ecdh: (privateKey, publicKey) => native.ecdh(publicKey, privateKey),
  };
}

const nativeCurve = loadNativeCurve();

/** The Node-only AEADs, fastest first. */
export const nodeAeads: readonly Aead[] = getCiphers().includes('chacha20-poly1305') ? [nodeAead] : [];
/** The Node-only curves, fastest first. */
export const nodeCurves: readonly Curve[] = nativeCurve ? [nativeCurve] : [];
