// A persistent peer across a restart of Core Lightning: lnpeer dials it again, and a custom
// message crosses the new connection (sendcustommsg and the custommsg hook).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { requirePartner } from './interop/availability.js';
import { LnpeerEnd, manager } from './interop/lnpeer.js';
import { closeAllPartners, toHex, withTimeout } from './interop/partner.js';
import { next } from './helpers.js';

afterEach(closeAllPartners);

test('Core Lightning restarted under a connected persistent lnpeer', async (t) => {
  const cln = await requirePartner(t, 'cln');
  if (!cln) return;
  const node = await cln.start();
  const pm = manager({ reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
  const listener = await node.listen();
  await pm.connect(`${node.nodeId}@127.0.0.1:${node.port}`, { persistent: true });
  const before = await withTimeout(listener.accepted, 10_000, "Core Lightning's side");
  await pm.sendCustomMsg(node.nodeId, 'fffb01');
  assert.equal(toHex(await before.nextMessage()), 'fffb01');

  const lost = next(pm, 'peer:disconnect');
  const retrying = next(pm, 'peer:reconnecting');
  const back = next(pm, 'peer:connect', 30_000);
  await node.restart();
  const { reason } = await lost;
  const { attempt, delayMs } = await retrying;
  assert.equal(attempt, 1);
  t.diagnostic(`lost: ${reason}; first retry after ${delayMs} ms`);
  assert.equal((await back).peerId, node.nodeId);

  const after = await withTimeout((await node.listen()).accepted, 10_000, "Core Lightning's side after the restart");
  await pm.sendCustomMsg(node.nodeId, 'fffb02');
  assert.equal(toHex(await after.nextMessage()), 'fffb02');
  const atLnpeer = new LnpeerEnd(pm, node.nodeId);
  await after.send(Uint8Array.from([0xff, 0xf9, 3]));
  assert.deepEqual(await atLnpeer.nextMessage(), Uint8Array.from([0xff, 0xf9, 3]));
});
