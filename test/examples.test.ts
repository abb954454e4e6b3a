// Every example in examples/ and the README's example run as a user would run them.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FROM_SOURCE } from './helpers.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const tsx = (args: string[]) => promisify(execFile)(process.execPath, [...FROM_SOURCE, ...args], { cwd: repo, timeout: 30_000 });

describe('examples', () => {
  it('npm run demo: both directions, a request/response, a validation error, exit 0', async () => {
    const { stdout } = await tsx(['examples/demo.ts']);
    assert.match(stdout, /alice received type fff1 from .*"hello alice"/);
    assert.match(stdout, /bob received type fff1 from .*"hello bob"/);
    assert.match(stdout, /bob received type fff5 from .*"17 characters"/);
    assert.match(stdout, /LnPeerError \[INTERNAL_TYPE\]: type 18 is the BOLT message ping/);
    assert.match(stdout, /8\. both closed; done/);
  });

  it('echo-server.ts echoes, and core-lightning.ts talks to it as to a node', async () => {
    const server = spawn(process.execPath, [...FROM_SOURCE, 'examples/echo-server.ts', '0'], { cwd: repo });
    try {
      const first = await new Promise<string>((resolve) => createInterface({ input: server.stdout }).once('line', resolve));
      const address = /^echo server at (\S+)$/.exec(first)?.[1];
      assert.ok(address, first);
      const { stdout } = await tsx(['examples/core-lightning.ts', address, 'fff3c0ffee']);
      assert.match(stdout, /^connected to [0-9a-f]{66}, its features: 1, 9, 13, 15, 45$/m);
      assert.match(stdout, /^sent fff3c0ffee$/m);
      assert.match(stdout, /^received type fff3: c0ffee$/m);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('request-response.ts matches answers to requests', async () => {
    const { stdout } = await tsx(['examples/request-response.ts']);
    assert.equal(stdout, '{"sum":6}\n{"sum":42}\n{"error":"unknown method mul"}\n');
  });

  it('lsps0.ts: an LSP and a client, calls, errors and a notification (bLIP-50)', async () => {
    const { stdout } = await tsx(['examples/lsps0.ts']);
    assert.equal(
      stdout,
      [
        'LSP listening, features 1, 9, 13, 15, 45, 729',
        'connected; the LSP advertises LSPS (bit 729): true',
        'lsps0.list_protocols -> [1]',
        'lsps1.get_info -> {"min_channel_balance_sat":"50000","max_channel_balance_sat":"16777215"}',
        'lsps1.get_order -> {"order_id":"order-1","order_state":"CREATED"}',
        'notification lsps1.order_paid {"order_id":"order-1"}',
        'lsps1.get_order -> error 101 Not found {"order_id":"nope"}',
        'lsps1.get_order -> error -32602 Invalid params {"unrecognized":["future_param"]}',
        'lsps2.get_info -> error -32601 Method not found',
        'done',
        '',
      ].join('\n'),
    );
  });

  it('feature-bit.ts speaks the protocol only to a peer that offers the bit', async () => {
    const { stdout } = await tsx(['examples/feature-bit.ts']);
    assert.equal(
      stdout,
      'a wallet that speaks swaps: provider offers 301: true; client offers it: true\n' +
        'provider got a swap offer (type fffd)\n' +
        'a plain node: provider offers 301: true; client offers it: false\n',
    );
  });

  it("the README's example runs as written, with 'lnpeer' resolved to this package", async () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.ok(code.includes("from 'lnpeer'"), 'the README has a ```ts example importing lnpeer');
    const dir = mkdtempSync(join(tmpdir(), 'lnpeer-readme-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'readme.ts'), code.replace("from 'lnpeer'", `from ${JSON.stringify(join(repo, 'src', 'index.ts'))}`));
      const { stdout } = await tsx([join(dir, 'readme.ts')]);
      assert.match(stdout, /^from [0-9a-f]{66}: type 65531, hello$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
