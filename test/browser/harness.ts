/**
 * Runs code inside a real browser page that has lnpeer loaded: headless Chromium
 * (/usr/bin/chromium, or $LNPEER_CHROMIUM), driven over the DevTools protocol by playwright-core.
 *
 * Once per test process, on the first `openPage`: lnpeer's browser bundle is built in memory
 * (test/browser/bundle.ts: esbuild, platform browser, `#platform` = src/platform/browser.ts),
 * served with a page over HTTP on 127.0.0.1 (a port the OS picks), and Chromium started with a
 * fresh empty profile and its DevTools endpoint on 127.0.0.1 (a port it picks). Each test opens
 * its own page (a new browser context: no state shared between tests):
 *
 * ```ts
 * import { after, it } from 'node:test';
 * import { closeBrowser, openPage } from './browser/harness.js';
 * after(closeBrowser);
 *
 * it('connects from the browser', async (t) => {
 *   const page = await openPage(t);
 *   if (!page) return; // Chromium is missing: skipped (outside CI; in CI that throws)
 *   const server = ...; // a Node-side listener on 127.0.0.1, e.g. ws://127.0.0.1:<port>
 *   const result = await page.run(
 *     async (lnpeer, { url, nodeId }) => {
 *       const pm = new lnpeer.PeerManager();
 *       const info = await pm.connect(`${nodeId}@${url}`);
 *       await pm.close();
 *       return { features: info.features }; // anything Playwright can serialize
 *     },
 *     { url: `ws://127.0.0.1:${server.port}`, nodeId: server.nodeId },
 *   );
 *   await page.close(); // fails the test if the page logged an error
 * });
 * ```
 *
 * The function given to `run` is sent to the page as source text (`fn.toString()`) and runs
 * there: it sees only its arguments and the page's globals, never the test's variables. Pass
 * what it needs (a server URL, a node id) in `arg`, which must be serializable. The page is
 * served from http://127.0.0.1:<port>, so it can open a WebSocket to any ws://127.0.0.1 port.
 *
 * Every `console.error`/`console.assert` failure, uncaught exception, unhandled rejection, failed
 * request and crash of the page is collected; `run` and `close` throw if any was seen, so a test
 * fails on any. Positions in the bundle that they mention are translated to src/ file:line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { missingOutsideCI } from '../interop/availability.js';
import { until, withTimeout } from '../wait.js';
import { bundleAccelerators, bundleForBrowser, originalOf, type AcceleratorBundles, type Bundle } from './bundle.js';

/** lnpeer's exports, as the page has them. */
export type Lnpeer = typeof import('../../src/index.js');

export const CHROMIUM = process.env.LNPEER_CHROMIUM || '/usr/bin/chromium';

/**
 * Where the page finds the wasm accelerators an application can hand to `useCrypto()`, as ES
 * modules to `import()` (test/browser/bundle.ts, `bundleAccelerators`): `tiny-secp256k1` (which
 * fetches its wasm from SECP256K1_WASM_PATH) and `libsodium-wrappers`.
 */
export const TINY_SECP256K1_PATH = '/tiny-secp256k1.js';
export const SECP256K1_WASM_PATH = '/secp256k1.wasm';
export const LIBSODIUM_PATH = '/libsodium-wrappers.js';

/** Headless, and no connection of its own to anywhere (this machine's network is closed). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

const START_MS = 30_000;
const STEP_MS = 15_000;
const CLOSE_MS = 10_000;
const DEFAULT_RUN_MS = 60_000;

export interface RunOptions {
  /** Deadline of the whole function (default 60 s); past it the page is closed and `run` throws. */
  timeoutMs?: number;
  /** What the function does, for the timeout's message. */
  what?: string;
}

export interface BrowserPage {
  /** The Playwright page, for anything `run` does not cover. */
  readonly page: Page;
  /** Where the page was loaded from: http://127.0.0.1:<port>. */
  readonly origin: string;
  /** Errors the page reported so far (console errors, uncaught exceptions, failed requests, crashes). */
  readonly errors: readonly string[];
  /**
   * Runs `fn(lnpeer, arg)` inside the page and resolves with what it returns (serialized).
   * Throws if it throws, times out, or if the page reported an error by the time it ends.
   */
  run<A, R>(fn: (lnpeer: Lnpeer, arg: A) => R | Promise<R>, arg: A, options?: RunOptions): Promise<Awaited<R>>;
  run<R>(fn: (lnpeer: Lnpeer) => R | Promise<R>): Promise<Awaited<R>>;
  /** Closes the page (with a deadline); throws if the page reported errors not yet thrown by `run`. Idempotent. */
  close(): Promise<void>;
}

interface Host {
  bundle: Bundle;
  server: Server;
  origin: string;
  chromium: ChildProcess;
  exited: Promise<unknown>;
  userDataDir: string;
  browser: Browser;
  /** The end of Chromium's stderr, for failure messages. */
  stderr: () => string;
  /** Kills Chromium's process group should the test process exit before `closeBrowser`. */
  killOnExit: () => void;
}

export interface ChromiumAvailability {
  available: boolean;
  detail: string;
  install: string;
}

export function chromiumAvailability(): ChromiumAvailability {
  const install = `apt-get install chromium (or set LNPEER_CHROMIUM to a Chromium executable)`;
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return { available: true, detail: CHROMIUM, install };
  } catch (e) {
    return { available: false, detail: `${CHROMIUM} is not executable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, install };
  }
}

/**
 * Whether Chromium is here. Outside CI a missing Chromium skips the test (`t.skip`) and this
 * returns false; with `CI` set it throws, so CI never passes by skipping.
 */
export function requireChromium(t: TestContext): boolean {
  const found = chromiumAvailability();
  if (found.available) return true;
  const message = `Chromium is missing: ${found.detail}; to run the browser tests, ${found.install}`;
  missingOutsideCI(t, message, 'Chromium');
  return false;
}

let host: Promise<Host> | undefined;

/**
 * A new page with lnpeer loaded (`globalThis.lnpeer`), closed when the test ends if the test did
 * not close it. `undefined` when Chromium is missing outside CI (the test is then skipped).
 */
export async function openPage(t: TestContext): Promise<BrowserPage | undefined> {
  if (!requireChromium(t)) return undefined;
  host ??= startHost();
  const h = await host;
  const context = await withTimeout(h.browser.newContext(), STEP_MS, 'a new browser context');
  const errors: string[] = [];
  let thrown = 0; // errors[0..thrown) were already thrown by run() or close()
  let closing: Promise<void> | undefined;
  const located = (text: string) => locate(h, text);
  let page: Page;
  try {
    page = await withTimeout(context.newPage(), STEP_MS, 'a new page');
  } catch (e) {
    await withTimeout(context.close(), CLOSE_MS, 'closing the browser context').catch(() => {});
    throw e;
  }
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'assert') return;
    const at = m.location();
    errors.push(located(`console.${m.type()}: ${m.text()}${at.url ? ` (at ${at.url}:${at.lineNumber + 1}:${at.columnNumber + 1})` : ''}`));
  });
  page.on('pageerror', (e) => errors.push(located(`uncaught in the page: ${e.stack ?? e.message}`)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText ?? 'unknown'}`));
  page.on('crash', () => errors.push(`the page crashed; Chromium's stderr ends with:\n${h.stderr().slice(-2000)}`));

  const report = (): void => {
    if (errors.length <= thrown) return;
    const fresh = errors.slice(thrown);
    thrown = errors.length;
    throw new Error(`the page reported ${fresh.length} error(s):\n${fresh.join('\n')}`);
  };
  const closePage = (): Promise<void> =>
    (closing ??= withTimeout(context.close(), CLOSE_MS, 'closing the page').catch((e: unknown) => {
      errors.push(`closing the page failed: ${(e as Error).message}`);
    }));

  const browserPage: BrowserPage = {
    page,
    origin: h.origin,
    errors,
    async run<A, R>(fn: (lnpeer: Lnpeer, arg: A) => R | Promise<R>, arg?: A, options: RunOptions = {}): Promise<Awaited<R>> {
      if (closing) throw new Error('run() after close()');
      const { timeoutMs = DEFAULT_RUN_MS, what = 'the function run in the page' } = options;
      const evaluation = page.evaluate(
        async ({ source, arg }) => {
          // Indirect eval: the function is compiled in the page's global scope.
          const f = (0, eval)(`(${source})`) as (lnpeer: unknown, arg: unknown) => unknown;
          return await f((globalThis as unknown as { lnpeer: unknown }).lnpeer, arg);
        },
        { source: fn.toString(), arg },
      );
      let result: Awaited<R>;
      try {
        result = (await withTimeout(evaluation, timeoutMs, what)) as Awaited<R>;
      } catch (e) {
        evaluation.catch(() => {}); // it rejects once the page is closed
        const message = located((e as Error).message);
        if (/^timed out/.test(message)) await closePage();
        const seen = errors.slice(thrown);
        thrown = errors.length;
        throw new Error(`${message}${seen.length ? `\nthe page also reported:\n${seen.join('\n')}` : ''}`, { cause: e });
      }
      report();
      return result;
    },
    async close(): Promise<void> {
      await closePage();
      report();
    },
  };

  t.after(async () => {
    await closePage();
    report(); // errors that neither run() nor close() threw
  });

  try {
    const loaded = await withTimeout(page.goto(`${h.origin}/`, { waitUntil: 'load', timeout: STEP_MS }), STEP_MS + 1000, `loading ${h.origin}/`);
    if (!loaded?.ok()) throw new Error(`loading ${h.origin}/ answered ${loaded?.status()}`);
    const exported = await withTimeout(
      page.evaluate(() => Object.keys((globalThis as unknown as { lnpeer?: object }).lnpeer ?? {})),
      STEP_MS,
      "lnpeer's exports in the page",
    );
    if (!exported.includes('PeerManager')) throw new Error(`the page has no lnpeer (its exports: ${exported.join(', ') || 'none'})`);
  } catch (e) {
    const seen = errors.slice(thrown);
    thrown = errors.length;
    await closePage();
    throw new Error(`the page did not load lnpeer: ${(e as Error).message}${seen.length ? `\nthe page reported:\n${seen.join('\n')}` : ''}`, { cause: e });
  }
  return browserPage;
}

/** Closes Chromium and the HTTP server, each with a deadline; for `after()` in each test file. */
export async function closeBrowser(): Promise<void> {
  const started = host;
  host = undefined;
  if (!started) return;
  const h = await started.catch(() => undefined);
  if (h) await stopHost(h);
}

/** Bundle, server, Chromium, and the DevTools connection to it. */
async function startHost(): Promise<Host> {
  const bundle = await bundleForBrowser({ entry: 'src/index.ts' });
  const server = await serve(bundle);
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'lnpeer-chromium-'));
  const child = spawn(CHROMIUM, [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: its helper processes can outlive it for a moment, still writing
    // to the profile, and closing waits for the whole group to be gone.
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const killOnExit = () => stopGroup(child, 'SIGKILL');
  process.once('exit', killOnExit); // a test process that dies must not leave Chromium behind
  let stderr = '';
  const endpoint = new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]);
    });
    child.once('error', (e) => reject(new Error(`cannot start ${CHROMIUM}: ${e.message}`)));
    child.once('exit', (code, signal) => reject(new Error(`${CHROMIUM} exited (${signal ?? code}) before its DevTools endpoint was up; its stderr:\n${stderr}`)));
  });
  const partial = { bundle, server, origin, chromium: child, exited, userDataDir, stderr: () => stderr, killOnExit };
  try {
    const ws = await withTimeout(endpoint, START_MS, `Chromium's DevTools endpoint (${CHROMIUM})`);
    if (!ws.startsWith('ws://127.0.0.1:')) throw new Error(`Chromium's DevTools endpoint is not on 127.0.0.1: ${ws}`);
    const browser = await withTimeout(chromium.connectOverCDP(ws, { timeout: START_MS }), START_MS + 1000, 'connecting to Chromium over CDP');
    return { ...partial, browser };
  } catch (e) {
    await stopHost(partial);
    throw e;
  }
}

async function stopHost(h: Omit<Host, 'browser'> & { browser?: Browser }): Promise<void> {
  const problems: string[] = [];
  const step = async (what: string, p: () => Promise<unknown>, ms = CLOSE_MS) => {
    try {
      await withTimeout(p(), ms, what);
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  if (h.browser) {
    const browser = h.browser;
    await step('closing the browser contexts', () => Promise.all(browser.contexts().map((c: BrowserContext) => c.close())));
    await step('disconnecting from Chromium', () => browser.close());
  }
  if (running(h.chromium)) {
    // SIGTERM: Chromium shuts down as on a window close, and its helper processes with it.
    stop(h.chromium, 'SIGTERM');
    await step('Chromium exits after SIGTERM', () => h.exited);
    if (running(h.chromium)) {
      stop(h.chromium, 'SIGKILL');
      await step('Chromium exits after SIGKILL', () => h.exited, 5000);
    }
  }
  // No event says when the last helper is gone: the group is checked until it is empty.
  await step("Chromium's helper processes exit", () => until(() => !groupAlive(h.chromium), 5000, "Chromium's process group to be empty"));
  if (groupAlive(h.chromium)) {
    stopGroup(h.chromium, 'SIGKILL');
    await step("Chromium's helper processes exit after SIGKILL", () => until(() => !groupAlive(h.chromium), 5000, "Chromium's process group to be empty"));
  }
  if (!groupAlive(h.chromium)) process.off('exit', h.killOnExit);
  h.server.closeAllConnections();
  await step('closing the HTTP server', () => new Promise<void>((resolve, reject) => h.server.close((e) => (e ? reject(e) : resolve()))));
  await step('removing the profile', async () => rmSync(h.userDataDir, { recursive: true, force: true, maxRetries: 3 }));
  if (problems.length > 0) throw new Error(`closing the browser harness: ${problems.join('; ')}`);
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function stop(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid !== undefined && running(child)) child.kill(signal);
}

/**
 * Whether a live process of the group Chromium leads (it was started detached) is left. Its
 * exited helpers stay zombies until PID 1 reaps them, which can take seconds: from /proc,
 * zombies do not count; where there is no /proc, any member does.
 */
function groupAlive(child: ChildProcess): boolean {
  const group = child.pid;
  if (group === undefined) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  }
  return pids.some((pid) => {
    try {
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after the last ')'
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === group && state !== 'Z' && state !== 'X';
    } catch {
      return false; // gone meanwhile
    }
  });
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // none left
  }
}

/** The page and the bundle, over HTTP on 127.0.0.1, on a port the OS picks. */
async function serve(bundle: Bundle): Promise<Server> {
  const page = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>lnpeer</title>
<link rel="icon" href="data:,">
<script>
  // tsx compiles the tests with esbuild's keepNames, so functions sent to run() call __name().
  globalThis.__name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });
</script>
<script type="module">
  import * as lnpeer from './lnpeer.js';
  globalThis.lnpeer = lnpeer;
</script>
</head>
<body></body>
</html>
`;
  const js = 'text/javascript; charset=utf-8';
  // The accelerators are built on the first request for one of them.
  let accelerators: Promise<AcceleratorBundles> | undefined;
  const accelerator = (type: string, pick: (a: AcceleratorBundles) => string | Uint8Array) => async () => ({
    type,
    body: pick(await (accelerators ??= bundleAccelerators(SECP256K1_WASM_PATH))),
  });
  const routes: Record<string, () => Promise<{ type: string; body: string | Uint8Array }>> = {
    '/': async () => ({ type: 'text/html; charset=utf-8', body: page }),
    '/lnpeer.js': async () => ({ type: js, body: bundle.code }),
    [TINY_SECP256K1_PATH]: accelerator(js, (a) => a.tinySecp256k1),
    [SECP256K1_WASM_PATH]: accelerator('application/wasm', (a) => a.secp256k1Wasm),
    [LIBSODIUM_PATH]: accelerator(js, (a) => a.libsodium),
  };
  const server = createServer((req, res) => {
    const route = req.method === 'GET' ? routes[new URL(req.url ?? '/', 'http://x').pathname] : undefined;
    const answer = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (!route) return answer(404, 'text/plain', 'not found');
    route().then(
      (r) => answer(200, r.type, r.body),
      (e: unknown) => answer(500, 'text/plain', `building ${req.url} failed: ${(e as Error).message}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Appends the src/ position to every position in the bundle that `text` mentions. */
function locate(h: Pick<Host, 'bundle' | 'origin'>, text: string): string {
  const at = new RegExp(`${h.origin.replace(/[.]/g, '\\.')}/lnpeer\\.js:(\\d+):(\\d+)`, 'g');
  return text.replace(at, (whole, line: string, column: string) => `${whole} [${originalOf(h.bundle, Number(line), Number(column) - 1)}]`);
}
