/**
 * lnpeer's end of an interop pairing, through its public API only (`PeerManager` from
 * src/index.ts), and `pair()`, which connects it to a partner driver in either role.
 */
import {
  PeerManager,
  type DisconnectEvent,
  type PeerInfo,
  type PeerManagerOptions,
  type RemoteErrorInfo,
} from '../../src/index.js';
import type { Endpoint } from './exchange.js';
import {
  MessageQueue,
  deferred,
  nodeIdOf,
  randomKey,
  track,
  withTimeout,
  DEFAULT_TIMEOUT_MS,
  type ConnectOptions,
  type ListenOptions,
  type Message,
  type PartnerConnection,
  type PartnerListener,
  type Role,
} from './partner.js';

/** A PeerManager that `closeAllPartners()` closes, like the partners' own resources. */
export function manager(options: PeerManagerOptions = {}): PeerManager {
  // No keepalive: a ping lnpeer sends on its own would land in the partner's message queue
  // in the middle of a check (and lnsocket never answers one). Tests ping with pm.ping().
  const pm = new PeerManager({ pingIntervalMs: 0, ...options });
  track('an lnpeer PeerManager', () => pm.close());
  return pm;
}

/** lnpeer's end of the connection to one node id, seen through PeerManager's events. */
export class LnpeerEnd implements Endpoint {
  readonly name = 'lnpeer';
  private readonly queue = new MessageQueue('lnpeer');
  private readonly disconnect = deferred<DisconnectEvent>();
  private readonly connect = deferred<PeerInfo>();
  /** `warning` and `error` messages the remote sent. */
  readonly remoteErrors: RemoteErrorInfo[] = [];

  constructor(
    readonly pm: PeerManager,
    readonly remoteNodeId: string,
  ) {
    pm.on('custommsg', ({ peerId, type, payload }) => {
      if (peerId !== remoteNodeId) return;
      const message = new Uint8Array(2 + payload.length);
      message.set([type >> 8, type & 0xff]);
      message.set(payload, 2);
      this.queue.push(message);
    });
    pm.on('peer:connect', (info) => info.peerId === remoteNodeId && this.connect.resolve(info));
    const remoteError = (info: RemoteErrorInfo) => info.peerId === remoteNodeId && this.remoteErrors.push(info);
    pm.on('peer:warning', remoteError).on('peer:error', remoteError);
    pm.on('peer:disconnect', (event) => {
      if (event.peerId !== remoteNodeId) return;
      this.disconnect.resolve(event);
      this.queue.end(new Error(`lnpeer: disconnected: ${event.reason}${event.error ? ` (${event.error.code})` : ''}`));
    });
  }

  /** The node's `peer:connect`. */
  get connected(): Promise<PeerInfo> {
    return this.connect.promise;
  }

  /** The node's `peer:disconnect`. */
  get disconnected(): Promise<DisconnectEvent> {
    return this.disconnect.promise;
  }

  /** `pm.sendCustomMsg`: only messages an app may send. */
  send(message: Message): Promise<void> {
    return this.pm.sendCustomMsg(this.remoteNodeId, message);
  }

  /** The next `custommsg` from this node, as a whole message (type + payload). */
  nextMessage(timeoutMs?: number): Promise<Message> {
    return this.queue.next(timeoutMs);
  }
}

/** A driver in the shape `pair` needs: every partner connects; some listen. */
export interface Driver<C extends PartnerConnection> {
  readonly name: string;
  /** A node with an identity of its own (see `Partner.nodeId`). */
  readonly nodeId?: string;
  connect(options: ConnectOptions): Promise<C>;
  listen?(options: ListenOptions): Promise<PartnerListener & { accepted: Promise<C> }>;
}

export interface Pairing<C extends PartnerConnection = PartnerConnection> {
  lnpeer: LnpeerEnd;
  partner: C;
  /** The partner, as lnpeer's `connect()` or `peer:connect` described it. */
  info: PeerInfo;
  /** Each side's `init`, whole, as the other side received it. */
  init: { lnpeer: Message; partner: Message };
}

/**
 * Connects lnpeer (`pm`, in `role`) and a fresh partner of `driver`, and waits until `init`
 * was exchanged. A raw transport has no BOLT 1: give `rawInit`, the `init` the test sends
 * for it (at once, as lnpeer does; then it reads lnpeer's).
 */
export async function pair<C extends PartnerConnection>(pm: PeerManager, driver: Driver<C>, role: Role, rawInit?: Message): Promise<Pairing<C>> {
  const key = randomKey();
  const lnpeer = new LnpeerEnd(pm, driver.nodeId ?? nodeIdOf(key));
  let partner: C;
  let info: Promise<PeerInfo>;
  if (role === 'initiator') {
    if (!driver.listen) throw new Error(`${driver.name} has no responder role`);
    const listener = await driver.listen({ privateKey: key });
    info = pm.connect(listener.nodeId, { host: listener.host, port: listener.port });
    info.catch(() => {}); // awaited below, after the partner's side
    partner = await listener.accepted;
  } else {
    const { port } = await pm.listen({ port: 0, host: '127.0.0.1' });
    info = withTimeout(lnpeer.connected, DEFAULT_TIMEOUT_MS, `lnpeer's peer:connect for ${driver.name}`);
    info.catch(() => {}); // awaited below, after the partner's side
    partner = await driver.connect({ nodeId: pm.nodeId, host: '127.0.0.1', port, privateKey: key });
  }
  let init: Pairing['init'];
  if (rawInit) {
    await partner.send(rawInit);
    init = { lnpeer: await partner.nextMessage(), partner: rawInit };
  } else {
    if (!partner.init) throw new Error(`${driver.name} runs no init of its own: give rawInit`);
    init = { lnpeer: partner.init.received, partner: partner.init.sent };
  }
  return { lnpeer, partner, info: await info, init };
}
