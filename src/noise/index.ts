export { ACT_ONE_LENGTH, ACT_TWO_LENGTH, ACT_THREE_LENGTH, InitiatorHandshake, ResponderHandshake, keyPair } from './handshake.js';
export type { HandshakeOptions, HandshakeResult, KeyPair } from './handshake.js';
export { CipherState, KEY_ROTATION_NONCE } from './cipher-state.js';
export { MessageEncryptor, MessageDecryptor, MAX_MESSAGE_LENGTH, LENGTH_PREFIX_SIZE, packetSize } from './transport.js';
