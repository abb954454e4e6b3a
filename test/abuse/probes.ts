// Probes beyond the six scenarios of the suite (`npm run abuse -- --probes`): attacks found by
// reading lnpeer's code, each aimed at one limit. One size each.
import { ACT_TIMEOUT_MS, PeerManager } from '../../src/index.js';
import { DEFAULT_INIT_TIMEOUT_MS, DEFAULT_MAX_CONCURRENT_HANDSHAKES } from '../../src/options.js';
import { attackerStatus, counts, finish, legitExchange, sleep, sources, victimDrained, world, type ScenarioResult, type Size } from './harness.js';
import type { AttackStatus } from './protocol.js';

/**
 * Act one on `count` connections at once: the connections are opened first (idle, so each is
 * admitted), then act one is written on all of them in one turn. The rate limit admits
 * connections, it does not spread the handshakes' CPU: the victim computes them back to back.
 * With `thenIdle`, more idle connections queue in the accept backlog meanwhile and are
 * accepted together once the victim is free again.
 */
async function actOneBurst(name: string, count: number, sourceCount: number, thenIdle = 0): Promise<ScenarioResult> {
  const from = sources(sourceCount);
  const idleFrom = sources(sourceCount + Math.ceil(thenIdle / 40)).slice(sourceCount);
  return world({}, async (victim, attacker) => {
    const attack = attacker.request<AttackStatus>(
      { cmd: 'actOneSync', port: victim.port, victimId: victim.nodeId, count, sources: from, ...(thenIdle ? { thenIdle: { count: thenIdle, sources: idleFrom } } : {}) },
      120_000,
    );
    // The legitimate client comes while the victim works through the burst (written 500 ms after the connections opened).
    await sleep(700);
    const legit = await legitExchange(victim.port, victim.nodeId);
    const status = await attack;
    const report = await victim.report();
    return finish(
      {
        scenario: `probe: ${name}`,
        size: 'long',
        attack: `act one written at once on ${count} open connections from ${sourceCount} source(s)${thenIdle ? `, then ${thenIdle} idle connections` : ''}`,
        fate: 'refused',
        fateDetail: `the victim answered ${status.actTwos} act ones, the last ${status.answeredInMs} ms after they were sent; peak ${report.sockets.peakOpen} sockets open at once at the victim (maxConcurrentHandshakes ${DEFAULT_MAX_CONCURRENT_HANDSHAKES})`,
        legit,
        attackerHeld: report.sockets.peakOpen <= DEFAULT_MAX_CONCURRENT_HANDSHAKES + 1,
        notes: [`victim connection:failed: ${counts(report.failed)}`],
      },
      report,
      victim,
      status,
    );
  });
}

/** Sockets that send one byte each: not idle, so never evicted; each holds a handshake slot for the act timeout. */
async function oneByteSockets(): Promise<ScenarioResult> {
  const count = 600;
  const from = sources(Math.ceil(count / 40));
  return world({}, async (victim, attacker) => {
    const opened = await attacker.request<AttackStatus>({ cmd: 'halfOpen', port: victim.port, count, sources: from, sendBytes: 1 }, 120_000);
    await sleep(200);
    const legit = await legitExchange(victim.port, victim.nodeId);
    const report = await victimDrained(victim, ACT_TIMEOUT_MS + 20_000);
    const status = await attackerStatus(attacker);
    const stillOpen = report.sockets.open;
    return finish(
      {
        scenario: 'probe: one-byte sockets',
        size: 'long',
        attack: `${count} TCP sockets from ${from.length} sources, each sending 1 byte of act one (${opened.connected} connected)`,
        fate: stillOpen === 0 ? 'dropped' : 'still served',
        fateDetail: `held ${Math.min(DEFAULT_MAX_CONCURRENT_HANDSHAKES, opened.connected)} handshake slots until the act timeout; victim: ${counts(report.failed)}; attacker saw closes after ${counts(status.lifetimes)}`,
        legit,
        attackerHeld: stillOpen === 0,
        notes: [`victim sockets: peak ${report.sockets.peakOpen} open; legitimate failures at the victim: ${report.legitFailures.join(' | ') || 'none'}`],
      },
      report,
      victim,
      status,
    );
  });
}

/** maxPeers 50 filled by inbound peers that complete the handshake (and init, or not): outbound and inbound are locked out. */
async function maxPeersExhaustion(sendInit: boolean): Promise<ScenarioResult> {
  const count = 50;
  return world({ maxPeers: 50 }, async (victim, attacker) => {
    const opened = await attacker.request<AttackStatus>({ cmd: 'handshakes', port: victim.port, victimId: victim.nodeId, count, sources: sources(2), sendInit }, 120_000);
    const other = new PeerManager();
    try {
      const { port } = await other.listen({ port: 0, host: '127.0.0.1' });
      const outbound = await victim.child.request<{ ok: boolean; ms: number; error?: string }>({ cmd: 'connect', address: `${other.nodeId}@127.0.0.1:${port}`, timeoutMs: 15_000 });
      const legit = await legitExchange(victim.port, victim.nodeId);
      const report = await victim.report();
      return finish(
        {
          scenario: `probe: maxPeers filled by handshakes${sendInit ? ' + init' : ', no init'}`,
          size: 'long',
          attack: `${count} inbound connections with fresh node ids that complete the handshake${sendInit ? ' and init, then idle' : ' and never send init'}, victim maxPeers 50`,
          fate: 'still served',
          fateDetail: `${opened.ready} attacker connections accepted as peers; they hold the victim's maxPeers ${sendInit ? 'until they leave (they answer pings)' : `for initTimeoutMs (${DEFAULT_INIT_TIMEOUT_MS} ms), and can come back`}`,
          legit,
          outbound,
          attackerHeld: outbound.ok && legit.ok,
          notes: [`victim connect() to another node: ${outbound.ok ? `succeeded in ${outbound.ms} ms` : `FAILED: ${outbound.error}`}`, `victim: ${report.peers} peers; connection:failed ${counts(report.failed)}`],
        },
        report,
        victim,
        opened,
      );
    } finally {
      await other.close();
    }
  });
}


export const PROBES: ReadonlyArray<{ name: string; run: (size: Size) => Promise<ScenarioResult> }> = [
  { name: 'burst-act-one', run: () => actOneBurst('act one burst, one source', 50, 1) },
  { name: 'burst-act-one-10', run: () => actOneBurst('act one burst, 10 sources', 500, 10, 300) },
  { name: 'one-byte', run: oneByteSockets },
  { name: 'maxpeers-init', run: () => maxPeersExhaustion(true) },
  { name: 'maxpeers-noinit', run: () => maxPeersExhaustion(false) },
];
