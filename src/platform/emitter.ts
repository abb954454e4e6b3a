/**
 * An event emitter with the API and semantics of Node's `EventEmitter`, for platforms that
 * have none (browsers): listeners run synchronously in the order they were added, `once`
 * listeners are removed before they run, and `emit('error')` with no listener throws the
 * error, as Node does.
 */
type Listener = (...args: unknown[]) => void;

interface Entry {
  listener: Listener;
  once: boolean;
}

/** The default of Node's `EventEmitter.defaultMaxListeners`; above it Node only warns, and so does nothing here. */
const DEFAULT_MAX_LISTENERS = 10;

export class EventEmitter {
  private readonly entries = new Map<string | symbol, Entry[]>();
  private maxListeners = DEFAULT_MAX_LISTENERS;

  addListener(event: string | symbol, listener: Listener): this {
    return this.add(event, listener, false, false);
  }

  on(event: string | symbol, listener: Listener): this {
    return this.add(event, listener, false, false);
  }

  once(event: string | symbol, listener: Listener): this {
    return this.add(event, listener, true, false);
  }

  prependListener(event: string | symbol, listener: Listener): this {
    return this.add(event, listener, false, true);
  }

  prependOnceListener(event: string | symbol, listener: Listener): this {
    return this.add(event, listener, true, true);
  }

  off(event: string | symbol, listener: Listener): this {
    return this.removeListener(event, listener);
  }

  /** Removes the most recently added registration of `listener`, as Node does. */
  removeListener(event: string | symbol, listener: Listener): this {
    const list = this.entries.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].listener !== listener) continue;
      if (list.length === 1) this.entries.delete(event);
      else this.entries.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
      break;
    }
    return this;
  }

  removeAllListeners(event?: string | symbol): this {
    if (event === undefined) this.entries.clear();
    else this.entries.delete(event);
    return this;
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.entries.get(event);
    if (!list) {
      if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error: ${String(args[0])}`);
      return false;
    }
    // Listeners added or removed while emitting take effect from the next emit (Node's rule):
    // the list is replaced on every change, never mutated, so this one stays as it was.
    for (const entry of list) {
      if (entry.once) this.removeListener(event, entry.listener);
      entry.listener.apply(this, args);
    }
    return true;
  }

  eventNames(): (string | symbol)[] {
    return [...this.entries.keys()];
  }

  listeners(event: string | symbol): Listener[] {
    return (this.entries.get(event) ?? []).map((e) => e.listener);
  }

  /** Node returns the `once` wrappers here; this emitter has none, so these are the listeners. */
  rawListeners(event: string | symbol): Listener[] {
    return this.listeners(event);
  }

  listenerCount(event: string | symbol): number {
    return this.entries.get(event)?.length ?? 0;
  }

  getMaxListeners(): number {
    return this.maxListeners;
  }

  setMaxListeners(n: number): this {
    this.maxListeners = n;
    return this;
  }

  private add(event: string | symbol, listener: Listener, once: boolean, prepend: boolean): this {
    if (typeof listener !== 'function') throw new TypeError(`The "listener" argument must be a function, got ${typeof listener}`);
    const list = this.entries.get(event) ?? [];
    const entry = { listener, once };
    this.entries.set(event, prepend ? [entry, ...list] : [...list, entry]);
    return this;
  }
}
