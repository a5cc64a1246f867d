import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { compileAnchoredRegex, regexCacheStats } from '../model/matcher.js';
import { registerProcessMetrics } from './server.js';

test('the regex cache size is exported as tsprom_regex_cache_entries', async () => {
  const registry = new Registry();
  registerProcessMetrics(registry);
  compileAnchoredRegex('metrics_server_test_[0-9]+');
  const m = await registry.getSingleMetric('tsprom_regex_cache_entries')!.get();
  assert.equal(m.values[0]!.value, regexCacheStats().entries);
  assert.ok(m.values[0]!.value >= 1);
});
