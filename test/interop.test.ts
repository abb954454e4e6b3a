/**
 * lnpeer against implementations nobody here wrote (drivers: test/interop/), in every role
 * each partner has: handshake, `init` both ways, an odd custom message each way, pings each
 * way, 1,002 messages each way on one connection, a clean close. Where a partner's bug breaks
 * a check, the test pins the exact failure, so that it still fails if lnpeer is at fault.
 *
 * What passed is recorded (test/interop/matrix.ts); the last test checks that docs/interop.md
 * says exactly that. `UPDATE_INTEROP_DOC=1` rewrites it, only when every pairing passed.
 *
 *   node --import tsx --test test/interop.test.ts
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, test, type TestContext } from 'node:test';
import type { LnPeerError, PeerManager, PeerManagerOptions } from '../src/index.js';
import {
  DEFAULT_FEATURES,
  chainHash,
  combinedFeatures,
  decodeFeatures,
  decodeInit,
  decodePing,
  decodeWarning,
  encodeFeatures,
  encodeInit,
  encodePing,
  encodePong,
  formatErrorData,
  networkName,
} from '../src/wire/index.js';
import { next, typeOf } from './helpers.js';
import { availability, inCI, requirePartner, requirePartners, type PartnerName } from './interop/availability.js';
import { MESSAGES_PER_KEY, PARTNER_CLOSED_CLEANLY, sendAll, sendMany, type Endpoint } from './interop/exchange.js';
import { LnpeerEnd, manager, pair, type Driver, type Pairing } from './interop/lnpeer.js';
import * as matrix from './interop/matrix.js';
import {
  PartnerClosedError,
  closeAllPartners,
  fromHex,
  nodeIdOf,
  randomKey,
  toHex,
  withTimeout,
  type Message,
  type PartnerConnection,
  type Role,
} from './interop/partner.js';

afterEach(closeAllPartners); // every process, socket and PeerManager, even after a failure

/** The `init` the test sends for a raw transport: lnpeer's default features, on mainnet. */
const RAW_INIT = encodeInit({ features: encodeFeatures(DEFAULT_FEATURES), networks: [chainHash('bitcoin')] });

/** How a partner takes part, beyond what its driver shows. */
interface Spec {
  /** Raw transports (no BOLT 1 of their own): the `init` the test sends for them. */
  rawInit?: Message;
  /** Features lnpeer must add for this partner to accept it. */
  features?: number[];
  /** Who answers lnpeer's `ping`: the test through a raw transport, the partner, or nobody. */
  pong: 'test' | 'partner' | 'never';
  /** The chain the partner announces in `init` (`networks`), or why the `networks` check cannot apply. */
  chain: 'bitcoin' | 'regtest' | { inapplicable: string };
}

const SPECS: Record<PartnerName, Spec> = {
  'electrum-raw': { rawInit: RAW_INIT, pong: 'test', chain: 'bitcoin' },
  // Electrum's Peer hangs up on peers without one bit of each of 0/1, 6/7 and 12/13;
  // lnpeer's defaults lack gossip_queries (6/7): see the refusal tests.
  'electrum-peer': { features: [7], pong: 'partner', chain: 'bitcoin' },
  lnsocket: { pong: 'never', chain: { inapplicable: 'its `init` has no `networks`, which BOLT 1 reads as any chain.' } },
  lnmessage: { pong: 'partner', chain: { inapplicable: 'its `init` copies the `networks` it received, so there is always a common chain.' } },
  'node-lightning': { rawInit: RAW_INIT, pong: 'test', chain: 'bitcoin' },
  cln: { pong: 'partner', chain: 'regtest' },
  ldk: { pong: 'partner', chain: 'regtest' },
};

/**
 * The driver of `partner`: for the nodes (Core Lightning, LDK), a node started for the test
 * (stopped by `closeAllPartners`), whose node id is its own.
 */
async function driverOf(t: TestContext, partner: PartnerName): Promise<Driver<PartnerConnection> | undefined> {
  if (partner === 'cln') return (await requirePartner(t, 'cln'))?.start();
  if (partner === 'ldk') return (await requirePartner(t, 'ldk'))?.start();
  return requirePartner(t, partner) as Promise<Driver<PartnerConnection> | undefined>;
}

/** A PeerManager for `partner` (its features added to lnpeer's defaults), and the bits it offers. */
function managerFor(partner: PartnerName, options: PeerManagerOptions = {}): { pm: PeerManager; offered: number[] } {
  const features = SPECS[partner].features ?? [];
  return { pm: manager({ features, ...options }), offered: [...DEFAULT_FEATURES, ...features].sort((a, b) => a - b) };
}

const hex = toHex;
const bits = matrix.formatBits;
const initBits = (init: Message) => decodeFeatures(combinedFeatures(decodeInit(init)));

/** An odd custom type with every byte value in its payload. */
function custom(type: number): Message {
  const m = new Uint8Array(2 + 256);
  m.set([type >> 8, type & 0xff]);
  for (let i = 0; i < 256; i++) m[2 + i] = i;
  return m;
}

// ---------------------------------------------------------------------------------------
// The checks. Each records its result in the row only after its assertions passed.

function checkHandshake(row: matrix.Row, p: Pairing): void {
  assert.equal(p.partner.remoteNodeId, p.lnpeer.pm.nodeId, `${p.partner.name} authenticated lnpeer's node id`);
  assert.equal(p.info.peerId, p.partner.localNodeId, `lnpeer authenticated ${p.partner.name}'s node id`);
  row.pass('handshake');
}

function checkInit(row: matrix.Row, p: Pairing, offered: number[], raw: boolean): void {
  assert.deepEqual(initBits(p.init.lnpeer), offered, `${p.partner.name} received the features lnpeer offers`);
  assert.deepEqual(p.info.features, initBits(p.init.partner), 'PeerInfo.features: what the partner sent');
  const networks = decodeInit(p.init.partner).networks?.map((h) => networkName(h) ?? toHex(h));
  assert.deepEqual(p.info.networks, networks, 'PeerInfo.networks: what the partner sent');
  const sender = raw ? 'the test sent for it (no BOLT 1 of its own)' : 'it sent';
  row.pass('init', `lnpeer offered ${bits(offered)}; ${sender} ${bits(p.info.features)}, ${networks ? `networks ${networks.join(', ')}` : 'no networks'}.`);
}

async function checkCustom(row: matrix.Row, p: Pairing): Promise<void> {
  const out = custom(0xfffb);
  await p.lnpeer.send(out);
  assert.equal(hex(await p.partner.nextMessage()), hex(out), 'lnpeer → partner');
  const back = custom(0xfff9);
  await p.partner.send(back);
  assert.equal(hex(await p.lnpeer.nextMessage()), hex(back), 'partner → lnpeer, as custommsg');
  row.pass('custom');
}

/** The partner pings (its own ping, where it has one); lnpeer's pong must carry what it asked. */
async function checkPingIn(row: matrix.Row, p: Pairing): Promise<void> {
  if (p.partner.pingRoundTrip) {
    // A node pings with its own machinery and checks the pong itself.
    const { numPongBytes, pongBytes } = await p.partner.pingRoundTrip();
    assert.equal(pongBytes, numPongBytes, `the ${p.partner.name} ping asked for ${numPongBytes} bytes back`);
    row.pass('pingIn', `its own ping (num_pong_bytes ${numPongBytes}) got a pong of ${pongBytes} bytes, as it reported.`);
    return;
  }
  let ping = encodePing(4, 2);
  if (p.partner.ping) ping = await p.partner.ping();
  else await p.partner.send(ping);
  const { numPongBytes } = decodePing(ping);
  assert.equal(hex(await p.partner.nextMessage()), hex(encodePong(numPongBytes)), `lnpeer's pong to ${hex(ping)}`);
  row.pass('pingIn', p.partner.ping ? `its own ping (\`${hex(ping)}\`) got its pong.` : 'the test pinged through the raw transport.');
}

/** `pm.ping()`, answered by the partner itself or, for a raw transport, by the test through it. */
async function checkPingOut(row: matrix.Row, p: Pairing, spec: Spec): Promise<void> {
  const pinging = p.lnpeer.pm.ping(p.lnpeer.remoteNodeId, { pongBytes: 4 });
  // Every driver that shows all messages shows the ping; a node shows only custom messages.
  if (p.partner.shows !== 'custom') assert.equal(hex(await p.partner.nextMessage()), hex(encodePing(4)), 'the partner decrypted lnpeer\'s ping');
  if (spec.pong === 'test') await p.partner.send(encodePong(4));
  assert.ok((await withTimeout(pinging, 10_000, 'the pong to pm.ping()')) >= 0);
  row.pass('pingOut', spec.pong === 'test' ? 'the test answered through the raw transport.' : undefined);
}

/** A message of 65,535 bytes in all (BOLT 8's largest): type, then a payload that counts. */
function largest(type: number): Message {
  const m = new Uint8Array(65535);
  m.set([type >> 8, type & 0xff]);
  for (let i = 2; i < m.length; i++) m[i] = (i * 7) & 0xff;
  return m;
}

async function checkLargest(row: matrix.Row, p: Pairing): Promise<void> {
  const out = largest(0xfffb);
  await p.lnpeer.send(out);
  assert.equal(hex(await p.partner.nextMessage()), hex(out), 'lnpeer → partner, 65,535 bytes');
  const back = largest(0xfff9);
  await p.partner.send(back);
  assert.equal(hex(await p.lnpeer.nextMessage()), hex(back), 'partner → lnpeer, 65,535 bytes');
  row.pass('largest');
}

/**
 * On a connection of its own: the partner sends an even type lnpeer does not know; lnpeer
 * warns and closes (BOLT 1), and the partner received the warning.
 */
async function checkUnknownEven(row: matrix.Row, pm: PeerManager, driver: Driver<PartnerConnection>, role: Role, spec: Spec): Promise<void> {
  const q = await pair(pm, driver, role, spec.rawInit);
  await q.partner.send(fromHex('fffe2a'));
  const event = await withTimeout(q.lnpeer.disconnected, 10_000, 'lnpeer closes on the unknown even type');
  assert.deepEqual({ code: event.error?.code, local: event.local }, { code: 'PROTOCOL_VIOLATION', local: true });
  assert.match(event.reason, /sent unknown even message type 65534/);
  if (q.partner.name === 'lnsocket') {
    // It drops what arrives just before a close: its reader ends without the warning.
    await assert.rejects(q.partner.nextMessage(), /closed by remote/);
    row.partnerBug('unknownEven', 'lnsocket-unread-on-close', 'never reads the warning', 'lnpeer closed with PROTOCOL_VIOLATION after its warning; lnsocket\'s reader ended without a message ("closed by remote").');
    return;
  }
  let warning: string;
  if (q.partner.receivedWarnings) {
    warning = (await withTimeout(waitForWarning(q.partner), 10_000, `${q.partner.name} logs lnpeer's warning`))!;
  } else {
    const message = await q.partner.nextMessage();
    assert.equal(typeOf(message), 1, 'the next message lnpeer sent is a warning');
    warning = formatErrorData(decodeWarning(message).data);
  }
  assert.match(warning, /Invalid unknown even msg type 65534/);
  const { reason } = await withTimeout(q.partner.closed, 10_000, `${q.partner.name} sees lnpeer close`);
  row.pass('unknownEven', `lnpeer closed with PROTOCOL_VIOLATION; ${q.partner.name} received the warning "${warning}" and saw the close ("${reason}").`);
}

/** Polls a node's own report of the warnings it received (its log) until one arrives. */
async function waitForWarning(partner: PartnerConnection): Promise<string> {
  for (;;) {
    const [first] = await partner.receivedWarnings!();
    if (first !== undefined) return first;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * lnpeer announces a chain the partner is not on: the connection ends with lnpeer's own
 * typed error, promptly, whichever side hangs up first.
 */
async function checkNetworks(row: matrix.Row, partner: PartnerName, driver: Driver<PartnerConnection>, role: Role): Promise<void> {
  const spec = SPECS[partner];
  if (typeof spec.chain === 'object') {
    row.notApplicable('networks', spec.chain.inapplicable);
    return;
  }
  const ours = spec.chain === 'regtest' ? 'bitcoin' : 'regtest';
  const { pm } = managerFor(partner, { networks: [ours] });
  const key = randomKey();
  let failure: Promise<LnPeerError>;
  let partnerEnd: Promise<PartnerConnection>;
  if (role === 'initiator') {
    const listener = await driver.listen!({ privateKey: key });
    failure = pm.connect(listener.nodeId, { host: listener.host, port: listener.port }).then(
      () => assert.fail('connect() resolved with no common chain'),
      (e: LnPeerError) => e,
    );
    partnerEnd = listener.accepted;
  } else {
    const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
    failure = next(pm, 'connection:failed').then((event) => event.error);
    partnerEnd = driver.connect({ nodeId: pm.nodeId, host: '127.0.0.1', port, privateKey: key });
  }
  partnerEnd.catch(() => {}); // a partner that refuses the connection never hands it over
  // A raw transport has no init of its own: the test sends one, on the partner's chain.
  const raw = spec.rawInit ? await withTimeout(partnerEnd, 10_000, `${partner}'s end of the connection`) : undefined;
  if (raw) await raw.send(spec.rawInit!).catch(() => {});
  const error = await withTimeout(failure, 10_000, 'lnpeer reports the missing common chain');
  if (error.code === 'NO_COMMON_NETWORK') {
    assert.match(error.message, new RegExp(`is on ${spec.chain}; this node is on ${ours}`));
  } else {
    // The partner read lnpeer's init before sending its own, and hung up without a word
    // (LDK, when act three and init arrive in one read): lnpeer never saw its chain, and
    // names its own networks among the likely causes.
    assert.equal(error.code, 'CONNECTION_CLOSED', error.message);
    assert.match(error.message, new RegExp(`before sending init .*the networks it announces \\(${ours}\\)`));
  }
  if (raw) await withTimeout(raw.closed, 10_000, `${partner} sees the connection end`);
  const how = role === 'initiator' ? '`connect()` rejected' : '`connection:failed`';
  row.pass('networks', `lnpeer announced ${ours}, the partner ${spec.chain}: ${how} with ${error.code} ("${error.message.replace(/[0-9a-f]{66}/, '…')}").`);
}

async function checkBulk(row: matrix.Row, p: Pairing): Promise<void> {
  await sendAll(p.lnpeer, p.partner);
  await sendAll(p.partner, p.lnpeer);
  row.pass('bulk');
}

/** The initiator closes; both sides must see an orderly end. */
async function checkClose(row: matrix.Row, p: Pairing, role: Role): Promise<void> {
  if (role === 'initiator') {
    assert.equal(await p.lnpeer.pm.disconnect(p.lnpeer.remoteNodeId), true);
    const { reason } = await withTimeout(p.partner.closed, 5000, `${p.partner.name} sees lnpeer close`);
    assert.match(reason, PARTNER_CLOSED_CLEANLY, `${p.partner.name} saw a clean close`);
  } else {
    await withTimeout(p.partner.close(), 5000, `${p.partner.name} closes`);
    assert.equal((await withTimeout(p.partner.closed, 5000, `${p.partner.name} sees its own close`)).reason, 'closed by driver');
  }
  const event = await withTimeout(p.lnpeer.disconnected, 5000, 'lnpeer sees the close');
  assert.deepEqual(
    { local: event.local, error: event.error, reason: event.reason },
    { local: role === 'initiator', error: undefined, reason: role === 'initiator' ? 'disconnected by this side' : 'the remote closed the connection' },
  );
  assert.deepEqual(p.lnpeer.remoteErrors, [], 'no warning or error from the partner');
  row.pass('close', `${role === 'initiator' ? 'lnpeer' : p.partner.name} closed.`);
}

/** Connects lnpeer in `role` to `partner` and runs the checks every pairing passes. */
async function connectAndExchange(driver: Driver<PartnerConnection>, partner: PartnerName, role: Role, options: PeerManagerOptions = {}) {
  const row = matrix.row(partner, role);
  const spec = SPECS[partner];
  const { pm, offered } = managerFor(partner, options);
  const p = await pair(pm, driver, role, spec.rawInit);
  checkHandshake(row, p);
  checkInit(row, p, offered, Boolean(spec.rawInit));
  await checkCustom(row, p);
  await checkPingIn(row, p);
  return { row, spec, pm, p };
}

/** The checks that end a connection, each on a connection of its own. */
async function endings(row: matrix.Row, pm: PeerManager, driver: Driver<PartnerConnection>, partner: PartnerName, role: Role): Promise<void> {
  await checkUnknownEven(row, pm, driver, role, SPECS[partner]);
  await checkNetworks(row, partner, driver, role);
}

/** Every check: for partners without a bug in the way. */
async function fullPairing(t: TestContext, partner: PartnerName, role: Role): Promise<void> {
  const driver = await driverOf(t, partner);
  if (!driver) return;
  const { row, spec, pm, p } = await connectAndExchange(driver, partner, role);
  await checkPingOut(row, p, spec);
  await checkBulk(row, p);
  await checkLargest(row, p);
  await checkClose(row, p, role);
  await endings(row, pm, driver, partner, role);
}

// ---------------------------------------------------------------------------------------

describe('Electrum electrum.lntransport (raw: the test runs init through it)', () => {
  test('lnpeer initiator', (t) => fullPairing(t, 'electrum-raw', 'initiator'));
  test('lnpeer responder', (t) => fullPairing(t, 'electrum-raw', 'responder'));
});

describe("Electrum electrum.lnpeer.Peer (what a wallet runs)", () => {
  // It sleeps 10 ms after each message it receives (Peer.DELAY_INC_MSG_PROCESSING_SLEEP): the
  // 1,002 messages to it take ~11 s, mostly asleep, so both roles run at once.
  test('lnpeer initiator and lnpeer responder, at once, offering features: [7]', async (t) => {
    const roles = ['initiator', 'responder'] as const;
    // both settle before the test ends, so that the clean-up after it finds everything
    const results = await Promise.allSettled(roles.map((role) => fullPairing(t, 'electrum-peer', role)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      if (r.reason instanceof Error) r.reason.message = `lnpeer ${roles[i]}: ${r.reason.message}`;
      throw r.reason;
    });
  });

  for (const role of ['initiator', 'responder'] as const) {
    test(`lnpeer ${role} with its default features: Electrum hangs up, silently, and says why in its log`, async (t) => {
      const electrum = await requirePartner(t, 'electrum-peer');
      if (!electrum) return;
      const pm = manager(); // the defaults: no gossip_queries
      const key = randomKey();
      const lnpeer = new LnpeerEnd(pm, nodeIdOf(key));
      const refusedBy = (e: unknown) => (e instanceof PartnerClosedError ? e : assert.fail(`Electrum did not refuse lnpeer: ${String(e)}`));
      let refused: PartnerClosedError;
      let reported: string;
      if (role === 'initiator') {
        const listener = await electrum.listen({ privateKey: key });
        const connecting = pm.connect(listener.nodeId, { host: listener.host, port: listener.port });
        refused = await listener.accepted.then(refusedBy, refusedBy);
        // Electrum sends its init before it reads lnpeer's: lnpeer has it when the close comes.
        assert.deepEqual((await connecting).features, initBits(refused.init!.sent!));
        reported = '`connect()` resolved (Electrum\'s `init` arrives first)';
      } else {
        const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
        const connecting = electrum.connect({ nodeId: pm.nodeId, host: '127.0.0.1', port, privateKey: key });
        refused = await connecting.then(refusedBy, refusedBy);
        assert.deepEqual((await withTimeout(lnpeer.connected, 5000, "lnpeer's peer:connect")).features, initBits(refused.init!.sent!));
        reported = '`peer:connect` (Electrum\'s `init` arrives first)';
      }
      assert.match(refused.reason, /^GracefulDisconnect\('remote does not support <LnFeatures\.GOSSIP_QUERIES_REQ: 64>'\)$/);
      assert.deepEqual(initBits(refused.init!.received!), [...DEFAULT_FEATURES], 'Electrum refused the init with lnpeer\'s defaults');
      const event = await withTimeout(lnpeer.disconnected, 5000, 'lnpeer sees Electrum hang up');
      assert.deepEqual({ local: event.local, error: event.error }, { local: false, error: undefined });
      assert.match(event.reason, /^the remote closed the connection right after init; the remote may have refused (one of: )?the features this node offers \(1, 9, 13, 15, 45; /);
      // silently: no warning, no error, nothing after its init
      assert.deepEqual(lnpeer.remoteErrors, []);
      await assert.rejects(lnpeer.nextMessage(0), /disconnected/);
      matrix.recordRefusal('electrum-peer', role, {
        offered: [...DEFAULT_FEATURES],
        partnerReason: refused.reason,
        partnerSaid: 'its `init`, then nothing: no `warning`, no `error`',
        lnpeerReported: `${reported}, then \`peer:disconnect\`: "${event.reason}", no error`,
      });
    });
  }
});

test('npm lnsocket (initiator only): lnpeer responder; lnsocket never answers a ping', async (t) => {
  const lnsocket = await driverOf(t, 'lnsocket');
  if (!lnsocket) return;
  // A short pong timeout for the ping that lnsocket will not answer (second connection).
  const pongTimeoutMs = 500;
  const { row, pm, p } = await connectAndExchange(lnsocket, 'lnsocket', 'responder', { pongTimeoutMs });
  await checkBulk(row, p);
  // lnsocket overflows its wasm memory on the largest messages, which kills its process: each
  // size runs in a child process of its own (the same exchange), at the largest it survives
  // and one byte more, and at 65,535.
  const runs = { 'to-lnsocket': [65_424, 65_425, 65_535], 'from-lnsocket': [65_472, 65_473, 65_535] };
  const outcomes = await Promise.all(Object.entries(runs).flatMap(([direction, sizes]) => sizes.map((size) => lnsocketOverflow(size, direction))));
  const [survivesIn, diesIn, largestIn, survivesOut, diesOut, largestOut] = outcomes;
  for (const survived of [survivesIn, survivesOut]) assert.match(survived, /^received \d+ bytes, intact\nclean\nexit: 0$/);
  for (const died of [diesIn, largestIn, diesOut, largestOut]) assert.match(died, /RuntimeError: memory access out of bounds/);
  await checkClose(row, p, 'responder');
  await endings(row, pm, lnsocket, 'lnsocket', 'responder');

  // lnsocket has no ping handling: it decrypts lnpeer's ping and sends nothing back.
  const q = await pair(pm, lnsocket, 'responder');
  const pinging = pm.ping(q.lnpeer.remoteNodeId, { pongBytes: 4 });
  const ping = await q.partner.nextMessage();
  assert.equal(hex(ping), hex(encodePing(4)), 'lnsocket decrypted the ping');
  await assert.rejects(pinging, { code: 'TIMEOUT' });
  const event = await withTimeout(q.lnpeer.disconnected, 5000, 'lnpeer closes after the unanswered ping');
  assert.deepEqual({ local: event.local, code: event.error?.code }, { local: true, code: 'TIMEOUT' });
  assert.equal((await withTimeout(q.partner.closed, 5000, 'lnsocket sees the close')).reason, 'closed by remote');
  const fact = `lnsocket decrypted lnpeer's ping (\`${hex(ping)}\`) and sent nothing back; \`pm.ping()\` rejected with ${event.error!.code} after ${pongTimeoutMs} ms (\`pongTimeoutMs\`) and lnpeer closed the connection.`;
  row.partnerBug('pingOut', 'lnsocket-no-pong', 'never answered', fact);
  row.partnerBug(
    'largest',
    'lnsocket-large-messages',
    'overflows above 65,424 B in, 65,472 B out',
    `65,424 bytes to lnsocket and 65,472 bytes from it crossed intact; one byte more, or 65,535 bytes, either way killed the process: "${/RuntimeError: [^\n]*/.exec(largestIn)![0]}".`,
  );
});

/** Runs test/interop/lnsocket_overflow.ts; resolves with what the child printed and its exit. */
function lnsocketOverflow(size: number, direction: string): Promise<string> {
  const script = fileURLToPath(new URL('./interop/lnsocket_overflow.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=lnpeer-source', '--import', 'tsx', script, String(size), direction], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve(`${stdout}${stderr}exit: ${error ? (error.code ?? error.signal) : 0}`),
    );
  });
}

test('npm lnmessage (initiator only): lnpeer responder', (t) => fullPairing(t, 'lnmessage', 'responder'));

describe('Core Lightning (lightningd): sendcustommsg and the custommsg hook', () => {
  test('lnpeer initiator', (t) => fullPairing(t, 'cln', 'initiator'));
  test('lnpeer responder', (t) => fullPairing(t, 'cln', 'responder'));
});

describe("LDK (its PeerManager with a real ChannelManager, over TCP)", () => {
  test('lnpeer initiator', (t) => fullPairing(t, 'ldk', 'initiator'));
  test('lnpeer responder', (t) => fullPairing(t, 'ldk', 'responder'));
});

describe('npm @node-lightning/noise (raw: the test runs init through it)', () => {
  for (const role of ['initiator', 'responder'] as const) {
    // lnpeer initiator: lnpeer's direction rotates first and node-lightning's sending rotation
    // is the broken one, so lnpeer receives the bad message; responder: the other way round.
    const lnpeerFirst = role === 'initiator';
    test(`lnpeer ${role}; ${lnpeerFirst ? 'lnpeer' : 'node-lightning'} sends 1,002 first, then message #501 of the other way fails (node-lightning's bug)`, async (t) => {
      const partners = await requirePartners(t, 'node-lightning', 'electrum-raw');
      if (!partners) return;
      const [nodeLightning, electrumRaw] = partners;
      const { row, spec, pm, p } = await connectAndExchange(nodeLightning, 'node-lightning', role);
      await checkPingOut(row, p, spec);
      await checkLargest(row, p);
      await checkClose(row, p, role);
      await endings(row, pm, nodeLightning, 'node-lightning', role);

      /** 1,002 in the first direction; then the second direction, up to where it stops. */
      const bulk = async (q: Pairing) => {
        const [first, second]: Endpoint[] = lnpeerFirst ? [q.lnpeer, q.partner] : [q.partner, q.lnpeer];
        await sendAll(first, second);
        return sendMany(second, first);
      };
      const direction = lnpeerFirst ? 'node-lightning → lnpeer' : 'lnpeer → node-lightning';

      // Control: the same PeerManager, role and order pass with Electrum's transport.
      const control = await pair(pm, electrumRaw, role, RAW_INIT);
      const passed = await bulk(control);
      assert.equal(passed.received, 1002, `the control run stopped: ${passed.error?.message}`);

      const q = await pair(pm, nodeLightning, role, RAW_INIT);
      const run = await bulk(q);
      const failing = 1 /* init */ + run.received + 1;
      assert.equal(failing, MESSAGES_PER_KEY + 1, `${direction}: the first message under the second key fails`);
      let receiverSaid: string;
      if (lnpeerFirst) {
        const event = await withTimeout(q.lnpeer.disconnected, 5000, 'lnpeer closes on the message it cannot decrypt');
        assert.equal(event.error?.code, 'DECRYPT_FAILED', event.reason);
        assert.match(event.reason, /^the length prefix of an incoming message does not authenticate/);
        assert.equal(event.local, true);
        // lnpeer drops the connection at once; node-lightning is still sending, so it may see a reset
        assert.match((await withTimeout(q.partner.closed, 5000, 'node-lightning sees the close')).reason, /^(closed by remote|read ECONNRESET)$/);
        receiverSaid = `lnpeer closed with ${event.error!.code} ("the length prefix … does not authenticate")`;
      } else {
        const { reason } = await withTimeout(q.partner.closed, 5000, 'node-lightning closes on the message it cannot decrypt');
        assert.match(reason, /unable to authenticate data$/); // Node's AES/ChaCha decipher error
        // node-lightning drops the connection at once; lnpeer is still sending, so it may see a reset
        const { reason: lnpeerSaw } = await withTimeout(q.lnpeer.disconnected, 5000, 'lnpeer sees the close');
        assert.match(lnpeerSaw, /^(the remote closed the connection|the connection failed: read ECONNRESET)$/);
        receiverSaid = 'node-lightning failed ("unable to authenticate data") and closed';
      }
      const first = lnpeerFirst ? 'lnpeer → node-lightning' : 'node-lightning → lnpeer';
      const fact = `${first}, 1,002 delivered; then ${direction}: #2 to #${failing - 1} delivered, #${failing} failed: ${receiverSaid}. Control: same PeerManager, role and order with Electrum \`lntransport\`: 1,002 each way delivered.`;
      row.partnerBug('bulk', 'node-lightning-chaining-key', `#${failing} ${direction} fails`, fact);
    });
  }
});

test('docs/interop.md is the matrix the tests above observed', async (t) => {
  const names = Object.keys(SPECS) as PartnerName[];
  const found = await Promise.all(names.map(availability));
  const absent = names.filter((_, i) => !found[i].available);
  if (absent.length && !inCI) return t.skip(`partners missing (${absent.join(', ')}): no complete matrix to compare`);
  const observed = matrix.render(Object.fromEntries(names.map((n, i) => [n, found[i].version ?? '?'])) as Record<PartnerName, string>);
  const doc = new URL('../docs/interop.md', import.meta.url);
  if (process.env.UPDATE_INTEROP_DOC === '1') {
    await writeFile(doc, observed);
    t.diagnostic('docs/interop.md rewritten');
    return;
  }
  const written = await readFile(doc, 'utf8').catch(() => '(missing)');
  assert.equal(written, observed, 'docs/interop.md is not what the tests observed: `UPDATE_INTEROP_DOC=1 npm test` rewrites it');
});
