// Shared test utilities: loopback managers, raw peers that misbehave on purpose, waiting.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { Connection } from '../src/connection.js';
import { randomPrivateKey } from '../src/crypto/index.js';
import { Peer, type PeerCloseInfo } from '../src/peer.js';
import { PeerManager } from '../src/peer-manager.js';
import type { PeerManagerOptions } from '../src/options.js';
import type { PeerManagerEvents } from '../src/peer-manager.js';
import { encodeInit } from '../src/wire/messages.js';
import { encodeFeatures, DEFAULT_FEATURES } from '../src/wire/features.js';

/** A manager listening on 127.0.0.1 on a port the OS picks. */
export async function listeningManager(options: PeerManagerOptions = {}): Promise<{ pm: PeerManager; port: number; address: string }> {
  const pm = new PeerManager(options);
  const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
  return { pm, port, address: `${pm.nodeId}@127.0.0.1:${port}` };
}

/** The next `event` of `pm`, with its argument; rejects, naming the event, after `ms`. */
export function next<E extends keyof PeerManagerEvents>(pm: PeerManager, event: E, ms = 10_000): Promise<Parameters<PeerManagerEvents[E]>[0]> {
  const arrived = new Promise<Parameters<PeerManagerEvents[E]>[0]>((resolve) => pm.once(event, ((arg: Parameters<PeerManagerEvents[E]>[0]) => resolve(arg)) as PeerManagerEvents[E]));
  return withTimeout(arrived, ms, `the PeerManager's next '${event}' event`);
}

/** The close info of `peer` (not `events.once`, which rejects on the 'error' event); rejects after `ms`. */
export function closed(peer: Peer, ms = 10_000): Promise<PeerCloseInfo> {
  if (peer.closed) return Promise.resolve(peer.closed);
  return withTimeout(new Promise((resolve) => peer.once('close', resolve)), ms, "the Peer's 'close' event");
}

import { withTimeout } from './wait.js';

export { deferred, until, withTimeout } from './wait.js';

/** Node's arguments to run a TypeScript file of this repository from source (`#platform` included). */
export const FROM_SOURCE = ['--conditions=lnpeer-source', '--import', 'tsx'];

/**
 * A raw BOLT 8 connection to `port` (or over `transport`), driven by hand: it records every
 * message it receives, and sends `init` only when told (or never), so tests can play a
 * misbehaving node. `socket` is its TCP socket, when it has one.
 */
export async function rawPeer(
  nodeId: string,
  port: number | Connection,
  localKey: Uint8Array = randomPrivateKey(),
): Promise<{ peer: Peer; socket?: Socket; localKey: Uint8Array; received: Uint8Array[]; sendInit: (bits?: number[]) => Promise<void> }> {
  let socket: Socket | undefined;
  if (typeof port === 'number') {
    socket = connect(port, '127.0.0.1');
    await withTimeout(once(socket, 'connect'), 10_000, 'the raw peer connects');
  }
  const peer = Peer.initiator(socket ?? (port as Connection), { peerId: nodeId, localKey });
  const received: Uint8Array[] = [];
  peer.on('message', (m) => received.push(m));
  await withTimeout(peer.ready(), 10_000, "the raw peer's handshake");
  const sendInit = (bits: number[] = [...DEFAULT_FEATURES]) => peer.send(encodeInit({ features: encodeFeatures(bits) }));
  return { peer, socket, localKey, received, sendInit };
}

/** The 2-byte type of a whole message. */
export function typeOf(message: Uint8Array): number {
  return (message[0] << 8) | message[1];
}

/**
 * Two Node duplex streams joined back to back, delivering each write to the other side
 * within the writer's own call (as some in-memory streams do): the hardest case for code
 * that writes while it handles a read.
 */
export function syncDuplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const end = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, done) {
        other().push(chunk);
        done();
      },
      final(done) {
        other().push(null);
        done();
      },
      destroy(err, done) {
        other().destroy();
        done(err);
      },
    });
  ends.push(end(() => ends[1]), end(() => ends[0]));
  return [ends[0], ends[1]];
}
