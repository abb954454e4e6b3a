/**
 * Request/response over custom messages, on `PeerManager`'s public API only: send a message
 * and resolve with the incoming message the application says is its reply, with a timeout,
 * an `AbortSignal`, a cap on requests in flight, and rejection with `CONNECTION_CLOSED` the
 * moment the peer disconnects. No pending request outlives its connection.
 */
import { describe } from '../bytes.js';
import { checkFunction, checkObject, checkOptions } from '../checks.js';
import { LnPeerError } from '../errors.js';
import type { CustomMessageEvent, DisconnectEvent, PeerManager } from '../peer-manager.js';
import { checkWaitOptions, deadline, type WaitOptions } from '../wait.js';

/** Default of `RequestsOptions.maxPending`. */
export const DEFAULT_MAX_PENDING_REQUESTS = 1024;
/** Default of `RequestOptions.timeoutMs`: a minute, as LSPS clients wait (bLIP-50 suggests minutes). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** Options of a {@link Requests}. */
export interface RequestsOptions {
  /** Requests in flight at once, over every peer; one more is refused with `QUEUE_FULL`. Default 1024. */
  maxPending?: number;
  /**
   * For protocols whose replies carry the request's id: the id of an incoming message, or
   * `undefined` when it is no reply. Requests then give their `key`, and a reply finds its
   * request at once, however many are in flight.
   */
  replyKey?: (message: CustomMessageEvent) => string | undefined;
}

/** Options of one request: which incoming custom message from the peer is its reply. */
export interface RequestOptions extends WaitOptions {
  /** Tests each incoming message from the peer; the first one it accepts is the reply. */
  match?: (reply: CustomMessageEvent) => boolean;
  /** With `RequestsOptions.replyKey`: the reply is the message whose key this is. */
  key?: string;
}

interface Pending {
  peerId: string;
  match?: (reply: CustomMessageEvent) => boolean;
  key?: string;
  resolve: (reply: CustomMessageEvent) => void;
  reject: (error: LnPeerError) => void;
}

/**
 * Requests in flight to any number of peers of one `PeerManager`.
 *
 * @example
 * ```ts
 * const requests = new Requests(pm);
 * const id = crypto.getRandomValues(new Uint8Array(8));
 * const reply = await requests.request(peerId, concat(PING_TYPE, id), {
 *   match: (m) => m.type === PONG_TYPE && equal(m.payload.subarray(0, 8), id),
 *   timeoutMs: 5000,
 * });
 * requests.close();
 * ```
 */
export class Requests {
  readonly #pm: PeerManager;
  readonly #maxPending: number;
  readonly #replyKey: RequestsOptions['replyKey'];
  /** With `replyKey`: requests in flight by peer and key. */
  readonly #byKey = new Map<string, Pending>();
  /** Requests in flight by peer, oldest first: a reply goes to the first one it matches. */
  readonly #pending = new Map<string, Set<Pending>>();
  #count = 0;
  #closed = false;

  readonly #onMessage = (message: CustomMessageEvent): void => {
    const list = this.#pending.get(message.peerId);
    if (!list) return;
    if (this.#replyKey) {
      const key = this.#replyKey(message);
      const pending = key === undefined ? undefined : this.#byKey.get(keyOf(message.peerId, key));
      if (pending && this.#settle(pending)) pending.resolve(message);
      return;
    }
    for (const pending of list) {
      let matched: boolean;
      try {
        matched = pending.match!(message);
      } catch (err) {
        // The application's matcher threw: its request fails, the message goes on to the others.
        this.#settle(pending);
        pending.reject(new LnPeerError('INVALID_ARGUMENT', `a request's match function threw: ${String(err)}`, {}, { cause: err }));
        continue;
      }
      if (matched) {
        this.#settle(pending);
        pending.resolve(message);
        return;
      }
    }
  };

  readonly #onDisconnect = ({ peerId, reason }: DisconnectEvent): void => {
    const list = this.#pending.get(peerId);
    if (!list) return;
    const error = new LnPeerError('CONNECTION_CLOSED', `the connection to ${peerId} closed before the reply came: ${reason}`, { peerId });
    for (const pending of [...list]) {
      this.#settle(pending);
      pending.reject(error);
    }
  };

  /** Throws `INVALID_ARGUMENT` when `pm` is not a PeerManager or an option is not valid. */
  constructor(pm: PeerManager, options: RequestsOptions = {}) {
    checkPeerManager(pm, 'new Requests()');
    const { maxPending = DEFAULT_MAX_PENDING_REQUESTS, replyKey } = checkOptions(options, 'new Requests() options');
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new LnPeerError('INVALID_ARGUMENT', `maxPending must be a positive integer, got ${describe(maxPending)}`);
    }
    if (replyKey !== undefined) checkFunction(replyKey, 'new Requests() options.replyKey');
    this.#pm = pm;
    this.#maxPending = maxPending;
    this.#replyKey = replyKey;
    pm.on('custommsg', this.#onMessage);
    pm.on('peer:disconnect', this.#onDisconnect);
  }

  /** Requests in flight. */
  get pending(): number {
    return this.#count;
  }

  /**
   * Sends `message` (as `sendCustomMsg` takes it) to `peerId` and resolves with the first
   * incoming custom message from that peer for which `options.match` is true. Rejects with the
   * send's error, `QUEUE_FULL` (too many requests in flight), `TIMEOUT` (`timeoutMs`, default
   * 60 s), `ABORTED`, or `CONNECTION_CLOSED` when the peer disconnects first.
   */
  request(peerId: string, message: string | Uint8Array, options: RequestOptions): Promise<CustomMessageEvent> {
    return this.send(peerId, options, () => this.#pm.sendCustomMsg(peerId, message));
  }

  /**
   * Like `request`, when sending is more than one `sendCustomMsg` (a request cut into
   * slices): `send` is called once the reply is awaited, so no reply can be missed. It must
   * return a promise; its rejection (or a throw) fails the request at once, with the error
   * itself when it is an `LnPeerError`, else with `INVALID_ARGUMENT` (the error as `cause`).
   */
  send(peerId: string, options: RequestOptions, send: () => Promise<unknown>): Promise<CustomMessageEvent> {
    if (this.#closed) return Promise.reject(new LnPeerError('MANAGER_CLOSED', 'these Requests were closed'));
    try {
      if (typeof peerId !== 'string') throw new LnPeerError('INVALID_ARGUMENT', `request() peerId must be a node id (66 hex characters), got ${describe(peerId)}`);
      // Incoming messages carry lowercase ids.
      peerId = peerId.toLowerCase();
      checkWaitOptions(checkObject(options, 'request() options'), 'request()');
      checkFunction(send, 'request() send');
      if (this.#replyKey ? typeof options.key !== 'string' : typeof options.match !== 'function') {
        throw new LnPeerError('INVALID_ARGUMENT', this.#replyKey ? `request() options.key must be a string, got ${describe(options.key)}` : `request() options.match must be a function, got ${describe(options.match)}`);
      }
      if (options.key !== undefined && this.#byKey.has(keyOf(peerId, options.key))) {
        throw new LnPeerError('INVALID_ARGUMENT', `a request to ${peerId} with key ${JSON.stringify(options.key)} is already in flight: keys must be unique`, { key: options.key });
      }
      if (!this.#pm.peer(peerId)) throw new LnPeerError('PEER_NOT_CONNECTED', `peer ${peerId} is not connected: connect() first`, { peerId });
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#count >= this.#maxPending) {
      return Promise.reject(new LnPeerError('QUEUE_FULL', `${this.#count} requests are waiting for their reply (maxPending ${this.#maxPending}); await some first`, { pending: this.#count }));
    }
    const wait = deadline({ signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS }, `the request to ${peerId}`, { peerId });
    return new Promise<CustomMessageEvent>((resolve, reject) => {
      const pending: Pending = { peerId, match: options.match, key: options.key, resolve, reject };
      const reason = () => (wait.signal!.reason instanceof LnPeerError ? wait.signal!.reason : new LnPeerError('ABORTED', `the request to ${peerId} was aborted`, { peerId }, { cause: wait.signal!.reason }));
      const giveUp = () => {
        if (this.#settle(pending)) reject(reason());
      };
      // Aborted already: nothing is sent.
      if (wait.signal?.aborted) return reject(reason());
      wait.signal?.addEventListener('abort', giveUp, { once: true });
      this.#add(pending);
      const failed = (error: unknown) => {
        if (this.#settle(pending)) reject(error instanceof LnPeerError ? error : new LnPeerError('INVALID_ARGUMENT', `a request's send function failed: ${String(error)}`, { peerId }, { cause: error }));
      };
      let sent: unknown;
      try {
        sent = send();
      } catch (error) {
        return failed(error);
      }
      if (typeof (sent as Partial<PromiseLike<unknown>> | null)?.then !== 'function') {
        return failed(new LnPeerError('INVALID_ARGUMENT', `request() send must return a promise (the sends' completion), got ${describe(sent)}`, { peerId }));
      }
      (sent as PromiseLike<unknown>).then(undefined, failed);
    }).finally(() => wait.done());
  }

  /** Rejects every request in flight with `MANAGER_CLOSED` and stops listening to the PeerManager. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pm.off('custommsg', this.#onMessage);
    this.#pm.off('peer:disconnect', this.#onDisconnect);
    const error = new LnPeerError('MANAGER_CLOSED', 'the request was pending when its Requests were closed');
    for (const list of [...this.#pending.values()]) {
      for (const pending of [...list]) {
        this.#settle(pending);
        pending.reject(error);
      }
    }
  }

  #add(pending: Pending): void {
    if (pending.key !== undefined) this.#byKey.set(keyOf(pending.peerId, pending.key), pending);
    const list = this.#pending.get(pending.peerId);
    if (list) list.add(pending);
    else this.#pending.set(pending.peerId, new Set([pending]));
    this.#count++;
  }

  /** Takes `pending` out of flight; false when it was already settled. */
  #settle(pending: Pending): boolean {
    const list = this.#pending.get(pending.peerId);
    if (!list?.delete(pending)) return false;
    if (list.size === 0) this.#pending.delete(pending.peerId);
    if (pending.key !== undefined) this.#byKey.delete(keyOf(pending.peerId, pending.key));
    this.#count--;
    return true;
  }
}

function keyOf(peerId: string, key: string): string {
  return `${peerId} ${key}`;
}

/** Checks that `pm` is a PeerManager (what the protocols on it use of it); throws `INVALID_ARGUMENT`. */
export function checkPeerManager(pm: unknown, what: string): void {
  const m = pm as Partial<PeerManager> | null;
  if (typeof m !== 'object' || m === null || typeof m.on !== 'function' || typeof m.off !== 'function' || typeof m.sendCustomMsg !== 'function' || typeof m.peer !== 'function' || !Array.isArray(m.features)) {
    throw new LnPeerError('INVALID_ARGUMENT', `${what} takes a PeerManager, got ${describe(pm)}`);
  }
}
