// CustomMessage: the codec (hex and bytes) and the validator's rules, each with its own code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CustomMessage, MAX_PAYLOAD_LENGTH } from '../../src/custom-message.js';
import { LnPeerError, type LnPeerErrorCode } from '../../src/errors.js';
import { BOLT_MESSAGE_TYPES } from '../../src/wire/message-types.js';

function fails(fn: () => unknown, code: LnPeerErrorCode, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LnPeerError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('CustomMessage codec', () => {
  it('encodes type then payload, big-endian, to bytes and hex', () => {
    const msg = new CustomMessage(0xfffb, new TextEncoder().encode('hello'));
    assert.deepEqual(msg.encode(), Uint8Array.from([0xff, 0xfb, 0x68, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.equal(msg.toHex(), 'fffb68656c6c6f');
    assert.equal(msg.isOdd, true);
    assert.equal(new CustomMessage(0x0102).toHex(), '0102');
  });

  it('decodes hex (either case) and bytes, and round-trips', () => {
    for (const input of ['FFFB68656C6C6F', 'fffb68656c6c6f', Uint8Array.from([0xff, 0xfb, 0x68, 0x65, 0x6c, 0x6c, 0x6f])]) {
      const msg = CustomMessage.decode(input);
      assert.equal(msg.type, 65531);
      assert.equal(new TextDecoder().decode(msg.payload), 'hello');
      assert.equal(CustomMessage.decode(msg.encode()).toHex(), 'fffb68656c6c6f');
    }
    const max = new Uint8Array(65535).fill(1);
    assert.equal(CustomMessage.decode(max).payload.length, MAX_PAYLOAD_LENGTH);
  });

  it('refuses malformed input with a code and the offending value', () => {
    fails(() => new CustomMessage(65536), 'INVALID_TYPE', /0 to 65535, got number 65536/);
    fails(() => new CustomMessage(1.5), 'INVALID_TYPE', /got number 1.5/);
    fails(() => new CustomMessage(33, 'ab' as unknown as Uint8Array), 'INVALID_ARGUMENT', /payload must be a Uint8Array, got the string "ab"/);
    fails(() => new CustomMessage(33, new Uint8Array(65534)), 'MESSAGE_TOO_LONG', /65536 bytes/);
    fails(() => CustomMessage.decode('fffg'), 'INVALID_HEX', /"g" at position 3/);
    fails(() => CustomMessage.decode('fff'), 'INVALID_HEX', /odd length 3/);
    fails(() => CustomMessage.decode('0xfffb'), 'INVALID_HEX', /"x" at position 1/);
    fails(() => CustomMessage.decode('ff'), 'MESSAGE_TOO_SHORT', /1 byte; it needs at least the 2-byte type/);
    fails(() => CustomMessage.decode(new Uint8Array(65536)), 'MESSAGE_TOO_LONG', /65536 bytes; a Lightning message is at most 65535/);
    fails(() => CustomMessage.decode({} as Uint8Array), 'INVALID_HEX', /hex string or a Uint8Array, got an object/);
  });
});

describe('CustomMessage.validate', () => {
  it('refuses every BOLT-defined type except peer_storage (7) and peer_storage_retrieval (9)', () => {
    assert.equal(BOLT_MESSAGE_TYPES.size, 50);
    for (const [type, { name }] of BOLT_MESSAGE_TYPES) {
      const hex = type.toString(16).padStart(4, '0');
      if (type === 7 || type === 9) {
        assert.equal(CustomMessage.validate(hex).type, type);
        continue;
      }
      fails(() => CustomMessage.validate(hex, { evenTypes: [type] }), 'INTERNAL_TYPE', new RegExp(`type ${type} is the BOLT message ${name}`));
    }
  });

  it('refuses even types unless the app negotiated them', () => {
    fails(() => CustomMessage.validate('fffa'), 'EVEN_TYPE', /type 65530 is even.*odd type 65531/);
    fails(() => CustomMessage.validate('8000', { evenTypes: [0xfffa] }), 'EVEN_TYPE', /32768/);
    assert.equal(CustomMessage.validate('fffa', { evenTypes: [0xfffa] }).type, 0xfffa);
    assert.equal(CustomMessage.validate('fffa', { evenTypes: new Set([0xfffa]) }).type, 0xfffa);
    assert.equal(CustomMessage.validate('8001').type, 0x8001);
  });

  it('applies the rules in order: form, then internal type, then parity', () => {
    fails(() => CustomMessage.validate('00'), 'MESSAGE_TOO_SHORT', /1 byte/);
    fails(() => CustomMessage.validate('0012'), 'INTERNAL_TYPE', /ping/); // even too, but internal first
    assert.equal(CustomMessage.validate(new CustomMessage(0x8001)).type, 0x8001);
  });

  it('warns, without failing, for low types and types already in use', () => {
    assert.deepEqual(new CustomMessage(0x8001).warnings(), []);
    assert.match(new CustomMessage(9001).warnings()[0], /below 32768/);
    assert.match(new CustomMessage(37913).warnings()[0], /bLIP 50/);
    assert.deepEqual(new CustomMessage(7).warnings(), [], 'peer storage is expected below 32768');
  });
});
