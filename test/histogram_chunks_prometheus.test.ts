// Golden bytes from Prometheus itself: Debian's Prometheus 2.42 scrapes native
// histograms served in the protobuf format (encoded with our generated code),
// a TSDB snapshot writes its chunks, and our decoder must read them back and
// our appender, fed the same scraped histograms, must produce the same bytes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { Histogram } from '../src/model/histogram.js';
import { MetricFamilySchema, MetricType } from '../src/model/textparse/gen/metrics_pb.js';
import { ProtobufParser } from '../src/model/textparse/protobuf_parser.js';
import { Entry } from '../src/model/textparse/interface.js';
import { ENC_HISTOGRAM, HistogramChunk, decodeHistogramChunk } from '../src/tsdb/chunkenc/histogram_chunk.js';
import { until } from './alertmanager_process.js';
import { freePort } from './free_port.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';

/**
 * The n-th scrape's histogram: counts grow, the layout widens at scrapes 3
 * and 6 (a bucket between two others, a bucket past the end, negative
 * buckets), so Prometheus recodes its chunk.
 */
function nth(n: number): { count: bigint; sum: number; schema: number; zeroThreshold: number; zeroCount: bigint; positiveSpan: { offset: number; length: number }[]; positiveDelta: bigint[]; negativeSpan: { offset: number; length: number }[]; negativeDelta: bigint[] } {
  const pos = new Map<number, number>([
    [-2, 3 * n + 1],
    [0, 5 * n + 2],
    [1, n * n + 1],
  ]);
  const neg = new Map<number, number>();
  if (n >= 3) pos.set(-1, n - 2);
  if (n >= 6) {
    pos.set(7, 2 * n);
    neg.set(2, n);
  }
  const zero = n;
  const side = (m: Map<number, number>): { spans: { offset: number; length: number }[]; deltas: bigint[] } => {
    const idx = [...m.keys()].sort((a, b) => a - b);
    const spans: { offset: number; length: number }[] = [];
    const deltas: bigint[] = [];
    let last = 0;
    let prev = 0;
    for (const i of idx) {
      const top = spans[spans.length - 1];
      if (top !== undefined && i === last + 1) top.length++;
      else spans.push({ offset: spans.length === 0 ? i : i - last - 1, length: 1 });
      last = i;
      deltas.push(BigInt(m.get(i)! - prev));
      prev = m.get(i)!;
    }
    return { spans, deltas };
  };
  const p = side(pos);
  const ng = side(neg);
  let count = zero;
  for (const v of pos.values()) count += v;
  for (const v of neg.values()) count += v;
  return {
    count: BigInt(count),
    sum: 0.25 * n * n + 0.1 * n,
    schema: 1,
    zeroThreshold: 2 ** -10,
    zeroCount: BigInt(zero),
    positiveSpan: p.spans,
    positiveDelta: p.deltas,
    negativeSpan: ng.spans,
    negativeDelta: ng.deltas,
  };
}

function body(n: number): Uint8Array {
  const h = nth(n);
  const msg = toBinary(
    MetricFamilySchema,
    create(MetricFamilySchema, {
      name: 'rpc_latency_seconds',
      help: 'Latency.',
      type: MetricType.HISTOGRAM,
      metric: [
        {
          histogram: {
            sampleCount: h.count,
            sampleSum: h.sum,
            schema: h.schema,
            zeroThreshold: h.zeroThreshold,
            zeroCount: h.zeroCount,
            positiveSpan: h.positiveSpan,
            positiveDelta: h.positiveDelta,
            negativeSpan: h.negativeSpan,
            negativeDelta: h.negativeDelta,
          },
        },
      ],
    }),
  );
  const len: number[] = [];
  let l = msg.length;
  while (l >= 0x80) {
    len.push((l & 0x7f) | 0x80);
    l >>>= 7;
  }
  len.push(l);
  return Uint8Array.from([...len, ...msg]);
}

/** The histogram our parser makes of the n-th body (what our scrape path will append). */
function parsed(n: number): Histogram {
  const p = new ProtobufParser(body(n));
  for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
    if (e === Entry.Histogram) {
      const h = p.histogram();
      assert.ok(h instanceof Histogram);
      return h;
    }
  }
  throw new Error('no histogram in body');
}

/** Chunk records of a block chunk file: magic, version, padding, then uvarint length, encoding, data, CRC. */
function chunksOf(file: Buffer): { encoding: number; data: Uint8Array }[] {
  assert.equal(file.readUInt32BE(0), 0x85bd40dd);
  const out: { encoding: number; data: Uint8Array }[] = [];
  let p = 8;
  while (p < file.length) {
    let len = 0;
    let shift = 1;
    for (;;) {
      const b = file[p++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
    }
    const encoding = file[p++]!;
    out.push({ encoding, data: new Uint8Array(file.subarray(p, p + len)) });
    p += len + 4;
  }
  return out;
}

describe('histogram chunks against Prometheus 2.42', { timeout: 120_000 }, () => {
  let server: http.Server;
  let prom: Prometheus;
  let scrapes = 0;

  before(async () => {
    const port = await freePort();
    server = http.createServer((_req, res) => {
      scrapes++;
      res.writeHead(200, { 'Content-Type': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited' });
      res.end(body(scrapes));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    prom = await startPrometheus(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: h\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
      ['--enable-feature=native-histograms', '--web.enable-admin-api'],
    );
  });

  after(async () => {
    await prom?.stop();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  test('Prometheus\'s chunk decodes to what was served and our appender writes the same bytes', async () => {
    // Enough scrapes to cross both layout changes.
    await until(async () => (scrapes >= 10 ? true : null), '10 scrapes', 60_000);
    const res = await fetch(`${prom.base}/api/v1/admin/tsdb/snapshot`, { method: 'POST' });
    assert.equal(res.status, 200, prom.logs());
    const { data } = (await res.json()) as { data: { name: string } };
    const snap = join(prom.dataDir, 'snapshots', data.name);
    const blocks = readdirSync(snap).filter((d) => existsSync(join(snap, d, 'chunks')));
    assert.ok(blocks.length > 0, 'the snapshot has a block');
    const chunks = blocks.flatMap((b) => readdirSync(join(snap, b, 'chunks')).flatMap((f) => chunksOf(readFileSync(join(snap, b, 'chunks', f)))));
    const hist = chunks.filter((c) => c.encoding === ENC_HISTOGRAM);
    assert.ok(hist.length >= 1, `histogram chunks in the snapshot (encodings seen: ${chunks.map((c) => c.encoding).join(',')})`);

    let checked = 0;
    let recoded = false;
    for (const c of hist) {
      const got = [...decodeHistogramChunk(c.data)];
      assert.ok(got.length > 0);
      // Which scrape each sample came from: counts grow strictly, so the count identifies it.
      let cur = new HistogramChunk();
      for (const s of got) {
        let n = 1;
        while (BigInt(s.h.count) !== nth(n).count) n++;
        const served = parsed(n);
        assert.ok(s.h.toFloat().compact(0).equals(served.toFloat().compact(0)), `sample of scrape ${n}`);
        const r = cur.append(s.t, served);
        assert.equal(r.newChunk, false, 'Prometheus kept these samples in one chunk');
        recoded ||= r.recoded;
        cur = r.chunk;
        checked++;
      }
      assert.deepEqual(Array.from(cur.bytes()), Array.from(c.data), 'bytes equal to Prometheus\'s chunk');
    }
    assert.ok(checked >= 8, `${checked} samples compared`);
    assert.ok(recoded, 'the layout changes made both encoders recode');
  });
});
