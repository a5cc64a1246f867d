import { queryValueJSON } from '../src/web/api/json.js';
import { Labels } from '../src/model/labels.js';
const S = 1000, P = 1000;
for (const kind of ['int', 'rand', '3dec']) {
const series = [];
for (let i = 0; i < S; i++) {
  const ts = new Float64Array(P), fs = new Float64Array(P);
  for (let j = 0; j < P; j++) { ts[j] = 1_700_000_000_000 + j * 15_000; fs[j] = kind === 'int' ? j * 7 : kind === 'rand' ? Math.random() * 1000 : Math.round(Math.random() * 1e6) / 1000; }
  series.push({ metric: Labels.fromPairs('__name__', 'http_requests_total', 'instance', `host-${i}:9100`, 'job', 'node'), ts, fs });
}
for (let k = 0; k < 4; k++) {
  const t0 = performance.now();
  const r = queryValueJSON({ type: 'matrix', series });
  console.log(kind, (performance.now() - t0).toFixed(0), 'ms', r.result.length);
}
}
