import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../config/load.js';
import { noProxyMatcher, parseProxy, proxyFunc } from './proxy.js';

const direct = (noProxy: string, host: string, port = '80') => noProxyMatcher(noProxy)(host, port);

test('NO_PROXY entries match as in Go: domains, subdomains, IPs, CIDRs, ports, *', () => {
  assert.equal(direct('foo.com', 'foo.com'), true);
  assert.equal(direct('foo.com', 'bar.foo.com'), true);
  assert.equal(direct('foo.com', 'barfoo.com'), false);
  assert.equal(direct('.y.com', 'x.y.com'), true);
  assert.equal(direct('.y.com', 'y.com'), false);
  assert.equal(direct('*.y.com', 'x.y.com'), true);
  assert.equal(direct('*.y.com', 'y.com'), false);
  assert.equal(direct(' FOO.com , other ', 'a.foo.com'), true);
  assert.equal(direct('foo.com:8080', 'foo.com', '8080'), true);
  assert.equal(direct('foo.com:8080', 'foo.com', '80'), false);
  assert.equal(direct('10.1.2.3', '10.1.2.3'), true);
  assert.equal(direct('10.1.2.3:443', '10.1.2.3', '80'), false);
  assert.equal(direct('10.0.0.0/8', '10.200.0.1'), true);
  assert.equal(direct('10.0.0.0/8', '11.0.0.1'), false);
  assert.equal(direct('2001:db8::/32', '2001:db8::5'), true);
  assert.equal(direct('2001:db8::/32', '2001:db9::5'), false);
  assert.equal(direct('[2001:db8::1]:80', '2001:db8::1', '80'), true);
  assert.equal(direct('2001:db8::1', '2001:db8:0::1', '80'), true);
  // An IPv4 network holds IPv4-mapped addresses, an IPv6 one does not hold IPv4 addresses.
  assert.equal(direct('10.0.0.0/8', '::ffff:10.0.0.1'), true);
  assert.equal(direct('::/0', '10.0.0.1'), false);
  // IP entries do not match names and domain entries do not match IPs.
  assert.equal(direct('1.2.3.4', 'foo.com'), false);
  assert.equal(direct('.3.4', '1.2.3.4'), false);
  assert.equal(direct('*', 'anything.example'), true);
  assert.equal(direct('', 'foo.com'), false);
  assert.equal(direct(':80', 'foo.com'), false);
});

test('localhost and loopback addresses always go direct under the NO_PROXY rules', () => {
  for (const h of ['localhost', '127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) assert.equal(direct('', h), true, h);
  assert.equal(direct('', '10.0.0.1'), false);
  assert.equal(direct('', 'localhost.example'), false);
});

test('proxy values without a scheme are http:// ones', () => {
  assert.equal(parseProxy('proxy.corp:3128')?.href, 'http://proxy.corp:3128/');
  assert.equal(parseProxy('proxy.corp')?.href, 'http://proxy.corp/');
  assert.equal(parseProxy('https://p:8443')?.href, 'https://p:8443/');
  assert.equal(parseProxy(''), null);
});

test('proxy_url alone proxies everything, loopback included; with no_proxy the rules apply', () => {
  const all = proxyFunc({ proxyUrl: 'http://p:3128', noProxy: '', proxyFromEnvironment: false }, {})!;
  assert.equal(all(new URL('http://127.0.0.1:9090/metrics'))?.href, 'http://p:3128/');
  assert.equal(all(new URL('https://localhost/'))?.href, 'http://p:3128/');
  const some = proxyFunc({ proxyUrl: 'http://p:3128', noProxy: 'internal.example', proxyFromEnvironment: false }, {})!;
  assert.equal(some(new URL('http://127.0.0.1:9090/metrics')), null);
  assert.equal(some(new URL('http://a.internal.example/')), null);
  assert.equal(some(new URL('https://outside.example/'))?.href, 'http://p:3128/');
  assert.equal(proxyFunc({ proxyUrl: '', noProxy: '', proxyFromEnvironment: false }, { HTTP_PROXY: 'http://p' }), null);
});

test('proxy_from_environment reads HTTP_PROXY, HTTPS_PROXY, NO_PROXY, upper case first', () => {
  const f = proxyFunc(
    { proxyUrl: '', noProxy: '', proxyFromEnvironment: true },
    { HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:1', https_proxy: 'secure:2', no_proxy: '.skip.example' },
  )!;
  assert.equal(f(new URL('http://t.example/'))?.href, 'http://upper:1/');
  assert.equal(f(new URL('https://t.example/'))?.href, 'http://secure:2/');
  assert.equal(f(new URL('http://a.skip.example/')), null);
  assert.equal(f(new URL('http://localhost:9090/')), null);
  const onlyHttp = proxyFunc({ proxyUrl: '', noProxy: '', proxyFromEnvironment: true }, { http_proxy: 'http://lower:1', HTTP_PROXY: '' })!;
  assert.equal(onlyHttp(new URL('http://t.example/'))?.href, 'http://lower:1/');
  assert.equal(onlyHttp(new URL('https://t.example/')), null);
  assert.equal(proxyFunc({ proxyUrl: '', noProxy: '', proxyFromEnvironment: true }, {}), null);
});

test('proxy settings are validated as prometheus/common validates them', () => {
  const bad = (keys: string, msg: string) =>
    assert.throws(
      () => loadConfig(`scrape_configs:\n  - job_name: j\n${keys}`),
      (e: Error) => e instanceof ConfigError && e.message.includes(msg),
    );
  bad('    proxy_connect_header: { X: [y] }\n', 'if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured');
  bad('    proxy_from_environment: true\n    proxy_url: http://p\n', 'if proxy_from_environment is configured, proxy_url must not be configured');
  bad('    no_proxy: x\n', 'if no_proxy is configured, proxy_url must also be configured');
  const ok = loadConfig('scrape_configs:\n  - job_name: j\n    proxy_from_environment: true\n    proxy_connect_header: { X: [y] }\n');
  assert.deepEqual(ok.scrapeConfigs[0]!.httpClient.proxyConnectHeader, { X: ['y'] });
});
