/**
 * npm `lnsocket` 0.3.3: Core Lightning's C transport compiled to wasm. Initiator only.
 *
 * Quirks handled here (each checked, see test/interop-partners.test.ts):
 * - it reads the remote's `init` before sending its own (its `perform_init`): a responder
 *   that waits for the initiator's `init` first deadlocks with it;
 * - `read()` and `encrypt()` return views into wasm memory that the next call overwrites,
 *   and Node's `socket.write` keeps a reference, not a copy: bytes are copied both ways;
 * - a refused connection is an uncaught `error` event, and `connect` rejects (with
 *   `undefined`) only after its own timeout;
 * - it never answers pings (its own `ping_pong()` sends one and reads the next message);
 * - `read()` takes two chunks from its queue, each through a 5-ms `setInterval` even when
 *   one is waiting: about 10 ms a message, 11 s for 1,002. The driver hands over a waiting
 *   chunk at once (same queue, framing and decryption; only the wait goes);
 * - `read()` throws once the socket has closed, even with data still queued;
 * - `make_default_initmsg()` and `make_ping_msg()` return views of wasm memory they have just
 *   freed, and the allocator's free-list pointers overwrite the first 8 bytes of the message
 *   on every other connection in one process (`401a0200401a0200…` in place of an `init`,
 *   which a responder rightly refuses). The driver sends the bytes lnsocket's C code built
 *   (`LNSOCKET_INIT`, `LNSOCKET_PING`) and records what the JavaScript returned (`built`).
 */
import net from 'node:net';
import lnsocket, { type LNSocket } from 'lnsocket';
import {
  DEFAULT_TIMEOUT_MS,
  MessageQueue,
  PartnerClosedError,
  deferred,
  fromHex,
  keyBytes,
  nodeIdOf,
  toHex,
  track,
  withTimeout,
  type ConnectOptions,
  type Partner,
  type PartnerConnection,
} from '../partner.js';

const NAME = 'lnsocket';

/** What lnsocket's C code builds for `init`: no global features, five zero feature bytes, no TLVs. */
export const LNSOCKET_INIT = '00100002000000050000000000';
/** What it builds for `ping`: num_pong_bytes 1, one ignored byte. */
export const LNSOCKET_PING = '00120001000100';

/** Every `init` and `ping` lnsocket's JavaScript returned in this process, against what its C code built. */
export const built: { expected: string; returned: string }[] = [];

/** `expected`, after recording what lnsocket returned for it (see the quirks above). */
function intact(returned: Uint8Array, expected: string): Uint8Array {
  built.push({ expected, returned: toHex(returned) });
  return fromHex(expected);
}

/** `ln.connect`, plus the `error` listener that lnsocket's own socket lacks. */
function connectCatchingErrors(ln: LNSocket, nodeId: string, host: string, onError: (e: Error) => void): Promise<void> {
  const createConnection = net.createConnection;
  net.createConnection = ((...args: Parameters<typeof net.createConnection>) => {
    const socket = createConnection(...args);
    socket.on('error', onError);
    return socket;
  }) as typeof net.createConnection;
  try {
    return ln.connect(nodeId, host); // creates its socket synchronously, before any await
  } finally {
    net.createConnection = createConnection;
  }
}

export const lnsocketPartner: Partner = {
  name: NAME,
  async connect({ nodeId, host, port, privateKey, timeoutMs = DEFAULT_TIMEOUT_MS }: ConnectOptions) {
    const key = keyBytes(privateKey);
    const ln = await lnsocket({ timeout: timeoutMs });
    if (!ln.setkeyraw(key)) throw new Error(`${NAME}: invalid private key`);
    const poll = ln.queue_recv.bind(ln);
    ln.queue_recv = () => (ln.queue.length > 0 ? Promise.resolve(ln.queue.shift()!) : poll());

    const closed = deferred<{ reason: string }>();
    const queue = new MessageQueue(NAME);
    let reason: string | undefined;
    let socketError: Error | undefined;
    const failed = deferred<never>();
    const release = track(`${NAME} connection`, async () => {
      reason ??= 'closed by driver';
      if (ln.ws && !ln.ws.destroyed) {
        ln.disconnect();
        await closed.promise;
      }
    });

    try {
      await withTimeout(
        Promise.race([
          connectCatchingErrors(ln, nodeId, `${host}:${port}`, (e) => {
            socketError = e;
            failed.reject(new PartnerClosedError(NAME, `socket error: ${e.message}`));
          }),
          failed.promise,
        ]),
        timeoutMs,
        `${NAME} handshake`,
      );
    } catch (e) {
      await release();
      ln.destroy();
      throw e;
    }
    const socket = ln.ws!;
    socket.setNoDelay(true);
    socket.on('close', () => {
      const why = reason ?? (socketError ? `socket error: ${socketError.message}` : 'closed by remote');
      queue.end(new PartnerClosedError(NAME, why));
      closed.resolve({ reason: why });
    });

    // perform_init(), keeping the bytes: read theirs, then send lnsocket's default init.
    let init: { sent: Uint8Array; received: Uint8Array };
    try {
      const received = (await withTimeout(ln.read(), timeoutMs, `${NAME} remote init`)).slice();
      const sent = intact(ln.make_default_initmsg(), LNSOCKET_INIT);
      await write(ln, sent);
      init = { sent, received };
    } catch (e) {
      await release();
      ln.destroy();
      throw e instanceof Error ? e : new PartnerClosedError(NAME, reason ?? 'closed before init');
    }

    // Pump: lnsocket has no events, only read(), which rejects (with undefined) once
    // closed; an Error is a decryption failure.
    void (async () => {
      try {
        for (;;) queue.push((await ln.read()).slice());
      } catch (e) {
        if (e instanceof Error && !socket.destroyed) reason ??= e.message;
      } finally {
        ln.destroy(); // closes the socket if still open, then frees the wasm state
      }
    })();

    const connection: PartnerConnection = {
      name: NAME,
      role: 'initiator',
      localNodeId: nodeIdOf(key),
      remoteNodeId: nodeId,
      init,
      send: async (message) => {
        if (socket.destroyed) throw new PartnerClosedError(NAME, reason ?? 'closed');
        await write(ln, message);
      },
      nextMessage: (ms) => queue.next(ms),
      ping: async () => {
        // its own ping (what its ping_pong() sends), without ping_pong's read: the pump reads
        const ping = intact(ln.make_ping_msg(), LNSOCKET_PING);
        await connection.send(ping);
        return ping;
      },
      close: release,
      closed: closed.promise,
    };
    return connection;
  },
};

/** `ln.write()`, but with a copy of the ciphertext (lnsocket reuses its buffer). */
function write(ln: LNSocket, message: Uint8Array): Promise<void> {
  const packet = ln.encrypt(message).slice();
  return new Promise((resolve, reject) => ln.ws!.write(packet, (e) => (e ? reject(e) : resolve())));
}
