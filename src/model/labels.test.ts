import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hashString,
  isValidLabelName,
  isValidLegacyLabelName,
  isValidLegacyMetricName,
  isValidMetricName,
  isWellFormedUTF16,
  Labels,
  LabelsBuilder,
  METRIC_NAME,
} from './labels.js';

function names(ls: Labels): string[] {
  const out: string[] = [];
  ls.forEach((n) => out.push(n));
  return out;
}

describe('Labels construction', () => {
  test('sorted by name, empty values dropped, later duplicates win', () => {
    const ls = Labels.fromPairs('job', 'api', '__name__', 'up', 'empty', '', 'job', 'web');
    assert.deepEqual(ls.toPairs(), ['__name__', 'up', 'job', 'web']);
    assert.equal(ls.length, 2);
    assert.equal(ls.nameAt(1), 'job');
    assert.equal(ls.valueAt(1), 'web');
  });

  test('the three constructors agree', () => {
    const a = Labels.fromPairs('b', '2', 'a', '1');
    const b = Labels.fromObject({ a: '1', b: '2' });
    const c = Labels.fromList([
      { name: 'b', value: '2' },
      { name: 'a', value: '1' },
    ]);
    assert.ok(a.equals(b) && b.equals(c));
    assert.equal(a.key(), c.key());
    assert.equal(a.hash(), c.hash());
  });

  test('empty label sets are the shared EMPTY value', () => {
    assert.equal(Labels.fromPairs(), Labels.EMPTY);
    assert.equal(Labels.fromObject({ a: '' }), Labels.EMPTY);
    assert.ok(Labels.EMPTY.isEmpty());
    assert.equal(Labels.EMPTY.toString(), '{}');
  });

  test('an odd number of strings is a bug', () => {
    assert.throws(() => Labels.fromPairs('a'), /BUG/);
  });

  test('values are frozen in effect: toObject returns a copy', () => {
    const ls = Labels.fromPairs('a', '1');
    const o = ls.toObject();
    o.a = 'changed';
    assert.equal(ls.get('a'), '1');
  });
});

describe('Labels access', () => {
  const ls = Labels.fromPairs(METRIC_NAME, 'http_requests_total', 'code', '200', 'method', 'GET');

  test('get, has', () => {
    assert.equal(ls.get('code'), '200');
    assert.equal(ls.get('missing'), '');
    assert.equal(ls.has('method'), true);
    assert.equal(ls.has('missing'), false);
  });

  test('iteration in name order', () => {
    assert.deepEqual([...ls].map((l) => l.name), ['__name__', 'code', 'method']);
    assert.deepEqual(names(ls), ['__name__', 'code', 'method']);
    const seen: string[] = [];
    ls.forEach((n, v) => seen.push(`${n}=${v}`));
    assert.deepEqual(seen, ['__name__=http_requests_total', 'code=200', 'method=GET']);
  });

  test('without and keep return new sets and keep the original', () => {
    assert.deepEqual(names(ls.without('code')), ['__name__', 'method']);
    assert.deepEqual(names(ls.keep('code', 'nope')), ['code']);
    assert.deepEqual(names(ls.without(METRIC_NAME)), ['code', 'method']);
    assert.equal(ls.without('nope'), ls);
    assert.equal(ls.keep('__name__', 'code', 'method'), ls);
    assert.equal(ls.length, 3);
  });
});

describe('Labels comparison and hashing', () => {
  test('equality is by content', () => {
    assert.ok(Labels.fromPairs('a', '1').equals(Labels.fromPairs('a', '1')));
    assert.ok(!Labels.fromPairs('a', '1').equals(Labels.fromPairs('a', '2')));
    assert.ok(!Labels.fromPairs('a', '1').equals(Labels.fromPairs('a', '1', 'b', '2')));
  });

  test('keys do not collide across boundaries', () => {
    const x = Labels.fromPairs('a', 'b,c', 'd', 'e');
    const y = Labels.fromPairs('a', 'b', 'c', 'd');
    assert.notEqual(x.key(), y.key());
  });

  test('compare orders by name, then value, then length', () => {
    const sets = [
      Labels.fromPairs('a', '2'),
      Labels.fromPairs('a', '1', 'b', '1'),
      Labels.fromPairs('b', '0'),
      Labels.fromPairs('a', '1'),
      Labels.EMPTY,
    ];
    const sorted = [...sets].sort(Labels.compare).map((l) => l.toString());
    assert.deepEqual(sorted, ['{}', '{a="1"}', '{a="1", b="1"}', '{a="2"}', '{b="0"}']);
    assert.equal(Labels.compare(Labels.fromPairs('a', '1'), Labels.fromPairs('a', '1')), 0);
  });

  test('hashes are stable, non-negative integers and differ for different sets', () => {
    const h = Labels.fromPairs('job', 'api').hash();
    assert.equal(h, Labels.fromPairs('job', 'api').hash());
    assert.ok(Number.isSafeInteger(h) && h >= 0);
    assert.equal(hashString('abc'), hashString('abc'));
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(Labels.fromPairs('series', String(i)).hash());
    assert.equal(seen.size, 10_000);
    // The hash is that of the key, computed without building it.
    for (const ls of [Labels.EMPTY, Labels.fromPairs('a', '1'), Labels.fromPairs('__name__', 'up', 'job', 'näive ☃', 'z', '')]) {
      assert.equal(ls.hash(), hashString(ls.key()));
    }
  });

  test('names sort by code point, as Prometheus sorts them', () => {
    const ls = Labels.fromPairs('\uffff', '1', '😀', '2', 'a', '3');
    assert.deepEqual([ls.nameAt(0), ls.nameAt(1), ls.nameAt(2)], ['a', '\uffff', '😀']);
  });
});

describe('LabelsBuilder', () => {
  test('edits yield a new set and never change the base', () => {
    const base = Labels.fromPairs('a', '1', 'b', '2');
    const b = base.builder().set('c', '3').set('a', '10').del('b');
    assert.equal(b.get('a'), '10');
    assert.equal(b.get('b'), '');
    assert.deepEqual(b.labels().toPairs(), ['a', '10', 'c', '3']);
    assert.deepEqual(base.toPairs(), ['a', '1', 'b', '2']);
  });

  test('setting an empty value deletes; no edits give back the base', () => {
    const base = Labels.fromPairs('a', '1');
    assert.equal(base.builder().labels(), base);
    assert.ok(base.builder().set('a', '').labels().isEmpty());
  });

  test('keep drops everything else, including earlier additions', () => {
    const b = new LabelsBuilder(Labels.fromPairs('a', '1', 'b', '2', 'c', '3')).set('d', '4').keep('a', 'c');
    assert.deepEqual(names(b.labels()), ['a', 'c']);
    b.set('e', '5');
    assert.deepEqual(names(b.labels()), ['a', 'c', 'e']);
  });
});

describe('printing', () => {
  test('toString quotes as Prometheus does', () => {
    const ls = Labels.fromPairs('__name__', 'up', 'a.b', 'x"y', 'tab', 'a\tb', 'bell', '\x07');
    assert.equal(ls.toString(), '{__name__="up", "a.b"="x\\"y", bell="\\a", tab="a\\tb"}');
  });
});

describe('name validation', () => {
  test('legacy names', () => {
    assert.ok(isValidLegacyMetricName('job:rate5m:sum'));
    assert.ok(!isValidLegacyMetricName('1abc'));
    assert.ok(!isValidLegacyMetricName('a.b'));
    assert.ok(isValidLegacyLabelName('_a1'));
    assert.ok(!isValidLegacyLabelName('a:b'));
    assert.ok(!isValidLegacyLabelName(''));
  });

  test('UTF-8 names: any non-empty well-formed string', () => {
    assert.ok(isValidMetricName('my.metric ☺'));
    assert.ok(isValidLabelName('😀'));
    assert.ok(!isValidLabelName(''));
    assert.ok(!isValidMetricName('a\ud800'));
    assert.ok(!isWellFormedUTF16('\udc00x'));
    assert.ok(isWellFormedUTF16('\ud83d\ude00'));
  });
});
