// Target groups: what every service discovery mechanism produces.
//
// A group is identified by its source (unique within one discoverer); a later
// group with the same source replaces the earlier one, and a group without
// targets removes them. Targets are label sets holding at least __address__;
// discovery adds __meta_* labels for relabeling to use.
import { isValidLabelName } from '../model/labels.js';

export type LabelSet = Readonly<Record<string, string>>;

export interface TargetGroup {
  readonly source: string;
  readonly targets: readonly LabelSet[];
  readonly labels: LabelSet;
}

export const ADDRESS_LABEL = '__address__';

/** A target group document that does not have Prometheus's shape. */
class TargetGroupError extends Error {
  override name = 'TargetGroupError';
}

/**
 * Validates a decoded JSON/YAML document as a list of target groups, as Prometheus's
 * file and HTTP discovery read them: `[{targets: [string], labels: {name: value}}]`,
 * no other keys, no null items. `source(i)` names the i-th group; `extra` labels are
 * added to every group's labels.
 */
export function parseTargetGroups(doc: unknown, source: (i: number) => string, extra: LabelSet): TargetGroup[] {
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw new TargetGroupError(`expected a list of target groups, got ${typeName(doc)}`);
  const out: TargetGroup[] = [];
  doc.forEach((item: unknown, i) => {
    if (item === null || item === undefined) throw new TargetGroupError('nil target group item found');
    if (typeof item !== 'object' || Array.isArray(item)) throw new TargetGroupError(`target group ${i}: expected an object, got ${typeName(item)}`);
    const obj = item as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      if (k !== 'targets' && k !== 'labels') throw new TargetGroupError(`target group ${i}: unknown field ${JSON.stringify(k)}`);
    }
    const targets: LabelSet[] = [];
    const rawTargets = obj.targets ?? [];
    if (!Array.isArray(rawTargets)) throw new TargetGroupError(`target group ${i}: "targets" must be a list of strings`);
    for (const t of rawTargets) {
      if (typeof t !== 'string') throw new TargetGroupError(`target group ${i}: "targets" must be a list of strings, got ${typeName(t)}`);
      targets.push(Object.freeze({ [ADDRESS_LABEL]: t }));
    }
    const labels: Record<string, string> = {};
    const rawLabels = obj.labels ?? {};
    if (typeof rawLabels !== 'object' || rawLabels === null || Array.isArray(rawLabels)) {
      throw new TargetGroupError(`target group ${i}: "labels" must be a map of strings`);
    }
    for (const [name, value] of Object.entries(rawLabels as Record<string, unknown>)) {
      if (!isValidLabelName(name)) throw new TargetGroupError(`${JSON.stringify(name)} is not a valid label name`);
      if (typeof value !== 'string') throw new TargetGroupError(`target group ${i}: label ${JSON.stringify(name)} must be a string, got ${typeName(value)}`);
      labels[name] = value;
    }
    Object.assign(labels, extra);
    out.push(Object.freeze({ source: source(i), targets: Object.freeze(targets), labels: Object.freeze(labels) }));
  });
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** An empty group: tells consumers the targets of this source are gone. */
export function emptyGroup(source: string): TargetGroup {
  return Object.freeze({ source, targets: Object.freeze([]), labels: Object.freeze({}) });
}
