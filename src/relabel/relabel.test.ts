import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelabelConfig } from '../config/types.js';
import { Labels } from '../model/labels.js';
import { LabelMap, expandTemplate, hashMod, processBuilder } from './relabel.js';
import RE2 from 're2';

function rc(over: Partial<RelabelConfig>): RelabelConfig {
  return { sourceLabels: [], separator: ';', regex: '(.*)', modulus: 0, targetLabel: '', replacement: '$1', action: 'replace', ...over };
}

const L = (o: Record<string, string>) => Labels.fromObject(o);

/** The rules applied in order; null as soon as one drops the set. */
function relabel(labels: Labels, configs: readonly RelabelConfig[]): Labels | null {
  const lb = new LabelMap(labels);
  return processBuilder(lb, configs) ? lb.labels() : null;
}

test('replace with groups, defaults and no match', () => {
  const ls = L({ a: 'foo', b: 'bar', c: 'baz' });
  assert.deepEqual(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'f(.*)', targetLabel: 'd', replacement: 'ch${1}-ch${1}' })])!.toObject(), { a: 'foo', b: 'bar', c: 'baz', d: 'choo-choo' });
  // No match: unchanged.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'x(.*)', targetLabel: 'd' })])!.equals(ls), true);
  // Anchored: "o" alone does not match "foo".
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'o', targetLabel: 'd', replacement: 'x' })])!.has('d'), false);
  // Several sources joined by the separator.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a', 'b'], regex: '(f.*);(.*)r', targetLabel: 'a', replacement: '$2$1' })])!.get('a'), 'bafoo');
  // Empty result deletes the target.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'foo', targetLabel: 'b', replacement: '' })])!.has('b'), false);
  // Target label from the template.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: '(f)(.*)', targetLabel: 'x_${2}', replacement: '$1' })])!.get('x_oo'), 'f');
  // Invalid target names are skipped (empty here).
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: '(.*)', targetLabel: '${3}', replacement: 'v' })])!.equals(ls), true);
  // Fast path: fixed label on an absent source.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['missing'], targetLabel: 'env', replacement: 'prod' })])!.get('env'), 'prod');
  // Dot matches newline.
  assert.equal(relabel(L({ a: 'x\ny' }), [rc({ sourceLabels: ['a'], regex: 'x.y', targetLabel: 'm', replacement: 'ok' })])!.get('m'), 'ok');
});

test('keep, drop, keepequal, dropequal', () => {
  const ls = L({ a: 'foo', b: 'foo', c: 'bar' });
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'f.*', action: 'drop' })]), null);
  assert.ok(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'f', action: 'drop' })]));
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'f', action: 'keep' })]), null);
  assert.ok(relabel(ls, [rc({ sourceLabels: ['a'], regex: 'f.*', action: 'keep' })]));
  // Empty source keeps/drops by whether '' matches.
  assert.equal(relabel(ls, [rc({ sourceLabels: ['none'], regex: '.+', action: 'keep' })]), null);
  assert.ok(relabel(ls, [rc({ sourceLabels: ['a'], targetLabel: 'b', action: 'keepequal' })]));
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], targetLabel: 'c', action: 'keepequal' })]), null);
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], targetLabel: 'b', action: 'dropequal' })]), null);
  assert.ok(relabel(ls, [rc({ sourceLabels: ['a'], targetLabel: 'c', action: 'dropequal' })]));
});

test('hashmod matches Prometheus (md5, last 8 bytes)', () => {
  // Expected values are the ones Prometheus's own relabel tests assert.
  const ls = L({ a: 'foo', b: 'bar', c: 'baz' });
  const out = relabel(ls, [rc({ sourceLabels: ['c'], targetLabel: 'd', modulus: 1000, action: 'hashmod' })])!;
  assert.equal(out.get('d'), hashMod('baz', 1000n).toString());
  assert.equal(hashMod('baz', 1000n).toString(), '976');
  assert.equal(hashMod('foo\nbar', 1000n).toString(), '734');
});

test('labelmap, labeldrop, labelkeep', () => {
  const ls = L({ __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_tier: 'front', job: 'k' });
  assert.deepEqual(relabel(ls, [rc({ regex: '__meta_kubernetes_pod_label_(.+)', action: 'labelmap' })])!.toObject(), {
    __meta_kubernetes_pod_label_app: 'web',
    __meta_kubernetes_pod_label_tier: 'front',
    app: 'web',
    job: 'k',
    tier: 'front',
  });
  assert.deepEqual(relabel(ls, [rc({ regex: '__meta_.*', action: 'labeldrop' })])!.toObject(), { job: 'k' });
  assert.deepEqual(relabel(ls, [rc({ regex: 'job', action: 'labelkeep' })])!.toObject(), { job: 'k' });
});

test('lowercase and uppercase', () => {
  const ls = L({ a: 'AbC', b: 'dEf' });
  const out = relabel(ls, [rc({ sourceLabels: ['a', 'b'], targetLabel: 'l', action: 'lowercase' }), rc({ sourceLabels: ['a'], targetLabel: 'u', action: 'uppercase' })])!;
  assert.equal(out.get('l'), 'abc;def');
  assert.equal(out.get('u'), 'ABC');
});

test('rules apply in order and stop at a drop', () => {
  const ls = L({ a: 'x' });
  const out = relabel(ls, [rc({ sourceLabels: ['a'], targetLabel: 'b', replacement: 'y' }), rc({ sourceLabels: ['b'], regex: 'y', action: 'keep' })]);
  assert.equal(out!.get('b'), 'y');
  assert.equal(relabel(ls, [rc({ sourceLabels: ['a'], action: 'drop', regex: 'x' }), rc({ targetLabel: 'never', replacement: 'z' })]), null);
});

test('expandTemplate follows Go', () => {
  const m = new RE2('^(?s:(?P<first>a)(b)?)$', 'u').exec('a')!;
  assert.equal(expandTemplate('$1', m), 'a');
  assert.equal(expandTemplate('${first}-$first', m), 'a-a');
  assert.equal(expandTemplate('$2', m), '');
  assert.equal(expandTemplate('$$1', m), '$1');
  // "$1x" names group "1x", which does not exist.
  assert.equal(expandTemplate('$1x', m), '');
  assert.equal(expandTemplate('${1}x', m), 'ax');
  assert.equal(expandTemplate('cost: $', m), 'cost: $');
  assert.equal(expandTemplate('${unclosed', m), '${unclosed');
  const m2 = new RE2('^(?s:(a)(?P<name>b)(c)?)$', 'u').exec('ab')!;
  assert.equal(expandTemplate('$1-${2}x-$$-$name-$9', m2), 'a-bx-$-b-');
  // Group names are Unicode letters and digits, as in Go.
  assert.equal(expandTemplate('$näme', m2), '');
  assert.equal(expandTemplate('${1}ü', m2), 'aü');
});
