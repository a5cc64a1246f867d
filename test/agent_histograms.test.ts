// tsprom --agent with native histograms: the agent scrapes a protobuf
// exporter (an integer counter histogram and a float gauge histogram), logs
// them in its WAL (read back here record by record), and its remote-write
// queue (send_native_histograms) sends them to a tsprom receiver, which then
// holds every histogram the WAL holds, sample for sample.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FloatHistogram, Histogram } from '../src/model/histogram.js';
import { decodeRecord } from '../src/tsdb/record/record.js';
import { checkpointSegments, lastCheckpoint } from '../src/tsdb/wal/checkpoint.js';
import { SegmentReader, listSegments, segmentName } from '../src/tsdb/wal/wal.js';
import { api, startTsprom, type Tsprom } from './api_process.js';
import { until } from './alertmanager_process.js';
import { encodeFamilies, MetricType, NativeHistogram, NativeHistogramExporter, type HistogramMessage } from './native_histogram_exporter.js';

/** The histogram samples of an agent WAL by metric name: "t count sum". */
function walHistograms(walDir: string): Map<string, string[]> {
  const names = new Map<number, string>();
  const out = new Map<string, string[]>();
  const add = (ref: number, t: number, h: Histogram | FloatHistogram): void => {
    const name = names.get(ref)!;
    const list = out.get(name) ?? [];
    list.push(`${t} ${h.count} ${h.sum}`);
    out.set(name, list);
  };
  const cp = lastCheckpoint(walDir);
  const files = cp !== null ? checkpointSegments(cp.dir) : [];
  for (const s of listSegments(walDir)) if (cp === null || s > cp.index) files.push(join(walDir, segmentName(s)));
  for (const f of files) {
    const r = new SegmentReader(readFileSync(f), f);
    while (r.next()) {
      decodeRecord(r.buf, r.start, r.end, {
        series: (ref, l) => void names.set(ref, l.get('__name__')),
        sample: () => {},
        histogram: add,
        floatHistogram: add,
        tombstone: () => {},
      });
      r.accept();
    }
  }
  return out;
}

/** A float gauge histogram that rises and falls with n. */
function gauge(n: number): HistogramMessage {
  const counts = [0.5 + (n % 5), 2.25, 1 + ((n * 3) % 7) / 4];
  return {
    sampleCountFloat: counts.reduce((a, b) => a + b, 0),
    sampleSum: 10 + (n % 11),
    schema: 0,
    zeroThreshold: 1e-3,
    positiveSpan: [{ offset: 1, length: 3 }],
    positiveCount: counts,
  };
}

type Matrix = Array<{ metric: Record<string, string>; histograms?: Array<[number, { count: string; sum: string }]> }>;

/** The receiver's histogram samples of a metric: "t count sum". */
async function received(base: string, name: string): Promise<string[]> {
  const { status, body } = await api(`${base}/api/v1/query?${new URLSearchParams({ query: `${name}[1h]`, time: String(Date.now() / 1000 + 60) })}`);
  assert.equal(status, 200);
  const m = (body['data'] as { result: Matrix }).result;
  return (m[0]?.histograms ?? []).map(([t, h]) => `${Math.round(t * 1000)} ${h.count} ${h.sum}`);
}

describe('agent mode with native histograms', () => {
  let exporter: NativeHistogramExporter;
  let receiver: Tsprom;
  let agent: Tsprom;
  const h = new NativeHistogram(2);

  before(async () => {
    exporter = new NativeHistogramExporter((n) => {
      for (let i = 0; i < 3; i++) h.observe(0.01 * 2 ** ((n * 7 + i * 3) % 11));
      return encodeFamilies([
        { name: 'agent_latency_seconds', help: 'Latency.', type: MetricType.HISTOGRAM, metric: [{ histogram: h.message() }] },
        { name: 'agent_queue_size', help: 'A float gauge histogram.', type: MetricType.GAUGE_HISTOGRAM, metric: [{ histogram: gauge(n) }] },
      ]);
    });
    const addr = await exporter.start();
    receiver = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
    agent = await startTsprom({
      args: ['--agent'],
      config:
        `scrape_configs:\n  - job_name: nh\n    scrape_interval: 250ms\n    scrape_timeout: 200ms\n    scrape_native_histograms: true\n` +
        `    static_configs:\n      - targets: ['${addr}']\n` +
        `remote_write:\n  - url: ${receiver.base}/api/v1/write\n    send_native_histograms: true\n    queue_config: { batch_send_deadline: 200ms }\n`,
    });
    await until(async () => (exporter.scrapes >= 8 ? true : null), '8 scrapes', 60_000);
  });

  after(async () => {
    await agent?.stop();
    await receiver?.stop();
    await exporter?.stop();
  });

  test('the WAL holds the histograms and the receiver gets every one of them', async () => {
    const walDir = join(agent.dir, 'data-agent', 'wal');
    for (const name of ['agent_latency_seconds', 'agent_queue_size']) {
      const logged = walHistograms(walDir).get(name) ?? [];
      assert.ok(logged.length >= 5, `${name}: ${logged.length} histograms in the WAL`);
      // The receiver catches up with what was logged (the queue sends every 200 ms).
      await until(
        async () => {
          const got = await received(receiver.base, name);
          return got.length >= logged.length ? got : null;
        },
        `${name} received`,
        30_000,
      );
      const got = await received(receiver.base, name);
      assert.deepEqual(got.slice(0, logged.length), logged, name);
    }
    const m = await (await fetch(`${agent.base}/metrics`)).text();
    assert.match(m, /^prometheus_agent_samples_appended_total\{type="histogram"\} [1-9]/m);
    assert.doesNotMatch(m, /^prometheus_agent_out_of_order_samples_total [1-9]/m);
  });
});
