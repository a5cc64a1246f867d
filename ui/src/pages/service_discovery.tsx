// /service-discovery: per scrape pool, each discovered target's labels before relabelling beside the target labels after it (or "dropped").
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { Await, Labels, SearchBox, matches, useApi } from '../common.js';
import type { Metric } from '../format.js';
import { groupBy, type TargetsData } from './targets.js';

interface Row {
  pool: string;
  discovered: Metric;
  target: Metric | null;
}

export function ServiceDiscoveryPage(): JSX.Element {
  const [st] = useApi<TargetsData>('targets');
  const [text, setText] = useState('');
  const [showDropped, setShowDropped] = useState(true);
  return (
    <Await st={st}>
      {(data) => {
        const rows: Row[] = [
          ...data.activeTargets.map((t) => ({ pool: t.scrapePool, discovered: t.discoveredLabels, target: t.labels })),
          ...data.droppedTargets.map((t) => ({ pool: t.scrapePool ?? t.discoveredLabels['job'] ?? '', discovered: t.discoveredLabels, target: null })),
        ];
        const pools = groupBy(rows, (r) => r.pool);
        return (
          <div>
            <div class="toolbar">
              <label class="check">
                <input type="checkbox" checked={showDropped} onChange={() => setShowDropped(!showDropped)} /> show dropped
              </label>
              <SearchBox value={text} onInput={setText} placeholder="Filter by labels" />
            </div>
            {pools.length === 0 && <div class="muted">No discovered targets.</div>}
            {pools.map(([pool, list]) => {
              const active = list.filter((r) => r.target !== null).length;
              const visible = list.filter(
                (r) => (showDropped || r.target !== null) && matches(text, ...Object.entries(r.discovered).map(([k, v]) => `${k}="${v}"`)),
              );
              return (
                <section class="pool" key={pool}>
                  <h2>
                    {pool} <span class="pill unknown">{active} active / {list.length} discovered</span>
                  </h2>
                  <div class="table-wrap">
                    <table class="data">
                      <thead>
                        <tr>
                          <th>Discovered labels</th>
                          <th>Target labels</th>
                        </tr>
                      </thead>
                      <tbody>
                        {visible.map((r, i) => (
                          <tr key={i}>
                            <td>
                              <Labels labels={r.discovered} />
                            </td>
                            <td>{r.target === null ? <span class="pill unknown">dropped</span> : <Labels labels={r.target} />}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                </section>
              );
            })}
          </div>
        );
      }}
    </Await>
  );
}
