// An echo server: every custom message that arrives is sent back to its sender.
// Run: npm run example examples/echo-server.ts [port]   (prints the address to connect to)
// In an app, import from 'lnpeer'; the examples import the source so they run without a build.
import { PeerManager } from '../src/index.js';

const pm = new PeerManager({ privateKey: process.env.LNPEER_PRIVATE_KEY });
pm.on('custommsg', ({ peerId, type, payload }) => {
  const message = new Uint8Array(2 + payload.length);
  message.set([type >> 8, type & 0xff]);
  message.set(payload, 2);
  pm.sendCustomMsg(peerId, message).catch((err) => console.error(`echo to ${peerId} failed: ${err.message}`));
});
pm.on('peer:connect', (peer) => console.log(`connected: ${peer.peerId}`));

const { host, port } = await pm.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
console.log(`echo server at ${pm.nodeId}@${host}:${port}`);
process.once('SIGINT', () => void pm.close());
process.once('SIGTERM', () => void pm.close());
