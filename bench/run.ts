/**
 * `npm run bench`: runs every scenario for every implementation and writes the table into
 * docs/benchmarks.md (between its results markers). Options:
 *   --quick          a few seconds, tiny counts: proves the benchmark works (figures are noise)
 *   --only=a,b       only these columns of the Node table (lnpeer, addon, accel, nl, noble,
 *                    lnmessage, peer, raw, raw-batched); the browser and commando scenarios still run
 *   --skip=a,b       leave out scenarios (handshakes, small, large, rtt, oneprocess, memory,
 *                    browser, commando)
 *   --baseline=DIR   also run lnpeer from another checkout in DIR (its bench/ and src/; give it
 *                    node_modules), as the columns `before` and `before-noble`: before/after a change
 *   --no-write       print only; do not touch docs/benchmarks.md (the default with --quick)
 *   --json=FILE      also write the raw results as JSON
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { report } from './report.js';
import { runBenchmarks } from './suite.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const quick = flag('quick');
const only = value('only')?.split(',');
const skip = value('skip')?.split(',');
const baseline = value('baseline');
const write = !flag('no-write') && !quick && !only && !skip && !baseline;
const DOC = new URL('../docs/benchmarks.md', import.meta.url);
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const results = await runBenchmarks({ quick, only, skip, baseline, log: (line) => console.log(line) });
const text = report(results);
console.log(`\n${text}\n`);
const json = value('json');
if (json) writeFileSync(json, JSON.stringify(results, null, 2));
if (write) {
  let doc: string;
  try {
    doc = readFileSync(DOC, 'utf8');
  } catch {
    doc = `# Benchmarks\n\n${START}\n${END}\n`;
  }
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no ${START} … ${END} markers`);
  writeFileSync(DOC, `${doc.slice(0, from + START.length)}\n${text}\n${doc.slice(to)}`);
  console.log('wrote docs/benchmarks.md');
}
