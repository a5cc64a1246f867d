// Parse throughput over every query of the shared PromQL test files.
// `npm run bench -- parser`; the last line is a JSON object of figures.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseExpr } from '../src/promql/parser/parser.js';
import { parseScript } from '../src/promql/promqltest/script.js';
import { featuresFor, listTestFiles, testdataDir, testdataExists } from '../src/promql/promqltest/testdata.js';

/** Timed passes; the median is reported so one GC pause or a noisy neighbour on the shared machine does not decide it. */
const PASSES = 9;
/** Times the corpus is parsed per pass: one walk takes only a few ms, too short to time reliably. */
const CORPUS_WALKS_PER_PASS = 5;
/** Untimed passes first, so the JIT has compiled the parser before timing starts. */
const WARMUP_PASSES = 5;

interface Item {
  query: string;
  features: ReadonlySet<string>;
}

const dir = testdataDir();
if (!testdataExists(dir)) {
  console.error(`parser bench: test files not found at ${dir} (set PROMQL_TESTDATA)`);
  process.exit(1);
}

const corpus: Item[] = [];
let rejected = 0;
let bytes = 0;
for (const path of listTestFiles(dir)) {
  const features = featuresFor(basename(path));
  for (const c of parseScript(readFileSync(path, 'utf8')).commands) {
    if (c.kind !== 'eval') continue;
    try {
      parseExpr(c.query, { features });
      corpus.push({ query: c.query, features });
      bytes += Buffer.byteLength(c.query);
    } catch {
      // Queries the parser rejects would time the error path; they are counted, not timed.
      rejected++;
    }
  }
}

const perPass = corpus.length * CORPUS_WALKS_PER_PASS;

function pass(): number {
  const t0 = performance.now();
  for (let w = 0; w < CORPUS_WALKS_PER_PASS; w++) for (const it of corpus) parseExpr(it.query, { features: it.features });
  return performance.now() - t0;
}

// No forced GC between passes: steady-state throughput is the figure wanted, and
// a full collection right before a short pass measures the collector instead.
for (let i = 0; i < WARMUP_PASSES; i++) pass();
const times: number[] = [];
for (let i = 0; i < PASSES; i++) times.push(pass());

const rows = times.map((ms, i) => [String(i + 1), ms.toFixed(2), Math.round((perPass / ms) * 1000).toString()]);
console.log(`corpus: ${corpus.length} queries (${bytes} bytes) from ${dir}; ${rejected} rejected by the parser and left out`);
console.log(`each pass parses the corpus ${CORPUS_WALKS_PER_PASS} times (${perPass} queries)`);
console.log(['pass', 'ms', 'queries/s'].map((h) => h.padStart(12)).join(''));
for (const r of rows) console.log(r.map((c) => c.padStart(12)).join(''));
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
console.log(
  JSON.stringify({
    queries: corpus.length,
    rejected,
    passes: PASSES,
    queries_per_pass: perPass,
    median_pass_ms: Number(median.toFixed(3)),
    parse_queries_per_s: Math.round((perPass / median) * 1000),
    parse_mb_per_s: Number(((bytes * CORPUS_WALKS_PER_PASS) / 1e6 / (median / 1000)).toFixed(2)),
  }),
);
