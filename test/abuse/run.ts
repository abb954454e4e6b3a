// `npm run abuse`: every abuse scenario at its LONG size (or `--short`), one after the other,
// then a table of the figures and whether each target held. Exits 1 when a target did not hold.
//
//   npm run abuse                       # the long suite (a few minutes)
//   npm run abuse -- --short            # the sizes of test/abuse.test.ts
//   npm run abuse -- --only=ping-large,act-one
//   npm run abuse -- --probes           # also the probes beyond the six scenarios (probes.ts)
//   npm run abuse -- --json=out.json    # every figure, machine-readable
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { PROBES } from './probes.js';
import { SCENARIOS, TARGETS, allHeld, lastCrypto, summary, type ScenarioResult, type Size } from './harness.js';

const args = process.argv.slice(2);
const size: Size = args.includes('--short') ? 'short' : 'long';
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const json = args.find((a) => a.startsWith('--json='))?.slice('--json='.length);
const withProbes = args.includes('--probes');

const selected = [...SCENARIOS, ...(withProbes ? PROBES : [])].filter((s) => !only || only.includes(s.name));
console.log(`lnpeer abuse suite, ${size} sizes: ${selected.map((s) => s.name).join(', ')}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`targets: victim event-loop delay max < ${TARGETS.loopDelayMaxMs} ms, memory growth < ${TARGETS.memoryGrowthMB} MB, attacker dropped or paused, a legitimate peer connects and exchanges a message\n`);

const results: ScenarioResult[] = [];
for (const scenario of selected) {
  const started = Date.now();
  try {
    const result = await scenario.run(size);
    results.push(result);
    console.log(`${summary(result)}\n  (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    console.log(`${scenario.name}: the harness failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

const columns = ['scenario', 'attack size', 'loop max (p99) ms', 'RSS +MB', 'heap +MB', 'attacker', 'legitimate client', 'targets'];
const rows = results.map((r) => [
  r.scenario,
  r.attack.split(' (')[0].slice(0, 60),
  `${r.loopDelayMaxMs} (${r.loopDelayP99Ms})${r.held.loop ? '' : ' ✗'}`,
  `${r.memoryGrowthMB}${r.held.memory ? '' : ' ✗'}`,
  `${r.heapGrowthMB}`,
  `${r.fate}${r.held.attacker ? '' : ' ✗'}`,
  `${r.legit.ok ? `ok ${r.legit.connectMs} ms + ${r.legit.rttMs} ms` : 'FAILED ✗'}${r.outbound ? `; outbound ${r.outbound.ok ? `ok ${r.outbound.ms} ms` : 'FAILED ✗'}` : ''}`,
  allHeld(r) ? 'all held' : `NOT HELD: ${Object.entries(r.held).filter(([, v]) => v === false).map(([k]) => k).join(', ')}`,
]);
const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(columns));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
console.log(`\nvictim crypto: ${lastCrypto} (ABUSE_CURVE / ABUSE_AEAD choose others)`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

if (json) writeFileSync(json, JSON.stringify(results, null, 2));
if (results.some((r) => !allHeld(r)) || results.length < selected.length) {
  console.log(`\n${results.filter((r) => !allHeld(r)).length} scenario(s) did not hold every target; ${selected.length - results.length} could not run.`);
  process.exitCode = 1;
}
