// LSPS0 (bLIP-50): JSON-RPC 2.0 over custom message 37913, client and LSP, between two
// PeerManagers in one process. The exact bytes of bLIP-50's examples, every malformed input it
// names, the -32700 rule, the limits.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { LnPeerError, PeerManager, memoryPair, type CustomMessageEvent } from '../../src/index.js';
import { LSPS0_ERROR_CODES, Lsps0Client, Lsps0Error, Lsps0Server, type Lsps0Notice, type Lsps0ServerOptions } from '../../src/protocols/lsps0.js';
import { deferred, next, withTimeout } from '../helpers.js';

const LSPS0 = 37913;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An LSP (offering bit 729) and a user, joined in memory, `init` exchanged. */
async function connected(): Promise<{ lsp: PeerManager; user: PeerManager; reconnect: () => Promise<void>; close: () => Promise<void> }> {
  const lsp = new PeerManager({ pingIntervalMs: 0, features: [729] });
  const user = new PeerManager({ pingIntervalMs: 0 });
  const join = async () => {
    const [a, b] = memoryPair();
    const lspSees = next(lsp, 'peer:connect');
    lsp.accept(a, { host: 'memory', port: 1 });
    await user.connectStream(b, lsp.nodeId);
    await lspSees;
  };
  await join();
  const reconnect = async () => {
    const gone = next(lsp, 'peer:disconnect');
    await user.disconnect(lsp.nodeId, { timeoutMs: 5000 });
    await gone;
    await join();
  };
  return { lsp, user, reconnect, close: () => Promise.all([lsp.close(), user.close()]).then(() => {}) };
}

/** A whole 37913 message around a payload given as text or bytes. */
function lsps0(payload: string | Uint8Array | number[]): Uint8Array {
  const bytes = typeof payload === 'string' ? encoder.encode(payload) : Uint8Array.from(payload);
  return Uint8Array.from([LSPS0 >> 8, LSPS0 & 0xff, ...bytes]);
}

/** Sends `payload` from `from` to `to` as a raw 37913 message and resolves with the text of the next 37913 message back. */
async function exchange(from: PeerManager, to: PeerManager, payload: string | Uint8Array | number[]): Promise<string> {
  const reply = from.nextMessage({ type: LSPS0, peerId: to.nodeId, timeoutMs: 5000 });
  await from.sendCustomMsg(to.nodeId, lsps0(payload));
  return decoder.decode((await reply).payload);
}

/**
 * Checks that `payload` got no answer: a probe request sent after it must be the next thing
 * that comes back (messages on one connection stay in order).
 */
async function noAnswer(user: PeerManager, lsp: PeerManager, payload: string | Uint8Array): Promise<void> {
  await user.sendCustomMsg(lsp.nodeId, lsps0(payload));
  const reply = await exchange(user, lsp, '{"jsonrpc":"2.0","id":"probe","method":"lsps0.list_protocols","params":{}}');
  assert.equal(JSON.parse(reply).id, 'probe', `no answer to ${typeof payload === 'string' ? payload : 'the bytes'}`);
}

/** A raw LSP: answers each request of the client with `answer(request)` (text), or nothing when it returns undefined. */
function rawLsp(lsp: PeerManager, answer: (request: { id: string; method: string; params: unknown }) => string | undefined): { received: string[] } {
  const received: string[] = [];
  lsp.on('custommsg', ({ peerId, type, payload }) => {
    if (type !== LSPS0) return;
    const text = decoder.decode(payload);
    received.push(text);
    const reply = answer(JSON.parse(text));
    if (reply !== undefined) void lsp.sendCustomMsg(peerId, lsps0(reply)).catch(() => {});
  });
  return { received };
}

/** Notices of a server or client, and the next one of a kind. */
function notices(emitter: Lsps0Server | Lsps0Client): { all: Lsps0Notice[]; next: (kind: Lsps0Notice['kind']) => Promise<Lsps0Notice> } {
  const all: Lsps0Notice[] = [];
  const waiting: { kind: string; resolve: (n: Lsps0Notice) => void }[] = [];
  (emitter as Lsps0Server).on('notice', (n: Lsps0Notice) => {
    all.push(n);
    for (const w of waiting.splice(0)) {
      if (w.kind === n.kind) w.resolve(n);
      else waiting.push(w);
    }
  });
  return {
    all,
    next: (kind) => {
      const seen = all.find((n) => n.kind === kind);
      if (seen) return Promise.resolve(seen);
      return withTimeout(new Promise((resolve) => waiting.push({ kind, resolve })), 5000, `a '${kind}' notice`);
    },
  };
}

const rpcError = (code: number, data?: unknown) => (e: LnPeerError) => {
  assert.equal(e.code, 'RPC_ERROR');
  assert.equal(e.details.code, code);
  if (data !== undefined) assert.deepEqual(e.details.data, data);
  return true;
};

const PARSE_ERROR = '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}';

function server(lsp: PeerManager, options: Lsps0ServerOptions = {}): Lsps0Server {
  return new Lsps0Server(lsp, {
    protocols: [1, 2],
    methods: {
      'lsps1.get_info': async (_params, { peerId }) => ({ min_channel_balance_sat: '50000', you: peerId }),
      'test.add': { params: ['a', 'b'], required: ['a'], handler: ({ a, b = 0 }) => ({ sum: (a as number) + (b as number) }) },
      'test.fail': () => {
        throw new Lsps0Error(100, 'Option mismatch', { property: 'lsp_balance_sat' });
      },
      'test.crash': () => {
        throw new Error('secret database password in this text');
      },
      'test.not_an_object': () => [1, 2] as unknown as Record<string, unknown>,
      'test.bad_error': () => {
        throw new Lsps0Error(1.5, 'not an integer code');
      },
      'test.big': { params: ['bytes'], handler: ({ bytes }) => ({ blob: 'x'.repeat(bytes as number) }) },
    },
    ...options,
  });
}

describe('LSPS0 client and server against each other', () => {
  it('list_protocols, a method with params, by-name params checked, results as objects', async () => {
    const { lsp, user, close } = await connected();
    server(lsp);
    const client = new Lsps0Client(user);
    assert.deepEqual(await client.listProtocols(lsp.nodeId), [1, 2]);
    assert.deepEqual(await client.call(lsp.nodeId, { method: 'lsps1.get_info' }), { min_channel_balance_sat: '50000', you: user.nodeId });
    assert.deepEqual(await client.call(lsp.nodeId, { method: 'test.add', params: { a: 40, b: 2 } }, { timeoutMs: 5000 }), { sum: 42 });
    assert.deepEqual(await client.call(lsp.nodeId, { method: 'test.add', params: { a: 1 } }), { sum: 1 });
    assert.equal(client.advertisesLsps(lsp.nodeId), true, 'the LSP set bit 729 in init');
    assert.equal(client.pending, 0);
    client.close();
    await close();
  });

  it('errors: an Lsps0Error as thrown, -32601, -32602 with unrecognized (and missing), -32603 without the exception text', async () => {
    const { lsp, user, close } = await connected();
    const srv = server(lsp);
    const seen = notices(srv);
    const client = new Lsps0Client(user);
    const id = lsp.nodeId;
    await assert.rejects(client.call(id, { method: 'test.fail' }), rpcError(100, { property: 'lsp_balance_sat' }));
    await assert.rejects(client.call(id, { method: 'lsps9.nothing' }), (e: LnPeerError) => rpcError(-32601)(e) && e.details.message === 'Method not found' && e.details.method === 'lsps9.nothing');
    await assert.rejects(client.call(id, { method: 'test.add', params: { a: 1, c: 3, d: 4 } }), rpcError(-32602, { unrecognized: ['c', 'd'] }));
    await assert.rejects(client.call(id, { method: 'test.add', params: { b: 1 } }), rpcError(-32602, { unrecognized: [], missing: ['a'] }));
    await assert.rejects(client.call(id, { method: 'lsps1.get_info', params: { token: 'x' } }), rpcError(-32602, { unrecognized: ['token'] }), 'a bare function takes no params');
    await assert.rejects(client.call(id, { method: 'lsps0.list_protocols', params: { x: 1 } }), rpcError(-32602, { unrecognized: ['x'] }));
    await assert.rejects(client.call(id, { method: 'test.crash' }), (e: LnPeerError) => {
      rpcError(-32603)(e);
      assert.equal(e.details.message, 'Internal error');
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
    const crash = await seen.next('handler-error');
    assert.match((crash.error as Error).message, /secret/, 'the exception reaches the server log, not the client');
    await assert.rejects(client.call(id, { method: 'test.not_an_object' }), rpcError(-32603));
    assert.equal((await seen.next('bad-result')).method, 'test.not_an_object');
    await assert.rejects(client.call(id, { method: 'test.bad_error' }), rpcError(-32603));
    assert.equal(seen.all.filter((n) => n.kind === 'handler-error').length, 2);
    client.close();
    await close();
  });

  it('notifications both ways; the server notifies only peers that sent 37913 first', async () => {
    const { lsp, user, close } = await connected();
    const pinged = deferred<{ params: unknown; peerId: string }>();
    const srv = server(lsp, { notifications: { 'test.ping': { params: ['n'], handler: (params, { peerId }) => pinged.resolve({ params, peerId }) } } });
    const seen = notices(srv);
    const client = new Lsps0Client(user);
    const clientSeen = deferred<unknown>();
    srv.on('client', ({ peerId }) => clientSeen.resolve(peerId));
    // bLIP-50: the LSP "SHOULD NOT send BOLT8 message ID 37913 unless the peer had already sent" one.
    await assert.rejects(srv.notify(user.nodeId, 'lsps5.webhook', {}), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /never sent an LSPS0 message/.test(e.message));
    assert.equal(srv.isClient(user.nodeId), false);
    await client.listProtocols(lsp.nodeId);
    assert.equal(await withTimeout(clientSeen.promise, 5000, 'the client event'), user.nodeId);
    const notified = new Promise((resolve) => client.once('notification', resolve));
    await srv.notify(user.nodeId, 'lsps5.webhook_registered', { url: 'https://example.com' });
    assert.deepEqual(await withTimeout(notified, 5000, 'the notification'), { peerId: lsp.nodeId, method: 'lsps5.webhook_registered', params: { url: 'https://example.com' } });
    // Client to server: only methods the server declared; never answered (JSON-RPC 4.1).
    await client.notify(lsp.nodeId, 'test.ping', { n: 1 });
    assert.deepEqual(await withTimeout(pinged.promise, 5000, 'the ping'), { params: { n: 1 }, peerId: user.nodeId });
    await client.notify(lsp.nodeId, 'lsps9.unknown', {});
    assert.equal((await seen.next('notification-ignored')).method, 'lsps9.unknown');
    await client.notify(lsp.nodeId, 'test.ping', { zz: 1 });
    await noAnswer(user, lsp, '{"jsonrpc":"2.0","method":"test.ping","params":{"n":2}}');
    assert.equal(client.stoppedReason(lsp.nodeId), undefined, 'nothing the client did made the LSP answer -32700');
    client.close();
    await close();
  });

  it('many concurrent calls, answered out of order, each get their own result', async () => {
    const { lsp, user, close } = await connected();
    const gates = Array.from({ length: 50 }, () => deferred<void>());
    const started: number[] = [];
    const allStarted = deferred<void>();
    new Lsps0Server(lsp, {
      maxInFlightPerPeer: 50,
      methods: {
        'test.echo': {
          params: ['n'],
          handler: async ({ n }) => {
            started.push(n as number);
            if (started.length === 50) allStarted.resolve();
            await gates[n as number].promise;
            return { n };
          },
        },
      },
    });
    const client = new Lsps0Client(user);
    const order: number[] = [];
    const calls = gates.map((_, n) => client.call<{ n: number }>(lsp.nodeId, { method: 'test.echo', params: { n } }).then((r) => (order.push(r.n), r.n)));
    await withTimeout(allStarted.promise, 5000, 'every handler started');
    for (let n = 49; n >= 0; n--) gates[n].resolve();
    assert.deepEqual(await withTimeout(Promise.all(calls), 5000, 'every answer'), gates.map((_, n) => n));
    assert.deepEqual(order, gates.map((_, n) => 49 - n), 'answers came in reverse order, each matched by id');
    client.close();
    await close();
  });

  it('request ids are 128 random bits from crypto.getRandomValues (and an optional prefix), never a counter', async () => {
    const { lsp, user, close } = await connected();
    const { received } = rawLsp(lsp, ({ id }) => JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
    const client = new Lsps0Client(user);
    const prefixed = new Lsps0Client(user, { idPrefix: 'app#' });
    await client.call(lsp.nodeId, { method: 'a.b' });
    await client.call(lsp.nodeId, { method: 'a.b' });
    await prefixed.call(lsp.nodeId, { method: 'a.b' });
    const ids = received.map((text) => JSON.parse(text).id as string);
    assert.match(ids[0], /^[0-9a-f]{32}$/);
    assert.match(ids[1], /^[0-9a-f]{32}$/);
    assert.notEqual(ids[0], ids[1]);
    assert.match(ids[2], /^app#[0-9a-f]{32}$/);
    assert.deepEqual(JSON.parse(received[0]), { jsonrpc: '2.0', id: ids[0], method: 'a.b', params: {} }, 'params default to {}, by name');
    client.close();
    prefixed.close();
    await close();
  });
});

describe("bLIP-50's examples, byte for byte", () => {
  // bLIP-50 "LSPS Specification Support Query", as printed there.
  const LIST_PROTOCOLS_REQUEST = `{
  "method": "lsps0.list_protocols",
  "jsonrpc": "2.0",
  "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
  "params": {}
}`;
  const LIST_PROTOCOLS_RESPONSE = `{
  "jsonrpc": "2.0",
  "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
  "result": {
    "protocols": [1, 3],
    "example-undefined-key-that-clients-should-ignore": true
  }
}`;
  // bLIP-50 "-32602 Invalid Parameters Error".
  const INVALID_PARAMS_REQUEST = `{
  "jsonrpc": "2.0",
  "method": "example.method_name",
  "params": {
    "future_feature1_param": "value1",
    "future_feature2_param": "value2"
  },
  "id": "42"
}`;
  const INVALID_PARAMS_RESPONSE = `{
  "jsonrpc": "2.0",
  "error": {
    "code": -32602,
    "message": "Invalid params",
    "data": {
      "unrecognized": ["future_feature1_param"]
    }
  },
  "id": "42"
}`;

  it('the server answers the list_protocols example request', async () => {
    const { lsp, user, close } = await connected();
    new Lsps0Server(lsp, { protocols: [1, 3] });
    const reply = await exchange(user, lsp, LIST_PROTOCOLS_REQUEST);
    assert.equal(reply, '{"jsonrpc":"2.0","id":"example#3cad6a54d302edba4c9ade2f7ffac098","result":{"protocols":[1,3]}}');
    await close();
  });

  it('the server answers the -32602 example request with the example response', async () => {
    const { lsp, user, close } = await connected();
    new Lsps0Server(lsp, { methods: { 'example.method_name': { params: ['future_feature2_param'], handler: () => ({}) } } });
    const reply = await exchange(user, lsp, INVALID_PARAMS_REQUEST);
    assert.equal(reply, '{"jsonrpc":"2.0","id":"42","error":{"code":-32602,"message":"Invalid params","data":{"unrecognized":["future_feature1_param"]}}}');
    assert.deepEqual(JSON.parse(reply), JSON.parse(INVALID_PARAMS_RESPONSE));
    await close();
  });

  it('the client sends the example request and reads the example response, ignoring the unknown key', async () => {
    const { lsp, user, close } = await connected();
    const { received } = rawLsp(lsp, () => LIST_PROTOCOLS_RESPONSE);
    const client = new Lsps0Client(user, { idPrefix: 'example#' });
    const random = Uint8Array.from(Buffer.from('3cad6a54d302edba4c9ade2f7ffac098', 'hex'));
    const stub = mock.method(globalThis.crypto, 'getRandomValues', <T extends ArrayBufferView | null>(array: T): T => {
      (array as unknown as Uint8Array).set(random);
      return array;
    });
    try {
      assert.deepEqual(await client.listProtocols(lsp.nodeId, { timeoutMs: 5000 }), [1, 3]);
    } finally {
      stub.mock.restore();
    }
    assert.equal(stub.mock.callCount(), 1);
    assert.deepEqual(JSON.parse(received[0]), JSON.parse(LIST_PROTOCOLS_REQUEST));
    client.close();
    await close();
  });

  it('the client reads the -32602 example response as RPC_ERROR with its data', async () => {
    const { lsp, user, close } = await connected();
    rawLsp(lsp, ({ id }) => INVALID_PARAMS_RESPONSE.replace('"42"', JSON.stringify(id)));
    const client = new Lsps0Client(user);
    await assert.rejects(client.call(lsp.nodeId, { method: 'example.method_name', params: { future_feature1_param: 'value1', future_feature2_param: 'value2' } }), (e: LnPeerError) => {
      assert.equal(e.code, 'RPC_ERROR');
      assert.deepEqual(e.details, { peerId: lsp.nodeId, method: 'example.method_name', code: -32602, message: 'Invalid params', data: { unrecognized: ['future_feature1_param'] } });
      return true;
    });
    client.close();
    await close();
  });
});

describe('the server and malformed input (bLIP-50 "Message Payload Format")', () => {
  const valid = (members: string) => `{"jsonrpc":"2.0",${members}}`;
  const malformed: [string, string | number[]][] = [
    ['invalid JSON', '{'],
    ['an empty payload', ''],
    ['only whitespace', ' \t\r\n'],
    ['an array (" [ ] ")', ' [ ] '],
    ['a batch', `[${valid('"id":"1","method":"lsps0.list_protocols","params":{}')}]`],
    ['a number', '42'],
    ['a string', '"lsps0.list_protocols"'],
    ['null', 'null'],
    ['two objects (" { } { } ")', ' { } { } '],
    ['an object and a half (" { } { ")', ' { } { '],
    ['an empty object', ' { } '],
    ['jsonrpc "1.0"', '{"jsonrpc":"1.0","id":"1","method":"lsps0.list_protocols","params":{}}'],
    ['jsonrpc 2.0, a number', '{"jsonrpc":2.0,"id":"1","method":"lsps0.list_protocols","params":{}}'],
    ['no jsonrpc', '{"id":"1","method":"lsps0.list_protocols","params":{}}'],
    ['id null', valid('"id":null,"method":"lsps0.list_protocols","params":{}')],
    ['id true', valid('"id":true,"method":"lsps0.list_protocols","params":{}')],
    ['id an object', valid('"id":{"a":1},"method":"lsps0.list_protocols","params":{}')],
    ['id an array', valid('"id":["1"],"method":"lsps0.list_protocols","params":{}')],
    ['id 1e400 (not finite)', valid('"id":1e400,"method":"lsps0.list_protocols","params":{}')],
    ['method a number', valid('"id":"1","method":7,"params":{}')],
    ['params a string', valid('"id":"1","method":"lsps0.list_protocols","params":"x"')],
    ['params null', valid('"id":"1","method":"lsps0.list_protocols","params":null')],
    ['no method and no id', valid('"params":{}')],
    ['an id but no method, result or error', valid('"id":"1"')],
    ['bytes that are not UTF-8', [0x7b, 0xff, 0x7d]],
    ['an overlong UTF-8 encoding', [...encoder.encode(valid('"id":"')), 0xc0, 0xaf, ...encoder.encode('","method":"lsps0.list_protocols"}')]],
    ['a UTF-8-encoded surrogate', [...encoder.encode(valid('"id":"')), 0xed, 0xa0, 0x80, ...encoder.encode('","method":"lsps0.list_protocols"}')]],
    ['a 0 byte inside a string', [...encoder.encode(valid('"id":"a')), 0, ...encoder.encode('","method":"lsps0.list_protocols"}')]],
    ['a 0 byte after the object', [...encoder.encode(valid('"id":"1","method":"lsps0.list_protocols"')), 0]],
    ['a byte order mark', [0xef, 0xbb, 0xbf, ...encoder.encode(valid('"id":"1","method":"lsps0.list_protocols"'))]],
    ['whitespace JSON does not allow (form feed)', `\f${valid('"id":"1","method":"lsps0.list_protocols"')}`],
    ['whitespace JSON does not allow (no-break space)', `\u00a0${valid('"id":"1","method":"lsps0.list_protocols"')}`],
  ];

  it('answers each with exactly {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}, and logs it', async () => {
    const { lsp, user, close } = await connected();
    const srv = server(lsp);
    const seen = notices(srv);
    for (const [what, payload] of malformed) {
      assert.equal(await exchange(user, lsp, payload), PARSE_ERROR, what);
    }
    assert.equal(seen.all.filter((n) => n.kind === 'bad-message').length, malformed.length);
    assert.match(seen.all[0].message, /not one complete JSON value/);
    // The server still answers good requests afterwards.
    assert.equal(JSON.parse(await exchange(user, lsp, valid('"id":"ok","method":"lsps0.list_protocols","params":{}'))).result.protocols.length, 2);
    await close();
  });

  it('takes what bLIP-50 and JSON-RPC allow: whitespace around, numeric ids, params left out, members it does not know', async () => {
    const { lsp, user, close } = await connected();
    server(lsp);
    assert.equal(await exchange(user, lsp, ` \t\r\n${valid('"id":"w","method":"lsps0.list_protocols","params":{}')}\r\n\t `), '{"jsonrpc":"2.0","id":"w","result":{"protocols":[1,2]}}');
    assert.equal(await exchange(user, lsp, valid('"id":7,"method":"lsps0.list_protocols"')), '{"jsonrpc":"2.0","id":7,"result":{"protocols":[1,2]}}');
    assert.equal(await exchange(user, lsp, valid('"id":"x","method":"lsps0.list_protocols","params":{},"extra":1')), '{"jsonrpc":"2.0","id":"x","result":{"protocols":[1,2]}}');
    assert.equal(await exchange(user, lsp, valid('"id":"u","method":"test.add","params":{"a":"é€😀","b":""}')), '{"jsonrpc":"2.0","id":"u","result":{"sum":"é€😀"}}');
    await close();
  });

  it('by-position params: -32602 (bLIP-50 "MUST use by-name parameter structures")', async () => {
    const { lsp, user, close } = await connected();
    server(lsp);
    assert.equal(
      await exchange(user, lsp, valid('"id":"p","method":"test.add","params":[1,2]')),
      '{"jsonrpc":"2.0","id":"p","error":{"code":-32602,"message":"Invalid params: by-position params are not allowed (bLIP-50), give an object","data":{"unrecognized":[]}}}',
    );
    assert.equal(await exchange(user, lsp, valid('"id":"m","method":"lsps9.x","params":[1]')), '{"jsonrpc":"2.0","id":"m","error":{"code":-32601,"message":"Method not found"}}');
    await close();
  });

  it('answers no notification (JSON-RPC 4.1) and no response (no two servers answering each other forever)', async () => {
    const { lsp, user, close } = await connected();
    const seen = notices(server(lsp));
    await noAnswer(user, lsp, valid('"method":"lsps0.list_protocols","params":{}'));
    assert.equal((await seen.next('notification-ignored')).method, 'lsps0.list_protocols');
    await noAnswer(user, lsp, PARSE_ERROR);
    await noAnswer(user, lsp, valid('"id":"1","result":{}'));
    assert.equal(seen.all.filter((n) => n.kind === 'response-ignored').length, 2);
    await close();
  });

  it('sizes: the largest payload (65,533 bytes) is answered; past maxMessageBytes -32001; an answer too large becomes -32002', async () => {
    const { lsp, user, close } = await connected();
    const srv = server(lsp);
    const seen = notices(srv);
    const request = valid('"id":"big","method":"lsps0.list_protocols","params":{}');
    const largest = request + ' '.repeat(65_533 - request.length);
    assert.equal(await exchange(user, lsp, largest), '{"jsonrpc":"2.0","id":"big","result":{"protocols":[1,2]}}');
    assert.equal(await exchange(user, lsp, valid('"id":"r","method":"test.big","params":{"bytes":70000}')), '{"jsonrpc":"2.0","id":"r","error":{"code":-32002,"message":"Response too large","data":{"max_message_bytes":65533}}}');
    assert.equal((await seen.next('reply-too-large')).method, 'test.big');
    srv.close();
    const small = server(lsp, { maxMessageBytes: 256 });
    const smallSeen = notices(small);
    const tooLarge = valid(`"id":"t","method":"test.add","params":{"a":"${'x'.repeat(300)}"}`);
    assert.equal(await exchange(user, lsp, tooLarge), '{"jsonrpc":"2.0","id":"t","error":{"code":-32001,"message":"Request too large","data":{"max_message_bytes":256}}}');
    assert.equal((await smallSeen.next('request-too-large')).method, 'test.add');
    assert.equal(await exchange(user, lsp, valid('"id":"r","method":"test.big","params":{"bytes":300}')), '{"jsonrpc":"2.0","id":"r","error":{"code":-32002,"message":"Response too large","data":{"max_message_bytes":256}}}');
    await close();
  });

  it('limits requests in flight per peer: one more is answered -32000, then it serves again', async () => {
    const { lsp, user, close } = await connected();
    const gate = deferred<void>();
    const started = deferred<void>();
    let running = 0;
    const srv = new Lsps0Server(lsp, {
      maxInFlightPerPeer: 2,
      methods: {
        'test.wait': async () => {
          if (++running === 2) started.resolve();
          await gate.promise;
          return { ok: true };
        },
      },
    });
    const seen = notices(srv);
    const client = new Lsps0Client(user);
    const first = [client.call(lsp.nodeId, { method: 'test.wait' }), client.call(lsp.nodeId, { method: 'test.wait' })];
    await withTimeout(started.promise, 5000, 'two handlers running');
    assert.equal(srv.inFlight(user.nodeId), 2);
    await assert.rejects(client.call(lsp.nodeId, { method: 'test.wait' }), rpcError(LSPS0_ERROR_CODES.TOO_MANY_IN_FLIGHT, { max_in_flight: 2 }));
    await seen.next('in-flight-limit');
    gate.resolve();
    assert.deepEqual(await withTimeout(Promise.all(first), 5000, 'the two answers'), [{ ok: true }, { ok: true }]);
    assert.deepEqual(await client.call(lsp.nodeId, { method: 'test.wait' }), { ok: true });
    assert.equal(srv.inFlight(user.nodeId), 0);
    client.close();
    await close();
  });

  it('requires feature bit 729 on its PeerManager, and checks its options', async () => {
    const plain = new PeerManager();
    assert.throws(() => new Lsps0Server(plain), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /feature bit 729/.test(e.message) && /features: \[729\]/.test(e.message));
    const lsp = new PeerManager({ features: [729] });
    assert.throws(() => new Lsps0Server(lsp, { protocols: [0, 1] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { methods: { 'lsps0.list_protocols': () => ({}) } }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { methods: { 'a.b': { params: ['x'], required: ['y'], handler: () => ({}) } } }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { maxMessageBytes: 70_000 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { maxInFlightPerPeer: 0 }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, [] as never), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server({} as never), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { knownClients: 5 as never }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Server(lsp, { knownClients: ['02zz'] }), { code: 'INVALID_NODE_ID' });
    assert.throws(() => new Lsps0Client(null as never), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => Lsps0Error.invalidParams('x' as never), { code: 'INVALID_ARGUMENT' });
    await Promise.all([plain.close(), lsp.close()]);
  });
});

describe('the client and what the LSP sends', () => {
  it('-32700 stops the client: calls in flight and later ones reject, nothing more is sent, until it reconnects', async () => {
    const { lsp, user, reconnect, close } = await connected();
    let mode: 'parse-error' | 'silent' | 'answer' = 'silent';
    const { received } = rawLsp(lsp, ({ id }) => (mode === 'answer' ? JSON.stringify({ jsonrpc: '2.0', id, result: { ok: 1 } }) : undefined));
    const client = new Lsps0Client(user);
    const stopped = new Promise<{ peerId: string; reason: string }>((resolve) => client.once('stopped', resolve));
    const waiting = client.call(lsp.nodeId, { method: 'a.one' });
    const second = client.call(lsp.nodeId, { method: 'a.two' });
    mode = 'parse-error';
    await lsp.sendCustomMsg(user.nodeId, lsps0(PARSE_ERROR));
    const isStop = (e: LnPeerError) => e.code === 'PROTOCOL_VIOLATION' && e.details.reason === 'parse-error' && /until it reconnects/.test(e.message);
    await assert.rejects(withTimeout(waiting, 5000, 'the rejection'), isStop);
    await assert.rejects(second, isStop);
    assert.deepEqual(await withTimeout(stopped, 5000, 'the stopped event'), { peerId: lsp.nodeId, reason: 'parse-error', error: client.stoppedReason(lsp.nodeId) });
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.three' }), isStop);
    await assert.rejects(client.notify(lsp.nodeId, 'a.four', {}), isStop);
    // Nothing was sent after the -32700: a marker sent now is the next thing the LSP gets.
    const marker = lsp.nextMessage({ type: 0xfff9, timeoutMs: 5000 });
    await user.sendCustomMsg(lsp.nodeId, 'fff9');
    await marker;
    assert.equal(received.length, 2);
    assert.equal(client.pending, 0);
    await reconnect();
    mode = 'answer';
    assert.deepEqual(await client.call(lsp.nodeId, { method: 'a.five' }, { timeoutMs: 5000 }), { ok: 1 }, 'a reconnection lifts it');
    client.close();
    await close();
  });

  it('a message from the LSP that is not LSPS0 stops the client too (bLIP-50: "SHOULD NOT send further")', async () => {
    const { lsp, user, close } = await connected();
    rawLsp(lsp, ({ id }) => `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{},"error":{"code":1,"message":"both"}}`);
    const client = new Lsps0Client(user);
    const stopped = new Promise<{ reason: string }>((resolve) => client.once('stopped', resolve));
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b' }, { timeoutMs: 5000 }), (e: LnPeerError) => e.code === 'PROTOCOL_VIOLATION' && e.details.why === 'it has both result and error');
    assert.equal((await stopped).reason, 'bad-message');
    client.close();
    await close();
  });

  it('ignores answers it did not ask for, errors with id null other than -32700, and messages of peers it never wrote to', async () => {
    const { lsp, user, close } = await connected();
    const requested = deferred<string>();
    rawLsp(lsp, ({ id }) => void requested.resolve(id));
    const client = new Lsps0Client(user);
    const seen = notices(client);
    // Before the client wrote to it, nothing from the LSP counts (not even garbage): it is for someone else.
    const garbage = user.nextMessage({ type: LSPS0, timeoutMs: 5000 });
    await lsp.sendCustomMsg(user.nodeId, lsps0('{'));
    await garbage;
    const call = client.call(lsp.nodeId, { method: 'a.b' });
    const id = await withTimeout(requested.promise, 5000, 'the request');
    await lsp.sendCustomMsg(user.nodeId, lsps0('{"jsonrpc":"2.0","id":"not-mine","result":{"x":1}}'));
    await lsp.sendCustomMsg(user.nodeId, lsps0('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}'));
    await lsp.sendCustomMsg(user.nodeId, lsps0(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"mine":true}}`));
    assert.deepEqual(await withTimeout(call, 5000, 'the answer'), { mine: true });
    assert.equal((await seen.next('unmatched-error')).peerId, lsp.nodeId);
    assert.equal(client.stoppedReason(lsp.nodeId), undefined);
    client.close();
    await close();
  });

  it('filters the text of an LSP error (bLIP-50 "Error Handling")', async () => {
    const { lsp, user, close } = await connected();
    rawLsp(lsp, ({ id }) => JSON.stringify({ jsonrpc: '2.0', id, error: { code: 1, message: 'no\n<script>\u0000', data: { message: 'Client rejected' } } }));
    const client = new Lsps0Client(user);
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b' }), (e: LnPeerError) => e.details.message === 'no??script??' && e.details.code === 1 && !/[\n<\0]/.test(e.message));
    client.close();
    await close();
  });

  it('rejects calls in flight with CONNECTION_CLOSED the moment the LSP disconnects; times out; aborts', async () => {
    const { lsp, user, close } = await connected();
    const started = deferred<void>();
    new Lsps0Server(lsp, {
      methods: {
        'test.hang': () => {
          started.resolve();
          return new Promise(() => {});
        },
      },
    });
    const client = new Lsps0Client(user);
    await assert.rejects(client.call(lsp.nodeId, { method: 'test.hang' }, { timeoutMs: 20 }), { code: 'TIMEOUT' });
    const controller = new AbortController();
    const aborted = client.call(lsp.nodeId, { method: 'test.hang' }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, { code: 'ABORTED' });
    const hanging = [client.call(lsp.nodeId, { method: 'test.hang' }), client.call(lsp.nodeId, { method: 'test.hang' })];
    await withTimeout(started.promise, 5000, 'the handler');
    await lsp.disconnect(user.nodeId, { timeoutMs: 5000 });
    for (const call of hanging) await assert.rejects(withTimeout(call, 5000, 'the rejection'), { code: 'CONNECTION_CLOSED' });
    assert.equal(client.pending, 0);
    await assert.rejects(client.call(lsp.nodeId, { method: 'test.hang' }), { code: 'PEER_NOT_CONNECTED' });
    client.close();
    await close();
  });

  it('checks its arguments: params by name, one message at most, a closed client', async () => {
    const { lsp, user, close } = await connected();
    const client = new Lsps0Client(user);
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b', params: [1, 2] as unknown as Record<string, unknown> }), (e: LnPeerError) => e.code === 'INVALID_ARGUMENT' && /by name/.test(e.message));
    await assert.rejects(client.call(lsp.nodeId, { method: '' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b', params: { n: 1n } }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b', params: { blob: 'x'.repeat(65_533) } }), (e: LnPeerError) => e.code === 'MESSAGE_TOO_LONG' && /no chunking/.test(e.message));
    await assert.rejects(client.call('02zz', { method: 'a.b' }), { code: 'INVALID_NODE_ID' });
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b' }, [] as never), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b' }, { timeoutMs: -1 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(client.notify(lsp.nodeId, 'a.b', [] as never), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => new Lsps0Client(user, { maxPending: 0 }), { code: 'INVALID_ARGUMENT' });
    client.close();
    await assert.rejects(client.call(lsp.nodeId, { method: 'a.b' }), { code: 'MANAGER_CLOSED' });
    await close();
  });
});

describe('both roles on one PeerManager', () => {
  it('an LSP that is the client of another LSP: no message is taken for the other role, none answered in a loop', async () => {
    const upstream = new PeerManager({ pingIntervalMs: 0, features: [729] });
    const hub = new PeerManager({ pingIntervalMs: 0, features: [729] });
    const wallet = new PeerManager({ pingIntervalMs: 0 });
    const join = async (server: PeerManager, client: PeerManager) => {
      const [a, b] = memoryPair();
      const sees = next(server, 'peer:connect');
      server.accept(a, { host: 'memory', port: 1 });
      await client.connectStream(b, server.nodeId);
      await sees;
    };
    await join(upstream, hub);
    await join(hub, wallet);
    const upstreamServer = new Lsps0Server(upstream, { protocols: [2], methods: { 'lsps2.get_info': () => ({ opening_fee_params_menu: [] }) } });
    const upstreamSeen = notices(upstreamServer);
    const hubServer = new Lsps0Server(hub, { protocols: [1], methods: { 'lsps1.get_info': () => ({ hub: true }) } });
    const hubServerSeen = notices(hubServer);
    const hubClient = new Lsps0Client(hub);
    const walletClient = new Lsps0Client(wallet);

    assert.deepEqual(await hubClient.call(upstream.nodeId, { method: 'lsps2.get_info' }, { timeoutMs: 5000 }), { opening_fee_params_menu: [] });
    assert.deepEqual(await walletClient.call(hub.nodeId, { method: 'lsps1.get_info' }, { timeoutMs: 5000 }), { hub: true });
    assert.equal((await hubServerSeen.next('response-ignored')).peerId, upstream.nodeId, "the hub's server left upstream's answer to its client");
    const notified = new Promise((resolve) => hubClient.once('notification', resolve));
    await upstreamServer.notify(hub.nodeId, 'lsps5.ping', {});
    assert.deepEqual(await withTimeout(notified, 5000, 'the notification'), { peerId: upstream.nodeId, method: 'lsps5.ping', params: {} });
    assert.equal((await hubServerSeen.next('notification-ignored')).peerId, upstream.nodeId, 'ignored, not answered -32700');
    // Nothing bounced back to upstream: a probe from the hub is answered, and upstream saw nothing odd.
    assert.deepEqual(await hubClient.listProtocols(upstream.nodeId, { timeoutMs: 5000 }), [2]);
    assert.deepEqual(upstreamSeen.all, []);
    assert.equal(hubClient.stoppedReason(upstream.nodeId), undefined);
    assert.equal(walletClient.stoppedReason(hub.nodeId), undefined);
    hubClient.close();
    walletClient.close();
    await Promise.all([upstream.close(), hub.close(), wallet.close()]);
  });
});

describe('37913 is not consumed', () => {
  it('still reaches the custommsg listeners of the application on both sides', async () => {
    const { lsp, user, close } = await connected();
    server(lsp);
    const client = new Lsps0Client(user);
    const lspSaw = new Promise<CustomMessageEvent>((resolve) => lsp.on('custommsg', (m) => m.type === LSPS0 && resolve(m)));
    const userSaw = new Promise<CustomMessageEvent>((resolve) => user.on('custommsg', (m) => m.type === LSPS0 && resolve(m)));
    const stream = lsp.messages({ type: LSPS0 });
    await client.listProtocols(lsp.nodeId);
    assert.equal(JSON.parse(decoder.decode((await withTimeout(lspSaw, 5000, 'the request')).payload)).method, 'lsps0.list_protocols');
    assert.deepEqual(JSON.parse(decoder.decode((await withTimeout(userSaw, 5000, 'the answer')).payload)).result, { protocols: [1, 2] });
    const streamed = await withTimeout(stream.next(), 5000, 'messages()');
    assert.equal((streamed.value as CustomMessageEvent).peerId, user.nodeId);
    await stream.return?.();
    client.close();
    await close();
  });
});
