// /query-log (not in Prometheus): the server's recent queries from /api/v1/status/query_log as a sortable
// table, filters for slow and failed queries, a link per row into the query page, and the top queries by total time.
import { useMemo, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { Await, SearchBox, matches, useApi } from '../common.js';
import { humanSeconds } from '../format.js';
import { Link } from '../router.js';

/** One query-log line (docs/query-log.md). */
export interface QueryLogEntry {
  time: string;
  params: { query: string; start: string; end: string; step: number };
  error?: string;
  stats?: { timings?: { execTotalTime?: number }; samples?: { totalQueryableSamples?: number; peakSamples?: number } };
  httpRequest?: { clientIP: string; method: string; path: string };
  ruleGroup?: { file: string; name: string };
}

interface Row {
  time: number;
  timeText: string;
  query: string;
  duration: number;
  samples: number;
  origin: string;
  error: string;
  entry: QueryLogEntry;
}

/** Entries asked for: the server's ring keeps at most 1,000 by default. */
const LIMIT = '1000';
const TOP_N = 10;
/** Rows rendered at first and per "show more": a busy server's 1,000 entries would make a very long page. */
const PAGE_ROWS = 100;

type SortKey = 'time' | 'query' | 'duration' | 'samples' | 'origin' | 'error';

export function toRow(e: QueryLogEntry): Row {
  return {
    time: Date.parse(e.time),
    timeText: e.time,
    query: e.params.query,
    duration: e.stats?.timings?.execTotalTime ?? 0,
    samples: e.stats?.samples?.totalQueryableSamples ?? 0,
    origin: e.ruleGroup !== undefined ? `rule group ${e.ruleGroup.name}` : e.httpRequest !== undefined ? `${e.httpRequest.method} ${e.httpRequest.path} from ${e.httpRequest.clientIP}` : '',
    error: e.error ?? '',
    entry: e,
  };
}

/** The query page reproducing a logged query: a graph over its range for range queries, a table at its time otherwise. */
export function queryPageLink(e: QueryLogEntry): string {
  const p = new URLSearchParams({ 'g0.expr': e.params.query });
  const start = Date.parse(e.params.start);
  const end = Date.parse(e.params.end);
  if (e.params.step > 0 && Number.isFinite(start) && Number.isFinite(end)) {
    p.set('g0.tab', 'graph');
    p.set('g0.range_input', `${Math.max(1, Math.round((end - start) / 1000))}s`);
    p.set('g0.end_input', new Date(end).toISOString());
    p.set('g0.res_type', 'fixed');
    p.set('g0.res_step', String(e.params.step));
  } else {
    p.set('g0.tab', 'table');
    if (Number.isFinite(end)) p.set('g0.moment_input', new Date(end).toISOString());
  }
  return `/query?${p.toString()}`;
}

export function QueryLogPage(): JSX.Element {
  const [st, reload] = useApi<QueryLogEntry[]>('status/query_log', { limit: LIMIT });
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'time', desc: true });
  const [text, setText] = useState('');
  const [failedOnly, setFailedOnly] = useState(false);
  const [slowMs, setSlowMs] = useState('');
  const [hideRules, setHideRules] = useState(false);
  const [limit, setLimit] = useState(PAGE_ROWS);
  const entries = st.state === 'ok' ? st.res.data : null;
  const rows = useMemo(() => (entries ?? []).map(toRow), [entries]);
  const th = (key: SortKey, label: string, num = false): JSX.Element => (
    <th class={`clickable${num ? ' num' : ''}`} onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : key !== 'query' && key !== 'origin' })}>
      {label} {sort.key === key ? (sort.desc ? '▼' : '▲') : ''}
    </th>
  );
  return (
    <Await st={st}>
      {() => {
        const slow = Number(slowMs) / 1000;
        const visible = rows.filter(
          (r) =>
            (!failedOnly || r.error !== '') &&
            (!(slow > 0) || r.duration >= slow) &&
            (!hideRules || r.entry.ruleGroup === undefined) &&
            matches(text, r.query, r.origin, r.error),
        );
        const dir = sort.desc ? -1 : 1;
        visible.sort((a, b) => {
          const x = a[sort.key];
          const y = b[sort.key];
          return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
        });
        const top = new Map<string, { query: string; total: number; count: number; max: number; failed: number; last: QueryLogEntry }>();
        for (const r of visible) {
          const t = top.get(r.query) ?? { query: r.query, total: 0, count: 0, max: 0, failed: 0, last: r.entry };
          t.total += r.duration;
          t.count++;
          t.max = Math.max(t.max, r.duration);
          if (r.error !== '') t.failed++;
          top.set(r.query, t);
        }
        const topList = [...top.values()].sort((a, b) => b.total - a.total).slice(0, TOP_N);
        return (
          <div>
            <div class="toolbar">
              <label class="check">
                <input type="checkbox" checked={failedOnly} onChange={() => setFailedOnly(!failedOnly)} /> failed only
              </label>
              <label class="check">
                slower than{' '}
                <input type="number" min="0" class="narrow" value={slowMs} placeholder="0" onInput={(e) => setSlowMs((e.currentTarget as HTMLInputElement).value)} /> ms
              </label>
              <label class="check">
                <input type="checkbox" checked={hideRules} onChange={() => setHideRules(!hideRules)} /> hide rule evaluations
              </label>
              <SearchBox value={text} onInput={setText} placeholder="Filter by query, origin or error" />
              <button onClick={reload}>Refresh</button>
            </div>
            {rows.length === 0 && (
              <div class="muted">No queries logged. The page lists the query log's newest entries: set query_log_file under global in the configuration.</div>
            )}
            {topList.length > 0 && (
              <section>
                <h2>Top queries by total duration</h2>
                <div class="table-wrap">
                  <table class="data">
                    <thead>
                      <tr>
                        <th>Query</th>
                        <th class="num">Runs</th>
                        <th class="num">Total</th>
                        <th class="num">Average</th>
                        <th class="num">Max</th>
                        <th class="num">Failed</th>
                      </tr>
                    </thead>
                    <tbody>
                      {topList.map((t) => (
                        <tr key={t.query}>
                          <td class="mono expr">
                            <Link href={queryPageLink(t.last)}>{t.query}</Link>
                          </td>
                          <td class="num">{t.count}</td>
                          <td class="num">{humanSeconds(t.total)}</td>
                          <td class="num">{humanSeconds(t.total / t.count)}</td>
                          <td class="num">{humanSeconds(t.max)}</td>
                          <td class="num">{t.failed}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
            )}
            <section>
              <h2>
                Recent queries <span class="muted small">{visible.length} of {rows.length}</span>
              </h2>
              <div class="table-wrap">
                <table class="data querylog stack">
                  <thead>
                    <tr>
                      {th('time', 'Time')}
                      {th('query', 'Query')}
                      {th('duration', 'Duration', true)}
                      {th('samples', 'Samples', true)}
                      {th('origin', 'Origin')}
                      {th('error', 'Error')}
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {visible.slice(0, limit).map((r, i) => (
                      <tr key={i} class={r.error !== '' ? 'failed' : ''}>
                        <td class="nowrap" title={r.timeText}>
                          {new Date(r.time).toLocaleString()}
                        </td>
                        <td class="mono expr">{r.query}</td>
                        <td class="num" data-label="Duration">{humanSeconds(r.duration)}</td>
                        <td class="num" data-label="Samples">{r.samples.toLocaleString('en-US')}</td>
                        <td class="small" data-label="Origin">{r.origin}</td>
                        <td class="err-text" data-label="Error">{r.error}</td>
                        <td>
                          <Link href={queryPageLink(r.entry)} class="button">
                            Open
                          </Link>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {visible.length > limit && (
                <button class="more" onClick={() => setLimit(limit + PAGE_ROWS)}>
                  Show {Math.min(PAGE_ROWS, visible.length - limit)} more
                </button>
              )}
            </section>
          </div>
        );
      }}
    </Await>
  );
}
