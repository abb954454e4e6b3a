/**
 * The implementations under test, each behind the same small interface, so that one scenario
 * body drives all of them the same way. A message is always a whole Lightning message
 * (2-byte type + payload), as `sendCustomMsg` takes it; the transport adds its framing.
 *
 * - `lnpeer`: the public API (`PeerManager.connect`, `sendCustomMsg`, the `custommsg` event);
 * - `lnpeer-ws`: the `lnpeer` server listening for WebSocket instead of TCP (for the browser);
 * - `lnpeer-peer`: lnpeer's bare transport (`Peer`), BOLT 1 `init` sent by hand;
 * - `node-lightning`: `@node-lightning/noise` (native libsecp256k1 + Node crypto), `init` by hand;
 * - `lnmessage`: `lnmessage` over plain TCP (initiator only; it runs `init` itself);
 * - `raw-tcp`: the same messages with a 2-byte length prefix and no crypto: the ceiling;
 * - `raw-tcp-batched`: the same, with the writes of one turn in one `writev`, as lnpeer batches them.
 */
import { Buffer } from 'node:buffer';
import net from 'node:net';
import * as peerManager from '../src/peer-manager.js';
import { PeerManager } from '../src/peer-manager.js';
import { Peer } from '../src/peer.js';
import { keyPair } from '../src/noise/index.js';
import { getPublicKey } from '../src/crypto/index.js';
import { toHex } from '../src/bytes.js';
import { encodeInit } from '../src/wire/messages.js';
import { DEFAULT_FEATURES, encodeFeatures } from '../src/wire/features.js';

export interface Target {
  host: string;
  port: number;
  nodeId: string;
}

/** One established connection (handshake and `init` done), from either side. */
export interface Link {
  /**
   * Sends one whole message. With `ack`, returns a promise that resolves once the bytes were
   * handed to the socket (the library's own completion signal); without, returns nothing.
   */
  send(message: Buffer, ack: boolean): Promise<void> | undefined;
  /** Closes the connection the library's usual way; resolves once the socket closed. */
  close(): Promise<void>;
}

/** Called for every application message received, with its length (type included). */
export type OnMessage = (length: number, link: Link) => void;

export interface Server {
  readonly target: Target;
  /** Connections that completed the handshake and `init` and are still open. */
  connected(): number;
  /** Listens on one more port (the same server, the same node id); for the browser scenario. */
  listenAgain?(): Promise<Target>;
  close(): Promise<void>;
}

export interface Client {
  /** Connects, completes the handshake, and resolves once the remote's `init` was received. */
  connect(target: Target, onMessage: OnMessage): Promise<Link>;
}

export interface Impl {
  readonly name: string;
  /** Absent for initiator-only implementations; `maxPeers` is the inbound peers it must be able to hold. */
  createServer?(key: Uint8Array, onMessage: OnMessage, maxPeers: number): Promise<Server>;
  /** A client with this static key (one identity, reused across connections). */
  createClient(key: Uint8Array): Client;
}

/** The message type used throughout: odd, in the custom range, not in any known use. */
export const BENCH_TYPE = 0x8001;
const INIT_TYPE = 16;

/** The `init` that lnpeer sends by default; the implementations without BOLT 1 send it too. */
export const INIT_MESSAGE = Buffer.from(encodeInit({ features: encodeFeatures(DEFAULT_FEATURES) }));

/** A whole message of `size` bytes: the bench type, then a payload of `size - 2` bytes. */
export function benchMessage(size: number): Buffer {
  const m = Buffer.alloc(size, 0x5a);
  m.writeUInt16BE(BENCH_TYPE, 0);
  return m;
}

const LOCALHOST = '127.0.0.1';

function listenOn(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOCALHOST, port: 0, backlog: 4096 }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: { close(cb: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function socketClosed(socket: net.Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

// ---------------------------------------------------------------------------------------------
// lnpeer, public API

/** The share of maxPeers kept for outbound connections (0 in a `--baseline` checkout from before it). */
const outboundReserve = (peerManager as { OUTBOUND_RESERVE?: number }).OUTBOUND_RESERVE ?? 0;

/** lnpeer's server: a `PeerManager` listening for TCP, or for WebSocket (the browser scenario). */
function lnpeerServer(websocket: boolean): NonNullable<Impl['createServer']> {
  return async (privateKey, onMessage, maxPeers) => {
    // A user holding thousands of peers raises maxPeers (its default is 10,000), of which
    // inbound peers may take all but OUTBOUND_RESERVE; every client here comes from 127.0.0.1,
    // so the per-address limit of new connections is off.
    const pm = new PeerManager({
      privateKey,
      maxPeers: Math.ceil(maxPeers / (1 - outboundReserve)),
      maxConcurrentHandshakes: 256,
      handshakesPerSecondPerHost: 0,
    });
    const links = new Map<string, Link>();
    const linkFor = (peerId: string): Link => {
      let link = links.get(peerId);
      if (!link) {
        link = {
          send: (message, ack) => {
            const sent = pm.sendCustomMsg(peerId, message);
            return ack ? sent : undefined;
          },
          close: async () => void (await pm.disconnect(peerId)),
        };
        links.set(peerId, link);
      }
      return link;
    };
    pm.on('custommsg', (m) => onMessage(m.payload.length + 2, linkFor(m.peerId)));
    pm.on('peer:disconnect', (e) => links.delete(e.peerId));
    const listen = async (): Promise<Target> => ({ host: LOCALHOST, port: (await pm.listen({ port: 0, host: LOCALHOST, websocket })).port, nodeId: pm.nodeId });
    return { target: await listen(), connected: () => pm.peers().length, listenAgain: listen, close: () => pm.close() };
  };
}

export const lnpeer: Impl = {
  name: 'lnpeer',
  createServer: lnpeerServer(false),
  createClient(privateKey) {
    const pm = new PeerManager({ privateKey });
    let current: { link: Link; onMessage: OnMessage } | undefined;
    pm.on('custommsg', (m) => current?.onMessage(m.payload.length + 2, current.link));
    return {
      async connect(target, onMessage) {
        await pm.connect(target.nodeId, target);
        const link: Link = {
          send: (message, ack) => {
            const sent = pm.sendCustomMsg(target.nodeId, message);
            return ack ? sent : undefined;
          },
          close: async () => void (await pm.disconnect(target.nodeId)),
        };
        current = { link, onMessage };
        return link;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// lnpeer, bare transport

function peerLink(peer: Peer): Link {
  return {
    send: (message, ack) => {
      const sent = peer.send(message);
      return ack ? sent : undefined;
    },
    close: () => {
      if (peer.closed) return Promise.resolve();
      const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
      peer.close();
      return closed;
    },
  };
}

/** Delivers every message but the remote's `init` to `onMessage`; resolves when `init` came. */
function peerInit(peer: Peer, link: Link, onMessage: OnMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let initSeen = false;
    peer.on('message', (m) => {
      if (!initSeen && ((m[0] << 8) | m[1]) === INIT_TYPE) {
        initSeen = true;
        resolve();
      } else onMessage(m.length, link);
    });
    peer.once('close', (info) => reject(new Error(`closed before init: ${info.reason}`)));
  });
}

export const lnpeerPeer: Impl = {
  name: 'lnpeer-peer',
  async createServer(privateKey, onMessage) {
    const localKey = keyPair(privateKey);
    let connected = 0;
    const server = net.createServer((socket) => {
      const peer = Peer.responder(socket, { localKey });
      const link = peerLink(peer);
      peer.once('ready', () => void peer.send(INIT_MESSAGE).catch(() => {}));
      peerInit(peer, link, onMessage).then(
        () => {
          connected++;
          peer.once('close', () => connected--);
        },
        () => {},
      );
    });
    const port = await listenOn(server);
    return { target: { host: LOCALHOST, port, nodeId: toHex(localKey.publicKey) }, connected: () => connected, close: () => closeServer(server) };
  },
  createClient(privateKey) {
    const localKey = keyPair(privateKey);
    return {
      async connect(target, onMessage) {
        const peer = await Peer.connect({ ...target, peerId: target.nodeId, localKey });
        const link = peerLink(peer);
        const init = peerInit(peer, link, onMessage);
        await peer.send(INIT_MESSAGE);
        await init;
        return link;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// @node-lightning/noise

type NoiseSocket = import('@node-lightning/noise').NoiseSocket;

/** Its wrapped TCP socket: NoiseSocket has no setNoDelay and leaves Nagle on (docs/benchmarks.md, "Implementations"). */
function tcpOf(socket: NoiseSocket): net.Socket {
  return (socket as unknown as { _socket: net.Socket })._socket;
}

function noiseLink(socket: NoiseSocket): Link {
  return {
    send: (message, ack) => {
      if (!ack) {
        socket.write(message);
        return undefined;
      }
      return new Promise((resolve, reject) => socket.write(message, (err) => (err ? reject(err) : resolve())));
    },
    close: () => {
      const closed = socketClosed(tcpOf(socket));
      socket.end();
      return closed;
    },
  };
}

/** Like {@link peerInit} for a NoiseSocket: `init` is sent on `ready`, the remote's is awaited. */
function noiseInit(socket: NoiseSocket, link: Link, onMessage: OnMessage): Promise<void> {
  tcpOf(socket).setNoDelay(true);
  return new Promise((resolve, reject) => {
    let initSeen = false;
    socket.on('data', (m: Buffer) => {
      if (!initSeen && m.readUInt16BE(0) === INIT_TYPE) {
        initSeen = true;
        resolve();
      } else onMessage(m.length, link);
    });
    socket.once('ready', () => socket.write(INIT_MESSAGE));
    socket.on('error', () => {});
    socket.once('close', () => reject(new Error('node-lightning connection closed before init')));
  });
}

export const nodeLightning: Impl = {
  name: 'node-lightning',
  async createServer(privateKey, onMessage) {
    const { createServer } = await import('@node-lightning/noise');
    let connected = 0;
    const server = createServer({ ls: Buffer.from(privateKey) }, (socket) => {
      noiseInit(socket, noiseLink(socket), onMessage).then(
        () => {
          connected++;
          tcpOf(socket).once('close', () => connected--);
        },
        () => {},
      );
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOCALHOST, port: 0, backlog: 4096 }, () => resolve((server.address() as net.AddressInfo).port));
    });
    return { target: { host: LOCALHOST, port, nodeId: toHex(getPublicKey(privateKey)) }, connected: () => connected, close: () => closeServer(server) };
  },
  createClient(privateKey) {
    const ls = Buffer.from(privateKey);
    return {
      async connect(target, onMessage) {
        const { connect } = await import('@node-lightning/noise');
        const socket = connect({ ls, rpk: Buffer.from(target.nodeId, 'hex'), host: target.host, port: target.port });
        const link = noiseLink(socket);
        await noiseInit(socket, link, onMessage);
        return link;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// lnmessage (initiator only)

const TAG_LENGTH = 16;

export const lnmessage: Impl = {
  name: 'lnmessage',
  createClient(privateKey) {
    const key = toHex(privateKey);
    return {
      async connect(target, onMessage) {
        const { default: LnMessage } = await import('lnmessage');
        const tcpSocket = new net.Socket();
        tcpSocket.setNoDelay(true); // applied once it connects
        const ln = new LnMessage({ remoteNodePublicKey: target.nodeId, ip: target.host, port: target.port, privateKey: key, tcpSocket });
        const closed = socketClosed(tcpSocket);
        const link: Link = {
          send: (message, ack) => {
            // lnmessage has no public send for arbitrary messages; this is what it does for its own.
            const packet = ln.noise.encryptMessage(message);
            if (!ack) {
              tcpSocket.write(packet);
              return undefined;
            }
            return new Promise((resolve, reject) => tcpSocket.write(packet, (err) => (err ? reject(err) : resolve())));
          },
          close: () => {
            ln.disconnect(); // stops its reconnects and ping timers, ends the socket
            return closed;
          },
        };
        // Its decrypted messages keep the 16-byte tag; it has handled init before we see anything.
        ln.decryptedMsgs$.subscribe((withTag) => {
          if (withTag.readUInt16BE(0) !== INIT_TYPE) onMessage(withTag.length - TAG_LENGTH, link);
        });
        if (!(await ln.connect(false))) throw new Error('lnmessage did not connect');
        return link;
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// raw TCP: the same messages, a 2-byte length prefix, no crypto

const frames = new WeakMap<Buffer, Buffer>();

/** The framed form of `message`, built once per message buffer (the ceiling has no per-message work). */
function frameOf(message: Buffer): Buffer {
  let frame = frames.get(message);
  if (!frame) {
    frame = Buffer.allocUnsafe(2 + message.length);
    frame.writeUInt16BE(message.length, 0);
    message.copy(frame, 2);
    frames.set(message, frame);
  }
  return frame;
}

function rawLink(socket: net.Socket, batched: boolean): Link {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return {
    send: (message, ack) => {
      const frame = frameOf(message);
      // Batched: the writes of one turn leave in one writev, as lnpeer's (src/transports/stream.ts).
      if (batched && !corked) {
        corked = true;
        socket.cork();
        queueMicrotask(uncork);
      }
      if (!ack) {
        socket.write(frame);
        return undefined;
      }
      return new Promise((resolve, reject) => socket.write(frame, (err) => (err ? reject(err) : resolve())));
    },
    close: () => {
      const closed = socketClosed(socket);
      socket.end();
      return closed;
    },
  };
}

/** Splits the stream into frames; the first frame is the remote's `init`. */
function rawInit(socket: net.Socket, link: Link, onMessage: OnMessage): Promise<void> {
  socket.setNoDelay(true);
  socket.write(frameOf(INIT_MESSAGE));
  return new Promise((resolve, reject) => {
    let pending: Buffer | undefined;
    let initSeen = false;
    socket.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (buf.length - offset >= 2) {
        const length = buf.readUInt16BE(offset);
        if (buf.length - offset < 2 + length) break;
        if (initSeen) onMessage(length, link);
        else {
          initSeen = true;
          resolve();
        }
        offset += 2 + length;
      }
      pending = offset === buf.length ? undefined : buf.subarray(offset);
    });
    socket.on('error', () => {});
    socket.once('close', () => reject(new Error('raw connection closed before init')));
  });
}

/** Raw TCP: one `socket.write` per message, or (`batched`) the writes of one turn corked together. */
function rawImpl(name: string, batched: boolean): Impl {
  return {
    name,
    async createServer(privateKey, onMessage) {
      let connected = 0;
      const server = net.createServer((socket) => {
        rawInit(socket, rawLink(socket, batched), onMessage).then(
          () => {
            connected++;
            socket.once('close', () => connected--);
          },
          () => {},
        );
      });
      const port = await listenOn(server);
      return { target: { host: LOCALHOST, port, nodeId: toHex(getPublicKey(privateKey)) }, connected: () => connected, close: () => closeServer(server) };
    },
    createClient() {
      return {
        async connect(target, onMessage) {
          const socket = net.connect({ host: target.host, port: target.port });
          await new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('error', reject);
          });
          const link = rawLink(socket, batched);
          await rawInit(socket, link, onMessage);
          return link;
        },
      };
    },
  };
}

export const rawTcp = rawImpl('raw-tcp', false);
export const rawTcpBatched = rawImpl('raw-tcp-batched', true);

/** lnpeer listening for WebSocket (a client connects to `ws://host:port`). */
export const lnpeerWebSocket: Impl = { ...lnpeer, name: 'lnpeer-ws', createServer: lnpeerServer(true) };

export const IMPLS: Record<string, Impl> = {
  [lnpeer.name]: lnpeer,
  [lnpeerWebSocket.name]: lnpeerWebSocket,
  [lnpeerPeer.name]: lnpeerPeer,
  [nodeLightning.name]: nodeLightning,
  [lnmessage.name]: lnmessage,
  [rawTcp.name]: rawTcp,
  [rawTcpBatched.name]: rawTcpBatched,
};
