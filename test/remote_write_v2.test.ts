// Remote write 2.0 into the real server (TSDB head): accepted by default next
// to 1.0, partial writes, Prometheus's texts for refused samples, and the
// written data queryable over the API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTsprom, api, type Tsprom } from './api_process.js';
import { compressSync } from 'snappy';
import { encodeWriteV2Request, writeRequestBody, writeV2RequestBody, V2_CONTENT_TYPE, type TestV2Series } from './remote_write_proto.js';

// Ten minutes back: inside what the head accepts, clear of the future limit.
const T = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;

describe('remote write 2.0 into the server', () => {
  let s: Tsprom;
  before(async () => {
    s = await startTsprom({ args: ['--web.enable-remote-write-receiver'] });
  });
  after(async () => {
    await s.stop();
  });

  const sendV2 = (series: TestV2Series[]): Promise<Response> =>
    fetch(`${s.base}/api/v1/write`, {
      method: 'POST',
      body: writeV2RequestBody(series),
      headers: { 'Content-Type': V2_CONTENT_TYPE, 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '2.0.0' },
    });

  async function values(query: string): Promise<unknown> {
    const { body } = await api(`${s.base}/api/v1/query?${new URLSearchParams({ query, time: String(T / 1000) })}`);
    assert.equal(body['status'], 'success', JSON.stringify(body));
    return (body['data'] as { result: unknown }).result;
  }

  test('2.0 and 1.0 bodies are both accepted on /api/v1/write', async () => {
    const v2 = await sendV2([
      { labels: { __name__: 'rw2', job: 'a' }, samples: [[T - 15_000, 1], [T, 2]], metadata: { type: 2, help: 'A gauge.', unit: '' } },
    ]);
    assert.equal(v2.status, 204, await v2.text());
    const v1 = await fetch(`${s.base}/api/v1/write`, {
      method: 'POST',
      body: writeRequestBody([{ labels: { __name__: 'rw2', job: 'b' }, samples: [[T, 3]] }]),
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
    });
    assert.equal(v1.status, 204, await v1.text());
    assert.deepEqual(await values('rw2'), [
      { metric: { __name__: 'rw2', job: 'a' }, value: [T / 1000, '2'] },
      { metric: { __name__: 'rw2', job: 'b' }, value: [T / 1000, '3'] },
    ]);
  });

  test('refused samples are named in the 400, the rest of the request is written', async () => {
    assert.equal((await sendV2([{ labels: { __name__: 'part', k: 'x' }, samples: [[T, 0.25]] }])).status, 204);
    const r = await sendV2([
      { labels: { __name__: 'part', k: 'new' }, samples: [[T, 7]] },
      { labels: { k: 'x', __name__: 'part' }, samples: [[T - 60_000, 1], [T, 1e21]] },
      { labels: { job: 'nameless' }, samples: [[T, 1]] },
    ]);
    assert.equal(r.status, 400);
    assert.equal(
      await r.text(),
      'out of order sample for series {__name__="part", k="x"}\n' +
        `duplicate sample for timestamp ${T}; overrides not allowed: existing 0.25, new value 1e+21 for series {__name__="part", k="x"}\n` +
        'invalid metric name or labels, got {job="nameless"}\n',
    );
    assert.deepEqual(await values('part'), [
      { metric: { __name__: 'part', k: 'x' }, value: [T / 1000, '0.25'] },
      { metric: { __name__: 'part', k: 'new' }, value: [T / 1000, '7'] },
    ]);
  });

  test('1.0 refuses the whole request with the storage text, without the series', async () => {
    const r = await fetch(`${s.base}/api/v1/write`, {
      method: 'POST',
      body: writeRequestBody([
        { labels: { __name__: 'v1fresh' }, samples: [[T, 1]] },
        { labels: { __name__: 'part', k: 'x' }, samples: [[T, 2]] },
      ]),
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' },
    });
    assert.equal(r.status, 400);
    assert.equal(await r.text(), `duplicate sample for timestamp ${T}; overrides not allowed: existing 0.25, new value 2\n`);
    assert.deepEqual(await values('v1fresh'), []);
  });

  test('a malformed 2.0 body is a 400 and changes nothing', async () => {
    const before = await api(`${s.base}/api/v1/series?match[]={__name__=~".+"}`);
    const r = await fetch(`${s.base}/api/v1/write`, {
      method: 'POST',
      body: compressSync(encodeWriteV2Request([{ labels: { __name__: 'x' }, samples: [[T, 1]] }]).subarray(0, 20)),
      headers: { 'Content-Type': V2_CONTENT_TYPE, 'Content-Encoding': 'snappy' },
    });
    assert.deepEqual([r.status, await r.text()], [400, 'unexpected EOF\n']);
    const after = await api(`${s.base}/api/v1/series?match[]={__name__=~".+"}`);
    assert.deepEqual(after.body, before.body);
  });
});
