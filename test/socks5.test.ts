// dialSocks5 (RFC 1928, RFC 1929): against a scripted proxy that records what it was asked,
// then through Debian's microsocks and Dante with a BOLT 8 peer behind them. Loopback only.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dns from 'node:dns';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it, mock, type TestContext } from 'node:test';
import type { Connection } from '../src/connection.js';
import { LnPeerError, type LnPeerErrorCode } from '../src/errors.js';
import { PeerManager } from '../src/peer-manager.js';
import { dialSocks5, socks5ReplyName, type Socks5Proxy } from '../src/transports/socks5.js';
import { parseProxyUrl } from '../src/proxy.js';
import { deferred, listeningManager, next, rawPeer, typeOf, withTimeout } from './helpers.js';
import { missingOutsideCI, requirePartner } from './interop/availability.js';
import { closeAllPartners } from './interop/partner.js';

const ONION = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion'; // Tor's test_hs_common.c vector
const HELLO = 'fffb68656c6c6f'; // custom message type 0xfffb, "hello"

async function rejectsWith(promise: Promise<unknown>, code: LnPeerErrorCode, message?: RegExp): Promise<LnPeerError> {
  const err = await withTimeout(promise.then(() => undefined, (e: unknown) => e), 15_000, `a rejection with ${code}`);
  assert.ok(err instanceof LnPeerError, `expected an LnPeerError ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return err;
}

// ---------------------------------------------------------------------------------------
// A scripted SOCKS5 proxy

type Step = 'connect' | 'greeting' | 'auth' | 'request';

interface Script {
  /** The method to select; default 0x02 when the client offered it, else 0x00. */
  method?: number;
  /** RFC 1929 status; default 0 (success). */
  authStatus?: number;
  /** REP; default 0 (succeeded). */
  rep?: number;
  /** ATYP | BND.ADDR | BND.PORT; default IPv4 0.0.0.0:0 (as microsocks answers). */
  bound?: number[];
  /** Bytes sent in the same write as the reply, as the target's first bytes. */
  after?: string;
  /** Answer the greeting with these bytes instead (an HTTP server, say). */
  greetingReply?: string;
  /** Never answer after this step. */
  silentAfter?: Step;
  /** Close without answering after this step. */
  closeAfter?: Step;
  /** Send only this many bytes of the reply to CONNECT, then close. */
  partialReply?: number;
}

/** What one client asked the proxy. */
interface Seen {
  methods?: number[];
  username?: Buffer;
  password?: Buffer;
  cmd?: number;
  atyp?: number;
  address?: Buffer;
  port?: number;
  /** Resolves once the proxy read the CONNECT request. */
  requested: Promise<void>;
  /** Resolves once the client's socket is gone. */
  closed: Promise<void>;
}

async function scriptedProxy(t: TestContext, script: Script = {}): Promise<{ proxy: Socks5Proxy; seen: Seen[] }> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const requested = deferred<void>();
    const closed = deferred<void>();
    const record: Seen = { requested: requested.promise, closed: closed.promise };
    seen.push(record);
    socket.on('error', () => {});
    socket.on('close', () => closed.resolve());
    void play(socket, script, record, requested.resolve);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => closeServer(server, sockets));
  return { proxy: { host: '127.0.0.1', port: (server.address() as { port: number }).port }, seen };
}

async function play(socket: Socket, script: Script, seen: Seen, requested: () => void): Promise<void> {
  const { read, release } = exactReader(socket);
  const stop = (step: Step): boolean => {
    if (script.closeAfter === step) socket.destroy();
    return script.closeAfter === step || script.silentAfter === step;
  };
  if (stop('connect')) return;
  const [, nmethods] = await read(2);
  seen.methods = [...(await read(nmethods))];
  if (script.greetingReply !== undefined) return void socket.end(script.greetingReply);
  if (stop('greeting')) return;
  const method = script.method ?? (seen.methods.includes(2) ? 2 : 0);
  socket.write(Uint8Array.of(5, method));
  if (method === 0xff) return void socket.end();
  if (method === 2) {
    const [, ulen] = await read(2);
    seen.username = await read(ulen);
    seen.password = await read((await read(1))[0]);
    const status = script.authStatus ?? 0;
    socket.write(Uint8Array.of(1, status));
    if (status !== 0) return void socket.end();
    if (stop('auth')) return;
  }
  const [, cmd, , atyp] = await read(4);
  Object.assign(seen, { cmd, atyp });
  seen.address = await read(atyp === 1 ? 4 : atyp === 4 ? 16 : (await read(1))[0]);
  seen.port = (await read(2)).readUInt16BE();
  requested();
  if (stop('request')) return;
  const reply = Buffer.from([5, script.rep ?? 0, 0, ...(script.bound ?? [1, 0, 0, 0, 0, 0, 0])]);
  if (script.partialReply !== undefined) return void socket.end(reply.subarray(0, script.partialReply));
  socket.write(Buffer.concat([reply, Buffer.from(script.after ?? '')]));
  if (script.rep) return void socket.end();
  // Then an echo server stands for the target.
  socket.write(release());
  socket.pipe(socket);
}

/** `read(n)`: the next n bytes the socket receives, exactly; `release()` stops reading and returns what is left. */
function exactReader(socket: Socket): { read(n: number): Promise<Buffer>; release(): Buffer } {
  let buffered = Buffer.alloc(0);
  let want: { n: number; resolve(bytes: Buffer): void } | undefined;
  const check = () => {
    if (!want || buffered.length < want.n) return;
    const { n, resolve } = want;
    want = undefined;
    const bytes = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    resolve(bytes);
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    check();
  };
  socket.on('data', onData);
  return {
    read: (n) =>
      new Promise((resolve) => {
        want = { n, resolve };
        check();
      }),
    release() {
      socket.off('data', onData);
      return buffered;
    },
  };
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Everything `connection` receives, as text, and a way to wait for some of it. */
function collect(connection: Connection): { text: () => string; until(expected: string): Promise<void>; closed: Promise<void> } {
  let text = '';
  const closed = deferred<void>();
  let waiter: { expected: string; resolve(): void } | undefined;
  connection.open({
    data(chunk) {
      text += Buffer.from(chunk).toString('latin1');
      if (waiter && text.includes(waiter.expected)) waiter.resolve();
    },
    flushed() {},
    end() {},
    closed: () => closed.resolve(),
  });
  return {
    text: () => text,
    until: (expected) =>
      withTimeout(new Promise<void>((resolve) => (text.includes(expected) ? resolve() : (waiter = { expected, resolve }))), 5000, `"${expected}" through the proxy`),
    closed: closed.promise,
  };
}

describe('dialSocks5 against a scripted proxy', () => {
  it('sends .onion and DNS names as ATYP 3, exactly, and never looks them up locally', async (t) => {
    const { proxy, seen } = await scriptedProxy(t);
    const lookup = mock.method(dns, 'lookup');
    const promiseLookup = mock.method(dns.promises, 'lookup');
    t.after(() => mock.restoreAll());
    for (const host of [ONION, ONION.toUpperCase(), `www.${ONION}`, 'node.example.com', 'localhost', 'a'.repeat(255)]) {
      const connection = await dialSocks5(proxy, { host, port: 9735 });
      const last = seen.at(-1)!;
      assert.equal(last.atyp, 3, host);
      assert.equal(last.address!.toString('latin1'), host, 'the name goes as given, no NUL, no resolution');
      assert.equal(last.port, 9735);
      assert.equal(last.cmd, 1, 'CONNECT');
      assert.deepEqual(last.methods, [0], 'no credentials: "no authentication" only');
      connection.destroy();
    }
    assert.equal(lookup.mock.callCount() + promiseLookup.mock.callCount(), 0, 'no local DNS lookup (no leak)');
    // The mock does see net's lookups: a proxy given by name is looked up, the target still is not.
    (await dialSocks5({ ...proxy, host: 'localhost' }, { host: ONION, port: 9735 })).destroy();
    assert.deepEqual(lookup.mock.calls.map((call) => call.arguments[0]), ['localhost']);
    assert.equal(seen.at(-1)!.address!.toString('latin1'), ONION);
  });

  it('sends IPv4 literals as ATYP 1 and IPv6 literals as ATYP 4', async (t) => {
    const { proxy, seen } = await scriptedProxy(t);
    const cases: [string, number, string][] = [
      ['203.0.113.7', 1, 'cb007107'],
      ['127.0.0.1', 1, '7f000001'],
      ['2001:db8::1', 4, '20010db8000000000000000000000001'],
      ['[::1]', 4, '00000000000000000000000000000001'],
      ['::ffff:192.0.2.1', 4, '00000000000000000000ffffc0000201'],
    ];
    for (const [host, atyp, address] of cases) {
      (await dialSocks5(proxy, { host, port: 65535 })).destroy();
      assert.equal(seen.at(-1)!.atyp, atyp, host);
      assert.equal(seen.at(-1)!.address!.toString('hex'), address, host);
      assert.equal(seen.at(-1)!.port, 65535);
    }
    // Not dotted-quad (leading zeros, short forms): a name, for the proxy to judge.
    (await dialSocks5(proxy, { host: '127.1', port: 1 })).destroy();
    assert.equal(seen.at(-1)!.atyp, 3);
  });

  it('authenticates with username/password (RFC 1929), offering only that method', async (t) => {
    const { proxy, seen } = await scriptedProxy(t);
    const connection = await dialSocks5({ ...proxy, username: 'peer-02ab…', password: 'pässwörd' }, { host: ONION, port: 9735 });
    connection.destroy();
    assert.deepEqual(seen[0].methods, [2]);
    assert.equal(seen[0].username!.toString('utf8'), 'peer-02ab…');
    assert.equal(seen[0].password!.toString('hex'), Buffer.from('pässwörd', 'utf8').toString('hex'));
    assert.equal(seen[0].atyp, 3);
    // 255 bytes is the most RFC 1929 allows.
    (await dialSocks5({ ...proxy, username: 'u'.repeat(255), password: 'p'.repeat(255) }, { host: ONION, port: 1 })).destroy();
    assert.equal(seen[1].username!.length, 255);
    assert.equal(seen[1].password!.length, 255);
  });

  it('rejects a refused username/password, closing the socket', async (t) => {
    const { proxy, seen } = await scriptedProxy(t, { authStatus: 1 });
    const err = await rejectsWith(dialSocks5({ ...proxy, username: 'a', password: 'wrong' }, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /the proxy refused the username\/password \(RFC 1929 status 0x01\)/);
    assert.equal(err.details.stage, 'proxy');
    assert.equal(err.details.step, 'auth');
    assert.equal(err.details.status, 1);
    assert.doesNotMatch(err.message + JSON.stringify(err.details), /wrong/, 'the password is never shown');
    await withTimeout(seen[0].closed, 5000, 'the socket closes');
  });

  it('rejects "no acceptable methods" (0xFF), saying what was offered', async (t) => {
    const { proxy } = await scriptedProxy(t, { method: 0xff });
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /no acceptable methods \(0xFF\): it was offered "no authentication" only; it probably needs a username and password/);
    await rejectsWith(dialSocks5({ ...proxy, username: 'a', password: 'b' }, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /no acceptable methods \(0xFF\): it was offered username\/password \(RFC 1929\) only/);
  });

  it('rejects a method that was not offered', async (t) => {
    const { proxy } = await scriptedProxy(t, { method: 2 });
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /chose authentication method 0x2, which was not offered/);
  });

  const REPLIES: [number, string][] = [
    [0x01, 'general SOCKS server failure'],
    [0x02, 'connection not allowed by ruleset'],
    [0x03, 'Network unreachable'],
    [0x04, 'Host unreachable'],
    [0x05, 'Connection refused'],
    [0x06, 'TTL expired'],
    [0x07, 'Command not supported'],
    [0x08, 'Address type not supported'],
    [0x09, 'unassigned reply code 0x09'],
    [0xf0, 'Tor: onion service descriptor can not be found'],
    [0xf4, 'Tor: onion service missing client authorization'],
    [0xf6, 'Tor: onion service invalid address'],
    [0xf7, 'Tor: onion service introduction timed out'],
  ];
  for (const [rep, name] of REPLIES) {
    it(`names reply 0x${rep.toString(16).padStart(2, '0')}: ${name}`, async (t) => {
      const { proxy, seen } = await scriptedProxy(t, { rep });
      const err = await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED');
      const hex = rep.toString(16).padStart(2, '0');
      assert.equal(err.message, `SOCKS5 proxy ${proxy.host}:${proxy.port}: could not connect to ${ONION}:9735: ${name} (reply 0x${hex})`);
      assert.deepEqual(err.details, { stage: 'proxy', proxy: `${proxy.host}:${proxy.port}`, host: ONION, port: 9735, step: 'request', reply: rep });
      assert.equal(socks5ReplyName(rep), name);
      await withTimeout(seen[0].closed, 5000, 'the socket closes');
    });
  }

  it('rejects a proxy that closes early, at each step', async (t) => {
    const cases: [Script, RegExp][] = [
      [{ closeAfter: 'connect' }, /closed the connection before its method selection reply/],
      [{ closeAfter: 'greeting' }, /closed the connection before its method selection reply/],
      [{ closeAfter: 'request' }, /closed the connection before its reply to CONNECT/],
      [{ partialReply: 1 }, /closed the connection before its reply to CONNECT/],
      [{ partialReply: 3 }, /closed the connection before its bound address type/],
      [{ partialReply: 7 }, /closed the connection before its bound address/],
      [{ partialReply: 9 }, /closed the connection before its bound address/],
    ];
    for (const [script, message] of cases) {
      const { proxy } = await scriptedProxy(t, script);
      const err = await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', message);
      assert.equal(err.details.stage, 'proxy');
    }
    const { proxy } = await scriptedProxy(t, { closeAfter: 'auth' });
    await rejectsWith(dialSocks5({ ...proxy, username: 'a', password: 'b' }, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /closed the connection before its reply to CONNECT/);
  });

  it('times out on a proxy that never answers, naming the step, and closes the socket', async (t) => {
    for (const silentAfter of ['greeting', 'request'] as const) {
      const { proxy, seen } = await scriptedProxy(t, { silentAfter });
      const started = Date.now();
      const err = await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }, { timeoutMs: 200 }), 'TIMEOUT', new RegExp(`did not connect to ${ONION}:9735 within 200 ms \\(step: ${silentAfter}\\)`));
      assert.ok(Date.now() - started >= 190);
      assert.equal(err.details.stage, 'proxy');
      assert.equal(err.details.step, silentAfter);
      assert.equal(err.details.timeoutMs, 200);
      await withTimeout(seen[0].closed, 5000, 'the socket closes');
    }
  });

  it('aborts, before and during the negotiation, closing the socket', async (t) => {
    const { proxy, seen } = await scriptedProxy(t, { silentAfter: 'request' });
    const controller = new AbortController();
    const dialing = dialSocks5(proxy, { host: ONION, port: 9735 }, { signal: controller.signal });
    await withTimeout(Promise.resolve().then(async () => {
      while (!seen[0]) await new Promise((r) => setTimeout(r, 2));
      await seen[0].requested;
    }), 5000, 'the CONNECT request');
    controller.abort(new Error('user gave up'));
    await rejectsWith(dialing, 'ABORTED', /through the SOCKS5 proxy .* was aborted: user gave up/);
    await withTimeout(seen[0].closed, 5000, 'the socket closes');
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }, { signal: AbortSignal.abort() }), 'ABORTED');
    assert.equal(seen.length, 1, 'an aborted signal connects nowhere');
  });

  it('keeps the bytes that arrive with the reply, whatever the bound address type', async (t) => {
    const bounds: number[][] = [
      [1, 0, 0, 0, 0, 0, 0],
      [4, ...new Array<number>(16).fill(0xab), 0x26, 0x07],
      [3, 5, ...Buffer.from('proxy'), 0x26, 0x07],
      [3, 62, ...Buffer.from(ONION), 0x93, 0xc7], // Dante names the target in its replies
    ];
    for (const bound of bounds) {
      const { proxy } = await scriptedProxy(t, { bound, after: 'first bytes of act two' });
      const connection = await dialSocks5(proxy, { host: ONION, port: 9735 });
      await new Promise((r) => setTimeout(r, 20)); // read late: nothing is lost meanwhile
      const received = collect(connection);
      await received.until('first bytes of act two');
      assert.equal(received.text(), 'first bytes of act two', `nothing of the reply leaks into the stream (ATYP ${bound[0]})`);
      connection.write(Buffer.from(' and back')); // the proxy echoes
      await received.until('act two and back');
      connection.destroy();
      await withTimeout(received.closed, 5000, 'closed');
    }
  });

  it('says so when the proxy is not SOCKS5', async (t) => {
    const { proxy } = await scriptedProxy(t, { greetingReply: 'HTTP/1.1 400 Bad Request\r\n\r\n' });
    const err = await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /answered with version 72 \("H": an HTTP server\?\), not 5: is it a SOCKS5 proxy\?/);
    assert.equal(err.details.step, 'greeting');
    const { proxy: socks4ish } = await scriptedProxy(t, { greetingReply: '\x00\x5a' });
    await rejectsWith(dialSocks5(socks4ish, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /answered with version 0, not 5/);
  });

  it('rejects an undefined bound address type', async (t) => {
    const { proxy } = await scriptedProxy(t, { bound: [9, 0, 0] });
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /its reply has address type 9, which RFC 1928 does not define/);
  });

  it('reports a proxy that is not listening', async () => {
    const port = await closedPort();
    const err = await rejectsWith(dialSocks5({ host: '127.0.0.1', port }, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /could not connect to the proxy: .*ECONNREFUSED/);
    assert.equal(err.details.stage, 'proxy');
    assert.equal(err.details.step, 'connect');
  });

  it('checks its arguments before connecting anywhere', async (t) => {
    const { proxy, seen } = await scriptedProxy(t);
    const target = { host: ONION, port: 9735 };
    await rejectsWith(dialSocks5({ ...proxy, username: 'u'.repeat(256), password: 'p' }, target), 'INVALID_ARGUMENT', /username must be a string of 1 to 255 bytes in UTF-8 \(RFC 1929\), got 256 bytes/);
    await rejectsWith(dialSocks5({ ...proxy, username: 'u', password: 'é'.repeat(128) }, target), 'INVALID_ARGUMENT', /password .* got 256 bytes/);
    await rejectsWith(dialSocks5({ ...proxy, username: '', password: 'p' }, target), 'INVALID_ARGUMENT', /got 0 bytes/);
    await rejectsWith(dialSocks5({ ...proxy, username: 'u' }, target), 'INVALID_ARGUMENT', /both a username and a password, or neither/);
    await rejectsWith(dialSocks5({ ...proxy, port: 0 }, target), 'INVALID_ARGUMENT', /proxy port/);
    await rejectsWith(dialSocks5(proxy, target, { timeoutMs: -1 }), 'INVALID_ARGUMENT', /timeoutMs/);
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 0 }), 'INVALID_ADDRESS', /target port/);
    await rejectsWith(dialSocks5(proxy, { host: 'l5satjgud6gucryazcyvyvhuxhr74u6ygigiuyixe3a6ysis67ororad.onion', port: 9735 }), 'INVALID_ADDRESS', /not a valid onion address: checksum mismatch.*a typo\?/);
    await rejectsWith(dialSocks5(proxy, { host: 'expyuzz4wqqyqhjn.onion', port: 9735 }), 'INVALID_ADDRESS', /Tor v2 address/);
    await rejectsWith(dialSocks5(proxy, { host: 'exämple.com', port: 9735 }), 'INVALID_ADDRESS', /Punycode/);
    await rejectsWith(dialSocks5(proxy, { host: 'a'.repeat(256), port: 9735 }), 'INVALID_ADDRESS', /1 to 255/);
    await rejectsWith(dialSocks5(proxy, { host: '', port: 9735 }), 'INVALID_ADDRESS');
    await rejectsWith(dialSocks5(proxy, null as unknown as { host: string; port: number }), 'INVALID_ARGUMENT', /target must be an object/);
    await rejectsWith(dialSocks5(null as unknown as Socks5Proxy, target), 'INVALID_ARGUMENT', /proxy must be an object/);
    assert.equal(seen.length, 0, 'nothing reached the proxy');
  });
});

describe('parseProxyUrl', () => {
  it('parses socks5:// URLs', () => {
    assert.deepEqual(parseProxyUrl('socks5://127.0.0.1:9050'), { host: '127.0.0.1', port: 9050 });
    assert.deepEqual(parseProxyUrl('socks5h://tor:9050'), { host: 'tor', port: 9050 });
    assert.deepEqual(parseProxyUrl('SOCKS5://[::1]:1080/'), { host: '::1', port: 1080 });
    assert.deepEqual(parseProxyUrl('socks5://peer1:s3cret@127.0.0.1:9050'), { host: '127.0.0.1', port: 9050, username: 'peer1', password: 's3cret' });
    assert.deepEqual(parseProxyUrl('socks5://a%40b:p%3Aw%2Fd@localhost:1080'), { host: 'localhost', port: 1080, username: 'a@b', password: 'p:w/d' });
  });
  it('refuses anything else with INVALID_ARGUMENT, never echoing a password', () => {
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:8080', /has scheme "http", not socks5/],
      ['socks4://127.0.0.1:1080', /not socks5/],
      ['socks5://127.0.0.1', /has no port \(Tor listens on 9050/],
      ['socks5://127.0.0.1:9050/path', /has a path/],
      ['socks5://127.0.0.1:70000', /is not a URL/],
      ['127.0.0.1:9050', /not socks5|not a URL/],
      ['socks5://user@127.0.0.1:9050', /both a username and a password|1 to 255 bytes/],
      ['socks5://user:@127.0.0.1:9050', /password must be a string of 1 to 255 bytes/],
      [`socks5://u:${'p'.repeat(256)}@127.0.0.1:9050`, /password must be a string of 1 to 255 bytes/],
      ['socks5://u:topsecret@127.0.0.1', /"socks5:\/\/\*\*\*@127\.0\.0\.1" has no port/],
    ];
    for (const [url, message] of cases) {
      assert.throws(
        () => parseProxyUrl(url),
        (err: unknown) => err instanceof LnPeerError && err.code === 'INVALID_ARGUMENT' && message.test(err.message) && !/topsecret/.test(err.message + JSON.stringify(err.details)),
        url,
      );
    }
    assert.throws(() => parseProxyUrl(9050 as unknown as string), /must be a string/);
  });
});

// ---------------------------------------------------------------------------------------
// Real SOCKS5 servers from Debian, a BOLT 8 peer behind them

/** The path of a Debian program, or `undefined` after `t.skip` (outside CI; in CI: a failure). */
function debianProgram(t: TestContext, program: string, pkg: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  const found = dirs.filter((dir) => dir.startsWith('/')).map((dir) => join(dir, program)).find((path) => existsSync(path));
  if (found) return found;
  const message = `${program} is missing: to run these tests, apt-get install ${pkg}`;
  missingOutsideCI(t, message, 'server');
  return undefined;
}

/** A port nothing listens on (the OS picked it, then it was closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `program args` (which listens on `port`), waits until it accepts connections, stops it after the test. */
async function startServer(t: TestContext, program: string, args: string[], port: number): Promise<void> {
  const child: ChildProcess = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    child.kill('SIGTERM');
    await withTimeout(exited, 5000, `${program} exits`);
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${program} ${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: '127.0.0.1', port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${program} did not listen on port ${port} within 10 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** microsocks on a free loopback port, with credentials when given. */
async function microsocks(t: TestContext, credentials?: { username: string; password: string }): Promise<Socks5Proxy | undefined> {
  const program = debianProgram(t, 'microsocks', 'microsocks');
  if (!program) return undefined;
  const port = await closedPort();
  const auth = credentials ? ['-u', credentials.username, '-P', credentials.password] : [];
  await startServer(t, program, ['-i', '127.0.0.1', '-p', String(port), ...auth], port);
  return { host: '127.0.0.1', port };
}

/** Dante (danted) on a free loopback port, no authentication. */
async function dante(t: TestContext): Promise<Socks5Proxy | undefined> {
  const program = debianProgram(t, 'danted', 'dante-server');
  if (!program) return undefined;
  const port = await closedPort();
  const workdir = mkdtempSync(join(tmpdir(), 'lnpeer-dante-'));
  t.after(() => rmSync(workdir, { recursive: true, force: true }));
  const config = join(workdir, 'danted.conf');
  writeFileSync(
    config,
    [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      'clientmethod: none',
      'socksmethod: none',
      'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
      'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
      '',
    ].join('\n'),
  );
  await startServer(t, program, ['-f', config, '-N', '1', '-p', join(workdir, 'danted.pid')], port);
  return { host: '127.0.0.1', port };
}

/** Alice listens on loopback; Bob reaches her through `proxy` and they exchange a custom message each way. */
async function tunnelToPeerManager(t: TestContext, proxy: Socks5Proxy, host = '127.0.0.1'): Promise<void> {
  const { pm: alice, port } = await listeningManager();
  const bob = new PeerManager();
  t.after(async () => {
    await bob.close();
    await alice.close();
  });
  const connection = await dialSocks5(proxy, { host, port }, { timeoutMs: 10_000 });
  const info = await bob.connectStream(connection, alice.nodeId, { timeoutMs: 10_000 });
  assert.equal(info.peerId, alice.nodeId);

  const atAlice = next(alice, 'custommsg');
  await bob.sendCustomMsg(alice.nodeId, HELLO);
  const toAlice = await atAlice;
  assert.equal(toAlice.peerId, bob.nodeId);
  assert.equal(toAlice.type, 0xfffb);
  assert.equal(Buffer.from(toAlice.payload).toString(), 'hello');

  const atBob = next(bob, 'custommsg');
  await alice.sendCustomMsg(bob.nodeId, 'fffd776f726c64'); // 0xfffd "world"
  const toBob = await atBob;
  assert.equal(toBob.peerId, alice.nodeId);
  assert.equal(toBob.type, 0xfffd);
  assert.equal(Buffer.from(toBob.payload).toString(), 'world');
}

describe('through microsocks (Debian package microsocks)', () => {
  it('tunnels BOLT 8 to a PeerManager: handshake, init, a custom message each way', async (t) => {
    const proxy = await microsocks(t);
    if (proxy) await tunnelToPeerManager(t, proxy);
  });

  it('tunnels to a DNS name the proxy resolves (ATYP 3: localhost)', async (t) => {
    const proxy = await microsocks(t);
    if (proxy) await tunnelToPeerManager(t, proxy, 'localhost');
  });

  it('carries a bare Peer.initiator handshake', async (t) => {
    const proxy = await microsocks(t);
    if (!proxy) return;
    const { pm: alice, port } = await listeningManager();
    t.after(() => alice.close());
    const connection = await dialSocks5(proxy, { host: '127.0.0.1', port }, { timeoutMs: 10_000 });
    const connected = next(alice, 'peer:connect');
    const { peer, received, sendInit } = await rawPeer(alice.nodeId, connection); // Peer.initiator(connection, { peerId, localKey })
    t.after(() => peer.close());
    await sendInit();
    const { peerId } = await connected;
    const custom = next(alice, 'custommsg');
    await peer.send(Buffer.from(HELLO, 'hex'));
    assert.equal(Buffer.from((await custom).payload).toString(), 'hello');
    await alice.sendCustomMsg(peerId, 'fffb6f6b');
    await withTimeout((async () => {
      while (!received.some((m) => typeOf(m) === 0xfffb)) await new Promise((r) => setTimeout(r, 5));
    })(), 5000, 'the reply through the proxy');
  });

  it('authenticates with username/password', async (t) => {
    const credentials = { username: 'alice', password: 's3cret' };
    const proxy = await microsocks(t, credentials);
    if (proxy) await tunnelToPeerManager(t, { ...proxy, ...credentials });
  });

  it('rejects wrong credentials, and none, with typed errors', async (t) => {
    const proxy = await microsocks(t, { username: 'alice', password: 's3cret' });
    if (!proxy) return;
    const { pm: alice, port } = await listeningManager();
    t.after(() => alice.close());
    const target = { host: '127.0.0.1', port };
    const wrong = await rejectsWith(dialSocks5({ ...proxy, username: 'alice', password: 'nope' }, target), 'CONNECTION_FAILED', /the proxy refused the username\/password \(RFC 1929 status 0x02\)/);
    assert.equal(wrong.details.stage, 'proxy');
    await rejectsWith(dialSocks5(proxy, target), 'CONNECTION_FAILED', /no acceptable methods \(0xFF\): it was offered "no authentication" only/);
  });

  it('refuses credentials when it runs without them (it accepts "no authentication" only)', async (t) => {
    const proxy = await microsocks(t);
    if (!proxy) return;
    await rejectsWith(dialSocks5({ ...proxy, username: 'a', password: 'b' }, { host: '127.0.0.1', port: 9 }), 'CONNECTION_FAILED', /no acceptable methods \(0xFF\): it was offered username\/password \(RFC 1929\) only/);
  });

  it('names its reply for a closed target port: Connection refused', async (t) => {
    const proxy = await microsocks(t);
    if (!proxy) return;
    const port = await closedPort();
    const err = await rejectsWith(dialSocks5(proxy, { host: '127.0.0.1', port }), 'CONNECTION_FAILED', new RegExp(`could not connect to 127\\.0\\.0\\.1:${port}: Connection refused \\(reply 0x05\\)`));
    assert.equal(err.details.reply, 5);
    assert.equal(err.details.stage, 'proxy');
  });

  it('answers an .onion name (it is no Tor: it tries to resolve it) with a general failure', async (t) => {
    const proxy = await microsocks(t);
    if (!proxy) return;
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /general SOCKS server failure \(reply 0x01\)/);
  });
});

describe('through Dante (Debian package dante-server)', () => {
  it('tunnels BOLT 8 to a PeerManager: handshake, init, a custom message each way', async (t) => {
    const proxy = await dante(t);
    if (proxy) await tunnelToPeerManager(t, proxy);
  });

  it('names its reply for a closed target port: Connection refused', async (t) => {
    const proxy = await dante(t);
    if (!proxy) return;
    const port = await closedPort();
    await rejectsWith(dialSocks5(proxy, { host: '127.0.0.1', port }), 'CONNECTION_FAILED', /Connection refused \(reply 0x05\)/);
  });

  it('answers an .onion name with Host unreachable, its reply naming the target (ATYP 3)', async (t) => {
    const proxy = await dante(t);
    if (!proxy) return;
    await rejectsWith(dialSocks5(proxy, { host: ONION, port: 9735 }), 'CONNECTION_FAILED', /Host unreachable \(reply 0x04\)/);
  });
});

describe('PeerManager with a proxy: the proxy, alwaysUseProxy and isolateProxyStreams options', () => {
  const someone = () => new PeerManager().nodeId;

  it('an .onion address goes to the proxy as a name (ATYP 3), never to the local resolver; the refusal names the proxy\'s reply', async (t) => {
    const { proxy, seen } = await scriptedProxy(t, { rep: 0x04 });
    const lookups = countLookups(t);
    const pm = new PeerManager({ proxy: `socks5://127.0.0.1:${proxy.port}` });
    t.after(() => pm.close());
    const error = await rejectsWith(pm.connect(`${someone()}@${ONION}:9735`), 'CONNECTION_FAILED', /Host unreachable/);
    assert.equal(error.details.stage, 'proxy');
    assert.deepEqual({ atyp: seen[0].atyp, name: seen[0].address?.toString(), port: seen[0].port }, { atyp: 3, name: ONION, port: 9735 });
    assert.equal(lookups(), 0, 'nothing was resolved locally');
  });

  it('without a proxy an .onion address is refused at once; a mistyped one is refused by its checksum', async () => {
    const pm = new PeerManager();
    await rejectsWith(pm.connect(`${someone()}@${ONION}:9735`), 'INVALID_ADDRESS', /reached only through a SOCKS5 proxy/);
    await rejectsWith(pm.connect(`${someone()}@${ONION.replace('25nj', '25nk')}:9735`), 'INVALID_ADDRESS', /checksum/);
    await pm.close();
  });

  it('isolateProxyStreams: each peer gets credentials of its own (Tor builds a circuit per peer)', async (t) => {
    const { proxy, seen } = await scriptedProxy(t, { rep: 0x04 });
    const pm = new PeerManager({ proxy, isolateProxyStreams: true });
    t.after(() => pm.close());
    const [a, b] = [someone(), someone()];
    await rejectsWith(pm.connect(`${a}@${ONION}:9735`), 'CONNECTION_FAILED');
    await rejectsWith(pm.connect(`${b}@${ONION}:9735`), 'CONNECTION_FAILED');
    assert.deepEqual(seen.map((s) => s.username?.toString()), [`lnpeer-${a}`, `lnpeer-${b}`]);
    assert.equal(seen[0].password?.toString(), seen[1].password?.toString());
    assert.equal(seen[0].password?.length, 32);
  });

  it('alwaysUseProxy: a DNS name goes to the proxy, unresolved; through microsocks, custom messages cross to another lnpeer', async (t) => {
    const recorded = await scriptedProxy(t, { rep: 0x05 });
    const pm = new PeerManager({ proxy: recorded.proxy, alwaysUseProxy: true });
    t.after(() => pm.close());
    await rejectsWith(pm.connect(`${someone()}@node.example.com:9735`), 'CONNECTION_FAILED', /Connection refused/);
    assert.deepEqual({ atyp: recorded.seen[0].atyp, name: recorded.seen[0].address?.toString() }, { atyp: 3, name: 'node.example.com' });

    const proxy = await microsocks(t);
    if (!proxy) return;
    const { pm: alice, port } = await listeningManager();
    const bob = new PeerManager({ proxy, alwaysUseProxy: true });
    t.after(() => Promise.all([alice.close(), bob.close()]));
    await bob.connect(`${alice.nodeId}@localhost:${port}`);
    const atAlice = next(alice, 'custommsg');
    await bob.sendCustomMsg(alice.nodeId, HELLO);
    assert.equal((await atAlice).peerId, bob.nodeId);
  });

  it('through microsocks with credentials, to Core Lightning: a custom message each way', async (t) => {
    const cln = await requirePartner(t, 'cln');
    if (!cln) return;
    const proxy = await microsocks(t, { username: 'lnpeer', password: 'secret' });
    if (!proxy) return;
    t.after(closeAllPartners); // the node
    const node = await cln.start();
    const listener = await node.listen();
    const pm = new PeerManager({ proxy: `socks5://lnpeer:secret@127.0.0.1:${proxy.port}`, alwaysUseProxy: true, pingIntervalMs: 0 });
    t.after(() => pm.close());
    await pm.connect(`${node.nodeId}@127.0.0.1:${node.port}`);
    const partner = await listener.accepted;
    await pm.sendCustomMsg(node.nodeId, HELLO);
    assert.equal(Buffer.from(await partner.nextMessage()).toString('hex'), HELLO);
    const back = next(pm, 'custommsg');
    await partner.send(Uint8Array.from([0xff, 0xf9, 1]));
    assert.equal((await back).type, 0xfff9);
    const wrong = new PeerManager({ proxy: `socks5://lnpeer:wrong@127.0.0.1:${proxy.port}`, alwaysUseProxy: true });
    t.after(() => wrong.close());
    await rejectsWith(wrong.connect(`${node.nodeId}@127.0.0.1:${node.port}`), 'CONNECTION_FAILED', /refused the username\/password/);
  });
});

/** Counts the host names looked up through `dns.lookup` (what net.connect uses) from now on. */
function countLookups(t: TestContext): () => number {
  let count = 0;
  const original = dns.lookup;
  (dns as { lookup: unknown }).lookup = (...args: Parameters<typeof dns.lookup>) => {
    count++;
    return (original as (...a: unknown[]) => unknown)(...args);
  };
  t.after(() => void ((dns as { lookup: unknown }).lookup = original));
  return () => count;
}
