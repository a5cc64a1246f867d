import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesMap } from './loop.js';
import type { TextParser } from '../model/textparse/interface.js';

interface E {
  dropped: boolean;
  key: string;
  hash: number;
  next: E | null;
  v: number;
}

/** A parser stand-in positioned on `key`. */
function at(key: string): TextParser {
  return { seriesIs: (k: string) => k === key } as unknown as TextParser;
}

test('SeriesMap resolves hash collisions by comparing the bytes', () => {
  const m = new SeriesMap<E>();
  const a: E = { key: 'a{x="1"}', hash: 7, dropped: false, next: null, v: 1 };
  const b: E = { key: 'b{x="2"}', hash: 7, dropped: false, next: null, v: 2 };
  const c: E = { key: 'c', hash: 9, dropped: false, next: null, v: 3 };
  m.add(a);
  m.add(b);
  m.add(c);
  assert.equal(m.size, 3);
  assert.equal(m.find(at('a{x="1"}'), 7), a);
  assert.equal(m.find(at('b{x="2"}'), 7), b);
  assert.equal(m.find(at('zzz'), 7), undefined);
  m.remove(b);
  assert.equal(m.find(at('b{x="2"}'), 7), undefined);
  assert.equal(m.find(at('a{x="1"}'), 7), a);
  m.add(b);
  m.removeWhere((e) => e.v !== 2);
  assert.equal(m.size, 1);
  assert.equal(m.find(at('b{x="2"}'), 7), b);
  assert.equal(m.find(at('a{x="1"}'), 7), undefined);
  assert.equal(m.find(at('c'), 9), undefined);
  m.clear();
  assert.equal(m.size, 0);
});
