// Which proxy a request goes through, as prometheus/common's ProxyConfig decides it:
// proxy_url alone proxies every request; proxy_url with no_proxy, and
// proxy_from_environment, follow Go's golang.org/x/net/http/httpproxy rules
// (NO_PROXY entries, and localhost/loopback targets never proxied).
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/** The environment variables read by proxy_from_environment. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** The proxy for a request URL, or null to connect directly. */
export type ProxyFunc = (u: URL) => URL | null;

export interface ProxySettings {
  readonly proxyUrl: string;
  readonly noProxy: string;
  readonly proxyFromEnvironment: boolean;
}

/** null when requests never use a proxy. Environment variables are read once, here, as Go caches them. */
export function proxyFunc(s: ProxySettings, env: ProxyEnv): ProxyFunc | null {
  if (s.proxyFromEnvironment) {
    return rulesFunc(envAny(env, 'HTTP_PROXY', 'http_proxy'), envAny(env, 'HTTPS_PROXY', 'https_proxy'), envAny(env, 'NO_PROXY', 'no_proxy'));
  }
  if (s.proxyUrl === '') return null;
  if (s.noProxy === '') {
    const p = new URL(s.proxyUrl);
    return () => p;
  }
  return rulesFunc(s.proxyUrl, s.proxyUrl, s.noProxy);
}

function envAny(env: ProxyEnv, ...names: string[]): string {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

/** httpproxy's Config.ProxyFunc: one proxy per scheme, minus the NO_PROXY exceptions. */
function rulesFunc(httpProxy: string, httpsProxy: string, noProxy: string): ProxyFunc | null {
  const forHttp = parseProxy(httpProxy);
  const forHttps = parseProxy(httpsProxy);
  if (forHttp === null && forHttps === null) return null;
  const bypass = noProxyMatcher(noProxy);
  return (u) => {
    const p = u.protocol === 'https:' ? forHttps : u.protocol === 'http:' ? forHttp : null;
    if (p === null) return null;
    const host = unbracket(u.hostname);
    const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
    return bypass(host, port) ? null : p;
  };
}

/** A proxy value without a scheme ("proxy:3128") means http://, as in Go; an unparsable one is ignored. */
export function parseProxy(v: string): URL | null {
  if (v === '') return null;
  let u: URL | null = null;
  try {
    u = new URL(v);
  } catch {
    // Tried again below with a scheme.
  }
  if (u === null || u.host === '') {
    try {
      return new URL('http://' + v);
    } catch {
      return u;
    }
  }
  return u;
}

type Matcher = (host: string, port: string, ip: IP | null) => boolean;

/** True when a request to host:port must go direct. */
export function noProxyMatcher(noProxy: string): (host: string, port: string) => boolean {
  const ipMatchers: Matcher[] = [];
  const domainMatchers: Matcher[] = [];
  let all = false;
  for (const raw of noProxy.split(',')) {
    const p = raw.trim().toLowerCase();
    if (p === '') continue;
    if (p === '*') {
      all = true;
      break;
    }
    const cidr = parseCIDR(p);
    if (cidr !== null) {
      ipMatchers.push((_h, _p, ip) => ip !== null && cidrContains(cidr, ip));
      continue;
    }
    const hp = splitHostPort(p);
    if (hp !== null && hp[0] === '') continue;
    let phost = hp !== null ? unbracket(hp[0]) : p;
    const pport = hp !== null ? hp[1] : '';
    const pip = parseIP(phost);
    if (pip !== null) {
      ipMatchers.push((_h, port, ip) => ip !== null && ipEqual(pip, ip) && (pport === '' || pport === port));
      continue;
    }
    if (phost === '') continue;
    // "*.example.com" and ".example.com" match subdomains only; "example.com" also itself.
    if (phost.startsWith('*.')) phost = phost.slice(1);
    const matchHost = !phost.startsWith('.');
    if (matchHost) phost = '.' + phost;
    const ascii = domainToASCII(phost.slice(1));
    if (ascii !== '') phost = '.' + ascii;
    const suffix = phost;
    domainMatchers.push((host, port, ip) => {
      if (ip !== null) return false;
      if (host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) return pport === '' || pport === port;
      return false;
    });
  }
  return (host, port) => {
    if (host === 'localhost') return true;
    const ip = parseIP(host);
    if (ip !== null && isLoopback(ip)) return true;
    if (all) return true;
    const h = host.trim().toLowerCase();
    if (ip !== null && ipMatchers.some((m) => m(h, port, ip))) return true;
    return domainMatchers.some((m) => m(h, port, ip));
  };
}

/** Go's net.SplitHostPort, for the NO_PROXY entries that carry a port; null when there is none. */
function splitHostPort(s: string): [string, string] | null {
  const i = s.lastIndexOf(':');
  if (i < 0) return null;
  const host = s.slice(0, i);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return null;
  } else if (host.includes(':')) {
    return null;
  }
  return [host, s.slice(i + 1)];
}

function unbracket(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** 16 bytes; v4 is set for IPv4 and IPv4-mapped addresses (Go's To4() != nil). */
interface IP {
  readonly bytes: Uint8Array;
  readonly v4: boolean;
}

export function parseIP(s: string): IP | null {
  const b = new Uint8Array(16);
  if (isIPv4(s)) {
    b[10] = 0xff;
    b[11] = 0xff;
    s.split('.').forEach((x, i) => (b[12 + i] = Number(x)));
    return { bytes: b, v4: true };
  }
  if (!isIPv6(s) || s.includes('%')) return null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  const groups: number[] = [];
  const v4tail = isIPv4(tail) ? tail.split('.').map(Number) : null;
  if (v4tail !== null) text = text.slice(0, lastColon + 1) + '0:0';
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hs = head === '' ? [] : head.split(':');
  const rs = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = 8 - hs.length - rs.length;
  for (const g of hs) groups.push(parseInt(g, 16));
  if (rest !== undefined) for (let i = 0; i < fill; i++) groups.push(0);
  for (const g of rs) groups.push(parseInt(g, 16));
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  if (v4tail !== null) v4tail.forEach((x, i) => (b[12 + i] = x));
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return { bytes: b, v4: mapped };
}

function ipEqual(a: IP, b: IP): boolean {
  return a.bytes.every((x, i) => x === b.bytes[i]);
}

function isLoopback(ip: IP): boolean {
  if (ip.v4) return ip.bytes[12] === 127;
  return ip.bytes.every((x, i) => x === (i === 15 ? 1 : 0));
}

interface CIDR {
  readonly ip: IP;
  /** Prefix length over the 16-byte form. */
  readonly bits: number;
}

function parseCIDR(s: string): CIDR | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (ip === null || !/^\d{1,3}$/.test(len)) return null;
  // "::ffff:1.2.3.4/120" is an IPv6 network in Go, a dotted one an IPv4 network.
  const v4 = isIPv4(s.slice(0, slash));
  const n = Number(len);
  if (n > (v4 ? 32 : 128)) return null;
  return { ip: { bytes: ip.bytes, v4 }, bits: v4 ? 96 + n : n };
}

/** Go's IPNet.Contains: IPv4 networks hold IPv4 (and IPv4-mapped) addresses only, IPv6 networks the others. */
function cidrContains(c: CIDR, ip: IP): boolean {
  if (c.ip.v4 !== ip.v4) return false;
  for (let bit = 0; bit < c.bits; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    if ((c.ip.bytes[i]! & m) !== (ip.bytes[i]! & m)) return false;
  }
  return true;
}
