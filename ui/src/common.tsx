// Pieces every page uses: loading an API path, error and loading boxes, label badges.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { apiGet, type ApiResponse } from './api.js';
import type { Metric } from './format.js';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: string } | { state: 'ok'; res: ApiResponse<T> };

/** Fetches an API path on mount (and on reload()); the last answer wins. */
export function useApi<T>(path: string, params: Record<string, string> = {}): [Loaded<T>, () => void] {
  const [st, setSt] = useState<Loaded<T>>({ state: 'loading' });
  const [n, setN] = useState(0);
  const key = JSON.stringify(params);
  useEffect(() => {
    const ac = new AbortController();
    apiGet<T>(path, JSON.parse(key) as Record<string, string>, ac.signal).then(
      (res) => setSt({ state: 'ok', res }),
      (e: unknown) => {
        if (!ac.signal.aborted) setSt({ state: 'error', error: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => ac.abort();
  }, [path, key, n]);
  return [st, useCallback(() => setN((x) => x + 1), [])];
}

export function ErrorBox(props: { error: string; title?: string }): JSX.Element {
  return (
    <div class="alert error" role="alert">
      {props.title !== undefined && <strong>{props.title}: </strong>}
      {props.error}
    </div>
  );
}

/** Renders the loading and error states, or the children with the data. */
export function Await<T>(props: { st: Loaded<T>; children: (data: T, res: ApiResponse<T>) => JSX.Element }): JSX.Element {
  if (props.st.state === 'loading') return <div class="muted">Loading…</div>;
  if (props.st.state === 'error') return <ErrorBox error={props.st.error} />;
  return props.children(props.st.res.data, props.st.res);
}

export function Labels(props: { labels: Metric; skipName?: boolean }): JSX.Element {
  return (
    <span class="labels">
      {Object.entries(props.labels)
        .filter(([k]) => !(props.skipName === true && k === '__name__'))
        .map(([k, v]) => (
          <span class="badge" key={k}>
            {k}="{v}"
          </span>
        ))}
    </span>
  );
}

export function Health(props: { health: string }): JSX.Element {
  const cls = props.health === 'up' || props.health === 'ok' ? 'ok' : props.health === 'down' || props.health === 'err' ? 'bad' : 'unknown';
  return <span class={`pill ${cls}`}>{props.health.toUpperCase()}</span>;
}

export function SearchBox(props: { value: string; onInput: (v: string) => void; placeholder: string }): JSX.Element {
  return (
    <input
      type="search"
      class="search"
      placeholder={props.placeholder}
      value={props.value}
      onInput={(e) => props.onInput((e.currentTarget as HTMLInputElement).value)}
    />
  );
}

/** A case-insensitive substring test over several texts. */
export function matches(needle: string, ...hay: string[]): boolean {
  const n = needle.trim().toLowerCase();
  return n === '' || hay.some((h) => h.toLowerCase().includes(n));
}

/** Read-only key/value table. */
export function KvTable(props: { rows: [string, JSX.Element | string][] }): JSX.Element {
  return (
    <table class="kv">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
