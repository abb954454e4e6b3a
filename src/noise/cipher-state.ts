/**
 * One direction of a BOLT 8 transport: a key, its nonce counter and its own chaining key
 * for key rotation (BOLT 8 "Lightning Message Key Rotation").
 */
import { activeAead, hkdf2, type Aead } from '../crypto/index.js';

const EMPTY = new Uint8Array(0);

/**
 * BOLT 8 "Lightning Message Key Rotation": "A key is to be rotated after a party encrypts or
 * decrypts 1000 times with it (i.e. every 500 messages)", i.e. once its nonce reaches 1000.
 */
export const KEY_ROTATION_NONCE = 1000;

/** The key, nonce and chaining key of one direction of an established BOLT 8 connection. */
export class CipherState {
  private key: Uint8Array;
  private chainingKey: Uint8Array;
  private nonce = 0;

  /**
   * `chainingKey` is this direction's own copy of the handshake's final `ck` (BOLT 8:
   * `sck` for sending, `rck` for receiving; the two evolve independently).
   */
  constructor(key: Uint8Array, chainingKey: Uint8Array, private readonly cipher: Aead = activeAead()) {
    this.key = key;
    this.chainingKey = chainingKey;
  }

  /** BOLT 8 `encryptWithAD(k, n, zero, plaintext)` with this direction's next nonce. */
  seal(plaintext: Uint8Array, out?: Uint8Array): Uint8Array {
    const sealed = this.cipher.seal(this.key, this.nonce, EMPTY, plaintext, out);
    this.advance();
    return sealed;
  }

  /**
   * `seal`, as the buffers `[ciphertext, tag]` when the AEAD can give them without a copy,
   * else as one buffer `[ciphertext || tag]`.
   */
  sealParts(plaintext: Uint8Array): Uint8Array[] {
    const parts = this.cipher.sealParts ? this.cipher.sealParts(this.key, this.nonce, EMPTY, plaintext) : [this.cipher.seal(this.key, this.nonce, EMPTY, plaintext)];
    this.advance();
    return parts;
  }

  /**
   * BOLT 8 `decryptWithAD(k, n, zero, sealed)`, into `out` when given; `null` when the tag
   * does not authenticate.
   */
  open(sealed: Uint8Array, out?: Uint8Array): Uint8Array | null {
    const plaintext = this.cipher.open(this.key, this.nonce, EMPTY, sealed, out);
    if (plaintext !== null) this.advance();
    return plaintext;
  }

  private advance(): void {
    if (++this.nonce < KEY_ROTATION_NONCE) return;
    // BOLT 8: "ck', k' = HKDF(ck, k); reset the nonce for the key to n = 0; k = k'; ck = ck'".
    [this.chainingKey, this.key] = hkdf2(this.chainingKey, this.key);
    this.nonce = 0;
  }
}
