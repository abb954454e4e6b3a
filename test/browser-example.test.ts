// examples/browser/ works in a real browser: Chromium opens the page, connects to the echo
// node over WebSocket, sends a message, and the test reads what the page shows.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { serveExample } from '../examples/browser/serve.js';
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
});
