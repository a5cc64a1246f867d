// The web UI in a real browser: playwright-core drives Debian's chromium
// against our server (under a route prefix, scraping itself and a dead
// target, evaluating a recording and an alerting rule). Every route must
// render its content, the editor must complete metric names, Enter must fill
// the table, the Graph tab must draw, the query log must list the query, and
// the console must stay free of errors. Screenshots of every page go to an
// artifacts directory (printed) for a person to look at.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';
import { CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt } from './ui_chromium.js';

const RULES = `
groups:
  - name: ui
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: TargetDown
        expr: up == 0
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} of {{ $labels.job }} is down"}
`;

/** What the test reads of a canvas inside the page (this file compiles without DOM types). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

const PREFIX = '/prom';
/** The metric the completion test types a prefix of; tsprom exports it about itself. */
const METRIC = 'prometheus_http_requests_total';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;

test('web UI in chromium: every route, editor completion, table, graph, query log, no console errors', { skip, timeout: 180_000 }, async (t: TestContext) => {
  ensureUiBuilt();
  const artifacts = process.env['TSPROM_UI_ARTIFACTS'] ?? mkdtempSync(join(tmpdir(), 'tsprom-ui-artifacts-'));
  mkdirSync(artifacts, { recursive: true });
  t.diagnostic(`screenshots in ${artifacts}`);

  const dir = mkdtempSync(join(tmpdir(), 'tsprom-ui-'));
  writeFileSync(join(dir, 'ui.rules.yml'), RULES);
  const port = await freePort();
  let s: Tsprom | null = null;
  let browser: Browser | null = null;
  try {
    s = await startTsprom({
      config: `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
  query_log_file: ${join(dir, 'query.log')}
rule_files: ['${join(dir, 'ui.rules.yml')}']
scrape_configs:
  - job_name: tsprom
    metrics_path: ${PREFIX}/metrics
    static_configs: [{targets: ['127.0.0.1:${port}']}]
  - job_name: dead
    static_configs: [{targets: ['127.0.0.1:1']}]
`,
      args: [`--web.listen-address=127.0.0.1:${port}`, `--web.external-url=http://127.0.0.1:${port}${PREFIX}/`],
    });
    const base = `http://127.0.0.1:${port}${PREFIX}`;
    // Data to show: both targets scraped, the recording rule evaluated, the alert firing.
    await until(async () => {
      const r = await api(`${base}/api/v1/query?query=job:up:sum`);
      return ((r.body['data'] as { result: unknown[] }).result.length === 2 ? true : null);
    }, 'recording rule result');
    await until(async () => {
      const r = await api(`${base}/api/v1/alerts`);
      return (r.body['data'] as { alerts: { state: string }[] }).alerts.some((a) => a.state === 'firing') ? true : null;
    }, 'firing alert');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    const errors: string[] = [];
    const watch = (p: Page): Page => {
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (e) => errors.push(`${p.url()}: ${e.message}`));
      return p;
    };
    const ctx: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    const page = watch(await ctx.newPage());
    const shot = (name: string, p: Page = page): Promise<Buffer> => p.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

    // The bare prefix and the old /graph link land on the query page with the query.
    await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, `${PREFIX}/query`);
    await page.goto(`${base}/graph?g0.expr=${encodeURIComponent('job:up:sum')}&g0.tab=0&g0.range_input=5m`);
    await page.locator('.cm-content').first().waitFor();
    assert.equal(await page.locator('.cm-content').first().innerText(), 'job:up:sum');
    assert.equal(await page.locator('.tab.active').first().innerText(), 'Graph');
    await page.locator('.chart-box canvas').first().waitFor();

    // Editor: a metric-name prefix offers the full name; Enter picks it, Enter again runs.
    await page.goto(`${base}/query`);
    const editor = page.locator('.cm-content').first();
    await editor.click();
    await page.keyboard.type(METRIC.slice(0, 20));
    const option = page.locator('.cm-tooltip-autocomplete li', { hasText: METRIC }).first();
    await option.waitFor({ timeout: 15_000 });
    await shot('query-completion');
    await page.keyboard.press('Escape');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('up');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    const row = page.locator('table.result td.series', { hasText: `up{instance="127.0.0.1:${port}", job="tsprom"}` });
    await row.waitFor();
    assert.equal(await page.locator('table.result td.series', { hasText: 'job="dead"' }).count(), 1);
    assert.match(await page.locator('.stats').first().innerText(), /Result series: 2/);
    assert.match(new URL(page.url()).search, /g0\.expr=up&g0\.tab=table/);
    await shot('query-table');

    // Graph tab over the last 10 s: a uPlot canvas with coloured pixels (the series; axes and grid are
    // grey) and a legend naming both series. Both series first hold 5 s of scrapes, so each line spans
    // half the plot however fast the steps above ran (over a minute, a fast machine drew only stubs).
    // Polled slowly: each poll is a query-log entry, and the log check below reads the latest 200.
    await until(async () => {
      const r = await api(`${base}/api/v1/query?query=${encodeURIComponent('count_over_time(up[10s]) >= 5')}`);
      return ((r.body['data'] as { result: unknown[] }).result.length === 2 ? true : null);
    }, 'five seconds of scrapes of both targets', 30_000, 500);
    await page.locator('.tab', { hasText: 'Graph' }).first().click();
    await page.getByLabel('Range').fill('10s');
    const canvas = page.locator('.chart-box canvas').first();
    await canvas.waitFor();
    await page.waitForFunction(() => performance.getEntriesByName('tsprom:graph-drawn').length > 0, undefined, { polling: 50 });
    const inked = await canvas.evaluate((c: CanvasLike) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 60) n++;
      return n;
    });
    t.diagnostic(`graph canvas: ${inked} coloured pixels`);
    assert.ok(inked > 200, `graph canvas has only ${inked} coloured pixels`);
    assert.equal(await page.locator('.u-legend .u-series').count(), 3, 'legend: x and two series');
    assert.match(new URL(page.url()).search, /g0\.tab=graph/);
    // Hovering shows each series' value in the legend; the filter box hides series that do not match.
    const box = (await canvas.boundingBox())!;
    // Just inside the plot's right edge, where both series have data (uPlot pads the canvas on the right).
    await page.mouse.move(box.x + box.width - 40, box.y + box.height / 2, { steps: 4 });
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } }).document;
      const v = d.querySelectorAll('.u-legend .u-series .u-value');
      return v.length === 3 && /^[01]$/.test(v[1]!.textContent ?? '') && /^[01]$/.test(v[2]!.textContent ?? '');
    }, undefined, { polling: 50 });
    await shot('query-graph');
    await page.getByPlaceholder('Filter series in the legend').fill('dead');
    await page.locator('.u-legend .u-series', { hasText: 'job="tsprom"' }).waitFor({ state: 'hidden' });
    assert.equal(await page.locator('.u-legend .u-series:visible').count(), 2, 'legend: x and the dead series');
    await page.getByPlaceholder('Filter series in the legend').fill('');
    await page.getByLabel('stacked').check();
    await page.locator('.chart-box canvas').first().waitFor();
    assert.match(new URL(page.url()).search, /g0\.display_mode=stacked/);
    await shot('query-graph-stacked');

    // Explain: the tree of a query, with the series count of each vector node.
    await page.locator('.cm-content').first().click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('sum by (job) (up) > 0');
    await page.keyboard.press('Escape');
    await page.locator('.tab', { hasText: 'Explain' }).first().click();
    await page.locator('ul.explain li', { hasText: 'sum by (job) (up) > 0' }).locator('.count', { hasText: '1 series' }).waitFor();
    await page.locator('ul.explain li', { hasText: /^up/ }).locator('.count', { hasText: '2 series' }).waitFor();
    assert.match(new URL(page.url()).search, /g0\.tab=explain/);
    await shot('query-explain');
    await page.locator('.cm-content').first().click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('up');
    await page.keyboard.press('Escape');
    await page.locator('.tab', { hasText: 'Graph' }).first().click();

    // A second panel joins the URL as g1.
    await page.getByRole('button', { name: 'Add panel' }).click();
    // The new panel's editor mounts after the click has been handled.
    await page.locator('.cm-content').nth(1).waitFor();
    assert.equal(await page.locator('.cm-content').count(), 2);
    assert.match(new URL(page.url()).search, /g1\.expr=/);
    await page.locator('.cm-content').nth(1).click();
    await page.keyboard.type('job:up:sum');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Enter');
    await page.locator('.panel').nth(1).locator('table.result td.series', { hasText: 'job:up:sum{job="tsprom"}' }).waitFor();
    await page.locator('.panel').nth(1).getByRole('button', { name: 'Remove panel' }).click();
    assert.equal(await page.locator('.cm-content').count(), 1);

    // The reload of the same URL reproduces the panel.
    await page.reload();
    await page.locator('.chart-box canvas').first().waitFor();
    assert.equal(await page.locator('.cm-content').first().innerText(), 'up');
    assert.equal(await page.getByLabel('stacked').isChecked(), true);

    // Format rewrites the text with the server's formatting.
    await page.locator('.cm-content').first().click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('sum(rate(up[5m]))by(job)');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Format' }).click();
    await page.locator('.cm-content', { hasText: 'sum by (job) (rate(up[5m]))' }).waitFor();

    // Every other route loads by direct URL and shows its content.
    const routes: [string, string[]][] = [
      ['/alerts', ['TargetDown', 'FIRING', 'of dead is down']],
      ['/rules', ['job:up:sum', 'TargetDown', 'OK']],
      ['/targets', ['tsprom', 'dead', 'UP', 'DOWN', 'connection refused']],
      ['/service-discovery', ['__address__', '127.0.0.1:1']],
      ['/status', ['Build information', 'Runtime information', 'Storage retention']],
      ['/tsdb-status', ['Number of series', 'Top series count by metric name', 'prometheus_http_request_duration_seconds_bucket']],
      ['/flags', ['--web.listen-address', `127.0.0.1:${port}`]],
      ['/config', ['job_name: tsprom', 'query_log_file']],
    ];
    for (const [route, texts] of routes) {
      await page.goto(`${base}${route}`);
      for (const text of texts) await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
      await shot(route.slice(1));
    }

    // The query log lists the query the table ran, with its origin, and links back to the query page.
    await until(async () => {
      const r = await api(`${base}/api/v1/status/query_log?limit=200`);
      return (r.body['data'] as { params: { query: string } }[]).some((e) => e.params.query === 'up') ? true : null;
    }, 'query in the log');
    await page.goto(`${base}/query-log`);
    // Rule evaluations fill the log every second; the API queries are what this looks for.
    await page.getByLabel('hide rule evaluations').check();
    const logged = page.locator('table.querylog tbody tr', { has: page.locator('td.expr', { hasText: /^up$/ }) }).first();
    await logged.waitFor();
    assert.match(await logged.innerText(), /GET \/api\/v1\/query/);
    await page.getByText('Top queries by total duration').waitFor();
    await shot('query-log');
    await logged.getByText('Open').click();
    await page.locator('.cm-content').first().waitFor();
    assert.equal(await page.locator('.cm-content').first().innerText(), 'up');

    // Phone width and the dark theme.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark', isMobile: true });
    const pp = watch(await phone.newPage());
    await pp.goto(`${base}/query?g0.expr=up&g0.tab=table`);
    await pp.locator('table.result td.series').first().waitFor();
    await shot('phone-dark-query', pp);
    await pp.locator('.tab', { hasText: 'Graph' }).first().click();
    await pp.locator('.chart-box canvas').first().waitFor();
    await shot('phone-dark-graph', pp);
    await pp.goto(`${base}/targets`);
    await pp.getByText('DOWN').first().waitFor();
    await shot('phone-dark-targets', pp);
    const overflow = await pp.evaluate(() => {
      const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
      return w.document.documentElement.scrollWidth - w.innerWidth;
    });
    assert.ok(overflow <= 0, `targets page scrolls sideways by ${overflow}px at phone width`);
    await phone.close();

    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
