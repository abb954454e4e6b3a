/**
 * TCP, through `node:net`: dialing a node, and a listener that hands each accepted socket
 * over as a {@link Connection}. Node.js only (reached through the platform module).
 */
import { connect, createServer, type Server } from 'node:net';
import type { Connection } from '../connection.js';
import { LnPeerError } from '../errors.js';
import type { NetAddress } from '../addresses.js';
import type { TcpListener } from '../platform/types.js';
import { abortError, watchDeadline, type WaitOptions } from '../wait.js';
import { streamConnection } from './stream.js';

/**
 * Opens a TCP connection. Rejects with `CONNECTION_FAILED`, `TIMEOUT` (after `timeoutMs`,
 * details `{ stage: 'connect' }`) or `ABORTED`; the socket never outlives a rejection.
 */
export function dialTcp({ host, port }: NetAddress, { signal, timeoutMs }: WaitOptions = {}): Promise<Connection> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, `connecting to ${host}:${port}`));
    const socket = connect({ host, port });
    const fail = (error: LnPeerError) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (err: Error) =>
      fail(new LnPeerError('CONNECTION_FAILED', `could not connect to ${host}:${port}: ${err.message}`, { host, port, stage: 'connect' }, { cause: err }));
    const unwatch = watchDeadline({ signal, timeoutMs }, `connecting to ${host}:${port}`, () => new LnPeerError('TIMEOUT', `the TCP connection to ${host}:${port} did not open within ${timeoutMs} ms`, { host, port, stage: 'connect', timeoutMs }), fail);
    const cleanup = () => {
      unwatch();
      socket.off('error', onError);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      cleanup();
      resolve(streamConnection(socket));
    });
  });
}

/**
 * Listens on `host:port` and calls `onConnection` for each accepted socket; a failure of
 * the listening socket after it is bound (an `EMFILE` on accept) goes to `onError`.
 */
export function listenTcp(
  { host, port }: NetAddress,
  onConnection: (connection: Connection, remote: NetAddress) => void,
  onError: (error: LnPeerError) => void,
): Promise<TcpListener> {
  const server: Server = createServer((socket) => onConnection(streamConnection(socket), { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }));
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new LnPeerError('CONNECTION_FAILED', `cannot listen on ${host}:${port}: ${err.message}`, { host, port }, { cause: err })));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => onError(new LnPeerError('CONNECTION_FAILED', `the listener on ${host}:${port} failed: ${err.message}`, { host, port }, { cause: err })));
      const bound = server.address() as { address: string; port: number };
      resolve({
        address: { host: bound.address, port: bound.port },
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
