// Persistent peers: reconnection with backoff and jitter, what stops it, and sends that wait
// for a connection. Over TCP on loopback; a node "goes down" when its PeerManager closes and
// "comes back" as a new one with the same key on the same port.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PeerManager, RECONNECT_JITTER, type LnPeerError, type ReconnectingEvent } from '../../src/index.js';
import { randomPrivateKey } from '../../src/crypto/index.js';
import { FROM_SOURCE, next, withTimeout } from '../helpers.js';

/** A node that can go down and come back on the same port with the same key. */
async function restartableNode(options: ConstructorParameters<typeof PeerManager>[0] = {}) {
  const privateKey = randomPrivateKey();
  let pm = new PeerManager({ privateKey, ...options });
  const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
  return {
    nodeId: pm.nodeId,
    port,
    get pm() {
      return pm;
    },
    down: () => pm.close(),
    up: async () => {
      pm = new PeerManager({ privateKey, ...options });
      await pm.listen({ port, host: '127.0.0.1' });
      return pm;
    },
  };
}

/** The next `count` reconnecting events of `pm`. */
function reconnecting(pm: PeerManager, count: number): Promise<ReconnectingEvent[]> {
  return withTimeout(
    new Promise((resolve) => {
      const seen: ReconnectingEvent[] = [];
      const on = (e: ReconnectingEvent) => {
        seen.push(e);
        if (seen.length < count) return;
        pm.off('peer:reconnecting', on);
        resolve(seen);
      };
      pm.on('peer:reconnecting', on);
    }),
    20_000,
    `${count} peer:reconnecting events`,
  );
}

const reconnect = { initialDelayMs: 20, maxDelayMs: 160 };

describe('persistent peers', () => {
  it('reconnect after the remote drops them, and a message crosses again', async () => {
    const bob = await restartableNode();
    const alice = new PeerManager({ reconnect });
    await alice.connect(`${bob.nodeId}@127.0.0.1:${bob.port}`, { persistent: true });
    const again = next(alice, 'peer:connect');
    const retry = reconnecting(alice, 1);
    await bob.pm.disconnect(alice.nodeId);
    const [event] = await retry;
    assert.deepEqual({ peerId: event.peerId, attempt: event.attempt, code: event.error.code }, { peerId: bob.nodeId, attempt: 1, code: 'CONNECTION_CLOSED' });
    await again;
    const got = next(bob.pm, 'custommsg');
    await alice.sendCustomMsg(bob.nodeId, 'fffb01');
    assert.equal((await got).peerId, alice.nodeId);
    await Promise.all([alice.close(), bob.down()]);
  });

  it('back off exponentially, within the jitter, up to the longest delay; and connect once the node is back', async () => {
    const bob = await restartableNode();
    await bob.down();
    const alice = new PeerManager({ reconnect });
    const connecting = alice.connect(`${bob.nodeId}@127.0.0.1:${bob.port}`, { persistent: true });
    const events = await reconnecting(alice, 6);
    events.forEach((e, i) => {
      const backoff = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** i);
      assert.equal(e.attempt, i + 1);
      assert.equal(e.error.code, 'CONNECTION_FAILED');
      assert.ok(e.delayMs >= backoff * (1 - RECONNECT_JITTER) && e.delayMs <= backoff * (1 + RECONNECT_JITTER), `attempt ${e.attempt}: ${e.delayMs} ms, backoff ${backoff} ms ± ${RECONNECT_JITTER * 100}%`);
    });
    await bob.up();
    assert.equal((await withTimeout(connecting, 10_000, 'connect() once the node is back')).peerId, bob.nodeId);
    await Promise.all([alice.close(), bob.down()]);
  });

  it('stop on a refusal that no retry can change, with that reason', async () => {
    const bob = await restartableNode({ networks: ['regtest'] });
    const alice = new PeerManager({ reconnect, networks: ['bitcoin'] });
    const stopped = next(alice, 'peer:reconnect-stopped');
    const error = await alice.connect(`${bob.nodeId}@127.0.0.1:${bob.port}`, { persistent: true }).then(
      () => assert.fail('connected'),
      (e: LnPeerError) => e,
    );
    assert.equal(error.code, 'NO_COMMON_NETWORK');
    assert.equal((await stopped).error, error);
    await Promise.all([alice.close(), bob.down()]);
  });

  it('disconnect() during the backoff ends it and leaves nothing running: the process exits on its own', () => {
    const script = `
      import { PeerManager } from './src/index.ts';
      const down = new PeerManager();
      const { port } = await down.listen({ port: 0 });
      await down.close();
      const pm = new PeerManager({ reconnect: { initialDelayMs: 60_000 } });
      const retry = new Promise((resolve) => pm.once('peer:reconnecting', resolve));
      const connecting = pm.connect(down.nodeId + '@127.0.0.1:' + port, { persistent: true });
      connecting.catch((e) => console.log('connect: ' + e.code));
      await retry;
      console.log('disconnect: ' + (await pm.disconnect(down.nodeId)));
      // No close(): the 60-second retry timer would hold the process if it were still there.
    `;
    const run = spawnSync(process.execPath, [...FROM_SOURCE, '--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.stderr, '');
    assert.equal(run.signal, null, 'it exited on its own');
    assert.equal(run.stdout, 'disconnect: true\nconnect: ABORTED\n');
  });

  it('100 persistent peers whose node is down: one timer each, retries spread by the jitter, all back once the node is', async () => {
    const node = await restartableNode({ handshakesPerSecondPerHost: 0 });
    await node.down();
    // 100 PeerManagers (100 identities) keep the one node.
    const managers = Array.from({ length: 100 }, () => new PeerManager({ reconnect: { initialDelayMs: 50, maxDelayMs: 400 } }));
    try {
      const retries = managers.map((pm) => reconnecting(pm, 3));
      const connects = managers.map((pm) => pm.connect(`${node.nodeId}@127.0.0.1:${node.port}`, { persistent: true }));
      const seen = await Promise.all(retries);
      // The first retries spread over the jitter's window (25 to 75 ms), not one burst.
      const delays = seen.map(([first]) => first.delayMs);
      assert.ok(Math.max(...delays) - Math.min(...delays) >= 25, `first retries from ${Math.min(...delays)} to ${Math.max(...delays)} ms`);
      for (const events of seen) {
        assert.deepEqual(events.map((e) => e.attempt), [1, 2, 3], 'one retry at a time: one timer per peer');
        events.forEach((e, i) => assert.ok(e.delayMs >= 50 * 2 ** i * (1 - RECONNECT_JITTER), `retry ${e.attempt} waits at least ${50 * 2 ** i * (1 - RECONNECT_JITTER)} ms`));
      }
      const up = await node.up();
      await withTimeout(Promise.all(connects), 20_000, 'all 100 connect once the node is back');
      assert.equal(up.peers().length, 100);
    } finally {
      await Promise.all([...managers.map((pm) => pm.close()), node.down()]);
    }
  });
});

describe('sends that wait for a connection', () => {
  it('are sent in order once the peer connects; refused past the bound; time out', async () => {
    const bob = await restartableNode();
    await bob.down();
    const alice = new PeerManager({ reconnect, maxQueuedBytes: 1000 });
    void alice.connect(`${bob.nodeId}@127.0.0.1:${bob.port}`, { persistent: true }).catch(() => {});
    await assert.rejects(alice.sendCustomMsg(bob.nodeId, 'fffb00'), { code: 'PEER_NOT_CONNECTED' });
    await assert.rejects(alice.sendCustomMsg(bob.nodeId, 'fffb00', { waitForConnection: true, timeoutMs: 20 }), { code: 'TIMEOUT' });
    const waiting = [1, 2, 3].map((i) => alice.sendCustomMsg(bob.nodeId, Uint8Array.from([0xff, 0xfb, i]), { waitForConnection: true }));
    await assert.rejects(alice.sendCustomMsg(bob.nodeId, new Uint8Array(998).fill(0xff), { waitForConnection: true }), { code: 'QUEUE_FULL' });
    const up = await bob.up();
    const received: number[] = [];
    const three = new Promise<void>((resolve) => up.on('custommsg', (m) => received.push(m.payload[0]) === 3 && resolve()));
    await withTimeout(Promise.all(waiting), 20_000, 'the waiting sends');
    await withTimeout(three, 10_000, 'the three messages');
    assert.deepEqual(received, [1, 2, 3]);
    await Promise.all([alice.close(), bob.down()]);
  });
});
