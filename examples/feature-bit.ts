// Offering a custom feature bit, and speaking a protocol only to peers that offer it too.
// bLIP-0002: custom feature bits are above 255; odd means "optional": peers that do not
// know it connect anyway (an even bit would make them disconnect, BOLT 1).
// Run: npm run example examples/feature-bit.ts
import { PeerManager, type PeerInfo } from '../src/index.js';

const SWAP_FEATURE = 301; // odd: optional
const SWAP_OFFER_TYPE = 0xfffd;

/** True when the peer offers the feature, as optional (odd bit) or required (even bit). */
const supports = (peer: PeerInfo, bit: number) => peer.features.includes(bit) || peer.features.includes(bit - 1);

const provider = new PeerManager({ features: [SWAP_FEATURE] });
const { port } = await provider.listen({ port: 0 });
provider.on('custommsg', ({ type }) => console.log(`provider got a swap offer (type ${type.toString(16)})`));

for (const [name, features] of [['a wallet that speaks swaps', [SWAP_FEATURE]], ['a plain node', []]] as const) {
  const client = new PeerManager({ features: [...features] });
  const peer = await client.connect(provider.nodeId, { host: '127.0.0.1', port });
  const remote = provider.peer(client.nodeId)!;
  console.log(`${name}: provider offers ${SWAP_FEATURE}: ${supports(peer, SWAP_FEATURE)}; client offers it: ${supports(remote, SWAP_FEATURE)}`);
  if (supports(peer, SWAP_FEATURE) && supports(remote, SWAP_FEATURE)) {
    const received = new Promise((resolve) => provider.once('custommsg', resolve));
    await client.sendCustomMsg(provider.nodeId, `${SWAP_OFFER_TYPE.toString(16)}0001`);
    await received;
  }
  await client.close();
}
await provider.close();
