import { JsonWriter } from '../src/web/api/json.js';
const N = 1_000_000;
for (const kind of ['int', 'rand', '3dec']) {
  const fs = new Float64Array(N);
  for (let j = 0; j < N; j++) fs[j] = kind === 'int' ? j * 7 : kind === 'rand' ? Math.random() * 1000 : Math.round(Math.random() * 1e6) / 1000;
  const best = [];
  for (let k = 0; k < 7; k++) {
    const t0 = process.cpuUsage().user / 1000;
    const w = new JsonWriter();
    for (let j = 0; j < N; j++) { w.point(1_700_000_000_000 + j * 15_000, fs[j]!); if (w.pendingBytes > 0) w.takeChunks(); }
    w.finish();
    best.push(process.cpuUsage().user / 1000 - t0);
  }
  best.sort((a, b) => a - b);
  console.log(kind, best.map((x) => x.toFixed(0)).join(' '));
}
