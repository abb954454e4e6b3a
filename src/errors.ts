/**
 * The one error class of lnpeer. Every failure that reaches an application is an
 * `LnPeerError` with a stable `code`; the message names the offending value and
 * what is allowed instead.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type LnPeerErrorCode =
  // Arguments and outgoing custom messages (docs/custom-messages.md "What the validator refuses").
  | 'INVALID_ARGUMENT'
  | 'INVALID_NODE_ID'
  | 'INVALID_ADDRESS'
  | 'INVALID_PRIVATE_KEY'
  | 'INVALID_HEX'
  | 'INVALID_TYPE'
  | 'MESSAGE_TOO_SHORT'
  | 'MESSAGE_TOO_LONG'
  | 'INTERNAL_TYPE'
  | 'EVEN_TYPE'
  // Wire decoding (BOLT 1).
  | 'UNEXPECTED_EOF'
  | 'BIGSIZE_NOT_CANONICAL'
  | 'TLV_NOT_MINIMAL'
  | 'TLV_NOT_INCREASING'
  | 'TLV_LENGTH_EXCEEDS_DATA'
  | 'TLV_INVALID_VALUE'
  | 'TLV_UNKNOWN_EVEN'
  | 'INVALID_MESSAGE'
  | 'INVALID_ADDRESS_DESCRIPTOR'
  | 'UNKNOWN_EVEN_FEATURE'
  | 'MISSING_FEATURE_DEPENDENCY'
  | 'NO_COMMON_NETWORK'
  // Transport (BOLT 8).
  | 'HANDSHAKE_FAILED'
  | 'DECRYPT_FAILED'
  // Connections and peers.
  | 'PEER_NOT_CONNECTED'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_CLOSED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'QUEUE_FULL'
  | 'TOO_MANY_PEERS'
  | 'RATE_LIMITED'
  | 'PROTOCOL_VIOLATION'
  | 'MANAGER_CLOSED'
  // A protocol on custom messages (Commando, LSPS0): the remote answered its request with an
  // error; `details` hold its `code`, `message` and `data`.
  | 'RPC_ERROR'
  // The platform has no such transport (TCP in a browser, WebSocket without `ws` on Node 20).
  | 'UNSUPPORTED'
  // A defect in lnpeer itself, reported instead of crashing; only the connection concerned is closed.
  | 'INTERNAL_ERROR';

/**
 * Why a BOLT 8 handshake failed, in `LnPeerError.details.reason` when `code` is `HANDSHAKE_FAILED`.
 * `OUT_OF_ORDER`: the acts of a `noise` handshake object were called out of order or twice.
 */
export type HandshakeFailure = 'BAD_VERSION' | 'BAD_PUBKEY' | 'BAD_CIPHERTEXT' | 'BAD_TAG' | 'SHORT_READ' | 'TIMEOUT' | 'OUT_OF_ORDER';

/**
 * The error lnpeer throws, rejects with and emits.
 *
 * @example
 * ```ts
 * try {
 *   await pm.sendCustomMsg(nodeId, '0010');
 * } catch (err) {
 *   if (err instanceof LnPeerError && err.code === 'INTERNAL_TYPE') console.error(err.message);
 * }
 * ```
 */
export class LnPeerError extends Error {
  override readonly name = 'LnPeerError';
  /** Stable machine-readable code. */
  readonly code: LnPeerErrorCode;
  /** Structured facts about the failure (for example `{ reason: 'BAD_TAG', act: 2 }`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: LnPeerErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/**
 * True when `err` is an `LnPeerError`, optionally with the given code; false for anything
 * else (a `code` that is no error code included).
 *
 * @example
 * ```ts
 * pm.sendCustomMsg(nodeId, msg).catch((err) => {
 *   if (isLnPeerError(err, 'QUEUE_FULL')) setTimeout(retry, 100);
 * });
 * ```
 */
export function isLnPeerError(err: unknown, code?: LnPeerErrorCode): err is LnPeerError {
  return err instanceof LnPeerError && (code === undefined || err.code === code);
}
