/**
 * npm `lnmessage` 0.2.7: pure TypeScript, over plain TCP (`tcpSocket`). Initiator only.
 *
 * Quirks handled here (each checked, see test/interop-partners.test.ts):
 * - it waits for the remote's `init`, then answers with 8 zero feature bytes and the
 *   remote's chain hashes copied back;
 * - `decryptedMsgs$` is a hot stream that keeps the 16-byte MAC tag on every message:
 *   subscribe before connecting, cut the tag off;
 * - it reconnects on its own unless `connect(false)`; it answers pings, and pings by itself
 *   45 s after connecting / 40 s after the last message (closing if no pong in 5 s): `ping()`
 *   makes it send that ping now;
 * - a message that fails to decrypt stalls the reader silently: no close, no event.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import LnMessage from 'lnmessage';
import {
  DEFAULT_TIMEOUT_MS,
  MessageQueue,
  PartnerClosedError,
  deferred,
  keyBytes,
  toHex,
  track,
  withTimeout,
  type ConnectOptions,
  type Partner,
  type PartnerConnection,
} from '../partner.js';

const NAME = 'lnmessage';
const TAG = 16;
const INIT = 16;
const PING = 18;

export const lnmessagePartner: Partner = {
  name: NAME,
  async connect({ nodeId, host, port, privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions) {
    const key = keyBytes(privateKey);
    const tcpSocket = new net.Socket();
    tcpSocket.setNoDelay(true); // applied when it connects
    let lastError: string | undefined;
    let reason: string | undefined;
    const ln = new LnMessage({
      remoteNodePublicKey: nodeId,
      ip: host,
      port,
      privateKey: toHex(key),
      tcpSocket,
      // its error log is the only place it says why it closes; the first cause wins
      logger: { info: () => {}, warn: () => {}, error: (msg) => {
        const text = msg.replace(/^\[ERROR - [^\]]*\]: /, '');
        if (/^(Noise state|WebSocket error)/.test(text)) lastError ??= text;
        else if (text === 'Closing connection') lastError ??= 'lnmessage closed it: no pong within 5 s of its ping';
      } },
    });

    // What lnmessage itself encrypts (its init answer, its pings): every send goes through here.
    let sentInit: Uint8Array | undefined;
    let lastEncrypted: Uint8Array | undefined;
    const encrypt = ln.noise.encryptMessage.bind(ln.noise);
    ln.noise.encryptMessage = (m) => {
      lastEncrypted = new Uint8Array(m);
      if (!sentInit && m.length >= 2 && m.readUInt16BE(0) === INIT) sentInit = lastEncrypted;
      return encrypt(m);
    };

    const queue = new MessageQueue(NAME);
    let receivedInit: Uint8Array | undefined;
    const subscription = ln.decryptedMsgs$.subscribe((withTag) => {
      const message = new Uint8Array(withTag.subarray(0, withTag.length - TAG));
      if (!receivedInit && message.length >= 2 && (message[0] << 8 | message[1]) === INIT) receivedInit = message;
      else queue.push(message);
    });

    const closed = deferred<{ reason: string }>();
    tcpSocket.once('close', () => {
      const why = reason ?? lastError ?? 'closed by remote';
      subscription.unsubscribe();
      queue.end(new PartnerClosedError(NAME, why));
      closed.resolve({ reason: why });
    });
    const release = track(`${NAME} connection`, async () => {
      reason ??= 'closed by driver';
      ln.disconnect(); // stops reconnects and its ping timers, ends the socket
      tcpSocket.destroy();
      await closed.promise;
    });

    let connected: boolean;
    try {
      connected = await withTimeout(ln.connect(false), timeoutMs, `${NAME} handshake and init`);
    } catch (e) {
      await release();
      throw e;
    }
    if (!connected || !sentInit || !receivedInit) {
      const why = lastError ?? 'closed before init';
      await release();
      throw new PartnerClosedError(NAME, why, { sent: sentInit, received: receivedInit });
    }

    const connection: PartnerConnection = {
      name: NAME,
      role: 'initiator',
      localNodeId: ln.publicKey,
      remoteNodeId: ln.remoteNodePublicKey,
      init: { sent: sentInit, received: receivedInit },
      send: (message) =>
        new Promise<void>((resolve, reject) => {
          if (tcpSocket.destroyed) return reject(new PartnerClosedError(NAME, reason ?? 'closed'));
          // lnmessage has no public send for arbitrary messages; this is what it does for its own
          const packet = ln.noise.encryptMessage(Buffer.from(message));
          tcpSocket.write(packet, (e) => (e ? reject(e) : resolve()));
        }),
      nextMessage: (ms) => queue.next(ms),
      ping: async () => {
        // its keepalive's ping, sent now instead of 40 s after the last message; it closes
        // the connection unless a message arrives within 5 s
        (ln as unknown as { _sendPingMessage(): void })._sendPingMessage();
        if (lastEncrypted?.[1] !== PING) throw new Error(`${NAME}: it did not send a ping`);
        const ping = lastEncrypted;
        await new Promise<void>((resolve, reject) => tcpSocket.write('', (e) => (e ? reject(e) : resolve())));
        return ping;
      },
      close: release,
      closed: closed.promise,
    };
    return connection;
  },
};
