// PeerManager end to end on loopback: init and features, dispatch, sendCustomMsg, limits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fromHex } from '../../src/bytes.js';
import { LnPeerError, type LnPeerErrorCode } from '../../src/errors.js';
import { PeerManager } from '../../src/peer-manager.js';
import { Peer } from '../../src/peer.js';
import { getPublicKey, randomPrivateKey } from '../../src/crypto/index.js';
import { closed, listeningManager, next, rawPeer, typeOf, until, withTimeout } from '../helpers.js';
import { memoryPair } from '../../src/transports/memory.js';
import { packetSize } from '../../src/noise/index.js';
import { decodeFeatures } from '../../src/wire/features.js';
import { decodeError, decodeInit, decodePing, decodePong, decodeWarning, encodeInit, encodePing, encodePong } from '../../src/wire/messages.js';
import { chainHash } from '../../src/wire/networks.js';
import { encodeFeatures } from '../../src/wire/features.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function rejectsWith(promise: Promise<unknown>, code: LnPeerErrorCode, message?: RegExp): Promise<void> {
  return assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof LnPeerError, `expected LnPeerError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('PeerManager', () => {
  it('two managers exchange custom messages both ways, with init and features', async () => {
    const { pm: alice, port } = await listeningManager({ features: [257] });
    const bob = new PeerManager({ features: [259] });
    const connected = next(alice, 'peer:connect');
    const info = await bob.connect(`${alice.nodeId}@127.0.0.1:${port}`);
    assert.equal(info.peerId, alice.nodeId);
    assert.equal(info.direction, 'outbound');
    assert.deepEqual(info.features, [1, 9, 13, 15, 45, 257]);
    const inbound = await connected;
    assert.equal(inbound.peerId, bob.nodeId);
    assert.equal(inbound.direction, 'inbound');
    assert.deepEqual(inbound.features, [1, 9, 13, 15, 45, 259]);
    assert.equal(inbound.address.host, '127.0.0.1');
    assert.ok(inbound.connectedAt instanceof Date);
    assert.deepEqual(alice.peers().map((p) => p.peerId), [bob.nodeId]);

    const atAlice = next(alice, 'custommsg');
    await bob.sendCustomMsg(alice.nodeId, 'fffb68656c6c6f');
    assert.deepEqual(await atAlice, { peerId: bob.nodeId, type: 0xfffb, payload: new Uint8Array(Buffer.from('hello')) });

    const atBob = next(bob, 'custommsg');
    await alice.sendCustomMsg(Buffer.from(bob.nodeId, 'hex'), Uint8Array.from([0x80, 0x01, 1, 2, 3]));
    assert.deepEqual(await atBob, { peerId: alice.nodeId, type: 0x8001, payload: Uint8Array.from([1, 2, 3]) });

    // A maximal message: 2-byte type + 65533 payload bytes.
    const big = new Uint8Array(65535).fill(7);
    big[0] = 0xff;
    big[1] = 0xf1;
    const bigArrives = next(alice, 'custommsg');
    await bob.sendCustomMsg(alice.nodeId, big);
    assert.equal((await bigArrives).payload.length, 65533);

    const disconnected = next(alice, 'peer:disconnect');
    await bob.close();
    const event = await disconnected;
    assert.equal(event.peerId, bob.nodeId);
    assert.equal(event.local, false);
    await alice.close();
  });

  it('runs over any duplex stream: accept() and connectStream() on an in-memory pair', async () => {
    const alice = new PeerManager();
    const bob = new PeerManager();
    const [a, b] = memoryPair();
    const connected = next(alice, 'peer:connect');
    alice.accept(a, { host: 'memory', port: 1 });
    const info = await bob.connectStream(b, alice.nodeId, { address: { host: 'memory', port: 2 } });
    assert.equal(info.peerId, alice.nodeId);
    assert.deepEqual((await connected).address, { host: 'memory', port: 1 });
    const got = next(alice, 'custommsg');
    await bob.sendCustomMsg(alice.nodeId, 'fff101');
    assert.equal((await got).type, 0xfff1);
    const gone = next(alice, 'peer:disconnect');
    await bob.close();
    assert.equal((await gone).peerId, bob.nodeId);
    await alice.close();
  });

  it('connect() returns the existing peer when already connected, and refuses itself', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    const first = await bob.connect(address);
    assert.equal(await bob.connect(address), first);
    await rejectsWith(bob.connect(`${bob.nodeId}@127.0.0.1:1`), 'INVALID_ARGUMENT', /own id/);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('sendCustomMsg: every validation error, in order, with the offending input named', async () => {
    const { pm: alice, port } = await listeningManager({ evenTypes: [0xfffa] });
    const bob = new PeerManager();
    await bob.connect(alice.nodeId, { host: '127.0.0.1', port });
    await until(() => alice.peers().length === 1);
    const id = bob.nodeId;
    await rejectsWith(alice.sendCustomMsg('02' + '00'.repeat(32), 'fffb'), 'INVALID_NODE_ID', /not a point/);
    await rejectsWith(alice.sendCustomMsg('abc', 'fffb'), 'INVALID_NODE_ID', /odd length/);
    await rejectsWith(alice.sendCustomMsg(id.slice(0, 64), 'fffb'), 'INVALID_NODE_ID', /32 bytes/);
    await rejectsWith(alice.sendCustomMsg(id, 'fffbz0'), 'INVALID_HEX', /"z" at position 4/);
    await rejectsWith(alice.sendCustomMsg(id, 'fffb0'), 'INVALID_HEX', /odd length 5/);
    await rejectsWith(alice.sendCustomMsg(id, 'ff'), 'MESSAGE_TOO_SHORT', /1 byte/);
    await rejectsWith(alice.sendCustomMsg(id, ''), 'MESSAGE_TOO_SHORT', /0 bytes/);
    await rejectsWith(alice.sendCustomMsg(id, new Uint8Array(65536).fill(0xff)), 'MESSAGE_TOO_LONG', /65536 bytes.*65535/);
    await rejectsWith(alice.sendCustomMsg(id, '0012000000'), 'INTERNAL_TYPE', /type 18 is the BOLT message ping/);
    await rejectsWith(alice.sendCustomMsg(id, '0011'), 'INTERNAL_TYPE', /error/);
    await rejectsWith(alice.sendCustomMsg(id, '0101'), 'INTERNAL_TYPE', /node_announcement/);
    await rejectsWith(alice.sendCustomMsg(id, 'fffc'), 'EVEN_TYPE', /type 65532 is even.*65533/);
    await rejectsWith(alice.sendCustomMsg(id, 42 as unknown as string), 'INVALID_HEX', /number 42/);
    // The app's own even type, and peer storage (7), are allowed.
    await alice.sendCustomMsg(id, 'fffa00');
    await alice.sendCustomMsg(id, '000700020102');
    // Order: the node id is checked before the message, the message before the connection.
    await rejectsWith(alice.sendCustomMsg('zz', '00'), 'INVALID_NODE_ID');
    const stranger = new PeerManager().nodeId;
    await rejectsWith(alice.sendCustomMsg(stranger, 'ff'), 'MESSAGE_TOO_SHORT');
    await rejectsWith(alice.sendCustomMsg(stranger, 'fffb'), 'PEER_NOT_CONNECTED', new RegExp(stranger));
    await Promise.all([alice.close(), bob.close()]);
  });

  it('notices a type below 32768 or already in use, once per type, without failing', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    await bob.connect(address);
    const notices: string[] = [];
    bob.on('notice', (n) => notices.push(n.message));
    await bob.sendCustomMsg(alice.nodeId, '232900');
    await bob.sendCustomMsg(alice.nodeId, '232900');
    await bob.sendCustomMsg(alice.nodeId, '9419');
    await bob.sendCustomMsg(alice.nodeId, 'fff1');
    assert.equal(notices.length, 2);
    assert.match(notices[0], /type 9001 is below 32768/);
    assert.match(notices[1], /37913 is already used by bLIP 50/);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('refuses a first message that is not init (lnsocket sometimes sends one: allocator pointers over its init)', async () => {
    const { pm, port } = await listeningManager();
    const { peer } = await rawPeer(pm.nodeId, port);
    const failed = next(pm, 'connection:failed');
    await peer.send(fromHex('401a0200401a02000000000000', 'message'));
    const event = await failed;
    assert.equal(event.error.code, 'PROTOCOL_VIOLATION');
    assert.match(event.error.message, /the first message from 0[23][0-9a-f]{64} was type 16410 \(unknown\), not init \(BOLT 1\)/);
    assert.equal(event.direction, 'inbound');
    await closed(peer);
    await pm.close();
  });

  it('delivers app-registered even types, and answers unknown even types with a warning and a disconnect', async () => {
    const { pm, port } = await listeningManager({ evenTypes: [0xfffe] });
    const { peer, received, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    await next(pm, 'peer:connect');
    const delivered = next(pm, 'custommsg');
    await peer.send(Uint8Array.from([0xff, 0xfe, 9]));
    assert.equal((await delivered).type, 0xfffe);
    const gone = next(pm, 'peer:disconnect');
    await peer.send(Uint8Array.from([0xff, 0xfc, 9]));
    const event = await gone;
    assert.equal(event.error?.code, 'PROTOCOL_VIOLATION');
    assert.match(event.reason, /unknown even message type 65532/);
    assert.equal(event.local, true);
    await closed(peer);
    const warnings = received.filter((m) => typeOf(m) === 1).map(decodeWarning);
    assert.equal(warnings.length, 1);
    assert.match(Buffer.from(warnings[0].data).toString(), /unknown even msg type 65532/);
    await pm.close();
  });

  it('sends init at once with the default features; answers pings; ignores gossip; answers channel messages with error', async () => {
    const { pm, port } = await listeningManager({ networks: ['regtest'] });
    const { peer, received, sendInit } = await rawPeer(pm.nodeId, port);
    await until(() => received.length === 1, 5000, 'init before ours');
    const init = decodeInit(received[0]);
    assert.equal(hex(init.features), '20000000a202');
    assert.deepEqual(decodeFeatures(init.features), [1, 9, 13, 15, 45]);
    assert.deepEqual(init.networks?.map(hex), [hex(chainHash('regtest'))]);
    assert.equal(init.remoteAddr, undefined, 'no private remote_addr');
    await sendInit();
    await next(pm, 'peer:connect');
    await peer.send(encodePing(4, 10));
    await peer.send(encodePing(65532, 0)); // BOLT 1: ignored
    await peer.send(Uint8Array.from([0x01, 0x02, ...new Uint8Array(20)])); // channel_update 258: ignored
    const openChannel = new Uint8Array(2 + 64 + 200);
    openChannel.set([0x00, 0x20]);
    openChannel.fill(0xab, 34, 66); // temporary_channel_id after chain_hash
    await peer.send(openChannel);
    await until(() => received.length >= 3, 5000, 'pong and error');
    assert.deepEqual(received.slice(1).map(typeOf), [19, 17]);
    assert.equal(decodePong(received[1]).byteslen, 4);
    const error = decodeError(received[2]);
    assert.equal(hex(error.channelId), 'ab'.repeat(32));
    assert.deepEqual(pm.peers().length, 1, 'still connected');
    peer.close();
    await next(pm, 'peer:disconnect');
    await pm.close();
  });

  it('surfaces warning and error messages from the peer as events', async () => {
    const { pm, port } = await listeningManager();
    const { peer, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    await next(pm, 'peer:connect');
    const warning = next(pm, 'peer:warning');
    await peer.send(Uint8Array.from([0x00, 0x01, ...new Uint8Array(32), 0x00, 0x03, 0x61, 0x62, 0x07]));
    const w = await warning;
    assert.equal(w.message, 'hex:616207', 'non-printable data is not printed verbatim');
    const error = next(pm, 'peer:error');
    await peer.send(Uint8Array.from([0x00, 0x11, ...new Uint8Array(32).fill(1), 0x00, 0x02, 0x68, 0x69]));
    const e = await error;
    assert.equal(e.message, 'hi');
    assert.equal(e.channelId, '01'.repeat(32));
    peer.close();
    await pm.close();
  });

  it('closes on unknown even feature bits, missing dependencies, and no common network', async () => {
    const cases: Array<{ bits?: number[]; networks?: Uint8Array[]; code: LnPeerErrorCode; warning: RegExp }> = [
      { bits: [1, 300], code: 'UNKNOWN_EVEN_FEATURE', warning: /unknown even feature bits 300/ },
      { bits: [1, 17], code: 'MISSING_FEATURE_DEPENDENCY', warning: /dependencies/ },
      { networks: [chainHash('testnet')], code: 'NO_COMMON_NETWORK', warning: /No common network/ },
    ];
    for (const c of cases) {
      const { pm, port } = await listeningManager({ networks: ['regtest'] });
      const { peer, received } = await rawPeer(pm.nodeId, port);
      const failed = next(pm, 'connection:failed');
      await peer.send(encodeInit({ features: encodeFeatures(c.bits ?? [1]), networks: c.networks }));
      const event = await failed;
      assert.equal(event.error.code, c.code, event.error.message);
      await closed(peer);
      const warnings = received.filter((m) => typeOf(m) === 1).map((m) => Buffer.from(decodeWarning(m).data).toString());
      assert.match(warnings.join(), c.warning);
      await pm.close();
    }
  });

  it('accepts the remote setting an even feature bit that the app offers, and rejects connect() to a node that refuses it', async () => {
    const { pm: strict, address } = await listeningManager({ features: [300] });
    const lax = new PeerManager({ features: [301] });
    assert.deepEqual((await lax.connect(address)).features.includes(300), true);
    const stranger = new PeerManager();
    await rejectsWith(stranger.connect(address), 'UNKNOWN_EVEN_FEATURE', /300/);
    await Promise.all([strict.close(), lax.close(), stranger.close()]);
  });

  it('says a peer that hangs up right after init may want other features', async () => {
    const { pm, port } = await listeningManager();
    const { peer, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    await next(pm, 'peer:connect');
    const gone = next(pm, 'peer:disconnect');
    peer.close();
    const event = await gone;
    assert.equal(event.local, false);
    assert.equal(event.error, undefined);
    assert.match(event.reason, /right after init; the remote may have refused the features this node offers \(1, 9, 13, 15, 45;/);
    await pm.close();
  });

  it('reports a connection reset by the remote as not local', async () => {
    const { pm, port } = await listeningManager();
    const { socket, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    await next(pm, 'peer:connect');
    const gone = next(pm, 'peer:disconnect');
    socket!.resetAndDestroy();
    const event = await gone;
    assert.equal(event.local, false);
    assert.equal(event.error?.code, 'CONNECTION_CLOSED');
    assert.match(event.reason, /ECONNRESET/);
    assert.doesNotMatch(event.reason, /right after init/, 'a reset is not a silent refusal');
    await pm.close();
  });

  it('drops a peer that never sends init, after initTimeoutMs', async () => {
    const { pm, port } = await listeningManager({ initTimeoutMs: 150 });
    const { peer } = await rawPeer(pm.nodeId, port);
    const failed = await next(pm, 'connection:failed');
    assert.equal(failed.error.code, 'TIMEOUT');
    assert.match(failed.error.message, /did not send init within 150 ms/);
    await closed(peer);
    await pm.close();
  });

  it('connect() rejects with TIMEOUT when the remote never sends init', async () => {
    // A node that completes the handshake and then stays silent.
    const key = randomPrivateKey();
    const server = createServer((socket) => Peer.responder(socket, { localKey: key }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const impatient = new PeerManager({ initTimeoutMs: 150 });
    await rejectsWith(impatient.connect(hex(getPublicKey(key)), { host: '127.0.0.1', port }), 'TIMEOUT', /init within 150 ms/);
    server.close();
    await impatient.close();
  });

  it('drops a peer that never answers a ping', async () => {
    const { pm, port } = await listeningManager({ pingIntervalMs: 100, pongTimeoutMs: 100 });
    const { peer, received, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    await next(pm, 'peer:connect');
    const event = await next(pm, 'peer:disconnect');
    assert.equal(event.error?.code, 'TIMEOUT');
    assert.match(event.reason, /did not answer a ping within 100 ms/);
    assert.ok(received.some((m) => typeOf(m) === 18), 'a ping was sent');
    await closed(peer);
    await pm.close();
  });

  it('ping() measures a round trip and checks its argument', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager();
    await bob.connect(address);
    const rtts = await Promise.all([bob.ping(alice.nodeId), bob.ping(alice.nodeId, { pongBytes: 0 }), bob.ping(alice.nodeId, { pongBytes: 65531 })]);
    for (const rtt of rtts) assert.ok(Number.isFinite(rtt) && rtt >= 0);
    await rejectsWith(bob.ping(alice.nodeId, { pongBytes: 65532 }), 'INVALID_ARGUMENT', /0 to 65531/);
    await rejectsWith(bob.ping(new PeerManager().nodeId), 'PEER_NOT_CONNECTED');
    await Promise.all([alice.close(), bob.close()]);
  });

  it('ping() rejects with TIMEOUT and drops a peer that does not answer', async () => {
    const { pm, port } = await listeningManager({ pingIntervalMs: 0, pongTimeoutMs: 100 });
    const { peer, sendInit } = await rawPeer(pm.nodeId, port);
    await sendInit();
    const { peerId } = await next(pm, 'peer:connect');
    await rejectsWith(pm.ping(peerId), 'TIMEOUT', /did not answer a ping within 100 ms/);
    await closed(peer);
    await pm.close();
  });

  it('keeps a peer that answers pings', async () => {
    const { pm: alice, port } = await listeningManager({ pingIntervalMs: 50, pongTimeoutMs: 200 });
    const { peer, sendInit } = await rawPeer(alice.nodeId, port);
    let disconnected = false;
    alice.on('peer:disconnect', () => (disconnected = true));
    // lnpeer sends its next keepalive ping only once the last one was answered: the fourth ping
    // proves that three pongs were accepted.
    const fourPings = new Promise<void>((resolve) => {
      let pings = 0;
      peer.on('message', (m) => {
        if (typeOf(m) !== 18) return;
        void peer.send(encodePong(decodePing(m).numPongBytes));
        if (++pings === 4) resolve();
      });
    });
    await sendInit();
    await withTimeout(fourPings, 10_000, 'four keepalive pings');
    assert.equal(disconnected, false);
    assert.equal(alice.peers().length, 1);
    peer.close();
    await alice.close();
  });

  it('replaces an older connection from the same node id with the newer', async () => {
    const { pm: alice, address } = await listeningManager();
    const key = new Uint8Array(32).fill(5);
    const bob1 = new PeerManager({ privateKey: key });
    const bob2 = new PeerManager({ privateKey: key });
    await bob1.connect(address);
    const replaced = next(alice, 'peer:disconnect');
    const bob1Lost = next(bob1, 'peer:disconnect');
    await bob2.connect(address);
    const event = await replaced;
    assert.match(event.reason, /replaced by a newer connection/);
    await bob1Lost;
    assert.equal(alice.peers().length, 1);
    const got = next(alice, 'custommsg');
    await bob2.sendCustomMsg(alice.nodeId, 'fffb01');
    assert.equal((await got).payload[0], 1);
    await Promise.all([alice.close(), bob1.close(), bob2.close()]);
  });

  it('refuses a send past maxQueuedBytes with QUEUE_FULL, and only those', async () => {
    const { pm: alice, address } = await listeningManager();
    const bob = new PeerManager({ maxQueuedBytes: 1_000_000 });
    await bob.connect(address);
    const big = new Uint8Array(65535).fill(0xff);
    // Sends made in one turn all wait in the connection's buffer: each takes a 65,569-byte packet.
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => bob.sendCustomMsg(alice.nodeId, big).then(() => 'sent', (e: LnPeerError) => e.code)));
    const accepted = Math.floor((1_000_000 - 65535) / packetSize(65535)) + 1;
    assert.deepEqual(outcomes, [...Array(accepted).fill('sent'), ...Array(40 - accepted).fill('QUEUE_FULL')]);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('rejects every send still waiting when the connection closes with CONNECTION_CLOSED, then PEER_NOT_CONNECTED', async () => {
    const pm = new PeerManager();
    const [a, b] = memoryPair(); // what the raw peer does not read stays buffered at pm
    pm.accept(a, { host: 'memory', port: 1 });
    const { peer, sendInit } = await rawPeer(pm.nodeId, b);
    peer.pause();
    const connected = next(pm, 'peer:connect');
    await sendInit();
    const { peerId } = await connected;
    const outcomes: string[] = [];
    const sends = Array.from({ length: 10 }, (_, i) => pm.sendCustomMsg(peerId, 'fffb00').then(() => outcomes.push(`sent ${i}`), (e: LnPeerError) => outcomes.push(`${e.code} ${i}`)));
    b.destroy();
    await Promise.all(sends);
    assert.deepEqual(outcomes, Array.from({ length: 10 }, (_, i) => `CONNECTION_CLOSED ${i}`));
    await rejectsWith(pm.sendCustomMsg(peerId, 'fffb00'), 'PEER_NOT_CONNECTED');
    await pm.close();
  });

  it('1,000 peers connect at once to one manager and each exchanges a message', async () => {
    // Every client comes from 127.0.0.1: no per-host limit, and a handshake slot for each.
    const { pm: hub, port } = await listeningManager({ maxConcurrentHandshakes: 1000, handshakesPerSecondPerHost: 0 });
    const echoed = new Map<string, number>();
    hub.on('custommsg', (m) => void hub.sendCustomMsg(m.peerId, Uint8Array.from([0xff, 0xfd, ...m.payload])));
    const clients = Array.from({ length: 1000 }, () => new PeerManager({ handshakeTimeoutMs: 60_000, initTimeoutMs: 60_000 }));
    await Promise.all(
      clients.map(async (c, i) => {
        const reply = new Promise<void>((resolve) => c.once('custommsg', (m) => (echoed.set(c.nodeId, m.payload[0] | (m.payload[1] << 8)), resolve())));
        await c.connect(hub.nodeId, { host: '127.0.0.1', port });
        await c.sendCustomMsg(hub.nodeId, Uint8Array.from([0xff, 0xfb, i & 0xff, i >> 8]));
        await reply;
      }),
    );
    assert.equal(hub.peers().length, 1000);
    clients.forEach((c, i) => assert.equal(echoed.get(c.nodeId), i));
    await Promise.all([hub.close(), ...clients.map((c) => c.close())]);
    assert.equal(hub.peers().length, 0);
  });

  it('refuses connections past maxPeers', async () => {
    const { pm, address } = await listeningManager({ maxPeers: 1 });
    const a = new PeerManager();
    const b = new PeerManager();
    await a.connect(address);
    await rejectsWith(b.connect(address), 'HANDSHAKE_FAILED');
    await rejectsWith(pm.connect(b.nodeId, { host: '127.0.0.1', port: 1 }), 'TOO_MANY_PEERS');
    await Promise.all([pm.close(), a.close(), b.close()]);
  });

  it('rejects bad options with INVALID_ARGUMENT or INVALID_PRIVATE_KEY', () => {
    const bad: Array<[object, LnPeerErrorCode, RegExp]> = [
      [{ privateKey: '00'.repeat(32) }, 'INVALID_PRIVATE_KEY', /not a valid secp256k1 scalar/],
      [{ privateKey: 'abcd' }, 'INVALID_PRIVATE_KEY', /2 bytes/],
      [{ features: [256, 257] }, 'INVALID_ARGUMENT', /both bits 256 and 257/],
      [{ features: [-1] }, 'INVALID_ARGUMENT', /features contains number -1/],
      [{ evenTypes: [32769] }, 'INVALID_ARGUMENT', /odd/],
      [{ networks: ['mainnet'] }, 'INVALID_ARGUMENT', /bitcoin/],
      [{ initTimeoutMs: 0 }, 'INVALID_ARGUMENT', /initTimeoutMs/],
      [{ maxPeers: 1.5 }, 'INVALID_ARGUMENT', /maxPeers/],
    ];
    for (const [options, code, message] of bad) {
      assert.throws(() => new PeerManager(options), (err: unknown) => err instanceof LnPeerError && err.code === code && message.test(err.message), JSON.stringify(options));
    }
  });

  it('close() leaves nothing behind: the process exits on its own', () => {
    const script = `
      import { PeerManager } from './src/index.ts';
      const a = new PeerManager({ pingIntervalMs: 1000 });
      const { port } = await a.listen({ port: 0 });
      const b = new PeerManager();
      await b.connect(a.nodeId, { host: '127.0.0.1', port });
      await b.sendCustomMsg(a.nodeId, 'fffb00');
      await Promise.all([a.close(), b.close()]);
      console.log('closed');
    `;
    // A handle left open would keep the child alive until the spawn timeout kills it (status null).
    const run = spawnSync(process.execPath, ['--conditions=lnpeer-source', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout.trim(), 'closed');
    assert.equal(run.signal, null, 'the child exited on its own, not killed by the timeout');
    assert.equal(run.status, 0);
  });
});
