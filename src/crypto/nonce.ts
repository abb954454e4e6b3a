/**
 * BOLT 8: the 96-bit nonce is "32 bits of leading zeros followed by a 64-bit little-endian
 * value". Counters here never exceed 1000 (keys rotate there), so a u32 suffices.
 */
export function nonceBytes(n: number): Uint8Array {
  // One buffer, rewritten per call: the ciphers read the nonce at once and keep no reference.
  nonce[4] = n;
  nonce[5] = n >>> 8;
  nonce[6] = n >>> 16;
  nonce[7] = n >>> 24;
  return nonce;
}
const nonce = new Uint8Array(12);
