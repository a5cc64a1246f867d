// Debian's promtool (2.42) as the oracle of our template expansion: a unit-test
// file whose expected annotations are what our templates expand to must pass
// `promtool test rules`, where Prometheus's own templates expand them.
// The templates avoid what 2.42 and 3.x do differently (the alert data's Value
// type, negative parseDuration, functions added since, pathPrefix, which panics
// in promtool 2.42 for want of an external URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../src/model/labels.js';
import { compileAlertTemplate, TemplateError, type QueryResultSample } from '../src/template/template.js';

const PROMTOOL = '/usr/bin/promtool';

const ANNOTATIONS: Record<string, string> = {
  humanize: '{{ $value | humanize }}',
  printf: '{{ printf "%.2f" $value }}',
  // Sorted: the order of an unsorted query result differs between runs of promtool (its series load order does).
  range_query: '{{ range query "up" | sortByLabel "job" }}{{ .Labels.job }}={{ .Value }};{{ end }}',
  with_first: '{{ with query "up" | sortByLabel "instance" }}{{ . | first | label "instance" }}{{ end }}',
  vars: '{{ $labels.job | toUpper }} {{ $labels.instance | stripPort }} {{ $externalLabels.region }} {{ $externalURL }} [{{ $labels.nope }}]',
  humanize_more: '{{ humanize1024 1048576 }} {{ humanizeDuration 90061 }} {{ humanizePercentage 0.1234 }} {{ humanizeTimestamp 1700000000 }} {{ humanize 0.000123 }} {{ humanize 1234.5 }}',
  control: '{{ if gt $value 0.5 }}high{{ else }}low{{ end }} {{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}',
  regex: '{{ reReplaceAll `h(\\d*):(\\d+)` "host$1 port $2" $labels.instance }} {{ match "^h" $labels.instance }} {{ title "foo bar-baz" }} {{ reReplaceAll "a*" "-" "baaac" }}',
  error_humanize: '{{ humanize "a" }}',
  printf_verbs: '{{ printf "%d|%s|%v|%q|%x|%e|%g|%5.1f|%-4s|%t|%08.3f|%+d" 42 "s" 1.5 "q" 255 1234.5 0.000012 3.14159 "ab" true 3.14159 5 }}{{ printf "%d %s" "foo" }}',
  dot: '{{ .Labels }} {{ .ExternalLabels }} {{ .ExternalURL }} {{ .Value }}',
  error_first: '{{ first (query "nothing") }}',
  links: '{{ graphLink "rate(x[5m])" }} {{ tableLink "up" }} {{ "a.b.c:80" | stripDomain }} {{ "[::1]:9090" | stripPort }}',
  loops: '{{- /* comment */ -}}  {{ $x := 0 }}{{ range $i, $e := query "up" }}{{ if eq $i 0 }}{{ continue }}{{ end }}{{ $x = $i }}{{ break }}{{ end }}{{ $x }}',
  values: '{{ toTime 1.5 }} {{ 1e6 }} {{ 0.1 }} {{ 100000 }} {{ index $labels "job" }} {{ len $labels }} {{ print 1 2 "a" }} {{ html "<a&b>" }} {{ js "x\'y" }} {{ urlquery "a b" }}',
  define: '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" $labels.job }}{{ block "b" $value }}<{{ . }}>{{ end }}',
  error_type: '{{ toUpper $value }}',
  error_field: '{{ $labels.job.foo }}',
  compare: '{{ eq $labels.job "p" "n" }} {{ lt 1 2 }} {{ ne "a" "b" }} {{ and 1 0 }} {{ or 0 "x" }} {{ not "" }}',
};

const UP: QueryResultSample[] = [
  { labels: Labels.fromPairs('__name__', 'up', 'instance', 'h:9090', 'job', 'p'), value: 1 },
  { labels: Labels.fromPairs('__name__', 'up', 'instance', 'h2:9100', 'job', 'n'), value: 0 },
];

const EXTERNAL_URL = 'http://example.com/prom';
const EVAL_MS = 60_000;

/** The rules and, for each, the alert it fires at 1m: its labels as the template sees them and its value. */
const RULES = [
  { alert: 'A', expr: 'up > 0', labels: UP[0]!.labels, value: 1 },
  { alert: 'B', expr: 'up{job="n"} + 1234.5', labels: Labels.fromPairs('instance', 'h2:9100', 'job', 'n'), value: 1234.5 },
];

async function ourAnnotations(alert: string, labels: Labels, value: number): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(ANNOTATIONS)) {
    const t = compileAlertTemplate(text, `__alert_${alert}`);
    try {
      out[name] = await t.expand(
        { labels, externalLabels: Labels.fromPairs('region', 'eu'), externalUrl: EXTERNAL_URL, value },
        {
          timestampMs: EVAL_MS,
          externalUrl: EXTERNAL_URL,
          queryFunc: async (q) => {
            if (q === 'up') return UP;
            if (q === 'nothing') return [];
            throw new Error(`unexpected query ${q}`);
          },
        },
      );
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      out[name] = `<error expanding template: ${e.message}>`;
    }
  }
  return out;
}

function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', rej);
    p.on('close', (code) => res({ code, out }));
  });
}

test(
  "promtool test rules agrees with our expansion of alert templates",
  { skip: existsSync(PROMTOOL) ? false : `Debian's promtool is not installed at ${PROMTOOL}: apt-get install prometheus` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-template-'));
    try {
      // JSON is YAML: no quoting questions for the templates.
      const rules = { groups: [{ name: 'g', rules: RULES.map((r) => ({ alert: r.alert, expr: r.expr, annotations: ANNOTATIONS })) }] };
      writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules, null, 1));
      const alertTests = [];
      for (const r of RULES) {
        const labels: Record<string, string> = {};
        r.labels.forEach((n, v) => {
          if (n !== '__name__') labels[n] = v;
        });
        alertTests.push({ eval_time: '1m', alertname: r.alert, exp_alerts: [{ exp_labels: labels, exp_annotations: await ourAnnotations(r.alert, r.labels, r.value) }] });
      }
      const unit = {
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            external_labels: { region: 'eu' },
            external_url: EXTERNAL_URL,
            input_series: [
              { series: 'up{job="p",instance="h:9090"}', values: '1x5' },
              { series: 'up{job="n",instance="h2:9100"}', values: '0x5' },
            ],
            alert_rule_test: alertTests,
          },
        ],
      };
      writeFileSync(join(dir, 'test.yml'), JSON.stringify(unit, null, 1));
      const r = await run(PROMTOOL, ['test', 'rules', 'test.yml'], dir);
      assert.equal(r.code, 0, `promtool disagrees with our expansions:\n${r.out}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
