/**
 * Argument checks for the public entry points: each throws an `LnPeerError` (`INVALID_ARGUMENT`
 * unless the parameter has a code of its own, such as `INVALID_ADDRESS`) whose message names
 * the parameter with its function (`what`, such as `"decodeInit() msg"`), the value given and
 * what is allowed. They cost a `typeof`, an `instanceof` or `Number.isInteger`: they guard the
 * boundary, and the code behind it trusts what they let through.
 */
import { describe } from './bytes.js';
import { LnPeerError, type LnPeerErrorCode } from './errors.js';

/** True for an object that is neither `null` nor an array (nor a function). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is a `Uint8Array` (a Node `Buffer` is one), of `length` bytes when given. */
export function checkBytes(value: unknown, what: string, code: LnPeerErrorCode = 'INVALID_ARGUMENT', length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || (length !== undefined && value.length !== length)) {
    throw new LnPeerError(code, `${what} must be a Uint8Array${length === undefined ? '' : ` of ${length} bytes`}, got ${describe(value)}`);
  }
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function checkInteger(value: unknown, what: string, min: number, max: number, code: LnPeerErrorCode = 'INVALID_ARGUMENT'): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new LnPeerError(code, `${what} must be an integer from ${min} to ${max}, got ${describe(value)}`, { value });
  }
}

/** Throws unless `value` is an object (not `null`, not an array); returns it. */
export function checkObject<T>(value: T, what: string, code: LnPeerErrorCode = 'INVALID_ARGUMENT'): T {
  if (!isObject(value)) throw new LnPeerError(code, `${what} must be an object, got ${describe(value)}`);
  return value;
}

/** `checkObject` for an optional options object: `undefined` stands for `{}`. */
export function checkOptions<T extends object>(value: T | undefined, what: string): T {
  return value === undefined ? ({} as T) : checkObject(value, what);
}

/** Throws unless `value` is a function. */
export function checkFunction(value: unknown, what: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new LnPeerError('INVALID_ARGUMENT', `${what} must be a function, got ${describe(value)}`);
}

/** Throws unless `value` is an array (`items` says of what, for the message). */
export function checkArray(value: unknown, what: string, items: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw new LnPeerError('INVALID_ARGUMENT', `${what} must be an array of ${items}, got ${describe(value)}`);
}

/** Throws unless `value` is an iterable object: an array, a `Set`, … (not a string). */
export function checkIterable(value: unknown, what: string, items: string): asserts value is Iterable<unknown> {
  if (typeof value !== 'object' || value === null || typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
    throw new LnPeerError('INVALID_ARGUMENT', `${what} must be an array or another iterable of ${items}, got ${describe(value)}`);
  }
}

/**
 * Throws unless `value` is an object with a function under each of `methods`: the shape of a
 * backend or a module handed over (`kind` says what it should be, for the message).
 */
export function checkMethods(value: unknown, what: string, kind: string, methods: readonly string[]): void {
  const missing = typeof value === 'object' && value !== null ? methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function') : methods;
  if (missing.length > 0) {
    throw new LnPeerError('INVALID_ARGUMENT', `${what} must be ${kind}, with the functions ${methods.join(', ')}; got ${describe(value)}${isObject(value) ? `, which lacks ${missing.join(', ')}` : ''}`);
  }
}
