import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { compileAnchoredRegex, regexCacheStats } from '../model/matcher.js';
import { EngineMetrics, registerProcessMetrics } from './server.js';

test('the regex cache size is exported as tsprom_regex_cache_entries', async () => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  compileAnchoredRegex('metrics_server_test_[0-9]+');
  const m = await registry.getSingleMetric('tsprom_regex_cache_entries')!.get();
  assert.equal(m.values[0]!.value, regexCacheStats().entries);
  assert.ok(m.values[0]!.value >= 1);
});

test('query timings reach the engine summary and sample counter by the time they are scraped', async () => {
  const registry = new Registry();
  const m = new EngineMetrics(registry, 20);
  const timings = { evalTotalTime: 0.5, resultSortTime: 0.25, queryPreparationTime: 0.125, innerEvalTime: 0.375, execQueueTime: 0.0625, execTotalTime: 0.5 };
  for (let i = 0; i < 3; i++) {
    m.observe({ params: { query: 'up', start: 0, end: 0, step: 0 }, stats: { timings, samples: { totalQueryableSamples: 7, peakSamples: 1 } }, origin: {} });
  }
  const text = await registry.metrics();
  assert.match(text, /^# TYPE prometheus_engine_query_duration_seconds summary$/m);
  assert.match(text, /^prometheus_engine_query_duration_seconds\{quantile="0.5",slice="inner_eval"\} 0.375$/m);
  assert.match(text, /^prometheus_engine_query_duration_seconds_sum\{slice="result_sort"\} 0.75$/m);
  assert.match(text, /^prometheus_engine_query_duration_seconds_count\{slice="queue_time"\} 3$/m);
  assert.match(text, /^prometheus_engine_query_duration_seconds_count\{slice="prepare_time"\} 3$/m);
  assert.match(text, /^prometheus_engine_query_samples_total 21$/m);
});

test('prometheus_engine_queries counts the queries started and not finished when scraped', async () => {
  const registry = new Registry();
  const m = new EngineMetrics(registry, 20);
  m.queryStarted();
  m.queryStarted();
  m.queryFinished();
  assert.match(await registry.metrics(), /^prometheus_engine_queries 1$/m);
});
