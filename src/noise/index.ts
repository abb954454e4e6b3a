export { ACT_ONE_LENGTH, ACT_TWO_LENGTH, ACT_THREE_LENGTH, InitiatorHandshake, ResponderHandshake, keyPair } from './handshake.js';
export type { HandshakeOptions, HandshakeResult, KeyPair } from './handshake.js';
export { CipherState, KEY_ROTATION_NONCE } from './cipher-state.js';
export { MessageEncryptor, MessageDecryptor, LENGTH_PREFIX_SIZE, packetSize } from './transport.js';
/** BOLT 8: the largest Lightning message, 65535 bytes. */
export { MAX_MESSAGE_LENGTH } from '../wire/message-types.js';
