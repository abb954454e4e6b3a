#!/usr/bin/env node
/**
 * `lnpeer`: try a protocol extension against a real Lightning node without writing code.
 * Every event is printed as one JSON line on standard output; see `lnpeer --help`.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { toHex } from './bytes.js';
import { LnPeerError, PeerManager, parsePeerAddress, type PeerManagerOptions } from './index.js';
import { DEFAULT_MAX_PROXY_CONNECTIONS, startWsProxy } from './ws-proxy.js';

/** Exit codes: documented in `--help`. */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const COMMON = `Options for every command:
  --key-file FILE      this node's private key: 64 hex characters in FILE
                       (or the environment variable LNPEER_PRIVATE_KEY; default: a fresh key).
                       The key is never printed; the node id is.
  --features LIST      extra feature bits to offer, comma-separated (e.g. 7,257)
  --even-types LIST    even custom message types this node handles, comma-separated
  --proxy URL          a SOCKS5 proxy (Tor: socks5://127.0.0.1:9050); .onion nodes are reached
                       only through it
  --always-proxy       every connection through --proxy (names resolved by the proxy)
  -h, --help           this help

Output: one JSON object per line on standard output ("event" names it).
Exit codes: 0 done, 1 a connection or message failed (the "error" line says why),
2 the command line was wrong.`;

const HELP: Record<string, string> = {
  main: `Usage: lnpeer <command> [options]

Commands:
  listen    accept connections and print every incoming custom message
  connect   connect to a node, send messages given as arguments, print what comes back
  send      connect to a node, send hex messages read from standard input, one per line
  ws-proxy  bridge WebSockets from web pages to the TCP nodes it is allowed to reach

Run "lnpeer <command> --help" for a command's options.`,
  'ws-proxy': `Usage: lnpeer ws-proxy --allow HOST:PORT [--allow HOST:PORT]... [--port N] [--host HOST] [--max-connections N]

A WebSocket-to-TCP bridge for web pages: a WebSocket opened on /<host>:<port> is joined to a
TCP connection to that node (the convention of lnpeer's and lnmessage's wsProxy option). It
connects only to the --allow targets and refuses every other (HTTP 403): a proxy that goes
anywhere it is told is an open relay into its network. Prints one JSON line per connection
opened, closed or refused; runs until interrupted (Ctrl-C).

  --allow HOST:PORT    a node it may connect to (repeat for each; IPv6 in brackets)
  --port N             port to listen on (default 8080; 0 picks a free one)
  --host HOST          address to listen on (default 127.0.0.1)
  --max-connections N  connections bridged at once (default 256)
  -h, --help           this help`,
  listen: `Usage: lnpeer listen [--port N] [--host HOST] [--echo] [options]

Accepts Lightning connections and prints its node id, each peer that connects or leaves,
and each incoming custom message ({"event":"custommsg","peerId","type","payload"} with the
payload as hex). Runs until interrupted (Ctrl-C).

  --port N             port to listen on (default 9735; 0 picks a free one)
  --host HOST          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --echo               send every incoming custom message back to its sender

${COMMON}`,
  connect: `Usage: lnpeer connect <nodeid>@<host>[:<port>] [--send HEX]... [--wait MS] [options]

<host> is an IPv4 address, an IPv6 address in brackets, a DNS name, a Tor .onion name
(with --proxy), or ws://host:port/path for BOLT 8 over a WebSocket.

Connects (BOLT 8 handshake and init), sends each --send message in order, prints what comes
back for --wait milliseconds after the last one, then disconnects.

  --send HEX           a whole custom message: 2-byte type then payload, as hex
                       (as Core Lightning's sendcustommsg takes it), e.g. fff168656c6c6f
  --wait MS            how long to wait for replies after sending (default 1000)

${COMMON}`,
  send: `Usage: lnpeer send <nodeid>@<host>:<port> [--wait MS] [options]

Connects, then sends each line of standard input as one custom message (hex: 2-byte type
then payload), prints what comes back, and disconnects --wait milliseconds after the input
ends. A bad line is reported and skipped; the exit code is then 1.

  --wait MS            how long to wait for replies after the input ends (default 1000)

${COMMON}`,
};

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'key-file': { type: 'string' },
  features: { type: 'string' },
  'even-types': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  echo: { type: 'boolean' },
  send: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  'max-connections': { type: 'string' },
  proxy: { type: 'string' },
  'always-proxy': { type: 'boolean' },
  wait: { type: 'string' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** A mistake on the command line: printed with the command's usage, exit code 2. */
class UsageError extends Error {}

function print(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

function printError(err: unknown): void {
  if (err instanceof LnPeerError) print('error', { code: err.code, message: err.message });
  else print('error', { message: err instanceof Error ? err.message : String(err) });
}

function integerList(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((item) => {
    if (!/^\d+$/.test(item.trim())) throw new UsageError(`--${name} takes comma-separated whole numbers, got "${value}"`);
    return Number(item);
  });
}

function integer(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return Number(value);
}

function managerOptions(values: Values): PeerManagerOptions {
  const keyFile = values['key-file'];
  const privateKey = keyFile ? readFileSync(keyFile, 'utf8').trim() : process.env.LNPEER_PRIVATE_KEY?.trim();
  return {
    ...(privateKey ? { privateKey } : {}),
    ...(values.features ? { features: integerList(values.features, 'features') } : {}),
    ...(values['even-types'] ? { evenTypes: integerList(values['even-types'], 'even-types') } : {}),
    ...(values.proxy ? { proxy: values.proxy } : {}),
    ...(values['always-proxy'] ? { alwaysUseProxy: true } : {}),
  };
}

/** Prints every custom message and peer event of `pm` as JSON lines. */
function report(pm: PeerManager): void {
  pm.on('custommsg', ({ peerId, type, payload }) => print('custommsg', { peerId, type, payload: toHex(payload) }));
  pm.on('peer:connect', ({ peerId, direction, address, features }) => print('peer:connect', { peerId, direction, address, features }));
  pm.on('peer:disconnect', ({ peerId, reason, local }) => print('peer:disconnect', { peerId, reason, local }));
  pm.on('peer:warning', ({ peerId, message }) => print('peer:warning', { peerId, message }));
  pm.on('peer:error', ({ peerId, message }) => print('peer:error', { peerId, message }));
  pm.on('notice', ({ message }) => print('notice', { message }));
}

async function listen(values: Values): Promise<number> {
  const port = integer(values.port, 'port', 9735);
  const pm = new PeerManager(managerOptions(values));
  report(pm);
  pm.on('connection:failed', ({ address, error }) => print('connection:failed', { address, code: error.code, message: error.message }));
  if (values.echo) pm.on('custommsg', ({ peerId, type, payload }) => void pm.sendCustomMsg(peerId, encode(type, payload)).catch(printError));
  const bound = await pm.listen({ port, host: values.host ?? '127.0.0.1' });
  print('listening', { nodeId: pm.nodeId, host: bound.host, port: bound.port, address: `${pm.nodeId}@${bound.host}:${bound.port}` });
  await untilInterrupted();
  await pm.close();
  return EXIT_OK;
}

async function wsProxy(values: Values): Promise<number> {
  if (!values.allow?.length) throw new UsageError('give at least one --allow HOST:PORT: the proxy connects only to the targets it is told');
  const proxy = await startWsProxy({
    port: integer(values.port, 'port', 8080),
    host: values.host ?? '127.0.0.1',
    allow: values.allow,
    maxConnections: integer(values['max-connections'], 'max-connections', DEFAULT_MAX_PROXY_CONNECTIONS),
    onEvent: ({ event, ...details }) => print(event, details),
  });
  print('listening', { host: proxy.address.host, port: proxy.address.port, allow: values.allow });
  await untilInterrupted();
  await proxy.close();
  return EXIT_OK;
}

function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** Connects, runs `body` with a send function, waits for replies, closes. */
async function session(target: string | undefined, values: Values, body: (send: (hex: string) => Promise<boolean>) => Promise<void>): Promise<number> {
  if (!target) throw new UsageError('give the node to connect to: <nodeid>@<host>:<port>');
  const wait = integer(values.wait, 'wait', 1000);
  const address = parsePeerAddress(target);
  const pm = new PeerManager(managerOptions(values));
  report(pm);
  let failed = false;
  try {
    await pm.connect(target);
    const send = async (hex: string): Promise<boolean> => {
      try {
        await pm.sendCustomMsg(address.peerId, hex);
        print('sent', { peerId: address.peerId, type: parseInt(hex.slice(0, 4), 16) });
        return true;
      } catch (err) {
        printError(err);
        failed = true;
        return false;
      }
    };
    await body(send);
    await new Promise((resolve) => setTimeout(resolve, wait));
  } finally {
    await pm.close();
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

async function connect(target: string | undefined, values: Values): Promise<number> {
  return session(target, values, async (send) => {
    for (const hex of values.send ?? []) await send(hex);
  });
}

async function sendFromStdin(target: string | undefined, values: Values): Promise<number> {
  return session(target, values, async (send) => {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      const hex = line.trim();
      if (hex !== '') await send(hex);
    }
  });
}

function encode(type: number, payload: Uint8Array): string {
  return type.toString(16).padStart(4, '0') + toHex(payload);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const usage = HELP[command ?? ''] ?? HELP.main;
  try {
    if (command === undefined || command === '-h' || command === '--help') {
      process.stdout.write(`${HELP.main}\n`);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (!(command in HELP) || command === 'main') throw new UsageError(`unknown command "${command}"`);
    const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return EXIT_OK;
    }
    if (positionals.length > (command === 'listen' || command === 'ws-proxy' ? 0 : 1)) throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);
    if (command === 'listen') return await listen(values);
    if (command === 'ws-proxy') return await wsProxy(values);
    if (command === 'connect') return await connect(positionals[0], values);
    return await sendFromStdin(positionals[0], values);
  } catch (err) {
    const usageError = err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    if (usageError) {
      process.stderr.write(`lnpeer: ${(err as Error).message}\n\n${usage}\n`);
      return EXIT_USAGE;
    }
    printError(err);
    return EXIT_FAILED;
  }
}

process.exitCode = await main(process.argv.slice(2));
