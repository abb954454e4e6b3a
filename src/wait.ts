/**
 * `{ signal, timeoutMs }`: how every lnpeer call that waits can be aborted or bounded
 * (docs/architecture.md "Waiting"). A wait that ends early rejects with `ABORTED` or `TIMEOUT`.
 */
import { describe } from './bytes.js';
import { isObject } from './checks.js';
import { LnPeerError } from './errors.js';

/** Options of every call that waits. */
export interface WaitOptions {
  /** Aborts the wait: the promise rejects with `ABORTED` (the signal's reason as its `cause`). */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds: the promise rejects with `TIMEOUT`. */
  timeoutMs?: number;
}

/** The largest delay `setTimeout` honours (larger ones fire at once). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Checks the shape of `options` (`undefined`, or an object, not an array, with a signal and a
 * whole number of milliseconds); throws `INVALID_ARGUMENT`.
 */
export function checkWaitOptions<T extends WaitOptions>(options: T | undefined, call: string): T {
  if (options === undefined) return {} as T;
  // Called on every send: the message is built only when it is needed.
  if (!isObject(options)) throw new LnPeerError('INVALID_ARGUMENT', `${call} options must be an object, got ${describe(options)}`);
  const { signal, timeoutMs } = options;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new LnPeerError('INVALID_ARGUMENT', `${call} options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (timeoutMs !== undefined) checkDuration(timeoutMs, `${call} options.timeoutMs`);
  return options;
}

/** Checks a duration in milliseconds: a whole number from `min` to 2^31-1; throws `INVALID_ARGUMENT`. */
export function checkDuration(value: unknown, name: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMEOUT_MS) {
    throw new LnPeerError('INVALID_ARGUMENT', `${name} must be a whole number of milliseconds from ${min} to ${MAX_TIMEOUT_MS}, got ${describe(value)}`, { value });
  }
  return value;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  const s = value as Partial<AbortSignal> | null;
  return typeof s === 'object' && s !== null && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function';
}

/** The error of a wait ended by `signal`: its reason when lnpeer set it (a `TIMEOUT`), else `ABORTED`. */
export function abortError(signal: AbortSignal, what: string): LnPeerError {
  const reason: unknown = signal.reason;
  if (reason instanceof LnPeerError) return reason;
  const why = reason instanceof Error ? `: ${reason.message}` : '';
  return new LnPeerError('ABORTED', `${what} was aborted${why}`, {}, { cause: reason });
}

/**
 * For a wait that settles once (a dialer): calls `fail` with `ABORTED` when `signal` aborts
 * (`what` names the wait), or with `timedOut()` after `timeoutMs`. Returns the function that
 * stops watching, to call when the wait settles either way.
 */
export function watchDeadline({ signal, timeoutMs }: WaitOptions, what: string, timedOut: () => LnPeerError, fail: (error: LnPeerError) => void): () => void {
  const onAbort = () => fail(abortError(signal!, what));
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => fail(timedOut()), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
}

/**
 * A signal that aborts when `options.signal` does, or after `options.timeoutMs` with a
 * `TIMEOUT` error as its reason (`what` names the wait, `details` go into the error). Call
 * `done()` when the wait is over, to clear the timer and the listener.
 */
export function deadline(options: WaitOptions, what: string, details: Record<string, unknown> = {}): { signal: AbortSignal | undefined; done(): void } {
  const { signal, timeoutMs } = options;
  if (timeoutMs === undefined) return { signal, done: () => {} };
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new LnPeerError('TIMEOUT', `${what} did not complete within ${timeoutMs} ms`, { ...details, timeoutMs })), timeoutMs);
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** `promise`, or a rejection with `abortError(signal)` as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
