// Exemplars through the scrape loop into the TSDB: they carry the series'
// labels after relabeling, a repeated sample may still bring a new exemplar,
// dropped series bring none, and exemplars older than the stored one are
// counted as out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Matcher, MatchType } from '../src/model/matcher.js';
import { ScrapeManager } from '../src/scrape/manager.js';
import { openDB } from '../src/tsdb/db.js';
import { config, relabelConfig, scrapeConfig, waitFor } from './fixtures/scrape/helpers.js';
import { until } from './alertmanager_process.js';

const ALL = [[Matcher.create(MatchType.Regexp, '__name__', '.+')]];

test('scraped exemplars: relabeled series, repeats, drops and out-of-order ones', { timeout: 60_000 }, async () => {
  let scrapes = 0;
  const base = Math.floor(Date.now() / 1000) - 100;
  const srv = http.createServer((_req, res) => {
    scrapes++;
    // Scrape 1: exemplar at base + 10; scrape 2: a newer one; from scrape 3: older than stored (out of order).
    const exTs = scrapes === 1 ? base + 10 : scrapes === 2 ? base + 20 : base + 5 - scrapes;
    res.setHeader('content-type', 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    res.end(
      `# TYPE req counter\nreq_total 5 ${base} # {trace_id="s${scrapes}"} 1 ${exTs}\n` +
        `# TYPE drop_me counter\ndrop_me_total 1 # {trace_id="d"} 1 ${base}\n# EOF\n`,
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'scrape-ex-'));
  const registry = new Registry();
  const db = await openDB(dir, { maintenanceIntervalMs: 0, maxExemplars: 1000, registry });
  const m = new ScrapeManager({ appendable: db, registry, discoveryUpdateIntervalMs: 20 });
  try {
    m.applyConfig(
      config([
        scrapeConfig({
          jobName: 'ex',
          scrapeIntervalMs: 200,
          scrapeTimeoutMs: 150,
          staticConfigs: [{ targets: [addr], labels: { team: 'a' } }],
          metricRelabelConfigs: [
            relabelConfig({ sourceLabels: ['__name__'], regex: 'drop_me_total', action: 'drop' }),
            relabelConfig({ targetLabel: 'relabeled', replacement: 'yes' }),
          ],
        }),
      ]),
    );
    await waitFor(() => scrapes >= 5, 'five scrapes');
    const ooo = await until(async () => {
      const v = (await registry.getSingleMetric('prometheus_target_scrapes_exemplar_out_of_order_total')!.get()).values[0]?.value ?? 0;
      return v >= 2 ? v : null;
    }, 'out-of-order exemplars counted');
    assert.ok(ooo >= 2);
    const res = db.exemplarQuerier().select(-Infinity, Infinity, ALL);
    // The sample repeats its explicit timestamp (a duplicate after the first scrape); its exemplars still come in, in order.
    assert.deepEqual(
      res.map((r) => [r.seriesLabels.toString(), r.exemplars.map((e) => [e.labels.get('trace_id'), e.ts])]),
      [[`{__name__="req_total", instance="${addr}", job="ex", relabeled="yes", team="a"}`, [['s1', (base + 10) * 1000], ['s2', (base + 20) * 1000]]]],
    );
  } finally {
    await m.stop();
    srv.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
