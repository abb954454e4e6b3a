/** BOLT 1 wire codecs: pure functions, no I/O. */
export { decodeBigSize, encodeBigSize } from './bigsize.js';
export {
  decodeTlvStream,
  decodeTu32,
  decodeTu64,
  encodeTlvStream,
  exactLength,
  type TlvRecord,
  type TlvSchema,
  type TlvValidator,
} from './tlv.js';
export {
  DEFAULT_FEATURES,
  decodeFeatures,
  encodeFeatures,
  featureName,
  hasFeature,
  isKnownFeature,
  missingDependencies,
  orFeatures,
  unknownEvenBits,
  type MissingDependency,
} from './features.js';
export {
  decodeAddress,
  encodeAddress,
  formatAddress,
  ipAddress,
  isPrivateAddress,
  type Address,
  type AddressType,
} from './address.js';
export {
  BOLT_MESSAGE_TYPES,
  ERROR_TYPE,
  INIT_TYPE,
  MAX_MESSAGE_LENGTH,
  PING_TYPE,
  PONG_TYPE,
  WARNING_TYPE,
  channelIdOf,
  isBoltMessageType,
  isChannelMessageType,
  isGossipMessageType,
  messageTypeName,
  messageTypeOf,
  type BoltMessageType,
} from './message-types.js';
export {
  MAX_PONG_BYTES,
  combinedFeatures,
  decodeError,
  decodeInit,
  decodePing,
  decodePong,
  decodeWarning,
  encodeError,
  encodeInit,
  encodePing,
  encodePong,
  encodeWarning,
  formatErrorData,
  type ErrorMessage,
  type InitFields,
  type InitMessage,
  type PingMessage,
} from './messages.js';
export { ONION_V3_BYTES, ONION_V3_CHARS, ONION_V3_VERSION, decodeOnionBytes, encodeOnionAddress, isOnionAddress, onionBytes, parseOnionAddress, type OnionAddress } from './onion.js';
export { CHAIN_HASHES, chainHash, chainLabel, networkName, parseNetwork, type NetworkName } from './networks.js';
