/** Node ids (BOLT 8 static keys) and `nodeid@host:port` addresses, as people type them. */
import { bytesOrHex, describe, toHex } from './bytes.js';
import { isValidPublicKey } from './crypto.js';
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
  if (bytes.length !== 33 || !isValidPublicKey(bytes)) {
    const shown = typeof nodeId === 'string' ? JSON.stringify(nodeId) : toHex(bytes);
    throw new LnPeerError(
      'INVALID_NODE_ID',
      bytes.length !== 33
        ? `node id ${shown} is ${bytes.length} bytes; a node id is a 33-byte compressed public key (66 hex characters)`
        : `node id ${shown} is not a point on secp256k1: a node id is a compressed public key starting with 02 or 03`,
      { nodeId },
    );
  }
  return bytes;
}

/** Normalises a node id to 66 lowercase hex characters. */
export function nodeIdHex(nodeId: Uint8Array | string): string {
  return toHex(parseNodeId(nodeId));
}

/** A parsed `nodeid@host:port`. */
export interface PeerAddress {
  nodeId: string;
  host: string;
  port: number;
}

/** The default Lightning port (BOLT 1: mainnet 9735). */
export const DEFAULT_PORT = 9735;

/**
 * Parses `nodeid@host:port` (IPv6 hosts in brackets: `nodeid@[::1]:9735`; the port defaults
 * to 9735). Throws `INVALID_NODE_ID` or `INVALID_ADDRESS`.
 *
 * @example
 * ```ts
 * const { nodeId, host, port } = parsePeerAddress(`${id}@127.0.0.1:9735`);
 * ```
 */
export function parsePeerAddress(address: string): PeerAddress {
  if (typeof address !== 'string') {
    throw new LnPeerError('INVALID_ADDRESS', `address must be a string "nodeid@host:port", got ${describe(address)}`);
  }
  const at = address.indexOf('@');
  if (at < 0) {
    throw new LnPeerError('INVALID_ADDRESS', `address ${JSON.stringify(address)} has no "@": expected "nodeid@host:port"`, { address });
  }
  const nodeId = nodeIdHex(address.slice(0, at));
  const hostPort = address.slice(at + 1);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(hostPort);
  const port = match?.[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (!match || port < 1 || port > 65535) {
    throw new LnPeerError(
      'INVALID_ADDRESS',
      `address ${JSON.stringify(address)}: "${hostPort}" is not "host:port" (a host name, an IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535)`,
      { address },
    );
  }
  return { nodeId, host: match[1] ?? match[2], port };
}
