/**
 * An exception thrown by an application's event listener is the application's, never the
 * peer's fault (docs/architecture.md "Errors"): lnpeer rethrows it outside its own code path
 * and carries on, so its state stays consistent and no connection is dropped for it.
 */

/**
 * Rethrows `error` as an uncaught exception: Node's `uncaughtException` (which ends the
 * process unless the application handles it, as for any throwing listener), a browser's
 * `error` event.
 */
export function reportListenerError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
