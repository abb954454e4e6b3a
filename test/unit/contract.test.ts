// lnpeer's contract, defect by defect: every send settles, close() leaves nothing behind,
// concurrent connects share one attempt, the app's exceptions are never the peer's fault,
// Peer.close() stops a handshake, a send is what was validated, a hang-up names every cause.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { LnPeerError, Peer, PeerManager } from '../../src/index.js';
import { randomPrivateKey } from '../../src/crypto/index.js';
import { getPublicKey } from '../../src/crypto/index.js';
import { toHex } from '../../src/bytes.js';
import { FROM_SOURCE, listeningManager, next, rawPeer, withTimeout } from '../helpers.js';

describe('every send settles', () => {
  it('a burst of sends far above what the socket buffers all resolve once the remote reads', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    await bob.connect(address);
    const chunk = new Uint8Array(10_000).fill(0xab);
    chunk.set([0xff, 0xfb]);
    let received = 0;
    const all = new Promise<void>((resolve) => alice.on('custommsg', () => ++received === 1000 && resolve()));
    await withTimeout(Promise.all(Array.from({ length: 1000 }, () => bob.sendCustomMsg(alice.nodeId, chunk))), 30_000, '1,000 sends of 10 kB settle');
    await withTimeout(all, 30_000, 'all 1,000 arrive');
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('close() while connect() is under way', () => {
  it('stops the attempt and closes its socket', async () => {
    // A node that accepts the TCP connection and never answers act one.
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const pm = new PeerManager();
    const connecting = pm.connect(toHex(getPublicKey(randomPrivateKey())), { host: '127.0.0.1', port });
    await withTimeout(once(silent, 'connection'), 5000, 'the TCP connection');
    const socketClosed = once(accepted[0], 'close');
    await pm.close();
    await assert.rejects(connecting, { code: 'MANAGER_CLOSED' });
    // lnpeer's socket is gone: the other end sees it close, and a reset now reaches nothing.
    await withTimeout(socketClosed, 5000, "lnpeer's socket closes");
    accepted[0].resetAndDestroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

describe('concurrent connect() calls to one node', () => {
  it('share one attempt: one connection, one PeerInfo', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    let connects = 0;
    let disconnects = 0;
    alice.on('peer:connect', () => connects++);
    alice.on('peer:disconnect', () => disconnects++);
    const infos = await Promise.all(Array.from({ length: 5 }, () => bob.connect(address)));
    assert.ok(infos.every((info) => info === infos[0]), 'the same PeerInfo for every caller');
    await bob.sendCustomMsg(alice.nodeId, 'fffb00');
    await next(alice, 'custommsg');
    assert.deepEqual({ connects, disconnects }, { connects: 1, disconnects: 0 });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('one caller giving up does not end the attempt for the others', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    const controller = new AbortController();
    const first = bob.connect(address, { signal: controller.signal });
    const second = bob.connect(address);
    controller.abort();
    await assert.rejects(first, { code: 'ABORTED' });
    assert.equal((await second).peerId, alice.nodeId);
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe("an exception in the application's listener", () => {
  it('is rethrown as an uncaught exception, and the peer is neither warned nor dropped', () => {
    const script = `
      import { PeerManager } from './src/index.ts';
      process.on('uncaughtException', (e) => console.log('uncaught: ' + e.message));
      const alice = new PeerManager({ pingIntervalMs: 0 });
      const { port } = await alice.listen({ port: 0 });
      const bob = new PeerManager({ pingIntervalMs: 0 });
      bob.on('peer:warning', (w) => console.log('bob was warned: ' + w.message));
      bob.on('peer:disconnect', (e) => console.log('bob was dropped: ' + e.reason));
      let seen = 0;
      alice.on('custommsg', () => { seen++; throw new Error('a bug in the app'); });
      await bob.connect(alice.nodeId, { host: '127.0.0.1', port });
      await bob.sendCustomMsg(alice.nodeId, 'fffb01');
      await bob.sendCustomMsg(alice.nodeId, 'fffb02');
      await alice.ping(bob.nodeId);
      console.log('alice saw ' + seen + ' messages; peers: ' + alice.peers().length);
      bob.removeAllListeners('peer:disconnect');
      await Promise.all([alice.close(), bob.close()]);
    `;
    const run = spawnSync(process.execPath, [...FROM_SOURCE, '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, 'uncaught: a bug in the app\nuncaught: a bug in the app\nalice saw 2 messages; peers: 1\n');
  });
});

describe('Peer.close() during the handshake', () => {
  it('stops it: no ready, and ready() rejects with the reason given', async () => {
    const silent = createServer(() => {});
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    const { connect } = await import('node:net');
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const peer = Peer.initiator(socket, { peerId: getPublicKey(randomPrivateKey()), localKey: randomPrivateKey() });
    let ready = false;
    peer.on('ready', () => (ready = true));
    const info = await peer.close('the app gave up');
    assert.deepEqual({ reason: info.reason, local: info.local }, { reason: 'the app gave up', local: true });
    await assert.rejects(peer.ready(), (e: LnPeerError) => e.code === 'CONNECTION_CLOSED' && /the app gave up/.test(e.message));
    assert.equal(ready, false);
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});

describe('sendCustomMsg() sends what it validated', () => {
  it('changing the buffer after the call changes nothing', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    await bob.connect(address);
    const message = Uint8Array.from([0xff, 0xf9, 1, 2, 3]);
    const arrived = next(alice, 'custommsg');
    const sent = bob.sendCustomMsg(alice.nodeId, message);
    message[1] = 0xfa; // now an even type the validator would have refused
    message[2] = 9;
    await sent;
    assert.deepEqual(await arrived, { peerId: bob.nodeId, type: 0xfff9, payload: Uint8Array.from([1, 2, 3]) });
    assert.equal(alice.peers().length, 1, 'still connected');
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('a remote that hangs up during init: every likely cause is named', () => {
  /** A node that completes the handshake, reads our init, and hangs up without a word. */
  async function hangUpAfterInit(options: ConstructorParameters<typeof PeerManager>[0]): Promise<LnPeerError> {
    const key = randomPrivateKey();
    const server = createServer((socket) => {
      const peer = Peer.responder(socket, { localKey: key });
      peer.once('message', () => void peer.close('refused'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const pm = new PeerManager(options);
    try {
      return await pm.connect(toHex(getPublicKey(key)), { host: '127.0.0.1', port }).then(
        () => assert.fail('connect() resolved'),
        (e: LnPeerError) => e,
      );
    } finally {
      await pm.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('the features offered, always', async () => {
    const error = await hangUpAfterInit({});
    assert.equal(error.code, 'CONNECTION_CLOSED');
    assert.match(error.message, /closed the connection before sending init .*the remote may have refused the features this node offers \(1, 9, 13, 15, 45;/);
    assert.doesNotMatch(error.message, /networks|even feature bits|second connection/);
  });

  it('the networks announced, and the even bits required, when there are some', async () => {
    const error = await hangUpAfterInit({ networks: ['regtest'], features: [300] });
    assert.match(error.message, /one of: the features this node offers \(1, 9, 13, 15, 45, 300;/);
    assert.match(error.message, /the networks it announces \(regtest\): a node closes when none is its chain/);
    assert.match(error.message, /the even feature bits it requires \(300\)/);
  });

  it('a second connection, when this one replaced another from the same node', async () => {
    const { pm: alice, port } = await listeningManager();
    const first = await rawPeer(alice.nodeId, port);
    await first.sendInit();
    await next(alice, 'peer:connect');
    // The same node id again (say, a restart): this connection replaces the first, and it
    // hangs up right after alice's init, as LDK does to a second connection.
    const failed = next(alice, 'connection:failed');
    const second = await rawPeer(alice.nodeId, port, first.localKey);
    await withTimeout(new Promise((resolve) => (second.received.length ? resolve(undefined) : second.peer.once('message', resolve))), 5000, "alice's init");
    void second.peer.close('keeping the first connection');
    const { error } = await failed;
    assert.match(error.message, /a second connection: some nodes keep their first connection from a node id and close the new one \(LDK does\)/);
    await alice.close();
  });
});
