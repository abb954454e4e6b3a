// The abuse suite, short sizes (the long ones: `npm run abuse`): a victim PeerManager in a child
// process, attackers in another, a legitimate client here from 127.0.0.2. Asserted: what does
// not depend on timing (the legitimate client connected and exchanged a message, the victim is
// alive, its memory grew less than 64 MB, the attacker was paused or dropped as the victim's own
// report shows). The event-loop delay is measured and printed, never asserted: the machine is
// shared and noisy.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { SCENARIOS, TARGETS, summary, type Fate, type ScenarioResult } from './abuse/harness.js';

/** Binding 127.0.0.2 and 127.0.1.x works on Linux (all of 127/8 is loopback); not on macOS without aliases. */
async function loopbackAliases(): Promise<boolean> {
  const server = createServer();
  server.listen(0, '127.0.1.1');
  try {
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

const skip = (await loopbackAliases()) ? false : 'needs the loopback addresses 127.0.0.2 and 127.0.1.x (Linux has them; macOS needs ifconfig lo0 aliases)';

/** What each scenario's attacker may end as: every one of them means the victim did not serve it without bound. */
const ALLOWED: Record<string, Fate[]> = {
  'half-open': ['dropped'],
  lockout: ['dropped'],
  'ping-large': ['paused', 'dropped'],
  // 40,000 empty pongs (1.5 MB) fit in loopback's socket buffers: the victim answers every ping
  // and queues nothing of its own ('absorbed', checked against MAX_UNFLUSHED_REPLIES); the long
  // size (400,000) reaches the pause.
  'ping-empty': ['paused', 'dropped', 'absorbed'],
  // Custom messages are legal traffic: the victim reads them at its own pace (TCP flow control
  // holds the sender back); a drop would do too.
  custom: ['flow-controlled', 'dropped'],
  // The per-host rate limit refuses what passes handshakesPerSecondPerHost.
  'act-one': ['refused'],
};

function check(t: TestContext, name: string, r: ScenarioResult): void {
  for (const line of summary(r).split('\n')) t.diagnostic(line);
  assert.ok(r.victimAlive, `the victim process died: ${r.scenario}`);
  assert.ok(r.legit.ok, `the legitimate client failed: ${r.legit.error}`);
  assert.ok(r.memoryGrowthMB < TARGETS.memoryGrowthMB, `victim memory grew ${r.memoryGrowthMB} MB (peak RSS ${r.victim.peakRssMB} MB, baseline ${r.victim.baseRssMB} MB)`);
  assert.ok(ALLOWED[name].includes(r.fate), `attacker ${r.fate}: ${r.fateDetail}`);
  assert.ok(r.held.attacker, `attacker ${r.fate}, but: ${r.fateDetail}`);
  if (r.outbound) assert.ok(r.outbound.ok, `the victim's own connect() failed: ${r.outbound.error}`);
}

describe('abuse: a hostile peer cannot crash, bloat or lock out a PeerManager (short sizes)', { skip }, () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, async (t) => {
      check(t, scenario.name, await scenario.run('short'));
    });
  }
});
