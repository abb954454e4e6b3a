/**
 * BOLT 8 "Lightning Message Specification": turns whole Lightning messages into encrypted
 * packets (`encrypt(len) || encrypt(message)`) and any chunking of the received byte stream
 * back into whole messages.
 */
import { TAG_LENGTH } from '../crypto/types.js';
import { LnPeerError } from '../errors.js';
import { writeU16 } from '../bytes.js';
import { checkBytes, checkInteger } from '../checks.js';
import { ByteQueue } from './byte-queue.js';
import { MAX_MESSAGE_LENGTH } from '../wire/message-types.js';
import { checkCipherState, type CipherState } from './cipher-state.js';

/** The encrypted 2-byte length prefix: 2 + 16-byte tag. */
export const LENGTH_PREFIX_SIZE = 2 + TAG_LENGTH;

/** Size on the wire of a message of `length` bytes (0 to 65535). */
export function packetSize(length: number): number {
  checkInteger(length, 'packetSize() length', 0, MAX_MESSAGE_LENGTH);
  return wireSize(length);
}

/** `packetSize` of a length known to be valid. */
function wireSize(length: number): number {
  return LENGTH_PREFIX_SIZE + length + TAG_LENGTH;
}

/**
 * The plaintext length prefix, encrypted or decrypted synchronously within one call and never
 * kept: one scratch buffer for all connections (a typed array costs ~200 bytes per peer).
 */
const lengthBytes = new Uint8Array(2);

let gatherBuffer: Uint8Array | undefined;
/** The buffer where packets that span received chunks are gathered (one per process, 64 KiB). */
function gather(): Uint8Array {
  return (gatherBuffer ??= new Uint8Array(packetSize(MAX_MESSAGE_LENGTH)));
}

/**
 * Packets and received messages smaller than half a slab are cut from a shared 8 KiB slab, as
 * Node's `Buffer` pool does: a typed array of its own costs about 1 µs (an off-heap backing
 * store that the garbage collector tracks), a view of the slab about 0.1 µs. A slab is freed
 * with its last view, so an application that keeps a small payload for long should copy it.
 */
const SLAB_SIZE = 8 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

function allocPacket(size: number): Uint8Array {
  if (size >= SLAB_SIZE / 2) return new Uint8Array(size);
  if (slabUsed + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const packet = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += size;
  return packet;
}

/** Encrypts outgoing messages with the sending cipher state. */
export class MessageEncryptor {
  constructor(private readonly cipher: CipherState) {
    checkCipherState(cipher, 'new MessageEncryptor() cipher');
  }

  /** Returns the packet for `message` (2-byte type + payload), in one buffer. */
  encrypt(message: Uint8Array): Uint8Array {
    // Checked before anything is cut from the slab that every connection shares.
    checkMessage(message, 'MessageEncryptor.encrypt() message');
    const packet = allocPacket(wireSize(message.length));
    // BOLT 8 "Encrypting and Sending Messages": lc = encryptWithAD(sk, sn, zero, l); then c for m.
    writeU16(lengthBytes, 0, message.length);
    this.cipher.seal(lengthBytes, packet.subarray(0, LENGTH_PREFIX_SIZE));
    this.cipher.seal(message, packet.subarray(LENGTH_PREFIX_SIZE));
    return packet;
  }

  /**
   * The packet for `message` as consecutive buffers to write in order: the encrypted length
   * prefix, then the encrypted message as the AEAD produced it (ciphertext and tag), which
   * for large messages saves building one packet-sized buffer (an allocation and a copy).
   */
  encryptParts(message: Uint8Array): Uint8Array[] {
    checkMessage(message, 'MessageEncryptor.encryptParts() message');
    const prefix = allocPacket(LENGTH_PREFIX_SIZE);
    writeU16(lengthBytes, 0, message.length);
    this.cipher.seal(lengthBytes, prefix);
    const parts = this.cipher.sealParts(message);
    parts.unshift(prefix);
    return parts;
  }
}

/** A message to encrypt: bytes (`INVALID_ARGUMENT`), at most 65535 of them (`MESSAGE_TOO_LONG`). */
function checkMessage(message: Uint8Array, what: string): void {
  checkBytes(message, what);
  if (message.length > MAX_MESSAGE_LENGTH) {
    throw new LnPeerError(
      'MESSAGE_TOO_LONG',
      `message is ${message.length} bytes; BOLT 8 allows at most ${MAX_MESSAGE_LENGTH} bytes`,
      { length: message.length },
    );
  }
}

/**
 * Decrypts incoming packets from a byte stream delivered in any chunking: `push` what
 * arrives, then take whole messages with `next`, as many as the caller wants per turn. Memory
 * held is what was pushed and not yet taken. After a failure it refuses further input: the
 * nonce stream cannot be resynchronised.
 */
export class MessageDecryptor {
  private readonly queue = new ByteQueue();
  private bodyLength = -1; // -1 while waiting for a length prefix
  private failed: LnPeerError | undefined;

  constructor(private readonly cipher: CipherState) {
    checkCipherState(cipher, 'new MessageDecryptor() cipher');
  }

  /** Bytes received but not yet part of a whole message. */
  get buffered(): number {
    return this.queue.length;
  }

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    checkBytes(chunk, 'MessageDecryptor.push() chunk');
    this.queue.push(chunk);
  }

  /**
   * The next whole message (2-byte type + payload), or `undefined` until more bytes arrive.
   * Throws `DECRYPT_FAILED` when a tag does not authenticate, then on every later call.
   */
  next(): Uint8Array | undefined {
    if (this.failed) throw this.failed;
    while (true) {
      const needed = this.bodyLength < 0 ? LENGTH_PREFIX_SIZE : this.bodyLength + TAG_LENGTH;
      if (this.queue.length < needed) return undefined;
      // A packet that spans received chunks is gathered in a shared buffer: every AEAD returns
      // a new plaintext (or writes `lengthBytes`), never a view of its input. A small body is
      // written into the slab, as outgoing packets are: no backing store of its own per message.
      const out = this.bodyLength < 0 ? lengthBytes : this.bodyLength < SLAB_SIZE / 2 ? allocPacket(this.bodyLength) : undefined;
      const plaintext = this.cipher.open(this.queue.take(needed, gather()), out);
      if (plaintext === null) {
        // BOLT 8 is silent on a MAC failure after the handshake; the only sound action is
        // to drop the connection (CLN and LDK do), so the stream is dead from here on.
        this.failed = new LnPeerError(
          'DECRYPT_FAILED',
          `the ${this.bodyLength < 0 ? 'length prefix' : 'body'} of an incoming message does not authenticate: the stream is corrupted or was tampered with`,
        );
        throw this.failed;
      }
      if (this.bodyLength >= 0) {
        this.bodyLength = -1;
        return plaintext;
      }
      this.bodyLength = (plaintext[0] << 8) | plaintext[1];
    }
  }
}
