// `npm run bench -- protobuf_parse`: how fast a protobuf scrape body is read.
// One body of 100 counter families x 10 series (3 labels each) and 20 native
// histogram families x 5 series (20 buckets), decoded (a) by the generated
// code's fromBinary, (b) by the hand-written decoder the parser uses, and (c)
// parsed end to end (labels built, histograms made and validated); the same
// series as Prometheus text through the text parser for comparison. Reports the
// best of several timed runs in series per second of CPU time, and one JSON line.
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { MetricFamilySchema, MetricType } from '../src/model/textparse/gen/metrics_pb.js';
import { Entry } from '../src/model/textparse/interface.js';
import { PromParser } from '../src/model/textparse/prom_parser.js';
import { decodeMetricFamily } from '../src/model/textparse/protobuf_decode.js';
import { ProtobufParser } from '../src/model/textparse/protobuf_parser.js';

const families: MessageInitShape<typeof MetricFamilySchema>[] = [];
let text = '';
for (let f = 0; f < 100; f++) {
  const metric = [];
  text += `# HELP metric_${f}_total Help text for metric ${f}\n# TYPE metric_${f}_total counter\n`;
  for (let m = 0; m < 10; m++) {
    metric.push({
      label: [
        { name: 'code', value: String(200 + m) },
        { name: 'instance', value: `host-${m}` },
        { name: 'job', value: 'api' },
      ],
      counter: { value: f * 1000 + m },
    });
    text += `metric_${f}_total{code="${200 + m}",instance="host-${m}",job="api"} ${f * 1000 + m}\n`;
  }
  families.push({ name: `metric_${f}_total`, help: `Help text for metric ${f}`, type: MetricType.COUNTER, metric });
}
for (let f = 0; f < 20; f++) {
  const metric = [];
  for (let m = 0; m < 5; m++) {
    metric.push({
      label: [{ name: 'handler', value: `/api/${m}` }],
      histogram: {
        sampleCount: 208n,
        sampleSum: 123.4,
        schema: 3,
        zeroThreshold: 2 ** -128,
        zeroCount: 2n,
        positiveSpan: [{ offset: -10, length: 20 }],
        positiveDelta: Array.from({ length: 20 }, (_, i) => (i === 0 ? 10n : BigInt((i % 3) - 1))),
      },
    });
  }
  families.push({ name: `latency_${f}_seconds`, help: 'Latency', type: MetricType.HISTOGRAM, metric });
}
const SERIES = 100 * 10 + 20 * 5;
const parts: number[] = [];
for (const f of families) {
  const b = toBinary(MetricFamilySchema, create(MetricFamilySchema, f));
  let n = b.length;
  while (n >= 0x80) {
    parts.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  parts.push(n, ...b);
}
const body = Uint8Array.from(parts);
const textBody = Buffer.from(text);

function eachMessage(f: (start: number, end: number) => void): void {
  let p = 0;
  while (p < body.length) {
    let len = 0;
    let shift = 1;
    for (;;) {
      const b = body[p++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
    }
    f(p, p + len);
    p += len;
  }
}

const cases: [string, number, () => void][] = [
  ['generated fromBinary', SERIES, () => eachMessage((s, e) => void fromBinary(MetricFamilySchema, body.subarray(s, e)))],
  ['hand-written decoder', SERIES, () => eachMessage((s, e) => void decodeMetricFamily(body, s, e))],
  [
    'ProtobufParser end to end',
    SERIES,
    () => {
      const p = new ProtobufParser(body);
      for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
        if (e === Entry.Series) {
          p.labels();
          p.value();
        } else if (e === Entry.Histogram) {
          p.labels();
          p.histogram();
        }
      }
    },
  ],
  [
    'PromParser, the 1,000 counters as text',
    1000,
    () => {
      const p = new PromParser(textBody);
      for (let e = p.next(); e !== Entry.EOF; e = p.next()) {
        if (e === Entry.Series) {
          p.labels();
          p.value();
        }
      }
    },
  ],
];

const RUNS = 7;
const figures: Record<string, number> = {};
console.log(`protobuf body ${body.length} bytes, ${SERIES} series`);
for (const [name, series, f] of cases) {
  for (let i = 0; i < 30; i++) f();
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.cpuUsage();
    let n = 0;
    while (n < 50) {
      f();
      n++;
    }
    const d = process.cpuUsage(t0);
    best = Math.min(best, (d.user + d.system) / 1000 / n);
  }
  const rate = Math.round((series / best) * 1000);
  figures[name] = rate;
  console.log(`${name.padEnd(40)} ${best.toFixed(3).padStart(8)} ms  ${rate.toLocaleString('en-US').padStart(12)} series/s`);
}
console.log(
  JSON.stringify({
    protobuf_generated_decode_series_per_sec: figures['generated fromBinary'],
    protobuf_handwritten_decode_series_per_sec: figures['hand-written decoder'],
    protobuf_parse_series_per_sec: figures['ProtobufParser end to end'],
    text_parse_series_per_sec: figures['PromParser, the 1,000 counters as text'],
  }),
);
