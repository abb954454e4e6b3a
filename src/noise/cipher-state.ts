/**
 * One direction of a BOLT 8 transport: a key, its nonce counter and its own chaining key
 * for key rotation (BOLT 8 "Lightning Message Key Rotation").
 */
import { describe } from '../bytes.js';
import { checkBytes } from '../checks.js';
import { activeAead, checkAead, hkdf2, TAG_LENGTH, type Aead } from '../crypto/index.js';
import { LnPeerError } from '../errors.js';

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
    checkBytes(key, 'new CipherState() key', 'INVALID_ARGUMENT', 32);
    checkBytes(chainingKey, 'new CipherState() chainingKey', 'INVALID_ARGUMENT', 32);
    checkAead(cipher, 'new CipherState() cipher');
    this.key = key;
    this.chainingKey = chainingKey;
  }

  /**
   * BOLT 8 `encryptWithAD(k, n, zero, plaintext)` with this direction's next nonce, into `out`
   * when given (exactly `plaintext.length + 16` bytes).
   */
  seal(plaintext: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes(plaintext, 'CipherState.seal() plaintext');
    if (out !== undefined) checkBytes(out, 'CipherState.seal() out', 'INVALID_ARGUMENT', plaintext.length + TAG_LENGTH);
    const sealed = this.cipher.seal(this.key, this.nonce, EMPTY, plaintext, out);
    this.advance();
    return sealed;
  }

  /**
   * `seal`, as the buffers `[ciphertext, tag]` when the AEAD can give them without a copy,
   * else as one buffer `[ciphertext || tag]`.
   */
  sealParts(plaintext: Uint8Array): Uint8Array[] {
    checkBytes(plaintext, 'CipherState.sealParts() plaintext');
    const parts = this.cipher.sealParts ? this.cipher.sealParts(this.key, this.nonce, EMPTY, plaintext) : [this.cipher.seal(this.key, this.nonce, EMPTY, plaintext)];
    this.advance();
    return parts;
  }

  /**
   * BOLT 8 `decryptWithAD(k, n, zero, sealed)`, into `out` when given (exactly
   * `sealed.length - 16` bytes); `null` when the tag does not authenticate.
   */
  open(sealed: Uint8Array, out?: Uint8Array): Uint8Array | null {
    checkBytes(sealed, 'CipherState.open() sealed');
    if (out !== undefined) checkBytes(out, 'CipherState.open() out', 'INVALID_ARGUMENT', Math.max(0, sealed.length - TAG_LENGTH));
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

/** Throws `INVALID_ARGUMENT` unless `value` is a {@link CipherState} (`what` names it). */
export function checkCipherState(value: unknown, what: string): asserts value is CipherState {
  if (!(value instanceof CipherState)) throw new LnPeerError('INVALID_ARGUMENT', `${what} must be a CipherState (one direction of a completed handshake), got ${describe(value)}`);
}
