// LSPS0 (bLIP-50): an LSP and a client in one process, JSON-RPC 2.0 over custom message 37913.
// The LSP offers feature bit 729 (option_supports_lsps), answers lsps0.list_protocols and one
// method of its own, and notifies the client; the client calls, gets errors, and is notified.
// Run: npm run example examples/lsps0.ts
import { LnPeerError, Lsps0Client, Lsps0Error, Lsps0Server, PeerManager } from '../src/index.js';

// The LSP: bit 729 in init, or the Lsps0Server refuses to start.
const lsp = new PeerManager({ features: [729] });
const server = new Lsps0Server(lsp, {
  protocols: [1],
  methods: {
    // A bare function takes no params: any parameter is answered -32602.
    'lsps1.get_info': () => ({ min_channel_balance_sat: '50000', max_channel_balance_sat: '16777215' }),
    // Declared params: unknown ones get -32602 with data.unrecognized, before the handler runs.
    'lsps1.get_order': {
      params: ['order_id'],
      required: ['order_id'],
      handler: async ({ order_id }, { peerId }) => {
        if (order_id !== 'order-1') throw new Lsps0Error(101, 'Not found', { order_id });
        // Later (here: right after the answer), the LSP tells the client; it may, as the client wrote first.
        setTimeout(() => void server.notify(peerId, 'lsps1.order_paid', { order_id }).catch(() => {}), 0);
        return { order_id, order_state: 'CREATED' };
      },
    },
  },
});
server.on('notice', ({ message }) => console.log(`lsp log: ${message}`));
const { port } = await lsp.listen({ port: 0 });
console.log(`LSP listening, features ${lsp.features.join(', ')}`);

// The client.
const wallet = new PeerManager();
const client = new Lsps0Client(wallet);
// A notification may arrive in the same read as the answer before it: printed once both are in.
const paid = new Promise<string>((resolve) => client.on('notification', ({ method, params }) => resolve(`notification ${method} ${JSON.stringify(params)}`)));
await wallet.connect(lsp.nodeId, { host: '127.0.0.1', port });
console.log(`connected; the LSP advertises LSPS (bit 729): ${client.advertisesLsps(lsp.nodeId)}`);

console.log(`lsps0.list_protocols -> ${JSON.stringify(await client.listProtocols(lsp.nodeId))}`);
console.log(`lsps1.get_info -> ${JSON.stringify(await client.call(lsp.nodeId, { method: 'lsps1.get_info' }))}`);
console.log(`lsps1.get_order -> ${JSON.stringify(await client.call(lsp.nodeId, { method: 'lsps1.get_order', params: { order_id: 'order-1' } }))}`);
console.log(await paid);

// Errors come back as LnPeerError RPC_ERROR, with the JSON-RPC code, message and data.
for (const request of [
  { method: 'lsps1.get_order', params: { order_id: 'nope' } },
  { method: 'lsps1.get_order', params: { order_id: 'order-1', future_param: true } },
  { method: 'lsps2.get_info', params: {} },
]) {
  try {
    await client.call(lsp.nodeId, request, { timeoutMs: 10_000 });
  } catch (err) {
    const { code, message, data } = (err as LnPeerError).details;
    console.log(`${request.method} -> error ${code} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
  }
}

client.close();
server.close();
await Promise.all([wallet.close(), lsp.close()]);
console.log('done');
