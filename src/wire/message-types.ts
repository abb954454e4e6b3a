/**
 * Every message type the BOLTs define (BOLT 1, 2, 4 and 7: 50 types), and what a peer without
 * channels needs to dispatch them: which are gossip, which are about a channel and where
 * that channel's id sits.
 */
import { copyBytes, readU16 } from '../bytes.js';
import { checkBytes, checkInteger } from '../checks.js';
import { LnPeerError } from '../errors.js';

/** A message type defined in a BOLT. */
export interface BoltMessageType {
  type: number;
  name: string;
  /** The BOLT that defines it. */
  bolt: 1 | 2 | 4 | 7;
  /**
   * For BOLT 2 messages: the offset in the payload (after the 2-byte type) of the 32-byte
   * `channel_id` or `temporary_channel_id` the message is about.
   */
  channelIdOffset?: number;
}

/**
 * BOLT 1 "Lightning Message Format" and BOLT 8: "The maximum size of any Lightning message
 * MUST NOT exceed 65535 bytes" (the 2-byte type included).
 */
export const MAX_MESSAGE_LENGTH = 65535;

/** BOLT 1 `warning`. */
export const WARNING_TYPE = 1;
/** BOLT 1 `init`. */
export const INIT_TYPE = 16;
/** BOLT 1 `error`. */
export const ERROR_TYPE = 17;
/** BOLT 1 `ping`. */
export const PING_TYPE = 18;
/** BOLT 1 `pong`. */
export const PONG_TYPE = 19;

// BOLT 2: every message starts with its `channel_id` (or `temporary_channel_id`), except
// `open_channel` and `open_channel2`, which start with `chain_hash` (32 bytes) before it.
const AFTER_CHAIN_HASH = 32;

const TABLE: readonly BoltMessageType[] = [
  { type: 1, name: 'warning', bolt: 1 },
  { type: 2, name: 'stfu', bolt: 2, channelIdOffset: 0 },
  { type: 7, name: 'peer_storage', bolt: 1 },
  { type: 9, name: 'peer_storage_retrieval', bolt: 1 },
  { type: 16, name: 'init', bolt: 1 },
  { type: 17, name: 'error', bolt: 1 },
  { type: 18, name: 'ping', bolt: 1 },
  { type: 19, name: 'pong', bolt: 1 },
  { type: 32, name: 'open_channel', bolt: 2, channelIdOffset: AFTER_CHAIN_HASH },
  { type: 33, name: 'accept_channel', bolt: 2, channelIdOffset: 0 },
  { type: 34, name: 'funding_created', bolt: 2, channelIdOffset: 0 },
  { type: 35, name: 'funding_signed', bolt: 2, channelIdOffset: 0 },
  { type: 36, name: 'channel_ready', bolt: 2, channelIdOffset: 0 },
  { type: 38, name: 'shutdown', bolt: 2, channelIdOffset: 0 },
  { type: 39, name: 'closing_signed', bolt: 2, channelIdOffset: 0 },
  { type: 40, name: 'closing_complete', bolt: 2, channelIdOffset: 0 },
  { type: 41, name: 'closing_sig', bolt: 2, channelIdOffset: 0 },
  { type: 64, name: 'open_channel2', bolt: 2, channelIdOffset: AFTER_CHAIN_HASH },
  { type: 65, name: 'accept_channel2', bolt: 2, channelIdOffset: 0 },
  { type: 66, name: 'tx_add_input', bolt: 2, channelIdOffset: 0 },
  { type: 67, name: 'tx_add_output', bolt: 2, channelIdOffset: 0 },
  { type: 68, name: 'tx_remove_input', bolt: 2, channelIdOffset: 0 },
  { type: 69, name: 'tx_remove_output', bolt: 2, channelIdOffset: 0 },
  { type: 70, name: 'tx_complete', bolt: 2, channelIdOffset: 0 },
  { type: 71, name: 'tx_signatures', bolt: 2, channelIdOffset: 0 },
  { type: 72, name: 'tx_init_rbf', bolt: 2, channelIdOffset: 0 },
  { type: 73, name: 'tx_ack_rbf', bolt: 2, channelIdOffset: 0 },
  { type: 74, name: 'tx_abort', bolt: 2, channelIdOffset: 0 },
  { type: 77, name: 'splice_locked', bolt: 2, channelIdOffset: 0 },
  { type: 80, name: 'splice_init', bolt: 2, channelIdOffset: 0 },
  { type: 81, name: 'splice_ack', bolt: 2, channelIdOffset: 0 },
  { type: 127, name: 'start_batch', bolt: 2, channelIdOffset: 0 },
  { type: 128, name: 'update_add_htlc', bolt: 2, channelIdOffset: 0 },
  { type: 130, name: 'update_fulfill_htlc', bolt: 2, channelIdOffset: 0 },
  { type: 131, name: 'update_fail_htlc', bolt: 2, channelIdOffset: 0 },
  { type: 132, name: 'commitment_signed', bolt: 2, channelIdOffset: 0 },
  { type: 133, name: 'revoke_and_ack', bolt: 2, channelIdOffset: 0 },
  { type: 134, name: 'update_fee', bolt: 2, channelIdOffset: 0 },
  { type: 135, name: 'update_fail_malformed_htlc', bolt: 2, channelIdOffset: 0 },
  { type: 136, name: 'channel_reestablish', bolt: 2, channelIdOffset: 0 },
  { type: 256, name: 'channel_announcement', bolt: 7 },
  { type: 257, name: 'node_announcement', bolt: 7 },
  { type: 258, name: 'channel_update', bolt: 7 },
  { type: 259, name: 'announcement_signatures', bolt: 7 },
  { type: 261, name: 'query_short_channel_ids', bolt: 7 },
  { type: 262, name: 'reply_short_channel_ids_end', bolt: 7 },
  { type: 263, name: 'query_channel_range', bolt: 7 },
  { type: 264, name: 'reply_channel_range', bolt: 7 },
  { type: 265, name: 'gossip_timestamp_filter', bolt: 7 },
  { type: 513, name: 'onion_message', bolt: 4 },
];

/** The BOLT-defined message types by number. */
export const BOLT_MESSAGE_TYPES: ReadonlyMap<number, Readonly<BoltMessageType>> = new Map(
  TABLE.map((entry) => [entry.type, Object.freeze(entry)]),
);

/** The BOLT name of a message type (`'init'`, `'open_channel'`, …), or `undefined`. */
export function messageTypeName(type: number): string | undefined {
  checkInteger(type, 'messageTypeName() type', 0, 0xffff);
  return BOLT_MESSAGE_TYPES.get(type)?.name;
}

/** True when a BOLT defines `type`; false for anything else. */
export function isBoltMessageType(type: number): boolean {
  return BOLT_MESSAGE_TYPES.has(type);
}

/**
 * True for the BOLT 7 gossip messages (256–265). A peer that asked for no gossip may still
 * get a node's own `channel_update`/`node_announcement` and must ignore them, not treat the
 * even ones as unknown (BOLT 1 "Lightning Message Format"). False for anything else.
 */
export function isGossipMessageType(type: number): boolean {
  return BOLT_MESSAGE_TYPES.get(type)?.bolt === 7;
}

/**
 * True for the BOLT 2 channel messages: types 32–255 and `stfu` (2). BOLT 1 "The `error`
 * and `warning` Messages": the sender "SHOULD send `error` with the unknown `channel_id` in
 * reply to messages of type `32`-`255` related to unknown channels". False for anything else.
 */
export function isChannelMessageType(type: number): boolean {
  return BOLT_MESSAGE_TYPES.get(type)?.channelIdOffset !== undefined;
}

/**
 * The 2-byte big-endian type of a whole message (BOLT 1 "Lightning Message Format").
 * Throws `INVALID_MESSAGE` when there are fewer than 2 bytes.
 */
export function messageTypeOf(msg: Uint8Array): number {
  checkBytes(msg, 'messageTypeOf() msg');
  return typeOf(msg);
}

/** `messageTypeOf` for a `msg` known to be bytes. */
export function typeOf(msg: Uint8Array): number {
  if (msg.length < 2) {
    throw new LnPeerError('INVALID_MESSAGE', `message has ${msg.length} bytes: at least 2 are needed for the type`, {
      length: msg.length,
    });
  }
  return readU16(msg, 0);
}

/**
 * The `channel_id` (or `temporary_channel_id`) a channel message is about, as a copy, or
 * `undefined` when `msg` is not a channel message. `msg` is the whole message, type first.
 * Throws `INVALID_MESSAGE` when a channel message is too short to hold the id (BOLT 1: "upon
 * receiving a known message with insufficient length for the contents: MUST close the
 * connection").
 */
export function channelIdOf(msg: Uint8Array): Uint8Array | undefined {
  checkBytes(msg, 'channelIdOf() msg');
  const type = typeOf(msg);
  const entry = BOLT_MESSAGE_TYPES.get(type);
  if (entry?.channelIdOffset === undefined) return undefined;
  const start = 2 + entry.channelIdOffset;
  if (msg.length < start + 32) {
    throw new LnPeerError(
      'INVALID_MESSAGE',
      `${entry.name} message has ${msg.length} bytes: its channel id needs at least ${start + 32}`,
      { type, length: msg.length },
    );
  }
  return copyBytes(msg, start, start + 32);
}
