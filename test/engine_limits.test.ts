// The engine's protective limits end to end: timeout, cancellation, the
// sample limit, the concurrency queue, and yielding to the event loop.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../src/model/labels.js';
import type { Matcher } from '../src/model/matcher.js';
import { Engine } from '../src/promql/engine/engine.js';
import { QueryCanceledError, QueryQueueFullError, QueryTimeoutError, TooManySamplesError } from '../src/promql/engine/errors.js';
import type { QueryLogRecord } from '../src/promql/engine/types.js';
import type { Querier, Queryable, SelectHints, SeriesSet } from '../src/storage/interface.js';
import { MemoryStorage } from '../src/storage/memory.js';

const M = 60_000;

function fixture(series: number, points: number): MemoryStorage {
  const db = new MemoryStorage();
  for (let s = 0; s < series; s++) {
    const app = db.appender();
    const ls = Labels.fromPairs('__name__', 'm', 'i', String(s));
    for (let p = 0; p < points; p++) app.append(0, ls, p * M, p);
    app.commit();
  }
  return db;
}

/** Blocks the thread for `ms`, like a slow disk read inside a synchronous iterator would. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

/** Wraps a storage so that opening each series' iterator takes `msPerSeries`, and records what happens. */
class SlowStorage implements Queryable {
  readonly events: string[] = [];
  constructor(
    private readonly inner: MemoryStorage,
    private readonly msPerSeries: number,
    private readonly name = 'q',
  ) {}

  querier(mint: number, maxt: number): Querier {
    this.events.push(`${this.name}:querier`);
    const q = this.inner.querier(mint, maxt);
    const ms = this.msPerSeries;
    return {
      select(sort: boolean, hints: SelectHints | null, ...matchers: Matcher[]): SeriesSet {
        const set = q.select(sort, hints, ...matchers);
        return {
          next: () => set.next(),
          err: () => set.err(),
          warnings: () => set.warnings(),
          at: () => {
            const s = set.at();
            return {
              labels: s.labels,
              iterator: () => {
                busy(ms);
                return s.iterator();
              },
            };
          },
        };
      },
      labelValues: (n, h, ...m) => q.labelValues(n, h, ...m),
      labelNames: (h, ...m) => q.labelNames(h, ...m),
      close: () => q.close(),
    };
  }
}

describe('query timeout', () => {
  test('a query running past --query.timeout fails with a timeout error and is logged', async () => {
    const recs: QueryLogRecord[] = [];
    const ng = new Engine({ timeoutMs: 30, onQueryDone: (r) => recs.push(r) });
    const slow = new SlowStorage(fixture(60, 10), 5);
    const q = ng.newRangeQuery(slow, 'sum(m)', 0, 9 * M, M);
    await assert.rejects(q.exec(), (e: unknown) => e instanceof QueryTimeoutError && e.message === 'query timed out in expression evaluation');
    assert.equal(recs.length, 1);
    assert.equal(recs[0]!.error, 'query timed out in expression evaluation');
    assert.ok(q.stats().timings.execTotalTime > 0);
  });
});

describe('cancellation', () => {
  test('aborting the signal stops a running query', async () => {
    const ng = new Engine();
    const slow = new SlowStorage(fixture(60, 10), 5);
    const ac = new AbortController();
    const running = ng.newRangeQuery(slow, 'sum(m)', 0, 9 * M, M).exec({ signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(running, (e: unknown) => e instanceof QueryCanceledError && e.message === 'query was canceled in expression evaluation');
  });

  test('aborting a queued query removes it from the queue', async () => {
    const ng = new Engine({ maxConcurrency: 1 });
    const slow = new SlowStorage(fixture(20, 5), 5);
    const first = ng.newInstantQuery(slow, 'm', 4 * M).exec();
    const ac = new AbortController();
    const queued = ng.newInstantQuery(slow, 'm', 4 * M).exec({ signal: ac.signal });
    assert.equal(ng.queuedQueries, 1);
    ac.abort();
    await assert.rejects(queued, { message: 'query was canceled in query queue' });
    assert.equal(ng.queuedQueries, 0);
    await first;
    assert.equal(ng.runningQueries, 0);
  });

  test('an already aborted signal never starts the query', async () => {
    const ng = new Engine();
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(ng.newInstantQuery(fixture(1, 1), 'm', 0).exec({ signal: ac.signal }), QueryCanceledError);
  });
});

describe('sample limit', () => {
  const db = fixture(10, 10);

  test('a query holding more samples than --query.max-samples fails', async () => {
    const ng = new Engine({ maxSamples: 50 });
    await assert.rejects(ng.newRangeQuery(db, 'm', 0, 9 * M, M).exec(), (e: unknown) => {
      return e instanceof TooManySamplesError && e.message === 'query processing would load too many samples into memory in query execution';
    });
    // Each window holds 10 samples and the outputs so far stay held: 10 + 9 + 1 > 15.
    const small = new Engine({ maxSamples: 15 });
    await assert.rejects(small.newInstantQuery(db, 'sum_over_time(m[10m])', 9 * M).exec(), TooManySamplesError);
  });

  test('the limit counts what is held at once, not the total', async () => {
    const ng = new Engine({ maxSamples: 12 });
    // 10 series x 10 steps are read in total, but only one step of sum's input is held at a time.
    const q = ng.newRangeQuery(db, 'sum(m)', 0, 9 * M, M);
    await assert.rejects(q.exec(), TooManySamplesError);
    const ok = ng.newInstantQuery(db, 'sum(m)', 9 * M);
    await ok.exec();
    assert.equal(ok.stats().samples.totalQueryableSamples, 10);
    assert.ok(ok.stats().samples.peakSamples <= 12);
  });
});

describe('concurrency', () => {
  test('queries beyond --query.max-concurrency wait their turn; beyond the queue bound they fail at once', async () => {
    const ng = new Engine({ maxConcurrency: 1, maxQueued: 1 });
    const db = fixture(10, 5);
    const a = new SlowStorage(db, 3, 'a');
    const b = new SlowStorage(db, 0, 'b');
    const done: string[] = [];
    const qa = ng.newInstantQuery(a, 'm', 4 * M).exec().then(() => done.push('a'));
    const qb = ng.newInstantQuery(b, 'm', 4 * M).exec().then(() => done.push('b'));
    await assert.rejects(ng.newInstantQuery(db, 'm', 0).exec(), QueryQueueFullError);
    assert.equal(ng.runningQueries, 1);
    assert.equal(ng.queuedQueries, 1);
    await Promise.all([qa, qb]);
    assert.deepEqual(done, ['a', 'b']);
    // b only opened its querier once a had finished.
    assert.deepEqual(b.events, ['b:querier']);
    assert.equal(ng.runningQueries, 0);
  });

  test('a query times out while waiting in the queue', async () => {
    const ng = new Engine({ maxConcurrency: 1, timeoutMs: 20 });
    const slow = new SlowStorage(fixture(10, 5), 10);
    const first = ng.newInstantQuery(slow, 'm', 4 * M).exec().catch(() => undefined);
    const waiting = ng.newInstantQuery(slow, 'm', 4 * M).exec();
    await assert.rejects(waiting, /query timed out in (query queue|query execution|expression evaluation)/);
    await first;
  });
});

describe('event loop', () => {
  test('a long evaluation yields so timers and I/O keep running', async () => {
    const ng = new Engine();
    const slow = new SlowStorage(fixture(30, 10), 3);
    let fired = false;
    let firedBeforeEnd = false;
    setTimeout(() => (fired = true), 0);
    await ng
      .newRangeQuery(slow, 'sum(m)', 0, 9 * M, M)
      .exec()
      .then(() => (firedBeforeEnd = fired));
    assert.ok(firedBeforeEnd, 'a timer set when the query started ran before it finished');
  });
});
