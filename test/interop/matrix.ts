/**
 * The interop matrix, built from what test/interop.test.ts observed, and rendered as
 * docs/interop.md. A result is recorded only after the assertions behind it passed, so a
 * pairing that failed (or did not run) leaves holes, and `render` refuses to produce a
 * document with holes: the doc check cannot pass when a pairing failed.
 */
import type { PartnerName } from './availability.js';
import type { Role } from './partner.js';

export const CHECKS = {
  handshake: {
    heading: 'handshake',
    meaning: 'BOLT 8 handshake; each side authenticated the other\'s node id.',
  },
  init: {
    heading: '`init` both ways',
    meaning: 'each side received the other\'s `init`, decoded with lnpeer\'s own codecs: the features lnpeer offered arrived, and `PeerInfo.features`/`networks` are what the partner sent.',
  },
  custom: {
    heading: 'odd custom message each way',
    meaning: 'an odd-typed custom message (`pm.sendCustomMsg`, and the `custommsg` event) crossed each way with all 256 byte values in its payload intact.',
  },
  pingIn: {
    heading: 'partner pings, lnpeer answers',
    meaning: 'a `ping` from the partner\'s side got lnpeer\'s `pong` with the `num_pong_bytes` asked for.',
  },
  pingOut: {
    heading: '`pm.ping()`, partner answers',
    meaning: '`pm.ping(nodeId)` resolved with the partner\'s `pong` (raw transports have no BOLT 1: the test answers through them).',
  },
  bulk: {
    heading: '1,002 messages each way',
    meaning: '1,002 numbered messages each way on one connection, in order and intact: both directions rotate their keys at least twice (BOLT 8: after every 500 messages).',
  },
  largest: {
    heading: '65,535-byte message each way',
    meaning: 'the largest Lightning message (BOLT 8: 65,535 bytes, the 2-byte type included) crossed each way intact.',
  },
  unknownEven: {
    heading: 'unknown even type from the partner',
    meaning: 'the partner sent an even type lnpeer does not know: lnpeer sent a `warning` (which the partner received) and closed the connection, reporting `PROTOCOL_VIOLATION` (BOLT 1: "MUST close the connection").',
  },
  networks: {
    heading: '`networks` without a common chain',
    meaning: 'lnpeer announced a chain the partner is not on: the connection ended with lnpeer\'s typed error `NO_COMMON_NETWORK` (a rejected `connect()`, or `connection:failed`), within seconds, and the partner saw it end.',
  },
  close: {
    heading: 'clean close',
    meaning: 'the initiator closed; the other side saw an orderly end (no error), and so did the closer.',
  },
} as const;

export type Check = keyof typeof CHECKS;

/** Every pairing the suite must cover: each partner in every role it has (lnpeer's role). */
export const PAIRINGS: readonly (readonly [PartnerName, Role])[] = [
  ['electrum-raw', 'initiator'],
  ['electrum-raw', 'responder'],
  ['electrum-peer', 'initiator'],
  ['electrum-peer', 'responder'],
  ['lnsocket', 'responder'],
  ['lnmessage', 'responder'],
  ['node-lightning', 'initiator'],
  ['node-lightning', 'responder'],
  ['cln', 'initiator'],
  ['cln', 'responder'],
  ['ldk', 'initiator'],
  ['ldk', 'responder'],
];

/** Pairings where lnpeer offers too little on purpose: the partner must say why it refuses. */
export const REFUSALS: readonly (readonly [PartnerName, Role])[] = [
  ['electrum-peer', 'initiator'],
  ['electrum-peer', 'responder'],
];

/** Partner bugs and limitations that break a check; each is pinned by an exact assertion. */
export const BUGS = {
  'node-lightning-chaining-key': {
    partner: 'node-lightning',
    title: 'one chaining key for both directions',
    what: 'Its key rotation (BOLT 8: `ck, k = HKDF(ck, k)`) uses one chaining key for both directions, so the direction that rotates second derives a wrong key: message #501 of that direction fails, whoever receives it.',
    pinned: 'the failing message must be exactly #501 of the second-rotating direction, with the receiver\'s own error; the same `PeerManager`, in the same role and order, must pass 1,002 each way with Electrum\'s `lntransport`. A fault in lnpeer\'s rotation would fail one of these.',
  },
  'lnsocket-no-pong': {
    partner: 'lnsocket',
    title: 'never answers `ping`',
    what: 'It has no ping handling at all: a `ping` is decrypted and handed to the app, and no `pong` is sent. An lnpeer keepalive (`pingIntervalMs`) therefore drops it after `pongTimeoutMs`.',
    pinned: 'lnsocket must have received the `ping` intact, and `pm.ping()` must reject with `TIMEOUT` (lnpeer then closes). lnpeer\'s `pong` to lnsocket\'s own ping is checked on the same connection.',
  },
  'lnsocket-large-messages': {
    partner: 'lnsocket',
    title: 'overflows its wasm memory on the largest messages',
    what: 'Its buffers are too small for BOLT 8\'s largest packets: it sends messages up to 65,472 bytes and receives up to 65,424 bytes; a larger one overruns its wasm heap, and the process dies of it ("RuntimeError: memory access out of bounds", at the latest when lnsocket frees the connection).',
    pinned: 'each size runs in a child process: the largest it survives (65,424 bytes to it, 65,472 from it) must cross intact and close cleanly; one byte more, and 65,535 bytes, must kill the process with that error.',
  },
  'lnsocket-unread-on-close': {
    partner: 'lnsocket',
    title: 'drops what it received just before a close',
    what: 'Messages that arrive right before the connection closes are never handed to its reader: it does not see the `warning` lnpeer sends before hanging up on a protocol violation.',
    pinned: 'lnpeer must close with `PROTOCOL_VIOLATION` on the unknown even type, and lnsocket\'s reader must end without a message. The same check with every partner that can read it (Electrum, node-lightning, Core Lightning, LDK) shows the warning.',
  },
} as const;

export type BugId = keyof typeof BUGS;

interface Cell {
  text: string;
  /** What was seen, worth reading (features sent, who closed, what failed and how). */
  fact?: string;
  bug?: BugId;
  /** The check cannot apply to this partner: why. */
  inapplicable?: string;
}

/** What one pairing showed. */
export class Row {
  readonly cells = new Map<Check, Cell>();

  /** The check passed; `fact` (optional) says what was seen. */
  pass(check: Check, fact?: string): void {
    this.cells.set(check, { text: '✓', fact });
  }

  /** The check cannot apply to this partner (it has no such behaviour): `why`, said in the document. */
  notApplicable(check: Check, why: string): void {
    this.cells.set(check, { text: '—', inapplicable: why });
  }

  /** The check cannot pass because of the partner's `bug`; what happened (`fact`) was asserted exactly. */
  partnerBug(check: Check, bug: BugId, cell: string, fact: string): void {
    this.cells.set(check, { text: `✗ ${cell}`, fact, bug });
  }
}

/** What a refusal showed. */
export interface Refusal {
  offered: number[];
  /** The partner's own reason (its log), as its driver reported it. */
  partnerReason: string;
  /** What the partner sent lnpeer besides its `init`. */
  partnerSaid: string;
  /** What lnpeer's API reported. */
  lnpeerReported: string;
}

const rows = new Map<string, Row>();
const refusals = new Map<string, Refusal>();

const key = (partner: PartnerName, role: Role) => `${partner} ${role}`;

/** The row of a pairing, created empty; a test fills it as its checks pass. */
export function row(partner: PartnerName, role: Role): Row {
  let r = rows.get(key(partner, role));
  if (!r) rows.set(key(partner, role), (r = new Row()));
  return r;
}

export function recordRefusal(partner: PartnerName, role: Role, refusal: Refusal): void {
  refusals.set(key(partner, role), refusal);
}

/** What is still unobserved: empty when every pairing passed every check. */
function missing(): string[] {
  const holes: string[] = [];
  for (const [partner, role] of PAIRINGS) {
    const r = rows.get(key(partner, role));
    const unseen = (Object.keys(CHECKS) as Check[]).filter((c) => !r?.cells.has(c));
    if (unseen.length) holes.push(`${partner} (lnpeer ${role}): ${unseen.join(', ')} not observed`);
  }
  for (const [partner, role] of REFUSALS) {
    if (!refusals.has(key(partner, role))) holes.push(`${partner} (lnpeer ${role}): refusal not observed`);
  }
  return holes;
}

const DISPLAY: Record<PartnerName, (version: string) => string> = {
  'electrum-raw': (v) => `Electrum ${v} \`electrum.lntransport\``,
  'electrum-peer': (v) => `Electrum ${v} \`electrum.lnpeer.Peer\``,
  lnsocket: (v) => `npm \`lnsocket\` ${v}`,
  lnmessage: (v) => `npm \`lnmessage\` ${v}`,
  'node-lightning': (v) => `npm \`@node-lightning/noise\` ${v}`,
  cln: (v) => `Core Lightning ${v} (\`lightningd\`)`,
  ldk: (v) => `LDK (npm \`lightningdevkit\` ${v})`,
};

/** Feature bits as the document lists them. */
export const formatBits = (list: readonly number[]) => (list.length ? list.join(', ') : 'none');

/** docs/interop.md, from what was observed. Throws, listing the holes, if anything is missing. */
export function render(versions: Record<PartnerName, string>): string {
  const holes = missing();
  if (holes.length) throw new Error(`the interop matrix is incomplete (a pairing failed or did not run):\n  ${holes.join('\n  ')}`);
  const checks = Object.keys(CHECKS) as Check[];
  const name = (partner: PartnerName) => DISPLAY[partner](versions[partner]);
  const cellsOf = (partner: PartnerName, role: Role) => checks.map((c) => [c, rows.get(key(partner, role))!.cells.get(c)!] as const);
  const bugFacts = new Map<BugId, string[]>();
  for (const [partner, role] of PAIRINGS) {
    for (const [, cell] of cellsOf(partner, role)) {
      if (cell.bug) bugFacts.set(cell.bug, [...(bugFacts.get(cell.bug) ?? []), `lnpeer ${role}: ${cell.fact}`]);
    }
  }
  const bugIds = [...bugFacts.keys()];
  const footnote = (bug: BugId) => `[${bugIds.indexOf(bug) + 1}](#${anchor(bug)})`;
  const out: string[] = [];
  out.push(
    '# Interoperability',
    '',
    '<!-- Generated by test/interop.test.ts from what its tests observed: do not edit by hand.',
    '     `npm test` fails when this file differs from what the tests saw;',
    '     `UPDATE_INTEROP_DOC=1 npm test` rewrites it, and only when every pairing passed. -->',
    '',
    'lnpeer, through its public API (`PeerManager`), against Lightning implementations that',
    'nobody here wrote, over TCP on 127.0.0.1: two real nodes (Core Lightning\'s `lightningd`,',
    'and LDK\'s `PeerManager` with a real `ChannelManager`), a wallet (Electrum), and the BOLT 8',
    'libraries of JavaScript, every one in every role it has. The partners are driven by',
    '`test/interop/` (see its README); CI installs all of them and fails when one is missing.',
    '"lnpeer is" names lnpeer\'s role in the BOLT 8 handshake.',
    '',
    '## Matrix',
    '',
    `| partner | lnpeer is | ${checks.map((c) => CHECKS[c].heading).join(' | ')} | result |`,
    `|---|---|${checks.map(() => '---|').join('')}---|`,
  );
  for (const [partner, role] of PAIRINGS) {
    const cells = cellsOf(partner, role).map(([, cell]) => (cell.bug ? `${cell.text} ${footnote(cell.bug)}` : cell.text));
    const bugs = cellsOf(partner, role).filter(([, cell]) => cell.bug);
    out.push(`| ${name(partner)} | ${role} | ${cells.join(' | ')} | ${bugs.length ? 'pass; partner bug pinned' : 'pass'} |`);
  }
  out.push('', '✓: checked and passed. ✗: the partner cannot pass this check; the test asserts exactly how it fails (below), so it still fails if lnpeer is at fault. —: the check cannot apply to this partner (below).', '');

  out.push('## Known partner bugs', '');
  bugIds.forEach((id, i) => {
    const bug = BUGS[id];
    out.push(`${i + 1}. <a id="${anchor(id)}"></a>**${bug.partner}: ${bug.title}.** ${bug.what}`, '', `   Pinned: ${bug.pinned}`, '', '   Observed:', '');
    for (const fact of bugFacts.get(id)!) out.push(`   - ${fact}`);
    out.push('');
  });
  out.push(
    'Partner bugs that lnpeer does not trigger (pinned in test/interop-partners.test.ts):',
    'lnmessage stalls silently, without closing, after a message fails to decrypt; Electrum',
    'drops the connection on a `ping` with `num_pong_bytes` ≥ 65532 (`OverflowError`), which',
    '`pm.ping()` refuses to send.',
    '',
    'Worked around in the lnsocket driver, and pinned in the same file: lnsocket\'s',
    '`make_default_initmsg()` returns a view of wasm memory it has just freed, so on every other',
    'connection in one process its `init` starts with two allocator pointers',
    '(`401a0200401a0200…`, type 16410), which lnpeer refuses as a first message that is not',
    '`init` (`PROTOCOL_VIOLATION`). The driver sends the bytes lnsocket\'s C code built.',
    '',
  );

  out.push(...SURPRISES, ...READ_NOT_RUN);

  out.push(
    '## When lnpeer offers too few features',
    '',
    'Electrum\'s `Peer` requires one bit of each of 0/1 (data_loss_protect), 6/7 (gossip_queries)',
    'and 12/13 (static_remotekey). lnpeer\'s defaults are {1, 9, 13, 15, 45}: an app that talks to',
    'Electrum wallets passes `features: [7]` (the rows above). With the defaults:',
    '',
    '| partner | lnpeer is | lnpeer offers | partner\'s reason (its log) | partner told lnpeer | lnpeer reported |',
    '|---|---|---|---|---|---|',
  );
  for (const [partner, role] of REFUSALS) {
    const f = refusals.get(key(partner, role))!;
    out.push(`| ${name(partner)} | ${role} | ${formatBits(f.offered)} | \`${f.partnerReason}\` | ${f.partnerSaid} | ${f.lnpeerReported} |`);
  }
  out.push('');

  out.push('## What each check does', '');
  for (const c of checks) out.push(`- **${CHECKS[c].heading}**: ${CHECKS[c].meaning}`);
  out.push('');

  out.push('## Observed, pairing by pairing', '');
  for (const [partner, role] of PAIRINGS) {
    out.push(`### ${name(partner)}, lnpeer ${role}`, '');
    for (const [check, cell] of cellsOf(partner, role)) {
      if (cell.inapplicable) out.push(`- ${CHECKS[check].heading}: not applicable: ${cell.inapplicable}`);
      else if (cell.fact) out.push(`- ${CHECKS[check].heading}: ${cell.bug ? `partner bug ${footnote(cell.bug)}` : cell.fact}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function anchor(bug: BugId): string {
  return `bug-${bug}`;
}

/** What Core Lightning and LDK do that surprises: found while writing the tests named in each item. */
const SURPRISES = [
  '## Core Lightning and LDK: what surprises',
  '',
  'Core Lightning v26.06.6:',
  '',
  '- Its WebSocket listener (`websocketd`) unmasks every `read()` of a frame from the first byte',
  '  of the masking key again: a frame whose payload reaches it in pieces is corrupted, and the',
  '  connection fails ("Bad encrypted packet len"). lnpeer\'s Node client masks each frame with',
  '  one random byte four times, which unmasks the same from any offset: 1,002 messages each way',
  '  and the largest cross (test/websocket.test.ts). A browser picks its own random masks, so',
  '  from a page that listener is reliable only for small messages: for bulk, use',
  '  `lnpeer ws-proxy` to its TCP port (test/browser-websocket.test.ts).',
  '- It never answers a WebSocket close frame: lnpeer\'s `disconnect()` does not wait for it.',
  '- Commando (plugins/commando.c) answers a request whose JSON `id` is an object with nothing,',
  '  and that peer\'s later requests stall; lnpeer\'s `Commando` only sends its own string ids',
  '  (docs/commando.md).',
  '- Its `sendcustommsg` RPC trusts its `msg`: malformed hex, an empty message or one above',
  '  65,535 bytes aborts its connectd and the whole node exits (the driver in',
  '  test/interop/partners/cln.ts refuses them before the call). lnpeer\'s `sendCustomMsg`',
  '  refuses each with a typed error and keeps every connection up.',
  '',
  'LDK 0.1.0: it closes without a `warning` for every refusal (features, `networks`, a second',
  'connection), so lnpeer can only list the likely causes; it drops custom messages queued',
  'before the peer\'s `init` was accepted; and when act three and a refused `init` arrive in one',
  'read it never sends its own `init` (lnpeer reports `CONNECTION_CLOSED` with the causes).',
  '',
];

/** LND and Eclair are not in the suite: what reading their code says (docs/interop.md). */
const READ_NOT_RUN = [
  '## LND and Eclair: read, not run',
  '',
  'Neither runs in this suite (no build of either runs here without bitcoind). What their code',
  'says about a peer like lnpeer, read at lightningnetwork/lnd@90ea05d5 (0.22.0 in development)',
  'and ACINQ/eclair@5b765e02 (0.15.0 in development):',
  '',
  '| | LND | Eclair |',
  '|---|---|---|',
  '| features required of a peer | data_loss_protect (0/1) only, unknown even bits refused (`peer/brontide.go` `handleInitMsg`): lnpeer\'s {1, 9, 13, 15, 45} passes | one bit of each of 0/1, 8/9, 12/13, 14/15, 44/45 (`PeerConnection.scala`, `Features.testCompatible`): exactly what lnpeer offers |',
  '| on refusal | closes TCP, no `warning` | closes, no `warning` |',
  '| `networks` | ignored, never sent | sends its chain; closes when the remote lists chains and none is its own |',
  '| unknown types | any type below 32768 it does not know is dropped, odd or even, with no disconnect; 32768 and up go to `SubscribeCustomMessages` | any type without a codec becomes `UnknownMessage`, no odd/even rule; only plugins registered for a tag above 32768 see it |',
  '| sending custom messages | `SendCustomMessage` RPC: types ≥ 32768 (or those set with `protocol.custom-message`), up to 65,533 bytes of payload | no RPC: a JVM plugin only |',
  '| pings | every 60 s, `num_pong_bytes` random 1 to 4,096; the pong must come within 30 s with exactly that length | after 30 s of silence; no pong in 60 s closes; a second ping before its pong is sent closes as a flood |',
  '| timeouts | 5 s per handshake act, 15 s for `init`, 5 min without any message closes | 30 s for the handshake, 30 s for `init` |',
  '| channel-less peers | inbound ones share 100 restricted slots; past them it closes after the handshake | at most 64 inbound; past it the oldest is closed |',
  '',
  'What follows for an application: use custom types of 32768 and above with LND (below that,',
  'its operator sets `protocol.custom-message`); talking to Eclair needs a plugin on its side;',
  'Eclair sends every peer `recommended_feerates` (type 39409, odd), which arrives as',
  '`custommsg`; keep one `pm.ping()` at a time with Eclair. lnpeer\'s own timers (a ping after',
  '60 s idle, 30 s for the pong) and its `init` fit both.',
  '',
];

