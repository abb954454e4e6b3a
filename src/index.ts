/**
 * lnpeer: be a Lightning Network peer from TypeScript. BOLT 8 encrypted transport, BOLT 1
 * messaging, and custom messages exchanged with real nodes.
 *
 * @packageDocumentation
 */
export { PeerManager } from './peer-manager.js';
export type {
  ConnectOptions,
  ConnectionFailedEvent,
  CustomMessageEvent,
  DisconnectEvent,
  ListenOptions,
  NoticeEvent,
  PeerManagerEvents,
  PingOptions,
  ReconnectingEvent,
  SchemaMessageEvent,
  SendOptions,
} from './peer-manager.js';
export { MAX_SENDS_WAITING_FOR_CONNECTION } from './peer-manager.js';
export type { HttpServerLike, WebSocketListenerOptions } from './transports/websocket-server.js';
export { DEFAULT_RECONNECT_INITIAL_DELAY_MS, DEFAULT_RECONNECT_MAX_DELAY_MS, RECONNECT_JITTER, STABLE_CONNECTION_MS } from './reconnect.js';
export type { PeerManagerOptions } from './options.js';
export { DEFAULT_MESSAGE_BUFFER } from './message-stream.js';
export { Requests, DEFAULT_MAX_PENDING_REQUESTS, DEFAULT_REQUEST_TIMEOUT_MS } from './protocols/requests.js';
export type { RequestOptions, RequestsOptions } from './protocols/requests.js';
export {
  Commando,
  COMMANDO_MAX_REQUEST_BYTES,
  COMMANDO_REPLY_CONTINUES,
  COMMANDO_REPLY_FINAL,
  COMMANDO_REQUEST_CONTINUES,
  COMMANDO_REQUEST_FINAL,
  COMMANDO_SLICE_BYTES,
  DEFAULT_COMMANDO_MAX_REPLY_BYTES,
  commandoSlices,
} from './protocols/commando.js';
export type { CommandoCallOptions, CommandoOptions, CommandoRequest, CommandoRpcErrorDetails } from './protocols/commando.js';
export {
  Lsps0Client,
  Lsps0Error,
  Lsps0Server,
  DEFAULT_LSPS0_MAX_IN_FLIGHT_PER_PEER,
  DEFAULT_LSPS0_MAX_KNOWN_CLIENTS,
  DEFAULT_LSPS0_TIMEOUT_MS,
  LSPS0_ERROR_CODES,
  LSPS0_MESSAGE_TYPE,
  LSPS_FEATURE_BIT,
  MIN_LSPS0_MESSAGE_BYTES,
} from './protocols/lsps0.js';
export type {
  JsonObject,
  Lsps0CallOptions,
  Lsps0ClientEvents,
  Lsps0ClientOptions,
  Lsps0Handler,
  Lsps0MethodSpec,
  Lsps0Notice,
  Lsps0Notification,
  Lsps0NotificationHandler,
  Lsps0NotificationSpec,
  Lsps0RequestContext,
  Lsps0RpcErrorDetails,
  Lsps0ServerEvents,
  Lsps0ServerOptions,
  Lsps0StoppedEvent,
} from './protocols/lsps0.js';
export { defineMessage, fixedBytes, arrayOf, restOf } from './protocols/schema.js';
export type { ArrayOf, CountNames, Fields, FieldsValue, FieldType, FieldValue, FixedBytes, Infer, ItemType, ItemsValue, ItemValue, MessageDefinition, MessageSchema, RestOf, ScalarType, ScalarValues, Simplify, TlvDefinition, TlvDefinitions, TlvRecord, TlvsValue, TlvValue, TruncatedType } from './protocols/schema.js';
export type { MessageFilter, MessagesOptions } from './message-stream.js';
export type { PeerInfo, RemoteErrorInfo } from './session.js';
export { Peer, ACT_TIMEOUT_MS, CLOSE_GRACE_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS, MESSAGES_PER_TURN } from './peer.js';
export type { PeerEvents, PeerOptions, InitiatorOptions, PeerCloseInfo } from './peer.js';
export { asConnection, isConnection } from './connection.js';
export type { Connection, ConnectionHandler, Transport } from './connection.js';
export type { DuplexLike } from './transports/stream.js';
export { memoryPair } from './transports/memory.js';
export { CustomMessage, CUSTOM_TYPE_RANGE_START, MAX_PAYLOAD_LENGTH } from './custom-message.js';
export type { ValidateOptions } from './custom-message.js';
export { LnPeerError, isLnPeerError } from './errors.js';
export type { LnPeerErrorCode, HandshakeFailure } from './errors.js';
export { parseNodeId } from './node-id.js';
export { parsePeerAddress, DEFAULT_PORT } from './addresses.js';
export type { Direction, NetAddress, PeerAddress } from './addresses.js';
export { parseProxyUrl } from './proxy.js';
export type { Socks5Proxy } from './proxy.js';
export type { WaitOptions } from './wait.js';
export { keyPair } from './noise/index.js';
export type { KeyPair } from './noise/index.js';
export { aeadBackends, cryptoInUse, cryptoReady, curveBackends, useCrypto } from './crypto/index.js';
export { libsecp256k1WasmCurve, libsodiumAead, ONE_SHOT_AEAD_BELOW, sizeSwitchedAead, sodiumNativeAead } from './crypto/accelerators.js';
export type { LibsodiumWrappers, SodiumNative, TinySecp256k1 } from './crypto/accelerators.js';
export type { Aead, Curve } from './crypto/index.js';
/** BOLT 8, sans I/O: the handshake, cipher states and the message encryptor/decryptor, for custom transports and tests. */
export * as noise from './noise/index.js';
/** BOLT 1 codecs, pure: BigSize, TLV, feature bits, `init`/`error`/`warning`/`ping`/`pong`, the message type registry. */
export * as wire from './wire/index.js';
