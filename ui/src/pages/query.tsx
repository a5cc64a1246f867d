// /query: panels of PromQL queries, each with a Table tab (instant query at a chosen time) and a Graph tab
// (range query over a chosen range and step). The panels live in the URL in Prometheus 3's format
// (g0.expr, g0.tab, g0.range_input, g0.end_input, g0.moment_input, g0.res_type, g0.res_step, g0.display_mode),
// so a link reproduces the page; Prometheus 2's g0.tab=0/1 and g0.step_input are read too.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import type { EditorView } from '@codemirror/view';
import { apiGet, type ApiResponse } from '../api.js';
import { ErrorBox } from '../common.js';
import { formatDuration, formatSeries, formatUtc, formatValue, parseDuration, parseUtc, type Metric } from '../format.js';
import type { Location } from '../router.js';
import { createEditor, setDoc } from './editor.js';
import { Chart, type MatrixSeries } from './graph.js';
import { Explain } from './explain.js';

export const MARK_RESPONSE = 'tsprom:range-response';

type Tab = 'table' | 'graph' | 'explain';

export interface Panel {
  id: number;
  expr: string;
  tab: Tab;
  rangeMs: number;
  /** Graph end; null = now. */
  endMs: number | null;
  /** Table evaluation time; null = now. */
  momentMs: number | null;
  /** Fixed step in seconds; null = chosen from the range. */
  stepS: number | null;
  stacked: boolean;
}

const DEFAULT_RANGE_MS = 3600e3;
/** Largest number of rows the table renders; more would make the page crawl. */
const MAX_TABLE_ROWS = 10000;
const HISTORY_KEY = 'tsprom.queryHistory';
const HISTORY_SIZE = 50;
/** The auto step aims at about this many points across the range, as Prometheus's UI does. */
const AUTO_POINTS = 250;

let nextId = 0;
function newPanel(p: Partial<Panel> = {}): Panel {
  return { id: nextId++, expr: '', tab: 'table', rangeMs: DEFAULT_RANGE_MS, endMs: null, momentMs: null, stepS: null, stacked: false, ...p };
}

function parseTime(s: string | null): number | null {
  if (s === null || s === '') return null;
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : parseUtc(s);
}

/** Reads panels from g<i>.* parameters; at least one (empty) panel. */
export function panelsFromSearch(q: URLSearchParams): Panel[] {
  const out: Panel[] = [];
  for (let i = 0; ; i++) {
    const get = (k: string): string | null => q.get(`g${i}.${k}`);
    const expr = get('expr');
    if (expr === null) break;
    const tab = get('tab');
    const step = get('res_step') ?? get('step_input');
    out.push(
      newPanel({
        expr,
        // Prometheus 2 numbered the tabs: 0 graph, 1 table.
        tab: tab === 'graph' || tab === '0' ? 'graph' : tab === 'explain' ? 'explain' : 'table',
        rangeMs: parseDuration(get('range_input') ?? '') ?? DEFAULT_RANGE_MS,
        endMs: parseTime(get('end_input')),
        momentMs: parseTime(get('moment_input')),
        stepS: step !== null && get('res_type') !== 'auto' && Number(step) > 0 ? Number(step) : null,
        stacked: get('display_mode') === 'stacked' || get('stacked') === '1',
      }),
    );
  }
  return out.length > 0 ? out : [newPanel()];
}

export function panelsToSearch(panels: Panel[]): string {
  const q = new URLSearchParams();
  panels.forEach((p, i) => {
    const set = (k: string, v: string): void => q.set(`g${i}.${k}`, v);
    set('expr', p.expr);
    set('tab', p.tab);
    set('display_mode', p.stacked ? 'stacked' : 'lines');
    set('range_input', formatDuration(p.rangeMs));
    if (p.endMs !== null) set('end_input', formatUtc(p.endMs));
    if (p.momentMs !== null) set('moment_input', formatUtc(p.momentMs));
    set('res_type', p.stepS === null ? 'auto' : 'fixed');
    if (p.stepS !== null) set('res_step', String(p.stepS));
  });
  return q.toString();
}

function loadHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, HISTORY_SIZE) : [];
  } catch {
    return [];
  }
}

function remember(expr: string): string[] {
  const h = [expr, ...loadHistory().filter((e) => e !== expr)].slice(0, HISTORY_SIZE);
  try {
    localStorage.setItem(HISTORY_KEY, JSON.stringify(h));
  } catch {
    // Storage full or disabled: history is a convenience.
  }
  return h;
}

export function autoStepS(rangeMs: number): number {
  return Math.max(1, Math.floor(rangeMs / 1000 / AUTO_POINTS));
}

interface InstantData {
  resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  result: unknown;
}
interface VectorSample {
  metric: Metric;
  value?: [number, string];
  histogram?: [number, unknown];
}

function Notes(props: { res: ApiResponse<unknown> }): JSX.Element {
  return (
    <>
      {props.res.warnings.map((w, i) => (
        <div key={`w${i}`} class="alert warn">
          <strong>Warning: </strong>
          {w}
        </div>
      ))}
      {props.res.infos.map((w, i) => (
        <div key={`i${i}`} class="alert info">
          <strong>Info: </strong>
          {w}
        </div>
      ))}
    </>
  );
}

function ResultTable(props: { data: InstantData }): JSX.Element {
  const { resultType, result } = props.data;
  if (resultType === 'scalar' || resultType === 'string') {
    const [, v] = result as [number, string];
    return (
      <table class="data result">
        <tbody>
          <tr>
            <td>{resultType}</td>
            <td class="num mono">{v}</td>
          </tr>
        </tbody>
      </table>
    );
  }
  const rows = result as (VectorSample | MatrixSeries)[];
  if (rows.length === 0) return <div class="muted">Empty query result</div>;
  return (
    <>
      {rows.length > MAX_TABLE_ROWS && (
        <div class="alert warn">
          Showing the first {MAX_TABLE_ROWS} of {rows.length} series.
        </div>
      )}
      <table class="data result">
        <tbody>
          {rows.slice(0, MAX_TABLE_ROWS).map((r, i) => (
            <tr key={i}>
              <td class="mono series">{formatSeries(r.metric)}</td>
              <td class="num mono">
                {'value' in r && r.value !== undefined
                  ? formatValue(r.value[1])
                  : 'values' in r && r.values !== undefined
                    ? r.values.map(([t, v]) => (
                        <div key={t}>
                          {formatValue(v)} @{t}
                        </div>
                      ))
                    : '(native histogram)'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

type Run<T> = { state: 'idle' } | { state: 'loading' } | { state: 'error'; error: string } | { state: 'ok'; res: ApiResponse<T>; ms: number; at: number; start?: number; end?: number; step?: number };

function PanelView(props: {
  panel: Panel;
  update: (p: Partial<Panel>) => void;
  remove: (() => void) | null;
  history: string[];
  onRan: (expr: string) => void;
  autoRun: boolean;
}): JSX.Element {
  const { panel, update } = props;
  const editorBox = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const exprRef = useRef(panel.expr);
  const [runCount, setRunCount] = useState(props.autoRun && panel.expr.trim() !== '' ? 1 : 0);
  const [table, setTable] = useState<Run<InstantData>>({ state: 'idle' });
  const [graph, setGraph] = useState<Run<MatrixSeries[]>>({ state: 'idle' });
  const [formatError, setFormatError] = useState<string | null>(null);
  const [ranExpr, setRanExpr] = useState('');
  const [rangeText, setRangeText] = useState(formatDuration(panel.rangeMs));
  const run = (): void => setRunCount((n) => n + 1);
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => {
    if (editorBox.current === null) return;
    const v = createEditor(editorBox.current, {
      doc: panel.expr,
      onChange: (d) => {
        exprRef.current = d;
        update({ expr: d });
      },
      onRun: () => runRef.current(),
    });
    view.current = v;
    return () => v.destroy();
  }, []);

  // Runs the active tab's query when asked, or when the tab or its time settings change after a run.
  useEffect(() => {
    const expr = exprRef.current.trim();
    if (runCount === 0 || expr === '') return;
    const ac = new AbortController();
    const t0 = performance.now();
    setRanExpr(expr);
    if (panel.tab === 'explain') {
      // The Explain tab loads its own tree from the expression.
    } else if (panel.tab === 'table') {
      setTable({ state: 'loading' });
      const params: Record<string, string> = { query: expr };
      if (panel.momentMs !== null) params['time'] = String(panel.momentMs / 1000);
      apiGet<InstantData>('query', params, ac.signal).then(
        (res) => setTable({ state: 'ok', res, ms: performance.now() - t0, at: Date.now() }),
        (e: unknown) => !ac.signal.aborted && setTable({ state: 'error', error: e instanceof Error ? e.message : String(e) }),
      );
    } else {
      setGraph({ state: 'loading' });
      const end = Math.floor((panel.endMs ?? Date.now()) / 1000);
      const start = end - Math.floor(panel.rangeMs / 1000);
      const step = panel.stepS ?? autoStepS(panel.rangeMs);
      apiGet<{ resultType: string; result: MatrixSeries[] }>('query_range', { query: expr, start: String(start), end: String(end), step: String(step) }, ac.signal, MARK_RESPONSE).then(
        (res) => setGraph({ state: 'ok', res: { ...res, data: res.data.result }, ms: performance.now() - t0, at: Date.now(), start, end, step }),
        (e: unknown) => !ac.signal.aborted && setGraph({ state: 'error', error: e instanceof Error ? e.message : String(e) }),
      );
    }
    props.onRan(expr);
    return () => ac.abort();
  }, [runCount, panel.tab, panel.rangeMs, panel.endMs, panel.momentMs, panel.stepS]);

  const format = (): void => {
    setFormatError(null);
    apiGet<string>('format_query', { query: exprRef.current }).then(
      (res) => view.current !== null && setDoc(view.current, res.data),
      (e: unknown) => setFormatError(e instanceof Error ? e.message : String(e)),
    );
  };
  const setRange = (text: string): void => {
    setRangeText(text);
    const ms = parseDuration(text);
    if (ms !== null) update({ rangeMs: ms });
  };
  const stepRange = (dir: 1 | -1): void => {
    const steps = [60e3, 300e3, 900e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 28 * 86400e3, 56 * 86400e3, 365 * 86400e3];
    const next = dir > 0 ? steps.find((s) => s > panel.rangeMs) : [...steps].reverse().find((s) => s < panel.rangeMs);
    if (next !== undefined) {
      setRangeText(formatDuration(next));
      update({ rangeMs: next });
    }
  };

  const stats = (r: Run<unknown>, series: number | null): JSX.Element | null =>
    r.state === 'ok' ? (
      <div class="muted small stats">
        Load time: {Math.round(r.ms)}ms · {series !== null ? `Result series: ${series}` : ''}
        {r.step !== undefined ? ` · Resolution: ${r.step}s` : ''}
      </div>
    ) : null;

  return (
    <section class="panel">
      <div class="editor-row">
        <div class="editor" ref={editorBox} />
        <button class="primary" onClick={run} title="Execute (Enter)">
          Execute
        </button>
      </div>
      <div class="toolbar small">
        <select
          aria-label="Query history"
          onChange={(e) => {
            const v = (e.currentTarget as HTMLSelectElement).value;
            if (v !== '' && view.current !== null) setDoc(view.current, v);
            (e.currentTarget as HTMLSelectElement).value = '';
          }}
        >
          <option value="">History…</option>
          {props.history.map((h) => (
            <option key={h} value={h}>
              {h.length > 100 ? `${h.slice(0, 100)}…` : h}
            </option>
          ))}
        </select>
        <button onClick={format} title="Format the expression (/api/v1/format_query)">
          Format
        </button>
        {props.remove !== null && (
          <button onClick={props.remove} title="Remove this panel">
            Remove panel
          </button>
        )}
      </div>
      {formatError !== null && <ErrorBox title="Format" error={formatError} />}
      <div class="tabs" role="tablist">
        {(['table', 'graph', 'explain'] as const).map((t) => (
          <button key={t} role="tab" aria-selected={panel.tab === t} class={panel.tab === t ? 'tab active' : 'tab'} onClick={() => update({ tab: t })}>
            {t === 'table' ? 'Table' : t === 'graph' ? 'Graph' : 'Explain'}
          </button>
        ))}
      </div>
      {panel.tab === 'explain' ? (
        <div class="tab-body">
          {runCount === 0 ? <div class="muted">Run the query to explain it.</div> : <Explain expr={ranExpr} timeS={panel.momentMs === null ? null : panel.momentMs / 1000} runCount={runCount} />}
        </div>
      ) : panel.tab === 'table' ? (
        <div class="tab-body">
          <div class="toolbar small">
            <label>
              Evaluation time (UTC){' '}
              <input
                class="time-input"
                placeholder="now"
                value={panel.momentMs === null ? '' : formatUtc(panel.momentMs)}
                onChange={(e) => update({ momentMs: parseUtc((e.currentTarget as HTMLInputElement).value) })}
              />
            </label>
            {panel.momentMs !== null && <button onClick={() => update({ momentMs: null })}>Now</button>}
          </div>
          {table.state === 'loading' && <div class="muted">Loading…</div>}
          {table.state === 'error' && <ErrorBox error={table.error} />}
          {table.state === 'idle' && <div class="muted">No data queried yet</div>}
          {table.state === 'ok' && (
            <>
              <Notes res={table.res} />
              {stats(table, Array.isArray(table.res.data.result) ? (table.res.data.result as unknown[]).length : null)}
              <ResultTable data={table.res.data} />
            </>
          )}
        </div>
      ) : (
        <div class="tab-body">
          <div class="toolbar small">
            <button onClick={() => stepRange(-1)} title="Shorter range">
              −
            </button>
            <input class="narrow" aria-label="Range" value={rangeText} onInput={(e) => setRange((e.currentTarget as HTMLInputElement).value)} />
            <button onClick={() => stepRange(1)} title="Longer range">
              +
            </button>
            <label>
              End (UTC){' '}
              <input
                class="time-input"
                placeholder="now"
                value={panel.endMs === null ? '' : formatUtc(panel.endMs)}
                onChange={(e) => update({ endMs: parseUtc((e.currentTarget as HTMLInputElement).value) })}
              />
            </label>
            <label>
              Step{' '}
              <input
                class="narrow"
                placeholder={`${autoStepS(panel.rangeMs)}s (auto)`}
                value={panel.stepS === null ? '' : String(panel.stepS)}
                onChange={(e) => {
                  const v = (e.currentTarget as HTMLInputElement).value.trim();
                  const ms = parseDuration(v) ?? (Number(v) > 0 ? Number(v) * 1000 : null);
                  update({ stepS: ms === null ? null : ms / 1000 });
                }}
              />
            </label>
            <label class="check">
              <input type="checkbox" checked={panel.stacked} onChange={() => update({ stacked: !panel.stacked })} /> stacked
            </label>
          </div>
          {graph.state === 'loading' && <div class="muted">Loading…</div>}
          {graph.state === 'error' && <ErrorBox error={graph.error} />}
          {graph.state === 'idle' && <div class="muted">No data queried yet</div>}
          {graph.state === 'ok' && (
            <>
              <Notes res={graph.res} />
              {graph.res.data.some((s) => s.histograms !== undefined) && <div class="alert info">Native histogram series are not drawn.</div>}
              {stats(graph, graph.res.data.length)}
              {graph.res.data.length === 0 ? (
                <div class="muted">Empty query result</div>
              ) : (
                <Chart series={graph.res.data} startS={graph.start!} endS={graph.end!} stepS={graph.step!} stacked={panel.stacked} />
              )}
            </>
          )}
        </div>
      )}
    </section>
  );
}

export function QueryPage(props: { loc: Location }): JSX.Element {
  const initial = useMemo(() => panelsFromSearch(props.loc.search), []);
  const [panels, setPanels] = useState<Panel[]>(initial);
  const [history, setHistory] = useState<string[]>(loadHistory);
  const autoRun = useMemo(() => new Set(initial.map((p) => p.id)), []);

  useEffect(() => {
    const qs = panelsToSearch(panels);
    if (`?${qs}` !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}?${qs}`);
  }, [panels]);

  const update = (id: number) => (p: Partial<Panel>) => setPanels((ps) => ps.map((x) => (x.id === id ? { ...x, ...p } : x)));
  return (
    <div class="query-page">
      {panels.map((p) => (
        <PanelView
          key={p.id}
          panel={p}
          update={update(p.id)}
          remove={panels.length > 1 ? () => setPanels((ps) => ps.filter((x) => x.id !== p.id)) : null}
          history={history}
          onRan={(e) => setHistory(remember(e))}
          autoRun={autoRun.has(p.id)}
        />
      ))}
      <button onClick={() => setPanels((ps) => [...ps, newPanel()])}>Add panel</button>
    </div>
  );
}
