// /alerts: alerting rules by state (firing, pending, inactive) with counts; each rule opens to its alerts' labels, annotations, value and active-since time.
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { Await, Labels, SearchBox, matches, useApi } from '../common.js';
import { ago, formatValue, humanSeconds, parseTime } from '../format.js';
import { Link } from '../router.js';
import type { Rule, RulesData } from './rules_types.js';

/** Rule states in display order; "unknown" is a rule not evaluated yet. */
const STATES = ['firing', 'pending', 'inactive', 'unknown'] as const;

function pillClass(state: string): string {
  return state === 'firing' ? 'bad' : state === 'pending' ? 'warn' : state === 'inactive' ? 'ok' : 'unknown';
}

/** Firing and pending rules start unfolded; quiet ones folded. */
function startsOpen(state: string): boolean {
  return state === 'firing' || state === 'pending';
}

function queryLink(expr: string): string {
  return `/query?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': 'table' }).toString()}`;
}

function AlertRule(props: { rule: Rule; group: string; open: boolean; toggle: () => void }): JSX.Element {
  const r = props.rule;
  const alerts = r.alerts ?? [];
  return (
    <div class={`rule-card state-${r.state ?? 'inactive'}`}>
      <div class="rule-head clickable" onClick={props.toggle}>
        <span>{props.open ? '▾' : '▸'}</span>
        <strong>{r.name}</strong>
        <span class="muted">{props.group}</span>
        <span class={`pill ${pillClass(r.state ?? 'inactive')}`}>
          {(r.state ?? 'inactive').toUpperCase()} ({alerts.length})
        </span>
      </div>
      {props.open && (
        <div class="rule-body">
          <pre class="mono expr">
            <Link href={queryLink(r.query)}>{r.query}</Link>
          </pre>
          {r.duration !== undefined && r.duration > 0 && <div>for: {humanSeconds(r.duration)}</div>}
          {r.keepFiringFor !== undefined && r.keepFiringFor > 0 && <div>keep_firing_for: {humanSeconds(r.keepFiringFor)}</div>}
          {r.labels !== undefined && Object.keys(r.labels).length > 0 && (
            <div>
              labels: <Labels labels={r.labels} />
            </div>
          )}
          {r.annotations !== undefined && Object.keys(r.annotations).length > 0 && (
            <div>
              annotations: <Labels labels={r.annotations} />
            </div>
          )}
          {alerts.length > 0 && (
            <div class="table-wrap">
              <table class="data">
                <thead>
                  <tr>
                    <th>Labels</th>
                    <th>State</th>
                    <th>Active since</th>
                    <th>Value</th>
                    <th>Annotations</th>
                  </tr>
                </thead>
                <tbody>
                  {alerts.map((a, i) => {
                    const at = parseTime(a.activeAt);
                    return (
                      <tr key={i}>
                        <td>
                          <Labels labels={a.labels} />
                        </td>
                        <td>
                          <span class={`pill ${a.state === 'firing' ? 'bad' : 'warn'}`}>{a.state.toUpperCase()}</span>
                        </td>
                        <td title={a.activeAt}>{at === null ? '' : ago(at)}</td>
                        <td class="mono">{formatValue(a.value)}</td>
                        <td>
                          {Object.entries(a.annotations).map(([k, v]) => (
                            <div key={k}>
                              <strong>{k}</strong>: {v}
                            </div>
                          ))}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export function AlertsPage(): JSX.Element {
  const [st] = useApi<RulesData>('rules', { type: 'alert' });
  const [text, setText] = useState('');
  const [shown, setShown] = useState<Record<string, boolean>>({ firing: true, pending: true, inactive: true, unknown: true });
  const [open, setOpen] = useState<Record<string, boolean>>({});
  return (
    <Await st={st}>
      {(data) => {
        const rules = data.groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => ({ r, g: g.name, key: `${g.file}/${g.name}/${r.name}` })));
        const counts: Record<string, number> = { firing: 0, pending: 0, inactive: 0, unknown: 0 };
        for (const { r } of rules) counts[r.state ?? 'inactive'] = (counts[r.state ?? 'inactive'] ?? 0) + 1;
        const visible = rules.filter(
          ({ r }) =>
            shown[r.state ?? 'inactive'] !== false &&
            matches(text, r.name, r.query, ...Object.entries(r.labels ?? {}).map(([k, v]) => `${k}="${v}"`), ...(r.alerts ?? []).flatMap((a) => Object.values(a.labels))),
        );
        return (
          <div>
            <div class="toolbar">
              {STATES.map((s) => (
                <label key={s} class="check">
                  <input type="checkbox" checked={shown[s]} onChange={() => setShown({ ...shown, [s]: !shown[s] })} />{' '}
                  <span class={`pill ${pillClass(s)}`}>
                    {s} ({counts[s]})
                  </span>
                </label>
              ))}
              <SearchBox value={text} onInput={setText} placeholder="Filter by name, query or labels" />
            </div>
            {rules.length === 0 && <div class="muted">No alerting rules are configured.</div>}
            {STATES.map((s) =>
              visible
                .filter(({ r }) => (r.state ?? 'inactive') === s)
                .map(({ r, g, key }) => (
                  <AlertRule key={key} rule={r} group={g} open={open[key] ?? startsOpen(s)} toggle={() => setOpen({ ...open, [key]: !(open[key] ?? startsOpen(s)) })} />
                )),
            )}
          </div>
        );
      }}
    </Await>
  );
}
