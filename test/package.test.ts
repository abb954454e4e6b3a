// The published package: `npm pack`, installed into a separate TypeScript project, type-checks
// (NodeNext and bundler resolution) and runs: exports map, shipped files and types are right.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'lnpeer-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

const consumerSource = `
import { PeerManager, CustomMessage, LnPeerError, type PeerInfo } from 'lnpeer';

const alice = new PeerManager();
const { port } = await alice.listen({ port: 0 });
const bob = new PeerManager();
const received = new Promise<string>((resolve) => {
  alice.on('custommsg', (m) => resolve(m.peerId + ':' + m.type + ':' + Buffer.from(m.payload).toString()));
});
// @ts-expect-error: the event's argument is typed, so a wrong listener signature must not compile
alice.on('custommsg', (m: string) => m);
const info: PeerInfo = await bob.connect(alice.nodeId, { host: '127.0.0.1', port });
await bob.sendCustomMsg(alice.nodeId, new CustomMessage(0xfffb, new TextEncoder().encode('hi')).toHex());
try {
  await bob.sendCustomMsg(alice.nodeId, '0010');
} catch (err) {
  if (!(err instanceof LnPeerError) || err.code !== 'INTERNAL_TYPE') throw err;
}
console.log(info.peerId === alice.nodeId, await received === bob.nodeId + ':65531:hi');
await Promise.all([alice.close(), bob.close()]);
`;

function tsconfig(moduleResolution: 'NodeNext' | 'Bundler'): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: moduleResolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
      moduleResolution,
      strict: true,
      types: ['node'],
      outDir: 'out',
      skipLibCheck: false,
    },
    files: ['index.ts'],
  });
}

describe('npm pack', () => {
  it('installs into a separate TypeScript project, type-checks with both resolutions, and runs', () => {
    execFileSync('npm', ['pack', '--pack-destination', work], { cwd: repo, stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    const listing = execFileSync('tar', ['-tzf', join(work, tarball)], { encoding: 'utf8' }).split('\n').filter(Boolean);
    assert.ok(listing.includes('package/dist/index.js') && listing.includes('package/dist/index.d.ts'));
    assert.ok(listing.includes('package/dist/cli.js'), 'the lnpeer command ships');
    assert.deepEqual(listing.filter((f) => !/^package\/(dist\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/.test(f)), [], 'only what users need');

    const consumer = join(work, 'consumer');
    const modules = join(consumer, 'node_modules');
    mkdirSync(join(modules, 'lnpeer'), { recursive: true });
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', join(modules, 'lnpeer'), '--strip-components=1']);
    // The runtime dependencies, as npm would install them (offline: linked from this checkout).
    mkdirSync(join(modules, '@types'));
    for (const dep of ['@noble', 'typed-emitter', '@types/node']) symlinkSync(join(repo, 'node_modules', dep), join(modules, dep));
    writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(consumer, 'index.ts'), consumerSource);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const resolution of ['Bundler', 'NodeNext'] as const) {
      writeFileSync(join(consumer, 'tsconfig.json'), tsconfig(resolution));
      try {
        execFileSync(process.execPath, [tsc, '-p', consumer], { cwd: consumer, encoding: 'utf8' });
      } catch (err) {
        assert.fail(`tsc (${resolution}) failed on the consumer project:\n${(err as { stdout?: string }).stdout}`);
      }
    }
    const output = execFileSync(process.execPath, [join(consumer, 'out', 'index.js')], { cwd: consumer, encoding: 'utf8', timeout: 30_000 });
    assert.equal(output.trim(), 'true true');
  });
});
