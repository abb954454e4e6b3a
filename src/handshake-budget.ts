/**
 * A CPU budget per turn of the event loop for the handshake work inbound connections cause:
 * a responder's act one costs a key generation and an ECDH, act three another ECDH (about
 * 6 ms together with noble's pure-JavaScript curve, under 1 ms with libsecp256k1). Acts that
 * arrive in one poll of the event loop would otherwise run back to back, and a burst of them
 * (many connections, or one source replaying act one) would hold the loop from timers and
 * established peers. Past the budget, the remaining acts wait for the next turn, in order.
 */
import { defer } from '#platform';

/** Handshake CPU time spent in one turn of the event loop before the rest waits for the next. */
export const HANDSHAKE_CPU_PER_TURN_MS = 8;

let spentMs = 0;
let resetScheduled = false;

/** Whether handshake work may still run in this turn. */
export function handshakeBudgetLeft(): boolean {
  return spentMs < HANDSHAKE_CPU_PER_TURN_MS;
}

/** Runs `work` and charges its time to this turn's budget. */
export function chargeHandshake<T>(work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    spentMs += performance.now() - started;
    if (!resetScheduled) {
      resetScheduled = true;
      defer(() => {
        spentMs = 0;
        resetScheduled = false;
      });
    }
  }
}
