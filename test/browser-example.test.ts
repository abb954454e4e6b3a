// examples/browser/ and the README's web page example work in a real browser: Chromium opens
// the page, connects to an echo node over WebSocket, sends a message, and the test reads what
// the page shows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { transform } from 'esbuild';
import { after, describe, it } from 'node:test';
import { serveExample } from '../examples/browser/serve.js';
import { PeerManager } from '../src/index.js';
import { REPO } from './browser/bundle.js';
import { closeBrowser, openPage } from './browser/harness.js';

after(closeBrowser);

describe('examples/browser', () => {
  it('connects, shows the features, sends a message, lists the echo, and shows a refusal', async (t) => {
    const browser = await openPage(t);
    if (!browser) return;
    const example = await serveExample(0);
    try {
      const { page } = browser;
      await page.goto(example.url, { timeout: 20_000 });
      await page.click('#connect button', { timeout: 10_000 });
      await page.waitForFunction("document.querySelector('#status').textContent.startsWith('connected to ')", undefined, { timeout: 20_000 });
      assert.equal(await page.textContent('#features'), 'its features: 1, 9, 13, 15, 45');
      await page.click('#send button');
      await page.waitForFunction("document.querySelectorAll('#messages li').length === 2", undefined, { timeout: 10_000 });
      assert.deepEqual(await page.$$eval('#messages li', (items) => items.map((li) => li.textContent)), ['→ fff9 hello from the browser', '← fff9 hello from the browser']);
      // An even type is refused by lnpeer's validator, and the page says why.
      await page.fill('#send input[name=type]', 'fffa');
      await page.click('#send button');
      await page.waitForFunction("document.querySelector('#status').className === 'failed'", undefined, { timeout: 10_000 });
      assert.match((await page.textContent('#status')) ?? '', /^EVEN_TYPE: type 65530 is even/);
      await page.click('#disconnect');
      await page.waitForFunction("document.querySelector('#status').textContent.startsWith('disconnected')", undefined, { timeout: 10_000 });
    } finally {
      await example.close();
      await browser.close();
    }
  });

  it("the README's web page example runs as written, 'lnpeer' being the page's bundle", async (t) => {
    const readme = readFileSync(`${REPO}/README.md`, 'utf8');
    const code = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((c) => c.includes('location.search'));
    assert.ok(code?.includes("import { PeerManager } from 'lnpeer';\n"), 'the README has a web page example importing lnpeer');
    const browser = await openPage(t);
    if (!browser) return;
    const echo = new PeerManager();
    try {
      const { port } = await echo.listen({ port: 0, host: '127.0.0.1', websocket: true });
      echo.on('custommsg', ({ peerId, type, payload }) => void echo.sendCustomMsg(peerId, new Uint8Array([type >> 8, type & 0xff, ...payload])));
      const { page } = browser;
      await page.goto(`${browser.origin}/?node=${encodeURIComponent(`${echo.nodeId}@ws://127.0.0.1:${port}`)}`, { timeout: 20_000 });
      // The page's bundle has lnpeer as a global: the import becomes a read of it; esbuild
      // strips the types, as a bundler would.
      const body = code!.replace("import { PeerManager } from 'lnpeer';\n", '');
      const { code: script } = await transform(`(async ({ PeerManager }) => {\n${body}\n})(globalThis.lnpeer)`, { loader: 'ts' });
      await page.evaluate(script);
      await page.waitForFunction("document.body.textContent.includes('type 65531: hello')", undefined, { timeout: 10_000 });
    } finally {
      await echo.close();
      await browser.close();
    }
  });
});
