import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BcryptBusyError, BcryptPool, bcryptCompareSync, bcryptCost, bcryptHash, isBcryptHash, type PasswordChecker } from './bcrypt.js';
import { BasicAuth, loadWebConfig, WebConfigError } from './web_config.js';

// Vectors from the Openwall crypt_blowfish test suite.
const VECTORS: Array<[string, string]> = [
  ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ['U*U*', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK'],
  ['U*U*U', '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a'],
  ['', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy'],
];

const header = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

/** A password checker that answers at once and records what it was asked. */
class FakeChecker implements PasswordChecker {
  readonly asked: Array<{ password: string; hash: string }> = [];
  busy = false;
  queued = 0;
  constructor(private readonly good: ReadonlyMap<string, string>) {}
  compare(password: string, hash: string): Promise<boolean> {
    if (this.busy) return Promise.reject(new BcryptBusyError());
    this.asked.push({ password, hash });
    return Promise.resolve(this.good.get(hash) === password);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('bcrypt', () => {
  test('bcryptjs matches the reference hashes', () => {
    for (const [pw, hash] of VECTORS) {
      assert.equal(bcryptHash(pw, hash), hash, pw);
      assert.ok(bcryptCompareSync(pw, hash));
      assert.ok(!bcryptCompareSync(`${pw}x`, hash));
    }
    assert.ok(isBcryptHash('$2y$10$abcdefghijklmnopqrstuu' + 'a'.repeat(31)));
    assert.equal(bcryptCost('$2y$10$abcdefghijklmnopqrstuu' + 'a'.repeat(31)), 10);
    assert.ok(!isBcryptHash('$2y$03$abcdefghijklmnopqrstuu' + 'a'.repeat(31)));
    assert.ok(!isBcryptHash('plain'));
    assert.ok(!bcryptCompareSync('x', 'plain'));
  });

  test('the pool checks on worker threads and refuses checks past its queue', async () => {
    const hash = bcryptHash('pw', '$2b$04$abcdefghijklmnopqrstuu');
    const pool = new BcryptPool({ size: 1, maxQueued: 1 });
    try {
      assert.equal(await pool.compare('pw', hash), true);
      assert.equal(await pool.compare('nope', hash), false);
      assert.equal(await pool.compare('pw', 'not a hash'), false);
      // One running, one waiting: the third is refused.
      const a = pool.compare('pw', hash);
      const b = pool.compare('nope', hash);
      await assert.rejects(pool.compare('pw', hash), BcryptBusyError);
      assert.deepEqual(await Promise.all([a, b]), [true, false]);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.compare('pw', hash), /closed/);
  });
});

describe('basic auth', () => {
  const hash = bcryptHash('pw', '$2b$04$abcdefghijklmnopqrstuu');
  const other = bcryptHash('x', '$2b$04$bbbbbbbbbbbbbbbbbbbbbu');

  test('a right password is let in and cached; wrong or missing credentials are denied', async () => {
    const checker = new FakeChecker(new Map([[hash, 'pw']]));
    const auth = new BasicAuth(new Map([['u', hash]]), { pool: checker });
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: true });
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c2'), { ok: true });
    assert.equal(checker.asked.length, 1, 'the second check is answered from the cache');
    assert.deepEqual(await auth.check(header('u', 'nope'), 'c1'), { ok: false, reason: 'denied' });
    // The same wrong password again is answered from the failure cache.
    assert.deepEqual(await auth.check(header('u', 'nope'), 'c1'), { ok: false, reason: 'denied' });
    assert.equal(checker.asked.length, 2);
    assert.deepEqual(await auth.check(undefined, 'c1'), { ok: false, reason: 'denied' });
    assert.deepEqual(await auth.check('Bearer x', 'c1'), { ok: false, reason: 'denied' });
    assert.deepEqual(await auth.check(`Basic ${Buffer.from('nocolon').toString('base64')}`, 'c1'), { ok: false, reason: 'denied' });
    assert.equal(checker.asked.length, 2);
  });

  test('an unknown user is checked against a dummy hash of the cost most users have', async () => {
    const cost12 = `$2y$12$${'a'.repeat(53)}`;
    const checker = new FakeChecker(new Map());
    const auth = new BasicAuth(new Map([['a', hash], ['b', other], ['c', cost12]]), { pool: checker });
    assert.deepEqual(await auth.check(header('ghost', 'pw'), 'c1'), { ok: false, reason: 'denied' });
    assert.equal(checker.asked.length, 1);
    const dummy = checker.asked[0]!.hash;
    assert.ok(isBcryptHash(dummy));
    assert.equal(bcryptCost(dummy), 4);
    assert.ok(dummy !== hash && dummy !== other);
    // Even the password of a real user does not let an unknown user in.
    const real = new FakeChecker(new Map([[dummy, 'pw']]));
    const auth2 = new BasicAuth(new Map([['a', hash]]), { pool: real });
    assert.deepEqual(await auth2.check(header('ghost', 'pw'), 'c1'), { ok: false, reason: 'denied' });
  });

  test('failures are rate-limited per client and user for a minute, without checking', async () => {
    let now = 1_000_000;
    const checker = new FakeChecker(new Map([[hash, 'pw']]));
    const auth = new BasicAuth(new Map([['u', hash]]), { pool: checker, now: () => now });
    // A cached success is not affected by a guesser from the same address.
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: true });
    for (let i = 0; i < 10; i++) assert.deepEqual(await auth.check(header('u', `guess${i}`), 'c1'), { ok: false, reason: 'denied' });
    const asked = checker.asked.length;
    now += 15_000;
    assert.deepEqual(await auth.check(header('u', 'guess10'), 'c1'), { ok: false, reason: 'rate_limited', retryAfterS: 45 });
    assert.deepEqual(await auth.check(header('ghost', 'guess'), 'c1'), { ok: false, reason: 'denied' }, 'another user name is counted apart');
    assert.deepEqual(await auth.check(header('u', 'guess11'), 'c2'), { ok: false, reason: 'denied' }, 'another client is counted apart');
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: true });
    assert.equal(checker.asked.length, asked + 2);
    now += 45_000;
    assert.deepEqual(await auth.check(header('u', 'guess12'), 'c1'), { ok: false, reason: 'denied' }, 'a new minute starts a new count');
  });

  test('a full check queue answers busy', async () => {
    const checker = new FakeChecker(new Map([[hash, 'pw']]));
    checker.busy = true;
    const auth = new BasicAuth(new Map([['u', hash]]), { pool: checker });
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: false, reason: 'busy' });
    checker.busy = false;
    assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: true });
  });

  test('with real worker threads', async () => {
    const auth = new BasicAuth(new Map([['u', hash]]));
    try {
      assert.deepEqual(await auth.check(header('u', 'pw'), 'c1'), { ok: true });
      assert.deepEqual(await auth.check(header('u', 'bad'), 'c1'), { ok: false, reason: 'denied' });
      assert.deepEqual(await auth.check(header('nobody', 'pw'), 'c1'), { ok: false, reason: 'denied' });
    } finally {
      await auth.close();
    }
  });
});

test('web config: basic auth users, TLS settings checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsprom-web-'));
  try {
    const hash = bcryptHash('pw', '$2b$04$abcdefghijklmnopqrstuu');
    writeFileSync(join(dir, 'ok.yml'), `basic_auth_users:\n  u: ${hash}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`);
    const cfg = loadWebConfig(join(dir, 'ok.yml'));
    assert.equal(cfg.tls, null);
    assert.deepEqual(cfg.headers, { 'X-Frame-Options': 'deny' });
    assert.deepEqual([...cfg.basicAuthUsers], [['u', hash]]);

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
