// What inbound connections can make a PeerManager spend, and what they cannot take from it:
// handshake CPU per turn of the event loop, handshake slots, the peers kept for its own
// connect(), and the pongs it holds for a peer that does not read them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeerManager, type ConnectionFailedEvent } from '../../src/index.js';
import type { Connection, ConnectionHandler } from '../../src/connection.js';
import { getPublicKey, randomPrivateKey } from '../../src/crypto/index.js';
import { fromHex, toHex } from '../../src/bytes.js';
import { HANDSHAKE_CPU_PER_TURN_MS } from '../../src/handshake-budget.js';
import { InitiatorHandshake, keyPair, ACT_TWO_LENGTH, packetSize } from '../../src/noise/index.js';
import { memoryPair } from '../../src/transports/memory.js';
import { encodePing } from '../../src/wire/messages.js';
import { MAX_PONG_BYTES } from '../../src/wire/messages.js';
import { MAX_UNFLUSHED_REPLY_BYTES } from '../../src/session.js';
import { listeningManager, rawPeer, until, withTimeout } from '../helpers.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The client end of a memory connection to `pm`: counts the bytes it receives. */
function client(pm: PeerManager): { end: Connection; received: () => number } {
  const [server, end] = memoryPair();
  pm.accept(server);
  let received = 0;
  const handler: ConnectionHandler = { data: (chunk) => (received += chunk.length), flushed() {}, end() {}, closed() {} };
  end.open(handler);
  return { end, received: () => received };
}

/** Collects `connection:failed` events. */
function failures(pm: PeerManager): ConnectionFailedEvent[] {
  const seen: ConnectionFailedEvent[] = [];
  pm.on('connection:failed', (event) => seen.push(event));
  return seen;
}

describe('inbound limits', () => {
  it(`acts one that arrive together are answered ${HANDSHAKE_CPU_PER_TURN_MS} ms of CPU per turn at most, the rest on later turns, all of them`, async () => {
    const hub = new PeerManager({ handshakesPerSecondPerHost: 0 });
    // One act one, replayed on 100 connections: an attacker computes it once.
    const actOne = new InitiatorHandshake(keyPair(randomPrivateKey()), fromHex(hub.nodeId, 'node id')).actOne();
    const clients = Array.from({ length: 100 }, () => client(hub));
    for (const c of clients) c.end.write(actOne);
    await nextTurn(); // the acts arrived (microtasks) and this turn's budget was spent
    const answeredInFirstTurn = clients.filter((c) => c.received() === ACT_TWO_LENGTH).length;
    assert.ok(answeredInFirstTurn > 0 && answeredInFirstTurn < clients.length, `${answeredInFirstTurn} of 100 answered in the first turn`);
    await until(() => clients.every((c) => c.received() === ACT_TWO_LENGTH), 30_000, 'act two on every connection');
    await hub.close();
  });

  it('a handshake slot goes to a newcomer: first from a connection that has not sent a whole act one, then from the oldest', async () => {
    const hub = new PeerManager({ maxConcurrentHandshakes: 4, handshakesPerSecondPerHost: 0 });
    const failed = failures(hub);
    // Four connections that trickle one byte each hold every slot.
    const tricklers = Array.from({ length: 4 }, () => client(hub));
    for (const t of tricklers) t.end.write(Uint8Array.of(0));
    // A real peer comes: a trickler makes room, and its handshake and init complete.
    const [server, end] = memoryPair();
    hub.accept(server);
    const legit = await rawPeer(hub.nodeId, end);
    await legit.sendInit();
    await until(() => hub.peers().length === 1, 10_000, 'the newcomer becomes a peer');
    assert.deepEqual(failed.map((f) => f.error.code), ['TOO_MANY_PEERS']);
    // Ten at once on four slots (three tricklers left in them): nine are dropped, the last
    // four of the ten remain, whatever the transport reports and when.
    for (let i = 0; i < 10; i++) client(hub);
    await until(() => failed.length === 1 + 9, 10_000, 'the evictions');
    assert.ok(failed.every((f) => f.error.code === 'TOO_MANY_PEERS' && /maxConcurrentHandshakes \(4\)/.test(f.error.message)));
    await hub.close();
  });

  it('inbound peers take at most 90% of maxPeers: the rest stays for connect()', async () => {
    const { pm: hub, port } = await listeningManager({ maxPeers: 10, handshakesPerSecondPerHost: 0 });
    const failed = failures(hub);
    const remotes = Array.from({ length: 10 }, () => new PeerManager());
    const results = await Promise.allSettled(remotes.map((r) => r.connect(`${hub.nodeId}@127.0.0.1:${port}`)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
    await until(() => failed.length === 1, 10_000, "the hub's refusal");
    assert.match(failed[0].error.message, /9 inbound peers are connected, the most of maxPeers \(10\) that inbound peers may take/);
    // This node's own connect() still has room.
    const { pm: wanted, address } = await listeningManager();
    await hub.connect(address);
    assert.equal(hub.peers().length, 10);
    await Promise.all([hub, wanted, ...remotes].map((pm) => pm.close()));
  });

  it('an inbound peer that has not sent its init yet gives up its place to a newcomer', async () => {
    const { pm: hub, port } = await listeningManager({ maxPeers: 10, handshakesPerSecondPerHost: 0 });
    const failed = failures(hub);
    // Nine handshakes with fresh node ids, and never an init: every inbound place is held.
    const holders = await Promise.all(Array.from({ length: 9 }, () => rawPeer(hub.nodeId, port)));
    const newcomer = new PeerManager();
    await newcomer.connect(`${hub.nodeId}@127.0.0.1:${port}`);
    assert.deepEqual(hub.peers().map((p) => p.peerId), [newcomer.nodeId]);
    await until(() => failed.length === 1, 10_000, 'the oldest holder dropped');
    assert.match(failed[0].error.message, /dropped before its init to make room: 9 inbound peers are connected/);
    assert.equal(failed[0].peerId, toHex(getPublicKey(holders[0].localKey)), 'the oldest holder');
    for (const h of holders) h.socket?.destroy();
    await Promise.all([hub.close(), newcomer.close()]);
  });

  it(`a peer that asks for the largest pongs and does not read them makes this side hold about ${MAX_UNFLUSHED_REPLY_BYTES / 1024} KiB of them, not sixteen`, async () => {
    const hub = new PeerManager();
    const [server, end] = memoryPair();
    hub.accept(server);
    const attacker = await rawPeer(hub.nodeId, end);
    await attacker.sendInit();
    await until(() => hub.peers().length === 1, 10_000, 'the attacker becomes a peer');
    attacker.peer.pause(); // it reads nothing more: the pongs stay queued on the hub's side
    // Not awaited: they flush only as far as the hub reads them.
    for (let i = 0; i < 20; i++) attacker.peer.send(encodePing(MAX_PONG_BYTES)).catch(() => {});
    const pong = packetSize(MAX_PONG_BYTES + 4);
    await until(() => server.bufferedAmount >= 2 * pong, 10_000, 'two pongs queued');
    // The hub stopped reading: more turns change nothing.
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.equal(server.bufferedAmount, 2 * pong);
    // Once the attacker reads, every ping is answered.
    let pongs = 0;
    attacker.peer.on('message', (m) => m[1] === 19 && pongs++);
    attacker.peer.resume();
    await withTimeout(until(() => pongs === 20, 10_000, 'every pong'), 15_000, 'every pong');
    await hub.close();
  });
});
