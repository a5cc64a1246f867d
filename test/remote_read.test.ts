// Remote read against Debian's Prometheus 2.42, both ways: Prometheus with
// remote_read pointed at tsprom answers with tsprom's data (2.42's client asks
// for SAMPLES), tsprom with remote_read pointed at Prometheus merges its data
// into queries (Prometheus's server answers tsprom's client in streamed XOR
// chunks). The STREAMED_XOR_CHUNKS answer is read back frame by frame,
// and its chunks are compared byte for byte with the XOR chunks promtool
// 2.42 writes into a block for the same samples. Native histograms: read from
// 2.42's streamed chunks and from tsprom by tsprom (see that block).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync, uncompressSync } from 'snappy';
import { startTsprom, api, type Tsprom } from './api_process.js';
import { startPrometheus, type Prometheus } from './prometheus_process.js';
import { writeRequestBody, type TestHistogram, type TestSeries } from './remote_write_proto.js';
import { MatchType, Matcher } from '../src/model/matcher.js';
import {
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  decodeChunkedReadResponse,
  decodeReadResponse,
  encodeReadRequest,
  readFrames,
} from '../src/remote/read_request.js';
import { PROM_ENC_HISTOGRAM, decodeReadChunk } from '../src/remote/read_chunks.js';
import { PROM_ENC_XOR, PromXorEncoder, decodePromXor } from '../src/remote/read_xor.js';

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>;
type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;

async function query<T>(base: string, path: 'query' | 'query_range', params: Record<string, string>): Promise<{ result: T; warnings: string[] }> {
  const { status, body } = await api(`${base}/api/v1/${path}?${new URLSearchParams(params)}`);
  assert.equal(status, 200, JSON.stringify(body));
  return { result: (body['data'] as { result: T }).result, warnings: (body['warnings'] as string[] | undefined) ?? [] };
}

async function push(base: string, series: TestSeries[]): Promise<void> {
  const r = await fetch(`${base}/api/v1/write`, {
    method: 'POST',
    body: writeRequestBody(series),
    headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
  });
  assert.equal(r.status, 204, await r.text());
}

async function readRaw(base: string, types: number[], matchers: Matcher[], start: number, end: number): Promise<Response> {
  const body = compressSync(encodeReadRequest({ queries: [{ startMs: start, endMs: end, matchers, hints: null }], acceptedResponseTypes: types }));
  return fetch(`${base}/api/v1/read`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' } });
}

const NOW = Math.floor(Date.now() / 15_000) * 15_000;
/** 300 samples 15 s apart ending now: more than two XOR chunks per series. */
const SAMPLES: Array<[number, number]> = Array.from({ length: 300 }, (_, i) => [NOW - (299 - i) * 15_000, i % 7 === 0 ? i * 0.1 : i]);

describe('Prometheus 2.42 reads from tsprom', () => {
  let ts: Tsprom;
  let prom: Prometheus;

  before(async () => {
    ts = await startTsprom({ args: ['--web.enable-remote-write-receiver'], config: 'global:\n  external_labels:\n    site: edge1\n' });
    await push(ts.base, [
      { labels: { __name__: 'rr_metric', job: 'a', instance: 'x' }, samples: SAMPLES },
      { labels: { __name__: 'rr_metric', job: 'b', instance: 'y' }, samples: SAMPLES.map(([t, v]) => [t, v * 2]) },
    ]);
    prom = await startPrometheus(`remote_read:\n  - url: ${ts.base}/api/v1/read\n    read_recent: true\n`);
  });

  after(async () => {
    await prom?.stop();
    await ts?.stop();
  });

  test('instant and range queries answer with tsprom data and its external labels', async () => {
    const { result } = await query<Vector>(prom.base, 'query', { query: 'rr_metric', time: String(NOW / 1000) });
    const got = result.map((s) => [s.metric['job'], s.metric['site'], s.value[1]]).sort();
    assert.deepEqual(got, [
      ['a', 'edge1', String(SAMPLES.at(-1)![1])],
      ['b', 'edge1', String(SAMPLES.at(-1)![1] * 2)],
    ]);
    const params = { query: 'rr_metric{job="a"}', start: String((NOW - 3600_000) / 1000), end: String(NOW / 1000), step: '15' };
    const fromProm = await query<Matrix>(prom.base, 'query_range', params);
    const fromTsprom = await query<Matrix>(ts.base, 'query_range', params);
    assert.equal(fromProm.result.length, 1);
    assert.deepEqual(fromProm.result[0]!.values, fromTsprom.result[0]!.values);
    assert.equal(fromProm.result[0]!.values.length, 241);
  });

  test('an equality matcher on an external label selects the series that lack it', async () => {
    const { result } = await query<Vector>(prom.base, 'query', { query: 'rr_metric{site="edge1"}', time: String(NOW / 1000) });
    assert.equal(result.length, 2);
    const none = await query<Vector>(prom.base, 'query', { query: 'rr_metric{site="elsewhere"}', time: String(NOW / 1000) });
    assert.equal(none.result.length, 0);
  });

  test('SAMPLES answer: every sample with the external labels added', async () => {
    const r = await readRaw(ts.base, [RESPONSE_SAMPLES], [Matcher.create(MatchType.Equal, '__name__', 'rr_metric')], NOW - 3600_000, NOW);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
    assert.equal(r.headers.get('content-encoding'), 'snappy');
    const results = decodeReadResponse(uncompressSync(Buffer.from(await r.arrayBuffer())) as Buffer);
    assert.equal(results.length, 1);
    const series = results[0]!;
    assert.equal(series.length, 2);
    for (const s of series) {
      assert.equal(s.labels.get('site'), 'edge1');
      assert.equal(s.timestamps.length, 241);
    }
  });

  test('STREAMED_XOR_CHUNKS: one series per frame, chunks of at most 120 samples that decode to the stored samples', async () => {
    const r = await readRaw(ts.base, [RESPONSE_STREAMED_XOR_CHUNKS, RESPONSE_SAMPLES], [Matcher.create(MatchType.Equal, '__name__', 'rr_metric')], 0, NOW);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse');
    const frames = [...readFrames(Buffer.from(await r.arrayBuffer()), 1 << 20)];
    const seen = new Map<string, Array<[number, number]>>();
    for (const f of frames) {
      const msg = decodeChunkedReadResponse(f);
      assert.equal(msg.queryIndex, 0);
      assert.equal(msg.series.length, 1);
      const s = msg.series[0]!;
      assert.equal(s.labels.get('site'), 'edge1');
      const list = seen.get(s.labels.get('job')) ?? [];
      for (const c of s.chunks) {
        assert.equal(c.encoding, PROM_ENC_XOR);
        const got: Array<[number, number]> = [];
        decodePromXor(c.data, (t, v) => got.push([t, v]));
        assert.ok(got.length <= 120);
        assert.equal(got[0]![0], c.minTimeMs);
        assert.equal(got.at(-1)![0], c.maxTimeMs);
        list.push(...got);
      }
      seen.set(s.labels.get('job'), list);
    }
    assert.deepEqual([...seen.keys()].sort(), ['a', 'b']);
    assert.deepEqual(seen.get('a'), SAMPLES);
    assert.deepEqual(
      seen.get('b'),
      SAMPLES.map(([t, v]) => [t, v * 2]),
    );
  });

  test('a small --storage.remote.read-max-bytes-in-frame splits a series over frames', async () => {
    const small = await startTsprom({ args: ['--web.enable-remote-write-receiver', '--storage.remote.read-max-bytes-in-frame=100'] });
    try {
      await push(small.base, [{ labels: { __name__: 'rr_metric', job: 'a' }, samples: SAMPLES }]);
      const r = await readRaw(small.base, [RESPONSE_STREAMED_XOR_CHUNKS], [Matcher.create(MatchType.Equal, 'job', 'a')], 0, NOW);
      const frames = [...readFrames(Buffer.from(await r.arrayBuffer()), 1 << 20)].map(decodeChunkedReadResponse);
      // Each chunk passes 100 bytes: one chunk per frame, three chunks for 300 samples.
      assert.equal(frames.length, 3);
      assert.deepEqual(
        frames.map((f) => f.series[0]!.chunks.length),
        [1, 1, 1],
      );
    } finally {
      await small.stop();
    }
  });

  test('errors as Prometheus answers them', async () => {
    const bad = await fetch(`${ts.base}/api/v1/read`, { method: 'POST', body: Buffer.from('not snappy at all') });
    assert.equal(bad.status, 400);
    const unsupported = await readRaw(ts.base, [7], [], 0, NOW);
    assert.equal(unsupported.status, 400);
    assert.match(await unsupported.text(), /^server does not support any of the requested response types: \[7\]; supported: /);
    const limited = await startTsprom({ args: ['--web.enable-remote-write-receiver', '--storage.remote.read-sample-limit=100'] });
    try {
      await push(limited.base, [{ labels: { __name__: 'rr_metric', job: 'a' }, samples: SAMPLES }]);
      const r = await readRaw(limited.base, [RESPONSE_SAMPLES], [Matcher.create(MatchType.Equal, 'job', 'a')], 0, NOW);
      assert.equal(r.status, 400);
      assert.equal(await r.text(), 'exceeded sample limit (100)\n');
      // The limit does not apply to streamed answers.
      const s = await readRaw(limited.base, [RESPONSE_STREAMED_XOR_CHUNKS], [Matcher.create(MatchType.Equal, 'job', 'a')], 0, NOW);
      assert.equal(s.status, 200);
    } finally {
      await limited.stop();
    }
  });
});

describe('XOR chunks are bit-compatible with Prometheus 2.42', () => {
  test('promtool writes the same chunk bytes for the same samples', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsprom-xor-'));
    try {
      // Irregular intervals and values: every delta-of-delta bucket and both value-window cases.
      const samples: Array<[number, number]> = [];
      let t = 1_700_000_000_000;
      const steps = [15_000, 15_000, 14_999, 15_001, 30_000, 1_000_500, 7, 900_000, 15_000];
      const vals = [1, 2.5, 1e300, -3.25, 0.1, 0.30000000000000004, 123456.789, 0, 42, 42, -0.5];
      for (let i = 0; i < 100; i++) {
        t += steps[i % steps.length]!;
        samples.push([t, vals[(i * 7) % vals.length]! + (i % 3 === 0 ? i : 0)]);
      }
      const om = ['# TYPE m gauge', ...samples.map(([ts, v]) => `m{a="b"} ${v} ${(ts / 1000).toFixed(3)}`), '# EOF', ''].join('\n');
      writeFileSync(join(dir, 'in.om'), om);
      execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'in.om'), join(dir, 'out')], { stdio: 'ignore' });
      // Blocks are cut at 2 h boundaries: compare each block's one chunk with ours for its samples.
      const blocks = readdirSync(join(dir, 'out')).sort();
      assert.ok(blocks.length >= 2);
      let compared = 0;
      for (const b of blocks) {
        const meta = JSON.parse(readFileSync(join(dir, 'out', b, 'meta.json'), 'utf8')) as { minTime: number; maxTime: number };
        const file = readFileSync(join(dir, 'out', b, 'chunks', '000001'));
        // Segment header (8 bytes), then uvarint(len) encoding(1) data crc(4) per chunk.
        let pos = 8;
        let len = 0;
        let mul = 1;
        for (;;) {
          const x = file[pos++]!;
          len += (x & 0x7f) * mul;
          if (x < 0x80) break;
          mul *= 128;
        }
        assert.equal(file[pos], PROM_ENC_XOR);
        const theirs = file.subarray(pos + 1, pos + 1 + len);
        const mine = new PromXorEncoder();
        for (const [ts, v] of samples) if (ts >= meta.minTime && ts < meta.maxTime) mine.append(ts, v);
        assert.ok(mine.num <= 120);
        assert.deepEqual(Buffer.from(mine.bytes()), Buffer.from(theirs));
        compared += mine.num;
      }
      assert.equal(compared, samples.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tsprom reads from Prometheus 2.42', () => {
  let prom: Prometheus;
  const remote = (extra: string): string => `remote_read:\n  - url: ${prom.base}/api/v1/read\n${extra}`;

  before(async () => {
    prom = await startPrometheus('global:\n  scrape_interval: 1h\n', ['--web.enable-remote-write-receiver']);
    await push(prom.base, [
      { labels: { __name__: 'remote_only', job: 'p' }, samples: SAMPLES.slice(-40) },
      { labels: { __name__: 'ext_series', job: 'p', site: 'e' }, samples: SAMPLES.slice(-40) },
      // Every other sample on each side: the merge must give all of them.
      { labels: { __name__: 'shared', job: 's' }, samples: SAMPLES.slice(-40).filter((_, i) => i % 2 === 0) },
    ]);
  });

  after(async () => {
    await prom?.stop();
  });

  test('read_recent: remote data merged with local data', async () => {
    const ts = await startTsprom({ args: ['--web.enable-remote-write-receiver'], config: remote('    read_recent: true\n') });
    try {
      await push(ts.base, [{ labels: { __name__: 'shared', job: 's' }, samples: SAMPLES.slice(-40).filter((_, i) => i % 2 === 1) }]);
      const at = String(NOW / 1000);
      const only = await query<Vector>(ts.base, 'query', { query: 'remote_only', time: at });
      assert.deepEqual(only.result.map((s) => s.value[1]), [String(SAMPLES.at(-1)![1])]);
      const range = await query<Matrix>(ts.base, 'query_range', { query: 'shared', start: String((NOW - 39 * 15_000) / 1000), end: at, step: '15' });
      assert.equal(range.result.length, 1);
      assert.deepEqual(
        range.result[0]!.values.map(([t, v]) => [t * 1000, Number(v)]),
        SAMPLES.slice(-40),
      );
      const series = await api(`${ts.base}/api/v1/series?${new URLSearchParams({ 'match[]': 'remote_only', start: String((NOW - 600_000) / 1000), end: at })}`);
      assert.deepEqual(series.body['data'], [{ __name__: 'remote_only', job: 'p' }]);
      // Prometheus 2.42 answered with streamed XOR chunks (tsprom asks for them first, as Prometheus 3.x does).
      const metrics = await (await fetch(`${ts.base}/metrics`)).text();
      assert.match(metrics, /^prometheus_remote_read_client_queries_total\{[^}]*response_type="chunked",code="200"\} [1-9]/m);
      assert.doesNotMatch(metrics, /response_type="sampled"/);
    } finally {
      await ts.stop();
    }
  });

  test('without read_recent the remote is asked only for the time before local data', async () => {
    const ts = await startTsprom({ args: ['--web.enable-remote-write-receiver'], config: remote('') });
    try {
      // Local data from about 10 minutes ago on: a query at now (its 5 m lookback included) is local only,
      // one 6 minutes ago reaches before the local data and reads the remote for that part.
      await push(ts.base, [{ labels: { __name__: 'local', job: 'l' }, samples: SAMPLES.slice(-40) }]);
      const now = await query<Vector>(ts.base, 'query', { query: 'remote_only', time: String(NOW / 1000) });
      assert.equal(now.result.length, 0);
      const before = await query<Vector>(ts.base, 'query', { query: 'remote_only', time: String((NOW - 25 * 15_000) / 1000) });
      assert.equal(before.result.length, 1);
    } finally {
      await ts.stop();
    }
  });

  test('required_matchers, external labels and a failing remote', async () => {
    const cfg = `global:\n  external_labels:\n    site: e\n${remote('    read_recent: true\n    required_matchers:\n      job: p\n')}  - url: http://127.0.0.1:1/api/v1/read\n    read_recent: true\n    name: down\n`;
    const ts = await startTsprom({ config: cfg });
    try {
      const at = String(NOW / 1000);
      // The external label site="e" is sent as a matcher and removed from the answer; the second remote fails: a warning.
      const hit = await query<Vector>(ts.base, 'query', { query: 'ext_series{job="p"}', time: at });
      assert.deepEqual(hit.result.map((s) => s.metric), [{ __name__: 'ext_series', job: 'p' }]);
      assert.equal(hit.warnings.length, 1);
      assert.match(hit.warnings[0]!, /^remote_read: /);
      // Series without the external label do not match it remotely.
      const other = await query<Vector>(ts.base, 'query', { query: 'remote_only{job="p"}', time: at });
      assert.equal(other.result.length, 0);
      // Without job="p" the first remote is not asked (required_matchers).
      const miss = await query<Vector>(ts.base, 'query', { query: 'ext_series', time: at });
      assert.equal(miss.result.length, 0);
      assert.equal(miss.warnings.length, 1);
    } finally {
      await ts.stop();
    }
  });
});

// Native histograms. 2.42's remote read server streams its histogram chunks (encoding HISTOGRAM) but its
// SAMPLES answer and its client know floats only, so Prometheus reading tsprom's histograms cannot be
// tested; tsprom's server is read by tsprom's client instead.
const HIST_TS = SAMPLES.slice(-40).map(([t]) => t);

/** Integer counter histograms with a reset at the 20th sample. */
function counterHistograms(): TestHistogram[] {
  return HIST_TS.map((t, i) => {
    const k = i < 20 ? i : i - 20;
    return { t, count: 4 * k + 4, sum: k * 1.5, schema: 0, zeroThreshold: 0.001, zeroCount: k, positiveSpans: [[0, 3]], positiveBuckets: [k + 1, 1, -1] };
  });
}

/** Float counter histograms. */
function floatHistograms(): TestHistogram[] {
  return HIST_TS.map((t, i) => ({ t, float: true, count: 2 * i + 4.25, sum: i, schema: 1, zeroThreshold: 0.001, zeroCount: 0.25, positiveSpans: [[-1, 3]], positiveBuckets: [1 + i, 2.5 + i, 0.5] }));
}

/** Float gauge histograms (reset hint 3): 2.42's remote read fails on them ("detected unexpected counter reset" re-encoding chunks), so only tsprom reads them. */
function gaugeHistograms(): TestHistogram[] {
  return HIST_TS.map((t, i) => {
    const counts = [1 + (i % 4), 2.5, 0.5];
    return { t, float: true, count: counts[0]! + 3.25, sum: -i, schema: 1, zeroThreshold: 0.001, zeroCount: 0.25, positiveSpans: [[-1, 3]], positiveBuckets: counts, resetHint: 3 };
  });
}

type HistMatrix = Array<{ metric: Record<string, string>; histograms?: Array<[number, unknown]> }>;

async function histRange(base: string, q: string): Promise<HistMatrix> {
  const { result } = await query<HistMatrix>(base, 'query_range', { query: q, start: String(HIST_TS[0]! / 1000), end: String(NOW / 1000), step: '15' });
  return result;
}

describe('native histograms through remote read', () => {
  let prom: Prometheus;
  let a: Tsprom;
  let b: Tsprom;

  before(async () => {
    prom = await startPrometheus('global:\n  scrape_interval: 1h\n', ['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']);
    await push(prom.base, [
      { labels: { __name__: 'rr_hist', job: 'p' }, samples: [], histograms: counterHistograms() },
      { labels: { __name__: 'rr_float_hist', job: 'p' }, samples: [], histograms: floatHistograms() },
    ]);
    a = await startTsprom({ args: ['--web.enable-remote-write-receiver'], config: `remote_read:\n  - url: ${prom.base}/api/v1/read\n    read_recent: true\n` });
    await push(a.base, [
      { labels: { __name__: 'rr_local_hist', job: 't' }, samples: [], histograms: counterHistograms() },
      { labels: { __name__: 'rr_local_gauge_hist', job: 't' }, samples: [], histograms: gaugeHistograms() },
    ]);
    // Floats, then histograms, then floats again in one series.
    const mixed = { __name__: 'rr_mixed', job: 't' };
    await push(a.base, [{ labels: mixed, samples: SAMPLES.slice(-40, -30) }]);
    await push(a.base, [{ labels: mixed, samples: [], histograms: counterHistograms().slice(10, 30) }]);
    await push(a.base, [{ labels: mixed, samples: SAMPLES.slice(-10) }]);
    b = await startTsprom({ config: `remote_read:\n  - url: ${a.base}/api/v1/read\n    read_recent: true\n` });
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
    await prom?.stop();
  });

  test("Prometheus 2.42's streamed histogram chunks decode to what it stored", async () => {
    const r = await readRaw(prom.base, [RESPONSE_STREAMED_XOR_CHUNKS], [Matcher.create(MatchType.Equal, 'job', 'p')], 0, NOW);
    assert.equal(r.status, 200);
    const counts = new Map<string, number[]>();
    for (const msg of readFrames(Buffer.from(await r.arrayBuffer()), 1 << 20)) {
      for (const s of decodeChunkedReadResponse(msg).series) {
        const list = counts.get(s.labels.get('__name__')) ?? [];
        for (const c of s.chunks) {
          assert.notEqual(c.encoding, PROM_ENC_XOR);
          decodeReadChunk(c, () => assert.fail('a float sample'), (x) => list.push((x.h ?? x.fh)!.count));
        }
        counts.set(s.labels.get('__name__'), list);
      }
    }
    assert.deepEqual(counts.get('rr_hist'), counterHistograms().map((h) => h.count));
    assert.deepEqual(counts.get('rr_float_hist'), floatHistograms().map((h) => h.count));
  });

  test('tsprom queries histograms read from Prometheus 2.42 as Prometheus answers them', async () => {
    for (const name of ['rr_hist', 'rr_float_hist']) {
      const theirs = await histRange(prom.base, name);
      const ours = await histRange(a.base, name);
      assert.equal(theirs[0]!.histograms!.length, 40);
      assert.deepEqual(ours, theirs, name);
    }
  });

  test('tsprom reads histograms from tsprom: streamed chunks through the client, SAMPLES answers raw', async () => {
    for (const name of ['rr_local_hist', 'rr_local_gauge_hist', 'rr_mixed']) {
      const local = await histRange(a.base, name);
      const remote = await histRange(b.base, name);
      assert.ok(local.length === 1 && remote.length === 1, name);
      assert.deepEqual(remote, local, name);
    }
    const mixed = await query<Matrix>(b.base, 'query_range', { query: 'rr_mixed', start: String(HIST_TS[0]! / 1000), end: String(NOW / 1000), step: '15' });
    assert.equal(mixed.result[0]!.values.length, 20);
    const r = await readRaw(a.base, [RESPONSE_SAMPLES], [Matcher.create(MatchType.Equal, '__name__', 'rr_mixed')], 0, NOW);
    const res = decodeReadResponse(uncompressSync(Buffer.from(await r.arrayBuffer())) as Buffer);
    const s = res[0]![0]!;
    assert.equal(s.timestamps.length, 20);
    assert.deepEqual(s.histograms.map((x) => x.h!.count), counterHistograms().slice(10, 30).map((h) => h.count));
    const chunks = await readRaw(a.base, [RESPONSE_STREAMED_XOR_CHUNKS], [Matcher.create(MatchType.Equal, '__name__', 'rr_mixed')], 0, NOW);
    const encodings = [...readFrames(Buffer.from(await chunks.arrayBuffer()), 1 << 20)].flatMap((m) => decodeChunkedReadResponse(m).series.flatMap((x) => x.chunks.map((c) => c.encoding)));
    assert.deepEqual(encodings, [PROM_ENC_XOR, PROM_ENC_HISTOGRAM, PROM_ENC_HISTOGRAM, PROM_ENC_XOR]);
  });
});
