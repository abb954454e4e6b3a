// `npm run demo`: two Lightning peers on loopback exchange custom messages, step by step.
// In an app, import from 'lnpeer'; the examples import the source so they run without a build.
import { LnPeerError, PeerManager } from '../src/index.js';

const PING_TYPE = 0xfff1; // odd: a peer that does not know it ignores it (BOLT 1)
const REQUEST_TYPE = 0xfff3;
const RESPONSE_TYPE = 0xfff5;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const hex = (type: number, body: string) => type.toString(16).padStart(4, '0') + Buffer.from(body).toString('hex');
const short = (id: string) => `${id.slice(0, 8)}…`;

const alice = new PeerManager();
const bob = new PeerManager();
console.log(`alice is ${alice.nodeId}`);
console.log(`bob   is ${bob.nodeId}`);

const { port } = await alice.listen({ port: 0, host: '127.0.0.1' });
console.log(`\n1. alice listens on 127.0.0.1:${port}`);

// Both print what they receive; alice answers requests.
const arrived = (pm: PeerManager, name: string) =>
  new Promise<void>((resolve) =>
    pm.once('custommsg', ({ peerId, type, payload }) => {
      console.log(`   ${name} received type ${type.toString(16)} from ${short(peerId)}: "${text(payload)}"`);
      resolve();
    }),
  );
alice.on('custommsg', ({ peerId, type, payload }) => {
  if (type === REQUEST_TYPE) void alice.sendCustomMsg(peerId, hex(RESPONSE_TYPE, `${text(payload).length} characters`));
});

const info = await bob.connect(`${alice.nodeId}@127.0.0.1:${port}`);
console.log(`2. bob connected: BOLT 8 handshake done, init exchanged; alice offers features ${info.features.join(', ')}`);

console.log('3. bob → alice, custom message type fff1');
let delivered = arrived(alice, 'alice');
await bob.sendCustomMsg(alice.nodeId, hex(PING_TYPE, 'hello alice'));
await delivered;

console.log('4. alice → bob, custom message type fff1');
delivered = arrived(bob, 'bob');
await alice.sendCustomMsg(bob.nodeId, hex(PING_TYPE, 'hello bob'));
await delivered;

console.log('5. a request and its response: bob asks with type fff3, alice answers with type fff5');
const request = arrived(alice, 'alice');
const response = arrived(bob, 'bob');
await bob.sendCustomMsg(alice.nodeId, hex(REQUEST_TYPE, 'how long is this?'));
await Promise.all([request, response]);

console.log('6. a message lnpeer refuses to send: type 0x0012 is ping, which nodes handle themselves');
try {
  await bob.sendCustomMsg(alice.nodeId, '00120000');
} catch (err) {
  if (!(err instanceof LnPeerError)) throw err;
  console.log(`   ${err.name} [${err.code}]: ${err.message}`);
}

const rtt = await bob.ping(alice.nodeId);
console.log(`7. bob pings alice: pong after ${rtt} ms`);

await bob.close();
await alice.close();
console.log('8. both closed; done');
