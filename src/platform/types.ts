/**
 * The one place where Node.js and browsers differ (docs/architecture.md "Platform"). The
 * package's `imports` field maps `#platform` to `node.ts` under the `node` condition and to
 * `browser.ts` everywhere else; both export exactly this.
 */
import type { Connection } from '../connection.js';
import type { Aead, Curve } from '../crypto/types.js';
import type { LnPeerError } from '../errors.js';
import type { NetAddress } from '../addresses.js';
import type { WaitOptions } from '../wait.js';
import type { Socks5Proxy } from '../proxy.js';
import type { WebSocketConstructor } from '../transports/websocket.js';
import type { HttpServerLike, WebSocketListenerOptions } from '../transports/websocket-server.js';

/** A TCP listener (Node only). */
export interface TcpListener {
  /** The address actually bound. */
  readonly address: NetAddress;
  /** Stops accepting; resolves once the listening socket is closed (accepted connections are not touched). */
  close(): Promise<void>;
}

export interface Platform {
  readonly PLATFORM: 'node' | 'browser';
  /** Node's `EventEmitter`, or one with its API and semantics. */
  readonly EventEmitter: new () => object;
  /** Runs `fn` in a later turn of the event loop, after pending I/O (Node's `setImmediate`). */
  defer(fn: () => void): void;
  /** Keeps `timer` from holding the process open (Node); nothing where there is no process. */
  unref(timer: ReturnType<typeof setTimeout>): void;
  /** An environment variable (Node's `process.env`); undefined where there is no environment. */
  environment(name: string): string | undefined;
  /** Faster AEADs this platform has, fastest first (noble's is always added last). */
  readonly platformAeads: readonly Aead[];
  /** AEADs that load asynchronously (wasm), fastest first; resolves to none if they fail to load. */
  platformLateAeads(): Promise<readonly Aead[]>;
  /** Faster secp256k1 implementations this platform has, fastest first (noble's is always added last). */
  readonly platformCurves: readonly Curve[];
  /** Opens a TCP connection; rejects with `UNSUPPORTED` where there is no TCP. */
  dialTcp(address: NetAddress, options?: WaitOptions): Promise<Connection>;
  /** The WebSocket client class; rejects with `UNSUPPORTED` where there is none. */
  loadWebSocket(): Promise<WebSocketConstructor>;
  /** Listens for BOLT 8 over WebSocket on an HTTP server of its own (Node). */
  listenWebSocket(address: NetAddress, options: WebSocketListenerOptions, onConnection: (connection: Connection, remote: NetAddress) => void, onError: (error: LnPeerError) => void): Promise<TcpListener>;
  /** Accepts BOLT 8 over WebSocket on the application's HTTP server (Node). */
  attachWebSocket(server: HttpServerLike, options: WebSocketListenerOptions, onConnection: (connection: Connection, remote: NetAddress) => void): Promise<{ close(): Promise<void> }>;
  /** Opens a TCP connection through a SOCKS5 proxy (RFC 1928); rejects with `UNSUPPORTED` where there is no TCP. */
  dialSocks5(proxy: Socks5Proxy, target: NetAddress, options?: WaitOptions): Promise<Connection>;
  /** Listens for TCP connections; rejects with `UNSUPPORTED` where there is no TCP. */
  listenTcp(address: NetAddress, onConnection: (connection: Connection, remote: NetAddress) => void, onError: (error: LnPeerError) => void): Promise<TcpListener>;
}
