// Native histograms sent by remote write between real processes: a tsprom
// server scrapes a protobuf exporter (an integer counter histogram, a float gauge
// histogram, and a classic histogram it converts to custom buckets) and, with
// send_native_histograms, remote-writes them to a second tsprom (remote write
// 2.0) and to Debian's Prometheus 2.42 (1.0, --enable-feature=native-histograms).
// What the receivers' query APIs give equals what the sender's gives; the
// custom-bucket histograms reach the 2.0 receiver only (1.0 cannot carry them,
// as in Prometheus 3.x, and 2.42 does not know them).
//
// The exporter serves one step per second with explicit timestamps, so every
// process holds the same samples at the same times.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from './alertmanager_process.js';
import { encodeFamilies, MetricType, NativeHistogram, NativeHistogramExporter, type HistogramMessage } from './native_histogram_exporter.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';
import { startTsprom, type Tsprom } from './api_process.js';

const STEP_MS = 1000;

/** A float gauge histogram that rises and falls with the step. */
function gaugeHistogram(step: number): HistogramMessage {
  const counts = [0.5 + (step % 5), 2.25, 1 + ((step * 3) % 7) / 4];
  const zero = (step % 3) / 2;
  return {
    sampleCountFloat: counts.reduce((a, b) => a + b, zero),
    sampleSum: 10 + (step % 11),
    schema: 0,
    zeroThreshold: 1e-3,
    zeroCountFloat: zero,
    positiveSpan: [{ offset: 1, length: 3 }],
    positiveCount: counts,
  };
}

/** A classic histogram (no native buckets) with cumulative bucket counts growing with the step. */
function classicHistogram(steps: number): HistogramMessage {
  const c = [steps, 3 * steps, 4 * steps];
  return {
    sampleCount: BigInt(5 * steps),
    sampleSum: 2.5 * steps,
    bucket: [0.1, 1, 10].map((upperBound, i) => ({ upperBound, cumulativeCount: BigInt(c[i]!) })),
  };
}

/** The served families, advanced one step per second from the first scrape on. */
class Source {
  private readonly h = new NativeHistogram(2);
  private step = -1;
  private first = -1;

  steps(): number {
    return this.first < 0 ? 0 : this.step - this.first;
  }

  body(): Buffer {
    const k = Math.floor(Date.now() / STEP_MS);
    if (this.step < 0) this.step = this.first = k;
    while (this.step < k) {
      this.step++;
      for (let i = 0; i < 7; i++) this.h.observe(i === 6 ? 0 : i === 5 ? -((this.step % 4) + 1) : 0.01 * 3 ** ((this.step + i) % 9));
    }
    const timestampMs = BigInt(this.step * STEP_MS);
    const n = this.step - this.first + 1;
    return encodeFamilies([
      { name: 'req_seconds', help: 'Latency.', type: MetricType.HISTOGRAM, metric: [{ histogram: this.h.message(), timestampMs }] },
      { name: 'queue_size', help: 'A gauge histogram.', type: MetricType.GAUGE_HISTOGRAM, metric: [{ histogram: gaugeHistogram(this.step), timestampMs }] },
      { name: 'classic_seconds', help: 'Classic buckets.', type: MetricType.HISTOGRAM, metric: [{ histogram: classicHistogram(n), timestampMs }] },
    ]);
  }
}

type Result = { metric: Record<string, string>; histograms?: [number, unknown][] }[];

async function query(base: string, q: string, t: number): Promise<Result> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}&time=${t / 1000}`);
  const body = (await res.json()) as { status: string; data: { result: Result }; error?: string };
  assert.equal(body.status, 'success', `${q}: ${body.error}`);
  return body.data.result;
}

async function metric(base: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') && labels.split(',').every((l) => line.includes(l))) sum += Number(line.split(' ').pop());
  return sum;
}

describe('tsprom remote-writes native histograms to tsprom and to Prometheus 2.42', { timeout: 180_000 }, () => {
  let exporter: NativeHistogramExporter;
  let prom: Prometheus;
  let sender: Tsprom;
  let receiver: Tsprom;
  const source = new Source();

  before(async () => {
    exporter = new NativeHistogramExporter(() => source.body());
    const addr = await exporter.start();
    receiver = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
    prom = await startPrometheus('global:\n  scrape_interval: 1m\n', ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']);
    sender = await startTsprom({
      config:
        `scrape_configs:\n  - job_name: nh\n    scrape_interval: 250ms\n    scrape_timeout: 200ms\n    scrape_native_histograms: true\n` +
        `    convert_classic_histograms_to_nhcb: true\n    static_configs:\n      - targets: ['${addr}']\n` +
        `remote_write:\n` +
        `  - url: ${receiver.base}/api/v1/write\n    name: v2\n    send_native_histograms: true\n    protobuf_message: io.prometheus.write.v2.Request\n` +
        `    queue_config: { batch_send_deadline: 200ms }\n` +
        `  - url: ${prom.base}/api/v1/write\n    name: v1\n    send_native_histograms: true\n    queue_config: { batch_send_deadline: 200ms }\n`,
    });
    await until(async () => (source.steps() >= 12 ? true : null), '12 steps scraped', 60_000);
  });

  after(async () => {
    await sender?.stop();
    await receiver?.stop();
    await prom?.stop();
    await exporter?.stop();
  });

  /** The sender's answer for a range selector, once it holds histograms. */
  async function senderHistograms(sel: string, t: number): Promise<Result> {
    const ours = await query(sender.base, sel, t);
    assert.equal(ours.length, 1, `${sel}: one series on the sender`);
    assert.ok((ours[0]!.histograms?.length ?? 0) >= 8, `${sel}: ${ours[0]!.histograms?.length} histograms on the sender`);
    return ours;
  }

  /** Waits until a receiver answers as the sender does (the queues send every 200ms); fails with both answers. */
  async function sameAnswer(base: string, sel: string, t: number, want: Result): Promise<void> {
    let last: Result = [];
    await until(
      async () => {
        last = await query(base, sel, t);
        return JSON.stringify(last.map((r) => r.histograms)) === JSON.stringify(want.map((r) => r.histograms)) ? true : null;
      },
      `${sel} on ${base}`,
      20_000,
    ).catch(() => assert.deepEqual(last.map((r) => r.histograms), want.map((r) => r.histograms), `${sel} on ${base}`));
  }

  test('integer and float histograms arrive equal at both receivers', async () => {
    const t = Math.floor(Date.now() / STEP_MS) * STEP_MS - 2 * STEP_MS - STEP_MS / 2;
    for (const name of ['req_seconds', 'queue_size']) {
      const sel = `${name}[10s]`;
      const want = await senderHistograms(sel, t);
      await sameAnswer(receiver.base, sel, t, want);
      await sameAnswer(prom.base, sel, t, want);
    }
  });

  test('custom-bucket histograms reach the 2.0 receiver; the 1.0 queue drops and counts them', async () => {
    const t = Math.floor(Date.now() / STEP_MS) * STEP_MS - 2 * STEP_MS - STEP_MS / 2;
    const sel = 'classic_seconds[10s]';
    const want = await senderHistograms(sel, t);
    await sameAnswer(receiver.base, sel, t, want);
    assert.deepEqual(await query(prom.base, sel, t), []);
    assert.ok((await metric(sender.base, 'prometheus_remote_storage_histograms_dropped_total', 'remote_name="v1",reason="nhcb_in_rw1_not_supported"')) >= 8);
    assert.equal(await metric(sender.base, 'prometheus_remote_storage_histograms_dropped_total', 'remote_name="v2"'), 0);
    assert.ok((await metric(sender.base, 'prometheus_remote_storage_histograms_total', 'remote_name="v2"')) >= 24);
    assert.ok((await metric(sender.base, 'prometheus_remote_storage_histograms_total', 'remote_name="v1"')) >= 16);
  });
});
