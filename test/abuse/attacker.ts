// The attacker of the abuse scenarios, in a process of its own (so that its CPU work never
// delays the harness's legitimate client): raw TCP sockets from node:net, and lnpeer's own
// Peer and noise codecs to speak BOLT 8. Told what to do over IPC; keeps its connections
// open until told to stop.
//
// Run as: node --conditions=lnpeer-source --import tsx test/abuse/attacker.ts
import { connect, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { randomPrivateKey } from '../../src/crypto/index.js';
import { parseNodeId } from '../../src/node-id.js';
import { InitiatorHandshake, keyPair } from '../../src/noise/index.js';
import { Peer } from '../../src/peer.js';
import { DEFAULT_FEATURES, encodeFeatures } from '../../src/wire/features.js';
import { encodeInit, encodePing } from '../../src/wire/messages.js';
import { FLOOD_TYPE, lifetimeBucket, newLifetimeBuckets, serveCommands, type AttackCommand, type AttackStatus } from './protocol.js';

const HOST = '127.0.0.1';
const sockets = new Set<Socket>();
const peers = new Set<Peer>();
const status: AttackStatus = { connected: 0, connectErrors: {}, closed: 0, lifetimes: newLifetimeBuckets() };
let flooder: { socket: Socket; peer: Peer } | undefined;

/** Opens a TCP connection from `source`, counted in `status`; resolves once connected, or to undefined when it failed. */
function open(port: number, source: string, onConnect?: (socket: Socket) => void): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, localAddress: source });
    sockets.add(socket);
    let connectedAt = 0;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connectedAt) status.connectErrors[err.code ?? err.message] = (status.connectErrors[err.code ?? err.message] ?? 0) + 1;
    });
    socket.once('connect', () => {
      connectedAt = performance.now();
      status.connected++;
      onConnect?.(socket);
      resolve(socket);
    });
    socket.once('close', () => {
      sockets.delete(socket);
      if (connectedAt) {
        status.closed++;
        status.lifetimes[lifetimeBucket(Math.max(1, performance.now() - connectedAt))]++;
      } else resolve(undefined);
    });
  });
}

/** The BOLT 8 handshake as initiator with a fresh node id, then (if `sendInit`) a valid init; resolves once the victim's init arrived. */
async function handshake(socket: Socket, victimId: string, sendInit: boolean): Promise<Peer> {
  const peer = Peer.initiator(socket, { peerId: victimId, localKey: randomPrivateKey() });
  peers.add(peer);
  peer.once('close', () => peers.delete(peer));
  const theirInit = new Promise<void>((resolve, reject) => {
    peer.once('message', () => resolve());
    peer.once('close', (info) => reject(new Error(`closed before its init: ${info.reason}`)));
  });
  theirInit.catch(() => {});
  await peer.ready();
  if (sendInit) {
    await peer.send(encodeInit({ features: encodeFeatures(DEFAULT_FEATURES) }));
    await theirInit;
  }
  return peer;
}

function watchFlooder(socket: Socket, peer: Peer, nodeId: Uint8Array): void {
  flooder = { socket, peer };
  status.key = `${socket.localAddress}:${socket.localPort}`;
  status.peerId = Buffer.from(nodeId).toString('hex');
  status.sent = 0;
  status.maxUnsent = 0;
  peer.once('close', (info) => (status.closeReason = `${info.error?.code ?? (info.local ? 'closed locally' : 'closed by the victim')}: ${info.reason}`));
}

async function floodPeer(port: number, victimId: string, source: string): Promise<{ socket: Socket; peer: Peer }> {
  const socket = await open(port, source);
  if (!socket) throw new Error(`the flooder could not connect: ${JSON.stringify(status.connectErrors)}`);
  const localKey = randomPrivateKey();
  const peer = Peer.initiator(socket, { peerId: victimId, localKey });
  peers.add(peer);
  const theirInit = new Promise<void>((resolve) => peer.once('message', () => resolve()));
  await peer.ready();
  await peer.send(encodeInit({ features: encodeFeatures(DEFAULT_FEATURES) }));
  await theirInit;
  watchFlooder(socket, peer, keyPair(localKey).publicKey);
  return { socket, peer };
}

function trackUnsent(socket: Socket): void {
  if (socket.writableLength > (status.maxUnsent ?? 0)) status.maxUnsent = socket.writableLength;
}

async function run(command: AttackCommand): Promise<unknown> {
  const started = performance.now();
  switch (command.cmd) {
    case 'halfOpen': {
      // Every socket at once, spread over the sources; each sends `sendBytes` (default none).
      const filler = new Uint8Array(command.sendBytes ?? 0);
      await Promise.all(
        Array.from({ length: command.count }, (_, i) =>
          open(command.port, command.sources[i % command.sources.length], (socket) => {
            if (filler.length > 0) socket.write(filler);
          }),
        ),
      );
      status.elapsedMs = Math.round(performance.now() - started);
      return { ...status };
    }
    case 'handshakes': {
      status.ready = 0;
      await Promise.all(
        Array.from({ length: command.count }, async (_, i) => {
          const socket = await open(command.port, command.sources[i % command.sources.length]);
          if (!socket) return;
          try {
            await handshake(socket, command.victimId, command.sendInit);
            status.ready!++;
          } catch {
            // Refused: counted by the victim.
          }
        }),
      );
      status.elapsedMs = Math.round(performance.now() - started);
      return { ...status };
    }
    case 'pingFlood': {
      const { socket, peer } = await floodPeer(command.port, command.victimId, command.source);
      // Never read again: the victim's pongs pile up on its side.
      peer.pause();
      const ping = encodePing(command.pongBytes);
      void (async () => {
        const begun = performance.now();
        while (status.sent! < command.count && peer.isOpen) {
          for (let i = 0; i < 2000 && status.sent! < command.count; i++, status.sent!++) peer.send(ping).catch(() => {});
          trackUnsent(socket);
          await nextTurn();
        }
        status.done = true;
        status.elapsedMs = Math.round(performance.now() - begun);
      })();
      return { ...status };
    }
    case 'customFlood': {
      const { socket, peer } = await floodPeer(command.port, command.victimId, command.source);
      const message = new Uint8Array(command.size).fill(0x5a);
      message[0] = FLOOD_TYPE >> 8;
      message[1] = FLOOD_TYPE & 0xff;
      void (async () => {
        const begun = performance.now();
        // As fast as the victim takes them: between one and two chunks of 1,000 in flight.
        let previous: Promise<void> = Promise.resolve();
        while (status.sent! < command.count && peer.isOpen) {
          let last: Promise<void> = Promise.resolve();
          for (let i = 0; i < 1000 && status.sent! < command.count; i++, status.sent!++) last = peer.send(message);
          last.catch(() => {});
          trackUnsent(socket);
          await previous.catch(() => {});
          previous = last;
        }
        await previous.catch(() => {});
        status.done = true;
        status.elapsedMs = Math.round(performance.now() - begun);
      })();
      return { ...status };
    }
    case 'actOne': {
      // One valid act one, replayed on new connections as fast as the victim accepts them.
      const act = new InitiatorHandshake(keyPair(randomPrivateKey()), parseNodeId(command.victimId)).actOne();
      status.attempts = 0;
      status.actTwos = 0;
      status.refused = 0;
      const deadline = performance.now() + command.durationMs;
      let inFlight = 0;
      let next = 0;
      await new Promise<void>((resolve) => {
        const launch = (): void => {
          while (inFlight < command.concurrency && performance.now() < deadline) {
            inFlight++;
            status.attempts!++;
            let answered = false;
            const socket = connect({ host: HOST, port: command.port, localAddress: command.sources[next++ % command.sources.length] });
            socket.on('connect', () => socket.write(act));
            socket.on('data', () => {
              if (!answered) status.actTwos!++;
              answered = true;
              socket.destroy();
            });
            socket.on('error', (err: NodeJS.ErrnoException) => {
              if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') status.connectErrors[err.code ?? err.message] = (status.connectErrors[err.code ?? err.message] ?? 0) + 1;
            });
            socket.on('close', () => {
              if (!answered) status.refused!++;
              inFlight--;
              if (performance.now() < deadline) setImmediate(launch);
              else if (inFlight === 0) resolve();
            });
          }
        };
        launch();
      });
      status.done = true;
      status.elapsedMs = Math.round(performance.now() - started);
      return { ...status };
    }
    case 'actOneSync': {
      // `count` connections opened first (idle, so admitted), then act one written on every one
      // of them in the same turn: the victim gets them all in one poll of its event loop.
      const act = new InitiatorHandshake(keyPair(randomPrivateKey()), parseNodeId(command.victimId)).actOne();
      const opened = (await Promise.all(Array.from({ length: command.count }, (_, i) => open(command.port, command.sources[i % command.sources.length])))).filter((s): s is Socket => s !== undefined);
      status.actTwos = 0;
      const answered = opened.map(
        (socket) =>
          new Promise<void>((resolve) => {
            socket.once('data', () => {
              status.actTwos!++;
              resolve();
            });
            socket.once('close', () => resolve());
          }),
      );
      // Let the victim accept every connection and start reading it first.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const writtenAt = performance.now();
      for (const socket of opened) socket.write(act);
      // While the victim works through them, more connections queue in its accept backlog.
      const idle = command.thenIdle ? Array.from({ length: command.thenIdle.count }, (_, i) => open(command.port, command.thenIdle!.sources[i % command.thenIdle!.sources.length])) : [];
      await Promise.all(answered);
      status.answeredInMs = Math.round(performance.now() - writtenAt);
      await Promise.all(idle);
      status.done = true;
      status.elapsedMs = Math.round(performance.now() - started);
      return { ...status };
    }
    case 'status':
      if (flooder) {
        trackUnsent(flooder.socket);
        // Every byte the attacker wrote, what its kernel holds and what waits in its process.
        status.bytesWritten = flooder.socket.bytesWritten;
        status.unsent = flooder.socket.writableLength;
      }
      return { ...status, open: sockets.size };
    case 'stop':
      for (const peer of peers) peer.close();
      for (const socket of sockets) socket.destroy();
      setImmediate(() => process.exit(0));
      return null;
  }
}

serveCommands(run);
process.send!({ ready: {} });
