// Talking to a Core Lightning node: send it a custom message and print what it sends back.
// Run: npm run example examples/core-lightning.ts <node_id>@<host>:<port> [hex message]
//
// On the Core Lightning side, a custom message from lnpeer reaches plugins through the
// `custommsg` hook, and a plugin answers with the `sendcustommsg` RPC. A whole plugin, in
// Python with pyln-client:
//
//   from pyln.client import Plugin
//   plugin = Plugin()
//
//   @plugin.hook("custommsg")
//   def on_custommsg(peer_id, payload, plugin, **kwargs):
//       # payload is the whole message as hex: 2-byte type, then the data
//       plugin.rpc.call("sendcustommsg", {"node_id": peer_id, "msg": payload})  # echo it
//       return {"result": "continue"}
//
//   plugin.run()
//
// Start lightningd with `--plugin=/path/to/echo.py`, and find its id and port with
// `lightning-cli getinfo`. From the shell, `lightning-cli sendcustommsg <lnpeer id> fff1...`
// sends lnpeer a message. Core Lightning refuses to pass even types and BOLT types, like
// lnpeer's validator does.
//
// This machine has no Core Lightning: the test suite runs this example against an lnpeer
// echo server standing in for the node (see test/examples.test.ts).
import { PeerManager } from '../src/index.js';

const [target, message = 'fff168656c6c6f'] = process.argv.slice(2);
if (!target) {
  console.error('usage: npm run example examples/core-lightning.ts <node_id>@<host>:<port> [hex message]');
  process.exit(2);
}

const pm = new PeerManager();
const reply = new Promise<string>((resolve, reject) => {
  pm.once('custommsg', ({ type, payload }) => resolve(`type ${type.toString(16)}: ${Buffer.from(payload).toString('hex')}`));
  setTimeout(() => reject(new Error('no custom message came back within 10 s: is the echo plugin running?')), 10_000).unref();
});
const node = await pm.connect(target);
console.log(`connected to ${node.peerId}, its features: ${node.features.join(', ')}`);
await pm.sendCustomMsg(node.peerId, message);
console.log(`sent ${message}`);
try {
  console.log(`received ${await reply}`);
} finally {
  await pm.close();
}
