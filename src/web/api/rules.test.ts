import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../../model/labels.js';
import { Engine } from '../../promql/engine/engine.js';
import { parseExpr, parseMetricSelector } from '../../promql/parser/parser.js';
import { prettify } from '../../promql/parser/printer.js';
import { MemoryStorage } from '../../storage/memory.js';
import { RuleManager } from '../../rules/manager.js';
import type { Group } from '../../rules/group.js';
import { alertmanagersRoute, rulesRoutes } from './rules.js';
import { ApiError, type ApiContext, type ApiRoute } from './types.js';

const RULES_A = `
groups:
  - name: a1
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: db}
      - alert: Down
        expr: up == 0
        for: 1m
        keep_firing_for: 2m
        labels: {severity: page}
        annotations: {summary: '{{ $labels.instance }} down'}
  - name: a2
    rules:
      - record: up:count
        expr: count(up)
`;
const RULES_B = `
groups:
  - name: b1
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {team: web}
`;

const parser = { parseExpr: (q: string) => parseExpr(q), parseMetricSelector, prettify: (e: Parameters<typeof prettify>[0]) => prettify(e) };

function ctx(query: string): ApiContext {
  const url = new URL(`http://localhost/api/v1/rules?${query}`);
  return {
    method: 'GET',
    url,
    params: url.searchParams,
    pathParams: {},
    clientIP: '127.0.0.1',
    path: url.pathname,
    signal: new AbortController().signal,
    body: Buffer.alloc(0),
    headers: {},
  };
}

async function call(routes: ApiRoute[], path: string, query = ''): Promise<any> {
  const r = routes.find((x) => x.path === path);
  assert.ok(r, path);
  return (await r.handler(ctx(query))).data;
}

async function callError(routes: ApiRoute[], path: string, query: string): Promise<ApiError> {
  try {
    await call(routes, path, query);
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return e;
  }
  assert.fail(`expected an error for ${query}`);
}

describe('/api/v1/rules and /api/v1/alerts', () => {
  let dir: string;
  let groups: Group[];
  let routes: ApiRoute[];
  const fileA = () => join(dir, 'a.yml');
  const fileB = () => join(dir, 'b.yml');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsprom-rules-api-'));
    writeFileSync(fileA(), RULES_A);
    writeFileSync(fileB(), RULES_B);
    const db = new MemoryStorage();
    const app = db.appender();
    app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'node', 'instance', 'h:1'), 0, 0);
    app.append(0, Labels.fromPairs('__name__', 'up', 'job', 'node', 'instance', 'h:2'), 0, 1);
    app.commit();
    const m = new RuleManager({ appendable: db, queryable: db, engine: new Engine(), notify: () => {}, externalUrl: 'http://x' });
    const loaded = m.loadGroups(60_000, Labels.EMPTY, [fileA(), fileB()]);
    assert.deepEqual(loaded.errors, []);
    groups = loaded.groups;
    for (const g of groups) await g.eval(10_000);
    routes = rulesRoutes(() => ({ ruleGroups: () => groups, alertingRules: () => groups.flatMap((g) => g.alertingRules()) }), parser);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test('groups and rules in Prometheus JSON', async () => {
    const data = await call(routes, '/rules');
    assert.deepEqual(
      data.groups.map((g: any) => [g.name, g.file, g.interval, g.limit, g.rules.length]),
      [
        ['a1', fileA(), 30, 0, 2],
        ['a2', fileA(), 60, 0, 1],
        ['b1', fileB(), 60, 0, 1],
      ],
    );
    const [rec, alert] = data.groups[0].rules;
    assert.deepEqual(Object.keys(rec), ['name', 'query', 'labels', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    assert.deepEqual([rec.name, rec.query, rec.labels, rec.health, rec.type], ['job:up:sum', 'sum by (job) (up)', { team: 'db' }, 'ok', 'recording']);
    assert.deepEqual(Object.keys(alert), ['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    assert.equal(alert.state, 'pending');
    assert.equal(alert.duration, 60);
    assert.equal(alert.keepFiringFor, 120);
    assert.deepEqual(alert.alerts, [
      {
        labels: { alertname: 'Down', instance: 'h:1', job: 'node', severity: 'page' },
        annotations: { summary: 'h:1 down' },
        state: 'pending',
        activeAt: '1970-01-01T00:00:10Z',
        value: '0e+00',
      },
    ]);
    assert.match(data.groups[0].lastEvaluation, /^\d{4}-\d\d-\d\dT/);
    assert.equal(data.groupNextToken, undefined);
  });

  test('filters: type, rule_name[], rule_group[], file[], match[], exclude_alerts', async () => {
    const names = (d: any) => d.groups.flatMap((g: any) => g.rules.map((r: any) => r.name));
    assert.deepEqual(names(await call(routes, '/rules', 'type=alert')), ['Down', 'AlwaysFiring']);
    assert.deepEqual(names(await call(routes, '/rules', 'type=RECORD')), ['job:up:sum', 'up:count']);
    assert.deepEqual(names(await call(routes, '/rules', 'rule_name[]=up:count&rule_name[]=AlwaysFiring')), ['up:count', 'AlwaysFiring']);
    assert.deepEqual(names(await call(routes, '/rules', 'rule_group[]=a2')), ['up:count']);
    assert.deepEqual(names(await call(routes, '/rules', `file[]=${encodeURIComponent(fileB())}`)), ['AlwaysFiring']);
    assert.deepEqual(names(await call(routes, '/rules', `match[]=${encodeURIComponent('{team="web"}')}&match[]=${encodeURIComponent('{severity="page"}')}`)), ['Down', 'AlwaysFiring']);
    const excluded = await call(routes, '/rules', 'exclude_alerts=true&type=alert');
    assert.equal(excluded.groups[0].rules[0].alerts, null);
    const e = await callError(routes, '/rules', 'type=x');
    assert.equal(e.errorType, 'bad_data');
    assert.equal(e.message, 'invalid parameter "type": not supported value "x"');
    assert.equal((await callError(routes, '/rules', 'exclude_alerts=maybe')).message, 'invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing "maybe": invalid syntax');
  });

  test('pagination with group_limit and group_next_token', async () => {
    const page1 = await call(routes, '/rules', 'group_limit=2');
    assert.deepEqual(page1.groups.map((g: any) => g.name), ['a1', 'a2']);
    assert.match(page1.groupNextToken, /^[0-9a-f]{64}$/);
    const page2 = await call(routes, '/rules', `group_limit=2&group_next_token=${page1.groupNextToken}`);
    assert.deepEqual(page2.groups.map((g: any) => g.name), ['b1']);
    assert.equal(page2.groupNextToken, undefined);
    assert.equal((await callError(routes, '/rules', 'group_next_token=abc')).message, 'invalid parameter "group_next_token": group_limit needs to be present in order to paginate over the groups');
    assert.equal((await callError(routes, '/rules', 'group_limit=0')).message, 'invalid parameter "group_limit": group_limit needs to be greater than 0');
    assert.match((await callError(routes, '/rules', 'group_limit=x')).message, /group_limit needs to be a valid number: strconv.ParseInt: parsing "x": invalid syntax/);
    assert.equal((await callError(routes, '/rules', 'group_limit=1&group_next_token=abc')).message, "invalid parameter \"group_next_token\": invalid group_next_token 'abc'. were rule groups changed?");
  });

  test('/alerts lists pending and firing alerts of every rule', async () => {
    const data = await call(routes, '/alerts');
    assert.deepEqual(
      data.alerts.map((a: any) => [a.labels.alertname, a.state]),
      [
        ['Down', 'pending'],
        ['AlwaysFiring', 'firing'],
      ],
    );
  });

  test('no rule manager yet: empty lists', async () => {
    const none = rulesRoutes(() => null, parser);
    assert.deepEqual(await call(none, '/rules'), { groups: [] });
    assert.deepEqual(await call(none, '/alerts'), { alerts: [] });
  });

  test('/alertmanagers lists active and dropped URLs', async () => {
    const r = alertmanagersRoute(() => ({ activeAlertmanagers: () => ['http://a:9093/api/v2/alerts'], droppedAlertmanagers: () => ['http://b:9093/api/v2/alerts'] }));
    assert.deepEqual(await call([r], '/alertmanagers'), {
      activeAlertmanagers: [{ url: 'http://a:9093/api/v2/alerts' }],
      droppedAlertmanagers: [{ url: 'http://b:9093/api/v2/alerts' }],
    });
  });
});
