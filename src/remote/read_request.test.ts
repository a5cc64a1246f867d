import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../model/labels.js';
import { MatchType, Matcher } from '../model/matcher.js';
import { crc32c } from '../tsdb/encoding/crc32c.js';
import {
  FrameError,
  InvalidMatcherError,
  ProtoWriter,
  RESPONSE_SAMPLES,
  RESPONSE_STREAMED_XOR_CHUNKS,
  ReadResponseWriter,
  chunkSize,
  decodeChunkedReadResponse,
  decodeReadRequest,
  decodeReadResponse,
  encodeChunkedReadResponse,
  encodeReadRequest,
  frame,
  readFrames,
  type ReadRequest,
} from './read_request.js';
import { ProtobufError, Reader } from './write_request.js';

test('ReadRequest: encode and decode round trip (matchers of every type, hints, negative times)', () => {
  const req: ReadRequest = {
    queries: [
      {
        startMs: -5000,
        endMs: 1_700_000_000_123,
        matchers: [
          Matcher.create(MatchType.Equal, '__name__', 'up'),
          Matcher.create(MatchType.NotEqual, 'job', ''),
          Matcher.create(MatchType.Regexp, 'instance', 'a.*|b'),
          Matcher.create(MatchType.NotRegexp, 'x', 'ü+'),
        ],
        hints: { stepMs: 15_000, func: 'rate', startMs: 1, endMs: 2, grouping: ['job', 'le'], by: true, rangeMs: 300_000 },
      },
      { startMs: 0, endMs: 10, matchers: [], hints: null },
    ],
    acceptedResponseTypes: [RESPONSE_STREAMED_XOR_CHUNKS, RESPONSE_SAMPLES],
  };
  const got = decodeReadRequest(encodeReadRequest(req));
  assert.deepEqual(got.acceptedResponseTypes, req.acceptedResponseTypes);
  assert.equal(got.queries.length, 2);
  const [q0, q1] = got.queries;
  assert.equal(q0!.startMs, -5000);
  assert.equal(q0!.endMs, 1_700_000_000_123);
  assert.deepEqual(
    q0!.matchers.map((m) => m.toString()),
    req.queries[0]!.matchers.map((m) => m.toString()),
  );
  assert.deepEqual(q0!.hints, req.queries[0]!.hints);
  assert.deepEqual(q1, { startMs: 0, endMs: 10, matchers: [], hints: null });
});

test('ReadRequest: response types unpacked (one field each) decode too; an unknown matcher type is refused', () => {
  const w = new ProtoWriter();
  w.tag(2, 0);
  w.uvarint(1);
  w.tag(2, 0);
  w.uvarint(0);
  assert.deepEqual(decodeReadRequest(w.finish()).acceptedResponseTypes, [1, 0]);
  const bad = new ProtoWriter();
  const q = bad.begin(1);
  const m = bad.begin(3);
  bad.tag(1, 0);
  bad.uvarint(9);
  bad.end(m);
  bad.end(q);
  assert.throws(() => decodeReadRequest(bad.finish()), InvalidMatcherError);
  assert.throws(() => decodeReadRequest(Buffer.from([0x0a, 0x05, 0x01])), ProtobufError);
});

test('ProtoWriter: nested lengths of 1, 2 and 3 bytes are moved into place', () => {
  for (const size of [5, 200, 20_000]) {
    const w = new ProtoWriter(16);
    const s = w.begin(1);
    w.bytesField(2, Buffer.alloc(size, 7));
    w.end(s);
    w.tag(3, 0);
    w.uvarint(42);
    const buf = w.finish();
    const r = new Reader(buf, 0, buf.length, 'T');
    assert.deepEqual(r.tag(), [1, 2]);
    const [start, end] = r.bytes();
    const inner = new Reader(buf, start, end, 'I');
    assert.deepEqual(inner.tag(), [2, 2]);
    const [ds, de] = inner.bytes();
    assert.equal(de - ds, size);
    assert.equal(inner.pos, end);
    assert.deepEqual(r.tag(), [3, 0]);
    assert.equal(r.varint(), 42);
  }
});

test('ReadResponse: series with samples round trip; zero values and -0 keep their meaning', () => {
  const w = new ReadResponseWriter();
  w.beginResult();
  w.series(Labels.fromPairs('__name__', 'a', 'job', 'x'), Float64Array.from([0, 1000, -2000]), Float64Array.from([0, -0, 1.5]), 3);
  w.series(Labels.fromPairs('__name__', 'b'), new Float64Array(0), new Float64Array(0), 0);
  w.endResult();
  w.beginResult();
  w.endResult();
  const res = decodeReadResponse(w.finish());
  assert.equal(res.length, 2);
  assert.equal(res[1]!.length, 0);
  const [a, b] = res[0]!;
  assert.equal(a!.labels.toString(), '{__name__="a", job="x"}');
  assert.deepEqual([...a!.timestamps], [0, 1000, -2000]);
  assert.ok(Object.is(a!.values[1], -0));
  assert.deepEqual([...a!.values], [0, -0, 1.5]);
  assert.equal(b!.timestamps.length, 0);
});

test('ChunkedReadResponse: round trip, with chunkSize matching the encoded chunk', () => {
  const chunk = { minTimeMs: 1000, maxTimeMs: 2000, encoding: 1, data: Uint8Array.from([0, 2, 9, 9, 9]) };
  const labels = Labels.fromPairs('__name__', 'up', 'job', 'j');
  const msg = encodeChunkedReadResponse(labels, [chunk, chunk], 3);
  const got = decodeChunkedReadResponse(msg);
  assert.equal(got.queryIndex, 3);
  assert.equal(got.series.length, 1);
  assert.equal(got.series[0]!.labels.toString(), labels.toString());
  assert.deepEqual(
    got.series[0]!.chunks.map((c) => ({ ...c, data: [...c.data] })),
    [chunk, chunk].map((c) => ({ ...c, data: [...c.data] })),
  );
  const single = new ProtoWriter();
  const s = single.begin(2);
  single.tag(1, 0);
  single.uvarint(1000);
  single.tag(2, 0);
  single.uvarint(2000);
  single.tag(3, 0);
  single.uvarint(1);
  single.bytesField(4, chunk.data);
  single.end(s);
  // The chunk message's own bytes: everything after its field tag and one-byte length.
  assert.equal(chunkSize(chunk), single.finish().length - 2);
});

test('frames: uvarint length, big-endian CRC-32C, message; damage and oversize are refused', () => {
  const a = Buffer.from('first message');
  const b = Buffer.alloc(300, 1);
  const body = Buffer.concat([frame(a), frame(b)]);
  assert.equal(body.readUInt32BE(1), crc32c(a));
  assert.deepEqual(
    [...readFrames(body, 1000)].map((m) => m.length),
    [a.length, b.length],
  );
  const bad = Buffer.from(body);
  bad[7] = bad[7]! ^ 1;
  assert.throws(() => [...readFrames(bad, 1000)], FrameError);
  assert.throws(() => [...readFrames(body, 100)], /message size exceeded the limit 300 bytes/);
  assert.throws(() => [...readFrames(body.subarray(0, body.length - 1), 1000)], FrameError);
});
