// /api/v1/rules, /api/v1/alerts and /api/v1/alertmanagers, with Prometheus's JSON shapes, filters and pagination.
import { createHash } from 'node:crypto';
import { formatE } from '../../gofmt/float.js';
import { formatGoTimeJSON } from '../../gofmt/time.js';
import { goQuote } from '../../gofmt/quote.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { Alert } from '../../rules/alert.js';
import type { AlertingRule } from '../../rules/alerting_rule.js';
import type { Group } from '../../rules/group.js';
import type { Rule } from '../../rules/rule.js';
import type { PromQLParser } from './deps.js';
import { ParamError, invalidParam, parseMatcherSets } from './params.js';
import type { ApiContext, ApiResult, ApiRoute } from './types.js';

/** What the endpoints read from the rule manager. */
export interface RulesSource {
  ruleGroups(): readonly Group[];
  alertingRules(): readonly AlertingRule[];
}

/** What /api/v1/alertmanagers reads from the notifier. */
export interface AlertmanagersSource {
  activeAlertmanagers(): readonly string[];
  droppedAlertmanagers(): readonly string[];
}

interface AlertJSON {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

function alertJSON(a: Alert): AlertJSON {
  const out: AlertJSON = {
    labels: a.labels.toObject(),
    annotations: a.annotations.toObject(),
    state: a.state,
    activeAt: formatGoTimeJSON(a.activeAt),
    value: formatE(a.value),
  };
  if (a.keepFiringSince !== 0) out.keepFiringSince = formatGoTimeJSON(a.keepFiringSince);
  return out;
}

function isAlerting(r: Rule): r is AlertingRule {
  return r.kind === 'alerting';
}

function matchesAny(sets: readonly Matcher[][], labels: Labels): boolean {
  if (sets.length === 0) return true;
  return sets.some((set) => set.every((m) => m.matches(labels.get(m.name))));
}

/** Prometheus's group_next_token: sha256 of "file;group", hex. */
function nextToken(file: string, name: string): string {
  return createHash('sha256').update(`${file};${name}`).digest('hex');
}

function paginationParams(params: URLSearchParams): { limit: number; token: string } {
  const limitText = params.get('group_limit') ?? '';
  const token = params.get('group_next_token') ?? '';
  if (token !== '' && limitText === '') {
    throw invalidParam('group_next_token', new ParamError('group_limit needs to be present in order to paginate over the groups'));
  }
  if (limitText === '') return { limit: -1, token: '' };
  if (!/^[+-]?\d+$/.test(limitText) || Math.abs(Number(limitText)) > 2 ** 31 - 1) {
    const why = /^[+-]?\d+$/.test(limitText) ? 'value out of range' : 'invalid syntax';
    throw invalidParam('group_limit', new ParamError(`group_limit needs to be a valid number: strconv.ParseInt: parsing ${goQuote(limitText)}: ${why}`));
  }
  const limit = Number(limitText);
  if (limit <= 0) throw invalidParam('group_limit', new ParamError('group_limit needs to be greater than 0'));
  return { limit, token };
}

/** strconv.ParseBool of the lower-cased value, as Prometheus reads exclude_alerts. */
function parseExcludeAlerts(raw: string): boolean {
  const v = raw.toLowerCase();
  if (v === '' || v === '0' || v === 'f' || v === 'false') return false;
  if (v === '1' || v === 't' || v === 'true') return true;
  throw invalidParam('exclude_alerts', new ParamError(`error converting exclude_alerts: strconv.ParseBool: parsing ${goQuote(v)}: invalid syntax`));
}

class RulesApi {
  constructor(
    private readonly rules: () => RulesSource | null,
    private readonly parser: PromQLParser,
  ) {}

  list(ctx: ApiContext): ApiResult {
    const p = ctx.params;
    const names = new Set(p.getAll('rule_name[]'));
    const groupNames = new Set(p.getAll('rule_group[]'));
    const files = new Set(p.getAll('file[]'));
    const matcherSets = parseMatcherSets(this.parser, p.getAll('match[]'), false);
    const type = (ctx.url.searchParams.get('type') ?? '').toLowerCase();
    if (type !== '' && type !== 'alert' && type !== 'record') throw invalidParam('type', new ParamError(`not supported value ${JSON.stringify(type)}`));
    const wantAlerting = type === '' || type === 'alert';
    const wantRecording = type === '' || type === 'record';
    const excludeAlerts = parseExcludeAlerts(ctx.url.searchParams.get('exclude_alerts') ?? '');
    const { limit, token } = paginationParams(ctx.url.searchParams);

    const groups: unknown[] = [];
    let groupNextToken: string | undefined;
    let foundToken = false;
    for (const g of this.rules()?.ruleGroups() ?? []) {
      if (limit > 0 && token !== '' && !foundToken) {
        if (nextToken(g.file, g.name) !== token) continue;
        foundToken = true;
      }
      if (groupNames.size > 0 && !groupNames.has(g.name)) continue;
      if (files.size > 0 && !files.has(g.file)) continue;
      const rules: unknown[] = [];
      for (const r of g.rules) {
        if (!matchesAny(matcherSets, r.labels)) continue;
        if (names.size > 0 && !names.has(r.name())) continue;
        const lastError = r.lastError();
        if (isAlerting(r)) {
          if (!wantAlerting) continue;
          rules.push({
            state: r.state(),
            name: r.name(),
            query: r.query(),
            duration: r.holdDurationMs / 1000,
            keepFiringFor: r.keepFiringForMs / 1000,
            labels: r.labels.toObject(),
            annotations: r.annotations.toObject(),
            alerts: excludeAlerts ? null : r.activeAlerts().map(alertJSON),
            health: r.health(),
            ...(lastError !== '' ? { lastError } : {}),
            evaluationTime: r.evaluationDurationMs() / 1000,
            lastEvaluation: formatGoTimeJSON(r.evaluationTimestamp()),
            type: 'alerting',
          });
        } else {
          if (!wantRecording) continue;
          rules.push({
            name: r.name(),
            query: r.query(),
            labels: r.labels.toObject(),
            health: r.health(),
            ...(lastError !== '' ? { lastError } : {}),
            evaluationTime: r.evaluationDurationMs() / 1000,
            lastEvaluation: formatGoTimeJSON(r.evaluationTimestamp()),
            type: 'recording',
          });
        }
      }
      // A group whose rules were all filtered out is left out.
      if (rules.length === 0) continue;
      if (limit > 0 && groups.length === limit) {
        groupNextToken = nextToken(g.file, g.name);
        break;
      }
      groups.push({
        name: g.name,
        file: g.file,
        rules,
        interval: g.intervalMs / 1000,
        limit: g.limit,
        evaluationTime: g.evaluationDurationMs() / 1000,
        lastEvaluation: formatGoTimeJSON(g.lastEvaluation()),
      });
    }
    if (limit > 0 && token !== '' && !foundToken) {
      throw invalidParam('group_next_token', new ParamError(`invalid group_next_token '${token}'. were rule groups changed?`));
    }
    return { data: groupNextToken === undefined ? { groups } : { groups, groupNextToken } };
  }

  alerts(): ApiResult {
    const alerts: AlertJSON[] = [];
    for (const r of this.rules()?.alertingRules() ?? []) for (const a of r.activeAlerts()) alerts.push(alertJSON(a));
    return { data: { alerts } };
  }
}

/** Routes for rules and alerts; `rules` is null until the rule manager exists (answers then list nothing). */
export function rulesRoutes(rules: () => RulesSource | null, parser: PromQLParser): ApiRoute[] {
  const api = new RulesApi(rules, parser);
  return [
    { method: 'GET', path: '/rules', handler: (ctx) => api.list(ctx) },
    { method: 'GET', path: '/alerts', handler: () => api.alerts() },
  ];
}

export function alertmanagersRoute(source: () => AlertmanagersSource | null): ApiRoute {
  return {
    method: 'GET',
    path: '/alertmanagers',
    handler: () => {
      const s = source();
      return {
        data: {
          activeAlertmanagers: (s?.activeAlertmanagers() ?? []).map((url) => ({ url })),
          droppedAlertmanagers: (s?.droppedAlertmanagers() ?? []).map((url) => ({ url })),
        },
      };
    },
  };
}
