// Receiving the way apps want it (messages(), nextMessage(), pause/resume) and the
// request/response plumbing (Requests), between two PeerManagers in one process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LnPeerError, PeerManager, Requests, defineMessage, memoryPair, type CustomMessageEvent } from '../../src/index.js';
import { next, withTimeout } from '../helpers.js';

/** Two managers joined in memory, `init` exchanged. */
async function connected(): Promise<{ alice: PeerManager; bob: PeerManager; close: () => Promise<void> }> {
  const alice = new PeerManager({ pingIntervalMs: 0 });
  const bob = new PeerManager({ pingIntervalMs: 0 });
  const [a, b] = memoryPair();
  const aliceSees = next(alice, 'peer:connect');
  alice.accept(a, { host: 'memory', port: 1 });
  await bob.connectStream(b, alice.nodeId);
  await aliceSees;
  return { alice, bob, close: () => Promise.all([alice.close(), bob.close()]).then(() => {}) };
}

const message = (type: number, ...payload: number[]) => Uint8Array.from([type >> 8, type & 0xff, ...payload]);

describe('messages(): an async iterator of custom messages', () => {
  it('yields the matching messages in order, from the call on, filtered by type and peer', async () => {
    const { alice, bob, close } = await connected();
    const odd = alice.messages({ type: [0xfff9, 0xfffb], peerId: bob.nodeId });
    for (const [type, n] of [[0xfff9, 1], [0xfffd, 2], [0xfffb, 3], [0xfff9, 4]]) await bob.sendCustomMsg(alice.nodeId, message(type, n));
    const seen: number[] = [];
    for await (const m of odd) {
      seen.push(m.payload[0]);
      assert.equal(m.peerId, bob.nodeId);
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen, [1, 3, 4]);
    await close();
  });

  it('pauses a peer whose messages outrun the consumer, and reads it again once it catches up', async () => {
    const { alice, bob, close } = await connected();
    const stream = alice.messages({ type: 0xfff9, bufferSize: 4 });
    // 40 sends: alice buffers 4 (plus the one that filled it), then stops reading bob.
    const sends = Array.from({ length: 40 }, (_, i) => bob.sendCustomMsg(alice.nodeId, message(0xfff9, i)));
    const first = await stream.next();
    assert.equal((first.value as CustomMessageEvent).payload[0], 0);
    const received: number[] = [0];
    for await (const m of stream) {
      received.push(m.payload[0]);
      if (received.length === 40) break;
    }
    assert.deepEqual(received, Array.from({ length: 40 }, (_, i) => i), 'every message, in order, none lost');
    await Promise.all(sends);
    await close();
  });

  it("with overflow: 'error', fails loudly with QUEUE_FULL instead", async () => {
    const { alice, bob, close } = await connected();
    const stream = alice.messages({ type: 0xfff9, bufferSize: 2, overflow: 'error' });
    const third = alice.nextMessage({ type: 0xfff9, timeoutMs: 5000 });
    for (let i = 0; i < 4; i++) await bob.sendCustomMsg(alice.nodeId, message(0xfff9, i));
    await third;
    await stream.next();
    await stream.next();
    await assert.rejects(stream.next(), (e: LnPeerError) => e.code === 'QUEUE_FULL' && /2 messages were waiting/.test(e.message));
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    await close();
  });

  it('ends on its signal and on close()', async () => {
    const { alice, close } = await connected();
    const controller = new AbortController();
    const stream = alice.messages({ signal: controller.signal });
    const pending = stream.next();
    controller.abort();
    assert.deepEqual(await pending, { value: undefined, done: true });
    const another = alice.messages().next();
    await close();
    assert.deepEqual(await another, { value: undefined, done: true });
  });
});

describe('nextMessage()', () => {
  it('resolves with the next match, rejects with TIMEOUT and ABORTED', async () => {
    const { alice, bob, close } = await connected();
    const waiting = alice.nextMessage({ type: 0xfffb });
    await bob.sendCustomMsg(alice.nodeId, message(0xfff9, 1));
    await bob.sendCustomMsg(alice.nodeId, message(0xfffb, 2));
    assert.equal((await waiting).payload[0], 2);
    await assert.rejects(alice.nextMessage({ type: 0xfffb, timeoutMs: 20 }), { code: 'TIMEOUT' });
    const controller = new AbortController();
    const aborted = alice.nextMessage({ signal: controller.signal });
    controller.abort(new Error('no longer needed'));
    await assert.rejects(aborted, (e: LnPeerError) => e.code === 'ABORTED' && /no longer needed/.test(e.message));
    await assert.rejects(alice.nextMessage({ type: 70000 }), { code: 'INVALID_ARGUMENT' });
    await close();
  });
});

describe('Requests', () => {
  /** Bob answers each 0xfff9 request [id] with 0xfffb [id, id * 2]. */
  function serve(bob: PeerManager, options: { silent?: boolean } = {}) {
    bob.on('custommsg', ({ peerId, type, payload }) => {
      if (type === 0xfff9 && !options.silent) void bob.sendCustomMsg(peerId, message(0xfffb, payload[0], payload[0] * 2)).catch(() => {});
    });
  }

  it('matches replies to requests, many in flight, by a match function or by key', async () => {
    const { alice, bob, close } = await connected();
    serve(bob);
    const byMatch = new Requests(alice);
    const replies = await Promise.all(
      [1, 2, 3].map((id) => byMatch.request(bob.nodeId, message(0xfff9, id), { match: (m) => m.type === 0xfffb && m.payload[0] === id, timeoutMs: 5000 })),
    );
    assert.deepEqual(replies.map((r) => r.payload[1]), [2, 4, 6]);
    const byKey = new Requests(alice, { replyKey: (m) => (m.type === 0xfffb ? String(m.payload[0]) : undefined) });
    const keyed = await Promise.all([10, 20, 30].map((id) => byKey.request(bob.nodeId, message(0xfff9, id), { key: String(id) })));
    assert.deepEqual(keyed.map((r) => r.payload[1]), [20, 40, 60]);
    assert.equal(byKey.pending, 0);
    byMatch.close();
    byKey.close();
    await close();
  });

  it('times out, aborts, caps requests in flight, and rejects every pending one the moment the peer goes', async () => {
    const { alice, bob, close } = await connected();
    serve(bob, { silent: true });
    const requests = new Requests(alice, { maxPending: 3, replyKey: (m) => String(m.payload[0]) });
    await assert.rejects(requests.request(bob.nodeId, message(0xfff9, 1), { key: '1', timeoutMs: 20 }), { code: 'TIMEOUT' });
    const controller = new AbortController();
    const aborted = requests.request(bob.nodeId, message(0xfff9, 2), { key: '2', signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, { code: 'ABORTED' });
    const inFlight = [3, 4, 5].map((id) => requests.request(bob.nodeId, message(0xfff9, id), { key: String(id) }));
    await assert.rejects(requests.request(bob.nodeId, message(0xfff9, 6), { key: '6' }), { code: 'QUEUE_FULL' });
    await bob.disconnect(alice.nodeId);
    for (const request of inFlight) await assert.rejects(withTimeout(request, 5000, 'the rejection'), { code: 'CONNECTION_CLOSED' });
    assert.equal(requests.pending, 0, 'no request outlives its connection');
    await assert.rejects(requests.request(bob.nodeId, message(0xfff9, 7), { key: '7' }), { code: 'PEER_NOT_CONNECTED' });
    requests.close();
    await close();
  });

  it('10,000 requests in flight to one peer all settle', async () => {
    const { alice, bob, close } = await connected();
    bob.on('custommsg', ({ peerId, type, payload }) => {
      if (type === 0xfff9) void bob.sendCustomMsg(peerId, message(0xfffb, ...payload)).catch(() => {});
    });
    const requests = new Requests(alice, { maxPending: 10_000, replyKey: (m) => (m.type === 0xfffb ? String((m.payload[0] << 8) | m.payload[1]) : undefined) });
    const all = Array.from({ length: 10_000 }, (_, i) => requests.request(bob.nodeId, message(0xfff9, i >> 8, i & 0xff), { key: String(i), timeoutMs: 60_000 }));
    const replies = await withTimeout(Promise.all(all), 60_000, '10,000 replies');
    assert.equal(replies.length, 10_000);
    requests.close();
    await close();
  });
});

describe('Requests.send() with a send function that is not one, or returns no promise', () => {
  it('refuses a send that is not a function before anything is in flight, and settles at once one that returns no promise or throws', async () => {
    const { alice, bob, close } = await connected();
    const requests = new Requests(alice);
    const options = { match: () => true, timeoutMs: 60_000 };
    await assert.rejects(requests.send(bob.nodeId, options, 'not a function' as never), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /request\(\) send must be a function/.test(e.message));
    assert.equal(requests.pending, 0);
    let called = 0;
    const noPromise = requests.send(bob.nodeId, options, (() => void called++) as never);
    // Settled at once, not after timeoutMs: the request is out of flight as the call returns.
    assert.equal(requests.pending, 0);
    await assert.rejects(withTimeout(noPromise, 1000, 'the rejection'), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /must return a promise/.test(e.message));
    assert.equal(called, 1);
    const thrown = requests.send(bob.nodeId, options, () => {
      throw new TypeError('boom');
    });
    assert.equal(requests.pending, 0);
    await assert.rejects(thrown, (e: LnPeerError) => e instanceof LnPeerError && e.code === 'INVALID_ARGUMENT' && e.cause instanceof TypeError);
    const rejected = requests.send(bob.nodeId, options, () => Promise.reject(new LnPeerError('QUEUE_FULL', 'full')));
    await assert.rejects(rejected, { code: 'QUEUE_FULL' });
    assert.equal(requests.pending, 0);
    requests.close();
    await close();
  });
});

describe('typed messages: send(peerId, schema, value) and messages({ schema })', () => {
  const Offer = defineMessage({
    name: 'swap_offer',
    type: 0xfff5,
    fields: { amount_sat: 'u64', memo: 'utf8' },
    tlvs: { expiry_blocks: { type: 1, value: 'tu64' } },
  });

  it('a value sent typed arrives typed', async () => {
    const { alice, bob, close } = await connected();
    const offers = alice.messages({ schema: Offer });
    await bob.send(alice.nodeId, Offer, { amount_sat: 250_000n, memo: 'hi', expiry_blocks: 144n });
    const { value } = await offers.next();
    assert.deepEqual(value, { peerId: bob.nodeId, type: 0xfff5, value: { amount_sat: 250_000n, memo: 'hi', expiry_blocks: 144n, unknownTlvs: [] } });
    await assert.rejects(bob.send(alice.nodeId, Offer, { amount_sat: -1n, memo: 'x' }), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /amount_sat/.test(e.message));
    await close();
  });

  it("a malformed one closes the connection with a warning that names the field (BOLT 1: a known message too short)", async () => {
    const { alice, bob, close } = await connected();
    const offers = alice.messages({ schema: Offer });
    const warned = next(bob, 'peer:warning');
    const gone = next(alice, 'peer:disconnect');
    await bob.sendCustomMsg(alice.nodeId, 'fff5000000'); // amount_sat cut short
    assert.match((await warned).message, /invalid swap_offer message: swap_offer\.amount_sat/);
    assert.equal((await gone).error?.code, 'INVALID_MESSAGE');
    const pending = offers.next();
    await close();
    assert.deepEqual(await pending, { value: undefined, done: true }, 'nothing was yielded');
  });
});

describe('Requests with a signal aborted before the call', () => {
  it('rejects at once with ABORTED and sends nothing', async () => {
    const { alice, bob, close } = await connected();
    const first = bob.nextMessage({ timeoutMs: 5000 });
    const requests = new Requests(alice);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(withTimeout(requests.request(bob.nodeId, message(0xfff9, 1), { match: () => true, signal: controller.signal }), 5000, 'the rejection'), { code: 'ABORTED' });
    // What bob receives first is what alice sends next: the request never left.
    await alice.sendCustomMsg(bob.nodeId, message(0xfffb, 2));
    assert.equal((await first).type, 0xfffb);
    requests.close();
    await close();
  });
});
