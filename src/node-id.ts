/** Node ids (BOLT 8 static keys), as people type them. */
import { bytesOrHex, toHex } from './bytes.js';
import { isValidPublicKey } from './crypto/index.js';
import { LnPeerError } from './errors.js';

/**
 * Parses a node id: a 33-byte compressed secp256k1 public key, as bytes or 66 hex characters
 * (BOLT 8: "all public keys are compressed"). Throws `INVALID_NODE_ID`.
 *
 * @example
 * ```ts
 * const bytes = parseNodeId('02' + '…'); // 33 bytes
 * parseNodeId('02abc'); // throws LnPeerError INVALID_NODE_ID: "… has odd length 5 …"
 * ```
 */
export function parseNodeId(nodeId: Uint8Array | string): Uint8Array {
  const bytes = bytesOrHex(nodeId, 'node id', 'INVALID_NODE_ID');
  if (bytes.length === 33 && knownOnCurve(typeof nodeId === 'string' ? nodeId : toHex(bytes), bytes)) return bytes;
  const shown = typeof nodeId === 'string' ? JSON.stringify(nodeId) : toHex(bytes);
  throw new LnPeerError(
    'INVALID_NODE_ID',
    bytes.length !== 33
      ? `node id ${shown} is ${bytes.length} bytes; a node id is a 33-byte compressed public key (66 hex characters)`
      : `node id ${shown} is not a point on secp256k1: a node id is a compressed public key starting with 02 or 03`,
    { nodeId },
  );
}

/**
 * The most node ids remembered as points on the curve. Checking one takes a square root (12 µs
 * with libsecp256k1, 0.1 ms in a browser's pure JavaScript), and a connection names its peer's
 * id several times (`connect`, the transport, `disconnect`); past this many the memory is
 * cleared (at most about 150 KB).
 */
export const MAX_REMEMBERED_NODE_IDS = 1024;
const onCurve = new Set<string>();

/** Whether `bytes` (33 bytes, spelled `key`) is a point on the curve, asking the curve once per key. */
function knownOnCurve(key: string, bytes: Uint8Array): boolean {
  if (onCurve.has(key)) return true;
  if (!isValidPublicKey(bytes)) return false;
  if (onCurve.size >= MAX_REMEMBERED_NODE_IDS) onCurve.clear();
  onCurve.add(key);
  return true;
}

/** Normalises a node id to 66 lowercase hex characters. */
export function nodeIdHex(nodeId: Uint8Array | string): string {
  return toHex(parseNodeId(nodeId));
}
