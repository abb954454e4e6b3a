/**
 * A SOCKS5 client (RFC 1928) with username/password authentication (RFC 1929): a TCP
 * connection to a target through a proxy such as Tor's SocksPort, as a {@link Connection}.
 * Node.js only (`node:net`).
 *
 * Names are never resolved here: a DNS name, and an `.onion` name always, goes to the proxy
 * as a domain name (ATYP 3) for the proxy to resolve, so nothing leaks to the local DNS.
 */
import { connect, type Socket } from 'node:net';
import type { NetAddress } from '../addresses.js';
import { describe } from '../bytes.js';
import type { Connection } from '../connection.js';
import { LnPeerError } from '../errors.js';
import { checkWaitOptions, abortError, watchDeadline, type WaitOptions } from '../wait.js';
import { parseIpv4, parseIpv6 } from '../wire/ip.js';
import { parseOnionAddress } from '../wire/onion.js';
import { streamConnection } from './stream.js';
import { checkProxy, type Socks5Proxy } from '../proxy.js';

export type { Socks5Proxy } from '../proxy.js';

const VERSION = 5; // RFC 1928 §3
const AUTH_VERSION = 1; // RFC 1929 §2
const CMD_CONNECT = 1; // RFC 1928 §4
const ATYP_IPV4 = 1;
const ATYP_DOMAIN = 3;
const ATYP_IPV6 = 4;
const METHOD_NONE = 0x00; // RFC 1928 §3
const METHOD_USERPASS = 0x02;
const NO_ACCEPTABLE_METHODS = 0xff;

/** RFC 1928 §6 reply codes, then Tor's extended errors (torspec socks-extensions "Extended error codes"). */
const REPLIES: Readonly<Record<number, string>> = {
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'Network unreachable',
  0x04: 'Host unreachable',
  0x05: 'Connection refused',
  0x06: 'TTL expired',
  0x07: 'Command not supported',
  0x08: 'Address type not supported',
  0xf0: 'Tor: onion service descriptor can not be found',
  0xf1: 'Tor: onion service descriptor is invalid',
  0xf2: 'Tor: onion service introduction failed',
  0xf3: 'Tor: onion service rendezvous failed',
  0xf4: 'Tor: onion service missing client authorization',
  0xf5: 'Tor: onion service wrong client authorization',
  0xf6: 'Tor: onion service invalid address',
  0xf7: 'Tor: onion service introduction timed out',
};

/** The name of a SOCKS5 reply code (RFC 1928 §6, Tor's 0xF0–0xF7). */
export function socks5ReplyName(rep: number): string {
  return REPLIES[rep] ?? `unassigned reply code 0x${rep.toString(16).padStart(2, '0')}`;
}

/**
 * Opens a TCP connection to `target` through the SOCKS5 proxy `proxy` (RFC 1928 CONNECT),
 * authenticating with RFC 1929 when `proxy` has credentials. Resolves with a
 * {@link Connection} positioned right after the proxy's reply: bytes the target sent in the
 * same packet are kept. Rejects with `CONNECTION_FAILED` (`details.stage: 'proxy'`, the
 * proxy's reply named), `TIMEOUT` (after `timeoutMs`, details `{ stage: 'proxy' }`),
 * `ABORTED`, or, before connecting, `INVALID_ARGUMENT` (proxy) or `INVALID_ADDRESS` (target).
 * The socket never outlives a rejection.
 *
 * @example
 * ```ts
 * const connection = await dialSocks5({ host: '127.0.0.1', port: 9050 }, { host: 'xxxx….onion', port: 9735 }, { timeoutMs: 60_000 });
 * const peer = Peer.initiator(connection, { peerId, localKey });
 * ```
 */
export function dialSocks5(proxy: Socks5Proxy, target: NetAddress, options?: WaitOptions): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const { signal, timeoutMs } = checkWaitOptions(options, 'dialSocks5()');
    checkProxy(proxy);
    const request = connectRequest(target);
    const credentials = proxy.username === undefined ? undefined : authRequest(proxy.username, proxy.password!);
    const proxyAt = hostPort(proxy);
    const targetAt = hostPort(target);
    const where = { stage: 'proxy', proxy: proxyAt, host: target.host, port: target.port };
    if (signal?.aborted) return reject(abortError(signal, `connecting to ${targetAt} through the SOCKS5 proxy ${proxyAt}`));

    let step: 'connect' | 'greeting' | 'auth' | 'request' = 'connect';
    let settled = false;
    let waiting: { n: number; what: string; got(bytes: Buffer): void } | undefined;
    const socket: Socket = connect({ host: proxy.host, port: proxy.port });

    const proxyError = (message: string, details: Record<string, unknown> = {}, cause?: unknown) =>
      new LnPeerError('CONNECTION_FAILED', `SOCKS5 proxy ${proxyAt}: ${message}`, { ...where, step, ...details }, { cause });
    const fail = (error: LnPeerError) => {
      if (settled) return;
      settled = true;
      cleanup();
      waiting = undefined;
      socket.on('error', () => {}); // an error already on its way must not go unhandled
      socket.destroy();
      reject(error);
    };
    /** The next `n` bytes of the proxy's reply, exactly: `read(n)` never consumes more. */
    const read = (n: number, what: string) => new Promise<Buffer>((got) => ((waiting = { n, what, got }), pump()));
    const pump = () => {
      if (!waiting) return;
      const bytes = socket.read(waiting.n) as Buffer | null;
      if (bytes === null) return; // 'readable' calls again when more came
      if (bytes.length < waiting.n) return fail(closedEarly()); // the stream ended mid-reply
      const { got } = waiting;
      waiting = undefined;
      got(bytes);
    };
    const closedEarly = () => proxyError(`the proxy closed the connection before its ${waiting?.what ?? 'reply'}`);
    const onEnd = () => fail(closedEarly());
    const onError = (err: Error) =>
      fail(step === 'connect' ? proxyError(`could not connect to the proxy: ${err.message}`, {}, err) : proxyError(`the connection to the proxy failed: ${err.message}`, {}, err));
    const unwatch = watchDeadline(
      { signal, timeoutMs },
      `connecting to ${targetAt} through the SOCKS5 proxy ${proxyAt}`,
      () => new LnPeerError('TIMEOUT', `SOCKS5 proxy ${proxyAt} did not connect to ${targetAt} within ${timeoutMs} ms (step: ${step})`, { ...where, step, timeoutMs }),
      fail,
    );
    const cleanup = () => {
      unwatch();
      socket.off('readable', pump);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('readable', pump);

    const negotiate = async (): Promise<void> => {
      // RFC 1928 §3: VER | NMETHODS | METHODS. With credentials, only username/password:
      // offering "no authentication" too would let the proxy drop them (and Tor's isolation).
      step = 'greeting';
      const method = credentials ? METHOD_USERPASS : METHOD_NONE;
      socket.write(Uint8Array.of(VERSION, 1, method));
      const [version, chosen] = await read(2, 'method selection reply');
      if (version !== VERSION) throw notSocks5(version);
      if (chosen === NO_ACCEPTABLE_METHODS) {
        const hint = credentials
          ? 'it was offered username/password (RFC 1929) only; does it take credentials?'
          : 'it was offered "no authentication" only; it probably needs a username and password (socks5://user:password@host:port)';
        throw proxyError(`no acceptable methods (0xFF): ${hint}`, { method: chosen });
      }
      if (chosen !== method) throw proxyError(`it chose authentication method 0x${chosen.toString(16)}, which was not offered`, { method: chosen });
      if (credentials) {
        // RFC 1929 §2: VER 1 | ULEN | UNAME | PLEN | PASSWD; the reply is VER | STATUS, 0 = success.
        step = 'auth';
        socket.write(credentials);
        const [, status] = await read(2, 'username/password reply'); // some servers answer VER 5: only STATUS counts
        if (status !== 0) throw proxyError(`the proxy refused the username/password (RFC 1929 status 0x${status.toString(16).padStart(2, '0')})`, { status });
      }
      // RFC 1928 §4 request, §6 reply: VER | REP | RSV | ATYP | BND.ADDR | BND.PORT.
      step = 'request';
      socket.write(request);
      const [replyVersion, rep] = await read(2, 'reply to CONNECT');
      if (replyVersion !== VERSION) throw notSocks5(replyVersion);
      if (rep !== 0) throw proxyError(`could not connect to ${targetAt}: ${socks5ReplyName(rep)} (reply 0x${rep.toString(16).padStart(2, '0')})`, { reply: rep });
      const [, atyp] = await read(2, 'bound address type');
      const length = atyp === ATYP_IPV4 ? 4 : atyp === ATYP_IPV6 ? 16 : atyp === ATYP_DOMAIN ? (await read(1, 'bound address'))[0] : -1;
      if (length < 0) throw proxyError(`its reply has address type ${atyp}, which RFC 1928 does not define`, { atyp });
      await read(length + 2, 'bound address'); // BND.ADDR and BND.PORT: not needed
    };
    const notSocks5 = (version: number) =>
      proxyError(`it answered with version ${version}${version === 0x48 ? ' ("H": an HTTP server?)' : ''}, not 5: is it a SOCKS5 proxy?`, { version });

    socket.once('connect', () => {
      negotiate().then(
        () => {
          if (settled) return;
          settled = true;
          cleanup(); // the 'readable' listener goes: the stream flows again once someone reads it
          resolve(streamConnection(socket));
        },
        (err: unknown) => fail(err instanceof LnPeerError ? err : proxyError(String(err), {}, err)),
      );
    });
  });
}

/**
 * RFC 1928 §4 CONNECT: VER | CMD | RSV | ATYP | DST.ADDR | DST.PORT. IP literals go as ATYP 1
 * or 4; anything else as ATYP 3, a name for the proxy to resolve (§5). Throws `INVALID_ADDRESS`.
 */
function connectRequest(target: NetAddress): Uint8Array {
  if (typeof target !== 'object' || target === null) throw new LnPeerError('INVALID_ARGUMENT', `the target must be an object { host, port }, got ${describe(target)}`);
  const { host, port } = target;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LnPeerError('INVALID_ADDRESS', `the target port must be a whole number from 1 to 65535, got ${describe(port)}`, { host, port });
  }
  if (typeof host !== 'string') throw new LnPeerError('INVALID_ADDRESS', `the target host must be a string, got ${describe(host)}`, { host, port });
  const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v4 = parseIpv4(literal);
  const v6 = v4 ? undefined : parseIpv6(literal);
  let address: Uint8Array;
  if (v4) address = Uint8Array.of(ATYP_IPV4, ...v4);
  else if (v6) address = Uint8Array.of(ATYP_IPV6, ...v6);
  else address = Uint8Array.of(ATYP_DOMAIN, ...domainName(host, port));
  return Uint8Array.of(VERSION, CMD_CONNECT, 0, ...address, port >>> 8, port & 0xff);
}

/** LEN | NAME for ATYP 3 (RFC 1928 §5: no terminating NUL). An `.onion` name must be a valid v3 address. */
function domainName(host: string, port: number): Uint8Array {
  if (!/^[\x21-\x7e]{1,255}$/.test(host)) {
    throw new LnPeerError('INVALID_ADDRESS', `the target host ${JSON.stringify(host)} is not an IP address or a name of 1 to 255 printable ASCII characters (encode international names with Punycode)`, { host, port });
  }
  if (/\.onion\.?$/i.test(host)) {
    // A mistyped onion name would only fail after a long wait in Tor; check it here (rend-spec-v3 [ONIONADDRESS]).
    // Subdomains (`www.<address>.onion`) are allowed: Tor ignores them.
    const service = host.replace(/\.$/, '').split('.').slice(-2).join('.');
    try {
      parseOnionAddress(service);
    } catch (err) {
      const reason = err instanceof LnPeerError ? err.details.reason : undefined;
      throw new LnPeerError('INVALID_ADDRESS', `the target host ${JSON.stringify(host)} is not a valid onion address: ${String(reason ?? (err as Error).message)}`, { host, port }, { cause: err });
    }
  }
  return Uint8Array.of(host.length, ...Array.from(host, (ch) => ch.charCodeAt(0)));
}

/** RFC 1929 §2: VER | ULEN | UNAME | PLEN | PASSWD. */
function authRequest(username: string, password: string): Uint8Array {
  const user = utf8(username);
  const pass = utf8(password);
  return Uint8Array.of(AUTH_VERSION, user.length, ...user, pass.length, ...pass);
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function hostPort({ host, port }: NetAddress): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
