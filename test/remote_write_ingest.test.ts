// Remote write into the real server with decode workers: concurrent senders, each
// acknowledged sample queryable afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTsprom, api } from './api_process.js';
import { writeRequestBody, type TestSeries } from './remote_write_proto.js';

const T0 = 1_700_000_000_000;
const CLIENTS = 4;
const ROUNDS = 6;
const SERIES_PER_CLIENT = 500;

/** Client k's round r: one sample for each of its own series (bodies above the 4 KiB inline threshold). */
function body(k: number, r: number): Buffer {
  const ss: TestSeries[] = [];
  for (let i = 0; i < SERIES_PER_CLIENT; i++) {
    ss.push({ labels: { __name__: 'ingest_test', client: String(k), series: String(i), job: 'bench', instance: `host-${i % 50}:9100` }, samples: [[T0 + r * 15_000, k * 1e6 + i * 100 + r]] });
  }
  return writeRequestBody(ss);
}

test('concurrent senders through decode workers: every acknowledged sample is queryable', async () => {
  const ts = await startTsprom({ args: ['--web.enable-remote-write-receiver', '--web.remote-write-receiver.decode-workers=2'] });
  try {
    let acked = 0;
    const client = async (k: number): Promise<void> => {
      for (let r = 0; r < ROUNDS; r++) {
        const b = body(k, r);
        for (;;) {
          const res = await fetch(`${ts.base}/api/v1/write`, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' }, body: b });
          await res.arrayBuffer();
          // A full decode queue asks to come back; anything else but 204 fails.
          if (res.status === 503 && res.headers.get('retry-after') !== null) continue;
          assert.equal(res.status, 204);
          acked += SERIES_PER_CLIENT;
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
    assert.equal(acked, CLIENTS * ROUNDS * SERIES_PER_CLIENT);
    const q = await api(`${ts.base}/api/v1/query?query=${encodeURIComponent('count_over_time(ingest_test[10m])')}&time=${(T0 + ROUNDS * 15_000) / 1000}`);
    const result = (q.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
    assert.equal(result.length, CLIENTS * SERIES_PER_CLIENT);
    for (const s of result) assert.equal(s.value[1], String(ROUNDS), JSON.stringify(s.metric));
    const sum = await api(`${ts.base}/api/v1/query?query=${encodeURIComponent('sum(ingest_test)')}&time=${(T0 + (ROUNDS - 1) * 15_000) / 1000}`);
    let want = 0;
    for (let k = 0; k < CLIENTS; k++) for (let i = 0; i < SERIES_PER_CLIENT; i++) want += k * 1e6 + i * 100 + ROUNDS - 1;
    assert.equal(Number((sum.body.data as { result: Array<{ value: [number, string] }> }).result[0]!.value[1]), want);
  } finally {
    await ts.stop();
  }
});
