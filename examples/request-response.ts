// Request/response over one odd custom type, matched by a correlation id.
// Wire format of type 0xfff9 (odd, so nodes that do not know it ignore it):
//   8-byte correlation id | 1-byte kind (0 request, 1 response) | JSON body
// Run: npx tsx examples/request-response.ts
import { CustomMessage, PeerManager } from '../src/index.js';

const RPC_TYPE = 0xfff9;
const REQUEST = 0;
const RESPONSE = 1;

/** Sends requests and answers them, over one custom message type. */
class Rpc {
  private nextId = 1n;
  private readonly pending = new Map<bigint, { resolve: (body: unknown) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly pm: PeerManager,
    handler: (method: string, params: unknown) => unknown,
  ) {
    pm.on('custommsg', ({ peerId, type, payload }) => {
      if (type !== RPC_TYPE || payload.length < 9) return;
      const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const id = view.getBigUint64(0);
      const body = JSON.parse(new TextDecoder().decode(payload.subarray(9)));
      if (payload[8] === REQUEST) {
        void this.send(peerId, id, RESPONSE, handler(body.method, body.params));
      } else {
        const waiting = this.pending.get(id);
        if (!waiting) return; // a late answer to a request that timed out
        clearTimeout(waiting.timer);
        this.pending.delete(id);
        waiting.resolve(body);
      }
    });
  }

  /** Sends a request and resolves with the response, or rejects after `timeoutMs`. */
  request(nodeId: string, method: string, params: unknown, timeoutMs = 5000): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no response to request ${id} (${method}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.send(nodeId, id, REQUEST, { method, params }).catch((err) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private send(nodeId: string, id: bigint, kind: number, body: unknown): Promise<void> {
    const json = new TextEncoder().encode(JSON.stringify(body));
    const payload = new Uint8Array(9 + json.length);
    new DataView(payload.buffer).setBigUint64(0, id);
    payload[8] = kind;
    payload.set(json, 9);
    return this.pm.sendCustomMsg(nodeId, new CustomMessage(RPC_TYPE, payload).encode());
  }
}

const server = new PeerManager();
const client = new PeerManager();
new Rpc(server, (method, params) => (method === 'add' ? { sum: (params as number[]).reduce((a, b) => a + b, 0) } : { error: `unknown method ${method}` }));
const rpc = new Rpc(client, () => ({ error: 'this side serves nothing' }));

const { port } = await server.listen({ port: 0 });
await client.connect(server.nodeId, { host: '127.0.0.1', port });
const answers = await Promise.all([rpc.request(server.nodeId, 'add', [1, 2, 3]), rpc.request(server.nodeId, 'add', [40, 2]), rpc.request(server.nodeId, 'mul', [2])]);
for (const answer of answers) console.log(JSON.stringify(answer));
await Promise.all([client.close(), server.close()]);
