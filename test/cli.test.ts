// The lnpeer command line: a listening instance and a second instance that connects and sends.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from './helpers.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const LISTENER_KEY = '11'.repeat(32);
const CLIENT_KEY = '22'.repeat(32);
const children: ChildProcessWithoutNullStreams[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function cli(args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [...FROM_SOURCE, 'src/cli.ts', ...args], { cwd: repo, env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

/** Runs the CLI to its end: exit code, JSON lines of stdout, stderr. */
async function run(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<{ code: number; events: Array<Record<string, unknown>>; stdout: string; stderr: string }> {
  const child = cli(args, options.env);
  child.stdin.end(options.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const events = stdout.startsWith('{') ? stdout.trim().split('\n').map((line) => JSON.parse(line)) : [];
  return { code, events, stdout, stderr };
}

/** Starts `lnpeer listen --echo` and returns its address and its event stream. */
async function listener(): Promise<{ address: string; nodeId: string; child: ChildProcessWithoutNullStreams; lines: string[] }> {
  const child = cli(['listen', '--port', '0', '--echo'], { LNPEER_PRIVATE_KEY: LISTENER_KEY });
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve) => reader.once('line', resolve));
  lines.push(first);
  reader.on('line', (line) => lines.push(line));
  const listening = JSON.parse(first);
  assert.equal(listening.event, 'listening');
  return { address: listening.address, nodeId: listening.nodeId, child, lines };
}

describe('lnpeer CLI', () => {
  it('listen, then connect from a second instance: messages cross and come back; keys are never printed', async () => {
    const server = await listener();
    assert.match(server.address, /^03[0-9a-f]{64}@127\.0\.0\.1:\d+$/);
    const keyFile = join(mkdtempSync(join(tmpdir(), 'lnpeer-cli-')), 'key');
    writeFileSync(keyFile, `${CLIENT_KEY}\n`);
    const result = await run(['connect', server.address, '--send', 'fff168656c6c6f', '--send', 'fff3', '--wait', '300', '--key-file', keyFile]);
    assert.equal(result.code, 0, result.stderr);
    const byEvent = (name: string) => result.events.filter((e) => e.event === name);
    assert.equal(byEvent('peer:connect').length, 1);
    assert.deepEqual(byEvent('sent').map((e) => e.type), [0xfff1, 0xfff3]);
    assert.deepEqual(byEvent('custommsg').map((e) => [e.type, e.payload, e.peerId]), [
      [0xfff1, '68656c6c6f', server.nodeId],
      [0xfff3, '', server.nodeId],
    ]);
    server.child.kill('SIGTERM');
    const code = await new Promise((resolve) => server.child.on('close', resolve));
    assert.equal(code, 0);
    const serverOutput = server.lines.join('\n');
    assert.match(serverOutput, /"event":"custommsg".*"payload":"68656c6c6f"/);
    for (const text of [result.stdout, result.stderr, serverOutput]) {
      assert.ok(!text.includes(CLIENT_KEY) && !text.includes(LISTENER_KEY), 'a private key was printed');
    }
  });

  it('send reads messages from standard input, reports a bad line, and exits 1', async () => {
    const server = await listener();
    const result = await run(['send', server.address, '--wait', '300'], { stdin: 'fff101\nnot-hex\n\nfff102\n0010\n' });
    assert.equal(result.code, 1);
    const events = result.events.filter((e) => e.event !== 'peer:connect' && e.event !== 'peer:disconnect');
    const sent = events.filter((e) => e.event === 'sent').map((e) => e.type);
    const errors = events.filter((e) => e.event === 'error').map((e) => e.code);
    const echoed = events.filter((e) => e.event === 'custommsg').map((e) => e.payload);
    assert.deepEqual(sent, [0xfff1, 0xfff1]);
    assert.deepEqual(errors, ['INVALID_HEX', 'INTERNAL_TYPE']);
    assert.deepEqual(echoed, ['01', '02']);
    server.child.kill('SIGTERM');
  });

  it('fails with exit code 1 and an error line when the node cannot be reached', async () => {
    const result = await run(['connect', `${'02'.padEnd(66, '1')}@127.0.0.1:1`]);
    assert.equal(result.code, 1);
    assert.equal(result.events.at(-1)?.event, 'error');
    assert.ok(['CONNECTION_FAILED', 'INVALID_NODE_ID'].includes(String(result.events.at(-1)?.code)));
  });

  it('has --help for every command, and exit code 2 for a wrong command line', async () => {
    for (const command of [[], ['listen'], ['connect'], ['send']]) {
      const result = await run([...command, '--help']);
      assert.equal(result.code, 0);
      assert.match(result.stdout, /^Usage: lnpeer/);
    }
    for (const args of [['bogus'], ['connect', '--nope'], ['connect'], ['listen', '--port', 'x'], []]) {
      const result = await run(args);
      assert.equal(result.code, 2, args.join(' '));
    }
    const wrong = await run(['connect', '--nope']);
    assert.match(wrong.stderr, /Unknown option '--nope'/);
  });
  it('connect takes .onion names with --proxy (the proxy named in the error) and refuses a mistyped one', async () => {
    const node = `${'02'}${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`;
    const onion = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid.onion';
    const typo = await run(['connect', `${node}@${onion.replace('25nj', '25nk')}:9735`, '--proxy', 'socks5://127.0.0.1:9']);
    assert.equal(typo.code, 1);
    assert.deepEqual([typo.events[0].event, typo.events[0].code], ['error', 'INVALID_ADDRESS']);
    assert.match(String(typo.events[0].message), /checksum/);
    const noProxy = await run(['connect', `${node}@${onion}:9735`]);
    assert.match(String(noProxy.events.at(-1)?.message), /reached only through a SOCKS5 proxy/);
    const closedProxy = await run(['connect', `${node}@${onion}:9735`, '--proxy', 'socks5://127.0.0.1:9']);
    assert.equal(closedProxy.code, 1);
    assert.deepEqual([closedProxy.events.at(-1)?.code], ['CONNECTION_FAILED']);
    assert.match(String(closedProxy.events.at(-1)?.message), /^SOCKS5 proxy 127\.0\.0\.1:9: could not connect to the proxy/);
  });
});
