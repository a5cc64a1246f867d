// The query page's Explain tab: the expression's syntax tree from /api/v1/parse_query, one line per
// node with its PromQL text and what it does, and for each node that yields an instant vector the
// number of series it returns at the panel's evaluation time (count(<node>)), so one sees where a
// query loses or multiplies its series.
import { useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiGet } from '../api.js';
import { ErrorBox } from '../common.js';
import { formatDuration } from '../format.js';

/** The JSON tree /api/v1/parse_query returns (Prometheus's shape). */
export interface AstNode {
  type: 'aggregation' | 'binaryExpr' | 'call' | 'matrixSelector' | 'subquery' | 'numberLiteral' | 'stringLiteral' | 'parenExpr' | 'unaryExpr' | 'vectorSelector';
  [key: string]: unknown;
}
interface Matcher {
  name: string;
  type: string;
  value: string;
}
interface Matching {
  card: string;
  include: string[] | null;
  labels: string[] | null;
  on: boolean;
}

/** More nodes than this are not counted: each count is one query. */
const MAX_COUNTED_NODES = 30;

function selector(n: AstNode): string | null {
  if (n['offsetExpr'] != null) return null;
  const name = n['name'] as string;
  const ms = (n['matchers'] as Matcher[]).filter((m) => !(name !== '' && m.name === '__name__' && m.type === '='));
  let s = name + (ms.length > 0 || name === '' ? `{${ms.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}` : '');
  if (n.type === 'matrixSelector') {
    if (n['rangeExpr'] != null) return null;
    s += `[${formatDuration(n['range'] as number)}]`;
  }
  return s + modifiers(n);
}

function modifiers(n: AstNode): string {
  let s = '';
  const ts = n['timestamp'] as number | null;
  const se = n['startOrEnd'] as string | null;
  if (ts !== null && ts !== undefined) s += ` @ ${ts / 1000}`;
  else if (se !== null && se !== undefined && se !== '') s += ` @ ${se}()`;
  const off = n['offset'] as number;
  if (off > 0) s += ` offset ${formatDuration(off)}`;
  else if (off < 0) s += ` offset -${formatDuration(-off)}`;
  return s;
}

/** PromQL text of a node, or null when it holds parts this printer does not render (duration expressions). */
export function printNode(n: AstNode): string | null {
  const sub = (k: string): string | null => printNode(n[k] as AstNode);
  switch (n.type) {
    case 'vectorSelector':
    case 'matrixSelector':
      return selector(n);
    case 'numberLiteral':
      return String(n['val']);
    case 'stringLiteral':
      return JSON.stringify(n['val']);
    case 'parenExpr': {
      const e = sub('expr');
      return e === null ? null : `(${e})`;
    }
    case 'unaryExpr': {
      const e = sub('expr');
      return e === null ? null : `${String(n['op'])}${e}`;
    }
    case 'call': {
      const args = (n['args'] as AstNode[]).map(printNode);
      if (args.some((a) => a === null)) return null;
      return `${(n['func'] as { name: string }).name}(${args.join(', ')})`;
    }
    case 'aggregation': {
      const e = sub('expr');
      const p = n['param'] === null ? '' : sub('param');
      if (e === null || p === null) return null;
      const g = n['grouping'] as string[];
      const by = n['without'] === true ? ` without (${g.join(', ')})` : g.length > 0 ? ` by (${g.join(', ')})` : '';
      return `${String(n['op'])}${by} (${p === '' ? '' : `${p}, `}${e})`;
    }
    case 'binaryExpr': {
      const l = sub('lhs');
      const r = sub('rhs');
      if (l === null || r === null) return null;
      const m = n['matching'] as Matching | null;
      let mod = n['bool'] === true ? ' bool' : '';
      if (m !== null) {
        if (m.on || (m.labels ?? []).length > 0) mod += ` ${m.on ? 'on' : 'ignoring'} (${(m.labels ?? []).join(', ')})`;
        if (m.card === 'many-to-one' || m.card === 'one-to-many') mod += ` ${m.card === 'many-to-one' ? 'group_left' : 'group_right'} (${(m.include ?? []).join(', ')})`;
      }
      return `${l} ${String(n['op'])}${mod} ${r}`;
    }
    case 'subquery': {
      const e = sub('expr');
      if (e === null || n['rangeExpr'] != null || n['stepExpr'] != null || n['offsetExpr'] != null) return null;
      const step = n['step'] as number;
      return `${e}[${formatDuration(n['range'] as number)}:${step > 0 ? formatDuration(step) : ''}]${modifiers(n)}`;
    }
  }
}

function children(n: AstNode): AstNode[] {
  switch (n.type) {
    case 'aggregation':
      return n['param'] === null ? [n['expr'] as AstNode] : [n['param'] as AstNode, n['expr'] as AstNode];
    case 'binaryExpr':
      return [n['lhs'] as AstNode, n['rhs'] as AstNode];
    case 'call':
      return n['args'] as AstNode[];
    case 'parenExpr':
    case 'unaryExpr':
    case 'subquery':
      return [n['expr'] as AstNode];
    default:
      return [];
  }
}

/** Whether the node evaluates to an instant vector (so count() of it says how many series it yields). */
function yieldsVector(n: AstNode): boolean {
  switch (n.type) {
    case 'vectorSelector':
    case 'aggregation':
      return true;
    case 'call':
      return (n['func'] as { returnType: string }).returnType === 'vector';
    case 'binaryExpr':
      return yieldsVector(n['lhs'] as AstNode) || yieldsVector(n['rhs'] as AstNode);
    case 'parenExpr':
    case 'unaryExpr':
      return yieldsVector(n['expr'] as AstNode);
    default:
      return false;
  }
}

function describe(n: AstNode): string {
  switch (n.type) {
    case 'vectorSelector':
      return 'selects the latest sample (within the lookback) of every series matching these matchers';
    case 'matrixSelector':
      return `selects every series' samples over the last ${formatDuration(n['range'] as number)}`;
    case 'subquery':
      return `evaluates the inner expression at every ${formatDuration((n['step'] as number) || 0) || 'evaluation-interval'} step over ${formatDuration(n['range'] as number)}`;
    case 'call':
      return `calls ${(n['func'] as { name: string }).name}()`;
    case 'aggregation': {
      const g = n['grouping'] as string[];
      const how = n['without'] === true ? `keeping every label but ${g.join(', ')}` : g.length > 0 ? `per ${g.join(', ')}` : 'into one series';
      return `${String(n['op'])} across series, ${how}`;
    }
    case 'binaryExpr': {
      const m = n['matching'] as Matching | null;
      const cmp = ['==', '!=', '>', '<', '>=', '<='].includes(String(n['op']));
      const what = ['and', 'or', 'unless'].includes(String(n['op'])) ? 'set operation' : cmp ? (n['bool'] === true ? 'comparison returning 0 or 1' : 'filter: keeps left-hand samples where the comparison holds') : 'arithmetic';
      const match = m === null ? '' : m.on ? `, matching series on (${(m.labels ?? []).join(', ')})` : (m.labels ?? []).length > 0 ? `, matching series ignoring (${(m.labels ?? []).join(', ')})` : ', matching series on all labels';
      return `${what} (${String(n['op'])})${match}${m !== null && m.card !== 'one-to-one' && m.card !== 'many-to-many' ? `, ${m.card}` : ''}`;
    }
    case 'numberLiteral':
      return 'a number';
    case 'stringLiteral':
      return 'a string';
    case 'parenExpr':
      return 'parentheses';
    case 'unaryExpr':
      return 'negation';
  }
}

interface Row {
  depth: number;
  node: AstNode;
  text: string | null;
}

function flatten(n: AstNode, depth: number, out: Row[]): Row[] {
  out.push({ depth, node: n, text: printNode(n) });
  for (const c of children(n)) flatten(c, depth + 1, out);
  return out;
}

export function Explain(props: { expr: string; timeS: number | null; runCount: number }): JSX.Element {
  const [tree, setTree] = useState<{ rows: Row[] } | { error: string } | null>(null);
  const [counts, setCounts] = useState<Record<number, string>>({});
  useEffect(() => {
    if (props.expr.trim() === '') return;
    const ac = new AbortController();
    setCounts({});
    apiGet<AstNode>('parse_query', { query: props.expr }, ac.signal).then(
      (res) => {
        const rows = flatten(res.data, 0, []);
        setTree({ rows });
        let asked = 0;
        rows.forEach((r, i) => {
          if (r.text === null || !yieldsVector(r.node) || asked++ >= MAX_COUNTED_NODES) return;
          const params: Record<string, string> = { query: `count(${r.text})` };
          if (props.timeS !== null) params['time'] = String(props.timeS);
          apiGet<{ result: { value: [number, string] }[] }>('query', params, ac.signal).then(
            (q) => setCounts((c) => ({ ...c, [i]: `${q.data.result[0]?.value[1] ?? '0'} series` })),
            (e: unknown) => !ac.signal.aborted && setCounts((c) => ({ ...c, [i]: e instanceof Error ? e.message : String(e) })),
          );
        });
      },
      (e: unknown) => !ac.signal.aborted && setTree({ error: e instanceof Error ? e.message : String(e) }),
    );
    return () => ac.abort();
  }, [props.expr, props.runCount, props.timeS]);

  if (props.expr.trim() === '') return <div class="muted">Enter an expression to explain.</div>;
  if (tree === null) return <div class="muted">Loading…</div>;
  if ('error' in tree) return <ErrorBox error={tree.error} />;
  return (
    <ul class="explain">
      {tree.rows.map((r, i) => (
        <li key={i} style={{ paddingLeft: `${r.depth * 20}px` }}>
          <code class="mono">{r.text ?? `(${r.node.type})`}</code>
          <span class="muted small"> — {describe(r.node)}</span>
          {counts[i] !== undefined && <span class="pill unknown count">{counts[i]}</span>}
        </li>
      ))}
    </ul>
  );
}
