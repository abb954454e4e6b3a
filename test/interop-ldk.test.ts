/**
 * Proves the LDK driver (test/interop/partners/ldk.ts) without lnpeer: LDK against
 * Electrum's raw transport (which shows every byte LDK sends, `init` and pings included) in
 * both roles, and LDK against LDK (two nodes in this process).
 *
 *   node --import tsx --test test/interop-ldk.test.ts
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, test, type TestContext } from 'node:test';
import { requirePartners } from './interop/availability.js';
import { PARTNER_CLOSED_CLEANLY, numbered, sendAll, target, type Endpoint } from './interop/exchange.js';
import {
  PartnerClosedError,
  closeAllPartners,
  fromHex,
  nodeIdOf,
  randomKey,
  toHex,
  withTimeout,
  type Message,
  type Partner,
  type PartnerConnection,
} from './interop/partner.js';
import type { Driver } from './interop/lnpeer.js';
import type { ElectrumPartner } from './interop/partners/electrum.js';
import type { LdkConnection, LdkNode, LdkStartOptions } from './interop/partners/ldk.js';

afterEach(closeAllPartners);

const REGTEST = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f';
const MAINNET = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000';
/**
 * LDK's `init`: globalfeatures bits 0 5 8 12 (features' bits 0–12 copied), features bits 0 5
 * 8 12 14 17 19 25 27 45 47 51 (required: 0 data_loss_protect, 8 var_onion, 12
 * static_remotekey, 14 payment_secret), its chain in `networks`, no address (loopback).
 */
const LDK_INIT = `001000021121000708a0000a0a5121` + `0120${REGTEST}`;
/** The smallest `init` LDK's ChannelManager accepts: bits 1 9 13 15, regtest. */
const OK_INIT = fromHex(`001000000002a2020120${REGTEST}`);
/** LDK's ping: num_pong_bytes 0, 64 zero bytes to ignore. */
const LDK_PING = `001200000040${'00'.repeat(64)}`;

const isPing = (m: Message) => m[0] === 0 && m[1] === 18;
const pongFor = (ping: Message) => new Uint8Array([0, 19, ping[2]!, ping[3]!, ...new Uint8Array((ping[2]! << 8) | ping[3]!)]);

/**
 * The raw transport as LDK needs its peers: the pings LDK sends on its own (after 32 messages
 * without a pong) answered with the pong they ask for, and not shown.
 */
function answeringPings(raw: PartnerConnection): Endpoint & { pings: string[] } {
  const pings: string[] = [];
  return {
    name: raw.name,
    pings,
    send: (m) => raw.send(m),
    async nextMessage(timeoutMs) {
      for (;;) {
        const m = await raw.nextMessage(timeoutMs);
        if (!isPing(m)) return m;
        pings.push(toHex(m));
        await raw.send(pongFor(m));
      }
    },
  };
}

/** A largest message: 2-byte type + 65,533 payload bytes. */
function largest(type: number): Message {
  const m = new Uint8Array(65535);
  m.set([type >> 8, type & 0xff]);
  for (let i = 2; i < m.length; i++) m[i] = i & 0xff;
  return m;
}

async function oneEachWay(a: Endpoint & Pick<PartnerConnection, 'remoteNodeId' | 'localNodeId'>, b: Endpoint & Pick<PartnerConnection, 'remoteNodeId' | 'localNodeId'>): Promise<void> {
  assert.equal(a.remoteNodeId, b.localNodeId, `${a.name} learnt ${b.name}'s node id`);
  assert.equal(b.remoteNodeId, a.localNodeId, `${b.name} learnt ${a.name}'s node id`);
  const hello = fromHex('fffb68656c6c6f'); // 65531, "hello": arrives as -5 in the bindings
  await a.send(hello);
  assert.deepEqual(await b.nextMessage(), hello);
  const reply = fromHex('fff90102030405');
  await b.send(reply);
  assert.deepEqual(await a.nextMessage(), reply);
}

/** An LDK node that ticks only when the test says so (and electrum-raw), or undefined (skipped). */
async function start(t: TestContext, options: LdkStartOptions = {}): Promise<{ ldk: LdkNode; electrum: ElectrumPartner<PartnerConnection> } | undefined> {
  const p = await requirePartners(t, 'ldk', 'electrum-raw');
  return p && { ldk: await p[0].start({ tickIntervalMs: 0, ...options }), electrum: p[1] };
}

/** electrum-raw (key `key`) connects to `ldk`, reads LDK's init, sends `init`. */
async function rawToLdk({ ldk, electrum }: { ldk: LdkNode; electrum: ElectrumPartner<PartnerConnection> }, init: Message = OK_INIT, key = randomKey()) {
  const listener = await ldk.listen();
  const raw = await electrum.connect({ ...target(listener), privateKey: key });
  const ldkInit = await raw.nextMessage(); // LDK sends its init right after act three
  await raw.send(init);
  return { raw, ldkInit, accepted: listener.accepted };
}

/** The body both roles share: init bytes, ids, custom messages, pings, bulk, largest. */
async function exercise(ldk: LdkNode, conn: LdkConnection, raw: PartnerConnection, ldkInit: Message): Promise<void> {
  const handed = () => ldk.received.filter((r) => r.sender === conn.remoteNodeId).length;
  assert.equal(toHex(ldkInit), LDK_INIT);
  // the driver's init tap decrypted exactly the bytes each side put on the wire
  assert.deepEqual(conn.init, { sent: ldkInit, received: OK_INIT });
  assert.equal(conn.shows, 'custom');
  await oneEachWay(conn, raw);
  // LDK answers a ping with the zeros it asks for
  await raw.send(fromHex('0012000400020000'));
  assert.equal(toHex(await raw.nextMessage()), '0013000400000000');
  // LDK's own ping, on a timer tick; the test answers it
  const roundTrip = conn.pingRoundTrip();
  const ping = await raw.nextMessage();
  assert.equal(toHex(ping), LDK_PING);
  await raw.send(pongFor(ping));
  assert.deepEqual(await roundTrip, { numPongBytes: 0, pongBytes: 0 });

  const peer = answeringPings(raw);
  await sendAll(conn, peer);
  // LDK pings by itself after 32 messages sent since the last pong
  assert.ok(peer.pings.length >= 1 && peer.pings.every((p) => p === LDK_PING), `LDK's extra pings: ${peer.pings.length}`);
  await sendAll(raw, conn);
  const big = largest(0xfff1);
  await conn.send(big);
  assert.deepEqual(await peer.nextMessage(), big);
  await raw.send(big);
  assert.deepEqual(await conn.nextMessage(), big);
  // nothing else reached the custom handler (init, pings, pongs never do): hello, the run, big
  assert.equal(handed(), 1 + 1002 + 1);
  assert.equal(conn.queue.length, 0);
  assert.deepEqual(await conn.receivedWarnings(), []);
}

describe('LDK ↔ electrum-raw', () => {
  test('electrum-raw initiator → LDK responder; LDK closes cleanly', async (t) => {
    const p = await start(t);
    if (!p) return;
    const { ldk } = p;
    const key = randomKey();
    const { raw, ldkInit, accepted } = await rawToLdk(p, OK_INIT, key);
    const conn = await accepted;
    assert.equal(conn.role, 'responder');
    assert.equal(conn.remoteNodeId, nodeIdOf(key));
    assert.equal(conn.localNodeId, ldk.nodeId);
    await exercise(ldk, conn, raw, ldkInit);
    await conn.close();
    assert.equal((await conn.closed).reason, 'closed by driver');
    assert.match((await withTimeout(raw.closed, 5000, 'electrum sees the close')).reason, PARTNER_CLOSED_CLEANLY);
  });

  test('LDK initiator → electrum-raw responder; the remote closes cleanly', async (t) => {
    const p = await start(t);
    if (!p) return;
    const { ldk, electrum } = p;
    const listener = await electrum.listen({ privateKey: randomKey() });
    const connecting = ldk.connect({ ...target(listener), privateKey: randomKey() }); // the key is LDK's own
    const raw = await listener.accepted;
    assert.equal(raw.remoteNodeId, ldk.nodeId);
    const ldkInit = await raw.nextMessage(); // LDK sends its init right after act three
    await raw.send(OK_INIT);
    const conn = await connecting;
    assert.equal(conn.role, 'initiator');
    await exercise(ldk, conn, raw, ldkInit);
    await raw.close();
    assert.equal((await withTimeout(conn.closed, 5000, 'LDK sees the close')).reason, 'closed by remote');
    await assert.rejects(conn.send(numbered(0)), PartnerClosedError);
  });

  test('what makes LDK hang up (silently: never a warning), what it tolerates', async (t) => {
    const p = await start(t);
    if (!p) return;
    const zeros = '00'.repeat(32);
    const ok = toHex(OK_INIT);
    // [case, init, messages after it, LDK's logged reason or 'open']
    const cases: [string, string, string[], RegExp | 'open'][] = [
      ['networks without regtest', `001000000002a2020120${MAINNET}`, [], /^Peer does not support any of our supported chains$/],
      ['no features', `0010000000000120${REGTEST}`, [], /^We require features unknown to our peer \w+: /],
      ['static_remotekey (13) alone', `0010000000022000` + `0120${REGTEST}`, [], /^We require features unknown to our peer/],
      ['unknown even feature 22', `00100000000340a2020120${REGTEST}`, [], /^Peer \w+ requires features unknown to us: /],
      ['no networks TLV', '001000000002a202', [], 'open'],
      ['unknown even type 32766', ok, ['7ffe'], /^Received unknown even message of type 32766, disconnecting peer!$/],
      ['unknown odd type 32767', ok, ['7fff'], 'open'],
      ['error, all-zero channel_id', ok, [`0011${zeros}00026869`], /^Got Err message from \w+: hi$/],
      ['error, unknown channel_id', ok, [`0011${'11'.repeat(32)}00026869`], 'open'],
      ['warning, all-zero channel_id', ok, [`0001${zeros}00026869`], 'open'],
      ['a second init', ok, [ok], /read_event failed \(LDK logged no reason\)/],
      ['ping num_pong_bytes 65532 (no pong: BOLT 1 says ignore)', ok, ['0012fffc0000'], 'open'],
      ['a truncated ping', ok, ['001200'], /^Deserialization failed due to shortness of message$/],
      ['a 1-byte message', ok, ['00'], /read_event failed \(LDK logged no reason\)/],
    ];
    const outcomes = await Promise.all(
      cases.map(async ([, init, after]) => {
        const { raw, accepted } = await rawToLdk(p, fromHex(init));
        const conn = await accepted.catch((e: PartnerClosedError) => e);
        const silent = async (reason: string) => {
          await assert.rejects(raw.nextMessage(2000), PartnerClosedError, 'LDK sent nothing before it closed');
          return reason;
        };
        if (conn instanceof PartnerClosedError) return silent(conn.reason);
        for (const m of after) await raw.send(fromHex(m));
        await raw.send(fromHex('001200010000')).catch(() => {}); // still up? a ping must come back as a pong
        const pong = await raw.nextMessage(3000).catch((e: Error) => e);
        if (pong instanceof Uint8Array && toHex(pong) === '0013000100') return `open; warnings ${JSON.stringify(await conn.receivedWarnings())}`;
        assert.ok(pong instanceof PartnerClosedError, `no message but a pong, got ${pong}`);
        return silent((await withTimeout(conn.closed, 3000, 'LDK close')).reason);
      }),
    );
    cases.forEach(([name], i) => t.diagnostic(`${name}: ${outcomes[i]}`));
    cases.forEach(([name, , , expected], i) =>
      expected === 'open' ? assert.match(outcomes[i]!, /^open/, name) : assert.match(outcomes[i]!, expected, name),
    );
    assert.equal(outcomes[cases.findIndex(([n]) => n.startsWith('warning'))], 'open; warnings ["hi"]');
  });

  test('an even custom type the reader claims reaches the handler: LDK leaves parity to the app', async (t) => {
    const p = await start(t);
    if (!p) return;
    const { ldk } = p;
    const { raw, accepted } = await rawToLdk(p);
    const conn = await accepted;
    await raw.send(fromHex('fffe0102'));
    assert.equal(toHex(await conn.nextMessage()), 'fffe0102');
    assert.deepEqual(ldk.received.at(-1), { sender: conn.remoteNodeId, message: fromHex('fffe0102') });
  });

  test('a peer that never answers LDK\'s ping is dropped on the next tick', async (t) => {
    const p = await start(t);
    if (!p) return;
    const { ldk } = p;
    const { raw, accepted } = await rawToLdk(p);
    const conn = await accepted;
    ldk.tick();
    assert.equal(toHex(await raw.nextMessage()), LDK_PING);
    ldk.tick(); // nothing came from the peer since the last tick
    assert.match((await withTimeout(conn.closed, 5000, 'LDK drops it')).reason, /^Disconnecting peer with id \w+ due to ping\/handshake timeout$/);
    await assert.rejects(raw.nextMessage(2000), PartnerClosedError, 'no warning first');
  });

  test('a connection that has not finished the handshake by the second tick is dropped', async (t) => {
    const p = await start(t);
    if (!p) return;
    const listener = await p.ldk.listen();
    const socket = net.connect({ host: listener.host, port: listener.port }); // and says nothing
    t.after(() => socket.destroy());
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await withTimeout(listener.tcpAccepted, 5000, 'LDK has the socket');
    p.ldk.tick(); // the first tick only marks it
    p.ldk.tick();
    await assert.rejects(listener.accepted, (e: PartnerClosedError) =>
      /^Disconnecting peer which hasn't completed handshake due to ping\/handshake timeout$/.test(e.reason),
    );
    await withTimeout(ended, 5000, 'the socket is closed');
  });

  test('a second connection from a node id already connected: LDK closes the new one, the first one stays', async (t) => {
    const p = await start(t);
    if (!p) return;
    const { ldk, electrum } = p;
    const key = randomKey();
    const first = await rawToLdk(p, OK_INIT, key);
    const conn = await first.accepted;
    const listener = await ldk.listen();
    // Electrum's handshake may finish (act three written) before LDK closes, or not
    const second = await electrum.connect({ ...target(listener), privateKey: key }).catch((e: PartnerClosedError) => e);
    await assert.rejects(listener.accepted, (e: PartnerClosedError) => /^Got second connection with \w+, closing$/.test(e.reason));
    if (!(second instanceof PartnerClosedError)) await assert.rejects(second.nextMessage(2000), PartnerClosedError, 'LDK sent no init on it');
    await oneEachWay(conn, first.raw);
  });
});

describe('LDK ↔ LDK', () => {
  async function pairLdk(t: TestContext, options: LdkStartOptions = {}) {
    const p = await requirePartners(t, 'ldk');
    if (!p) return undefined;
    const a = await p[0].start({ tickIntervalMs: 0 });
    const b = await p[0].start({ tickIntervalMs: 0, ...options });
    const driver: Driver<LdkConnection> & Partner = b; // what lnpeer's pair() and the suites take
    const listener = await driver.listen!({ privateKey: randomKey() }); // the key is ignored
    const initiator = await a.connect({ ...target(listener), privateKey: randomKey() });
    return { a, b, initiator, responder: await listener.accepted };
  }

  test('init, messages, pings, bulk, largest, clean close', async (t) => {
    const p = await pairLdk(t);
    if (!p) return;
    const { a, b, initiator, responder } = p;
    assert.equal(initiator.remoteNodeId, b.nodeId);
    assert.equal(responder.remoteNodeId, a.nodeId);
    assert.deepEqual(initiator.init?.sent, responder.init?.received);
    assert.deepEqual(responder.init?.sent, initiator.init?.received);
    assert.equal(toHex(initiator.init!.sent), LDK_INIT);
    await oneEachWay(initiator, responder);
    assert.deepEqual(b.received.at(-1)?.sender, a.nodeId);
    assert.deepEqual(await initiator.pingRoundTrip(), { numPongBytes: 0, pongBytes: 0 });
    assert.deepEqual(await responder.pingRoundTrip(), { numPongBytes: 0, pongBytes: 0 });
    await sendAll(initiator, responder);
    await sendAll(responder, initiator);
    for (const [from, to] of [[initiator, responder], [responder, initiator]] as const) {
      const big = largest(0xfff3);
      await from.send(big);
      assert.deepEqual(await to.nextMessage(), big);
    }
    await assert.rejects(initiator.send(new Uint8Array(65536)), /2 to 65535 bytes/);
    await responder.close();
    assert.equal((await responder.closed).reason, 'closed by driver');
    assert.match((await withTimeout(initiator.closed, 5000, 'the initiator sees the close')).reason, PARTNER_CLOSED_CLEANLY);
  });

  test('an even type the reader does not claim: LDK disconnects, without a warning', async (t) => {
    const p = await pairLdk(t, { customTypes: (type) => type >= 0x8000 && type % 2 === 1 });
    if (!p) return;
    const { initiator, responder } = p;
    await initiator.send(fromHex('fffe0102'));
    assert.match((await withTimeout(responder.closed, 5000, 'LDK refuses it')).reason, /^Received unknown even message of type 65534, disconnecting peer!$/);
    assert.equal((await withTimeout(initiator.closed, 5000, 'the sender sees the close')).reason, 'closed by remote');
    assert.deepEqual(await initiator.receivedWarnings(), []);
  });

  test('a refused TCP connection rejects connect()', async (t) => {
    const p = await requirePartners(t, 'ldk');
    if (!p) return;
    const a = await p[0].start({ tickIntervalMs: 0 });
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(a.connect({ nodeId: nodeIdOf(randomKey()), host: '127.0.0.1', port, privateKey: randomKey() }), (e: PartnerClosedError) =>
      /ECONNREFUSED/.test(e.reason),
    );
  });

  test('LDK does not open a second connection to a node it is connected to', async (t) => {
    const p = await pairLdk(t);
    if (!p) return;
    const { a, b, initiator, responder } = p;
    const listener = await b.listen();
    await assert.rejects(a.connect({ ...target(listener), privateKey: randomKey() }), (e: PartnerClosedError) =>
      /^Got second connection with \w+, closing$/.test(e.reason),
    );
    // A refuses after act two, before act three: B never learnt who it was
    await assert.rejects(listener.accepted, (e: PartnerClosedError) => e.reason === 'closed by remote');
    await oneEachWay(initiator, responder);
  });
});
