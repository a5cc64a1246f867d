import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCompactV1, hashBytes, hashView, type CompactV1 } from './ingest_decode.js';
import { arenaScratch } from './ingest_pool.js';
import { decodeLabelFields, decodeWriteRequest, type DecodedWriteRequest } from './write_request.js';
import { encodeWriteRequest, type TestSeries } from '../../test/remote_write_proto.js';

/** Asserts that the compact decoding says what the full decoder says of the same body. */
function assertSame(c: CompactV1, full: DecodedWriteRequest): void {
  assert.equal(c.series, full.series.length);
  assert.equal(c.samples, full.samples);
  assert.equal(c.metadata, full.metadata);
  for (let i = 0; i < c.series; i++) {
    const s = full.series[i]!;
    const lbl = decodeLabelFields(Buffer.from(c.buf.buffer, c.buf.byteOffset, c.buf.byteLength), c.lblStart[i]!, c.lblEnd[i]!);
    assert.deepEqual(lbl.labels, s.labels);
    assert.equal(lbl.utf8, s.utf8);
    assert.equal(c.hash[i], hashBytes(c.buf, c.lblStart[i]!, c.lblEnd[i]!));
    assert.equal(c.sampleStart[i], s.start);
    assert.equal(c.sampleStart[i + 1], s.end);
    assert.equal(s.exEnd - s.exStart, 0);
    assert.equal(s.hEnd - s.hStart, 0);
  }
  for (let j = 0; j < c.samples; j++) {
    assert.ok(Object.is(c.ts[j], full.timestamps[j]), `timestamp ${j}`);
    assert.ok(Object.is(c.vs[j], full.values[j]), `value ${j}`);
  }
}

/** The compact decoder either declines or agrees with the full one; when the full one throws, it declines. */
function check(body: Buffer): void {
  let full: DecodedWriteRequest | null = null;
  try {
    full = decodeWriteRequest(body);
  } catch {
    full = null;
  }
  const c = decodeCompactV1(body);
  if (c === null) return;
  assert.ok(full !== null, 'compact decoder took a body the full decoder refuses');
  assertSame(c, full);
}

const label = fc.tuple(fc.string({ maxLength: 12, unit: 'binary' }), fc.string({ maxLength: 20, unit: 'binary' }));
const sample = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 2 ** 48 }), fc.integer({ min: -1000, max: 2 ** 53 - 1 })), fc.double());
const series: fc.Arbitrary<TestSeries> = fc.record({
  labels: fc.array(label, { maxLength: 10 }),
  samples: fc.array(sample, { maxLength: 4 }),
});

test('a common body is taken and decodes as the full decoder decodes it', () => {
  const body = encodeWriteRequest([
    { labels: { __name__: 'up', job: 'node', instance: 'a:9100' }, samples: [[1_700_000_000_000, 1], [1_700_000_015_000, 0]] },
    { labels: { __name__: 'x', 'ünï': 'cödé' }, samples: [[5, -2.5]] },
    { labels: {}, samples: [] },
  ]);
  const c = decodeCompactV1(body);
  assert.ok(c !== null);
  assertSame(c, decodeWriteRequest(body));
});

test('equal label bytes hash equal; series with exemplars, histograms or negative timestamps are declined', () => {
  const body = encodeWriteRequest([
    { labels: { __name__: 'a', b: 'c' }, samples: [[1, 1]] },
    { labels: { __name__: 'a', b: 'c' }, samples: [[2, 2]] },
  ]);
  const c = decodeCompactV1(body)!;
  assert.equal(c.hash[0], c.hash[1]);
  assert.equal(decodeCompactV1(encodeWriteRequest([{ labels: { __name__: 'a' }, samples: [[1, 1]], exemplars: [{ labels: { t: '1' }, value: 1, t: 1 }] }])), null);
  assert.equal(decodeCompactV1(encodeWriteRequest([{ labels: { __name__: 'a' }, samples: [], histograms: [5] }])), null);
  assert.equal(decodeCompactV1(encodeWriteRequest([{ labels: { __name__: 'a' }, samples: [[-5, 1]] }])), null);
});

test('property: on random bodies the compact decoder declines or agrees with the full decoder', () => {
  fc.assert(
    fc.property(fc.array(series, { maxLength: 8 }), (ss) => check(encodeWriteRequest(ss))),
    { numRuns: 500 },
  );
});

test('property: truncated and corrupted bodies are declined unless the full decoder takes them alike', () => {
  fc.assert(
    fc.property(fc.array(series, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(255), fc.boolean(), (ss, at, byte, truncate) => {
      const body = encodeWriteRequest(ss);
      const i = at % body.length;
      const bad = truncate ? body.subarray(0, i) : Buffer.from(body);
      if (!truncate) bad[i] = byte;
      check(bad);
    }),
    { numRuns: 1000 },
  );
});

/** Protobuf bytes by hand, for shapes encodeWriteRequest never writes. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}
const lenField = (tag: number, payload: number[]): number[] => [tag, ...varint(payload.length), ...payload];
const str = (tag: number, s: string): number[] => lenField(tag, [...Buffer.from(s)]);
/** A body of one series with these Label messages (payloads) and one sample. */
function bodyWithLabels(labels: number[][]): Buffer {
  const sample = [0x09, ...Buffer.alloc(8), 0x10, ...varint(1000)];
  return Buffer.from(lenField(0x0a, [...labels.flatMap((l) => lenField(0x0a, l)), ...lenField(0x12, sample)]));
}

test('label messages of other shapes than name-then-value are checked field by field', () => {
  const long = 'v'.repeat(200);
  const cases: Array<[string, number[][], boolean]> = [
    ['name then value', [[...str(0x0a, '__name__'), ...str(0x12, 'up')]], true],
    ['value then name', [[...str(0x12, 'up'), ...str(0x0a, '__name__')]], true],
    ['name only (empty value)', [[...str(0x0a, '__name__')], [...str(0x0a, 'job')]], true],
    ['empty label message', [[...str(0x0a, '__name__'), ...str(0x12, 'up')], []], true],
    ['value of 200 bytes (two-byte lengths)', [[...str(0x0a, '__name__'), ...str(0x12, long)]], true],
    ['name repeated', [[...str(0x0a, 'a'), ...str(0x0a, '__name__'), ...str(0x12, 'up')]], true],
    ['unknown field', [[...str(0x0a, '__name__'), ...str(0x12, 'up'), 0x18, 1]], false],
    ['value length past the message', [[...str(0x0a, '__name__'), 0x12, 5, 0x75, 0x70]], false],
  ];
  for (const [name, labels, taken] of cases) {
    const body = bodyWithLabels(labels);
    const c = decodeCompactV1(body);
    assert.equal(c !== null, taken, name);
    if (c !== null) assertSame(c, decodeWriteRequest(body));
  }
});

test('a label whose length runs past its series into the next one is declined', () => {
  // The Label message and its value claim 2 bytes more than the series holds; the next series' bytes would fill them.
  const label = [...str(0x0a, '__name__'), 0x12, 4, ...Buffer.from('up')];
  const first = lenField(0x0a, [0x0a, label.length + 2, ...label]);
  const next = lenField(0x0a, lenField(0x0a, [...str(0x0a, 'a'), ...str(0x12, 'b')]));
  const body = Buffer.from([...first, ...next]);
  assert.throws(() => decodeWriteRequest(body));
  assert.equal(decodeCompactV1(body), null);
});

test('bodies past the first guesses of series and samples grow the arrays and decode as the full decoder decodes them', () => {
  const many = encodeWriteRequest(Array.from({ length: 600 }, (_, i) => ({ labels: { __name__: 'm', i: String(i) }, samples: [[i, i / 2]] })));
  // Empty Sample messages (2 bytes each: value 0 at time 0) outnumber the guess made from the body's length.
  const empty = Buffer.from(lenField(0x0a, [...lenField(0x0a, [...str(0x0a, '__name__'), ...str(0x12, 'e')]), ...Array.from({ length: 3000 }, () => [0x12, 0]).flat()]));
  for (const body of [many, empty, Buffer.concat([many, empty])]) {
    const c = decodeCompactV1(body);
    assert.ok(c !== null);
    assertSame(c, decodeWriteRequest(body));
  }
});

test('arrays given as scratch are filled, outgrown when too short, and decode as the full decoder decodes them', () => {
  const body = encodeWriteRequest(Array.from({ length: 300 }, (_, i) => ({ labels: { __name__: 'm', i: String(i) }, samples: [[i, i / 2], [i + 1, -i]] })));
  // Scratch memory holding stale values from an earlier body: capacities of 5 (outgrown) and of 1,000 series and samples.
  for (const bytes of [5 * 32 + 8, 1000 * 32 + 8]) {
    const arena = new SharedArrayBuffer(bytes);
    new Uint8Array(arena).fill(0xa5);
    const scratch = arenaScratch(arena, 0)!;
    const c = decodeCompactV1(body, scratch);
    assert.ok(c !== null);
    assert.equal(c.ts.buffer === arena, bytes > 600 * 16, 'samples in the scratch arrays while they fit');
    assert.equal(c.lblStart.buffer === arena, bytes > 300 * 16, 'series in the scratch arrays while they fit');
    assertSame(c, decodeWriteRequest(body));
  }
});

test('property: label names and values longer than 127 bytes decode as the full decoder decodes them', () => {
  const longLabel = fc.tuple(fc.string({ maxLength: 150 }), fc.string({ minLength: 100, maxLength: 300 }));
  // Timestamps the compact decoder takes (up to 7 varint bytes), so every body is taken.
  const taken = fc.tuple(fc.integer({ min: 0, max: 2 ** 48 }), fc.double());
  fc.assert(
    fc.property(fc.array(fc.record({ labels: fc.array(longLabel, { maxLength: 4 }), samples: fc.array(taken, { maxLength: 2 }) }), { maxLength: 3 }), (ss) => {
      const body = encodeWriteRequest(ss);
      const c = decodeCompactV1(body);
      assert.ok(c !== null);
      assertSame(c, decodeWriteRequest(body));
    }),
    { numRuns: 200 },
  );
});

test('hashView over a view of a buffer equals hashBytes; the length and every byte change it', () => {
  const buf = Buffer.from('0123456789abcdefghij');
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const seen = new Set<number>();
  for (let end = 0; end <= buf.length; end++) {
    assert.equal(hashView(v, 0, end), hashBytes(buf, 0, end));
    seen.add(hashBytes(buf, 0, end));
  }
  assert.equal(seen.size, buf.length + 1);
  for (let i = 0; i < buf.length; i++) {
    const b = Buffer.from(buf);
    b[i] = b[i]! ^ 1;
    assert.notEqual(hashBytes(b, 0, b.length), hashBytes(buf, 0, buf.length), `byte ${i}`);
  }
});
