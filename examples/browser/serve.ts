// Serves the example page, bundled for the browser, and runs a node for it to talk to: an
// echo node (a Node.js lnpeer listening on a WebSocket) that sends every message back.
// Run: npm run example examples/browser/serve.ts [port]   then open the URL it prints.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PeerManager } from '../../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Builds the page's script, starts the echo node and the HTTP server; resolves with the page's URL. */
export async function serveExample(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const bundle = await build({
    entryPoints: [`${here}app.ts`],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    conditions: ['lnpeer-source'], // lnpeer from its source; an installed lnpeer needs no condition
    write: false,
    logLevel: 'silent',
  });
  const files: Record<string, { type: string; body: string | Uint8Array }> = {
    '/': { type: 'text/html', body: await readFile(`${here}index.html`, 'utf8') },
    '/app.js': { type: 'text/javascript', body: bundle.outputFiles[0].contents },
  };

  const echo = new PeerManager();
  echo.on('custommsg', ({ peerId, type, payload }) => {
    const message = new Uint8Array(2 + payload.length);
    message.set([type >> 8, type & 0xff]);
    message.set(payload, 2);
    echo.sendCustomMsg(peerId, message).catch((err) => console.error(`echo failed: ${err.message}`));
  });
  const node = await echo.listen({ port: 0, host: '127.0.0.1', websocket: true });

  const http = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://x').pathname];
    response.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain' });
    response.end(file?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const { port: bound } = http.address() as { port: number };
  const address = `${echo.nodeId}@ws://127.0.0.1:${node.port}`;
  return {
    url: `http://127.0.0.1:${bound}/?node=${encodeURIComponent(address)}`,
    close: async () => {
      await echo.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url, close } = await serveExample(Number(process.argv[2] ?? 8080));
  console.log(`open ${url}`);
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
}
