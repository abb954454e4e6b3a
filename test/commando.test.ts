/**
 * lnpeer's Commando client against Core Lightning v26.06.6 itself (plugins/commando.c): runes
 * from `createrune`, error answers, requests and replies of several slices, the 1 MiB limit,
 * concurrency, and WebSocket. Each observation of Core Lightning is asserted here.
 *
 *   node --conditions=lnpeer-source --import tsx --test test/commando.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, test, type TestContext } from 'node:test';
import type { CustomMessageEvent, LnPeerError, PeerManager } from '../src/index.js';
import {
  COMMANDO_MAX_REQUEST_BYTES,
  COMMANDO_REPLY_CONTINUES,
  COMMANDO_REPLY_FINAL,
  Commando,
  commandoSlices,
} from '../src/protocols/commando.js';
import { FROM_SOURCE } from './helpers.js';
import { requirePartner } from './interop/availability.js';
import { manager } from './interop/lnpeer.js';
import { closeAllPartners, track, withTimeout } from './interop/partner.js';
import type { ClnNode } from './interop/partners/cln.js';

afterEach(closeAllPartners); // no lightningd outlives a test, even a failed one

const encoder = new TextEncoder();
const repo = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A Core Lightning node, lnpeer connected to it, a Commando, and an unrestricted rune. */
async function setup(t: TestContext, options: { wsPort?: boolean; pm?: Parameters<typeof manager>[0] } = {}) {
  const cln = await requirePartner(t, 'cln');
  if (!cln) return undefined;
  const node = await cln.start({ wsPort: options.wsPort });
  const pm = manager(options.pm);
  await pm.connect(`${node.nodeId}@127.0.0.1:${node.port}`, { timeoutMs: 10_000 });
  const commando = new Commando(pm, { maxPending: 10_000 });
  track('a Commando', async () => commando.close());
  const { rune } = await node.rpc<{ rune: string }>('createrune', { restrictions: [] });
  return { node, pm, commando, rune };
}

/** The Commando replies `pm` receives: the JSON size of each slice, by u64 id, in arrival order. */
function replySlices(pm: PeerManager): { order: string[]; sizes: Map<string, { type: number; bytes: number }[]> } {
  const order: string[] = [];
  const sizes = new Map<string, { type: number; bytes: number }[]>();
  pm.on('custommsg', ({ type, payload }: CustomMessageEvent) => {
    if (type !== COMMANDO_REPLY_CONTINUES && type !== COMMANDO_REPLY_FINAL) return;
    const id = hex(payload.subarray(0, 8));
    order.push(id);
    sizes.set(id, [...(sizes.get(id) ?? []), { type, bytes: payload.length - 8 }]);
  });
  return { order, sizes };
}

/** Raw Commando replies (whole JSON text by u64 id), for requests sent by hand. */
function rawReplies(pm: PeerManager) {
  const texts = new Map<string, string>();
  const waiting = new Map<string, (text: string) => void>();
  const partial = new Map<string, Uint8Array[]>();
  pm.on('custommsg', ({ type, payload }) => {
    if (type !== COMMANDO_REPLY_CONTINUES && type !== COMMANDO_REPLY_FINAL) return;
    const id = hex(payload.subarray(0, 8));
    const parts = [...(partial.get(id) ?? []), payload.slice(8)];
    if (type === COMMANDO_REPLY_CONTINUES) return void partial.set(id, parts);
    partial.delete(id);
    const text = Buffer.concat(parts).toString('utf8');
    texts.set(id, text);
    waiting.get(id)?.(text);
  });
  return {
    texts,
    reply(id: Uint8Array, ms = 10_000): Promise<string> {
      const known = texts.get(hex(id));
      if (known !== undefined) return Promise.resolve(known);
      return withTimeout(new Promise<string>((resolve) => waiting.set(hex(id), resolve)), ms, `Core Lightning's reply to ${hex(id)}`);
    },
  };
}

/** Sends a request by hand: its JSON as Commando slices with `id`, queued back to back. */
function sendRaw(pm: PeerManager, node: ClnNode, id: Uint8Array, json: string | Uint8Array): Promise<unknown> {
  const bytes = typeof json === 'string' ? encoder.encode(json) : json;
  return Promise.all(commandoSlices('request', id, bytes).map((slice) => pm.sendCustomMsg(node.nodeId, slice)));
}

const rpcError = (code: number, message: string | RegExp) => (e: LnPeerError) => {
  assert.equal(e.code, 'RPC_ERROR', e.message);
  assert.equal(e.details.code, code);
  if (typeof message === 'string') assert.equal(e.details.message, message);
  else assert.match(e.details.message as string, message);
  return true;
};

describe('Commando against Core Lightning', () => {
  test('getinfo with a rune from createrune resolves with the node\'s id; a rune for getinfo only; a filter', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune, pm } = s;
    const info = await commando.call<{ id: string; alias: string; network: string }>(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 10_000 });
    assert.equal(info.id, node.nodeId);
    assert.equal(info.network, 'regtest');
    const { rune: getinfoOnly } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo']] });
    assert.equal((await commando.call<{ id: string }>(node.nodeId, { method: 'getinfo', rune: getinfoOnly })).id, node.nodeId);
    // lightning-rpc.7 FIELD FILTERING: only the fields asked for come back.
    assert.deepEqual(await commando.call(node.nodeId, { method: 'getinfo', rune, filter: { id: true, network: true } }), { id: node.nodeId, network: 'regtest' });
    // params by position: listpeers [id]
    const peers = await commando.call<{ peers: { id: string }[] }>(node.nodeId, { method: 'listpeers', params: [pm.nodeId], rune });
    assert.deepEqual(peers.peers.map((p) => p.id), [pm.nodeId]);
  });

  test("Core Lightning's error answers: codes and messages", async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune } = s;
    const call = (method: string, r: string, params?: Record<string, unknown>) => commando.call(node.nodeId, { method, rune: r, ...(params ? { params } : {}) }, { timeoutMs: 10_000 });
    const { rune: getinfoOnly } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo']] });
    // commando.c checkrune_failed: COMMANDO_ERROR_REMOTE_AUTH (0x4c51), "Invalid rune: " + checkrune's message.
    await assert.rejects(call('listpeers', getinfoOnly), rpcError(19537, 'Invalid rune: Not permitted: method is not equal to getinfo'));
    await assert.rejects(call('nosuchmethod', getinfoOnly), rpcError(19537, 'Invalid rune: Not permitted: method is not equal to getinfo'));
    // commando.c try_command: a rune that is not base64 is COMMANDO_ERROR_REMOTE (0x4c50) "Invalid rune".
    await assert.rejects(call('getinfo', 'notarune'), rpcError(19536, 'Invalid rune'));
    // A rune in good form that this node did not make (its hash altered).
    const tampered = Buffer.from(rune, 'base64url');
    tampered[0] ^= 1;
    await assert.rejects(call('getinfo', tampered.toString('base64url')), rpcError(19537, 'Invalid rune: Not authorized: Not derived from master'));
    // With a valid rune, lightningd's own JSON-RPC errors come back as it sends them.
    await assert.rejects(call('nosuchmethod', rune), rpcError(-32601, "Unknown command 'nosuchmethod'"));
    await assert.rejects(call('getinfo', rune, { x: 1 }), rpcError(-32602, /^unknown parameter: x/));
    await assert.rejects(call('waitblockheight', rune, { blockheight: 1000, timeout: 1 }), rpcError(2000, 'Timed out.'));
    // A rate-limited rune: the second call within the minute is refused.
    const { rune: oncePerMinute } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['rate=1']] });
    await call('getinfo', oncePerMinute);
    await assert.rejects(call('getinfo', oncePerMinute), rpcError(19537, 'Invalid rune: Not permitted: too soon'));
  });

  test('a request of several slices (datastore, 150 KB) and replies of several 65,000-byte slices', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune, pm } = s;
    const seen = replySlices(pm);
    const value = 'é'.repeat(75_000); // 150,000 bytes of UTF-8: 3 request slices
    const stored = await commando.call<{ key: string[]; string: string }>(node.nodeId, { method: 'datastore', params: { key: ['lnpeer', 'big'], string: value }, rune }, { timeoutMs: 20_000 });
    assert.equal(stored.string, value);
    const read = await commando.call<{ datastore: { string: string; hex: string }[] }>(node.nodeId, { method: 'listdatastore', params: { key: ['lnpeer', 'big'] }, rune }, { timeoutMs: 20_000 });
    assert.equal(read.datastore[0].string, value);
    assert.equal(read.datastore[0].hex, Buffer.from(value).toString('hex'));
    // Both replies are about 450 KB (hex and string): Core Lightning cuts them at 65,000 bytes.
    const replies = [...seen.sizes.values()];
    assert.equal(replies.length, 2);
    for (const slices of replies) {
      assert.ok(slices.length >= 7, `${slices.length} slices`);
      assert.ok(slices.slice(0, -1).every((x) => x.type === COMMANDO_REPLY_CONTINUES && x.bytes === 65_000));
      assert.equal(slices.at(-1)!.type, COMMANDO_REPLY_FINAL);
      assert.ok(slices.at(-1)!.bytes > 0 && slices.at(-1)!.bytes <= 65_000);
    }
  });

  test('exactly 1 MiB of request JSON is taken; one byte more is refused locally (Core Lightning drops it silently)', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune, pm } = s;
    const request = (n: number) => ({ method: 'datastore', params: { key: ['lnpeer', 'mib'], string: 'y'.repeat(n), mode: 'create-or-replace' }, rune });
    const overhead = JSON.stringify({ ...request(0), id: 'lnpeer:datastore#0123456789abcdef' }).length;
    const fill = COMMANDO_MAX_REQUEST_BYTES - overhead;
    // 17 slices; Core Lightning reads at most 1,000,000 bytes a second from a peer (connectd
    // incoming_stream_limit), so this takes about a second.
    const stored = await commando.call<{ string: string }>(node.nodeId, request(fill), { timeoutMs: 30_000 });
    assert.equal(stored.string.length, fill);
    await assert.rejects(commando.call(node.nodeId, request(fill + 1)), (e: LnPeerError) => e.code === 'MESSAGE_TOO_LONG' && e.details.bytes === COMMANDO_MAX_REQUEST_BYTES + 1);
    // What happens to one sent anyway: commando.c handle_incmd logs it and never answers.
    const replies = rawReplies(pm);
    const id = globalThis.crypto.getRandomValues(new Uint8Array(8));
    await sendRaw(pm, node, id, JSON.stringify({ ...request(fill + 1), id: 'lnpeer:datastore#0123456789abcdef' }));
    assert.match(await node.waitForLog(/ignoring oversize request/, 20_000), /UNUSUAL plugin-commando: [0-9a-f]{66}: ignoring oversize request/);
    // A call after it is answered (one peer's requests are handled in order): no answer came for it.
    await commando.call(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 10_000 });
    assert.equal(replies.texts.has(hex(id)), false);
  });

  test('slices of two requests interleaved: Core Lightning discards the first (why lnpeer never interleaves)', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, rune, pm } = s;
    const replies = rawReplies(pm);
    const a = globalThis.crypto.getRandomValues(new Uint8Array(8));
    const b = globalThis.crypto.getRandomValues(new Uint8Array(8));
    const big = commandoSlices('request', a, encoder.encode(JSON.stringify({ method: 'datastore', params: { key: ['lnpeer', 'a'], string: 'x'.repeat(150_000) }, rune, id: 'A' })));
    assert.equal(big.length, 3);
    const logFrom = (await node.log()).length;
    // A's first slice, then all of B, then the rest of A.
    await pm.sendCustomMsg(node.nodeId, big[0]);
    await sendRaw(pm, node, b, JSON.stringify({ method: 'getinfo', params: {}, rune, id: 'B' }));
    await Promise.all(big.slice(1).map((slice) => pm.sendCustomMsg(node.nodeId, slice)));
    const replyB = JSON.parse(await replies.reply(b)) as { id: string; result: { id: string } };
    assert.deepEqual([replyB.id, replyB.result.id], ['B', node.nodeId]);
    // A's remaining slices made a new request of their own: not JSON (commando.c commando_error, no id).
    assert.equal(await replies.reply(a), '{"error":{"code":19536,"message":"Invalid JSON"}}');
    assert.ok((await node.log()).slice(logFrom).includes(`plugin-commando: New cmd from ${pm.nodeId}, replacing old`));
  });

  test('many concurrent calls: 1,000 getinfo and 4 large replies, whose slices Core Lightning interleaves', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune, pm } = s;
    await commando.call(node.nodeId, { method: 'datastore', params: { key: ['lnpeer', 'big'], string: 'x'.repeat(150_000) }, rune }, { timeoutMs: 20_000 });
    const seen = replySlices(pm);
    const large = Array.from({ length: 4 }, () => commando.call<{ datastore: { string: string }[] }>(node.nodeId, { method: 'listdatastore', params: { key: ['lnpeer', 'big'] }, rune }, { timeoutMs: 60_000 }));
    const small = Array.from({ length: 1000 }, () => commando.call<{ id: string }>(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 60_000 }));
    for (const r of await Promise.all(large)) assert.equal(r.datastore[0].string.length, 150_000);
    for (const r of await Promise.all(small)) assert.equal(r.id, node.nodeId);
    assert.equal(seen.sizes.size, 1004, 'a u64 id of its own for each call');
    assert.equal(commando.pending, 0);
    // Each reply's slices go out one sendcustommsg after the other, replies side by side:
    // another reply's slices come between them (seen in every run so far, not asserted).
    const bigIds = [...seen.sizes].filter(([, slices]) => slices.length > 1).map(([id]) => id);
    assert.equal(bigIds.length, 4);
    const spans = bigIds.map((id) => [seen.order.indexOf(id), seen.order.lastIndexOf(id)]);
    t.diagnostic(`large replies' slices interleaved with others: ${spans.some(([from, to]) => to - from + 1 > seen.sizes.get(bigIds[0])!.length)}`);
  });

  test("one peer's calls run one at a time at Core Lightning; TIMEOUT; CONNECTION_CLOSED on disconnect", async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { node, commando, rune, pm } = s;
    // connectd reads a peer's next message only once the custommsg hook of the previous one
    // returned, and commando.c returns it once the reply is sent: a slow call holds up the
    // next one from the same peer (and its pings), not another peer's.
    const order: string[] = [];
    const slow = commando
      .call(node.nodeId, { method: 'waitblockheight', params: { blockheight: 1000, timeout: 3 }, rune }, { timeoutMs: 10_000 })
      .catch((e: LnPeerError) => e)
      .finally(() => order.push('slow call'));
    const same = commando.call(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 10_000 }).finally(() => order.push('same peer'));
    const other = manager();
    await other.connect(`${node.nodeId}@127.0.0.1:${node.port}`, { timeoutMs: 10_000 });
    const otherCommando = new Commando(other);
    track('a second Commando', async () => otherCommando.close());
    await otherCommando.call(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 10_000 }).finally(() => order.push('other peer'));
    await same;
    assert.equal(((await slow) as LnPeerError).details.message, 'Timed out.');
    assert.deepEqual(order, ['other peer', 'slow call', 'same peer']);
    // lnpeer's own timeout: the call gives up, Core Lightning's late answer is ignored.
    await assert.rejects(
      commando.call(node.nodeId, { method: 'waitblockheight', params: { blockheight: 1000, timeout: 1 }, rune }, { timeoutMs: 200 }),
      (e: LnPeerError) => e.code === 'TIMEOUT' && e.details.timeoutMs === 200,
    );
    // The node goes while calls are pending: each rejects at once.
    const pending = [1, 2, 3].map(() => commando.call(node.nodeId, { method: 'waitblockheight', params: { blockheight: 1000, timeout: 30 }, rune }, { timeoutMs: 60_000 }));
    await pm.disconnect(node.nodeId, { timeoutMs: 5000 });
    for (const call of pending) await assert.rejects(withTimeout(call, 5000, 'the rejection'), { code: 'CONNECTION_CLOSED' });
    assert.equal(commando.pending, 0);
  });

  test("a call that outlasts pongTimeoutMs: Core Lightning reads no ping meanwhile, lnpeer's keepalive ends the connection", async (t) => {
    const s = await setup(t, { pm: { pingIntervalMs: 300, pongTimeoutMs: 1000 } });
    if (!s) return;
    const { node, commando, rune, pm } = s;
    const gone = new Promise<{ reason: string; local: boolean }>((resolve) => pm.once('peer:disconnect', resolve));
    const call = commando.call(node.nodeId, { method: 'waitblockheight', params: { blockheight: 1000, timeout: 4 }, rune }, { timeoutMs: 10_000 });
    await assert.rejects(call, (e: LnPeerError) => e.code === 'CONNECTION_CLOSED' && /did not answer a ping within 1000 ms/.test(e.message));
    const event = await withTimeout(gone, 5000, 'the disconnect event');
    assert.equal(event.local, true);
  });

  test("over WebSocket, to Core Lightning's ws: listener", async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const node = await cln.start({ wsPort: true });
    const { rune } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo', 'method=listdatastore', 'method=datastore']] });
    const pm = manager();
    await pm.connect(`${node.nodeId}@ws://127.0.0.1:${node.wsPort}`, { timeoutMs: 10_000 });
    const commando = new Commando(pm);
    track('a Commando', async () => commando.close());
    assert.equal((await commando.call<{ id: string }>(node.nodeId, { method: 'getinfo', rune }, { timeoutMs: 10_000 })).id, node.nodeId);
    // Several slices each way over WebSocket frames too.
    await commando.call(node.nodeId, { method: 'datastore', params: { key: ['ws'], string: 'w'.repeat(100_000) }, rune }, { timeoutMs: 20_000 });
    const read = await commando.call<{ datastore: { string: string }[] }>(node.nodeId, { method: 'listdatastore', params: { key: ['ws'] }, rune }, { timeoutMs: 20_000 });
    assert.equal(read.datastore[0].string, 'w'.repeat(100_000));
    await assert.rejects(commando.call(node.nodeId, { method: 'listpeers', rune }), rpcError(19537, /^Invalid rune: Not permitted: /));
  });

  test('examples/commando.ts, as a user runs it: a result printed as JSON, an error answer named, exit codes', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const node = await cln.start();
    const { rune } = await node.rpc<{ rune: string }>('createrune', { restrictions: [['method=getinfo']] });
    const target = `${node.nodeId}@127.0.0.1:${node.port}`;
    const run = (args: string[]) => execFileAsync(process.execPath, [...FROM_SOURCE, 'examples/commando.ts', ...args], { cwd: repo, timeout: 60_000 });
    const { stdout } = await run([target, rune, 'getinfo']);
    assert.equal((JSON.parse(stdout) as { id: string }).id, node.nodeId);
    await assert.rejects(run([target, rune, 'listpeers']), (err: { code: number; stderr: string }) => err.code === 1 && /^listpeers failed: Invalid rune: Not permitted: .* \(code 19537\)$/m.test(err.stderr));
    await assert.rejects(run([target]), (err: { code: number; stderr: string }) => err.code === 2 && /^usage: /.test(err.stderr));
  });
});
