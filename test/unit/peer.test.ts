// Peer: the BOLT 8 transport over real loopback TCP connections.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { randomPrivateKey } from '../../src/crypto/index.js';
import { LnPeerError } from '../../src/errors.js';
import { Peer } from '../../src/peer.js';
import { keyPair } from '../../src/noise/index.js';
import { closed, deferred, syncDuplexPair, until, withTimeout } from '../helpers.js';
import { memoryPair } from '../../src/transports/memory.js';
import { packetSize } from '../../src/noise/index.js';

const serverKey = keyPair(randomPrivateKey());
const clientKey = keyPair(randomPrivateKey());
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A loopback server whose accepted sockets go to `onSocket`; resolves to its port. */
async function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** Two connected peers over loopback TCP, handshake done, and the server's socket. */
async function peerPair(options: { handshakeTimeoutMs?: number } = {}): Promise<{ client: Peer; server: Peer; serverSocket: Socket }> {
  const accepted = deferred<{ server: Peer; serverSocket: Socket }>();
  const port = await listen((serverSocket) => {
    const server = Peer.responder(serverSocket, { localKey: serverKey, ...options });
    server.ready().then(() => accepted.resolve({ server, serverSocket }), accepted.reject);
  });
  const client = await Peer.connect({ host: '127.0.0.1', port, peerId: serverKey.publicKey, localKey: clientKey, ...options });
  return { client, ...(await withTimeout(accepted.promise, 10_000, 'the server side of the handshake')) };
}

function message(index: number, size: number): Uint8Array {
  const m = new Uint8Array(size);
  m[0] = 0xff;
  m[1] = 0xff;
  for (let i = 2; i < size; i++) m[i] = (index + i) & 0xff;
  new DataView(m.buffer).setUint32(2, index);
  return m;
}

describe('Peer over loopback TCP', () => {
  it('authenticates both sides: each learns the other node id', async () => {
    const { client, server } = await peerPair();
    assert.equal(client.peerId, Buffer.from(serverKey.publicKey).toString('hex'));
    assert.equal(server.peerId, Buffer.from(clientKey.publicKey).toString('hex'));
    assert.equal(client.role, 'initiator');
    assert.equal(server.role, 'responder');
    client.close();
    await closed(server);
  });

  it('exchanges 2,000 messages each way at once, crossing key rotations in both directions', async () => {
    const { client, server } = await peerPair();
    const count = 2000;
    const received = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
    const all = new Promise<void>((resolve) => {
      const check = () => received.client.length === count && received.server.length === count && resolve();
      client.on('message', (m) => (received.client.push(m), check()));
      server.on('message', (m) => (received.server.push(m), check()));
    });
    const sizes = (i: number) => [6, 7, 100, 1000, 65535][i % 5] + (i % 5 === 4 ? 0 : i % 7);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      sends.push(client.send(message(i, sizes(i))));
      sends.push(server.send(message(i + 1_000_000, sizes(i + 3))));
    }
    await Promise.all(sends);
    await withTimeout(all, 20_000, `${count} messages each way`);
    for (let i = 0; i < count; i++) {
      assert.deepEqual(received.server[i], message(i, sizes(i)), `client→server message ${i}`);
      assert.deepEqual(received.client[i], message(i + 1_000_000, sizes(i + 3)), `server→client message ${i}`);
    }
    client.close();
    const info = await closed(server);
    assert.equal(info.local, false);
    assert.equal(info.error, undefined);
  });

  it('fails the handshake with HANDSHAKE_FAILED when the initiator has the wrong node id', async () => {
    let serverPeer!: Peer;
    const port = await listen((socket) => (serverPeer = Peer.responder(socket, { localKey: serverKey })));
    const wrongId = keyPair(randomPrivateKey()).publicKey;
    await assert.rejects(Peer.connect({ host: '127.0.0.1', port, peerId: wrongId, localKey: clientKey }), (err: unknown) => {
      assert.ok(err instanceof LnPeerError);
      assert.equal(err.code, 'HANDSHAKE_FAILED');
      return true;
    });
    const info = await closed(serverPeer);
    assert.equal(info.error?.code, 'HANDSHAKE_FAILED');
    assert.equal(info.error?.details.reason, 'BAD_TAG');
    assert.equal(info.error?.details.act, 1);
  });

  it('times out a handshake that never completes', async () => {
    const port = await listen(() => {}); // accepts, never answers act one
    await assert.rejects(
      Peer.connect({ host: '127.0.0.1', port, peerId: serverKey.publicKey, localKey: clientKey, handshakeTimeoutMs: 100 }),
      (err: unknown) => err instanceof LnPeerError && err.code === 'TIMEOUT' && err.details.stage === 'handshake' && /100 ms/.test(err.message),
    );
  });

  it('rejects CONNECTION_FAILED when nothing listens', async () => {
    const port = await listen(() => {});
    const server = servers.pop()!;
    server.close();
    await once(server, 'close');
    await assert.rejects(
      Peer.connect({ host: '127.0.0.1', port, peerId: serverKey.publicKey, localKey: clientKey }),
      { code: 'CONNECTION_FAILED' },
    );
  });

  it('closes with DECRYPT_FAILED when a byte is corrupted in transit', async () => {
    // A man in the middle that flips one bit of the first encrypted message after the handshake.
    let serverPeer!: Peer;
    const serverPort = await listen((socket) => (serverPeer = Peer.responder(socket, { localKey: serverKey })));
    let toServer = 0;
    const relayPort = await listen((inbound) => {
      const outbound = connect(serverPort, '127.0.0.1');
      outbound.pipe(inbound);
      inbound.on('data', (chunk: Buffer) => {
        const copy = Buffer.from(chunk);
        const handshake = 50 + 66;
        for (let i = 0; i < copy.length; i++, toServer++) if (toServer === handshake + 30) copy[i] ^= 0x10;
        outbound.write(copy);
      });
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    const client = await Peer.connect({ host: '127.0.0.1', port: relayPort, peerId: serverKey.publicKey, localKey: clientKey });
    await serverPeer.ready();
    const received: Uint8Array[] = [];
    serverPeer.on('message', (m) => received.push(m));
    const clientClosed = closed(client);
    await client.send(message(1, 100));
    const info = await closed(serverPeer);
    assert.equal(info.error?.code, 'DECRYPT_FAILED');
    assert.match(info.reason, /does not authenticate/);
    assert.equal(received.length, 0);
    await clientClosed;
  });

  it('rejects sends after close, and sends still pending when the connection dies (TCP)', async () => {
    const { client, server, serverSocket } = await peerPair();
    const big = message(0, 65535);
    // The server reads nothing: 26 MB is more than the kernel buffers of a loopback
    // connection hold, so the last writes stay pending.
    server.pause();
    const settled: ('sent' | LnPeerError)[] = [];
    const pending = Array.from({ length: 400 }, (_, i) => client.send(big).then(() => void (settled[i] = 'sent'), (e: LnPeerError) => void (settled[i] = e)));
    assert.ok(client.bufferedAmount > 0);
    serverSocket.destroy();
    await Promise.all(pending);
    const rejected = settled.filter((r): r is LnPeerError => r !== 'sent');
    assert.ok(rejected.length > 0, 'some sends were still pending when the connection died');
    for (const error of rejected) assert.equal(error.code, 'CONNECTION_CLOSED');
    // In order: once one send failed, every later one did.
    assert.ok(settled.slice(settled.indexOf(rejected[0])).every((r) => r !== 'sent'));
    await assert.rejects(client.send(message(1, 10)), { code: 'CONNECTION_CLOSED' });
  });

  it('keeps sends pending while the remote does not read, and rejects every one when the connection dies', async () => {
    const [a, b] = memoryPair(); // flow control: what a paused side has not read stays buffered at the writer
    const client = Peer.initiator(a, { peerId: serverKey.publicKey, localKey: clientKey });
    const server = Peer.responder(b, { localKey: serverKey });
    await Promise.all([client.ready(), server.ready()]);
    server.pause();
    const outcomes: string[] = [];
    const sends = Array.from({ length: 5 }, (_, i) => client.send(message(i, 1000)).then(() => outcomes.push(`sent ${i}`), (e: LnPeerError) => outcomes.push(`${e.code} ${i}`)));
    await until(() => client.bufferedAmount === 5 * packetSize(1000), 5000, 'five packets buffered');
    assert.deepEqual(outcomes, [], 'nothing settles while the server reads nothing');
    b.destroy();
    await Promise.all(sends);
    assert.deepEqual(outcomes, [0, 1, 2, 3, 4].map((i) => `CONNECTION_CLOSED ${i}`));
  });

  it('keeps a message that came with act three for the responder that awaits ready() before listening', { timeout: 5000 }, async () => {
    const first = message(7, 50);
    let server!: Peer;
    const accepted = new Promise<void>((resolve) => {
      void listen((socket) => {
        server = Peer.responder(socket, { localKey: serverKey });
        resolve();
      }).then((port) => {
        const client = Peer.initiator(connect(port, '127.0.0.1'), { peerId: serverKey.publicKey, localKey: clientKey });
        // Sent in the same tick as act three, so both leave in one segment.
        client.once('ready', () => void client.send(first));
      });
    });
    await accepted;
    await server.ready();
    const [received] = (await once(server, 'message')) as [Uint8Array];
    assert.deepEqual(received, first);
    server.close();
  });

  it('keeps messages and the end that follow act three in separate chunks, for the responder that awaits ready()', { timeout: 5000 }, async () => {
    const [a, b] = syncDuplexPair(); // every write arrives as its own chunk, in the writer's call
    const client = Peer.initiator(a, { peerId: serverKey.publicKey, localKey: clientKey });
    client.once('ready', () => {
      void client.send(message(1, 40));
      void client.send(message(2, 40));
      client.close('done');
    });
    const server = Peer.responder(b, { localKey: serverKey });
    await server.ready();
    const received: Uint8Array[] = [];
    server.on('message', (m) => received.push(m));
    const info = await closed(server);
    assert.deepEqual(received, [message(1, 40), message(2, 40)]);
    assert.deepEqual({ reason: info.reason, local: info.local }, { reason: 'the remote closed the connection', local: false });
  });

  it('refuses a message without a type (shorter than 2 bytes) from the remote', async () => {
    const { client, server } = await peerPair();
    await client.send(new Uint8Array(1));
    const info = await closed(server);
    assert.equal(info.error?.code, 'INVALID_MESSAGE');
  });
});
