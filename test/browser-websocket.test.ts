// lnpeer in headless Chromium over real WebSockets: to a Node lnpeer's WebSocket listener and
// to Core Lightning's `bind-addr=ws:` listener (its custommsg hook and sendcustommsg).
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { requirePartner, type PartnerDriver } from './interop/availability.js';
import { ROUNDS, numbered } from './interop/exchange.js';
import { LnpeerEnd, manager } from './interop/lnpeer.js';
import { closeAllPartners, toHex, withTimeout } from './interop/partner.js';
import { closeBrowser, LIBSODIUM_PATH, openPage, TINY_SECP256K1_PATH, type BrowserPage } from './browser/harness.js';

after(closeBrowser);
afterEach(closeAllPartners);

/** What a page does against a node at `url`: connect, a message each way, `rounds` each way, ping, close. */
const exchange = async (
  { PeerManager }: typeof import('../src/index.js'),
  { url, nodeId, rounds, expect }: { url: string; nodeId: string; rounds: number; expect: number },
) => {
  const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
  };
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const numbered = (i: number) => {
    const m = new Uint8Array(4 + (i % 7) * 97);
    m.set([0xff, 0xfd, i >> 8, i & 0xff]);
    m.fill(i & 0xff, 4);
    return m;
  };
  const pm = new PeerManager();
  const got: string[] = [];
  const all = new Promise<void>((resolve) => pm.on('custommsg', (m) => (got.push(`${m.type.toString(16)}${hex(m.payload)}`), got.length === expect && resolve())));
  const info = await within(pm.connect(`${nodeId}@${url}`), 20_000, 'connect');
  await pm.sendCustomMsg(nodeId, 'fffb68656c6c6f');
  for (let i = 0; i < rounds; i++) await pm.sendCustomMsg(nodeId, numbered(i));
  await within(all, 30_000, 'the messages from the node');
  const rtt = await within(pm.ping(nodeId), 10_000, 'ping');
  const misplaced = got.slice(1).filter((m, i) => m !== `fffd${hex(numbered(i).subarray(2))}`).length;
  // Core Lightning never answers a WebSocket close frame: disconnect() must not wait for it.
  await within(pm.disconnect(nodeId), 5000, 'disconnect() without a closing handshake');
  await pm.close();
  return { features: info.features, networks: info.networks, first: got[0], received: got.length, misplaced, rtt };
};

/**
 * The page's `exchange` with a Core Lightning node started for it (its `ws:` listener): the
 * page's message seen by the custommsg hook, one sent back through sendcustommsg. Returns
 * what the page saw and Core Lightning's end of the connection.
 */
async function oneEachWayWithCoreLightning(cln: PartnerDriver<'cln'>, page: BrowserPage) {
  const node = await cln.start({ wsPort: true });
  const listener = await node.listen();
  const running = page.run(exchange, { url: `ws://127.0.0.1:${node.wsPort}`, nodeId: node.nodeId, rounds: 0, expect: 1 }, { timeoutMs: 90_000, what: 'the page' });
  running.catch(() => {});
  const partner = await withTimeout(listener.accepted, 20_000, "Core Lightning's side");
  assert.equal(toHex(await partner.nextMessage()), 'fffb68656c6c6f', "the custommsg hook saw the page's message");
  // Core Lightning sends to the page through sendcustommsg. (No bulk here: Core Lightning's
  // websocketd corrupts a frame that reaches it in pieces, and a browser's random masks
  // cannot avoid it; see docs/interop.md.)
  await partner.send(Uint8Array.from([0xff, 0xf9, 0x6f, 0x6b]));
  const seen = await running;
  assert.equal(seen.first, 'fff96f6b', "the page got Core Lightning's message");
  return { seen, partner };
}

describe('lnpeer in Chromium, over WebSocket', () => {
  it('to a Node lnpeer listener: handshake, init, a message each way, 1,002 each way in order, ping, clean close', async (t) => {
    const page = await openPage(t);
    if (!page) return;
    const node = manager();
    const { port } = await node.listen({ port: 0, host: '127.0.0.1', websocket: true });
    // The node answers the page's first message with its own, then 1,002 numbered ones.
    node.on('peer:connect', ({ peerId }) => {
      const end = new LnpeerEnd(node, peerId);
      void (async () => {
        await end.nextMessage(20_000);
        await node.sendCustomMsg(peerId, 'fff9776f726c64');
        for (let i = 0; i < ROUNDS; i++) await node.sendCustomMsg(peerId, numbered(i));
      })();
    });
    const disconnected = new Promise<{ reason: string; local: boolean }>((resolve) => node.once('peer:disconnect', resolve));
    const r = await page.run(exchange, { url: `ws://127.0.0.1:${port}`, nodeId: node.nodeId, rounds: ROUNDS, expect: ROUNDS + 1 }, { timeoutMs: 90_000, what: 'the page' });
    assert.deepEqual(r.features, [1, 9, 13, 15, 45]);
    assert.equal(r.first, 'fff9776f726c64');
    assert.deepEqual({ received: r.received, misplaced: r.misplaced }, { received: ROUNDS + 1, misplaced: 0 });
    assert.ok(r.rtt >= 0);
    const seen = await withTimeout(disconnected, 10_000, "the node's peer:disconnect");
    assert.deepEqual(seen, { ...seen, reason: 'the remote closed the connection', local: false });
    await page.close();
    t.diagnostic(`ping ${r.rtt.toFixed(1)} ms`);
  });

  it("to Core Lightning's ws: listener: a custom message each way (custommsg hook, sendcustommsg), ping, a disconnect() that does not wait for the closing handshake it never answers", async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const page = await openPage(t);
    if (!page) return;
    const { seen: r, partner } = await oneEachWayWithCoreLightning(cln, page);
    assert.deepEqual(r.networks, ['regtest']);
    // The page's disconnect() returned at once (a deadline in the page). Core Lightning itself
    // only sees the WebSocket go when the browser gives up on the closing handshake it never
    // answers (60 s) or the page goes: closing the page ends it now.
    await page.close();
    assert.match((await withTimeout(partner.closed, 10_000, 'Core Lightning sees the page go')).reason, /closed by remote/);
  });

  it("with the wasm accelerators a page can hand to useCrypto() (libsecp256k1 from tiny-secp256k1, libsodium from libsodium-wrappers): to Core Lightning's ws: listener, a custom message each way", async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const page = await openPage(t);
    if (!page) return;
    const inUse = await page.run(
      async (lnpeer, paths) => {
        // As an application does it: its bundler's build of each package (test/browser/bundle.ts).
        const secp = await import(paths.secp);
        const sodium = (await import(paths.sodium)).default;
        await sodium.ready;
        lnpeer.useCrypto({ curve: lnpeer.libsecp256k1WasmCurve(secp), aead: lnpeer.libsodiumAead(sodium) });
        return lnpeer.cryptoInUse();
      },
      { secp: TINY_SECP256K1_PATH, sodium: LIBSODIUM_PATH },
    );
    assert.deepEqual(inUse, { curve: 'tiny-secp256k1 (libsecp256k1, wasm)', aead: 'libsodium-wrappers (libsodium, wasm)' });
    // The page's lnpeer keeps the backends it was handed: the handshake's ECDH and every packet
    // go through them, and Core Lightning's libsecp256k1 and libsodium check each.
    const { seen: r } = await oneEachWayWithCoreLightning(cln, page);
    assert.ok(r.rtt >= 0);
    assert.deepEqual(await page.run((lnpeer) => lnpeer.cryptoInUse()), inUse, 'still the backends handed over');
    await page.close();
  });
});
