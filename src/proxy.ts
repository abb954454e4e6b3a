/**
 * SOCKS5 proxies as people give them (`socks5://user:password@host:port`), checked: what the
 * PeerManager's `proxy` option takes. Platform-neutral; the client itself is
 * transports/socks5.ts (Node).
 */
import { describe } from './bytes.js';
import { LnPeerError } from './errors.js';

/** A SOCKS5 proxy (RFC 1928). With `username` and `password`, only RFC 1929 authentication is offered. */
export interface Socks5Proxy {
  host: string;
  port: number;
  /** 1 to 255 bytes of UTF-8. Tor isolates streams with distinct credentials (IsolateSOCKSAuth). */
  username?: string;
  /** 1 to 255 bytes of UTF-8. */
  password?: string;
}

const URL_FORM = '"socks5://host:port" or "socks5://user:password@host:port" (IPv6 hosts in brackets; socks5h:// means the same)';

/**
 * Parses `socks5://[user:password@]host:port` (`socks5h://` is accepted: names are always
 * resolved by the proxy). User and password may be percent-encoded. Throws `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * parseProxyUrl('socks5://peer1:x@127.0.0.1:9050'); // { host: '127.0.0.1', port: 9050, username: 'peer1', password: 'x' }
 * ```
 */
export function parseProxyUrl(text: string): Socks5Proxy {
  if (typeof text !== 'string') throw new LnPeerError('INVALID_ARGUMENT', `a proxy URL must be a string, ${URL_FORM}; got ${describe(text)}`);
  const redacted = text.replace(/^([a-z0-9+.-]*:\/\/)[^@]*@/i, '$1***@'); // never echo credentials
  const bad = (why: string) => new LnPeerError('INVALID_ARGUMENT', `proxy URL ${JSON.stringify(redacted)} ${why}: expected ${URL_FORM}`, { url: redacted });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol !== 'socks5:' && url.protocol !== 'socks5h:') throw bad(`has scheme "${url.protocol.slice(0, -1)}", not socks5`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) throw bad('has a path, query or fragment');
  if (!url.port) throw bad('has no port (Tor listens on 9050, most SOCKS proxies on 1080)');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw bad('has no host');
  const proxy: Socks5Proxy = { host, port: Number(url.port) };
  if (url.username || url.password || text.includes('@')) {
    try {
      proxy.username = decodeURIComponent(url.username);
      proxy.password = decodeURIComponent(url.password);
    } catch {
      throw bad('has a badly percent-encoded user or password');
    }
  }
  checkProxy(proxy);
  return proxy;
}

/** Checks a proxy's fields; throws `INVALID_ARGUMENT`. */
export function checkProxy(proxy: Socks5Proxy): void {
  if (typeof proxy !== 'object' || proxy === null) throw new LnPeerError('INVALID_ARGUMENT', `a SOCKS5 proxy must be an object { host, port, username?, password? }, got ${describe(proxy)}`);
  const { host, port, username, password } = proxy;
  if (typeof host !== 'string' || host === '') throw new LnPeerError('INVALID_ARGUMENT', `the SOCKS5 proxy host must be a non-empty string, got ${describe(host)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new LnPeerError('INVALID_ARGUMENT', `the SOCKS5 proxy port must be a whole number from 1 to 65535, got ${describe(port)}`);
  if ((username === undefined) !== (password === undefined)) {
    throw new LnPeerError('INVALID_ARGUMENT', 'a SOCKS5 proxy needs both a username and a password, or neither (RFC 1929)');
  }
  for (const [name, value] of [['username', username], ['password', password]] as const) {
    if (value === undefined) continue;
    // RFC 1929 §2: ULEN and PLEN are one octet, 1 to 255.
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value).length : -1;
    if (bytes < 1 || bytes > 255) {
      throw new LnPeerError('INVALID_ARGUMENT', `the SOCKS5 proxy ${name} must be a string of 1 to 255 bytes in UTF-8 (RFC 1929), got ${bytes < 0 ? describe(value) : `${bytes} bytes`}`);
    }
  }
}
