// `npm run bench -- ui [runs]`: the query page in headless chromium drawing a
// graph of 100 series x 720 points (remote-written into a fresh server first).
// Times from navigation to the range query's response having arrived, and from
// there to uPlot's first draw (target: <= 300 ms), median of several page
// loads; then the gzip size of each bundle entry from dist/ui/manifest.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startTsprom } from '../test/api_process.js';
import { writeRequestBody, type TestSeries } from '../test/remote_write_proto.js';
import { CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt } from '../test/ui_chromium.js';

const SERIES = 100;
const POINTS = 720;
const STEP_S = 5;
const RUNS = Number(process.argv[2] ?? 7);
const DRAW_TARGET_MS = 300;

if (!existsSync(CHROMIUM)) {
  console.error(`bench ui needs ${CHROMIUM} (apt-get install chromium)`);
  process.exit(1);
}
ensureUiBuilt();

// Whole seconds on the step grid, so the query's steps hit the samples exactly.
const endS = Math.floor(Date.now() / 1000 / STEP_S) * STEP_S;
const startS = endS - (POINTS - 1) * STEP_S;
const series: TestSeries[] = [];
for (let i = 0; i < SERIES; i++) {
  const samples: [number, number][] = [];
  for (let j = 0; j < POINTS; j++) samples.push([(startS + j * STEP_S) * 1000, Math.sin(j / 40 + i) * 50 + i * 3]);
  series.push({ labels: { __name__: 'bench_ui_series', job: 'bench', instance: `host-${String(i).padStart(3, '0')}:9100` }, samples });
}

const s = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
try {
  const w = await fetch(`${s.base}/api/v1/write`, {
    method: 'POST',
    body: writeRequestBody(series),
    headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
  });
  if (w.status !== 204) throw new Error(`remote write failed: ${w.status} ${await w.text()}`);

  const q = new URLSearchParams({
    'g0.expr': 'bench_ui_series',
    'g0.tab': 'graph',
    'g0.range_input': `${(POINTS - 1) * STEP_S}s`,
    'g0.end_input': new Date(endS * 1000).toISOString(),
    'g0.res_type': 'fixed',
    'g0.res_step': String(STEP_S),
  });
  const url = `${s.base}/query?${q.toString()}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const samples: { sent: number; server: number; response: number; draw: number; total: number }[] = [];
  // One warm-up load fills the browser's cache of hashed assets, as a returning user has it.
  for (let run = 0; run <= RUNS; run++) {
    await page.goto(url);
    await page.waitForFunction(() => performance.getEntriesByName('tsprom:graph-drawn').length > 0, undefined, { timeout: 30_000, polling: 50 });
    const m = await page.evaluate(() => {
      const at = (n: string): number => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
      const g = globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } };
      const req = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/query_range'));
      return { sent: req?.startTime ?? NaN, response: at('tsprom:range-response'), drawn: at('tsprom:graph-drawn'), legendRows: g.document.querySelectorAll('.u-legend .u-series').length };
    });
    if (m.legendRows !== SERIES + 1) throw new Error(`expected ${SERIES} series in the legend, got ${m.legendRows - 1}`);
    if (run > 0) samples.push({ sent: m.sent, server: m.response - m.sent, response: m.response, draw: m.drawn - m.response, total: m.drawn });
  }
  const median = (k: 'sent' | 'server' | 'response' | 'draw' | 'total'): number => {
    const v = samples.map((x) => x[k]).sort((a, b) => a - b);
    return Math.round(v[Math.floor(v.length / 2)]! * 10) / 10;
  };

  const manifest = JSON.parse(readFileSync(join(process.cwd(), 'dist', 'ui', 'manifest.json'), 'utf8')) as {
    css: string | null;
    mainFiles: string[];
    pages: Record<string, string[]>;
    files: Record<string, { bytes: number; gzipBytes: number }>;
  };
  const gz = (list: string[]): number => list.reduce((n, f) => n + (manifest.files[f]?.gzipBytes ?? 0), 0);
  const shell = gz([...manifest.mainFiles, ...(manifest.css !== null ? [manifest.css] : [])]);
  const queryExtra = gz((manifest.pages['query'] ?? []).filter((f) => !manifest.mainFiles.includes(f)));

  console.log(`ui: query page, Graph tab, ${SERIES} series x ${POINTS} points, median of ${RUNS} loads (headless chromium)`);
  console.log('');
  console.log('phase                                   ms');
  console.log(`navigation -> range query sent        ${String(median('sent')).padStart(7)}   (page, scripts, editor)`);
  console.log(`range query sent -> response arrived  ${String(median('server')).padStart(7)}`);
  console.log(`navigation -> range response arrived  ${String(median('response')).padStart(7)}`);
  console.log(`response arrived -> graph drawn       ${String(median('draw')).padStart(7)}   (target <= ${DRAW_TARGET_MS})`);
  console.log(`navigation -> graph drawn             ${String(median('total')).padStart(7)}`);
  console.log('');
  console.log('bundle entry                   gzip');
  console.log(`shell (every page)       ${(shell / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`+ query page chunk       ${(queryExtra / 1024).toFixed(1).padStart(8)} KiB`);
  console.log(`query page total         ${((shell + queryExtra) / 1024).toFixed(1).padStart(8)} KiB   (budget 350 KiB)`);
  console.log(
    JSON.stringify({
      series_count: SERIES,
      points_per_series_count: POINTS,
      nav_to_request_ms: median('sent'),
      request_to_response_ms: median('server'),
      nav_to_response_ms: median('response'),
      response_to_drawn_ms: median('draw'),
      nav_to_drawn_ms: median('total'),
      shell_gzip_bytes: shell,
      query_chunk_gzip_bytes: queryExtra,
      query_page_gzip_bytes: shell + queryExtra,
    }),
  );
} finally {
  await browser.close();
  await s.stop();
}
