/**
 * A BOLT 8 over WebSocket listener (Node.js, with the `ws` package): its own HTTP server on
 * `host:port`, or the application's `http.Server` on a path. Each accepted WebSocket becomes
 * a {@link Connection}, handed over with the remote's address; PeerManager then applies the
 * limits of every inbound connection.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NetAddress } from '../addresses.js';
import type { Connection } from '../connection.js';
import { LnPeerError } from '../errors.js';
import type { TcpListener } from '../platform/types.js';
import { webSocketConnection, type WebSocketLike } from './websocket.js';
import { loadWs } from './ws-package.js';

/**
 * The largest WebSocket frame accepted, in bytes: a frame carries one or more whole BOLT 8
 * packets (at most 65,569 bytes each) or a chunk of them; lnpeer's own client sends at most
 * about 130 KiB in one. A larger frame closes the connection (RFC 6455 1009).
 */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024;
/** Time for a client's HTTP upgrade request, in ms: a socket that sends no request is closed. */
const UPGRADE_TIMEOUT_MS = 10_000;

/** The part of Node's `http.Server` that attaching uses. */
export interface HttpServerLike {
  /** Adds the listener of HTTP upgrades (Node's `http.Server` `upgrade` event). */
  on(event: 'upgrade', listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
  /** Removes it. */
  off(event: 'upgrade', listener: (request: IncomingMessage, socket: Duplex, head: Buffer) => void): unknown;
}

/** Options of a WebSocket listener. */
export interface WebSocketListenerOptions {
  /** Only upgrades to this path are accepted. Default: any path. */
  path?: string;
  /** See DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
}

type OnConnection = (connection: Connection, remote: NetAddress) => void;

/** Accepts WebSocket upgrades on `server` (for `path`); returns the listener to remove. */
export async function attachWebSocket(server: HttpServerLike, options: WebSocketListenerOptions, onConnection: OnConnection): Promise<{ close(): Promise<void> }> {
  const { WebSocketServer } = await loadWs();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.path !== undefined && new URL(request.url ?? '/', 'http://host').pathname !== options.path) {
      // Another path belongs to the application (or nobody): left to its own upgrade listeners.
      return;
    }
    socket.on('error', () => socket.destroy());
    wss.handleUpgrade(request, socket, head, (ws) => {
      const remote = { host: request.socket.remoteAddress ?? '', port: request.socket.remotePort ?? 0 };
      onConnection(webSocketConnection(ws as unknown as WebSocketLike), remote);
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    close: async () => {
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}

/** Listens on `host:port` with an HTTP server of its own that only upgrades to BOLT 8 over WebSocket. */
export async function listenWebSocket(address: NetAddress, options: WebSocketListenerOptions, onConnection: OnConnection, onError: (error: LnPeerError) => void): Promise<TcpListener> {
  const server: Server = createServer((_request, response) => {
    // RFC 6455 §4.2.2: a client that did not ask for the upgrade is told to.
    response.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
    response.end('426 Upgrade Required: this port speaks BOLT 8 (Lightning) over WebSocket; open a WebSocket to it\n');
  });
  server.headersTimeout = UPGRADE_TIMEOUT_MS;
  server.requestTimeout = UPGRADE_TIMEOUT_MS;
  server.on('clientError', (error, socket) => {
    // Not HTTP at all (a raw Lightning client on the wrong port, say): a clean close with a reason.
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nthis port speaks BOLT 8 over WebSocket, not ${error.message}\n`);
    else socket.destroy();
  });
  const attached = await attachWebSocket(server, options, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new LnPeerError('CONNECTION_FAILED', `cannot listen on ${address.host}:${address.port}: ${err.message}`, { ...address }, { cause: err })));
    server.listen(address.port, address.host, () => resolve());
  });
  server.removeAllListeners('error');
  server.on('error', (err) => onError(new LnPeerError('CONNECTION_FAILED', `the WebSocket listener on ${address.host}:${address.port} failed: ${err.message}`, { ...address }, { cause: err })));
  const bound = server.address() as { address: string; port: number };
  return {
    address: { host: bound.address, port: bound.port },
    close: async () => {
      await attached.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
