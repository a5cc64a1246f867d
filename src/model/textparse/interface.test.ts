import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SymbolTable } from './interface.js';

test('SymbolTable interns and stays bounded', () => {
  const st = new SymbolTable(4);
  const a = st.intern(['x', 'y'].join(''));
  assert.equal(st.intern('xy'), a);
  for (let i = 0; i < 10; i++) st.intern(`s${i}`);
  assert.ok(st.size <= 4);
});
