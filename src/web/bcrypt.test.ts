import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bcryptHash, bcryptVerify, isBcryptHash } from './bcrypt.js';
import { loadWebConfig, verifyBasicAuth, WebConfigError } from './web_config.js';

// Vectors from the Openwall crypt_blowfish test suite.
const VECTORS: Array<[string, string]> = [
  ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ['U*U*', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK'],
  ['U*U*U', '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a'],
  ['', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy'],
];

test('bcrypt matches reference hashes', () => {
  for (const [pw, hash] of VECTORS) {
    assert.equal(bcryptHash(pw, hash), hash, pw);
    assert.ok(bcryptVerify(pw, hash));
    assert.ok(!bcryptVerify(`${pw}x`, hash));
  }
  assert.ok(isBcryptHash('$2y$10$abcdefghijklmnopqrstuu' + 'a'.repeat(31)));
  assert.ok(!isBcryptHash('plain'));
  assert.ok(!bcryptVerify('x', 'plain'));
});

test('web config: basic auth users, TLS settings checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-web-'));
  try {
    const hash = bcryptHash('pw', '$2b$04$abcdefghijklmnopqrstuu');
    writeFileSync(join(dir, 'ok.yml'), `basic_auth_users:\n  u: ${hash}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`);
    const cfg = loadWebConfig(join(dir, 'ok.yml'));
    assert.equal(cfg.tls, null);
    assert.deepEqual(cfg.headers, { 'X-Frame-Options': 'deny' });
    const header = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    assert.ok(verifyBasicAuth(cfg.basicAuthUsers, header('u', 'pw')));
    assert.ok(verifyBasicAuth(cfg.basicAuthUsers, header('u', 'pw')), 'cached');
    assert.ok(!verifyBasicAuth(cfg.basicAuthUsers, header('u', 'nope')));
    assert.ok(!verifyBasicAuth(cfg.basicAuthUsers, undefined));

    const bad: Array<[string, RegExp]> = [
      ['basic_auth_users:\n  u: plaintext\n', /not a bcrypt hash/],
      ['tls_server_config:\n  key_file: k\n', /missing cert_file/],
      ['tls_server_config:\n  cert_file: c\n  key_file: k\n', /cannot read cert_file c/],
      ['unknown: 1\n', /field unknown not found in web config/],
      ['http_server_config:\n  headers:\n    Set-Cookie: x\n', /can not be configured/],
    ];
    for (const [text, re] of bad) {
      writeFileSync(join(dir, 'bad.yml'), text);
      assert.throws(() => loadWebConfig(join(dir, 'bad.yml')), (e: unknown) => e instanceof WebConfigError && re.test(e.message), text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
