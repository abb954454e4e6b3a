/** The side of the platform seam for browsers and every other JavaScript runtime (see types.ts). */
import type { Connection } from '../connection.js';
import type { Aead, Curve } from '../crypto/types.js';
import { LnPeerError } from '../errors.js';
import type { WebSocketConstructor } from '../transports/websocket.js';
import type { TcpListener } from './types.js';

export { EventEmitter } from './emitter.js';

export const PLATFORM = 'browser';

/** Callbacks waiting for the next task, run in order from one message on one channel. */
let deferred: (() => void)[] = [];
let channel: InstanceType<typeof MessageChannel> | undefined;

export function defer(fn: () => void): void {
  deferred.push(fn);
  if (deferred.length > 1) return;
  // A message event is a task of its own, so pending network events run first (setTimeout(0)
  // would be clamped to 4 ms after a few nested calls).
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.addEventListener('message', () => {
      const ready = deferred;
      deferred = [];
      for (const callback of ready) callback();
    });
    channel.port1.start();
  }
  channel.port2.postMessage(null);
}

export function unref(): void {}

export function environment(): undefined {
  return undefined;
}

export const platformAeads: readonly Aead[] = [];

/** None by itself: a page that wants libsodium's AEAD hands it over (`useCrypto`, `libsodiumAead`). */
export async function platformLateAeads(): Promise<readonly Aead[]> {
  return [];
}
export const platformCurves: readonly Curve[] = [];

function noTcp(): LnPeerError {
  return new LnPeerError('UNSUPPORTED', 'TCP is not available on this platform (a browser has only WebSocket): connect to a ws:// or wss:// address, or set the wsProxy option');
}

/** The browser's own WebSocket. */
export async function loadWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!global) throw new LnPeerError('UNSUPPORTED', 'this platform has no WebSocket');
  return global;
}

function noWebSocketServer(): LnPeerError {
  return new LnPeerError('UNSUPPORTED', 'a WebSocket listener needs Node.js (a browser cannot accept connections)');
}

export function listenWebSocket(): Promise<TcpListener> {
  return Promise.reject(noWebSocketServer());
}

export function attachWebSocket(): Promise<{ close(): Promise<void> }> {
  return Promise.reject(noWebSocketServer());
}

export function dialSocks5(): Promise<Connection> {
  return Promise.reject(new LnPeerError('UNSUPPORTED', 'a SOCKS5 proxy (Tor) needs TCP, which a browser does not have'));
}

export function dialTcp(): Promise<Connection> {
  return Promise.reject(noTcp());
}

export function listenTcp(): Promise<TcpListener> {
  return Promise.reject(noTcp());
}
