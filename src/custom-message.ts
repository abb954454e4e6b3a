/**
 * Custom messages: application messages with their own 16-bit type (BOLT 1 "Lightning
 * Message Format"), as Core Lightning's `sendcustommsg` and `custommsg` hook carry them.
 * Pure: a codec and the validator of outgoing custom messages (docs/custom-messages.md).
 */
import { bytesOrHex, describe, readU16, toHex, writeU16 } from './bytes.js';
import { checkIterable, checkObject } from './checks.js';
import { LnPeerError } from './errors.js';
import { MAX_MESSAGE_LENGTH, isBoltMessageType, messageTypeName } from './wire/message-types.js';

/** BOLT 1: "Custom 32768-65535: experimental and application types"; bLIP-0002 reserves 0-32767 for BOLTs. */
export const CUSTOM_TYPE_RANGE_START = 32768;
/** The largest payload: 65535 bytes in all, minus the 2-byte type (BOLT 1, BOLT 8). */
export const MAX_PAYLOAD_LENGTH = MAX_MESSAGE_LENGTH - 2;

/**
 * BOLT 1 types that applications may send although the BOLTs define them: `peer_storage` (7)
 * and `peer_storage_retrieval` (9) are for the app to implement (Core Lightning hands them
 * to plugins too).
 */
const APP_HANDLED_BOLT_TYPES: ReadonlySet<number> = new Set([7, 9]);

/**
 * Custom-range types already in use elsewhere (bLIP-0050, bLIP-0017, Eclair's source): sending them is allowed,
 * but a peer may read them as something else.
 */
const KNOWN_CUSTOM_TYPES: ReadonlyMap<number, string> = new Map<number, string>([
  [37913, 'bLIP 50 lsps0_message_id (LSPS)'],
  [37000, 'Eclair experimental splice'],
  [37002, 'Eclair experimental splice'],
  [37004, 'Eclair experimental splice'],
  [39409, 'Eclair recommended_feerates'],
  ...[41041, 41042, 41043, 41044, 41045, 41046].map((t): [number, string] => [t, 'Eclair on-the-fly funding']),
  [53011, 'Eclair commit_sig batch'],
  ...[63497, 63499, 63501, 63503, 63505, 65511, 65525, 65527, 65529, 65531, 65533, 65535].map(
    (t): [number, string] => [t, 'bLIP 17 hosted channels'],
  ),
]);

/** Options of the outgoing validator. */
export interface ValidateOptions {
  /**
   * Even types this application has negotiated with its peers (for example through a
   * feature bit) and may therefore send. BOLT 1: "MUST NOT send an evenly-typed message not
   * listed here without prior negotiation."
   */
  evenTypes?: Iterable<number> | ReadonlySet<number>;
}

/**
 * A custom message: a 16-bit type and its payload. The wire form is the type, big-endian,
 * followed by the payload; the transport adds the length.
 *
 * @example
 * ```ts
 * const msg = new CustomMessage(0xfffb, new TextEncoder().encode('hello'));
 * msg.toHex(); // 'fffb68656c6c6f'
 * CustomMessage.decode('fffb68656c6c6f').payload; // Uint8Array [104, 101, 108, 108, 111]
 * ```
 */
export class CustomMessage {
  /** The 16-bit message type. */
  readonly type: number;
  /** The bytes after the type. */
  readonly payload: Uint8Array;

  /** Throws `INVALID_TYPE` unless `type` is an integer in 0..65535, `MESSAGE_TOO_LONG` above 65533 payload bytes. */
  constructor(type: number, payload: Uint8Array = new Uint8Array(0)) {
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
      throw new LnPeerError('INVALID_TYPE', `message type must be an integer from 0 to 65535, got ${describe(type)}`, { type });
    }
    if (!(payload instanceof Uint8Array)) {
      throw new LnPeerError('INVALID_ARGUMENT', `payload must be a Uint8Array, got ${describe(payload)}`);
    }
    if (payload.length > MAX_PAYLOAD_LENGTH) {
      throw tooLong(payload.length + 2);
    }
    this.type = type;
    this.payload = payload;
  }

  /**
   * Decodes a whole message (2-byte type + payload), as hex or bytes. Checks the form only
   * (step 2 of the validator); see {@link CustomMessage.validate} for the full rules.
   * The payload is a view into `message` when bytes are given.
   */
  static decode(message: Uint8Array | string): CustomMessage {
    const bytes = bytesOrHex(message, 'custom message');
    if (bytes.length < 2) {
      throw new LnPeerError(
        'MESSAGE_TOO_SHORT',
        `custom message is ${bytes.length} byte${bytes.length === 1 ? '' : 's'}; it needs at least the 2-byte type`,
        { length: bytes.length },
      );
    }
    if (bytes.length > MAX_MESSAGE_LENGTH) throw tooLong(bytes.length);
    return new CustomMessage(readU16(bytes, 0), bytes.subarray(2));
  }

  /**
   * Checks an outgoing message against the rules of a Lightning peer and returns it decoded:
   * its form (hex, 2 to 65535 bytes), that its type is not one the BOLTs define (other than
   * `peer_storage` 7 and `peer_storage_retrieval` 9), and that it is odd unless the app
   * negotiated that even type. Throws an `LnPeerError` naming the rule that failed.
   *
   * @example
   * ```ts
   * CustomMessage.validate('fffb68656c6c6f');              // ok
   * CustomMessage.validate('0012000000');                  // throws INTERNAL_TYPE (ping)
   * CustomMessage.validate('fffa', { evenTypes: [0xfffa] }); // ok: negotiated even type
   * ```
   */
  static validate(message: Uint8Array | string | CustomMessage, options: ValidateOptions = {}): CustomMessage {
    const { evenTypes } = checkObject(options, 'CustomMessage.validate() options');
    if (evenTypes !== undefined) checkIterable(evenTypes, 'CustomMessage.validate() options.evenTypes', 'message types');
    const msg = message instanceof CustomMessage ? message : CustomMessage.decode(message);
    const { type } = msg;
    // BOLT 1 "Lightning Message Format": types defined in the BOLTs are handled by the node itself.
    if (isBoltMessageType(type) && !APP_HANDLED_BOLT_TYPES.has(type)) {
      throw new LnPeerError(
        'INTERNAL_TYPE',
        `type ${type} is the BOLT message ${messageTypeName(type)}, which a Lightning node handles itself; ` +
          `use a type in ${CUSTOM_TYPE_RANGE_START}-65535 (peer_storage 7 and peer_storage_retrieval 9 are also allowed)`,
        { type, name: messageTypeName(type) },
      );
    }
    // BOLT 1 "It's ok to be odd": a receiver "MUST close the connection" on an unknown even type,
    // so a sender "MUST NOT send an evenly-typed message not listed here without prior negotiation."
    if (type % 2 === 0 && !hasType(evenTypes, type)) {
      throw new LnPeerError(
        'EVEN_TYPE',
        `type ${type} is even: a peer that does not know it will disconnect (BOLT 1). ` +
          `Use the odd type ${type + 1}, or negotiate it (for example with a feature bit) and register it as an even type`,
        { type },
      );
    }
    return msg;
  }

  /**
   * Non-fatal observations about this message's type: a type below the custom range, or one
   * already used by a known protocol. Empty for a type that is unlikely to collide.
   */
  warnings(): string[] {
    const { type } = this;
    const notes: string[] = [];
    if (type < CUSTOM_TYPE_RANGE_START && !APP_HANDLED_BOLT_TYPES.has(type)) {
      notes.push(`type ${type} is below ${CUSTOM_TYPE_RANGE_START}: BOLT 1 and bLIP-0002 reserve that range, and LND refuses such custom messages by default`);
    }
    const user = KNOWN_CUSTOM_TYPES.get(type);
    if (user) notes.push(`type ${type} is already used by ${user}; peers that speak it will read this message as such`);
    return notes;
  }

  /** True when the type is odd (a peer that does not know it ignores it, BOLT 1). */
  get isOdd(): boolean {
    return this.type % 2 === 1;
  }

  /** The whole message: 2-byte big-endian type followed by the payload. */
  encode(): Uint8Array {
    const out = new Uint8Array(2 + this.payload.length);
    writeU16(out, 0, this.type);
    out.set(this.payload, 2);
    return out;
  }

  /** The whole message as lowercase hex, the form `sendcustommsg` takes. */
  toHex(): string {
    return toHex(this.encode());
  }
}

function hasType(types: ValidateOptions['evenTypes'], type: number): boolean {
  if (!types) return false;
  if (types instanceof Set) return types.has(type);
  for (const t of types) if (t === type) return true;
  return false;
}

function tooLong(length: number): LnPeerError {
  return new LnPeerError(
    'MESSAGE_TOO_LONG',
    `custom message is ${length} bytes; a Lightning message is at most ${MAX_MESSAGE_LENGTH} bytes (2-byte type + at most ${MAX_PAYLOAD_LENGTH} payload bytes)`,
    { length },
  );
}
