/**
 * Proves the interop partner drivers (test/interop/) by pairing partners with each other,
 * before lnpeer itself is one of them: handshake, a message each way, 1,002 messages each
 * way (two key rotations per direction) where the pair can, the known partner failures
 * where it cannot, and a clean close seen by both sides.
 *
 *   node --import tsx --test test/interop-partners.test.ts
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { requirePartners } from './interop/availability.js';
import { MESSAGES_PER_KEY, PARTNER_CLOSED_CLEANLY, ROUNDS, numbered, sendAll, sendMany, target } from './interop/exchange.js';
import {
  PartnerClosedError,
  closeAllPartners,
  fromHex,
  nodeIdOf,
  randomKey,
  toHex,
  withTimeout,
  type PartnerConnection,
} from './interop/partner.js';
import { LNSOCKET_INIT, built as lnsocketBuilt } from './interop/partners/lnsocket.js';

afterEach(closeAllPartners);

const MAINNET = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000';
/** BOLT 1 `init`, no features, no TLVs. */
const INIT = fromHex('001000000000');
/** `init` that Electrum's Peer accepts: bits 1 (data_loss_protect), 7 (gossip_queries),
 * 9 (var_onion), 13 (static_remotekey), 15 (payment_secret); networks = mainnet. */
const ELECTRUM_OK_INIT = fromHex(`001000000002a282` + `0120${MAINNET}`);

/** The shared body: ids, one message each way, `rounds` each way, clean close by `a`. */
async function exercise(a: PartnerConnection, b: PartnerConnection, rounds = ROUNDS): Promise<void> {
  await oneEachWay(a, b);
  if (rounds) {
    await sendAll(a, b, rounds);
    await sendAll(b, a, rounds);
  }
  await closeBoth(a, b);
}

/** Each side knows the other's node id; one custom message each way. */
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

async function closeBoth(closer: PartnerConnection, other: PartnerConnection): Promise<void> {
  await closer.close();
  assert.equal((await closer.closed).reason, 'closed by driver');
  const { reason } = await withTimeout(other.closed, 5000, `${other.name} sees the close`);
  assert.match(reason, PARTNER_CLOSED_CLEANLY, `${other.name} saw a clean close`);
}

/** Both sides raw: each sends `init`, each reads the other's. */
async function rawInit(a: PartnerConnection, b: PartnerConnection): Promise<void> {
  await Promise.all([a.send(INIT), b.send(INIT)]);
  assert.deepEqual(await a.nextMessage(), INIT);
  assert.deepEqual(await b.nextMessage(), INIT);
}

describe('raw transports', () => {
  test('electrum-raw responder ↔ electrum-raw initiator', async (t) => {
    const p = await requirePartners(t, 'electrum-raw');
    if (!p) return;
    const [electrum] = p;
    const listener = await electrum.listen({ privateKey: randomKey() });
    const initiator = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    assert.equal(initiator.ping, undefined, 'a raw transport has no ping of its own');
    await rawInit(initiator, responder);
    await exercise(initiator, responder);
  });

  test('node-lightning responder ↔ electrum-raw initiator: fails once both directions rotated', async (t) => {
    const p = await requirePartners(t, 'node-lightning', 'electrum-raw');
    if (!p) return;
    const [nodeLightning, electrum] = p;
    const listener = await nodeLightning.listen({ privateKey: randomKey() });
    const e = await electrum.connect({ ...target(listener), privateKey: randomKey() });
    const n = await listener.accepted;
    await rawInit(e, n);
    await oneEachWay(e, n);
    // Electrum → node-lightning: only node-lightning's receiving key rotates: fine.
    await sendAll(e, n);
    // node-lightning → Electrum: its sending rotation reuses the chaining key that the
    // receiving rotations moved on; Electrum's MAC check fails at message 500.
    const back = await sendMany(n, e, ROUNDS);
    // the first message under the rotated key is the 501st that way: init and one went before
    assert.equal(back.received, MESSAGES_PER_KEY - 2);
    assert.match((await e.closed).reason, /invalid tag/);
    await withTimeout(n.closed, 5000, 'node-lightning sees the close');
  });

  test('electrum-raw responder ↔ node-lightning initiator: fails once both directions rotated', async (t) => {
    const p = await requirePartners(t, 'electrum-raw', 'node-lightning');
    if (!p) return;
    const [electrum, nodeLightning] = p;
    const listener = await electrum.listen({ privateKey: randomKey() });
    const n = await nodeLightning.connect({ ...target(listener), privateKey: randomKey() });
    const e = await listener.accepted;
    await rawInit(n, e);
    await oneEachWay(n, e);
    await sendAll(n, e);
    // Electrum → node-lightning: node-lightning's receiving rotation now starts from the
    // chaining key its sending rotations produced, and it cannot decrypt message 500.
    const back = await sendMany(e, n, ROUNDS);
    assert.equal(back.received, MESSAGES_PER_KEY - 2); // as above: the 501st message that way fails
    assert.match((await n.closed).reason, /unable to authenticate data/);
    assert.match((await e.closed).reason, /LightningPeerConnectionClosed/);
  });

  test('node-lightning ↔ node-lightning: its rotation bug cancels out against itself', async (t) => {
    const p = await requirePartners(t, 'node-lightning');
    if (!p) return;
    const [nodeLightning] = p;
    const listener = await nodeLightning.listen({ privateKey: randomKey() });
    const initiator = await nodeLightning.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    await rawInit(initiator, responder);
    await exercise(initiator, responder); // passes: why self-tests prove little
  });

  test('electrum-raw initiator needs act two in one read', async (t) => {
    const p = await requirePartners(t, 'electrum-raw');
    if (!p) return;
    const [electrum] = p;
    // A responder that writes the first half of a (bogus) act two, and never the rest: a
    // reader that waited for 50 bytes would time out instead of failing on the short read.
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(new Uint8Array(25)));
    });
    t.after(() => server.close());
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    await assert.rejects(
      electrum.connect({ nodeId: nodeIdOf(randomKey()), host: '127.0.0.1', port, privateKey: randomKey() }),
      (e: PartnerClosedError) => /act 1 response has bad length/.test(e.reason),
    );
  });
});

describe('initiators that run init themselves', () => {
  test('electrum-raw responder ↔ lnsocket initiator', async (t) => {
    const p = await requirePartners(t, 'electrum-raw', 'lnsocket');
    if (!p) return;
    const [electrum, lnsocket] = p;
    const listener = await electrum.listen({ privateKey: randomKey() });
    const connecting = lnsocket.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    // lnsocket reads the responder's init before it sends its own
    await assert.rejects(responder.nextMessage(300), /no message within/);
    await responder.send(INIT);
    const initiator = await connecting;
    assert.deepEqual(initiator.init?.received, INIT);
    assert.equal(toHex(initiator.init!.sent), '00100002000000050000000000'); // zero features, padded
    assert.deepEqual(await responder.nextMessage(), initiator.init!.sent);
    // it never answers a ping: it decrypts it (the driver shows it) and sends nothing back, so
    // the next thing it sends, its own ping (num_pong_bytes 1, one ignored byte), is the next
    // thing that arrives
    await responder.send(fromHex('001200040000'));
    assert.equal(toHex(await initiator.nextMessage()), '001200040000');
    const ping = await initiator.ping!();
    assert.equal(toHex(ping), '00120001000100');
    assert.deepEqual(await responder.nextMessage(), ping, 'no pong came before its own ping');
    await responder.send(fromHex('00130001' + '00'));
    assert.equal(toHex(await initiator.nextMessage()), '0013000100');
    await exercise(initiator, responder);
  });

  test('lnsocket: a refused connection rejects (no uncaught exception)', async (t) => {
    const p = await requirePartners(t, 'lnsocket');
    if (!p) return;
    const [lnsocket] = p;
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(
      // short timeout: lnsocket's own connect timer keeps running after the refusal
      lnsocket.connect({ nodeId: nodeIdOf(randomKey()), host: '127.0.0.1', port, privateKey: randomKey(), timeoutMs: 500 }),
      /ECONNREFUSED/,
    );
  });

  test('lnsocket: its own init is a view of freed memory, and every other connection gets allocator pointers in it', async (t) => {
    const p = await requirePartners(t, 'node-lightning', 'lnsocket');
    if (!p) return;
    const [nodeLightning, lnsocket] = p;
    const from = lnsocketBuilt.length;
    for (let i = 0; i < 4; i++) {
      const listener = await nodeLightning.listen({ privateKey: randomKey() });
      const connecting = lnsocket.connect({ ...target(listener), privateKey: randomKey() });
      const responder = await listener.accepted;
      await responder.send(INIT);
      const initiator = await connecting;
      assert.equal(toHex(await responder.nextMessage()), LNSOCKET_INIT, 'the driver sends what the C code built');
      await initiator.close();
    }
    const inits = lnsocketBuilt.slice(from).filter((b) => b.expected === LNSOCKET_INIT);
    assert.equal(inits.length, 4);
    const corrupted = inits.filter((b) => b.returned !== b.expected);
    assert.ok(corrupted.length > 0, `lnsocket returned its init intact 4 times out of 4: ${JSON.stringify(inits)}`);
    for (const { returned, expected } of corrupted) {
      // make_default_initmsg() frees the buffer before returning a view of it: the allocator
      // writes its free-list pointers (two little-endian u32) over the first 8 bytes
      assert.equal(returned.slice(16), expected.slice(16), `only the first 8 bytes differ: ${returned}`);
      assert.equal(returned.slice(0, 8), returned.slice(8, 16), `two equal pointers: ${returned}`);
    }
  });

  test('electrum-raw responder ↔ lnmessage initiator', async (t) => {
    const p = await requirePartners(t, 'electrum-raw', 'lnmessage');
    if (!p) return;
    const [electrum, lnmessage] = p;
    const listener = await electrum.listen({ privateKey: randomKey() });
    const connecting = lnmessage.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    await assert.rejects(responder.nextMessage(300), /no message within/); // waits for ours
    await responder.send(ELECTRUM_OK_INIT);
    const initiator = await connecting;
    assert.deepEqual(initiator.init?.received, ELECTRUM_OK_INIT);
    // 8 zero feature bytes, our networks copied back
    assert.equal(toHex(initiator.init!.sent), `001000000008${'00'.repeat(8)}0120${MAINNET}`);
    assert.deepEqual(await responder.nextMessage(), initiator.init!.sent);
    // it answers pings itself (and still shows them)
    await responder.send(fromHex('0012000300020000'));
    assert.equal(toHex(await responder.nextMessage()), '00130003000000');
    assert.equal(toHex(await initiator.nextMessage()), '0012000300020000');
    // its keepalive ping, sent now (it closes unless a message comes within 5 s)
    const ping = await initiator.ping!();
    assert.equal(toHex(ping), '001200010000');
    assert.deepEqual(await responder.nextMessage(), ping);
    await responder.send(fromHex('0013000100'));
    assert.equal(toHex(await initiator.nextMessage()), '0013000100');
    await exercise(responder, initiator);
  });

  test('node-lightning responder ↔ lnmessage initiator: lnmessage stalls silently on a bad MAC', async (t) => {
    const p = await requirePartners(t, 'node-lightning', 'lnmessage');
    if (!p) return;
    const [nodeLightning, lnmessage] = p;
    const listener = await nodeLightning.listen({ privateKey: randomKey() });
    const connecting = lnmessage.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    await responder.send(INIT);
    const initiator = await connecting;
    assert.equal(toHex(await responder.nextMessage()), `001000000008${'00'.repeat(8)}`);
    await sendAll(initiator, responder);
    // node-lightning's sending rotation is now wrong: lnmessage decrypts up to the 500th
    // message that way (init was the first), then stops reading without closing or
    // reporting anything.
    await Promise.all(Array.from({ length: ROUNDS }, (_, i) => responder.send(numbered(i))));
    for (let i = 0; i < MESSAGES_PER_KEY - 1; i++) assert.deepEqual(await initiator.nextMessage(), numbered(i));
    await assert.rejects(initiator.nextMessage(300), /no message within/);
    assert.equal(await Promise.race([initiator.closed.then(() => 'closed'), Promise.resolve('open')]), 'open');
  });

  test('node-lightning responder ↔ lnsocket initiator', async (t) => {
    const p = await requirePartners(t, 'node-lightning', 'lnsocket');
    if (!p) return;
    const [nodeLightning, lnsocket] = p;
    const listener = await nodeLightning.listen({ privateKey: randomKey() });
    const connecting = lnsocket.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    await responder.send(INIT);
    const initiator = await connecting;
    assert.deepEqual(await responder.nextMessage(), initiator.init!.sent);
    await exercise(responder, initiator, 0); // bulk: see electrum-raw ↔ lnsocket
  });
});

describe("Electrum's Peer (what a wallet runs)", () => {
  test('electrum-peer initiator ↔ electrum-raw responder: init, custom messages, pings', async (t) => {
    const p = await requirePartners(t, 'electrum-peer', 'electrum-raw');
    if (!p) return;
    const [electrumPeer, electrumRaw] = p;
    const listener = await electrumRaw.listen({ privateKey: randomKey() });
    const connecting = electrumPeer.connect({ ...target(listener), privateKey: randomKey() });
    const raw = await listener.accepted;
    // Peer sends its init at once: 19 feature bytes, bits 0 1 5 6 9 12 13 15 17 27 45 151
    const peerInit = await raw.nextMessage();
    assert.equal(
      toHex(peerInit),
      `00100000001380${'00'.repeat(12)}20000802b263` + `0120${MAINNET}`,
    );
    await raw.send(ELECTRUM_OK_INIT);
    const peer = await connecting;
    assert.deepEqual(peer.init, { sent: peerInit, received: ELECTRUM_OK_INIT });

    // unknown odd type: ignored by Electrum, seen by the driver
    await raw.send(fromHex('ffff68656c6c6f'));
    assert.equal(toHex(await peer.nextMessage()), 'ffff68656c6c6f');
    // ping → pong with num_pong_bytes zeros
    await raw.send(fromHex('0012000400020000'));
    assert.equal(toHex(await raw.nextMessage()), '0013000400000000');
    assert.equal(toHex(await peer.nextMessage()), '0012000400020000');
    // Electrum's own ping (its 30-s keepalive sends exactly this)
    const ping = await peer.ping();
    assert.equal(toHex(ping), '00120004000400000000');
    assert.deepEqual(await raw.nextMessage(), ping);
    await raw.send(fromHex('0013000400000000'));
    assert.equal(toHex(await peer.nextMessage()), '0013000400000000');
    // the driver can make it send any message
    await exercise(raw, peer, 0);
  });

  test('electrum-peer responder ↔ electrum-peer initiator', async (t) => {
    const p = await requirePartners(t, 'electrum-peer');
    if (!p) return;
    const [electrumPeer] = p;
    const listener = await electrumPeer.listen({ privateKey: randomKey() });
    const initiator = await electrumPeer.connect({ ...target(listener), privateKey: randomKey() });
    const responder = await listener.accepted;
    assert.deepEqual(initiator.init?.received, responder.init?.sent);
    assert.deepEqual(responder.init?.received, initiator.init?.sent);
    await exercise(initiator, responder, 0);
  });

  test('electrum-peer refuses the init of lnsocket and lnmessage (no data_loss_protect)', async (t) => {
    const p = await requirePartners(t, 'electrum-peer', 'lnsocket', 'lnmessage');
    if (!p) return;
    const [electrumPeer, lnsocket, lnmessage] = p;
    for (const initiator of [lnsocket, lnmessage]) {
      const listener = await electrumPeer.listen({ privateKey: randomKey() });
      const conn = await initiator.connect({ ...target(listener), privateKey: randomKey() });
      await assert.rejects(listener.accepted, (e: PartnerClosedError) =>
        /remote does not support <LnFeatures.OPTION_DATA_LOSS_PROTECT_REQ/.test(e.reason),
      );
      await withTimeout(conn.closed, 5000, `${conn.name} sees Electrum hang up`);
    }
  });

  test('electrum-peer: what makes it hang up, what it tolerates', async (t) => {
    const p = await requirePartners(t, 'electrum-peer', 'node-lightning');
    if (!p) return;
    const [electrumPeer, nodeLightning] = p;
    const zeros = '00'.repeat(32);
    // [case, init the remote sends, messages after it, expected Electrum close reason or 'open']
    const cases: [string, string, string[], RegExp | 'open'][] = [
      ['lnpeer default features {1,9,13,15,45}', `00100000000620000000a2020120${MAINNET}`, [], /GOSSIP_QUERIES_REQ/],
      ['no static_remotekey', `00100000000202820120${MAINNET}`, [], /OPTION_STATIC_REMOTEKEY_REQ/],
      ['unknown even feature 22', `001000000003` + `40a282`, [], /remote wanted feature we don't have/],
      ['networks without mainnet', `001000000002a2820120${'11'.repeat(32)}`, [], /no common chain/],
      ['no networks TLV', '001000000002a282', [], 'open'],
      ['unknown even message type', toHex(ELECTRUM_OK_INIT), ['fffe'], /GracefulDisconnect\(\)/],
      ['error, all-zero channel_id', toHex(ELECTRUM_OK_INIT), [`0011${zeros}00026869`], /GracefulDisconnect\(\)/],
      ['error, unknown channel_id', toHex(ELECTRUM_OK_INIT), [`0011${'11'.repeat(32)}00026869`], 'open'],
      ['warning, all-zero channel_id', toHex(ELECTRUM_OK_INIT), [`0001${zeros}00026869`], 'open'],
      ['ping num_pong_bytes 65532', toHex(ELECTRUM_OK_INIT), ['0012fffc0000'], /OverflowError/],
    ];
    const outcomes = await Promise.all(
      cases.map(async ([, init, after]) => {
        const listener = await nodeLightning.listen({ privateKey: randomKey() });
        const connecting = electrumPeer.connect({ ...target(listener), privateKey: randomKey() });
        connecting.catch(() => {});
        const remote = await listener.accepted;
        assert.equal((await remote.nextMessage())[1], 0x10, 'Electrum sends its init first');
        // Electrum may hang up while node-lightning is still writing (EPIPE, ECONNRESET): a
        // send that fails is not the outcome; Electrum's own reason, read below, is.
        const send = (m: string) => remote.send(fromHex(m)).catch(() => {});
        await send(init);
        const silent = async (reason: string) => {
          // it hangs up without a word: no warning, no error
          await assert.rejects(remote.nextMessage(10_000), PartnerClosedError);
          return reason;
        };
        const peer = await connecting.catch((e: PartnerClosedError) => e);
        if (peer instanceof PartnerClosedError) return silent(peer.reason);
        for (const m of after) await send(m);
        // still up? a ping must come back as a pong
        await send('001200010000');
        const pong = await remote.nextMessage(10_000).catch((e: Error) => e);
        if (pong instanceof Uint8Array && toHex(pong) === '0013000100') return 'open';
        assert.ok(pong instanceof PartnerClosedError, `no message but a pong, got ${pong}`);
        return silent((await withTimeout(peer.closed, 10_000, 'electrum close')).reason);
      }),
    );
    cases.forEach(([name, , , expected], i) =>
      expected === 'open'
        ? assert.equal(outcomes[i], 'open', name)
        : assert.match(outcomes[i], expected, name),
    );
  });
});
