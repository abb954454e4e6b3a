// The browser bundle is clean: bundled by esbuild for browsers, lnpeer pulls in no Node
// built-in and references no Node global (test/browser/bundle.ts says how that is checked).
// The audit itself is tested on a file that leaks on purpose, so a clean result means something.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { auditBrowserBundle, bundleForBrowser, NODE_ONLY_SOURCES, REPO, sizes } from './browser/bundle.js';

function kB(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/** Bundles `entry` as is and minified, and describes the sizes. */
async function sizeReport(entry: string): Promise<string> {
  const plain = sizes((await bundleForBrowser({ entry })).code);
  const minified = sizes((await bundleForBrowser({ entry, minify: true })).code);
  return `${entry}: ${kB(plain.bytes)}, minified ${kB(minified.bytes)}, minified and gzipped ${kB(minified.gzip)}`;
}

describe('browser bundle (esbuild, platform browser, condition lnpeer-source)', () => {
  it('src/index.ts: no Node built-in, no Node-only source, no Node global', async (t) => {
    const bundle = await bundleForBrowser({ entry: 'src/index.ts', markNodeGlobals: true });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.includes('src/platform/browser.ts'), `#platform resolved to src/platform/browser.ts (inputs: ${inputs.join(', ')})`);
    assert.deepEqual(auditBrowserBundle(bundle), [], 'what makes the browser bundle of src/index.ts depend on Node');
    assert.deepEqual(
      bundle.warnings.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`),
      [],
      'esbuild warnings',
    );
    for (const file of NODE_ONLY_SOURCES) assert.ok(!inputs.includes(file), `${file} is not in the bundle`);
    t.diagnostic(`${inputs.length} inputs: ${inputs.filter((i) => i.startsWith('src/')).length} from src/, the rest from @noble`);
    t.diagnostic(await sizeReport('src/index.ts'));
  });

  for (const entry of ['src/wire/index.ts', 'src/noise/index.ts']) {
    it(`${entry} alone: clean too, and its size`, async (t) => {
      const bundle = await bundleForBrowser({ entry, markNodeGlobals: true });
      assert.deepEqual(auditBrowserBundle(bundle), [], `what makes the browser bundle of ${entry} depend on Node`);
      assert.deepEqual(bundle.warnings, [], 'esbuild warnings');
      t.diagnostic(await sizeReport(entry));
    });
  }

  it('the audit finds every kind of leak, at its line, and nothing else', async () => {
    const fixture = 'test/browser/fixtures/node-leaks.ts';
    const bundle = await bundleForBrowser({ entry: fixture, markNodeGlobals: true });
    const problems = auditBrowserBundle(bundle);
    const report = `the audit said:\n${problems.join('\n')}`;

    // Each line marked `// leak: a, b` in the fixture is reported once per name, at that line.
    const marked = new Map<number, number>();
    readFileSync(`${REPO}/${fixture}`, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        const leak = /\/\/ leak: (.*)$/.exec(text);
        if (leak) marked.set(i + 1, leak[1].split(', ').length);
      });
    assert.ok(marked.size >= 7, 'the fixture marks its leaks');
    for (const [line, count] of marked) {
      const at = problems.filter((p) => new RegExp(`node-leaks\\.ts:${line}(?!\\d)`).test(p));
      assert.equal(at.length, count, `problems reported at ${fixture}:${line}; ${report}`);
    }
    for (const p of problems) {
      for (const m of p.matchAll(/node-leaks\.ts:(\d+)/g)) assert.ok(marked.has(Number(m[1])), `reported at an unmarked line: ${p}`);
    }

    assert.ok(problems.some((p) => p.includes("'node:zlib' (dynamic-import)")), `a guarded dynamic import is reported; ${report}`);
    assert.ok(problems.some((p) => p.startsWith(`input ${fixture} is neither`)), `an input outside src/ and @noble is reported; ${report}`);
    assert.ok(
      problems.some((p) => p.startsWith('Node-only source src/platform/node.ts') && p.endsWith(`via ${fixture} -> src/platform/node.ts`)),
      `a Node-only source is reported with its import chain; ${report}`,
    );
    assert.ok(
      problems.some((p) => p.startsWith("Node built-in 'node:events' (import-statement) imported at src/platform/node.ts:")),
      `the Node-only source's own import is reported at its line; ${report}`,
    );
  });
});
