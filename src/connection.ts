/**
 * The byte pipe under a {@link Peer}: the smallest thing a transport must provide, in the
 * spirit of LDK's `SocketDescriptor` (docs/architecture.md "Connections"). A TCP socket, a
 * WebSocket, a SOCKS5 tunnel or an in-memory pair each become one through a small adapter.
 */
import { describe } from './bytes.js';
import { LnPeerError } from './errors.js';
import { isDuplexLike, streamConnection, type DuplexLike } from './transports/stream.js';

/** What a connection reports to the one that reads it (a `Peer`). */
export interface ConnectionHandler {
  /** Bytes from the remote, in any chunking. Not called while paused. */
  data(chunk: Uint8Array): void;
  /**
   * `bufferedAmount` went down: some written bytes were handed to the network. Called at
   * least each time it reaches 0 after a write.
   */
  flushed(): void;
  /** The remote will send nothing more (TCP FIN). Transports without a half-close never call it. */
  end(): void;
  /** The connection is gone, with the transport's error when it failed (a reset, a refused frame). Exactly once. */
  closed(error?: Error): void;
}

/**
 * A bidirectional byte stream. Every method may be called in any state: after the connection
 * closed, `write` drops the bytes and `pause`/`resume`/`end`/`destroy` do nothing.
 */
export interface Connection {
  /** Starts reporting to `handler`. Called once, before any other method. */
  open(handler: ConnectionHandler): void;
  /**
   * Queues bytes to send, in order. The connection owns them from now on: the caller never
   * changes them afterwards, so an adapter may keep a reference instead of copying.
   */
  write(bytes: Uint8Array): void;
  /** Bytes queued by `write` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Stops reporting received bytes (the transport stops reading, so the sender is slowed). */
  pause(): void;
  /** Reports received bytes again. */
  resume(): void;
  /** Sends what is queued, then closes (a graceful close). */
  end(): void;
  /** Closes at once; queued bytes are dropped. */
  destroy(): void;
}

/** What `Peer` runs over: a {@link Connection}, or a Node duplex stream (a socket). */
export type Transport = Connection | DuplexLike;

/**
 * `transport` as a {@link Connection}: itself, or a Node duplex stream wrapped. Throws
 * `INVALID_ARGUMENT` for anything else.
 *
 * @example
 * ```ts
 * import { connect } from 'node:net';
 * const connection = asConnection(connect(9735, '127.0.0.1')); // a TCP socket as a Connection
 * ```
 */
export function asConnection(transport: Transport): Connection {
  if (isConnection(transport)) return transport;
  if (isDuplexLike(transport)) return streamConnection(transport);
  throw new LnPeerError('INVALID_ARGUMENT', `a connection must be a Connection or a Node duplex stream, got ${describe(transport)}`);
}

/**
 * True when `value` has the shape of a {@link Connection}.
 *
 * @example
 * ```ts
 * isConnection(memoryPair()[0]); // true
 * isConnection(new WebSocket(url)); // false: a WebSocket needs an adapter
 * ```
 */
export function isConnection(value: unknown): value is Connection {
  const c = value as Partial<Connection> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.open === 'function' &&
    typeof c.write === 'function' &&
    typeof c.pause === 'function' &&
    typeof c.resume === 'function' &&
    typeof c.end === 'function' &&
    typeof c.destroy === 'function' &&
    'bufferedAmount' in c
  );
}
