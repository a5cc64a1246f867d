import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatTimestamp, jsonString, queryValueJSON, encodeJSON, RawJSON } from './json.js';
import { Labels } from '../../model/labels.js';
import { STALE_NAN } from '../../model/value.js';

test('formatFloat matches Go strconv.FormatFloat(f, f, -1, 64)', () => {
  const cases: Array<[number, string]> = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-2.5, '-2.5'],
    [0.1, '0.1'],
    [1 / 3, '0.3333333333333333'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [1e-7, '0.0000001'],
    [-1.234e-9, '-0.000000001234'],
    [123456789012, '123456789012'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
    [1.7976931348623157e308, '17976931348623157' + '0'.repeat(292)],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [STALE_NAN, 'NaN'],
  ];
  for (const [f, want] of cases) assert.equal(formatFloat(f), want, String(f));
});

test('formatTimestamp writes seconds with up to three decimals', () => {
  assert.equal(formatTimestamp(1435781451781), '1435781451.781');
  assert.equal(formatTimestamp(1435781451780), '1435781451.78');
  assert.equal(formatTimestamp(1435781451000), '1435781451');
  assert.equal(formatTimestamp(5), '0.005');
  assert.equal(formatTimestamp(0), '0');
  assert.equal(formatTimestamp(-1500), '-1.5');
});

test('jsonString escapes like Go encoding/json', () => {
  assert.equal(jsonString('a<b>&"c"\n'), '"a\\u003cb\\u003e\\u0026\\"c\\"\\n"');
  assert.equal(jsonString('\u2028'), '"\\u2028"');
  assert.equal(jsonString('plain'), '"plain"');
});

test('query values encode as Prometheus encodes them', () => {
  const m = Labels.fromPairs('__name__', 'up', 'job', 'a<b');
  assert.deepEqual(queryValueJSON({ type: 'vector', samples: [{ metric: m, t: 1000, f: 1 }] }), {
    resultType: 'vector',
    result: '[{"metric":{"__name__":"up","job":"a\\u003cb"},"value":[1,"1"]}]',
  });
  assert.deepEqual(queryValueJSON({ type: 'scalar', t: 1500, v: NaN }), { resultType: 'scalar', result: '[1.5,"NaN"]' });
  assert.deepEqual(queryValueJSON({ type: 'string', t: 2000, v: 'x' }), { resultType: 'string', result: '[2,"x"]' });
  assert.deepEqual(
    queryValueJSON({ type: 'matrix', series: [{ metric: Labels.EMPTY, ts: Float64Array.of(1000, 2000), fs: Float64Array.of(Infinity, -0.5) }] }),
    { resultType: 'matrix', result: '[{"metric":{},"values":[[1,"+Inf"],[2,"-0.5"]]}]' },
  );
  assert.equal(queryValueJSON({ type: 'vector', samples: [] }).result, '[]');
});

test('encodeJSON embeds raw JSON and labels, drops undefined members', () => {
  assert.equal(
    encodeJSON({ a: 1, b: undefined, c: [true, null], d: new RawJSON('[1]'), e: Labels.fromPairs('x', 'y') }),
    '{"a":1,"c":[true,null],"d":[1],"e":{"x":"y"}}',
  );
});
