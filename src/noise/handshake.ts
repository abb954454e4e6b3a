/**
 * The BOLT 8 handshake (Noise_XK_secp256k1_ChaChaPoly_SHA256), sans I/O: each method takes
 * the bytes of one act and returns the bytes of the next. The caller moves the bytes.
 */
import { describe, toHex } from '../bytes.js';
import { checkBytes, checkObject, checkOptions } from '../checks.js';
import { activeAead, activeCurve, checkAead, checkCurve, checkPrivateKey, hkdf2, randomPrivateKey, sha256, type Aead, type Curve } from '../crypto/index.js';
import { LnPeerError, type HandshakeFailure } from '../errors.js';
import { CipherState } from './cipher-state.js';

/** BOLT 8 "Handshake Exchange": act one is 50 bytes (fixed size, no header). */
export const ACT_ONE_LENGTH = 50;
/** BOLT 8: act two is 50 bytes. */
export const ACT_TWO_LENGTH = 50;
/** BOLT 8: act three is 66 bytes. */
export const ACT_THREE_LENGTH = 66;

const encoder = new TextEncoder();
// BOLT 8 "Handshake State Initialization": h = SHA-256(protocolName); ck = h; h = SHA-256(h || prologue).
const PROTOCOL_NAME_HASH = sha256(encoder.encode('Noise_XK_secp256k1_ChaChaPoly_SHA256'));
const H_AFTER_PROLOGUE = sha256(PROTOCOL_NAME_HASH, encoder.encode('lightning'));
// BOLT 8: "Clients MUST reject handshake attempts initiated with an unknown version."
const HANDSHAKE_VERSION = 0;
const EMPTY = new Uint8Array(0);

/** A secp256k1 key pair; computing the public key once saves a scalar multiplication per handshake. */
export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * Builds a key pair from a 32-byte private key, computing the public key (the node id) once.
 * Throws `INVALID_PRIVATE_KEY` unless `privateKey` is a valid secp256k1 private key.
 *
 * @example
 * ```ts
 * const key = keyPair(privateKey);
 * const peer = Peer.responder(socket, { localKey: key }); // no scalar multiplication per connection
 * ```
 */
export function keyPair(privateKey: Uint8Array, using: Curve = activeCurve()): KeyPair {
  checkPrivateKey(privateKey, 'keyPair() privateKey');
  checkCurve(using, 'keyPair() using');
  return makeKeyPair(privateKey, using);
}

/** `keyPair` of a private key known to be valid. */
function makeKeyPair(privateKey: Uint8Array, using: Curve): KeyPair {
  return { privateKey, publicKey: using.getPublicKey(privateKey) };
}

/** Checks the key pair and the options of a handshake (`call` names its constructor). */
function checkHandshake(call: string, localStatic: KeyPair, options: HandshakeOptions): void {
  const key = checkObject(localStatic, `${call} localStatic`);
  checkPrivateKey(key.privateKey, `${call} localStatic.privateKey`);
  if (!(key.publicKey instanceof Uint8Array) || key.publicKey.length !== 33) {
    throw new LnPeerError('INVALID_ARGUMENT', `${call} localStatic.publicKey must be the 33-byte public key of localStatic.privateKey (make the key pair with keyPair()), got ${describe(key.publicKey)}`);
  }
  const { ephemeralPrivateKey, aead, curve } = checkOptions(options, `${call} options`);
  if (ephemeralPrivateKey !== undefined) checkPrivateKey(ephemeralPrivateKey, `${call} options.ephemeralPrivateKey`);
  if (aead !== undefined) checkAead(aead, `${call} options.aead`);
  if (curve !== undefined) checkCurve(curve, `${call} options.curve`);
}

/** The crypto a handshake uses, and a fixed ephemeral key for the spec's test vectors. */
export interface HandshakeOptions {
  /** For test vectors only: production uses a fresh random key per handshake. */
  ephemeralPrivateKey?: Uint8Array;
  aead?: Aead;
  curve?: Curve;
}

/** What a completed handshake yields: one cipher state per direction and the remote's static key. */
export interface HandshakeResult {
  readonly remoteStaticKey: Uint8Array;
  readonly sending: CipherState;
  readonly receiving: CipherState;
}

function fail(reason: HandshakeFailure, act: 1 | 2 | 3, what: string): LnPeerError {
  return new LnPeerError('HANDSHAKE_FAILED', `BOLT 8 handshake failed in act ${act}: ${what}`, { reason, act, stage: 'handshake' });
}

/** The handshake state shared by both roles: the chaining key `ck` and handshake hash `h`. */
abstract class Handshake {
  protected ck: Uint8Array = PROTOCOL_NAME_HASH;
  /** The acts of this role done so far: each comes once, in order. */
  private actsDone = 0;
  protected h: Uint8Array;
  protected tempKey: Uint8Array = EMPTY;
  protected readonly cipher: Aead;
  protected readonly curve: Curve;
  private readonly ephemeralPrivateKey: Uint8Array | undefined;
  private ephemeralKey: KeyPair | undefined;

  protected constructor(responderStaticKey: Uint8Array, options: HandshakeOptions) {
    this.cipher = options.aead ?? activeAead();
    this.curve = options.curve ?? activeCurve();
    // BOLT 8 "Handshake State Initialization": h = SHA-256(h || rs.pub.serializeCompressed()).
    this.h = sha256(H_AFTER_PROLOGUE, responderStaticKey);
    this.ephemeralPrivateKey = options.ephemeralPrivateKey;
  }

  /**
   * BOLT 8: "a node MUST generate a new ephemeral key with strong cryptographic randomness."
   * Made when first needed: a responder spends no scalar multiplication on a connection that
   * never sends act one.
   */
  protected get ephemeral(): KeyPair {
    return (this.ephemeralKey ??= makeKeyPair(this.ephemeralPrivateKey ?? randomPrivateKey(), this.curve));
  }

  /**
   * Throws `HANDSHAKE_FAILED` (`OUT_OF_ORDER`) unless `done` acts of this role came before
   * (`call` is the method, `first` the one to call before it).
   */
  protected inOrder(done: number, act: 1 | 2 | 3, call: string, first?: string): void {
    if (this.actsDone === done) return;
    throw fail(
      'OUT_OF_ORDER',
      act,
      this.actsDone < done ? `${call} was called before ${first}: call ${first} first` : `${call} was called already: each act runs once (a new connection needs a new handshake)`,
    );
  }

  /** One more act of this role is done. */
  protected actDone(): void {
    this.actsDone++;
  }

  protected mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  protected mixKey(sharedSecret: Uint8Array): void {
    [this.ck, this.tempKey] = hkdf2(this.ck, sharedSecret);
  }

  /** Writes act one or two: `0 || e.pub || encryptWithAD(temp_k, 0, h, zero)`, after mixing `e.pub` and `ECDH(e, remote)`. */
  protected writeEphemeralAct(remoteKey: Uint8Array): Uint8Array {
    this.mixHash(this.ephemeral.publicKey);
    this.mixKey(this.curve.ecdh(this.ephemeral.privateKey, remoteKey));
    const tag = this.cipher.seal(this.tempKey, 0, this.h, EMPTY);
    this.mixHash(tag);
    const act = new Uint8Array(ACT_ONE_LENGTH);
    act[0] = HANDSHAKE_VERSION;
    act.set(this.ephemeral.publicKey, 1);
    act.set(tag, 34);
    return act;
  }

  /** Reads act one or two; returns the remote ephemeral key. `localPrivateKey` does the ECDH with it. */
  protected readEphemeralAct(act: Uint8Array, actNumber: 1 | 2, localPrivateKey: Uint8Array): Uint8Array {
    // BOLT 8 acts one and two: "Read exactly 50 bytes from the network buffer."
    if (act.length < ACT_ONE_LENGTH) {
      throw fail('SHORT_READ', actNumber, `got ${act.length} bytes, the act is ${ACT_ONE_LENGTH} bytes`);
    }
    if (act[0] !== HANDSHAKE_VERSION) {
      throw fail('BAD_VERSION', actNumber, `unknown handshake version ${act[0]}, only version ${HANDSHAKE_VERSION} exists`);
    }
    const remoteEphemeral = act.subarray(1, 34);
    // BOLT 8: "If re does not represent a valid point on the secp256k1 curve, the node MUST abort".
    if (!this.curve.isValidPublicKey(remoteEphemeral)) {
      throw fail('BAD_PUBKEY', actNumber, 'the ephemeral key is not a valid compressed secp256k1 point');
    }
    this.mixHash(remoteEphemeral);
    this.mixKey(this.curve.ecdh(localPrivateKey, remoteEphemeral));
    const tag = act.subarray(34, ACT_ONE_LENGTH);
    // BOLT 8: "If the MAC check is unsuccessful, the node MUST terminate the connection without any further messages."
    if (this.cipher.open(this.tempKey, 0, this.h, tag) === null) {
      throw fail('BAD_TAG', actNumber, 'the MAC does not authenticate (wrong node id, or a corrupted act)');
    }
    this.mixHash(tag);
    return remoteEphemeral.slice();
  }

  /** BOLT 8 act three, final step: split `ck` into the two transport keys. */
  protected split(remoteStaticKey: Uint8Array, initiator: boolean): HandshakeResult {
    const [first, second] = hkdf2(this.ck, EMPTY);
    // BOLT 8: the initiator's sk is the first 32 bytes; each direction keeps its own copy of ck.
    const [sendKey, receiveKey] = initiator ? [first, second] : [second, first];
    return {
      remoteStaticKey,
      sending: new CipherState(sendKey, this.ck, this.cipher),
      receiving: new CipherState(receiveKey, this.ck, this.cipher),
    };
  }
}

/** The initiator's side: knows the responder's node id, sends acts one and three. */
export class InitiatorHandshake extends Handshake {
  private readonly localStatic: KeyPair;
  private readonly remoteStaticKey: Uint8Array;

  /** Throws `INVALID_NODE_ID` for a `remoteStaticKey` that is no node id, `INVALID_ARGUMENT` (`INVALID_PRIVATE_KEY`) for bad keys or options. */
  constructor(localStatic: KeyPair, remoteStaticKey: Uint8Array, options: HandshakeOptions = {}) {
    checkHandshake('new InitiatorHandshake()', localStatic, options);
    const what = 'new InitiatorHandshake() remoteStaticKey';
    checkBytes(remoteStaticKey, what, 'INVALID_NODE_ID');
    if (remoteStaticKey.length !== 33 || !(options.curve ?? activeCurve()).isValidPublicKey(remoteStaticKey)) {
      throw new LnPeerError('INVALID_NODE_ID', `${what} must be the responder's node id, a 33-byte compressed secp256k1 public key, got ${toHex(remoteStaticKey)}`);
    }
    super(remoteStaticKey, options);
    this.localStatic = localStatic;
    this.remoteStaticKey = remoteStaticKey;
  }

  /** Act one: `0 || e.pub || c` with `es = ECDH(e.priv, rs)`. */
  actOne(): Uint8Array {
    this.inOrder(0, 1, 'actOne()');
    const act = this.writeEphemeralAct(this.remoteStaticKey);
    this.actDone();
    return act;
  }

  /** Reads act two and returns act three plus the transport cipher states. */
  actTwoToThree(actTwo: Uint8Array): { actThree: Uint8Array; result: HandshakeResult } {
    checkBytes(actTwo, 'InitiatorHandshake.actTwoToThree() actTwo');
    this.inOrder(1, 2, 'actTwoToThree()', 'actOne()');
    const remoteEphemeral = this.readEphemeralAct(actTwo, 2, this.ephemeral.privateKey);
    // BOLT 8 act three: c = encryptWithAD(temp_k2, 1, h, s.pub.serializeCompressed()).
    const actThree = new Uint8Array(ACT_THREE_LENGTH);
    const encryptedStatic = this.cipher.seal(this.tempKey, 1, this.h, this.localStatic.publicKey, actThree.subarray(1, 50));
    this.mixHash(encryptedStatic);
    this.mixKey(this.curve.ecdh(this.localStatic.privateKey, remoteEphemeral));
    this.cipher.seal(this.tempKey, 0, this.h, EMPTY, actThree.subarray(50));
    this.actDone();
    return { actThree, result: this.split(this.remoteStaticKey, true) };
  }
}

/** The responder's side: learns the initiator's node id from act three. */
export class ResponderHandshake extends Handshake {
  private readonly localStatic: KeyPair;
  private remoteEphemeral: Uint8Array = EMPTY;

  /** Throws `INVALID_ARGUMENT` (`INVALID_PRIVATE_KEY`) for a bad key pair or options. */
  constructor(localStatic: KeyPair, options: HandshakeOptions = {}) {
    checkHandshake('new ResponderHandshake()', localStatic, options);
    super(localStatic.publicKey, options);
    this.localStatic = localStatic;
  }

  /** True once act one was read (and act two produced). */
  get readActOne(): boolean {
    return this.remoteEphemeral.length > 0;
  }

  /** Reads act one (`es = ECDH(s.priv, re)`) and returns act two (`ee = ECDH(e.priv, re)`). */
  actOneToTwo(actOne: Uint8Array): Uint8Array {
    checkBytes(actOne, 'ResponderHandshake.actOneToTwo() actOne');
    this.inOrder(0, 1, 'actOneToTwo()');
    this.remoteEphemeral = this.readEphemeralAct(actOne, 1, this.localStatic.privateKey);
    const actTwo = this.writeEphemeralAct(this.remoteEphemeral);
    this.actDone();
    return actTwo;
  }

  /** Reads act three; returns the initiator's static key and the transport cipher states. */
  actThree(actThree: Uint8Array): HandshakeResult {
    checkBytes(actThree, 'ResponderHandshake.actThree() actThree');
    this.inOrder(1, 3, 'actThree()', 'actOneToTwo()');
    // BOLT 8 act three: "Read exactly 66 bytes from the network buffer."
    if (actThree.length < ACT_THREE_LENGTH) {
      throw fail('SHORT_READ', 3, `got ${actThree.length} bytes, the act is ${ACT_THREE_LENGTH} bytes`);
    }
    if (actThree[0] !== HANDSHAKE_VERSION) {
      throw fail('BAD_VERSION', 3, `unknown handshake version ${actThree[0]}, only version ${HANDSHAKE_VERSION} exists`);
    }
    const encryptedStatic = actThree.subarray(1, 50);
    // BOLT 8: "rs = decryptWithAD(temp_k2, 1, h, c)"; "If the MAC check in this step fails ... terminate".
    const remoteStatic = this.cipher.open(this.tempKey, 1, this.h, encryptedStatic);
    if (remoteStatic === null) {
      throw fail('BAD_CIPHERTEXT', 3, 'the encrypted static key does not authenticate');
    }
    // BOLT 8: "If rs is not a valid public key, the node MUST abort".
    if (!this.curve.isValidPublicKey(remoteStatic)) {
      throw fail('BAD_PUBKEY', 3, 'the static key (node id) is not a valid compressed secp256k1 point');
    }
    this.mixHash(encryptedStatic);
    this.mixKey(this.curve.ecdh(this.ephemeral.privateKey, remoteStatic));
    if (this.cipher.open(this.tempKey, 0, this.h, actThree.subarray(50)) === null) {
      throw fail('BAD_TAG', 3, 'the final MAC does not authenticate');
    }
    this.actDone();
    return this.split(Uint8Array.from(remoteStatic), false);
  }
}
