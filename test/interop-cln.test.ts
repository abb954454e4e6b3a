/**
 * Proves the Core Lightning driver (test/interop/partners/cln.ts) without lnpeer: two Core
 * Lightning nodes with each other, and Core Lightning with Electrum's raw transport in both
 * roles (`init` by hand on the raw side).
 *
 *   node --import tsx --test test/interop-cln.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { requirePartner, requirePartners } from './interop/availability.js';
import { PARTNER_CLOSED_CLEANLY, sendAll, target } from './interop/exchange.js';
import {
  PartnerClosedError,
  closeAllPartners,
  fromHex,
  randomKey,
  toHex,
  withTimeout,
  type PartnerConnection,
} from './interop/partner.js';
import { ClnRpcError, type ClnConnection, type ClnNode } from './interop/partners/cln.js';

afterEach(closeAllPartners); // no lightningd outlives a test, even a failed one

const REGTEST = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f';
const MAINNET = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000';
/** BOLT 1 `init` for the raw side: no features, no TLVs (Core Lightning asks for nothing more). */
const INIT = fromHex('001000000000');

/** The largest message: 65,535 bytes in all, type 65531 (odd) and 65,533 payload bytes. */
function largest(): Uint8Array {
  const m = new Uint8Array(65535);
  m.set([0xff, 0xfb]);
  m.set(randomBytes(65533), 2);
  return m;
}

/** One custom message each way, payload and sender's id intact. */
async function oneEachWay(a: PartnerConnection, b: PartnerConnection): Promise<void> {
  assert.equal(a.remoteNodeId, b.localNodeId, `${a.name} learnt ${b.name}'s node id`);
  assert.equal(b.remoteNodeId, a.localNodeId, `${b.name} learnt ${a.name}'s node id`);
  const hello = fromHex('fffb68656c6c6f'); // custom odd type 65531, "hello"
  await a.send(hello);
  assert.deepEqual(await b.nextMessage(), hello);
  const reply = fromHex('fff90102030405');
  await b.send(reply);
  assert.deepEqual(await a.nextMessage(), reply);
}

async function bulkAndLargest(a: PartnerConnection, b: PartnerConnection): Promise<void> {
  await sendAll(a, b);
  await sendAll(b, a);
  for (const [from, to] of [[a, b], [b, a]]) {
    const m = largest();
    await from.send(m);
    assert.equal(toHex(await to.nextMessage()), toHex(m), `${from.name} → ${to.name}: 65,535 bytes`);
  }
}

async function closeBoth(closer: PartnerConnection, other: PartnerConnection): Promise<void> {
  await closer.close();
  assert.equal((await closer.closed).reason, 'closed by driver');
  const { reason } = await withTimeout(other.closed, 5000, `${other.name} sees the close`);
  assert.match(reason, PARTNER_CLOSED_CLEANLY, `${other.name} saw a clean close`);
}

/** Two nodes, `a` connected to `b`'s listener. */
async function twoNodes(
  cln: { start(o?: { customMessages?: number[] }): Promise<ClnNode> },
  bOptions: { customMessages?: number[] } = {},
): Promise<{ a: ClnNode; b: ClnNode; ab: ClnConnection; ba: ClnConnection }> {
  const [a, b] = await Promise.all([cln.start(), cln.start(bOptions)]);
  const listener = await b.listen({ privateKey: randomKey() });
  const ab = await a.connect({ ...target(listener), privateKey: randomKey() });
  const ba = await withTimeout(listener.accepted, 5000, 'b accepts a');
  return { a, b, ab, ba };
}

describe('Core Lightning ↔ Core Lightning', () => {
  test('connect, init, custom messages, ping, 1,002 each way, the largest message, clean close', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const { a, b, ab, ba } = await twoNodes(cln);
    // both saw the connection, each in its role, with the other's node id
    assert.deepEqual([ab.role, ab.localNodeId, ab.remoteNodeId], ['initiator', a.nodeId, b.nodeId]);
    assert.deepEqual([ba.role, ba.localNodeId, ba.remoteNodeId], ['responder', b.nodeId, a.nodeId]);
    assert.deepEqual(ab.shows, 'custom');
    // `init` each way, from the io log: what one sent is what the other received
    assert.ok(ab.init && ba.init, 'init is in the io log');
    assert.deepEqual(ab.init.sent, ba.init.received);
    assert.deepEqual(ba.init.sent, ab.init.received);
    assert.ok(toHex(ab.init.sent).endsWith(`0120${REGTEST}`), 'the initiator: networks = regtest, nothing after');
    // the responder adds remote_addr (TLV 3): the initiator's IPv4 address and port
    assert.match(toHex(ba.init.sent), new RegExp(`0120${REGTEST}0307017f000001[0-9a-f]{4}$`));

    await oneEachWay(ab, ba);
    // `ping` RPC: len 8, pongbytes 4; the pong's byteslen comes back as totlen - 4
    assert.deepEqual(await ab.pingRoundTrip(), { numPongBytes: 4, pongBytes: 4 });
    assert.deepEqual(await ba.pingRoundTrip(), { numPongBytes: 4, pongBytes: 4 });

    // what the driver refuses before lightningd sees it, and what lightningd refuses
    await assert.rejects(ab.send(new Uint8Array(65536)), /2 to 65,535 bytes/);
    await assert.rejects(ab.send(new Uint8Array(1)), /2 to 65,535 bytes/);
    await assert.rejects(ab.send(fromHex('001200040000')), (e: ClnRpcError) => e.code === -32600 && /WIRE_PING/.test(e.rpcMessage));

    await bulkAndLargest(ab, ba);
    assert.deepEqual(await ab.receivedWarnings(), []);
    assert.deepEqual(await ba.receivedWarnings(), []);
    await closeBoth(ab, ba);
  });

  test('an unknown even type: the receiver warns and hangs up, and never shows it', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const { b, ab, ba } = await twoNodes(cln);
    await ab.send(fromHex('fffe68656c6c6f'));
    const warning = 'WARNING: Invalid unknown even msg fffe68656c6c6f';
    assert.equal((await withTimeout(ab.closed, 5000, 'a sees the close')).reason, `closed by remote after its ${warning}`);
    assert.equal((await withTimeout(ba.closed, 5000, 'b closes')).reason, `CLN hung up after sending ${warning}`);
    assert.deepEqual(await ab.receivedWarnings(), [warning]);
    await assert.rejects(ba.nextMessage(), PartnerClosedError, 'the hook never saw it');
    assert.equal((await b.grepLog(/UNUSUAL .*-connectd: Invalid unknown even msg fffe68656c6c6f$/)).length, 1);
  });

  test('a node whose plugin lists an even type in custommessages receives it', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const { ab, ba } = await twoNodes(cln, { customMessages: [65534] });
    await ab.send(fromHex('fffe68656c6c6f'));
    assert.equal(toHex(await ba.nextMessage()), 'fffe68656c6c6f');
    assert.deepEqual(await ab.pingRoundTrip(), { numPongBytes: 4, pongBytes: 4 }, 'still connected');
    assert.deepEqual(await ab.receivedWarnings(), []);
    await closeBoth(ba, ab);
  });

  test('restart keeps the directory, port and node id; the other node reconnects', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const { a, b, ab, ba } = await twoNodes(cln);
    const before = { nodeId: b.nodeId, port: b.port };
    await b.restart();
    assert.deepEqual({ nodeId: b.nodeId, port: b.port }, before);
    assert.equal((await ba.closed).reason, 'node stopped by driver');
    assert.match((await withTimeout(ab.closed, 5000, 'a sees b go')).reason, PARTNER_CLOSED_CLEANLY);
    const listener = await b.listen({ privateKey: randomKey() });
    const again = await a.connect({ ...target(listener), privateKey: randomKey() });
    await oneEachWay(again, await withTimeout(listener.accepted, 5000, 'b accepts a again'));
  });

  test('wsPort: a WebSocket listener that answers the upgrade', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const node = await cln.start({ wsPort: true });
    assert.ok(node.wsPort && node.wsPort !== node.port);
    const socket = net.connect(node.wsPort!, '127.0.0.1');
    t.after(() => socket.destroy());
    const answer = new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(d.toString('latin1')));
      socket.once('error', reject);
    });
    socket.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    assert.match(await withTimeout(answer, 5000, 'the upgrade answer'), /^HTTP\/1\.1 101 /);
  });
});

describe('Core Lightning ↔ Electrum raw transport', () => {
  test('Core Lightning responder ↔ electrum-raw initiator', async (t) => {
    const p = await requirePartners(t, 'cln', 'electrum-raw');
    if (!p) return;
    const [cln, electrum] = p;
    const node = await cln.start();
    const listener = await node.listen({ privateKey: randomKey() });
    const raw = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    const clnInit = await raw.nextMessage(); // it sends its init at once
    await raw.send(INIT);
    const conn = await withTimeout(listener.accepted, 5000, 'Core Lightning accepts');
    assert.deepEqual(conn.init, { sent: clnInit, received: INIT });
    await oneEachWay(raw, conn);

    // the raw side pings: Core Lightning answers with num_pong_bytes zeros
    await raw.send(fromHex('0012000300020000'));
    assert.equal(toHex(await raw.nextMessage()), '00130003000000');
    // Core Lightning pings (len 8, pongbytes 4) and waits for the raw side's pong
    const pinging = conn.pingRoundTrip();
    assert.equal(toHex(await raw.nextMessage()), `001200040008${'00'.repeat(8)}`);
    await raw.send(fromHex('0013000400000000'));
    assert.deepEqual(await pinging, { numPongBytes: 4, pongBytes: 4 });

    // a warning with an all-zero channel id is logged and tolerated; the next message
    // shows that it was processed
    await raw.send(fromHex(`0001${'00'.repeat(32)}00026869`));
    await raw.send(fromHex('fffb01'));
    assert.equal(toHex(await conn.nextMessage()), 'fffb01');
    assert.deepEqual(await conn.receivedWarnings(), ['WARNING: hi']);

    await bulkAndLargest(raw, conn);
    await closeBoth(raw, conn);
  });

  test('Core Lightning initiator ↔ electrum-raw responder', async (t) => {
    const p = await requirePartners(t, 'cln', 'electrum-raw');
    if (!p) return;
    const [cln, electrum] = p;
    const node = await cln.start();
    const listener = await electrum.listen({ privateKey: randomKey() });
    const connecting = node.connect({ ...target(listener), privateKey: randomKey() });
    connecting.catch(() => {}); // awaited below
    const raw = await listener.accepted;
    const clnInit = await raw.nextMessage();
    await raw.send(INIT);
    const conn = await connecting; // the `connect` RPC returns once init was exchanged
    assert.deepEqual(conn.init, { sent: clnInit, received: INIT });
    assert.ok(toHex(clnInit).endsWith(`0120${REGTEST}`), 'as initiator: no remote_addr');
    await oneEachWay(conn, raw);
    await bulkAndLargest(conn, raw);
    await closeBoth(conn, raw);
  });

  test('an error with an all-zero channel id: Core Lightning hangs up', async (t) => {
    const p = await requirePartners(t, 'cln', 'electrum-raw');
    if (!p) return;
    const [cln, electrum] = p;
    const node = await cln.start();
    const listener = await node.listen({ privateKey: randomKey() });
    const raw = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    await raw.nextMessage();
    await raw.send(INIT);
    const conn = await withTimeout(listener.accepted, 5000, 'Core Lightning accepts');
    await raw.send(fromHex(`0011${'00'.repeat(32)}00026869`));
    assert.equal((await withTimeout(conn.closed, 5000, 'Core Lightning hangs up')).reason, 'CLN hung up after receiving ERROR: hi');
    assert.deepEqual(await conn.receivedWarnings(), ['ERROR: hi']);
    await withTimeout(raw.closed, 5000, 'the raw side sees it');
  });

  test('a warning for an unknown channel: Core Lightning answers with an error and hangs up', async (t) => {
    const p = await requirePartners(t, 'cln', 'electrum-raw');
    if (!p) return;
    const [cln, electrum] = p;
    const node = await cln.start();
    const listener = await node.listen({ privateKey: randomKey() });
    const raw = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    await raw.nextMessage();
    await raw.send(INIT);
    const conn = await withTimeout(listener.accepted, 5000, 'Core Lightning accepts');
    const channel = '11'.repeat(32);
    await raw.send(fromHex(`0001${channel}00026869`));
    const text = 'Unknown channel for WIRE_WARNING';
    assert.equal(toHex(await raw.nextMessage()), `0011${channel}${text.length.toString(16).padStart(4, '0')}${Buffer.from(text).toString('hex')}`);
    assert.equal((await withTimeout(conn.closed, 5000, 'Core Lightning hangs up')).reason, `CLN hung up after sending ERROR channel ${channel}: ${text}`);
    assert.deepEqual(await conn.receivedWarnings(), [], 'a channel warning is not logged as received');
  });

  test('networks without regtest: "No common network", in both roles', async (t) => {
    const p = await requirePartners(t, 'cln', 'electrum-raw');
    if (!p) return;
    const [cln, electrum] = p;
    const node = await cln.start();
    const mainnetInit = fromHex(`0010000000000120${MAINNET}`);
    const noCommonNetwork = `0001${'00'.repeat(32)}0011${Buffer.from('No common network').toString('hex')}`;

    // responder: a warning, then it hangs up; no connection ever reaches the plugin
    const listener = await node.listen({ privateKey: randomKey() });
    const raw = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    await raw.nextMessage();
    await raw.send(mainnetInit);
    assert.equal(toHex(await raw.nextMessage()), noCommonNetwork);
    await withTimeout(raw.closed, 5000, 'Core Lightning hangs up');
    // only a DEBUG line says why, and it may be written after the raw side saw the close
    await node.waitForLog(new RegExp(`DEBUG +${raw.localNodeId}-connectd: No common chain with this peer '${toHex(mainnetInit)}', closing$`));
    await listener.close();

    // initiator: the same, and the `connect` RPC fails with a reason that does not say why
    const rawListener = await electrum.listen({ privateKey: randomKey() });
    const connecting = node.connect({ ...target(rawListener), privateKey: randomKey() });
    connecting.catch(() => {});
    const rawResponder = await rawListener.accepted;
    await rawResponder.nextMessage();
    await rawResponder.send(mainnetInit);
    assert.equal(toHex(await rawResponder.nextMessage()), noCommonNetwork);
    await assert.rejects(connecting, (e: PartnerClosedError) => /Exchanging init messages/.test(e.reason));
  });
});
