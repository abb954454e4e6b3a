// The benchmark (bench/) in quick mode: every scenario for every implementation, down to the
// table. No timing is asserted here (`npm run bench` is the benchmark); this proves it still runs.
// The browser and Commando scenarios report "not run" when Chromium or Core Lightning is
// missing (the benchmark is no test); here, with CI set, they must have run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BROWSER_CLIENTS, HANDSHAKE_CLIENTS } from '../bench/browser.js';
import { report } from '../bench/report.js';
import { COLUMNS, runBenchmarks, type Metric } from '../bench/suite.js';
import { checkBackends, DEFAULT_INSTALL, Worker } from '../bench/workers.js';
import { chromiumAvailability } from './browser/harness.js';
import { inCI } from './interop/availability.js';
import { availability as clnAvailability } from './interop/partners/cln.js';

function expectedMetrics(col: (typeof COLUMNS)[number]): Metric[] {
  const list: Metric[] = [];
  if (col.handshakes) list.push('hsSeq', 'hsPar', ...(col.oneProcess ? (['hsSeqBoth'] as const) : []));
  if (col.messages) {
    list.push('msgsCS', 'msgsSC', 'mbCS', 'mbSC', 'rttP50', 'rttP99', 'cpuSmallCS', 'cpuSmallSC', 'cpuLargeCS', 'cpuLargeSC');
    if (col.oneProcess) list.push('msgsBoth', 'cpuBoth');
  }
  return list;
}

describe('benchmark, quick mode', () => {
  it('runs every scenario for every implementation and prints the table', { timeout: 300_000 }, async () => {
    const results = await runBenchmarks({ quick: true });
    for (const col of COLUMNS) {
      const f = results.figures[col.key];
      for (const metric of expectedMetrics(col)) assert.ok(f[metric]! > 0, `${col.key}: ${metric} = ${f[metric]}`);
      // Memory deltas of a few peers can be anything, negative included: only that they exist.
      const memory: Metric[] = col.memoryClient ? results.params.memoryPeers.flatMap((n) => [`rss${n}`, `heap${n}`] as Metric[]) : [];
      for (const metric of memory) assert.ok(Number.isFinite(f[metric]), `${col.key}: ${metric} = ${f[metric]}`);
      if (col.backends) assert.ok(results.backends[col.key].server.aead.startsWith(col.backends.expect.aead), `${col.key}: ${JSON.stringify(results.backends[col.key])}`);
    }

    if (inCI || chromiumAvailability().available) {
      assert.ok(!('notRun' in results.browser), `the browser scenario ran: ${JSON.stringify(results.browser)}`);
      const b = results.browser;
      for (const client of HANDSHAKE_CLIENTS) {
        const h = b.handshakes[client];
        assert.ok(h.oneEndpoint > 0 && h.rotated > 0, `browser ${client} handshakes: ${JSON.stringify(h)}`);
      }
      for (const client of BROWSER_CLIENTS) assert.ok(b.msgs[client] > 0, `browser ${client} messages: ${b.msgs[client]}`);
    } else assert.match((results.browser as { notRun: string }).notRun, /Chromium is missing/);

    if (inCI || (await clnAvailability()).available) {
      assert.ok(!('notRun' in results.commando), `the commando scenario ran: ${JSON.stringify(results.commando)}`);
      assert.equal(results.commando.rows.length, 4);
      for (const row of results.commando.rows) assert.ok(row.lnpeer.perSecond > 0 && (row.lnmessage?.perSecond ?? 1) > 0, JSON.stringify(row));
    } else assert.match((results.commando as { notRun: string }).notRun, /Core Lightning is not available/);

    const text = report(results);
    assert.match(text, /^\| Scenario \| lnpeer, default install \| lnpeer, node:crypto AEAD \| lnpeer \+ secp256k1 addon \| lnpeer, accelerated \| @node-lightning\/noise \|/m);
    assert.match(text, /Machine: \d+ cores .*Node v\d+/);
    assert.match(text, /^- lnpeer, default install \(LNPEER_SECP256K1=wasm LNPEER_AEAD=libsodium\): tiny-secp256k1 \(libsecp256k1, wasm\) \+ libsodium-wrappers \(libsodium, wasm\) below 2 KiB, node:crypto above/m);
    assert.match(text, /^\| browser \(Chromium\), handshakes\/s|^Browser \(Chromium\): not run/m);
    assert.match(text, /^\| Goal \| Measured \| Met \|/m);
  });

  it('stops with the reason when a worker does not get the backends its column asks for', async () => {
    assert.throws(
      () => checkBackends('a column', DEFAULT_INSTALL, { curve: 'secp256k1 (libsecp256k1)', aead: 'node:crypto' }),
      /a column: asked for default install \(LNPEER_SECP256K1=wasm LNPEER_AEAD=libsodium\), but cryptoInUse\(\) reports secp256k1 \(libsecp256k1\) \+ node:crypto/,
    );
    // src/crypto/index.ts falls back to the fastest AEAD for a name it does not know.
    const unknown = { name: 'an AEAD that is not there', env: { LNPEER_SECP256K1: 'wasm', LNPEER_AEAD: 'no-such-aead' }, expect: { curve: 'tiny-secp256k1', aead: 'no-such-aead' } };
    await assert.rejects(Worker.start('bad backends', unknown), /bad backends: asked for an AEAD that is not there .*but cryptoInUse\(\) reports tiny-secp256k1/);
  });
});
