// Shared test utilities: loopback managers, raw peers that misbehave on purpose, waiting.
import { Duplex } from 'node:stream';
import { randomPrivateKey } from '../src/crypto.js';
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

/** The next `event` of `pm`, with its argument. */
export function next<E extends keyof PeerManagerEvents>(pm: PeerManager, event: E): Promise<Parameters<PeerManagerEvents[E]>[0]> {
  return new Promise((resolve) => pm.once(event, ((arg: Parameters<PeerManagerEvents[E]>[0]) => resolve(arg)) as PeerManagerEvents[E]));
}

/** The close info of `peer` (not `events.once`, which rejects on the 'error' event). */
export function closed(peer: Peer): Promise<PeerCloseInfo> {
  return peer.closed ? Promise.resolve(peer.closed) : new Promise((resolve) => peer.once('close', resolve));
}

/** Resolves once `condition()` is true, checking every few milliseconds; fails after `ms`. */
export async function until(condition: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A raw BOLT 8 connection to `port`, driven by hand: it records every message it receives,
 * and sends `init` only when told (or never), so tests can play a misbehaving node.
 */
export async function rawPeer(nodeId: string, port: number): Promise<{ peer: Peer; received: Uint8Array[]; sendInit: (bits?: number[]) => Promise<void> }> {
  const peer = await Peer.connect({ host: '127.0.0.1', port, remoteNodeId: nodeId, localKey: randomPrivateKey() });
  const received: Uint8Array[] = [];
  peer.on('message', (m) => received.push(m));
  const sendInit = (bits: number[] = [...DEFAULT_FEATURES]) => peer.send(encodeInit({ features: encodeFeatures(bits) }));
  return { peer, received, sendInit };
}

/** The 2-byte type of a whole message. */
export function typeOf(message: Uint8Array): number {
  return (message[0] << 8) | message[1];
}

/** Two in-memory streams joined back to back: what one writes, the other reads. */
export function memoryPair(): [Duplex, Duplex] {
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
