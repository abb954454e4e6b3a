/**
 * When and whether a persistent peer is dialed again: exponential backoff with jitter, and
 * the refusals that no retry can change (docs/architecture.md "Persistent peers").
 */
import { LnPeerError } from './errors.js';

/** Default first delay before reconnecting: Core Lightning's connectd waits 1 s (INITIAL_WAIT_SECONDS). */
export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 1_000;
/** Default longest delay between attempts: Core Lightning's connectd stops doubling at 300 s (MAX_WAIT_SECONDS). */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 300_000;
/**
 * Each delay is the backoff times a random factor in [1 - JITTER, 1 + JITTER): LND randomises
 * its backoff so that peers a node lost together are not all dialed again in one burst.
 */
export const RECONNECT_JITTER = 0.5;
/**
 * A connection that lasted this long resets the backoff to its first delay; a shorter one (a
 * node that accepts, then drops us) keeps doubling it. LND's defaultStableConnDuration.
 */
export const STABLE_CONNECTION_MS = 10 * 60_000;

/** The delay before attempt `attempt` (0 for the first retry), in ms, before and after jitter. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): { backoffMs: number; delayMs: number } {
  const backoffMs = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 40));
  return { backoffMs, delayMs: Math.round(backoffMs * (1 - RECONNECT_JITTER + 2 * RECONNECT_JITTER * random())) };
}

/**
 * True for a failure that dialing again cannot change: the remote requires what this node
 * does not know (BOLT 1 "The `init` Message": an unknown even feature, features without their
 * dependencies), or it is on no chain of ours (`networks`). A hang-up, a reset or a timeout may
 * be transient: those are retried. (A wrong node id looks like a hang-up in the handshake: the
 * responder cannot read act one and closes, BOLT 8.)
 */
export function isPermanent(error: LnPeerError): boolean {
  return error.code === 'UNKNOWN_EVEN_FEATURE' || error.code === 'MISSING_FEATURE_DEPENDENCY' || error.code === 'NO_COMMON_NETWORK' || error.code === 'INVALID_ADDRESS';
}
