// lnpeer in a real browser: headless Chromium runs the browser bundle (noble crypto, the
// browser EventEmitter and `defer` of src/platform/browser.ts), driven by test/browser/harness.ts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closeBrowser, openPage } from './browser/harness.js';

after(closeBrowser);

const BULK = 1002; // past a key rotation (every 500 messages) and several MESSAGES_PER_TURN (256) batches

describe('lnpeer in Chromium', () => {
  it('two PeerManagers joined by memoryPair(): custom messages both ways, 1,002 each way in order, ping, clean close', async (t) => {
    const started = performance.now();
    const page = await openPage(t);
    if (!page) return;
    const opened = performance.now();

    const r = await page.run(
      async ({ PeerManager, memoryPair }, { bulk }) => {
        // Runs in the page: nothing from the test file is in scope here.
        const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
          });
          return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
        };
        type Manager = InstanceType<typeof PeerManager>;
        type Received = { peerId: string; type: number; payload: Uint8Array };
        const receive = (pm: Manager, count: number, what: string): Promise<Received[]> =>
          within(
            new Promise<Received[]>((resolve) => {
              const got: Received[] = [];
              const on = (m: Received) => {
                got.push(m);
                if (got.length < count) return;
                pm.off('custommsg', on);
                resolve(got);
              };
              pm.on('custommsg', on);
            }),
            30_000,
            what,
          );
        const event = <T>(pm: Manager, name: 'peer:connect' | 'peer:disconnect', what: string): Promise<T> =>
          within(new Promise<T>((resolve) => pm.once(name, resolve as never)), 10_000, what);
        const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
        const text = new TextEncoder();
        const untext = new TextDecoder();
        /** A whole custom message: 2-byte type, then a 4-byte index, then text. */
        const message = (type: number, index: number, words: string) => {
          const body = text.encode(words);
          const m = new Uint8Array(6 + body.length);
          new DataView(m.buffer).setUint16(0, type);
          new DataView(m.buffer).setUint32(2, index);
          m.set(body, 6);
          return m;
        };
        const indexOf = (payload: Uint8Array) => new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
        const clock = () => performance.now();

        const environment = {
          userAgent: (globalThis as { navigator?: { userAgent: string } }).navigator?.userAgent ?? '',
          process: typeof process,
          Buffer: typeof Buffer,
          setImmediate: typeof setImmediate,
        };
        const t0 = clock();
        const alice = new PeerManager();
        const bob = new PeerManager();
        try {
          const [a, b] = memoryPair();
          const aliceSeesBob = event<{ peerId: string; direction: string }>(alice, 'peer:connect', "alice's peer:connect");
          alice.accept(a);
          const bobInfo = await within(bob.connectStream(b, alice.nodeId), 10_000, 'bob.connectStream(b, alice.nodeId)');
          const aliceInfo = await aliceSeesBob;
          const tConnected = clock();

          // One custom message each way.
          const toAlice = receive(alice, 1, 'the custom message from bob');
          const toBob = receive(bob, 1, 'the custom message from alice');
          await bob.sendCustomMsg(alice.nodeId, hex(message(0xfffb, 0, 'hello alice')));
          await alice.sendCustomMsg(bob.nodeId, message(0xfffd, 0, 'hello bob'));
          const [[fromBob], [fromAlice]] = await Promise.all([toAlice, toBob]);
          const single = [fromBob, fromAlice].map((m) => ({ peerId: m.peerId, type: m.type, index: indexOf(m.payload), words: untext.decode(m.payload.subarray(4)) }));

          // `bulk` messages each way, sent without waiting for each other, in both directions at once.
          const tBulk = clock();
          const bulkToAlice = receive(alice, bulk, `${bulk} messages from bob`);
          const bulkToBob = receive(bob, bulk, `${bulk} messages from alice`);
          const sends: Promise<void>[] = [];
          for (let i = 0; i < bulk; i++) {
            sends.push(bob.sendCustomMsg(alice.nodeId, message(0xfff1, i, `b${i}`)));
            sends.push(alice.sendCustomMsg(bob.nodeId, message(0xfff3, i, `a${i}`)));
          }
          await within(Promise.all(sends), 30_000, `the ${2 * bulk} sends resolve`);
          const [gotByAlice, gotByBob] = await Promise.all([bulkToAlice, bulkToBob]);
          const order = (got: Received[], type: number, prefix: string) =>
            got.filter((m, i) => m.type !== type || indexOf(m.payload) !== i || untext.decode(m.payload.subarray(4)) !== `${prefix}${i}`).length;
          const bulkMs = clock() - tBulk;

          // ping both ways.
          const pingMs = [await within(bob.ping(alice.nodeId), 10_000, 'bob pings alice'), await within(alice.ping(bob.nodeId), 10_000, 'alice pings bob')];

          // Clean close: bob disconnects; both sides report it.
          const aliceLoses = event<{ peerId: string; local: boolean; reason: string; error?: unknown }>(alice, 'peer:disconnect', "alice's peer:disconnect");
          const bobLoses = event<{ peerId: string; local: boolean; reason: string; error?: unknown }>(bob, 'peer:disconnect', "bob's peer:disconnect");
          const disconnected = await within(bob.disconnect(alice.nodeId), 10_000, 'bob.disconnect(alice)');
          const [aliceEvent, bobEvent] = await Promise.all([aliceLoses, bobLoses]);
          await within(Promise.all([alice.close(), bob.close()]), 10_000, 'closing both managers');
          return {
            environment,
            ids: { alice: alice.nodeId, bob: bob.nodeId },
            bobInfo: { peerId: bobInfo.peerId, direction: bobInfo.direction },
            aliceInfo: { peerId: aliceInfo.peerId, direction: aliceInfo.direction },
            single,
            bulk: { toAlice: gotByAlice.length, toBob: gotByBob.length, misplacedAtAlice: order(gotByAlice, 0xfff1, 'b'), misplacedAtBob: order(gotByBob, 0xfff3, 'a'), ms: bulkMs },
            pingMs,
            disconnected,
            disconnect: [aliceEvent, bobEvent].map((e) => ({ peerId: e.peerId, local: e.local, reason: e.reason, error: e.error === undefined ? null : String(e.error) })),
            peersAfter: [alice.peers().length, bob.peers().length],
            ms: { connect: tConnected - t0, total: clock() - t0 },
          };
        } finally {
          await Promise.all([alice.close(), bob.close()]);
        }
      },
      { bulk: BULK },
      { timeoutMs: 90_000, what: 'the two PeerManagers in the page' },
    );

    assert.match(r.environment.userAgent, /HeadlessChrome\//, 'it ran in headless Chromium');
    assert.deepEqual([r.environment.process, r.environment.Buffer, r.environment.setImmediate], ['undefined', 'undefined', 'undefined'], 'a browser: no Node globals');
    assert.deepEqual(r.bobInfo, { peerId: r.ids.alice, direction: 'outbound' });
    assert.deepEqual(r.aliceInfo, { peerId: r.ids.bob, direction: 'inbound' });
    assert.deepEqual(r.single, [
      { peerId: r.ids.bob, type: 0xfffb, index: 0, words: 'hello alice' },
      { peerId: r.ids.alice, type: 0xfffd, index: 0, words: 'hello bob' },
    ]);
    assert.deepEqual(
      { toAlice: r.bulk.toAlice, toBob: r.bulk.toBob, misplacedAtAlice: r.bulk.misplacedAtAlice, misplacedAtBob: r.bulk.misplacedAtBob },
      { toAlice: BULK, toBob: BULK, misplacedAtAlice: 0, misplacedAtBob: 0 },
      'every message arrived, in order',
    );
    assert.equal(r.pingMs.length, 2);
    for (const ms of r.pingMs) assert.ok(typeof ms === 'number' && ms >= 0, `a ping's round trip: ${ms}`);
    assert.equal(r.disconnected, true);
    assert.deepEqual(
      r.disconnect.map(({ peerId, local, error }) => ({ peerId, local, error })),
      [
        { peerId: r.ids.bob, local: false, error: null },
        { peerId: r.ids.alice, local: true, error: null },
      ],
      `both sides report the disconnect, without error (reasons: ${r.disconnect.map((d) => d.reason).join(' / ')})`,
    );
    assert.deepEqual(r.peersAfter, [0, 0]);
    await page.close();

    t.diagnostic(
      `${r.environment.userAgent.match(/HeadlessChrome\/\S+/)?.[0]}: page opened in ${Math.round(opened - started)} ms (bundle, server and Chromium included on first use); ` +
        `in the page: connect ${Math.round(r.ms.connect)} ms, ${BULK} messages each way ${Math.round(r.bulk.ms)} ms, ` +
        `ping ${r.pingMs.map((p) => p.toFixed(1)).join('/')} ms, whole run ${Math.round(r.ms.total)} ms; test ${Math.round(performance.now() - started)} ms`,
    );
  });
});
