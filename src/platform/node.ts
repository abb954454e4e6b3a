/** The Node.js side of the platform seam (see types.ts). */
import { randomFillSync } from 'node:crypto';
export { EventEmitter } from 'node:events';
export { nodeAeads as platformAeads, nodeCurves as platformCurves, nodeLateAeads as platformLateAeads } from '../crypto/node.js';
export { dialTcp, listenTcp } from '../transports/tcp.js';
export { dialSocks5 } from '../transports/socks5.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../transports/websocket-server.js';
import { loadWs } from '../transports/ws-package.js';
import type { WebSocketConstructor } from '../transports/websocket.js';

export { attachWebSocket, listenWebSocket } from '../transports/websocket-server.js';

export const PLATFORM = 'node';

/**
 * The WebSocket client: the `ws` package when installed (it can pause reading, tell when a
 * frame was written, and drop a socket at once), else the global one of Node 22 and later.
 */
export async function loadWebSocket(): Promise<WebSocketConstructor> {
  let ws: typeof import('ws');
  try {
    ws = await loadWs();
  } catch (err) {
    const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (global) return global;
    throw err;
  }
  return class extends ws.WebSocket {
    constructor(url: string) {
      // Core Lightning knows no compression; frames are capped as on lnpeer's own listener.
      super(url, { perMessageDeflate: false, maxPayload: DEFAULT_MAX_FRAME_BYTES, generateMask: sameByteMask });
    }
  } as unknown as WebSocketConstructor;
}

/**
 * Each frame's masking key is one random byte, four times. Core Lightning's websocketd
 * unmasks every read() of a frame from the key's first byte again, which corrupts a frame
 * whose payload arrives in pieces (the connection then fails with "Bad encrypted packet");
 * a key of four equal bytes unmasks the same from any offset (docs/interop.md). The mask
 * guards intermediaries against bytes a script chose (RFC 6455 §10.3); lnpeer's frames only
 * ever carry BOLT 8 ciphertext, which no one chooses.
 */
function sameByteMask(mask: Buffer): void {
  randomFillSync(mask, 0, 1);
  mask.fill(mask[0], 1, 4);
}

export function defer(fn: () => void): void {
  setImmediate(fn);
}

export function unref(timer: ReturnType<typeof setTimeout>): void {
  timer.unref();
}

export function environment(name: string): string | undefined {
  return process.env[name];
}
