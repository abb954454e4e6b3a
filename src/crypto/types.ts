/** The two primitives that have several backends: secp256k1 ECDH and the AEAD. */

/** The secp256k1 operations BOLT 8 needs. */
export interface Curve {
  readonly name: string;
  /** The short name `LNPEER_SECP256K1` takes: `native`, `wasm` or `noble`. */
  readonly alias: string;
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

/** ChaCha20-Poly1305 (RFC 8439) with a BOLT 8 nonce counter. */
export interface Aead {
  readonly name: string;
  /** The short name `LNPEER_AEAD` takes: `sodium`, `libsodium`, `node` or `noble`. */
  readonly alias: string;
  /**
   * Returns `ciphertext || tag` (plaintext length + 16), written into `out` when given
   * (which must be exactly that long), so that callers can build a packet without a copy.
   */
  seal(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array;
  /**
   * The same as `seal`, as consecutive buffers the cipher produced (`node:crypto`: the
   * ciphertext, then the tag), where that saves copying a large message into one. Optional.
   */
  sealParts?(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array[];
  /**
   * Returns the plaintext (written into `out` when given, which must be exactly
   * `sealed.length - 16` long), or `null` when the tag does not authenticate. The plaintext
   * is `out` or a new array, never a view of `sealed` (MessageDecryptor reuses its input).
   */
  open(key: Uint8Array, nonce: number, ad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null;
}

/** Size of the Poly1305 tag that follows every ciphertext. */
export const TAG_LENGTH = 16;
