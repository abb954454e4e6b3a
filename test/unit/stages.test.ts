// Each stage of connect() has its own timeout, and a stall is reported with the stage it
// happened in: the transport (TCP or WebSocket), the SOCKS5 proxy, the BOLT 8 handshake,
// the remote's init. Every server here accepts and then says nothing at that stage.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { LnPeerError, Peer, PeerManager, type PeerManagerOptions } from '../../src/index.js';
import { getPublicKey, randomPrivateKey } from '../../src/crypto/index.js';
import { toHex } from '../../src/bytes.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A TCP server on a free loopback port that hands each connection to `onConnection` (default: holds it, silent). */
async function server(onConnection: (socket: Socket) => void = () => {}): Promise<number> {
  const s = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  servers.push(s);
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as { port: number }).port;
}

const someNode = () => toHex(getPublicKey(randomPrivateKey()));

/** connect() with `options` to `target` must reject with `code` and `details.stage` `stage`. */
async function assertStage(options: PeerManagerOptions, target: string, code: string, stage: string, message: RegExp): Promise<void> {
  const pm = new PeerManager(options);
  try {
    await assert.rejects(pm.connect(target, { timeoutMs: 20_000 }), (err: unknown) => {
      assert.ok(err instanceof LnPeerError, String(err));
      assert.deepEqual({ code: err.code, stage: err.details.stage }, { code, stage }, err.message);
      assert.match(err.message, message);
      return true;
    });
  } finally {
    await pm.close();
  }
}

describe('connect(): each stage times out on its own, and says which', () => {
  it('the transport: a WebSocket server that never answers the upgrade (connectTimeoutMs)', async () => {
    const port = await server();
    await assertStage({ connectTimeoutMs: 200 }, `${someNode()}@ws://127.0.0.1:${port}`, 'TIMEOUT', 'connect', /did not open within 200 ms/);
  });

  it('the proxy: a SOCKS5 proxy that never answers the greeting (proxyTimeoutMs)', async () => {
    const port = await server();
    await assertStage(
      { proxy: `socks5://127.0.0.1:${port}`, alwaysUseProxy: true, proxyTimeoutMs: 200 },
      `${someNode()}@127.0.0.1:9735`,
      'TIMEOUT',
      'proxy',
      /did not connect to 127\.0\.0\.1:9735 within 200 ms \(step: greeting\)/,
    );
  });

  it('the handshake: a node that accepts TCP and never sends act two (handshakeTimeoutMs)', async () => {
    const port = await server();
    await assertStage({ handshakeTimeoutMs: 200 }, `${someNode()}@127.0.0.1:${port}`, 'TIMEOUT', 'handshake', /did not complete within 200 ms/);
  });

  it("init: a node that completes the handshake and never sends its init (initTimeoutMs)", async () => {
    const key = randomPrivateKey();
    const port = await server((socket) => void Peer.responder(socket, { localKey: key }).ready().catch(() => {}));
    await assertStage({ initTimeoutMs: 200 }, `${toHex(getPublicKey(key))}@127.0.0.1:${port}`, 'TIMEOUT', 'init', /did not send init within 200 ms/);
  });
});
