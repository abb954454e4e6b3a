/**
 * Feature bit vectors (BOLT 9 "Assigned Feature Flags", BOLT 1 "The `init` Message").
 *
 * A vector is big-endian: bit 0 is the least significant bit of the LAST byte. Bits come in
 * pairs: the even bit means "required", the odd bit "optional" ("it's ok to be odd").
 */
import { describe } from '../bytes.js';
import { checkBytes, checkInteger, checkIterable } from '../checks.js';
import { LnPeerError } from '../errors.js';

/** `flen` is a u16 (BOLT 1 "The `init` Message"), so no vector has more than 65535 bytes. */
const MAX_FEATURE_BYTES = 0xffff;
/** The highest bit of the longest vector. */
const MAX_FEATURE_BIT = MAX_FEATURE_BYTES * 8 - 1;

/**
 * Every feature of BOLT 9, current and historic, by its even bit (the odd bit is the next
 * one). All of them count as known: BOLT 1 closes only on "unknown _even_ feature bits".
 */
const BOLT9_FEATURES: ReadonlyMap<number, string> = new Map([
  [0, 'option_data_loss_protect'], // ASSUMED
  [2, 'initial_routing_sync'], // removed; only the odd bit 3 was ever defined
  [4, 'option_upfront_shutdown_script'],
  [6, 'gossip_queries'],
  [8, 'var_onion_optin'], // ASSUMED
  [10, 'gossip_queries_ex'],
  [12, 'option_static_remotekey'], // ASSUMED
  [14, 'payment_secret'], // ASSUMED
  [16, 'basic_mpp'],
  [18, 'option_support_large_channel'],
  [20, 'option_anchor_outputs'], // removed
  [22, 'option_anchors'],
  [24, 'option_route_blinding'],
  [26, 'option_shutdown_anysegwit'],
  [28, 'option_dual_fund'],
  [34, 'option_quiesce'],
  [36, 'option_attribution_data'],
  [38, 'option_onion_messages'],
  [42, 'option_provide_storage'],
  [44, 'option_channel_type'], // ASSUMED
  [46, 'option_scid_alias'],
  [48, 'option_payment_metadata'],
  [50, 'option_zeroconf'],
  [60, 'option_simple_close'],
  [62, 'option_splice'],
]);

/**
 * BOLT 9 "Dependencies" column: the feature of the key (by even bit) needs the feature of the
 * value. Dependencies on ASSUMED features are no longer listed by the spec.
 */
const BOLT9_DEPENDENCIES: ReadonlyMap<number, readonly number[]> = new Map([
  [16, [14]], // basic_mpp → payment_secret
  [50, [46]], // option_zeroconf → option_scid_alias
  [60, [26]], // option_simple_close → option_shutdown_anysegwit
]);

/**
 * The bits lnpeer offers by default: the odd bits of the features BOLT 9 marks ASSUMED
 * (data_loss_protect, var_onion_optin, static_remotekey, payment_secret, channel_type).
 * LND, LDK and Eclair refuse peers without them (docs/protocol.md "BOLT 9: feature bits"). Encodes to `20000000a202`.
 */
export const DEFAULT_FEATURES: readonly number[] = Object.freeze([1, 9, 13, 15, 45]);

/**
 * Encodes a set of bit numbers as a feature vector of the minimum length (BOLT 1: "SHOULD
 * use the minimum length required to represent the `features` field"; unset bits are 0).
 */
export function encodeFeatures(bits: Iterable<number>): Uint8Array {
  const list = featureBits(bits, 'encodeFeatures() bits');
  const highest = list.reduce((max, bit) => Math.max(max, bit), -1);
  const size = Math.floor(highest / 8) + 1;
  const out = new Uint8Array(size);
  for (const bit of list) out[size - 1 - Math.floor(bit / 8)] |= 1 << bit % 8;
  return out;
}

/**
 * The bits of an iterable of feature bit numbers, as an array; throws `INVALID_ARGUMENT` for
 * anything but integers from 0 to 524279 (`what` names the parameter).
 */
function featureBits(bits: Iterable<number>, what: string): number[] {
  checkIterable(bits, what, 'feature bit numbers');
  const list = [...bits];
  for (const bit of list) {
    if (!Number.isInteger(bit) || bit < 0 || bit > MAX_FEATURE_BIT) {
      throw new LnPeerError('INVALID_ARGUMENT', `${what} has feature bit ${describe(bit)}, which is not valid: allowed are integers from 0 to ${MAX_FEATURE_BIT}`, { bit });
    }
  }
  return list;
}

/** The set bits of a feature vector, ascending. */
export function decodeFeatures(features: Uint8Array): number[] {
  checkBytes(features, 'decodeFeatures() features');
  const bits: number[] = [];
  for (let i = features.length - 1; i >= 0; i--) {
    const byte = features[i];
    if (byte === 0) continue;
    const base = (features.length - 1 - i) * 8;
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) bits.push(base + b);
  }
  return bits;
}

/** True when `bit` is set in `features`. */
export function hasFeature(features: Uint8Array, bit: number): boolean {
  checkBytes(features, 'hasFeature() features');
  checkInteger(bit, 'hasFeature() bit', 0, MAX_FEATURE_BIT);
  const index = features.length - 1 - Math.floor(bit / 8);
  return index >= 0 && (features[index] & (1 << bit % 8)) !== 0;
}

/**
 * The bitwise OR of two vectors, aligned on their last byte, as long as the longer one.
 * BOLT 1 "The `init` Message": the receiver "MUST combine (logical OR) the two feature
 * bitmaps into one logical `features` map" (`globalfeatures` and `features`).
 */
export function orFeatures(a: Uint8Array, b: Uint8Array): Uint8Array {
  checkBytes(a, 'orFeatures() a');
  checkBytes(b, 'orFeatures() b');
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  const out = new Uint8Array(long);
  const shift = long.length - short.length;
  for (let i = 0; i < short.length; i++) out[shift + i] |= short[i];
  return out;
}

/** True when BOLT 9 assigns `bit` (either bit of a current or historic feature); false for anything else. */
export function isKnownFeature(bit: number): boolean {
  return Number.isInteger(bit) && BOLT9_FEATURES.has(bit - (bit % 2));
}

/**
 * The even bits among `bits` that neither BOLT 9 nor `extraKnown` (the app's own bits)
 * defines. BOLT 1 "The `init` Message": "upon receiving unknown _even_ feature bits that are
 * non-zero: MUST close the connection"; unknown odd bits: "MUST ignore the bit".
 */
export function unknownEvenBits(bits: Iterable<number>, extraKnown: Iterable<number> = []): number[] {
  const extra = new Set(featureBits(extraKnown, 'unknownEvenBits() extraKnown'));
  return featureBits(bits, 'unknownEvenBits() bits').filter((bit) => bit % 2 === 0 && !isKnownFeature(bit) && !extra.has(bit));
}

/** A feature set in a vector without all of its dependencies. */
export interface MissingDependency {
  /** The bit that is set (the even one when both bits of the pair are). */
  bit: number;
  /** The even bit of each missing dependency; either bit of its pair would satisfy it. */
  missing: number[];
}

/**
 * The BOLT 9 dependencies that `bits` lacks (an empty list when all are set). A dependency
 * counts as set when either of its two bits is. BOLT 1 "The `init` Message": "if the feature
 * vector does not set all known, transitive dependencies: MUST close the connection".
 * Checking the direct dependency of every set feature covers the transitive ones too.
 */
export function missingDependencies(bits: Iterable<number>): MissingDependency[] {
  const set = new Set(featureBits(bits, 'missingDependencies() bits'));
  const offered = (even: number): boolean => set.has(even) || set.has(even + 1);
  const result: MissingDependency[] = [];
  for (const [feature, needs] of BOLT9_DEPENDENCIES) {
    if (!offered(feature)) continue;
    const missing = needs.filter((dependency) => !offered(dependency));
    if (missing.length > 0) result.push({ bit: set.has(feature) ? feature : feature + 1, missing });
  }
  return result;
}

/** The BOLT 9 name of the feature that `bit` belongs to (either bit of the pair), for display. */
export function featureName(bit: number): string | undefined {
  checkInteger(bit, 'featureName() bit', 0, MAX_FEATURE_BIT);
  return BOLT9_FEATURES.get(bit - (bit % 2));
}
