// The API reference: TypeDoc builds it from the doc comments, and fails on anything public
// left undocumented; every class and function exported at the top level shows an example.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

interface Reflection {
  name: string;
  kind: number;
  comment?: { blockTags?: Array<{ tag: string }> };
  signatures?: Reflection[];
  children?: Reflection[];
}

describe('API reference', () => {
  it('TypeDoc documents every public export without a warning, and top-level classes and functions have an example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lnpeer-typedoc-'));
    try {
      const json = join(dir, 'api.json');
      const typedoc = join(repo, 'node_modules', 'typedoc', 'bin', 'typedoc');
      const output = execFileSync(process.execPath, [typedoc, '--json', json, '--out', join(dir, 'html')], { cwd: repo, encoding: 'utf8' });
      assert.doesNotMatch(output, /warning|error/i, output);
      const project: Reflection = JSON.parse(readFileSync(json, 'utf8'));
      const CLASS = 128;
      const FUNCTION = 64;
      const withoutExample = (project.children ?? [])
        .filter((r) => r.kind === CLASS || r.kind === FUNCTION)
        .filter((r) => {
          const comment = r.kind === FUNCTION ? r.signatures?.[0]?.comment : r.comment;
          return !comment?.blockTags?.some((t) => t.tag === '@example');
        })
        .map((r) => r.name);
      assert.deepEqual(withoutExample, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the guides link only to files that exist', () => {
    for (const page of ['README.md', 'docs/README.md', 'docs/getting-started.md', 'docs/custom-messages.md', 'docs/protocol.md', 'docs/architecture.md', 'docs/tor.md']) {
      const text = readFileSync(join(repo, page), 'utf8');
      for (const [, target] of text.matchAll(/\]\((?!https?:|#)([^)#]+)/g)) {
        const resolved = join(repo, page, '..', target);
        assert.doesNotThrow(() => readFileSync(resolved.endsWith('/') ? join(resolved, 'README.md') : resolved), `${page} links to ${target}`);
      }
    }
  });

  it('docs/architecture.md names every source module and every limit constant', () => {
    const doc = readFileSync(join(repo, 'docs/architecture.md'), 'utf8');
    const src = join(repo, 'src');
    const top = readdirSync(src, { withFileTypes: true });
    const modules = top.filter((e) => e.isFile() && e.name !== 'index.ts').map((e) => e.name);
    const folders = top.filter((e) => e.isDirectory()).map((e) => `${e.name}/`);
    assert.deepEqual([...modules, ...folders].filter((name) => !doc.includes(name)), [], 'modules missing from docs/architecture.md');
    // A limit is a constant named MAX_… or …_MS/…_BYTES/…_PER_TURN; a DEFAULT_ one is documented under its
    // option's name, and ONION_ sizes are the format's, not limits.
    const limits = new Set<string>();
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      for (const [, name] of readFileSync(join(src, file), 'utf8').matchAll(/^export const ([A-Z][A-Z0-9_]*) = /gm)) {
        if (/^MAX_|_MS$|_BYTES$|_PER_TURN$|_NONCE$/.test(name) && !/^DEFAULT_|^ONION_/.test(name)) limits.add(name);
      }
    }
    assert.deepEqual([...limits].filter((name) => !doc.includes(name)), [], 'limit constants missing from docs/architecture.md "Limits"');
  });
});
