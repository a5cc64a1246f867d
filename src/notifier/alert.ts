// Alerts as the notifier sends them: the value handed in by the rule engine (through
// cli/), alert relabeling, and the Alertmanager v2 request body.
import type { RelabelConfig } from '../config/types.js';
import type { Labels } from '../model/labels.js';
import { LabelMap, processBuilder } from '../relabel/relabel.js';

/** One alert notification. Times are Unix milliseconds; 0 means unset (Go's zero time). */
export interface NotifierAlert {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly generatorURL: string;
}

/**
 * Adds the external labels an alert does not have itself, then applies the relabel rules.
 * Alerts a rule drops are left out; alerts relabeling changed are new values (the input is
 * never touched), the others are passed through as they are.
 */
export function relabelAlerts(configs: readonly RelabelConfig[], externalLabels: Labels, alerts: readonly NotifierAlert[]): NotifierAlert[] {
  if (configs.length === 0 && externalLabels.isEmpty()) return alerts.slice();
  const out: NotifierAlert[] = [];
  for (const a of alerts) {
    const lb = new LabelMap(a.labels);
    externalLabels.forEach((name, value) => {
      if (a.labels.get(name) === '') lb.set(name, value);
    });
    if (!processBuilder(lb, configs)) continue;
    const labels = lb.labels();
    out.push(labels.equals(a.labels) ? a : Object.freeze({ ...a, labels }));
  }
  return out;
}

/** What Go's zero time.Time encodes to: Alertmanager reads it as "not set". */
const ZERO_TIME = '0001-01-01T00:00:00.000Z';

/**
 * The JSON body of POST /api/v2/alerts (PostableAlerts), byte for byte as Prometheus
 * writes it: keys in the order Alertmanager's generated models emit them, label maps in
 * name order, empty annotations and generatorURL left out, times as RFC 3339 with
 * milliseconds, and strings escaped as Go's encoding/json escapes them.
 */
export function encodeAlerts(alerts: readonly NotifierAlert[]): Buffer {
  const parts: string[] = [];
  for (const a of alerts) {
    let s = '{';
    if (!a.annotations.isEmpty()) s += `"annotations":${labelSetJSON(a.annotations)},`;
    s += `"endsAt":"${timeJSON(a.endsAt)}","startsAt":"${timeJSON(a.startsAt)}",`;
    if (a.generatorURL !== '') s += `"generatorURL":${goString(a.generatorURL)},`;
    s += `"labels":${labelSetJSON(a.labels)}}`;
    parts.push(s);
  }
  return Buffer.from(`[${parts.join(',')}]`, 'utf8');
}

function timeJSON(ms: number): string {
  return ms === 0 ? ZERO_TIME : new Date(ms).toISOString();
}

/** Built by hand: a JS object would move integer-like names ("10") to the front. */
function labelSetJSON(ls: Labels): string {
  const parts: string[] = [];
  ls.forEach((name, value) => parts.push(`${goString(name)}:${goString(value)}`));
  return `{${parts.join(',')}}`;
}

/** Go's encoding/json also escapes <, >, & and the JavaScript line separators. */
const GO_EXTRA_ESCAPES = /[<>&\u2028\u2029]/g;

function goString(s: string): string {
  return JSON.stringify(s).replace(GO_EXTRA_ESCAPES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
