/**
 * npm `@node-lightning/noise` 0.26.1: a Duplex stream over `net.Socket`, native
 * libsecp256k1 + Node crypto. Both roles; no BOLT 1 at all (the test sends `init`).
 *
 * Quirks (each checked, see test/interop-partners.test.ts):
 * - one chaining key for both directions' key rotation: once both directions have rotated,
 *   the second one to rotate derives a wrong key ("unable to authenticate data" when it
 *   receives, or the remote's MAC failure when it sends). One direction alone works;
 * - `NoiseServer.listen(options, cb)` takes an options object; `(port, host, cb)` drops
 *   the callback;
 * - it leaves Nagle on and hides its `net.Socket`: small back-to-back frames wait ~40 ms
 *   for a delayed ACK unless `setNoDelay` is set on the private `_socket`;
 * - messages are only delivered to a reader: the `data` listener goes on at once.
 */
import type { AddressInfo, Socket } from 'node:net';
import { connect as noiseConnect, createServer, type NoiseSocket } from '@node-lightning/noise';
import {
  DEFAULT_TIMEOUT_MS,
  MessageQueue,
  PartnerClosedError,
  deferred,
  keyBytes,
  nodeIdOf,
  toHex,
  track,
  withTimeout,
  type ConnectOptions,
  type ListenOptions,
  type Partner,
  type PartnerConnection,
  type Role,
} from '../partner.js';

const NAME = 'node-lightning';

/** The wrapped TCP socket: NoiseSocket exposes no setNoDelay of its own. */
function tcp(socket: NoiseSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}

/** Wraps a NoiseSocket right after it was created, before any byte has arrived. */
function wrap(socket: NoiseSocket, role: Role, localNodeId: string): {
  ready: Promise<PartnerConnection>;
  release: () => Promise<void>;
} {
  tcp(socket).setNoDelay(true);
  const queue = new MessageQueue(NAME);
  const closed = deferred<{ reason: string }>();
  const ready = deferred<PartnerConnection>();
  let reason: string | undefined;
  socket.on('data', (message: Buffer) => queue.push(new Uint8Array(message)));
  socket.on('error', (e: Error) => (reason ??= e.message));
  socket.on('close', () => {
    const why = reason ?? 'closed by remote';
    const error = new PartnerClosedError(NAME, why);
    queue.end(error);
    ready.reject(error);
    closed.resolve({ reason: why });
  });
  const release = track(`${NAME} connection`, async () => {
    reason ??= 'closed by driver';
    socket.destroy();
    await closed.promise;
  });
  socket.once('ready', () =>
    ready.resolve({
      name: NAME,
      role,
      localNodeId,
      remoteNodeId: toHex(socket.rpk),
      send: (message) =>
        new Promise<void>((resolve, reject) => {
          if (socket.destroyed) return reject(new PartnerClosedError(NAME, reason ?? 'closed'));
          socket.write(Buffer.from(message), (e) => (e ? reject(e) : resolve()));
        }),
      nextMessage: (ms) => queue.next(ms),
      close: release,
      closed: closed.promise,
    }),
  );
  return { ready: ready.promise, release };
}

export const nodeLightning: Partner & Required<Pick<Partner, 'listen'>> = {
  name: NAME,
  async connect({ nodeId, host, port, privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions) {
    const ls = Buffer.from(keyBytes(privateKey));
    const socket = noiseConnect({ ls, rpk: Buffer.from(nodeId, 'hex'), host, port });
    const { ready, release } = wrap(socket, 'initiator', nodeIdOf(ls));
    try {
      return await withTimeout(ready, timeoutMs, `${NAME} handshake`);
    } catch (e) {
      await release();
      throw e;
    }
  },

  async listen({ privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }: ListenOptions) {
    const ls = Buffer.from(keyBytes(privateKey));
    const nodeId = nodeIdOf(ls);
    const accepted = deferred<PartnerConnection>();
    let releaseSocket: (() => Promise<void>) | undefined;
    const server = createServer({ ls }, (socket) => {
      if (releaseSocket) return void socket.destroy(); // one connection per listener
      const wrapped = wrap(socket, 'responder', nodeId);
      releaseSocket = wrapped.release;
      wrapped.ready.then(accepted.resolve, accepted.reject);
      server.close();
    });
    const release = track(`${NAME} listener`, async () => {
      accepted.reject(new PartnerClosedError(NAME, 'listener closed'));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await releaseSocket?.();
    });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port: 0 }, resolve);
        }),
        timeoutMs,
        `${NAME} listen`,
      );
    } catch (e) {
      await release();
      throw e;
    }
    const { port } = server.address() as AddressInfo;
    return { nodeId, host: '127.0.0.1', port, accepted: accepted.promise, close: release };
  },
};
