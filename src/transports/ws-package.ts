/**
 * The `ws` package, an optional peer dependency: loaded only when a WebSocket is used (Node).
 * A module of its own so that no published type refers to `ws`: an application without it
 * type-checks.
 */
import { LnPeerError } from '../errors.js';

export async function loadWs(): Promise<typeof import('ws')> {
  try {
    return await import('ws');
  } catch (err) {
    throw new LnPeerError('UNSUPPORTED', 'BOLT 8 over WebSocket on Node.js needs the `ws` package: npm install ws', {}, { cause: err });
  }
}
