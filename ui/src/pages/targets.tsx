// /targets: active targets per scrape pool with health, labels, last scrape, duration and error; filter by health and text.
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { Await, Health, Labels, SearchBox, matches, useApi } from '../common.js';
import { ago, humanSeconds, parseTime, type Metric } from '../format.js';

export interface Target {
  discoveredLabels: Metric;
  labels: Metric;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval: string;
  scrapeTimeout: string;
}
export interface DroppedTarget {
  discoveredLabels: Metric;
  scrapePool?: string;
}
export interface TargetsData {
  activeTargets: Target[];
  droppedTargets: DroppedTarget[];
}

/** Groups items by a key, keeping the keys sorted. */
export function groupBy<T>(items: T[], key: (t: T) => string): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list === undefined) m.set(k, [it]);
    else list.push(it);
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const HEALTHS = ['up', 'down', 'unknown'] as const;

export function TargetsPage(): JSX.Element {
  const [st] = useApi<TargetsData>('targets', { state: 'active' });
  const [text, setText] = useState('');
  const [shown, setShown] = useState<Record<string, boolean>>({ up: true, down: true, unknown: true });
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  return (
    <Await st={st}>
      {(data) => {
        const pools = groupBy(data.activeTargets, (t) => t.scrapePool);
        return (
          <div>
            <div class="toolbar">
              {HEALTHS.map((h) => (
                <label key={h} class="check">
                  <input type="checkbox" checked={shown[h]} onChange={() => setShown({ ...shown, [h]: !shown[h] })} /> {h}
                </label>
              ))}
              <SearchBox value={text} onInput={setText} placeholder="Filter by endpoint or labels" />
            </div>
            {pools.length === 0 && <div class="muted">No targets. Add a scrape_configs entry to the configuration.</div>}
            {pools.map(([pool, targets]) => {
              const up = targets.filter((t) => t.health === 'up').length;
              const visible = targets.filter(
                (t) =>
                  shown[t.health] !== false &&
                  matches(text, t.scrapeUrl, ...Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`)),
              );
              if (visible.length === 0 && (text !== '' || Object.values(shown).some((v) => !v))) return null;
              return (
                <section class="pool" key={pool}>
                  <h2 class="clickable" onClick={() => setCollapsed({ ...collapsed, [pool]: !collapsed[pool] })}>
                    {collapsed[pool] === true ? '▸' : '▾'} {pool}{' '}
                    <span class={`pill ${up === targets.length ? 'ok' : 'bad'}`}>
                      {up} / {targets.length} up
                    </span>
                  </h2>
                  {collapsed[pool] !== true && (
                    <div class="table-wrap">
                      <table class="data targets stack">
                        <thead>
                          <tr>
                            <th class="w-l">Endpoint</th>
                            <th class="w-s">State</th>
                            <th class="w-l">Labels</th>
                            <th class="w">Last scrape</th>
                            <th class="w">Duration</th>
                            <th>Error</th>
                          </tr>
                        </thead>
                        <tbody>
                          {visible.map((t) => {
                            const last = parseTime(t.lastScrape);
                            return (
                              <tr key={t.scrapeUrl + JSON.stringify(t.labels)}>
                                <td class="mono" data-label="Endpoint">
                                  <a href={t.globalUrl} target="_blank" rel="noreferrer">
                                    {t.scrapeUrl}
                                  </a>
                                </td>
                                <td data-label="State">
                                  <Health health={t.health} />
                                </td>
                                <td data-label="Labels">
                                  <Labels labels={t.labels} />
                                </td>
                                <td data-label="Last scrape" title={t.lastScrape}>{last === null ? 'never' : ago(last)}</td>
                                <td data-label="Duration">{humanSeconds(t.lastScrapeDuration)}</td>
                                <td class="err-text" data-label="Error">{t.lastError}</td>
                              </tr>
                            );
                          })}
                        </tbody>
                      </table>
                    </div>
                  )}
                </section>
              );
            })}
          </div>
        );
      }}
    </Await>
  );
}
