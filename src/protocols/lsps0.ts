/**
 * LSPS0, the LSP Spec transport (bLIP-50 "LSPS0: LSP Spec Transport Layer"): JSON-RPC 2.0
 * over the odd custom message type 37913, as a client ({@link Lsps0Client}) and as an LSP
 * ({@link Lsps0Server}), on `PeerManager`'s public API and {@link Requests} only.
 * Platform-neutral: no Node built-ins; request ids come from `globalThis.crypto.getRandomValues`.
 *
 * Both sides only listen to the `custommsg` event: type 37913 still reaches every other
 * listener of the application.
 */
import { EventEmitter } from '#platform';
import { describe, toHex } from '../bytes.js';
import { checkObject } from '../checks.js';
import { MAX_PAYLOAD_LENGTH } from '../custom-message.js';
import { LnPeerError } from '../errors.js';
import { reportListenerError } from '../listener-errors.js';
import { nodeIdHex } from '../node-id.js';
import type { CustomMessageEvent, DisconnectEvent, PeerManager } from '../peer-manager.js';
import type { PeerInfo } from '../session.js';
import type { TypedEmitter } from '../typed-emitter.js';
import { checkWaitOptions, type WaitOptions } from '../wait.js';
import { DEFAULT_MAX_PENDING_REQUESTS, Requests, checkPeerManager } from './requests.js';

/** bLIP-50 "Lightning Peer-To-Peer Transport": every LSPS message is custom message 37913 (`lsps0_message_id`). */
export const LSPS0_MESSAGE_TYPE = 37913;
/** bLIP-50 "Lightning Feature Bit": `option_supports_lsps`, set by LSPs in `init` (never by clients). */
export const LSPS_FEATURE_BIT = 729;
/**
 * Default of `timeoutMs` of a client call: 2 minutes. bLIP-50 "Disconnection Handling": clients
 * "SHOULD internally impose a reasonable timeout, on the scale of minutes".
 */
export const DEFAULT_LSPS0_TIMEOUT_MS = 120_000;
/** Default of `Lsps0ServerOptions.maxInFlightPerPeer`. */
export const DEFAULT_LSPS0_MAX_IN_FLIGHT_PER_PEER = 32;
/** Default of `Lsps0ServerOptions.maxKnownClients`. */
export const DEFAULT_LSPS0_MAX_KNOWN_CLIENTS = 10_000;
/** Smallest `maxMessageBytes` a server takes: room for its own error replies. */
export const MIN_LSPS0_MESSAGE_BYTES = 256;

/**
 * The JSON-RPC error codes this module sends or acts on. The first four are JSON-RPC 2.0's
 * (section 5.1); the last three are this server's own, in the range JSON-RPC reserves for
 * "implementation-defined server-errors" (-32000 to -32099), which bLIP-50 "Custom Errors"
 * lets LSPs use and tells clients to treat like `-32603` unless they know better.
 */
export const LSPS0_ERROR_CODES = {
  /** Not valid LSPS0 JSON-RPC (bLIP-50 "Message Payload Format"); always with `id: null`. */
  PARSE_ERROR: -32700,
  METHOD_NOT_FOUND: -32601,
  /** bLIP-50 "-32602 Invalid Parameters Error": `data.unrecognized` names the unknown parameters. */
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** The peer has `maxInFlightPerPeer` requests being handled already; `data.max_in_flight`. */
  TOO_MANY_IN_FLIGHT: -32000,
  /** The request is larger than the server's `maxMessageBytes`; `data.max_message_bytes`. */
  REQUEST_TOO_LARGE: -32001,
  /** The answer would be larger than `maxMessageBytes` (at most 65,533 bytes, BOLT 1); `data.max_message_bytes`. */
  RESPONSE_TOO_LARGE: -32002,
} as const;

/** A JSON object: `params`, `result` and `data` in LSPS are objects (bLIP-50). */
export type JsonObject = Record<string, unknown>;

/** A non-fatal observation, for the application's log (bLIP-50: "SHOULD log this as an unusual event"). */
export interface Lsps0Notice {
  peerId: string;
  kind:
    | 'bad-message' // not valid LSPS0 JSON-RPC (the server answered -32700; the client stopped)
    | 'response-ignored' // the server got a JSON-RPC response: not answered, so that no two servers answer each other forever
    | 'notification-ignored' // a notification nobody handles, or whose params are not accepted; JSON-RPC: never answered
    | 'unmatched-error' // the client got an error with `id: null` other than -32700
    | 'handler-error' // a handler threw something other than an Lsps0Error: answered -32603
    | 'bad-result' // a handler returned something that is not a JSON object: answered -32603
    | 'request-too-large' // answered -32001
    | 'reply-too-large' // answered -32002
    | 'in-flight-limit' // answered -32000
    | 'send-failed'; // an answer could not be queued (the peer is still connected)
  message: string;
  method?: string;
  /** What was thrown, for `handler-error` and `send-failed`: log it, it is never sent. */
  error?: unknown;
}

/**
 * The error a handler throws to answer with a JSON-RPC error of its choosing: `code`,
 * `message` and `data` go to the client as they are (bLIP-50: `data` is an object). Like
 * every error class, constructing one never throws: the server answers `-32603` instead when
 * `code` is not an integer or `data` not an object, with a `handler-error` notice.
 *
 * @example
 * ```ts
 * throw new Lsps0Error(100, 'Option mismatch', { property: 'lsp_balance_sat' });
 * throw Lsps0Error.invalidParams(['future_param']);
 * ```
 */
export class Lsps0Error extends Error {
  override readonly name = 'Lsps0Error';
  readonly code: number;
  readonly data: JsonObject | undefined;

  constructor(code: number, message: string, data?: JsonObject) {
    super(message);
    this.code = code;
    this.data = data;
  }

  /**
   * bLIP-50 "-32602 Invalid Parameters Error", with the parameter names it does not recognize
   * (and more members of `data`, if given). Throws `INVALID_ARGUMENT` when `unrecognized` is
   * not an array of strings or `data` not an object.
   */
  static invalidParams(unrecognized: readonly string[], data: JsonObject = {}): Lsps0Error {
    if (!Array.isArray(unrecognized) || !unrecognized.every((n) => typeof n === 'string')) {
      throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Error.invalidParams() takes the unrecognized parameter names as an array of strings, got ${describe(unrecognized)}`);
    }
    if (!isObject(data)) throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Error.invalidParams() data must be an object, got ${describe(data)}`);
    return new Lsps0Error(LSPS0_ERROR_CODES.INVALID_PARAMS, 'Invalid params', { ...data, unrecognized: [...unrecognized] });
  }
}

/** The JSON-RPC error object of an Lsps0Error, or undefined when it does not make one. */
function errorOf(err: Lsps0Error): { code: number; message: string; data?: JsonObject } | undefined {
  const { code, message, data } = err;
  if (!Number.isSafeInteger(code) || typeof message !== 'string' || (data !== undefined && !isObject(data))) return undefined;
  return { code, message, data };
}

/** `details` of an `RPC_ERROR` rejection: the LSP's JSON-RPC error. */
export interface Lsps0RpcErrorDetails {
  peerId: string;
  method: string;
  code: number;
  /**
   * The LSP's message, with control characters, `<` and `>` replaced by `?` (bLIP-50 "Error
   * Handling": clients "MUST carefully filter error messages"). Show users your own text
   * for the `code` instead.
   */
  message: string;
  data?: unknown;
}

// ---------------------------------------------------------------------------------------
// Messages

type Id = string | number;
type Parsed =
  | { kind: 'bad'; reason: string }
  | { kind: 'request'; id: Id; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: Id | null; result?: unknown; error?: { code: number; message: string; data?: unknown } };

// `ignoreBOM`: a byte order mark stays in the text and fails the JSON parse, as bLIP-50 allows
// only spaces, tabs, line feeds and carriage returns around the object.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const bad = (reason: string): Parsed => ({ kind: 'bad', reason });

/**
 * bLIP-50 "Message Payload Format": the checks on every received 37913 payload. A failure is a
 * "bad message format". JSON-RPC 2.0 section 4 says what a request, a notification (a request
 * without `id`) and a response (section 5) are.
 */
function parsePayload(payload: Uint8Array): Parsed {
  // "The payload MUST NOT contain any 0 bytes."
  if (payload.includes(0)) return bad('it contains a 0 byte');
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return bad('it is not valid UTF-8');
  }
  // "MUST parse as a single complete UTF-8 encoded JSON object … with optional leading or
  // trailing whitespaces": JSON.parse takes exactly those four whitespace characters, and
  // nothing after the value (so "{ } { }" fails).
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad(text.trim() === '' ? 'it is empty' : 'it is not one complete JSON value');
  }
  // JSON-RPC "Batch" is not allowed: the client "MUST NOT batch".
  if (Array.isArray(value)) return bad('it is a JSON array (JSON-RPC batches are not allowed)');
  if (!isObject(value)) return bad(`it is ${describe(value)}, not a JSON object`);
  if (value.jsonrpc !== '2.0') return bad(`its jsonrpc member is ${Object.hasOwn(value, 'jsonrpc') ? describe(value.jsonrpc) : 'missing'}, not "2.0"`);
  const hasId = Object.hasOwn(value, 'id');
  const id = value.id;
  if (Object.hasOwn(value, 'method')) {
    const { method, params } = value;
    if (typeof method !== 'string') return bad(`its method is ${describe(method)}, not a string`);
    // JSON-RPC 4.2: params, when present, is an object or an array.
    if (params !== undefined && (typeof params !== 'object' || params === null)) return bad(`the params of ${method} are ${describe(params)}, not an object`);
    if (!hasId) return { kind: 'notification', method, params };
    // JSON-RPC allows null ids, but an answer with id null reads as a parse error; bLIP-50
    // "Disconnection Handling" wants a high-entropy string anyway.
    if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) return bad(`its id is ${describe(id)}, not a string or a number`);
    return { kind: 'request', id, method, params };
  }
  if (!hasId) return bad('it has neither method nor id');
  if (typeof id !== 'string' && id !== null && !(typeof id === 'number' && Number.isFinite(id))) return bad(`its id is ${describe(id)}, not a string, a number or null`);
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  // JSON-RPC 5: "Either the result member or error member MUST be included, but both members MUST NOT be included."
  if (hasResult === hasError) return bad(hasResult ? 'it has both result and error' : 'it has no method, result or error');
  if (hasResult) return { kind: 'response', id, result: value.result };
  const { error } = value;
  if (!isObject(error) || !Number.isSafeInteger(error.code) || typeof error.message !== 'string') return bad('its error is not { code: integer, message: string }');
  return { kind: 'response', id, error: { code: error.code as number, message: error.message, ...(Object.hasOwn(error, 'data') ? { data: error.data } : {}) } };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A whole 37913 message: the type, then the UTF-8 JSON. */
function frame(json: string): Uint8Array {
  const body = encoder.encode(json);
  const message = new Uint8Array(2 + body.length);
  message[0] = LSPS0_MESSAGE_TYPE >> 8;
  message[1] = LSPS0_MESSAGE_TYPE & 0xff;
  message.set(body, 2);
  return message;
}

/** JSON-RPC 5.1 error response, members in the order of bLIP-50's examples. */
function errorResponse(id: Id | null, code: number, message: string, data?: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });
}

/** bLIP-50 "Message Payload Format": the LSP answers a bad message with "parse error" (`code` = -32700, `id` = `null`). */
const PARSE_ERROR_RESPONSE = errorResponse(null, LSPS0_ERROR_CODES.PARSE_ERROR, 'Parse error');

/** bLIP-50 "Error Handling": text from the LSP, safe to put in a log line, a terminal or HTML. */
function filterText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f<>\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
}

function checkMethod(method: unknown, what: string): string {
  if (typeof method !== 'string' || method === '') throw new LnPeerError('INVALID_ARGUMENT', `${what} must be a non-empty string, got ${describe(method)}`);
  return method;
}

function checkParams(params: unknown, method: string): JsonObject {
  // bLIP-50: "MUST NOT use by-position parameter structures, and MUST use by-name parameter structures."
  if (!isObject(params)) throw new LnPeerError('INVALID_ARGUMENT', `the params of ${method} must be an object (bLIP-50: by name, never by position), got ${describe(params)}`);
  return params;
}

/** JSON text, or `INVALID_ARGUMENT` naming what could not be written. */
function toJson(value: JsonObject, method: string): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    throw new LnPeerError('INVALID_ARGUMENT', `the params of ${method} cannot be written as JSON: ${(err as Error).message}`, { method }, { cause: err });
  }
}

/** Checks that a message fits in one Lightning message: bLIP-50 has no chunking. */
function checkSize(message: Uint8Array, max: number, what: string, peerId: string): void {
  if (message.length - 2 <= max) return;
  throw new LnPeerError(
    'MESSAGE_TOO_LONG',
    `${what} is ${message.length - 2} bytes of JSON; an LSPS0 message is one custom message of at most ${max} payload bytes (bLIP-50 has no chunking), so it was not sent`,
    { peerId, bytes: message.length - 2, max },
  );
}

/** Emits to the application; an exception from its listener is the application's. */
function emitSafely(emitter: { emit(event: string, ...args: unknown[]): boolean }, event: string, arg: unknown): void {
  try {
    emitter.emit(event, arg);
  } catch (err) {
    reportListenerError(err);
  }
}

// ---------------------------------------------------------------------------------------
// Client

/** Options of an {@link Lsps0Client}. */
export interface Lsps0ClientOptions {
  /** Calls in flight at once, over every LSP; one more is refused with `QUEUE_FULL`. Default 1024. */
  maxPending?: number;
  /**
   * Put before the 128 random bits (32 hex characters) of every request id, for the LSP's
   * logs (bLIP-50: clients "MAY include additional information in their `id`"). Default none.
   */
  idPrefix?: string;
}

/** Options of one call: `timeoutMs` defaults to 2 minutes ({@link DEFAULT_LSPS0_TIMEOUT_MS}). */
export type Lsps0CallOptions = WaitOptions;

/** A notification from an LSP: a JSON-RPC request without `id` (bLIP-50: the LSP MAY send them). */
export interface Lsps0Notification {
  peerId: string;
  method: string;
  params: JsonObject;
}

/** Why a client stopped sending to an LSP until it reconnects. */
export interface Lsps0StoppedEvent {
  peerId: string;
  /** `parse-error`: the LSP answered -32700; `bad-message`: it sent something that is not valid LSPS0. */
  reason: 'parse-error' | 'bad-message';
  /** What calls to that LSP reject with until it reconnects (`PROTOCOL_VIOLATION`). */
  error: LnPeerError;
}

/** The events of an {@link Lsps0Client}. */
export type Lsps0ClientEvents = {
  /** An LSP sent a notification (from any connected peer: an LSP may notify right after a reconnection). */
  notification: (notification: Lsps0Notification) => void;
  /** The client stopped sending to an LSP until it reconnects (the -32700 rule). */
  stopped: (event: Lsps0StoppedEvent) => void;
  /** Something unusual that changed nothing. */
  notice: (notice: Lsps0Notice) => void;
};

/**
 * The client side of LSPS0: calls an LSP's JSON-RPC methods and receives its notifications
 * (the `notification` event).
 *
 * @example
 * ```ts
 * const client = new Lsps0Client(pm);
 * client.on('notification', ({ peerId, method, params }) => console.log(peerId, method, params));
 * const protocols = await client.listProtocols(lspId);              // [1, 2]
 * const info = await client.call(lspId, { method: 'lsps1.get_info' }, { timeoutMs: 30_000 });
 * client.close();
 * ```
 */
export class Lsps0Client extends (EventEmitter as new () => TypedEmitter<Lsps0ClientEvents>) {
  readonly #pm: PeerManager;
  readonly #requests: Requests;
  readonly #idPrefix: string;
  /** Each 37913 message parsed once, for the listener here and for `Requests`'s `replyKey`. */
  readonly #parsed = new WeakMap<CustomMessageEvent, Parsed>();
  /** Peers this client sent a 37913 message on their current connection: only their messages are checked. */
  readonly #talkedTo = new Set<string>();
  /** Peers this client no longer sends to until they reconnect, with the error calls get. */
  readonly #stopped = new Map<string, LnPeerError>();
  /** What aborts each call in flight, by peer. */
  readonly #calls = new Map<string, Set<AbortController>>();
  #closed = false;

  readonly #replyKey = (message: CustomMessageEvent): string | undefined => {
    if (message.type !== LSPS0_MESSAGE_TYPE || !this.#talkedTo.has(message.peerId)) return undefined;
    const parsed = this.#parse(message);
    return parsed.kind === 'response' && typeof parsed.id === 'string' ? parsed.id : undefined;
  };

  readonly #onMessage = (message: CustomMessageEvent): void => {
    if (message.type !== LSPS0_MESSAGE_TYPE) return;
    const { peerId } = message;
    const parsed = this.#parse(message);
    const talkedTo = this.#talkedTo.has(peerId);
    if (parsed.kind === 'notification') {
      // bLIP-50: the LSP "MUST use by-name parameter structures for notifications".
      if (parsed.params === undefined || isObject(parsed.params)) {
        emitSafely(this, 'notification', { peerId, method: parsed.method, params: (parsed.params ?? {}) as JsonObject });
        return;
      }
      if (talkedTo) this.#stop(peerId, 'bad-message', `the params of its notification ${parsed.method} are not an object`);
      return;
    }
    // A message from a peer this client never wrote to on this connection is not for it
    // (bLIP-50: an LSP "SHOULD NOT send … 37913 unless the peer had already sent" one): it is
    // a request to an Lsps0Server on the same PeerManager, or a late answer.
    if (!talkedTo) return;
    if (parsed.kind === 'bad') return this.#stop(peerId, 'bad-message', parsed.reason);
    // bLIP-50: "If the client, the received payload MUST parse to a … response or notification object."
    if (parsed.kind === 'request') return this.#stop(peerId, 'bad-message', `it is a request (${parsed.method}), and an LSP sends only responses and notifications`);
    if (parsed.id !== null) return; // Requests settles the call; an id it does not know is ignored (bLIP-50 "Disconnection Handling": MUST ignore)
    if (parsed.error?.code === LSPS0_ERROR_CODES.PARSE_ERROR) return this.#stop(peerId, 'parse-error', '');
    emitSafely(this, 'notice', {
      peerId,
      kind: 'unmatched-error',
      message: `peer ${peerId} sent a response with id null (${parsed.error ? `error ${parsed.error.code}` : 'a result'}); no call can be matched to it, so it was ignored`,
    } satisfies Lsps0Notice);
  };

  readonly #onConnect = ({ peerId }: PeerInfo): void => {
    // bLIP-50 "Message Payload Format": stop "on this connection session", "re-attempt this on reconnection".
    this.#stopped.delete(peerId);
    this.#talkedTo.delete(peerId);
  };

  readonly #onDisconnect = ({ peerId }: DisconnectEvent): void => {
    // A connection replaced by a newer one reports its end after the new one is up: keep that one's state.
    if (this.#pm.peer(peerId)) return;
    this.#stopped.delete(peerId);
    this.#talkedTo.delete(peerId);
  };

  /** Throws `INVALID_ARGUMENT` when an option is not valid. */
  constructor(pm: PeerManager, options: Lsps0ClientOptions = {}) {
    super();
    checkPeerManager(pm, 'new Lsps0Client()');
    checkObject(options, 'new Lsps0Client() options');
    const { maxPending = DEFAULT_MAX_PENDING_REQUESTS, idPrefix = '' } = options;
    if (typeof idPrefix !== 'string' || idPrefix.length > 64) throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Client idPrefix must be a string of at most 64 characters, got ${describe(idPrefix)}`);
    this.#pm = pm;
    this.#idPrefix = idPrefix;
    this.#requests = new Requests(pm, { maxPending, replyKey: this.#replyKey });
    pm.on('custommsg', this.#onMessage);
    pm.on('peer:connect', this.#onConnect);
    pm.on('peer:disconnect', this.#onDisconnect);
  }

  /** Calls in flight. */
  get pending(): number {
    return this.#requests.pending;
  }

  /**
   * Calls `request.method` on the LSP `peerId` (connected) with `request.params` (by name;
   * default `{}`) and resolves with the JSON-RPC `result`. Rejects with `RPC_ERROR` when the
   * LSP answers with an error (`details`: {@link Lsps0RpcErrorDetails}), `PROTOCOL_VIOLATION`
   * when this client stopped talking to that LSP until it reconnects (it answered -32700 or
   * sent something that is not LSPS0; see the `stopped` event), `CONNECTION_CLOSED` when it
   * disconnects first, `TIMEOUT` (`timeoutMs`, default 2 minutes), `ABORTED`, `QUEUE_FULL`,
   * `PEER_NOT_CONNECTED`, `MESSAGE_TOO_LONG` (a request over 65,533 bytes, never sent),
   * `INVALID_ARGUMENT`, `INVALID_NODE_ID` or `MANAGER_CLOSED`.
   */
  async call<T = unknown>(peerId: string | Uint8Array, request: { method: string; params?: JsonObject }, options: Lsps0CallOptions = {}): Promise<T> {
    if (this.#closed) throw new LnPeerError('MANAGER_CLOSED', 'this Lsps0Client was closed');
    const peer = nodeIdHex(peerId);
    if (typeof request !== 'object' || request === null) throw new LnPeerError('INVALID_ARGUMENT', `an LSPS0 request must be an object { method, params }, got ${describe(request)}`);
    const method = checkMethod(request.method, 'an LSPS0 request method');
    const params = checkParams(request.params ?? {}, method);
    checkWaitOptions(options, 'call()');
    this.#assertNotStopped(peer);
    // bLIP-50 "Disconnection Handling": a high-entropy id (here 128 bits), never a counter.
    const id = `${this.#idPrefix}${toHex(globalThis.crypto.getRandomValues(new Uint8Array(16)))}`;
    const message = frame(toJson({ jsonrpc: '2.0', id, method, params }, method));
    checkSize(message, MAX_PAYLOAD_LENGTH, `the request ${method}`, peer);

    const controller = new AbortController();
    const { signal } = options;
    const onAbort = () => controller.abort(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    let calls = this.#calls.get(peer);
    if (!calls) this.#calls.set(peer, (calls = new Set()));
    calls.add(controller);
    try {
      const reply = await this.#requests.send(peer, { key: id, signal: controller.signal, timeoutMs: options.timeoutMs ?? DEFAULT_LSPS0_TIMEOUT_MS }, () => {
        this.#talkedTo.add(peer);
        return this.#pm.sendCustomMsg(peer, message);
      });
      const parsed = this.#parse(reply) as Extract<Parsed, { kind: 'response' }>;
      if (parsed.error) {
        const { code, data } = parsed.error;
        const text = filterText(parsed.error.message);
        const details: Lsps0RpcErrorDetails = { peerId: peer, method, code, message: text, ...(data !== undefined ? { data } : {}) };
        throw new LnPeerError('RPC_ERROR', `${method} on ${peer} failed with error ${code}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`, { ...details });
      }
      return parsed.result as T;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      calls.delete(controller);
      if (calls.size === 0 && this.#calls.get(peer) === calls) this.#calls.delete(peer);
    }
  }

  /**
   * `lsps0.list_protocols` (bLIP-50 "LSPS Specification Support Query"): the LSPS numbers the
   * LSP supports, for example `[1, 2]`. Rejects as `call()` does, and with
   * `PROTOCOL_VIOLATION` when the result has no array of integers `protocols`.
   */
  async listProtocols(peerId: string | Uint8Array, options: Lsps0CallOptions = {}): Promise<number[]> {
    checkWaitOptions(options, 'listProtocols()');
    const result = await this.call<unknown>(peerId, { method: 'lsps0.list_protocols', params: {} }, options);
    const protocols = isObject(result) ? result.protocols : undefined;
    if (!Array.isArray(protocols) || !protocols.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new LnPeerError('PROTOCOL_VIOLATION', `lsps0.list_protocols on ${nodeIdHex(peerId)} answered without an array of integers "protocols"`, { peerId: nodeIdHex(peerId) });
    }
    return protocols as number[];
  }

  /**
   * Sends a JSON-RPC notification (no `id`, no answer) to `peerId`. **bLIP-50 forbids it for
   * standard LSPS** ("The client … MUST NOT send JSON-RPC 2.0 notification objects"): use it
   * only with an LSP that documents a notification method (an `Lsps0Server` with
   * `notifications`); others ignore it. Resolves once written; rejects as `sendCustomMsg`
   * does, with `PROTOCOL_VIOLATION` when the client stopped talking to that LSP, or
   * `MESSAGE_TOO_LONG`.
   */
  async notify(peerId: string | Uint8Array, method: string, params: JsonObject = {}, options?: WaitOptions): Promise<void> {
    if (this.#closed) throw new LnPeerError('MANAGER_CLOSED', 'this Lsps0Client was closed');
    const peer = nodeIdHex(peerId);
    checkMethod(method, 'a notification method');
    checkParams(params, method);
    checkWaitOptions(options, 'notify()');
    this.#assertNotStopped(peer);
    const message = frame(toJson({ jsonrpc: '2.0', method, params }, method));
    checkSize(message, MAX_PAYLOAD_LENGTH, `the notification ${method}`, peer);
    if (this.#pm.peer(peer)) this.#talkedTo.add(peer);
    await this.#pm.sendCustomMsg(peer, message, options);
  }

  /** True when the connected peer `peerId` set feature bit 729 in `init` (bLIP-50: LSPs MAY, clients MUST NOT). */
  advertisesLsps(peerId: string | Uint8Array): boolean {
    return this.#pm.peer(peerId)?.features.includes(LSPS_FEATURE_BIT) ?? false;
  }

  /** The reason this client does not send to `peerId` until it reconnects, if it stopped. */
  stoppedReason(peerId: string | Uint8Array): LnPeerError | undefined {
    return this.#stopped.get(nodeIdHex(peerId));
  }

  /** Rejects every call in flight with `MANAGER_CLOSED` and stops listening to the PeerManager. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#requests.close();
    this.#pm.off('custommsg', this.#onMessage);
    this.#pm.off('peer:connect', this.#onConnect);
    this.#pm.off('peer:disconnect', this.#onDisconnect);
  }

  #parse(message: CustomMessageEvent): Parsed {
    let parsed = this.#parsed.get(message);
    if (!parsed) this.#parsed.set(message, (parsed = parsePayload(message.payload)));
    return parsed;
  }

  #assertNotStopped(peerId: string): void {
    const stopped = this.#stopped.get(peerId);
    if (stopped) throw new LnPeerError('PROTOCOL_VIOLATION', stopped.message, { ...stopped.details }, { cause: stopped });
  }

  /**
   * Stops sending to `peerId` on this connection, and fails its calls in flight (the call the
   * LSP could not read cannot be told apart from the others).
   */
  #stop(peerId: string, reason: Lsps0StoppedEvent['reason'], why: string): void {
    if (this.#stopped.has(peerId)) return;
    const cause =
      reason === 'parse-error'
        ? 'it answered -32700 (parse error): it could not read a message of this client'
        : `it sent a message that is not valid LSPS0 JSON-RPC (${why}); bLIP-50 "Message Payload Format": the client "SHOULD NOT send further BOLT8 messages with ID 37913 to the peer on this connection session"`;
    const error = new LnPeerError('PROTOCOL_VIOLATION', `no LSPS0 message goes to ${peerId} until it reconnects: ${cause}`, { peerId, reason, ...(why ? { why } : {}) });
    this.#stopped.set(peerId, error);
    for (const controller of this.#calls.get(peerId) ?? []) controller.abort(error);
    if (reason === 'bad-message') emitSafely(this, 'notice', { peerId, kind: 'bad-message', message: error.message } satisfies Lsps0Notice);
    emitSafely(this, 'stopped', { peerId, reason, error } satisfies Lsps0StoppedEvent);
  }
}

// ---------------------------------------------------------------------------------------
// Server

/** What a handler learns about the call besides its params. */
export interface Lsps0RequestContext {
  /** The client's node id. */
  peerId: string;
  method: string;
  /** The JSON-RPC id of the request; absent for a notification. */
  id?: string | number;
}

/** Answers a method: returns (or resolves with) the `result`, a JSON object; throws an {@link Lsps0Error} to answer with an error. */
export type Lsps0Handler = (params: JsonObject, context: Lsps0RequestContext) => JsonObject | Promise<JsonObject>;

/**
 * A method and the parameters it takes. The server answers `-32602` with
 * `data.unrecognized` itself, before calling the handler, when a name is not in `params`
 * (bLIP-50 "-32602 Invalid Parameters Error"), or when one in `required` is missing
 * (`data.missing`). `params: 'any'` leaves every check to the handler.
 */
export interface Lsps0MethodSpec {
  /** The parameter names the method recognizes. Default: none. */
  params?: readonly string[] | 'any';
  /** The ones a call must give (a subset of `params`). Default: none. */
  required?: readonly string[];
  handler: Lsps0Handler;
}

/** Handles a notification from a client; no answer is ever sent (JSON-RPC 4.1). */
export type Lsps0NotificationHandler = (params: JsonObject, context: Lsps0RequestContext) => void | Promise<void>;

/** A notification method and the parameters it takes (unknown ones make it ignored, with a notice). */
export interface Lsps0NotificationSpec {
  params?: readonly string[] | 'any';
  required?: readonly string[];
  handler: Lsps0NotificationHandler;
}

/** Options of an {@link Lsps0Server}. */
export interface Lsps0ServerOptions {
  /** The LSPS numbers `lsps0.list_protocols` reports, e.g. `[1, 2]` (never 0, bLIP-50). Default `[]`. */
  protocols?: readonly number[];
  /**
   * The methods, by name. A bare function takes no parameters (any parameter is answered with
   * -32602); `{ params, required, handler }` declares them. `lsps0.list_protocols` is built in.
   */
  methods?: Record<string, Lsps0Handler | Lsps0MethodSpec>;
  /**
   * Notifications (requests without `id`) this server takes from clients. bLIP-50 forbids
   * clients to send them for standard LSPS; any other is ignored (JSON-RPC never answers a
   * notification), with a `notice`.
   */
  notifications?: Record<string, Lsps0NotificationHandler | Lsps0NotificationSpec>;
  /** Requests of one peer being handled at once; one more is answered -32000. Default 32. */
  maxInFlightPerPeer?: number;
  /**
   * Largest request taken (a larger one is answered -32001) and largest answer or notification
   * sent (a larger answer becomes a -32002 error), in payload bytes: 256 to 65,533 (BOLT 1's
   * maximum, the default).
   */
  maxMessageBytes?: number;
  /**
   * Clients known from earlier runs: `notify()` may write to them before they send anything on
   * this run (bLIP-50: the client sent 37913 "possibly in a past connection session"). Keep
   * them from the `client` event.
   */
  knownClients?: Iterable<string>;
  /** Clients remembered (the most recently seen are kept). Default 10,000. */
  maxKnownClients?: number;
}

/** The events of an {@link Lsps0Server}. */
export type Lsps0ServerEvents = {
  /** Something unusual (a bad message, a handler that threw, a reply too large…), for the log. */
  notice: (notice: Lsps0Notice) => void;
  /** A peer sent 37913 for the first time since this server started (or since it was forgotten): it is an LSPS client. */
  client: (event: { peerId: string }) => void;
};

interface Method<H> {
  /** `undefined`: any parameter. */
  params: ReadonlySet<string> | undefined;
  required: readonly string[];
  handler: H;
}

/**
 * The LSP side of LSPS0: answers `lsps0.list_protocols` and the application's methods over
 * custom message 37913, with JSON-RPC's errors, per-peer limits, and notifications to
 * clients. The PeerManager must offer feature bit 729 (bLIP-50 "Lightning Feature Bit").
 *
 * @example
 * ```ts
 * const pm = new PeerManager({ features: [729] });
 * const server = new Lsps0Server(pm, {
 *   protocols: [1],
 *   methods: {
 *     'lsps1.get_info': async () => ({ min_channel_balance_sat: '50000' }),
 *     'lsps1.get_order': { params: ['order_id'], required: ['order_id'], handler: async ({ order_id }) => getOrder(order_id) },
 *   },
 * });
 * server.on('notice', (n) => console.warn(n.message, n.error ?? ''));
 * ```
 */
export class Lsps0Server extends (EventEmitter as new () => TypedEmitter<Lsps0ServerEvents>) {
  readonly #pm: PeerManager;
  readonly #protocols: readonly number[];
  readonly #methods: Map<string, Method<Lsps0Handler>>;
  readonly #notifications: Map<string, Method<Lsps0NotificationHandler>>;
  readonly #maxInFlight: number;
  readonly #maxMessageBytes: number;
  readonly #maxKnownClients: number;
  /** Requests (and notifications) being handled, by peer. */
  readonly #inFlight = new Map<string, number>();
  /** Peers that sent 37913, least recently seen first. */
  readonly #clients = new Set<string>();
  #closed = false;

  readonly #onMessage = (message: CustomMessageEvent): void => {
    if (message.type !== LSPS0_MESSAGE_TYPE || this.#closed) return;
    try {
      this.#receive(message);
    } catch (err) {
      // A defect here must not reach the PeerManager's dispatch.
      reportListenerError(err);
    }
  };

  /** Throws `INVALID_ARGUMENT` when the PeerManager does not offer feature bit 729, or an option is not valid. */
  constructor(pm: PeerManager, options: Lsps0ServerOptions = {}) {
    super();
    checkPeerManager(pm, 'new Lsps0Server()');
    if (!pm.features.includes(LSPS_FEATURE_BIT)) {
      throw new LnPeerError(
        'INVALID_ARGUMENT',
        `an Lsps0Server needs its PeerManager to offer feature bit ${LSPS_FEATURE_BIT} (option_supports_lsps, bLIP-50 "Lightning Feature Bit": LSPs set it in init); ` +
          `create it with new PeerManager({ features: [${LSPS_FEATURE_BIT}] }). It offers ${pm.features.join(', ')}`,
        { features: pm.features },
      );
    }
    checkObject(options, 'new Lsps0Server() options');
    const {
      protocols = [],
      methods = {},
      notifications = {},
      maxInFlightPerPeer = DEFAULT_LSPS0_MAX_IN_FLIGHT_PER_PEER,
      maxMessageBytes = MAX_PAYLOAD_LENGTH,
      knownClients = [],
      maxKnownClients = DEFAULT_LSPS0_MAX_KNOWN_CLIENTS,
    } = options;
    // bLIP-50 "LSPS Specification Support Query": "0 MUST NOT appear in the protocols array".
    if (!Array.isArray(protocols) || !protocols.every((n) => Number.isSafeInteger(n) && n >= 1) || new Set(protocols).size !== protocols.length) {
      throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Server protocols must be distinct LSPS numbers, integers from 1 (LSPS0 is never listed, bLIP-50), got ${JSON.stringify(protocols)}`);
    }
    checkCount(maxInFlightPerPeer, 'maxInFlightPerPeer', 1);
    checkCount(maxMessageBytes, 'maxMessageBytes', MIN_LSPS0_MESSAGE_BYTES, MAX_PAYLOAD_LENGTH);
    checkCount(maxKnownClients, 'maxKnownClients', 1);
    if (typeof knownClients !== 'object' || knownClients === null || typeof (knownClients as Iterable<string>)[Symbol.iterator] !== 'function') {
      throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Server knownClients must be an iterable of node ids, got ${describe(knownClients)}`);
    }
    this.#pm = pm;
    this.#protocols = [...protocols];
    this.#methods = methodTable(methods, 'methods');
    if (this.#methods.has('lsps0.list_protocols')) throw new LnPeerError('INVALID_ARGUMENT', 'Lsps0Server answers lsps0.list_protocols itself, from options.protocols: remove it from methods');
    this.#notifications = methodTable(notifications, 'notifications');
    this.#maxInFlight = maxInFlightPerPeer;
    this.#maxMessageBytes = maxMessageBytes;
    this.#maxKnownClients = maxKnownClients;
    for (const peerId of knownClients) this.#remember(nodeIdHex(peerId), false);
    pm.on('custommsg', this.#onMessage);
  }

  /** True when `peerId` sent 37913 to this server (or came in `knownClients`): `notify()` may write to it. */
  isClient(peerId: string | Uint8Array): boolean {
    return this.#clients.has(nodeIdHex(peerId));
  }

  /** Requests and notifications of `peerId` being handled now. */
  inFlight(peerId: string | Uint8Array): number {
    return this.#inFlight.get(nodeIdHex(peerId)) ?? 0;
  }

  /**
   * Sends a notification (`{"jsonrpc":"2.0","method","params"}`, no `id`) to a connected
   * client. Rejects with `INVALID_ARGUMENT` when `peerId` never sent this server a 37913
   * message (bLIP-50: the LSP "SHOULD NOT send BOLT8 message ID 37913 unless the peer had
   * already sent" one), `MESSAGE_TOO_LONG` past `maxMessageBytes`, and as `sendCustomMsg` does.
   */
  async notify(peerId: string | Uint8Array, method: string, params: JsonObject = {}, options?: WaitOptions): Promise<void> {
    if (this.#closed) throw new LnPeerError('MANAGER_CLOSED', 'this Lsps0Server was closed');
    const peer = nodeIdHex(peerId);
    checkMethod(method, 'a notification method');
    checkParams(params, method);
    checkWaitOptions(options, 'notify()');
    if (!this.#clients.has(peer)) {
      throw new LnPeerError(
        'INVALID_ARGUMENT',
        `cannot notify ${peer}: it never sent an LSPS0 message to this server, and bLIP-50 says an LSP "SHOULD NOT send BOLT8 message ID 37913 unless the peer had already sent" one (list earlier clients in knownClients)`,
        { peerId: peer, reason: 'not-a-client' },
      );
    }
    const message = frame(toJson({ jsonrpc: '2.0', method, params }, method));
    checkSize(message, this.#maxMessageBytes, `the notification ${method}`, peer);
    await this.#pm.sendCustomMsg(peer, message, options);
  }

  /** Stops answering: incoming messages are no longer read; handlers still running answer nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pm.off('custommsg', this.#onMessage);
  }

  #receive({ peerId, payload }: CustomMessageEvent): void {
    const parsed = parsePayload(payload);
    if (parsed.kind === 'response') {
      // JSON-RPC never answers a response; answering it -32700 would have two servers answer
      // each other forever. It is most likely for an Lsps0Client on this PeerManager.
      this.#notice(peerId, 'response-ignored', `peer ${peerId} sent a JSON-RPC response, not a request; it was not answered`);
      return;
    }
    this.#remember(peerId, true);
    if (parsed.kind === 'bad') {
      // bLIP-50 "Message Payload Format": the LSP "MUST respond with … "parse error" (code = -32700, id = null)", "MUST ignore the message", "SHOULD log".
      this.#notice(peerId, 'bad-message', `peer ${peerId} sent a message that is not valid LSPS0 JSON-RPC (${parsed.reason}); answered -32700`);
      this.#send(peerId, PARSE_ERROR_RESPONSE);
      return;
    }
    const { method } = parsed;
    if (payload.length > this.#maxMessageBytes) {
      this.#notice(peerId, 'request-too-large', `peer ${peerId} sent ${method} in ${payload.length} bytes, more than maxMessageBytes (${this.#maxMessageBytes})`, method);
      if (parsed.kind === 'request') this.#send(peerId, errorResponse(parsed.id, LSPS0_ERROR_CODES.REQUEST_TOO_LARGE, 'Request too large', { max_message_bytes: this.#maxMessageBytes }));
      return;
    }
    if (parsed.kind === 'notification') return this.#notification(peerId, parsed);
    const count = this.#inFlight.get(peerId) ?? 0;
    if (count >= this.#maxInFlight) {
      this.#notice(peerId, 'in-flight-limit', `peer ${peerId} has ${count} requests being handled (maxInFlightPerPeer); ${method} was answered -32000`, method);
      this.#send(peerId, errorResponse(parsed.id, LSPS0_ERROR_CODES.TOO_MANY_IN_FLIGHT, 'Too many requests in flight', { max_in_flight: this.#maxInFlight }));
      return;
    }
    this.#inFlight.set(peerId, count + 1);
    void this.#answer(peerId, parsed)
      .then((response) => this.#send(peerId, response))
      .finally(() => this.#release(peerId));
  }

  /** The JSON text of the answer to a request; never rejects. */
  async #answer(peerId: string, { id, method, params }: Extract<Parsed, { kind: 'request' }>): Promise<string> {
    const invalidParams = (data: JsonObject, message = 'Invalid params') => errorResponse(id, LSPS0_ERROR_CODES.INVALID_PARAMS, message, data);
    const builtIn = method === 'lsps0.list_protocols';
    const spec = this.#methods.get(method);
    // bLIP-50 "LSPS Extension And Versioning": "Respond with a -32601 "Method not found" error".
    if (!builtIn && !spec) return errorResponse(id, LSPS0_ERROR_CODES.METHOD_NOT_FOUND, 'Method not found');
    // bLIP-50: parameters by name only; -32602 needs data.unrecognized, which is empty here.
    if (Array.isArray(params)) return invalidParams({ unrecognized: [] }, 'Invalid params: by-position params are not allowed (bLIP-50), give an object');
    const given = (params ?? {}) as JsonObject;
    let result: unknown;
    if (builtIn) {
      // bLIP-50 "LSPS Specification Support Query": it "accepts no parameters {}".
      const names = Object.keys(given);
      if (names.length > 0) return invalidParams({ unrecognized: names });
      result = { protocols: [...this.#protocols] };
    } else if (spec) {
      const problem = paramsProblem(spec, given);
      if (problem) return invalidParams(problem);
      try {
        result = await spec.handler(given, { peerId, method, id });
      } catch (err) {
        if (err instanceof Lsps0Error) {
          const error = errorOf(err);
          const response = error && trySerialize(() => errorResponse(id, error.code, error.message, error.data));
          if (response !== undefined) return this.#fit(peerId, id, method, response);
          this.#notice(peerId, 'handler-error', `the handler of ${method} threw an Lsps0Error that is not { code: integer, message: string, data?: object } or cannot be written as JSON; answered -32603`, method, err);
        } else {
          // Never leak the exception's text to the client: log it, answer -32603.
          this.#notice(peerId, 'handler-error', `the handler of ${method} threw; answered -32603 (Internal error)`, method, err);
        }
        return errorResponse(id, LSPS0_ERROR_CODES.INTERNAL_ERROR, 'Internal error');
      }
    }
    // bLIP-50 "LSPS Method And Notification Specifications": results "are objects (dictionaries)".
    const response = isObject(result) ? trySerialize(() => JSON.stringify({ jsonrpc: '2.0', id, result })) : undefined;
    if (response === undefined) {
      this.#notice(peerId, 'bad-result', `the handler of ${method} returned ${describe(result)}${isObject(result) ? ' that cannot be written as JSON' : ', not a JSON object'}; answered -32603`, method);
      return errorResponse(id, LSPS0_ERROR_CODES.INTERNAL_ERROR, 'Internal error');
    }
    return this.#fit(peerId, id, method, response);
  }

  /** `response`, or a -32002 error when it is larger than `maxMessageBytes`. */
  #fit(peerId: string, id: Id, method: string, response: string): string {
    const bytes = encoder.encode(response).length;
    if (bytes <= this.#maxMessageBytes) return response;
    this.#notice(peerId, 'reply-too-large', `the answer to ${method} is ${bytes} bytes, more than maxMessageBytes (${this.#maxMessageBytes}); answered -32002`, method);
    return errorResponse(id, LSPS0_ERROR_CODES.RESPONSE_TOO_LARGE, 'Response too large', { max_message_bytes: this.#maxMessageBytes });
  }

  #notification(peerId: string, { method, params }: Extract<Parsed, { kind: 'notification' }>): void {
    const spec = this.#notifications.get(method);
    // JSON-RPC 4.1: "The Server MUST NOT reply to a Notification"; bLIP-50: clients MUST NOT send them.
    if (!spec) return this.#notice(peerId, 'notification-ignored', `peer ${peerId} sent the notification ${method}, which this server does not take (bLIP-50: clients MUST NOT send notifications); ignored`, method);
    const problem = Array.isArray(params) ? { unrecognized: [] } : paramsProblem(spec, (params ?? {}) as JsonObject);
    if (problem) return this.#notice(peerId, 'notification-ignored', `peer ${peerId} sent the notification ${method} with params it does not take (${JSON.stringify(problem)}); ignored`, method);
    const count = this.#inFlight.get(peerId) ?? 0;
    if (count >= this.#maxInFlight) return this.#notice(peerId, 'in-flight-limit', `peer ${peerId} has ${count} requests being handled (maxInFlightPerPeer); its notification ${method} was dropped`, method);
    this.#inFlight.set(peerId, count + 1);
    void (async () => {
      try {
        await spec.handler((params ?? {}) as JsonObject, { peerId, method });
      } catch (err) {
        this.#notice(peerId, 'handler-error', `the handler of the notification ${method} threw`, method, err);
      } finally {
        this.#release(peerId);
      }
    })();
  }

  /** Writes an answer; resolves once written or dropped, never rejects. */
  async #send(peerId: string, json: string): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#pm.sendCustomMsg(peerId, frame(json));
    } catch (err) {
      // bLIP-50 "Disconnection Handling": an answer lost to a disconnection is as if delivered.
      const code = (err as LnPeerError).code;
      if (code === 'PEER_NOT_CONNECTED' || code === 'CONNECTION_CLOSED' || code === 'MANAGER_CLOSED') return;
      this.#notice(peerId, 'send-failed', `an answer to ${peerId} could not be sent: ${(err as Error).message}`, undefined, err);
    }
  }

  #release(peerId: string): void {
    const count = (this.#inFlight.get(peerId) ?? 1) - 1;
    if (count <= 0) this.#inFlight.delete(peerId);
    else this.#inFlight.set(peerId, count);
  }

  #remember(peerId: string, announce: boolean): void {
    const known = this.#clients.delete(peerId);
    this.#clients.add(peerId);
    if (this.#clients.size > this.#maxKnownClients) this.#clients.delete(this.#clients.values().next().value!);
    if (!known && announce) emitSafely(this, 'client', { peerId });
  }

  #notice(peerId: string, kind: Lsps0Notice['kind'], message: string, method?: string, error?: unknown): void {
    emitSafely(this, 'notice', { peerId, kind, message, ...(method !== undefined ? { method } : {}), ...(error !== undefined ? { error } : {}) } satisfies Lsps0Notice);
  }
}

function checkCount(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Server ${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${describe(value)}`);
  }
}

/** The methods of an option, checked, in a Map (so that no name can reach `Object.prototype`). */
function methodTable<H extends (...args: never[]) => unknown>(
  table: Record<string, H | { params?: readonly string[] | 'any'; required?: readonly string[]; handler: H }>,
  option: string,
): Map<string, Method<H>> {
  if (!isObject(table)) throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Server ${option} must be an object of handlers by method name, got ${describe(table)}`);
  const map = new Map<string, Method<H>>();
  for (const [name, entry] of Object.entries(table)) {
    const where = `Lsps0Server ${option}[${JSON.stringify(name)}]`;
    if (name === '') throw new LnPeerError('INVALID_ARGUMENT', `Lsps0Server ${option} has an empty method name`);
    if (typeof entry === 'function') {
      map.set(name, { params: new Set(), required: [], handler: entry });
      continue;
    }
    if (!isObject(entry) || typeof entry.handler !== 'function') throw new LnPeerError('INVALID_ARGUMENT', `${where} must be a function or { params, required, handler }, got ${describe(entry)}`);
    const { params = [], required = [] } = entry;
    const names = (list: unknown, what: string): string[] => {
      if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && n !== '')) throw new LnPeerError('INVALID_ARGUMENT', `${where}.${what} must be an array of parameter names, got ${describe(list)}`);
      return list;
    };
    const declared = params === 'any' ? undefined : new Set(names(params, 'params'));
    const mandatory = names(required, 'required');
    const undeclared = declared ? mandatory.filter((n) => !declared.has(n)) : [];
    if (undeclared.length > 0) throw new LnPeerError('INVALID_ARGUMENT', `${where}.required names ${undeclared.join(', ')}, which params does not list`);
    map.set(name, { params: declared, required: mandatory, handler: entry.handler });
  }
  return map;
}

/** The -32602 `data` for `given`, or undefined when the method takes them. */
function paramsProblem(spec: Method<unknown>, given: JsonObject): JsonObject | undefined {
  const unrecognized = spec.params ? Object.keys(given).filter((n) => !spec.params!.has(n)) : [];
  if (unrecognized.length > 0) return { unrecognized };
  const missing = spec.required.filter((n) => !Object.hasOwn(given, n));
  return missing.length > 0 ? { unrecognized: [], missing } : undefined;
}

function trySerialize(write: () => string): string | undefined {
  try {
    return write();
  } catch {
    return undefined;
  }
}
