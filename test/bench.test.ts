// The benchmark (bench/) in quick mode: every scenario for every implementation, down to the
// table. No timing is asserted here (`npm run bench` is the benchmark); this proves it still runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COLUMNS, report, runBenchmarks, type Metric } from '../bench/suite.js';

describe('benchmark, quick mode', () => {
  it('runs every scenario for every implementation and prints the table', { timeout: 180_000 }, async () => {
    const results = await runBenchmarks({ quick: true });
    for (const col of COLUMNS) {
      const f = results.figures[col.key];
      const rates: Metric[] = [
        ...(col.handshakes ? (['hsSeq', 'hsPar'] as const) : []),
        ...(col.messages ? (['msgsCS', 'msgsSC', 'mbCS', 'mbSC', 'rttP50', 'rttP99', 'cpuSmallCS', 'cpuSmallSC', 'cpuLargeCS', 'cpuLargeSC'] as const) : []),
      ];
      for (const metric of rates) assert.ok(f[metric]! > 0, `${col.key}: ${metric} = ${f[metric]}`);
      // Memory deltas of a few peers can be anything, negative included: only that they exist.
      const memory: Metric[] = col.memoryClient ? results.params.memoryPeers.flatMap((n) => [`rss${n}`, `heap${n}`] as Metric[]) : [];
      for (const metric of memory) assert.ok(Number.isFinite(f[metric]), `${col.key}: ${metric} = ${f[metric]}`);
    }
    const text = report(results);
    assert.match(text, /^\| Scenario \| lnpeer \| @node-lightning\/noise \|/m);
    assert.match(text, /Machine: \d+ cores .*Node v\d+/);
    assert.match(text, /\| Target \| Measured \| Met \|/);
  });
});
