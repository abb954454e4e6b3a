// Request/response over one odd custom type, matched by a correlation id, with `Requests`.
// Wire format of type 0xfff9 (odd, so nodes that do not know it ignore it):
//   8-byte correlation id | 1-byte kind (0 request, 1 response) | JSON body
// Run: npm run example examples/request-response.ts
import { CustomMessage, PeerManager, Requests, type CustomMessageEvent } from '../src/index.js';

const RPC_TYPE = 0xfff9;
const REQUEST = 0;
const RESPONSE = 1;

/** A message of this protocol, or undefined when `payload` is not one (a peer can send anything). */
function parse({ type, payload }: CustomMessageEvent): { id: string; kind: number; body: unknown } | undefined {
  if (type !== RPC_TYPE || payload.length < 9) return undefined;
  try {
    // A listener that throws takes the process down (as any throwing listener in Node):
    // whatever comes from a peer is parsed inside try/catch.
    const body: unknown = JSON.parse(new TextDecoder().decode(payload.subarray(9)));
    return { id: toHex(payload.subarray(0, 8)), kind: payload[8], body };
  } catch {
    return undefined;
  }
}

function encode(id: Uint8Array, kind: number, body: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(body));
  const payload = new Uint8Array(9 + json.length);
  payload.set(id);
  payload[8] = kind;
  payload.set(json, 9);
  return new CustomMessage(RPC_TYPE, payload).encode();
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Answers every request with `handler(method, params)`. */
function serve(pm: PeerManager, handler: (method: string, params: unknown) => unknown): void {
  pm.on('custommsg', (event) => {
    const message = parse(event);
    if (message?.kind !== REQUEST) return;
    const { method, params } = message.body as { method: string; params: unknown };
    const id = event.payload.subarray(0, 8);
    pm.sendCustomMsg(event.peerId, encode(id, RESPONSE, handler(method, params))).catch((err) => console.error(`reply failed: ${err.message}`));
  });
}

/** Sends a request and resolves with the response's body (a reply finds its request by id). */
async function call(requests: Requests, peerId: string, method: string, params: unknown): Promise<unknown> {
  const id = crypto.getRandomValues(new Uint8Array(8));
  const reply = await requests.request(peerId, encode(id, REQUEST, { method, params }), { key: toHex(id), timeoutMs: 5000 });
  return parse(reply)!.body;
}

const server = new PeerManager();
const client = new PeerManager();
serve(server, (method, params) => (method === 'add' ? { sum: (params as number[]).reduce((a, b) => a + b, 0) } : { error: `unknown method ${method}` }));
const requests = new Requests(client, { replyKey: (event) => (parse(event)?.kind === RESPONSE ? parse(event)!.id : undefined) });

const { port } = await server.listen({ port: 0 });
await client.connect(server.nodeId, { host: '127.0.0.1', port });
// A message that is not JSON reaches the server first: it is ignored, and nothing crashes.
await client.sendCustomMsg(server.nodeId, new CustomMessage(RPC_TYPE, new TextEncoder().encode('12345678\x00{not json')).encode());
const answers = await Promise.all([call(requests, server.nodeId, 'add', [1, 2, 3]), call(requests, server.nodeId, 'add', [40, 2]), call(requests, server.nodeId, 'mul', [2])]);
for (const answer of answers) console.log(JSON.stringify(answer));
requests.close();
await Promise.all([client.close(), server.close()]);
