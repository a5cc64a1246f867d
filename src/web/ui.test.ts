import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexPage } from './ui.js';

test('the index page links under the external path, escaped', () => {
  const page = indexPage(new URL('http://example.com/prom"<x>/'));
  assert.match(page, /<form action="\/prom%22%3Cx%3E\/api\/v1\/query"/);
  assert.match(indexPage(new URL('http://example.com/')), /<a href="\/metrics">Own metrics<\/a>/);
  assert.match(indexPage(new URL('http://example.com/a&b')), /href="\/a&amp;b\/api\/v1\/targets"/);
});
