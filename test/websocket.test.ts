// BOLT 8 over WebSocket from Node: lnpeer's own listener and client, the application's HTTP
// server, Core Lightning's `bind-addr=ws:` listener, `lnpeer ws-proxy` in front of TCP-only
// nodes (LDK, Electrum), and what a bad client gets.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import WebSocket from 'ws';
import { PeerManager, type LnPeerError } from '../src/index.js';
import { startWsProxy } from '../src/ws-proxy.js';
import { requirePartner } from './interop/availability.js';
import { sendAll } from './interop/exchange.js';
import { LnpeerEnd, manager } from './interop/lnpeer.js';
import { closeAllPartners, nodeIdOf, randomKey, track } from './interop/partner.js';
import { next, until, withTimeout } from './helpers.js';

afterEach(closeAllPartners);

/** A PeerManager listening for WebSockets, closed after the test. */
async function wsListener(options: Parameters<PeerManager['listen']>[0] = { websocket: true }) {
  const pm = manager();
  const { port } = await pm.listen({ port: 0, host: '127.0.0.1', ...options });
  return { pm, port, url: `ws://127.0.0.1:${port}` };
}

/** `lnpeer`'s end of the custom messages `pm` gets from `peerId`, as the interop suite reads them. */
const endOf = (pm: PeerManager, peerId: string) => new LnpeerEnd(pm, peerId);

describe('lnpeer ↔ lnpeer over WebSocket', () => {
  test('handshake, init, a custom message each way, 1,002 each way, the largest, ping, clean close seen by both', async () => {
    const { pm: server, url } = await wsListener();
    const client = manager();
    const atServer = endOf(server, client.nodeId);
    const atClient = endOf(client, server.nodeId);
    const info = await client.connect(`${server.nodeId}@${url}`);
    assert.deepEqual({ peerId: info.peerId, direction: info.direction }, { peerId: server.nodeId, direction: 'outbound' });
    assert.equal((await atServer.connected).peerId, client.nodeId);
    await sendAll(atClient, atServer);
    await sendAll(atServer, atClient);
    const largest = new Uint8Array(65535).fill(0x5a);
    largest.set([0xff, 0xfb]);
    await atClient.send(largest);
    assert.deepEqual(await atServer.nextMessage(), largest);
    assert.ok((await client.ping(server.nodeId)) >= 0);
    assert.equal(await client.disconnect(server.nodeId), true);
    const seen = await withTimeout(atServer.disconnected, 5000, 'the server sees the close');
    assert.deepEqual({ reason: seen.reason, local: seen.local, error: seen.error }, { reason: 'the remote closed the connection', local: false, error: undefined });
  });

  test("on the application's HTTP server, on its path only", async () => {
    const http: Server = createServer((_req, res) => res.end('the app'));
    // The application's own upgrades: here, every other path is refused.
    http.on('upgrade', (req, socket) => {
      if (!req.url?.startsWith('/lightning')) socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    });
    const pm = manager();
    await pm.listen({ websocket: { server: http, path: '/lightning' } });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    track('the HTTP server', () => new Promise((resolve) => http.close(() => resolve())));
    const { port } = http.address() as { port: number };
    const client = manager();
    await client.connect(`${pm.nodeId}@ws://127.0.0.1:${port}/lightning`);
    await assert.rejects(manager().connect(`${pm.nodeId}@ws://127.0.0.1:${port}/other`), { code: 'CONNECTION_FAILED' });
    const body = await new Promise<string>((resolve) => request(`http://127.0.0.1:${port}/`, (res) => res.on('data', (d) => resolve(String(d)))).end());
    assert.equal(body, 'the app', 'plain requests stay the application\'s');
  });

  test('closing does not wait for the WebSocket closing handshake', async () => {
    // A server that accepts the upgrade and then ignores every frame, close frames included,
    // as Core Lightning does (RFC 6455 §4.2.2 handshake by hand).
    const sockets: Socket[] = [];
    const deaf = createNetServer((socket) => {
      sockets.push(socket);
      socket.once('data', (request: Buffer) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(String(request))![1];
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      });
    });
    deaf.listen(0, '127.0.0.1');
    await once(deaf, 'listening');
    track('the deaf WebSocket server', async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => deaf.close(resolve));
    });
    const pm = manager({ handshakeTimeoutMs: 60_000 });
    const { port } = deaf.address() as { port: number };
    const connecting = pm.connect(`${nodeIdOf(randomKey())}@ws://127.0.0.1:${port}`);
    connecting.catch(() => {});
    await withTimeout(once(deaf, 'connection'), 5000, 'the upgrade');
    await withTimeout(pm.close(), 2000, 'close() while the remote ignores close frames');
    await assert.rejects(connecting, { code: 'MANAGER_CLOSED' });
  });
});

describe('what a bad client gets from the WebSocket listener: a clean close with a reason', () => {
  test('a text frame', async () => {
    const { pm, url } = await wsListener();
    const ws = new WebSocket(url);
    await once(ws, 'open');
    const failed = next(pm, 'connection:failed');
    ws.send('hello');
    const [code, reason] = (await withTimeout(once(ws, 'close'), 5000, 'the close')) as [number, Buffer];
    assert.equal(code, 1003);
    assert.match(String(reason), /text frame: BOLT 8 over WebSocket uses binary frames only/);
    assert.match((await failed).error.message, /text frame/);
  });

  test('a frame above the cap', async () => {
    const { url } = await wsListener({ websocket: { maxFrameBytes: 1024 } });
    const ws = new WebSocket(url);
    await once(ws, 'open');
    ws.send(new Uint8Array(2048));
    const [code] = (await withTimeout(once(ws, 'close'), 5000, 'the close')) as [number];
    assert.equal(code, 1009, 'RFC 6455: message too big');
  });

  test('a malformed frame (reserved bits set)', async () => {
    const { port } = await wsListener();
    const raw = connect(port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [head] = (await once(raw, 'data')) as [Buffer];
    assert.match(String(head), /^HTTP\/1.1 101/);
    raw.write(Uint8Array.from([0xf2, 0x80, 1, 2, 3, 4])); // FIN + RSV1-3 + binary, masked, empty
    const closed = once(raw, 'close');
    const frames: Buffer[] = [];
    raw.on('data', (d: Buffer) => frames.push(d));
    await withTimeout(closed, 5000, 'the server closes');
    const close = Buffer.concat(frames);
    assert.equal(close[0], 0x88, 'a close frame');
    assert.equal(close.readUInt16BE(2), 1002, 'RFC 6455: protocol error');
  });

  test('a raw TCP client, and a plain HTTP request', async () => {
    const { pm, port } = await wsListener();
    const raw = connect(port, '127.0.0.1');
    await once(raw, 'connect');
    raw.write(new Uint8Array(50)); // an act one, as to a TCP listener
    const answer: Buffer[] = [];
    raw.on('data', (d: Buffer) => answer.push(d));
    await withTimeout(once(raw, 'close'), 5000, 'the server closes');
    assert.match(String(Buffer.concat(answer)), /^HTTP\/1.1 400 Bad Request[\s\S]*this port speaks BOLT 8 over WebSocket/);
    const response = await new Promise<{ status?: number; body: string }>((resolve) =>
      request(`http://127.0.0.1:${port}/`, (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode, body }));
      }).end(),
    );
    assert.equal(response.status, 426);
    assert.match(response.body, /Upgrade Required/);
    assert.equal(pm.peers().length, 0);
  });
});

describe("Core Lightning's ws: listener (bind-addr=ws:)", () => {
  test('connect, a custom message each way (sendcustommsg and the custommsg hook), ping, close', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const node = await cln.start({ wsPort: true });
    const pm = manager();
    const listener = await node.listen();
    const info = await pm.connect(`${node.nodeId}@ws://127.0.0.1:${node.wsPort}`);
    assert.deepEqual(info.networks, ['regtest']);
    const partner = await withTimeout(listener.accepted, 10_000, "Core Lightning's side");
    const lnpeer = endOf(pm, node.nodeId);
    await pm.sendCustomMsg(node.nodeId, 'fffb68656c6c6f');
    assert.equal(Buffer.from(await partner.nextMessage()).toString('hex'), 'fffb68656c6c6f');
    await partner.send(Uint8Array.from([0xff, 0xf9, 1, 2, 3]));
    assert.deepEqual(await lnpeer.nextMessage(), Uint8Array.from([0xff, 0xf9, 1, 2, 3]));
    assert.ok((await pm.ping(node.nodeId)) >= 0);
    await sendAll(lnpeer, partner);
    await withTimeout(pm.disconnect(node.nodeId), 2000, 'disconnect() does not wait for a close frame Core Lightning never sends');
    assert.match((await withTimeout(partner.closed, 10_000, 'Core Lightning sees the close')).reason, /closed by remote/);
  });
});

describe('lnpeer ws-proxy: a page-side client reaches TCP-only nodes', () => {
  test('lnpeer over WebSocket → the proxy → LDK over TCP; a target not allowed is refused', async (t) => {
    const ldk = await requirePartner(t, 'ldk');
    if (!ldk) return;
    const node = await ldk.start();
    const listener = await node.listen({ privateKey: randomKey() });
    const proxy = await startWsProxy({ port: 0, allow: [`127.0.0.1:${listener.port}`] });
    track('the ws-proxy', () => proxy.close());
    const pm = manager({ wsProxy: `ws://127.0.0.1:${proxy.address.port}` });
    const lnpeer = endOf(pm, node.nodeId);
    const info = await pm.connect(node.nodeId, { host: '127.0.0.1', port: listener.port });
    assert.equal(info.peerId, node.nodeId);
    const partner = await withTimeout(listener.accepted, 10_000, "LDK's side");
    await sendAll(lnpeer, partner);
    await sendAll(partner, lnpeer);
    const refused = await manager({ wsProxy: `ws://127.0.0.1:${proxy.address.port}` })
      .connect(node.nodeId, { host: '127.0.0.1', port: 1 })
      .then(() => assert.fail('the proxy connected to a target it was not given'), (e: LnPeerError) => e);
    assert.equal(refused.code, 'CONNECTION_FAILED');
    assert.match(refused.message, /403/);
  });

  test('Electrum over TCP, through the proxy, with the command `lnpeer ws-proxy`', async (t) => {
    const electrum = await requirePartner(t, 'electrum-peer');
    if (!electrum) return;
    const { spawn } = await import('node:child_process');
    const key = randomKey();
    const listener = await electrum.listen({ privateKey: key });
    const cli = spawn(process.execPath, ['--conditions=lnpeer-source', '--import', 'tsx', 'src/cli.ts', 'ws-proxy', '--port', '0', '--allow', `127.0.0.1:${listener.port}`], { cwd: new URL('..', import.meta.url) });
    track('the lnpeer ws-proxy process', async () => {
      cli.kill('SIGTERM');
      if (cli.exitCode === null) await once(cli, 'exit');
    });
    const printed: { event: string; port?: number }[] = [];
    (await import('node:readline')).createInterface({ input: cli.stdout }).on('line', (line) => printed.push(JSON.parse(line)));
    await until(() => printed.length > 0, 20_000, 'the proxy listens');
    const { port } = printed[0];
    // Electrum's wallet Peer requires gossip_queries (bit 7) of its peers.
    const pm = manager({ wsProxy: `ws://127.0.0.1:${port}`, features: [7] });
    const connecting = pm.connect(listener.nodeId, { host: '127.0.0.1', port: listener.port });
    const partner = await withTimeout(listener.accepted, 20_000, "Electrum's side");
    await connecting;
    const lnpeer = endOf(pm, listener.nodeId);
    await partner.send(Uint8Array.from([0xff, 0xf9, 7]));
    assert.deepEqual(await lnpeer.nextMessage(), Uint8Array.from([0xff, 0xf9, 7]));
    assert.deepEqual(printed.map((p) => p.event), ['listening', 'open'], 'the proxy reports the connection');
  });
});
