// The Commando client against a fake Commando server (a second PeerManager, in memory),
// driven by each test: slicing, reassembly, concurrency, and every hostile reply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LnPeerError, PeerManager, memoryPair } from '../../src/index.js';
import {
  COMMANDO_MAX_REQUEST_BYTES,
  COMMANDO_REPLY_CONTINUES,
  COMMANDO_REPLY_FINAL,
  COMMANDO_REQUEST_CONTINUES,
  COMMANDO_REQUEST_FINAL,
  COMMANDO_SLICE_BYTES,
  Commando,
  commandoSlices,
} from '../../src/protocols/commando.js';
import { next, until, withTimeout } from '../helpers.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const RUNE = 'pinqagC2UuiEEHGVh-NzbHj1wjTBGjYtZOGYQaQMXKc9MA==';

/** One request slice as the server saw it. */
interface Slice {
  type: number;
  id: string;
  json: Uint8Array;
}

/** A request as the server reassembled it. */
interface Received {
  id: Uint8Array;
  /** Its slices, in order. */
  slices: Slice[];
  text: string;
  json: { method: string; params: unknown; rune: string; id: string; filter?: unknown };
}

/**
 * A Commando server on `pm`, holding partial requests as Core Lightning does (commando.c
 * handle_incmd: one per peer, a slice with another id discards it, counted in `replaced`).
 * Each complete request is handed to `handler`, or queued for `nextRequest()`.
 */
function fakeServer(pm: PeerManager) {
  const slices: Slice[] = [];
  const queue: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  const partial = new Map<string, { id: string; slices: Slice[] }>();
  let replaced = 0;
  let handler: ((r: Received, peerId: string) => void) | undefined;
  pm.on('custommsg', ({ peerId, type, payload }) => {
    if (type !== COMMANDO_REQUEST_CONTINUES && type !== COMMANDO_REQUEST_FINAL) return;
    const slice = { type, id: hex(payload.subarray(0, 8)), json: payload.slice(8) };
    slices.push(slice);
    let current = partial.get(peerId);
    if (current && current.id !== slice.id) {
      replaced++;
      current = undefined;
    }
    current ??= { id: slice.id, slices: [] };
    current.slices.push(slice);
    partial.set(peerId, current);
    if (type === COMMANDO_REQUEST_CONTINUES) return;
    partial.delete(peerId);
    const text = decoder.decode(Buffer.concat(current.slices.map((s) => s.json)));
    const request: Received = { id: payload.slice(0, 8), slices: current.slices, text, json: JSON.parse(text) };
    if (handler) handler(request, peerId);
    else if (waiters.length > 0) waiters.shift()!(request);
    else queue.push(request);
  });
  /** Sends `messages` (whole Commando messages) to the client, in order. */
  const send = (peerId: string, messages: Uint8Array[]) => Promise.all(messages.map((m) => pm.sendCustomMsg(peerId, m)));
  return {
    /** Every request slice received, in order. */
    slices,
    get replaced() {
      return replaced;
    },
    serve(h: (r: Received, peerId: string) => void) {
      handler = h;
    },
    nextRequest(ms = 5000): Promise<Received> {
      if (queue.length > 0) return Promise.resolve(queue.shift()!);
      return withTimeout(new Promise<Received>((resolve) => waiters.push(resolve)), ms, 'the next Commando request at the fake server');
    },
    send,
    /** Replies to `request` with `body` (an object is written as JSON), sliced as Core Lightning slices. */
    reply(peerId: string, request: Received, body: unknown) {
      const json = body instanceof Uint8Array ? body : encoder.encode(typeof body === 'string' ? body : JSON.stringify(body));
      return send(peerId, commandoSlices('reply', request.id, json));
    },
  };
}

/** A client (`bob`, with its Commando) connected in memory to a fake server (`alice`). */
async function setup(options: ConstructorParameters<typeof Commando>[1] = {}) {
  const alice = new PeerManager({ pingIntervalMs: 0 });
  const bob = new PeerManager({ pingIntervalMs: 0 });
  const [a, b] = memoryPair();
  const aliceSees = next(alice, 'peer:connect');
  alice.accept(a, { host: 'memory', port: 1 });
  await bob.connectStream(b, alice.nodeId);
  await aliceSees;
  const server = fakeServer(alice);
  const commando = new Commando(bob, options);
  return {
    alice,
    bob,
    server,
    commando,
    serverId: alice.nodeId,
    clientId: bob.nodeId,
    async close() {
      commando.close();
      await Promise.all([alice.close(), bob.close()]);
    },
  };
}

/** A JSON-RPC success as Core Lightning sends it, with the request's JSON id. */
const success = (request: Received, result: unknown) => ({ jsonrpc: '2.0', id: request.json.id, result });

/** Message type and u64 id of a whole Commando message. */
const header = (m: Uint8Array) => ({ type: (m[0] << 8) | m[1], id: hex(m.subarray(2, 10)) });

describe('Commando: requests', () => {
  it('sends {method, params, rune, id} as one final slice and resolves with the result', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'getinfo', rune: RUNE }, { timeoutMs: 5000 });
    const request = await server.nextRequest();
    assert.equal(request.slices.length, 1);
    assert.equal(request.slices[0].type, COMMANDO_REQUEST_FINAL);
    assert.deepEqual(Object.keys(request.json), ['method', 'params', 'rune', 'id']);
    assert.deepEqual({ ...request.json, id: undefined }, { method: 'getinfo', params: {}, rune: RUNE, id: undefined });
    assert.match(request.json.id, /^lnpeer:getinfo#[0-9a-f]{16}$/);
    assert.equal(request.json.id.slice(-16), hex(request.id), 'the JSON id names the u64 id');
    await server.reply(clientId, request, success(request, { id: serverId, alias: 'fake' }));
    assert.deepEqual(await call, { id: serverId, alias: 'fake' });
    assert.equal(commando.pending, 0);
    await close();
  });

  it('passes params by position or by name, and the filter', async () => {
    const { server, commando, serverId, close } = await setup();
    server.serve((r, peer) => void server.reply(peer, r, success(r, { echo: r.json })));
    const byPosition = (await commando.call(serverId, { method: 'listpeers', params: ['02aa'], rune: RUNE })) as { echo: Received['json'] };
    assert.deepEqual(byPosition.echo.params, ['02aa']);
    const filtered = (await commando.call(serverId, { method: 'getinfo', params: { a: 1 }, rune: RUNE, filter: { id: true } })) as { echo: Received['json'] };
    assert.deepEqual([byPosition.echo.filter, filtered.echo.params, filtered.echo.filter], [undefined, { a: 1 }, { id: true }]);
    await close();
  });

  it('cuts a 200 KB request into 65,000-byte continues slices and one final slice, back to back', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'datastore', params: { key: 'big', string: 'é'.repeat(100_000) }, rune: RUNE });
    const request = await server.nextRequest();
    const total = encoder.encode(request.text).length;
    assert.ok(total > 200_000 && total < 260_000, `${total} bytes`);
    const sizes = request.slices.map((s) => s.json.length);
    const expected = [65_000, 65_000, 65_000, total - 3 * 65_000];
    assert.deepEqual(sizes, expected);
    assert.deepEqual(request.slices.map((s) => s.type), [COMMANDO_REQUEST_CONTINUES, COMMANDO_REQUEST_CONTINUES, COMMANDO_REQUEST_CONTINUES, COMMANDO_REQUEST_FINAL]);
    assert.equal(new Set(request.slices.map((s) => s.id)).size, 1, 'one u64 id on every slice');
    assert.equal((request.json.params as { string: string }).string, 'é'.repeat(100_000), 'a character cut across slices arrives whole');
    await server.reply(clientId, request, success(request, {}));
    await call;
    await close();
  });

  it('slices exactly as commando.c: a multiple of 65,000 ends with a full final slice', () => {
    const id = new Uint8Array(8).fill(1);
    const slices = commandoSlices('request', id, new Uint8Array(130_000));
    assert.deepEqual(slices.map((s) => [header(s).type, s.length - 10]), [[COMMANDO_REQUEST_CONTINUES, 65_000], [COMMANDO_REQUEST_FINAL, 65_000]]);
    assert.deepEqual(commandoSlices('reply', id, new Uint8Array(65_001)).map((s) => [header(s).type, s.length - 10]), [[COMMANDO_REPLY_CONTINUES, 65_000], [COMMANDO_REPLY_FINAL, 1]]);
    assert.equal(COMMANDO_SLICE_BYTES + 10, 65_010, 'a slice fits a custom message (at most 65,535 bytes)');
  });

  it('refuses a request over 1 MiB of JSON locally (Core Lightning would drop it silently); sends exactly 1 MiB', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const overhead = `{"method":"datastore","params":{"string":""},"rune":"${RUNE}","id":"lnpeer:datastore#0123456789abcdef"}`.length;
    const fill = COMMANDO_MAX_REQUEST_BYTES - overhead;
    const error = await commando.call(serverId, { method: 'datastore', params: { string: 'x'.repeat(fill + 1) }, rune: RUNE }).catch((e: LnPeerError) => e);
    assert.ok(error instanceof LnPeerError);
    assert.equal(error.code, 'MESSAGE_TOO_LONG');
    assert.match(error.message, /1048577 bytes of JSON; Core Lightning takes at most 1048576 \(1 MiB\) and silently ignores a larger one, so it was not sent/);
    assert.equal(commando.pending, 0);
    const call = commando.call(serverId, { method: 'datastore', params: { string: 'x'.repeat(fill) }, rune: RUNE });
    const request = await server.nextRequest();
    assert.equal(encoder.encode(request.text).length, COMMANDO_MAX_REQUEST_BYTES);
    assert.equal(request.slices.length, 17);
    assert.equal(server.slices.length, 17, 'nothing of the refused request was sent');
    await server.reply(clientId, request, success(request, { ok: true }));
    assert.deepEqual(await call, { ok: true });
    await close();
  });

  it('never interleaves the slices of concurrent requests (Core Lightning keeps one partial request per peer)', async () => {
    const { server, commando, serverId, close } = await setup();
    const seen: string[] = [];
    server.serve((r, peer) => {
      seen.push((r.json.params as { n: number }).n.toString());
      void server.reply(peer, r, success(r, (r.json.params as { n: number }).n));
    });
    const calls = Array.from({ length: 12 }, (_, n) =>
      commando.call(serverId, { method: 'datastore', params: { n, string: 'z'.repeat(n % 3 === 0 ? 150_000 : 10) }, rune: RUNE }, { timeoutMs: 10_000 }),
    );
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 12 }, (_, n) => n));
    assert.equal(server.replaced, 0, 'no partial request was replaced by a slice of another');
    assert.equal(seen.length, 12);
    await close();
  });

  it('refuses bad arguments with INVALID_ARGUMENT, an unknown node with PEER_NOT_CONNECTED', async () => {
    const { commando, serverId, close } = await setup();
    const bad: unknown[] = [
      null,
      { method: '', rune: RUNE },
      { method: 'getinfo' },
      { method: 'getinfo', rune: 7 },
      { method: 'getinfo', rune: RUNE, params: 'x' },
      { method: 'getinfo', rune: RUNE, filter: [] },
      { method: 'getinfo', rune: RUNE, params: { n: 1n } },
    ];
    for (const request of bad) {
      await assert.rejects(commando.call(serverId, request as never), { code: 'INVALID_ARGUMENT' }, JSON.stringify(request, (_k, v: unknown) => (typeof v === 'bigint' ? 'bigint' : v)));
    }
    await assert.rejects(commando.call(serverId, { method: 'getinfo', rune: RUNE }, { timeoutMs: -1 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(commando.call('02'.padEnd(66, '1'), { method: 'getinfo', rune: RUNE }), { code: 'INVALID_NODE_ID' });
    const other = new PeerManager().nodeId;
    await assert.rejects(commando.call(other, { method: 'getinfo', rune: RUNE }), { code: 'PEER_NOT_CONNECTED' });
    assert.throws(() => new Commando(new PeerManager(), { maxReplyBytes: 0 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Commando(new PeerManager(), { maxPending: 0 }), { code: 'INVALID_ARGUMENT' });
    assert.equal(commando.pending, 0);
    await close();
  });
});

describe('Commando: replies', () => {
  it('reassembles a reply of many slices, a character cut between two slices included', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'listdatastore', rune: RUNE });
    const request = await server.nextRequest();
    const value = 'ü€'.repeat(60_000); // 300,000 bytes of UTF-8, 2- and 3-byte characters
    const json = encoder.encode(JSON.stringify(success(request, { value })));
    const slices = commandoSlices('reply', request.id, json);
    assert.equal(slices.length, Math.ceil(json.length / 65_000));
    assert.ok(slices.length >= 5);
    await server.send(clientId, slices);
    assert.deepEqual(await call, { value });
    await close();
  });

  it('matches replies to concurrent calls by u64 id: in any order, slices of two replies interleaved', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const calls = [0, 1, 2].map((n) => commando.call(serverId, { method: 'echo', params: { n }, rune: RUNE }));
    const requests = [await server.nextRequest(), await server.nextRequest(), await server.nextRequest()];
    assert.equal(new Set(requests.map((r) => hex(r.id))).size, 3, 'a u64 id of its own for each call');
    assert.equal(new Set(requests.map((r) => r.json.id)).size, 3, 'a JSON id of its own for each call');
    const big = (r: Received) => commandoSlices('reply', r.id, encoder.encode(JSON.stringify(success(r, { n: (r.json.params as { n: number }).n, pad: 'p'.repeat(150_000) }))));
    const [a, b] = [big(requests[0]), big(requests[1])];
    await server.reply(clientId, requests[2], success(requests[2], { n: 2 }));
    await server.send(clientId, [a[0], b[0], a[1], b[1], b[2], a[2]]);
    const results = (await Promise.all(calls)) as { n: number }[];
    assert.deepEqual(results.map((r) => r.n), [0, 1, 2]);
    await close();
  });

  it('rejects an error answer with RPC_ERROR, holding the node\'s code, message and data', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'listpeers', rune: RUNE });
    const request = await server.nextRequest();
    // commando.c commando_error: the plugin's own errors carry no id.
    await server.reply(clientId, request, '{"error":{"code":19537,"message":"Invalid rune: Not permitted: method is not equal to getinfo"}}');
    const error = await call.catch((e: LnPeerError) => e);
    assert.ok(error instanceof LnPeerError);
    assert.equal(error.code, 'RPC_ERROR');
    assert.deepEqual(error.details, { peerId: serverId, method: 'listpeers', code: 19537, message: 'Invalid rune: Not permitted: method is not equal to getinfo' });
    assert.match(error.message, /^listpeers on [0-9a-f]{66} failed: Invalid rune: Not permitted: method is not equal to getinfo \(code 19537\)$/);
    const withData = commando.call(serverId, { method: 'pay', rune: RUNE });
    const second = await server.nextRequest();
    await server.reply(clientId, second, { jsonrpc: '2.0', id: second.json.id, error: { code: 210, message: 'Ran out of routes', data: { attempts: 3 } } });
    await assert.rejects(withData, (e: LnPeerError) => (e.code as string) === 'RPC_ERROR' && e.details.code === 210 && (e.details.data as { attempts: number }).attempts === 3);
    await close();
  });

  it('rejects a reply that is not JSON, or not JSON-RPC, with PROTOCOL_VIOLATION', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const bodies: (string | Uint8Array)[] = [
      'not json',
      '[1,2]',
      '42',
      'null',
      '{"jsonrpc":"2.0","id":"x"}',
      '{"error":"just a string"}',
      '{"error":{"code":"19536","message":"Invalid JSON"}}',
      '{"error":{"code":1}}',
      Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"<invalid UTF-8>"}
    ];
    for (const body of bodies) {
      const call = commando.call(serverId, { method: 'getinfo', rune: RUNE });
      const request = await server.nextRequest();
      await server.reply(clientId, request, body);
      await assert.rejects(call, (e: LnPeerError) => e.code === 'PROTOCOL_VIOLATION' && /the Commando reply to getinfo from [0-9a-f]{66}/.test(e.message), String(body));
    }
    assert.equal(commando.pending, 0);
    await close();
  });

  it('ignores replies for unknown ids, a continues slice for no call, and messages too short for an id', async () => {
    const { alice, server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'getinfo', rune: RUNE });
    const request = await server.nextRequest();
    const stranger = new Uint8Array(8).fill(0x5a);
    await server.send(clientId, [
      ...commandoSlices('reply', stranger, encoder.encode('{"result":"not yours"}')),
      ...commandoSlices('reply', stranger, new Uint8Array(70_000).fill(0x20)).slice(0, 1), // a continues, no call
      Uint8Array.from([COMMANDO_REPLY_FINAL >> 8, COMMANDO_REPLY_FINAL & 0xff, 1, 2, 3]), // 3 bytes: no u64 id
      Uint8Array.from([COMMANDO_REPLY_CONTINUES >> 8, COMMANDO_REPLY_CONTINUES & 0xff]),
    ]);
    // A ping round trip: the client handled everything sent before the pong.
    await alice.ping(clientId, { timeoutMs: 5000 });
    assert.equal(commando.pending, 1, 'the call still waits for its own reply');
    await server.reply(clientId, request, success(request, 'mine'));
    assert.equal(await call, 'mine');
    await close();
  });

  it("ignores another node's reply that carries a pending call's id", async () => {
    const { alice, bob, server, commando, serverId, clientId, close } = await setup();
    const carol = new PeerManager({ pingIntervalMs: 0 });
    const [c, b] = memoryPair();
    bob.accept(b, { host: 'memory', port: 2 });
    await carol.connectStream(c, clientId);
    const call = commando.call(serverId, { method: 'getinfo', rune: RUNE });
    const request = await server.nextRequest();
    await Promise.all(commandoSlices('reply', request.id, encoder.encode('{"result":"from carol"}')).map((m) => carol.sendCustomMsg(clientId, m)));
    await carol.ping(clientId, { timeoutMs: 5000 });
    assert.equal(commando.pending, 1);
    await server.reply(clientId, request, success(request, 'from alice'));
    assert.equal(await call, 'from alice');
    await alice.ping(clientId, { timeoutMs: 5000 });
    await carol.close();
    await close();
  });

  it('slices out of order: a final slice before its continues fails the call; the late continues is ignored', async () => {
    const { server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'listdatastore', rune: RUNE });
    const request = await server.nextRequest();
    const slices = commandoSlices('reply', request.id, encoder.encode(JSON.stringify(success(request, { pad: 'q'.repeat(100_000) }))));
    assert.equal(slices.length, 2);
    await server.send(clientId, [slices[1], slices[0]]);
    await assert.rejects(call, (e: LnPeerError) => e.code === 'PROTOCOL_VIOLATION' && /is not JSON/.test(e.message));
    // Nothing is left behind: the next call on the same connection works.
    server.serve((r, peer) => void server.reply(peer, r, success(r, 'after')));
    assert.equal(await commando.call(serverId, { method: 'getinfo', rune: RUNE }, { timeoutMs: 5000 }), 'after');
    await close();
  });

  it('a final slice without its continues fails the call with PROTOCOL_VIOLATION', async () => {
    const { alice, server, commando, serverId, clientId, close } = await setup();
    const call = commando.call(serverId, { method: 'listdatastore', rune: RUNE });
    const request = await server.nextRequest();
    const slices = commandoSlices('reply', request.id, encoder.encode(JSON.stringify(success(request, { pad: 'q'.repeat(200_000) }))));
    await server.send(clientId, slices.slice(-1));
    await assert.rejects(call, { code: 'PROTOCOL_VIOLATION' });
    await server.send(clientId, slices.slice(0, -1)); // the missing continues, too late: ignored
    await alice.ping(clientId, { timeoutMs: 5000 });
    assert.equal(commando.pending, 0);
    await close();
  });

  it('a reply past maxReplyBytes rejects at once with MESSAGE_TOO_LONG; the rest is ignored', async () => {
    const { server, commando, serverId, clientId, close } = await setup({ maxReplyBytes: 150_000 });
    const call = commando.call(serverId, { method: 'listchannels', rune: RUNE });
    const request = await server.nextRequest();
    const slices = commandoSlices('reply', request.id, new Uint8Array(1_000_000).fill(0x20));
    assert.equal(slices.length, 16);
    // Three continues slices (195,000 bytes) pass the cap: the call fails before the final one comes.
    await server.send(clientId, slices.slice(0, 3));
    const error = await withTimeout(call.catch((e: LnPeerError) => e), 5000, 'the rejection at the cap');
    assert.ok(error instanceof LnPeerError);
    assert.equal(error.code, 'MESSAGE_TOO_LONG');
    assert.deepEqual({ ...error.details, peerId: undefined }, { peerId: undefined, method: 'listchannels', maxReplyBytes: 150_000, received: 195_000 });
    assert.equal(commando.pending, 0);
    await server.send(clientId, slices.slice(3));
    // Just under the cap is fine.
    const fits = commando.call(serverId, { method: 'listchannels', rune: RUNE });
    const second = await server.nextRequest();
    const json = encoder.encode(JSON.stringify(success(second, 'r'.repeat(150_000 - 80))));
    assert.ok(json.length <= 150_000, `${json.length}`);
    await server.send(clientId, commandoSlices('reply', second.id, json));
    assert.equal(await fits, 'r'.repeat(150_000 - 80));
    await close();
  });
});

describe('Commando: limits, timeouts, disconnection', () => {
  it('10,000 calls in flight to one node all settle; one more is refused with QUEUE_FULL', async () => {
    const { server, commando, serverId, close } = await setup({ maxPending: 10_000 });
    const requests: { r: Received; peer: string }[] = [];
    server.serve((r, peer) => requests.push({ r, peer }));
    const calls = Array.from({ length: 10_000 }, (_, n) => commando.call(serverId, { method: 'echo', params: [n], rune: RUNE }, { timeoutMs: 60_000 }));
    await assert.rejects(commando.call(serverId, { method: 'echo', rune: RUNE }), (e: LnPeerError) => e.code === 'QUEUE_FULL' && /maxPending 10000/.test(e.message));
    await until(() => requests.length === 10_000, 30_000, 'the 10,000 requests at the server');
    assert.equal(new Set(requests.map(({ r }) => hex(r.id))).size, 10_000, '10,000 distinct u64 ids');
    // Answered in reverse order.
    for (const { r, peer } of requests.reverse()) void server.reply(peer, r, success(r, (r.json.params as number[])[0]));
    const results = await withTimeout(Promise.all(calls), 60_000, '10,000 replies');
    assert.deepEqual(results, Array.from({ length: 10_000 }, (_, n) => n));
    assert.equal(commando.pending, 0);
    await close();
  });

  it('rejects every pending call with CONNECTION_CLOSED the moment the node disconnects', async () => {
    const { alice, server, commando, serverId, clientId, close } = await setup();
    const calls = [1, 2, 3].map(() => commando.call(serverId, { method: 'getinfo', rune: RUNE }));
    await server.nextRequest();
    await alice.disconnect(clientId);
    for (const call of calls) await assert.rejects(withTimeout(call, 5000, 'the rejection'), { code: 'CONNECTION_CLOSED' });
    assert.equal(commando.pending, 0);
    await assert.rejects(commando.call(serverId, { method: 'getinfo', rune: RUNE }), { code: 'PEER_NOT_CONNECTED' });
    await close();
  });

  it('times out (TIMEOUT), aborts (ABORTED), and ignores the late reply', async () => {
    const { alice, server, commando, serverId, clientId, close } = await setup();
    const late = commando.call(serverId, { method: 'getinfo', rune: RUNE }, { timeoutMs: 50 });
    const request = await server.nextRequest();
    await assert.rejects(late, (e: LnPeerError) => e.code === 'TIMEOUT' && e.details.timeoutMs === 50);
    await server.reply(clientId, request, success(request, 'too late'));
    const controller = new AbortController();
    const aborted = commando.call(serverId, { method: 'getinfo', rune: RUNE }, { signal: controller.signal });
    await server.nextRequest();
    controller.abort(new Error('user left'));
    await assert.rejects(aborted, { code: 'ABORTED' });
    await assert.rejects(commando.call(serverId, { method: 'getinfo', rune: RUNE }, { signal: AbortSignal.abort() }), { code: 'ABORTED' });
    await alice.ping(clientId, { timeoutMs: 5000 });
    assert.equal(commando.pending, 0);
    await close();
  });

  it('close() rejects pending calls with MANAGER_CLOSED, and every later call', async () => {
    const { server, commando, serverId, close } = await setup();
    const pending = commando.call(serverId, { method: 'getinfo', rune: RUNE });
    await server.nextRequest();
    commando.close();
    await assert.rejects(pending, { code: 'MANAGER_CLOSED' });
    await assert.rejects(commando.call(serverId, { method: 'getinfo', rune: RUNE }), { code: 'MANAGER_CLOSED' });
    await close();
  });
});

