import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';
import { throttledLogger } from './throttle.js';
import { nopLogger } from './types.js';
import { formatJSONTime, formatLogfmtTime } from './time_fmt.js';

/** A stream that keeps every line written to it. */
function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { stream, lines };
}

const T = Date.UTC(2024, 10, 14, 9, 51, 50, 620);

describe('createLogger', () => {
  test('logfmt lines have time, level, msg then fields', () => {
    const { stream, lines } = sink();
    const log = createLogger({ stream, now: () => T });
    log.info('Server is ready', { port: 9090, path: '/a b', ok: true, err: new Error('boom'), n: null });
    assert.equal(lines.length, 1);
    assert.equal(
      lines[0],
      `time=${formatLogfmtTime(T)} level=INFO msg="Server is ready" port=9090 path="/a b" ok=true err=boom n=<nil>\n`,
    );
  });

  test('json lines are one object with Prometheus keys', () => {
    const { stream, lines } = sink();
    const log = createLogger({ stream, format: 'json', now: () => T });
    log.warn('x', { a: { b: 1 }, inf: Infinity, big: 10n });
    const o = JSON.parse(lines[0]!);
    assert.deepEqual(o, { time: formatJSONTime(T), level: 'WARN', msg: 'x', a: { b: 1 }, inf: '+Inf', big: '10' });
    assert.deepEqual(Object.keys(o).slice(0, 3), ['time', 'level', 'msg']);
  });

  test('with() returns a new logger and never changes the receiver', () => {
    const { stream, lines } = sink();
    const root = createLogger({ stream, format: 'json', now: () => T });
    const a = root.with({ component: 'a' });
    const b = a.with({ sub: 1 });
    for (let i = 0; i < 100; i++) root.with({ [`k${i}`]: i }).info('child');
    root.info('root');
    a.info('a');
    b.info('b');
    const [r, la, lb] = lines.slice(-3).map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(r), ['time', 'level', 'msg']);
    assert.deepEqual(Object.keys(la), ['time', 'level', 'msg', 'component']);
    assert.deepEqual(Object.keys(lb), ['time', 'level', 'msg', 'component', 'sub']);
    assert.notEqual(a, root);
    assert.ok(Object.isFrozen(root) && Object.isFrozen(a));
  });

  test('per-call fields are not kept for later lines', () => {
    const { stream, lines } = sink();
    const log = createLogger({ stream, format: 'json', now: () => T });
    log.info('q', { q1: 1 });
    log.info('q', { q2: 2 });
    assert.deepEqual(Object.keys(JSON.parse(lines[1]!)), ['time', 'level', 'msg', 'q2']);
  });

  test('level filter and reserved keys', () => {
    const { stream, lines } = sink();
    const log = createLogger({ stream, level: 'warn', now: () => T });
    log.debug('d');
    log.info('i');
    log.warn('w', { level: 'x', time: 1 });
    log.error('e');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, / msg=w logged_level=x logged_time=1\n$/);
    assert.match(lines[1]!, / level=ERROR msg=e\n$/);
  });

  test('logfmt groups plain objects with dots and quotes what slog quotes', () => {
    const { stream, lines } = sink();
    const log = createLogger({ stream, now: () => T }).with({ httpRequest: { clientIP: '127.0.0.1', method: 'GET' } });
    log.info('m', { s: '', q: 'a"b', eq: 'a=b', nl: 'a\nb', list: [1, 2] });
    assert.match(
      lines[0]!,
      / msg=m httpRequest.clientIP=127.0.0.1 httpRequest.method=GET s="" q="a\\"b" eq="a=b" nl="a\\nb" list=\[1,2\]\n$/,
    );
  });

  test('addSource names the calling file', () => {
    const { stream, lines } = sink();
    createLogger({ stream, addSource: true, now: () => T }).info('here');
    assert.match(lines[0]!, / source=logger\.test\.[jt]s:\d+ msg=here/);
  });

  test('a circular field or a throwing stream never throws to the caller', () => {
    const circ: Record<string, unknown> = {};
    circ.self = circ;
    const { stream, lines } = sink();
    createLogger({ stream, format: 'json' }).info('c', { circ });
    assert.match(lines[0]!, /"circ":"!ERROR:/);
    createLogger({ stream }).info('c', { circ });
    const bad = new Writable({ write() { throw new Error('broken'); } });
    createLogger({ stream: bad }).error('still fine');
  });

  test('nopLogger discards and stays itself', () => {
    assert.equal(nopLogger.with({ a: 1 }), nopLogger);
  });
});

describe('time formats', () => {
  test('JSON time trims trailing zeros like RFC3339Nano, logfmt keeps three', () => {
    assert.match(formatJSONTime(T), /:50\.62(Z|[+-]\d\d:\d\d)$/);
    assert.match(formatJSONTime(T - 620), /:50(Z|[+-]\d\d:\d\d)$/);
    assert.match(formatLogfmtTime(T - 620), /:50\.000(Z|[+-]\d\d:\d\d)$/);
  });
});

describe('throttledLogger', () => {
  test('writes a message at most once per interval and counts what it held back', () => {
    const { stream, lines } = sink();
    let now = 0;
    const log = throttledLogger(createLogger({ stream, now: () => now }), { intervalMs: 60_000, now: () => now });
    for (let i = 0; i < 5; i++) log.error('disk full', { err: 'ENOSPC' });
    log.error('other');
    assert.equal(lines.length, 2);
    now = 59_999;
    log.error('disk full');
    assert.equal(lines.length, 2);
    now = 60_000;
    log.error('disk full', { err: 'ENOSPC' });
    assert.equal(lines.length, 3);
    assert.match(lines[2]!, /msg="disk full" err=ENOSPC suppressed=5\n$/);
  });

  test('derived loggers share the budget and keep their bindings', () => {
    const { stream, lines } = sink();
    const log = throttledLogger(createLogger({ stream }), { intervalMs: 1000, now: () => 0 });
    log.with({ c: 1 }).warn('same');
    log.with({ c: 2 }).warn('same');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, / c=1\n$/);
  });

  test('remembers a bounded number of messages', () => {
    const { stream, lines } = sink();
    const log = throttledLogger(createLogger({ stream }), { intervalMs: 1000, now: () => 0, maxKeys: 2 });
    log.info('a');
    log.info('b');
    log.info('c');
    log.info('a');
    assert.equal(lines.length, 4);
  });
});
