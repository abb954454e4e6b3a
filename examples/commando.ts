// Calling a Core Lightning node's JSON-RPC over Commando (custom messages), with a rune.
// Run: npm run example examples/commando.ts <node_id>@<host>:<port> <rune> [method] [params-json]
//
//   examples/commando.ts 02…@127.0.0.1:9735 'Ko7v…' getinfo
//   examples/commando.ts 02…@127.0.0.1:9735 'Ko7v…' listpeers '{"id":"02…"}'
//   examples/commando.ts 02…@ws://127.0.0.1:9736 'Ko7v…' getinfo      (Core Lightning's bind-addr=ws:)
//
// On the node, make a rune first: `lightning-cli createrune` (any method), or
// `lightning-cli createrune restrictions='[["method=getinfo","method=listpeers"]]'`.
// Find its id and port with `lightning-cli getinfo`. Prints the result as JSON; an error
// answer prints the node's code and message and exits with 1.
import { Commando, PeerManager, isLnPeerError } from '../src/index.js';

const [target, rune, method = 'getinfo', paramsJson] = process.argv.slice(2);
if (!target || !rune) {
  console.error('usage: npm run example examples/commando.ts <node_id>@<host>:<port> <rune> [method] [params-json]');
  process.exit(2);
}
let params: Record<string, unknown> | unknown[] | undefined;
try {
  params = paramsJson === undefined ? undefined : (JSON.parse(paramsJson) as Record<string, unknown> | unknown[]);
} catch (err) {
  console.error(`params must be JSON (an object or an array): ${(err as Error).message}`);
  process.exit(2);
}

const pm = new PeerManager();
const commando = new Commando(pm);
try {
  const node = await pm.connect(target, { timeoutMs: 10_000 });
  const result = await commando.call(node.peerId, { method, rune, ...(params ? { params } : {}) }, { timeoutMs: 30_000 });
  console.log(JSON.stringify(result, null, 2));
} catch (err) {
  // RPC_ERROR: the node answered with an error (details: its code, message and data).
  if (isLnPeerError(err) && err.code === 'RPC_ERROR') {
    console.error(`${method} failed: ${String(err.details.message)} (code ${String(err.details.code)})`);
  } else {
    console.error(isLnPeerError(err) ? `${err.code}: ${err.message}` : err);
  }
  process.exitCode = 1;
} finally {
  commando.close();
  await pm.close();
}
