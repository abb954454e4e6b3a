/**
 * A Commando client: Core Lightning's JSON-RPC over custom messages (plugins/commando.c,
 * man page lightning-commando.7), on `PeerManager`'s public API and {@link Requests} only.
 * Platform-neutral: no Node built-ins; ids come from `globalThis.crypto.getRandomValues`.
 *
 * Wire format (commando.c `enum commando_msgtype`): every message is
 * `u16 type | u64 id (big-endian, chosen by the requester) | a slice of JSON`, with four odd
 * types below 32768, so `sendCustomMsg` emits its "below 32768" `notice` once per type.
 */
import { concatBytes, describe, toHex } from '../bytes.js';
import { checkBytes, checkOptions } from '../checks.js';
import { LnPeerError } from '../errors.js';
import { nodeIdHex } from '../node-id.js';
import type { CustomMessageEvent, PeerManager } from '../peer-manager.js';
import { abortError, checkWaitOptions, type WaitOptions } from '../wait.js';
import { DEFAULT_MAX_PENDING_REQUESTS, DEFAULT_REQUEST_TIMEOUT_MS, Requests, checkPeerManager } from './requests.js';

/** commando.c `COMMANDO_MSG_CMD_CONTINUES`: a request slice, more follow. */
export const COMMANDO_REQUEST_CONTINUES = 0x4c4d;
/** commando.c `COMMANDO_MSG_CMD_TERM`: the last (or only) slice of a request. */
export const COMMANDO_REQUEST_FINAL = 0x4c4f;
/** commando.c `COMMANDO_MSG_REPLY_CONTINUES`: a reply slice, more follow. */
export const COMMANDO_REPLY_CONTINUES = 0x594b;
/** commando.c `COMMANDO_MSG_REPLY_TERM`: the last (or only) slice of a reply. */
export const COMMANDO_REPLY_FINAL = 0x594d;
/** JSON bytes per slice: commando.c cuts requests and replies at 65,000 ("65000 per message gives sufficient headroom"). */
export const COMMANDO_SLICE_BYTES = 65_000;
/**
 * The largest request JSON Core Lightning takes: commando.c `handle_incmd` ("1MB should be
 * enough for anybody!", 1024*1024) drops a larger one silently ("ignoring oversize request"),
 * so lnpeer refuses it before sending.
 */
export const COMMANDO_MAX_REQUEST_BYTES = 1024 * 1024;
/** Default of `CommandoOptions.maxReplyBytes`: 64 MiB (CLN's own client allows 500 MiB, for a 71 MB `listchannels`). */
export const DEFAULT_COMMANDO_MAX_REPLY_BYTES = 64 * 1024 * 1024;


/** Options of a {@link Commando}. */
export interface CommandoOptions {
  /**
   * Largest reply, in bytes of JSON, that a call reassembles; past it the call rejects with
   * `MESSAGE_TOO_LONG` and what was received is freed. Default 64 MiB.
   */
  maxReplyBytes?: number;
  /** Calls in flight at once, over every node; one more is refused with `QUEUE_FULL`. Default 1024. */
  maxPending?: number;
}

/** One Commando call: a JSON-RPC request with the rune that authorizes it (lightning-commando.7). */
export interface CommandoRequest {
  /** The JSON-RPC method, e.g. `getinfo`. */
  method: string;
  /** Its parameters, by name (an object) or by position (an array). Default `{}`. */
  params?: Record<string, unknown> | unknown[];
  /** A rune from the node's `createrune`, base64. */
  rune: string;
  /** Core Lightning's `filter` (lightning-rpc.7 "FIELD FILTERING"): only these fields of the result come back. */
  filter?: Record<string, unknown>;
}

/** Options of one call. `timeoutMs` defaults to 60 s. */
export type CommandoCallOptions = WaitOptions;

/** `details` of an `RPC_ERROR`: the node's JSON-RPC error, as it sent it. */
export interface CommandoRpcErrorDetails {
  peerId: string;
  method: string;
  /** The node's error code (19537: the rune does not allow this call; 19536: a bad rune or request). */
  code: number;
  message: string;
  data?: unknown;
}

/** A reply being reassembled. */
interface Call {
  method: string;
  /** The reply's JSON slices so far. */
  chunks: Uint8Array[];
  bytes: number;
  /** Set when the reply passed `maxReplyBytes`: the call is settled with it. */
  error?: LnPeerError;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Calls Core Lightning's JSON-RPC on a connected node over Commando, as its `commando`
 * command and lnmessage do, with what they leave out: requests over 65,000 bytes are sliced,
 * replies of any size (up to `maxReplyBytes`) are reassembled, calls run concurrently, each
 * has a timeout and an `AbortSignal`, and pending calls reject the moment the node
 * disconnects.
 *
 * @example
 * ```ts
 * const pm = new PeerManager();
 * await pm.connect('02…@127.0.0.1:9735');
 * const commando = new Commando(pm);
 * const info = await commando.call('02…', { method: 'getinfo', rune }, { timeoutMs: 10_000 });
 * commando.close();
 * ```
 */
export class Commando {
  readonly #pm: PeerManager;
  readonly #requests: Requests;
  readonly #maxReplyBytes: number;
  /** Calls in flight, by `peerId + ' ' + hex u64 id`. */
  readonly #calls = new Map<string, Call>();

  /**
   * Collects reply slices. A `continues` slice is kept and answers `undefined` (no reply yet);
   * the `final` slice answers its call's key, which settles the request. Never throws: it
   * runs inside the PeerManager's `custommsg` dispatch.
   */
  readonly #replyKey = (message: CustomMessageEvent): string | undefined => {
    const { type, payload } = message;
    // commando.c handle_custommsg: a message too short for its u64 id is ignored.
    if ((type !== COMMANDO_REPLY_CONTINUES && type !== COMMANDO_REPLY_FINAL) || payload.length < 8) return undefined;
    const key = toHex(payload.subarray(0, 8));
    const call = this.#calls.get(`${message.peerId} ${key}`);
    // commando.c handle_reply: "Ignoring unexpected … reply" for an id with no call (also a
    // late reply to a call that timed out, and slices after a final or past the cap).
    if (!call || call.error) return undefined;
    const slice = payload.subarray(8);
    call.bytes += slice.length;
    if (call.bytes > this.#maxReplyBytes) {
      // commando.c append_contents frees the partial reply past its cap ("Reply was oversize").
      call.chunks = [];
      call.error = new LnPeerError(
        'MESSAGE_TOO_LONG',
        `the Commando reply to ${call.method} from ${message.peerId} passed maxReplyBytes (${this.#maxReplyBytes} bytes of JSON); what came was discarded`,
        { peerId: message.peerId, method: call.method, maxReplyBytes: this.#maxReplyBytes, received: call.bytes },
      );
      return key;
    }
    call.chunks.push(slice);
    return type === COMMANDO_REPLY_FINAL ? key : undefined;
  };

  /** Throws `INVALID_ARGUMENT` when `pm` is not a PeerManager or an option is not valid. */
  constructor(pm: PeerManager, options: CommandoOptions = {}) {
    checkPeerManager(pm, 'new Commando()');
    const { maxReplyBytes = DEFAULT_COMMANDO_MAX_REPLY_BYTES, maxPending = DEFAULT_MAX_PENDING_REQUESTS } = checkOptions(options, 'new Commando() options');
    if (!Number.isSafeInteger(maxReplyBytes) || maxReplyBytes < 1) {
      throw new LnPeerError('INVALID_ARGUMENT', `maxReplyBytes must be a positive integer, got ${describe(maxReplyBytes)}`);
    }
    this.#pm = pm;
    this.#maxReplyBytes = maxReplyBytes;
    this.#requests = new Requests(pm, { maxPending, replyKey: this.#replyKey });
  }

  /** Calls in flight. */
  get pending(): number {
    return this.#requests.pending;
  }

  /**
   * Calls `request.method` on the connected node `peerId` and resolves with the JSON-RPC
   * `result`. Rejects with `RPC_ERROR` when the node answers with an error (`details`: its
   * `code`, `message`, `data`), `PROTOCOL_VIOLATION` when the reply is not JSON-RPC,
   * `MESSAGE_TOO_LONG` for a request over 1 MiB (never sent) or a reply over
   * `maxReplyBytes`, `INVALID_ARGUMENT`, `PEER_NOT_CONNECTED`, `QUEUE_FULL` (`maxPending`
   * calls in flight, or too many bytes queued for the node), `TIMEOUT` (`timeoutMs`, default
   * 60 s), `ABORTED`, `CONNECTION_CLOSED` (the node disconnected first) or `MANAGER_CLOSED`.
   */
  async call<T = unknown>(peerId: string | Uint8Array, request: CommandoRequest, options: CommandoCallOptions = {}): Promise<T> {
    checkWaitOptions(options, 'Commando call()');
    const peer = nodeIdHex(peerId);
    const fields = checkRequest(request);
    const { method } = fields;
    let id: Uint8Array;
    let key: string;
    do {
      // The requester picks the u64 id (commando.c json_commando: pseudorand_u64, unique among its calls).
      id = globalThis.crypto.getRandomValues(new Uint8Array(8));
      key = toHex(id);
    } while (this.#calls.has(`${peer} ${key}`));
    // lightning-commando.7 / commando.c try_command: "missing id field" without a JSON id; the
    // reply carries it back. commando.c copies it unescaped into the id of the command it
    // runs, where it shows in the node's logs: a plain string of [\w.:#-] only (an object id
    // there makes a request lightningd cannot parse, and that peer's Commando stalls).
    const jsonId = `lnpeer:${method.replace(/[^\w.-]/g, '_').slice(0, 64)}#${key}`;
    const body = encodeRequest(fields, jsonId);
    if (body.length > COMMANDO_MAX_REQUEST_BYTES) {
      throw new LnPeerError(
        'MESSAGE_TOO_LONG',
        `the Commando request for ${method} is ${body.length} bytes of JSON; Core Lightning takes at most ${COMMANDO_MAX_REQUEST_BYTES} (1 MiB) and silently ignores a larger one, so it was not sent`,
        { peerId: peer, method, bytes: body.length, max: COMMANDO_MAX_REQUEST_BYTES },
      );
    }
    // Requests.send never settles for a signal aborted before the call (its giveUp finds
    // nothing in flight yet): answered here.
    if (options.signal?.aborted) throw abortError(options.signal, `the Commando call of ${method} to ${peer}`);
    const slices = commandoSlices('request', id, body);
    const callKey = `${peer} ${key}`;
    const call: Call = { method, chunks: [], bytes: 0 };
    this.#calls.set(callKey, call);
    try {
      // Core Lightning keeps one partial request per peer, and a slice with another id
      // discards it (commando.c handle_incmd: "New cmd from …, replacing old"): the slices of
      // one request must reach it back to back. They are queued here in one synchronous run
      // (sendCustomMsg queues its bytes before it returns, and nothing else runs in between),
      // so no slice of another call can come between them; no per-peer queue is needed.
      await this.#requests.send(peer, { key, signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS }, () =>
        Promise.all(slices.map((slice) => this.#pm.sendCustomMsg(peer, slice))),
      );
      if (call.error) throw call.error;
      return parseReply(peer, call) as T;
    } finally {
      this.#calls.delete(callKey);
    }
  }

  /** Rejects every call in flight with `MANAGER_CLOSED` and stops listening to the PeerManager. */
  close(): void {
    this.#requests.close();
    this.#calls.clear();
  }
}

/** Checks a request's shape; throws `INVALID_ARGUMENT`. */
function checkRequest(request: CommandoRequest): Required<Omit<CommandoRequest, 'filter'>> & Pick<CommandoRequest, 'filter'> {
  if (typeof request !== 'object' || request === null) throw new LnPeerError('INVALID_ARGUMENT', `a Commando request must be an object { method, params, rune, filter }, got ${describe(request)}`);
  const { method, params = {}, rune, filter } = request;
  if (typeof method !== 'string' || method === '') throw new LnPeerError('INVALID_ARGUMENT', `a Commando request's method must be a non-empty string, got ${describe(method)}`);
  // commando.c try_command: "Params must be object or array".
  if (typeof params !== 'object' || params === null) throw new LnPeerError('INVALID_ARGUMENT', `the params of ${method} must be an object or an array, got ${describe(params)}`);
  // commando.c try_command: "Missing rune", and "Invalid rune" for one that is not base64.
  if (typeof rune !== 'string' || rune === '') throw new LnPeerError('INVALID_ARGUMENT', `the rune of ${method} must be a non-empty string (from the node's createrune), got ${describe(rune)}`);
  if (filter !== undefined && (typeof filter !== 'object' || filter === null || Array.isArray(filter))) {
    throw new LnPeerError('INVALID_ARGUMENT', `the filter of ${method} must be an object, got ${describe(filter)}`);
  }
  return { method, params, rune, filter };
}

/** The request as Commando JSON: `{"method","params","rune","id","filter"?}` (lightning-commando.7), UTF-8. */
function encodeRequest(request: CommandoRequest, id: string): Uint8Array {
  const { method, params, rune, filter } = request;
  try {
    return encoder.encode(JSON.stringify(filter === undefined ? { method, params, rune, id } : { method, params, rune, id, filter }));
  } catch (err) {
    throw new LnPeerError('INVALID_ARGUMENT', `the params or filter of ${method} cannot be written as JSON: ${(err as Error).message}`, {}, { cause: err });
  }
}

/**
 * A request or a reply as Commando messages: `continues` slices of 65,000 bytes of JSON,
 * then one `final` slice with the rest (commando.c json_commando and send_response), each
 * `u16 type | u64 id | JSON slice`.
 *
 * @example
 * ```ts
 * const json = new TextEncoder().encode(JSON.stringify({ id: 'a', method: 'getinfo', params: {}, rune }));
 * for (const slice of commandoSlices('request', randomId, json)) await pm.sendCustomMsg(peerId, slice);
 * ```
 */
export function commandoSlices(kind: 'request' | 'reply', id: Uint8Array, json: Uint8Array): Uint8Array[] {
  if (kind !== 'request' && kind !== 'reply') throw new LnPeerError('INVALID_ARGUMENT', `commandoSlices() kind must be 'request' or 'reply', got ${describe(kind)}`);
  checkBytes(id, 'commandoSlices() id (a Commando id)', 'INVALID_ARGUMENT', 8);
  checkBytes(json, 'commandoSlices() json');
  const [continues, final] = kind === 'request' ? [COMMANDO_REQUEST_CONTINUES, COMMANDO_REQUEST_FINAL] : [COMMANDO_REPLY_CONTINUES, COMMANDO_REPLY_FINAL];
  const count = Math.max(1, Math.ceil(json.length / COMMANDO_SLICE_BYTES));
  const slices: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const part = json.subarray(i * COMMANDO_SLICE_BYTES, (i + 1) * COMMANDO_SLICE_BYTES);
    const message = new Uint8Array(10 + part.length);
    const type = i === count - 1 ? final : continues;
    message[0] = type >> 8;
    message[1] = type & 0xff;
    message.set(id, 2);
    message.set(part, 10);
    slices.push(message);
  }
  return slices;
}

/** The reply's `result`; its `error` as `RPC_ERROR`; anything else that came as `PROTOCOL_VIOLATION`. */
function parseReply(peerId: string, call: Call): unknown {
  const bytes = call.chunks.length === 1 ? call.chunks[0] : concatBytes(call.chunks);
  call.chunks = [];
  const violation = (why: string, cause?: unknown) =>
    new LnPeerError('PROTOCOL_VIOLATION', `the Commando reply to ${call.method} from ${peerId} ${why}`, { peerId, method: call.method, bytes: bytes.length, start: preview(bytes) }, { cause });
  let reply: unknown;
  try {
    reply = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    throw violation(`is not JSON (${bytes.length} bytes): ${(err as Error).message}`, err);
  }
  // commando.c handle_reply: "Reply was unparsable" unless a JSON object.
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) throw violation(`is not a JSON-RPC response: ${describe(reply)}, not an object`);
  const { error, result } = reply as { error?: unknown; result?: unknown };
  // The node puts our JSON id back (commando.c cmd_done); its own errors carry none. Core
  // Lightning's client only logs a different id (older servers sent their own): the u64 id
  // already matched, so it is not checked here either.
  if (error !== undefined) {
    const { code, message, data } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown; data?: unknown };
    // commando.c handle_reply: "Error '…' had no valid code", "Error had no message".
    if (typeof code !== 'number' || !Number.isInteger(code) || typeof message !== 'string') {
      throw violation(`has an error that is not { code: integer, message: string }: ${preview(encoder.encode(JSON.stringify(error)))}`);
    }
    const details: CommandoRpcErrorDetails = { peerId, method: call.method, code, message, ...(data !== undefined ? { data } : {}) };
    throw new LnPeerError('RPC_ERROR', `${call.method} on ${peerId} failed: ${message} (code ${code})`, { ...details });
  }
  // commando.c handle_reply: "Reply had no result".
  if (result === undefined) throw violation('has neither result nor error');
  return result;
}

/** The start of a reply, for error messages. */
function preview(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 200));
  return bytes.length > 200 ? `${text}…` : text;
}
