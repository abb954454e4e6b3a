/**
 * What both interop suites do on a connection, whoever is on either end: numbered bulk
 * messages (enough for two key rotations per direction) and counting them across.
 */
import assert from 'node:assert/strict';
import { toHex, withTimeout, type Message, type PartnerConnection, type PartnerListener } from './partner.js';

/**
 * BOLT 8 rotates a direction's key after 1,000 nonces, two per message: after its 500th
 * and 1,000th message. 1,002 messages each way rotate both directions twice, whatever
 * else went before on the connection.
 */
export const ROUNDS = 1002;
/** Messages per key in one direction (BOLT 8: rotation after nonce 1,000, two nonces a message). */
export const MESSAGES_PER_KEY = 500;

/** A partner's `closed` reason when the other side closed in an orderly way (its driver's words, Electrum's). */
export const PARTNER_CLOSED_CLEANLY = /closed by remote|LightningPeerConnectionClosed/;

/** Either end of a connection: a partner, or lnpeer seen through its public API. */
export type Endpoint = Pick<PartnerConnection, 'name' | 'send' | 'nextMessage'>;

/** Message `i` of a bulk run: custom odd type 65533, index, and a length that varies. */
export function numbered(i: number): Message {
  const m = new Uint8Array(4 + (i % 7) * 97);
  m.set([0xff, 0xfd, i >> 8, i & 0xff]);
  m.fill(i & 0xff, 4);
  return m;
}

/** Where a partner listens, as `connect` options want it. */
export const target = (l: PartnerListener) => ({ nodeId: l.nodeId, host: l.host, port: l.port });

export interface BulkResult {
  sent: number;
  received: number;
  /** What stopped the run (a send that failed, or the receiving end that closed). */
  error: Error | undefined;
}

/**
 * Sends `n` numbered messages, then reads them back in order; stops at the first failure.
 * A message that arrives changed or out of order fails the assertion at once.
 */
export async function sendMany(from: Endpoint, to: Endpoint, n = ROUNDS): Promise<BulkResult> {
  let sent = 0;
  let received = 0;
  let error: Error | undefined;
  try {
    for (; sent < n; sent++) await withTimeout(from.send(numbered(sent)), 5000, `${from.name} sends message ${sent} of the run`);
  } catch (e) {
    error = e as Error;
  }
  try {
    for (; received < sent; received++) {
      assert.equal(toHex(await to.nextMessage(5000)), toHex(numbered(received)), `${from.name} → ${to.name}: message ${received} of the run`);
    }
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    error ??= e as Error;
  }
  return { sent, received, error };
}

/** `sendMany` that must deliver all `n`. */
export async function sendAll(from: Endpoint, to: Endpoint, n = ROUNDS): Promise<void> {
  assert.deepEqual(await sendMany(from, to, n), { sent: n, received: n, error: undefined }, `${from.name} → ${to.name}: ${n} messages`);
}
