// /rules: rule groups with their last evaluation and duration; each rule's health, last error, last evaluation and duration.
import type { JSX } from 'preact';
import { Await, Health, Labels, useApi } from '../common.js';
import { ago, humanSeconds, parseTime } from '../format.js';
import { Link } from '../router.js';
import type { RulesData } from './rules_types.js';

function when(s: string): string {
  const t = parseTime(s);
  return t === null ? 'never' : ago(t);
}

export function RulesPage(): JSX.Element {
  const [st] = useApi<RulesData>('rules');
  return (
    <Await st={st}>
      {(data) => (
        <div>
          {data.groups.length === 0 && <div class="muted">No rules are configured (rule_files in the configuration).</div>}
          {data.groups.map((g) => (
            <section class="pool" key={`${g.file}/${g.name}`}>
              <h2>
                {g.name} <span class="muted small">{g.file}</span>
              </h2>
              <div class="muted small">
                interval {humanSeconds(g.interval)} · last evaluation {when(g.lastEvaluation)} · took {humanSeconds(g.evaluationTime)}
                {g.limit !== undefined && g.limit > 0 ? ` · limit ${g.limit}` : ''}
              </div>
              <div class="table-wrap">
                <table class="data stack">
                  <thead>
                    <tr>
                      <th>Rule</th>
                      <th class="w">Health</th>
                      <th class="w">Last evaluation</th>
                      <th class="w">Duration</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.rules.map((r, i) => (
                      <tr key={i}>
                        <td>
                          <div>
                            <span class="muted">{r.type === 'alerting' ? 'alert: ' : 'record: '}</span>
                            <strong>{r.name}</strong>
                          </div>
                          <div class="mono expr">
                            expr:{' '}
                            <Link href={`/query?${new URLSearchParams({ 'g0.expr': r.query, 'g0.tab': 'table' }).toString()}`}>{r.query}</Link>
                          </div>
                          {r.labels !== undefined && Object.keys(r.labels).length > 0 && (
                            <div>
                              labels: <Labels labels={r.labels} />
                            </div>
                          )}
                          {r.lastError !== undefined && r.lastError !== '' && <div class="err-text">error: {r.lastError}</div>}
                        </td>
                        <td data-label="Health">
                          <Health health={r.health} />
                        </td>
                        <td data-label="Last evaluation" title={r.lastEvaluation}>{when(r.lastEvaluation)}</td>
                        <td data-label="Duration">{humanSeconds(r.evaluationTime)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          ))}
        </div>
      )}
    </Await>
  );
}
