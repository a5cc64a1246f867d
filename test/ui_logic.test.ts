// The UI's pure logic, run in Node: esbuild bundles the browser modules in
// memory (stub document and window objects stand in for the page) and the test
// imports the bundle. Covers the query page's URL state, the Explain tab's
// printer (its text must parse back to the same tree as the server's parser
// gives), the query log's links back to the query page, the graph's columns
// and the duration and time formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { parseExpr } from '../src/promql/parser/parser.js';
import { astJSON } from '../src/web/api/ast_json.js';

interface Panel {
  expr: string;
  tab: string;
  rangeMs: number;
  endMs: number | null;
  momentMs: number | null;
  stepS: number | null;
  stacked: boolean;
}
interface UiLogic {
  panelsFromSearch(q: URLSearchParams): Panel[];
  panelsToSearch(p: Panel[]): string;
  autoStepS(rangeMs: number): number;
  printNode(n: unknown): string | null;
  queryPageLink(e: unknown): string;
  toColumns(series: unknown[], startS: number, endS: number, stepS: number, stacked: boolean): (number | null)[][];
  parseDuration(s: string): number | null;
  formatDuration(ms: number): string;
  humanSeconds(s: number): string;
  parseUtc(s: string): number | null;
  formatUtc(ms: number): string;
  formatSeries(m: Record<string, string>): string;
}

const ENTRY = `
export { panelsFromSearch, panelsToSearch, autoStepS } from './pages/query.js';
export { printNode } from './pages/explain.js';
export { queryPageLink } from './pages/query_log.js';
export { toColumns } from './pages/graph.js';
export { parseDuration, formatDuration, humanSeconds, parseUtc, formatUtc, formatSeries } from './format.js';
`;

/**
 * CodeMirror and uPlot touch the DOM as they load; the functions under test
 * never call them, so they are replaced by a stand-in that answers every
 * property access, call and construction with itself.
 */
const browserOnlyStub: Plugin = {
  name: 'browser-only-stub',
  setup(b) {
    b.onResolve({ filter: /^(@codemirror\/|@lezer\/|@prometheus-io\/|uplot)/ }, (a) => ({ path: a.path, namespace: 'stub', pluginData: a.importer }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (a) => {
      // Export the names the importing file asks for, each the stand-in.
      const src = readFileSync(a.pluginData as string, 'utf8');
      const names = new Set<string>();
      for (const m of src.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
        if (m[2] !== a.path) continue;
        for (const part of m[1]!.split(',')) {
          const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
          if (name !== '') names.add(name);
        }
      }
      const stub = 'const s = new Proxy(function () {}, { get: (_t, k) => s, apply: () => s, construct: () => s });';
      return { contents: `${stub}\nexport default s;\n${[...names].map((n) => `export const ${n} = s;`).join('\n')}`, loader: 'js' };
    });
  },
};

async function load(): Promise<UiLogic> {
  // What the app's modules read from the page as they load: the prefix tag and the popstate listener.
  const g = globalThis as Record<string, unknown>;
  g['document'] ??= { querySelector: () => null };
  g['window'] ??= { addEventListener: () => undefined };
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: join(process.cwd(), 'ui', 'src'), loader: 'ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Stylesheets have no meaning here.
    loader: { '.css': 'empty' },
    plugins: [browserOnlyStub],
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  return (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as UiLogic;
}

const ui = await load();

test('query page URL: Prometheus 3 keys round-trip; Prometheus 2 tab numbers and step_input are read', () => {
  const [p0, p1, ...rest] = ui.panelsFromSearch(
    new URLSearchParams(
      'g0.expr=rate(x[5m])&g0.tab=graph&g0.range_input=2h30m&g0.end_input=2024-05-01 10:00:00&g0.res_type=fixed&g0.res_step=15&g0.display_mode=stacked&g1.expr=up&g1.tab=explain&g1.moment_input=2024-05-01T09:00:00.000Z',
    ),
  );
  assert.equal(rest.length, 0);
  assert.deepEqual(
    { ...p0!, id: 0 },
    { id: 0, expr: 'rate(x[5m])', tab: 'graph', rangeMs: 9000e3, endMs: Date.UTC(2024, 4, 1, 10), momentMs: null, stepS: 15, stacked: true },
  );
  assert.deepEqual([p1!.expr, p1!.tab, p1!.momentMs], ['up', 'explain', Date.UTC(2024, 4, 1, 9)]);
  const again = ui.panelsFromSearch(new URLSearchParams(ui.panelsToSearch([p0!, p1!])));
  assert.deepEqual(
    again.map((p) => ({ ...p, id: 0 })),
    [p0!, p1!].map((p) => ({ ...p, id: 0 })),
  );
  assert.match(ui.panelsToSearch([p0!]), /^g0\.expr=rate%28x%5B5m%5D%29&g0\.tab=graph&g0\.display_mode=stacked&g0\.range_input=2h30m&g0\.end_input=2024-05-01\+10%3A00%3A00&g0\.res_type=fixed&g0\.res_step=15$/);

  const legacy = ui.panelsFromSearch(new URLSearchParams('g0.expr=up&g0.tab=0&g0.step_input=30&g1.expr=x&g1.tab=1'));
  assert.deepEqual(
    legacy.map((p) => [p.tab, p.stepS]),
    [
      ['graph', 30],
      ['table', null],
    ],
  );
  const empty = ui.panelsFromSearch(new URLSearchParams(''));
  assert.deepEqual([empty.length, empty[0]!.expr, empty[0]!.tab, empty[0]!.rangeMs], [1, '', 'table', 3600e3]);
  assert.equal(ui.autoStepS(3600e3), 14);
  assert.equal(ui.autoStepS(60e3), 1);
});

test('Explain printer: every node prints as PromQL that parses back to the same tree', () => {
  const queries = [
    'up',
    'up{job="a", instance=~"h.*"} offset 5m',
    '{__name__=~"x.*", job!="b"}',
    'rate(http_requests_total{code!~"5.."}[5m] @ 1700000000)',
    'sum without (instance) (rate(x[1m]))',
    'topk(3, sum by (job, le) (x))',
    'count_values("v", up)',
    'a / on (job) group_left (team) b',
    'a + ignoring (instance) b',
    'a > bool 0',
    'x and y unless z',
    '-(up - 1)',
    'max_over_time(rate(x[1m])[30m:1m] offset 1h)',
    'histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))',
    'label_replace(up, "dst", "$1", "src", "(.*)")',
    'up @ start()',
    'x offset -5m',
    '1 + 2 * 3 ^ 2',
    'sum(up) by (job)',
  ];
  for (const q of queries) {
    const tree = astJSON(parseExpr(q));
    const text = ui.printNode(tree);
    assert.ok(text !== null, q);
    assert.deepEqual(astJSON(parseExpr(text)), tree, `${q} printed as ${text}`);
  }
});

test('query log rows open the same query: range queries as a graph over their range and step, instant ones as a table', () => {
  const range = new URLSearchParams(
    ui.queryPageLink({ time: '', params: { query: 'rate(x[5m])', start: '2024-05-01T09:00:00.000Z', end: '2024-05-01T10:00:00.000Z', step: 30 } }).split('?')[1],
  );
  assert.deepEqual(Object.fromEntries(range), {
    'g0.expr': 'rate(x[5m])',
    'g0.tab': 'graph',
    'g0.range_input': '3600s',
    'g0.end_input': '2024-05-01T10:00:00.000Z',
    'g0.res_type': 'fixed',
    'g0.res_step': '30',
  });
  const panel = ui.panelsFromSearch(range)[0]!;
  assert.deepEqual([panel.rangeMs, panel.endMs, panel.stepS], [3600e3, Date.UTC(2024, 4, 1, 10), 30]);

  const instant = new URLSearchParams(ui.queryPageLink({ time: '', params: { query: 'up', start: '2024-05-01T10:00:00.000Z', end: '2024-05-01T10:00:00.000Z', step: 0 } }).split('?')[1]);
  assert.deepEqual(Object.fromEntries(instant), { 'g0.expr': 'up', 'g0.tab': 'table', 'g0.moment_input': '2024-05-01T10:00:00.000Z' });
});

test('graph columns: samples land on their step, gaps and non-finite values stay null, stacking sums the series below', () => {
  const series = [
    { metric: {}, values: [[100, '1'], [110, '2'], [130, 'NaN']] },
    { metric: {}, values: [[110, '5'], [120, '+Inf']] },
  ];
  assert.deepEqual(ui.toColumns(series, 100, 130, 10, false), [
    [100, 110, 120, 130],
    [1, 2, null, null],
    [null, 5, null, null],
  ]);
  assert.deepEqual(ui.toColumns(series, 100, 130, 10, true), [
    [100, 110, 120, 130],
    [1, 2, null, null],
    [null, 7, null, null],
  ]);
  // Samples off the range are dropped.
  assert.deepEqual(ui.toColumns([{ metric: {}, values: [[90, '1'], [140, '1']] }], 100, 130, 10, false)[1], [null, null, null, null]);
});

test('durations, times and series names', () => {
  assert.equal(ui.parseDuration('1h30m'), 5400e3);
  assert.equal(ui.parseDuration('2d'), 172800e3);
  assert.equal(ui.parseDuration('500ms'), 500);
  assert.equal(ui.parseDuration('1x'), null);
  assert.equal(ui.parseDuration(''), null);
  assert.equal(ui.parseDuration('0s'), null);
  assert.equal(ui.formatDuration(5400e3), '1h30m');
  assert.equal(ui.formatDuration(8 * 86400e3), '1w1d');
  assert.equal(ui.humanSeconds(0.000123), '123µs');
  assert.equal(ui.humanSeconds(0.0123), '12.3ms');
  assert.equal(ui.humanSeconds(0.374), '374ms');
  assert.equal(ui.humanSeconds(1.5), '1.5s');
  assert.equal(ui.humanSeconds(200), '3m 20s');
  assert.equal(ui.humanSeconds(90061), '1d 1h');
  assert.equal(ui.parseUtc('2024-05-01 10:00:00'), Date.UTC(2024, 4, 1, 10));
  assert.equal(ui.parseUtc('2024-05-01 10:00'), Date.UTC(2024, 4, 1, 10));
  assert.equal(ui.parseUtc('nonsense'), null);
  assert.equal(ui.formatUtc(Date.UTC(2024, 4, 1, 10, 0, 5, 250)), '2024-05-01 10:00:05');
  assert.equal(ui.formatSeries({ __name__: 'up', job: 'a"b' }), 'up{job="a\\"b"}');
  assert.equal(ui.formatSeries({ __name__: 'up' }), 'up');
  assert.equal(ui.formatSeries({ job: 'a' }), '{job="a"}');
  assert.equal(ui.formatSeries({}), '{}');
});
