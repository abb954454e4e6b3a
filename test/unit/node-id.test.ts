/** parseNodeId: the curve is asked once per node id, never for a rejected one, and its memory is bounded. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { toHex } from '../../src/bytes.js';
import { activeCurve, getPublicKey, randomPrivateKey, useCrypto, type Curve } from '../../src/crypto/index.js';
import { LnPeerError } from '../../src/errors.js';
import { MAX_REMEMBERED_NODE_IDS, parseNodeId } from '../../src/node-id.js';

describe('parseNodeId', () => {
  let before: Curve;
  let asked: string[];
  beforeEach(() => {
    before = activeCurve();
    asked = [];
    const counting: Curve = { ...before, name: before.name, alias: before.alias, isValidPublicKey: (key) => (asked.push(toHex(key)), before.isValidPublicKey(key)) };
    useCrypto({ curve: counting });
  });
  afterEach(() => useCrypto({ curve: before }));

  const freshId = () => getPublicKey(randomPrivateKey());

  it('asks the curve once for a node id, however often and however it is spelled', () => {
    const id = freshId();
    const hex = toHex(id);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(parseNodeId(hex), id);
      assert.deepEqual(parseNodeId(id), id);
    }
    assert.deepEqual(asked, [hex]);
  });

  it('asks again every time for a key that is not on the curve, and rejects it every time', () => {
    const notOnCurve = '02' + '00'.repeat(32);
    for (let i = 0; i < 3; i++) assert.throws(() => parseNodeId(notOnCurve), (e: unknown) => e instanceof LnPeerError && e.code === 'INVALID_NODE_ID' && /not a point/.test(e.message));
    assert.equal(asked.length, 3);
  });

  it(`forgets what it knows past ${MAX_REMEMBERED_NODE_IDS} node ids`, () => {
    const first = toHex(freshId());
    parseNodeId(first);
    for (let i = 0; i < MAX_REMEMBERED_NODE_IDS; i++) parseNodeId(freshId());
    asked = [];
    parseNodeId(first);
    assert.deepEqual(asked, [first], 'the first id was checked again once the memory was full');
  });
});
