// /status (build and runtime information), /tsdb-status (head statistics and cardinality tables), /flags and /config.
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { Await, KvTable, SearchBox, matches, useApi } from '../common.js';
import { humanBytes, parseTime } from '../format.js';

function value(v: unknown): string {
  if (typeof v === 'string') {
    const t = /^\d{4}-\d\d-\d\dT/.test(v) ? parseTime(v) : null;
    return t === null ? v : new Date(t).toISOString();
  }
  return JSON.stringify(v);
}

/** "goroutineCount" → "Goroutine count"; "CWD" stays. */
function title(key: string): string {
  if (key.toUpperCase() === key) return key;
  const s = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function Section(props: { path: string; heading: string }): JSX.Element {
  const [st] = useApi<Record<string, unknown>>(props.path);
  return (
    <section>
      <h2>{props.heading}</h2>
      <Await st={st}>{(data) => <KvTable rows={Object.entries(data).map(([k, v]) => [title(k), value(v)])} />}</Await>
    </section>
  );
}

export function StatusPage(): JSX.Element {
  return (
    <div class="grid2">
      <Section path="status/buildinfo" heading="Build information" />
      <Section path="status/runtimeinfo" heading="Runtime information" />
    </div>
  );
}

interface Stat {
  name: string;
  value: number;
}
interface TsdbData {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: Stat[];
  labelValueCountByLabelName: Stat[];
  memoryInBytesByLabelName: Stat[];
  seriesCountByLabelValuePair: Stat[];
}

function StatTable(props: { heading: string; col: string; rows: Stat[]; bytes?: boolean }): JSX.Element {
  return (
    <section>
      <h2>{props.heading}</h2>
      <table class="data">
        <thead>
          <tr>
            <th>{props.col}</th>
            <th class="num">{props.bytes === true ? 'Bytes' : 'Count'}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.name}>
              <td class="mono">{r.name}</td>
              <td class="num">{props.bytes === true ? humanBytes(r.value) : r.value.toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function time(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? `${new Date(ms).toISOString()} (${ms})` : String(ms);
}

export function TsdbStatusPage(): JSX.Element {
  const [st] = useApi<TsdbData>('status/tsdb');
  return (
    <Await st={st}>
      {(d) => (
        <div>
          <section>
            <h2>Head</h2>
            <KvTable
              rows={[
                ['Number of series', d.headStats.numSeries.toLocaleString('en-US')],
                ['Number of chunks', d.headStats.chunkCount.toLocaleString('en-US')],
                ['Number of label pairs', d.headStats.numLabelPairs.toLocaleString('en-US')],
                ['Current min time', time(d.headStats.minTime)],
                ['Current max time', time(d.headStats.maxTime)],
              ]}
            />
          </section>
          <div class="grid2">
            <StatTable heading="Top series count by metric name" col="Name" rows={d.seriesCountByMetricName} />
            <StatTable heading="Top label names with value count" col="Name" rows={d.labelValueCountByLabelName} />
            <StatTable heading="Top label names with high memory usage" col="Name" rows={d.memoryInBytesByLabelName} bytes />
            <StatTable heading="Top series count by label value pairs" col="Name" rows={d.seriesCountByLabelValuePair} />
          </div>
        </div>
      )}
    </Await>
  );
}

export function FlagsPage(): JSX.Element {
  const [st] = useApi<Record<string, string>>('status/flags');
  const [text, setText] = useState('');
  return (
    <Await st={st}>
      {(flags) => (
        <div>
          <div class="toolbar">
            <SearchBox value={text} onInput={setText} placeholder="Filter by flag name or value" />
          </div>
          <table class="data">
            <thead>
              <tr>
                <th>Flag</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(flags)
                .sort(([a], [b]) => a.localeCompare(b))
                .filter(([k, v]) => matches(text, k, v))
                .map(([k, v]) => (
                  <tr key={k}>
                    <td class="mono">--{k}</td>
                    <td class="mono">{v}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}
    </Await>
  );
}

export function ConfigPage(): JSX.Element {
  const [st] = useApi<{ yaml: string }>('status/config');
  const [copied, setCopied] = useState(false);
  return (
    <Await st={st}>
      {(d) => (
        <div>
          <div class="toolbar">
            <button
              onClick={() => {
                void navigator.clipboard?.writeText(d.yaml).then(() => setCopied(true));
              }}
            >
              {copied ? 'Copied' : 'Copy to clipboard'}
            </button>
          </div>
          <pre class="config">{d.yaml}</pre>
        </div>
      )}
    </Await>
  );
}
