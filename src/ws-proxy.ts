/**
 * A WebSocket-to-TCP bridge, for web pages that talk to nodes listening only on TCP (LND,
 * LDK, Eclair, most Core Lightning setups): a WebSocket opened on `/<host>:<port>` (the
 * convention lnmessage's `wsProxy` uses) is joined to a TCP connection to that target. It
 * only connects to the targets it was given: a proxy that connects anywhere it is told is an
 * open relay into the network it runs in. Node.js only (`ws` package); the `lnpeer ws-proxy`
 * command runs one.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { parseHostPort, type NetAddress } from './addresses.js';
import { LnPeerError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES } from './transports/websocket-server.js';
import { loadWs } from './transports/ws-package.js';

/** Connections bridged at once by default; more are refused with HTTP 503. */
export const DEFAULT_MAX_PROXY_CONNECTIONS = 256;
/** Time to reach a target over TCP, in ms. */
const TARGET_CONNECT_TIMEOUT_MS = 10_000;
/** Bytes a WebSocket may hold unsent before the TCP side stops reading (and the other way round). */
const BRIDGE_HIGH_WATER_BYTES = 1 << 20;

/** Options of {@link startWsProxy}. */
export interface WsProxyOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** The only targets it connects to (`host:port` strings or addresses); at least one. */
  allow: ReadonlyArray<string | NetAddress>;
  /** Connections bridged at once. Default 256. */
  maxConnections?: number;
  /** Called for each bridged connection and refusal, for logs. */
  onEvent?: (event: WsProxyEvent) => void;
}

/** What a proxy reports. */
export type WsProxyEvent =
  | { event: 'open'; target: string; from: string }
  | { event: 'close'; target: string; from: string; bytesIn: number; bytesOut: number; reason: string }
  | { event: 'refused'; target: string; from: string; reason: string };

/** A running proxy. */
export interface WsProxy {
  /** The address it listens on. */
  readonly address: NetAddress;
  /** Stops listening and closes every bridged connection. */
  close(): Promise<void>;
}

/**
 * Starts a WebSocket-to-TCP proxy. Throws `INVALID_ARGUMENT` for a bad `allow` list and
 * `CONNECTION_FAILED` when it cannot listen.
 *
 * @example
 * ```ts
 * const proxy = await startWsProxy({ port: 8080, allow: ['127.0.0.1:9735'] });
 * // in a page: new PeerManager({ wsProxy: 'ws://127.0.0.1:8080' }).connect(`${id}@127.0.0.1:9735`)
 * ```
 */
export async function startWsProxy(options: WsProxyOptions): Promise<WsProxy> {
  const allowed = new Set(parseAllowList(options.allow));
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_PROXY_CONNECTIONS;
  const report = options.onEvent ?? (() => {});
  const { WebSocketServer } = await loadWs();
  const wss = new WebSocketServer({ noServer: true, maxPayload: DEFAULT_MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  const bridges = new Set<() => void>();

  const server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
    response.end('426 Upgrade Required: open a WebSocket to /<host>:<port>\n');
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const from = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const target = targetOf(request.url);
    const name = target ? key(target) : String(request.url);
    const refuse = (status: string, reason: string) => {
      report({ event: 'refused', target: name, from, reason });
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${reason}\n`);
    };
    if (!target || !allowed.has(name)) return refuse('403 Forbidden', `target ${name} is not one this proxy may connect to`);
    if (bridges.size >= maxConnections) return refuse('503 Service Unavailable', `maxConnections (${maxConnections}) connections are open`);
    wss.handleUpgrade(request, socket, head, (ws) => bridge(ws, target, from));
  });

  function bridge(ws: WebSocket, address: NetAddress, from: string): void {
    const target = key(address);
    const tcp: Socket = connect(address);
    tcp.setNoDelay(true);
    let bytesIn = 0;
    let bytesOut = 0;
    let reason = '';
    const stop = () => {
      tcp.destroy();
      ws.terminate();
    };
    bridges.add(stop);
    const timer = setTimeout(() => ((reason = `the target did not answer within ${TARGET_CONNECT_TIMEOUT_MS} ms`), ws.close(1011, reason), tcp.destroy()), TARGET_CONNECT_TIMEOUT_MS);
    ws.pause(); // nothing flows before the target is connected
    tcp.once('connect', () => {
      clearTimeout(timer);
      report({ event: 'open', target, from });
      ws.resume();
    });
    // Each TCP chunk is one binary frame; a WebSocket that does not keep up stops the TCP reads.
    tcp.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
      ws.send(chunk, { binary: true }, () => {
        if (ws.bufferedAmount < BRIDGE_HIGH_WATER_BYTES) tcp.resume();
      });
      if (ws.bufferedAmount >= BRIDGE_HIGH_WATER_BYTES) tcp.pause();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        // RFC 6455 1003: BOLT 8 travels in binary frames only.
        reason = 'a text frame (BOLT 8 over WebSocket is binary)';
        ws.close(1003, reason);
        tcp.destroy();
        return;
      }
      bytesIn += data.length;
      if (!tcp.write(data)) ws.pause();
    });
    tcp.on('drain', () => ws.resume());
    tcp.on('error', (err) => {
      reason ||= `the target failed: ${err.message}`;
      if (ws.readyState === ws.OPEN) ws.close(1011, reason.slice(0, 120));
    });
    tcp.on('close', () => {
      clearTimeout(timer);
      reason ||= 'the target closed the connection';
      if (ws.readyState === ws.OPEN) ws.close(1000, 'the target closed the connection');
      // Core Lightning never answers a close frame: do not wait for one.
      setTimeout(() => ws.terminate(), 1000).unref();
    });
    ws.on('close', () => {
      reason ||= 'the WebSocket closed';
      tcp.end();
      setTimeout(() => tcp.destroy(), 2000).unref();
      if (bridges.delete(stop)) report({ event: 'close', target, from, bytesIn, bytesOut, reason });
    });
    ws.on('error', () => tcp.destroy());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new LnPeerError('CONNECTION_FAILED', `the ws-proxy cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.message}`, {}, { cause: err })));
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const bound = server.address() as { address: string; port: number };
  return {
    address: { host: bound.address, port: bound.port },
    close: async () => {
      for (const stop of bridges) stop();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The normalised `host:port` of each allowed target. */
function parseAllowList(allow: WsProxyOptions['allow']): string[] {
  if (!Array.isArray(allow) || allow.length === 0) {
    throw new LnPeerError('INVALID_ARGUMENT', 'a ws-proxy needs at least one allowed target ("host:port"): it refuses every other, as an open relay would be a hole into its network');
  }
  return allow.map((a) => key(typeof a === 'string' ? parseHostPort(a) : a));
}

/** The target `/<host>:<port>` (or `/[ipv6]:<port>`) of a request URL, or undefined. */
function targetOf(url: string | undefined): NetAddress | undefined {
  try {
    return parseHostPort(decodeURIComponent(new URL(url ?? '/', 'http://proxy').pathname.slice(1)));
  } catch {
    return undefined;
  }
}

/** `host:port` as people write it (`[ipv6]:port`), lowercase: how targets are compared and named. */
function key({ host, port }: NetAddress): string {
  return `${host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase()}:${port}`;
}
