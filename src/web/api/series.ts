// Series and label endpoints: /series, /labels and /label/:name/values.
import { ApiError, type ApiContext, type ApiResult, type ApiRoute } from './types.js';
import type { ApiDeps } from './deps.js';
import { isValidLabelName, Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import type { LabelHints, Querier, SeriesSet } from '../../storage/interface.js';
import { apiErrorOf, queryExecError } from './errors.js';
import { LabelSetsData, capAnnotations } from './response.js';
import { MAX_TIME_MS, MIN_TIME_MS, parseLimitParam, parseMatcherSets, parseTimeParam } from './params.js';
import { sortStrings } from '../../gofmt/order.js';
import { goQuote, goQuoteBytes } from '../../gofmt/quote.js';
import { isUtf8 } from 'node:buffer';

/** Prometheus's model.UnescapeName for the U__ value-encoding escape of label names in paths. */
function unescapeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const s = name.slice(3);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c !== '_') {
      out += c;
      continue;
    }
    if (s[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const end = s.indexOf('_', i + 1);
    if (end < 0) return name;
    const hex = s.slice(i + 1, end);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return name;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return name;
    out += String.fromCodePoint(cp);
    i = end;
  }
  return out;
}

/**
 * The label name of a /label/<name>/values path as bytes, when its percent
 * escapes decode to invalid UTF-8 (which Go keeps in the name and a JS string
 * cannot hold); null otherwise.
 */
function invalidUtf8Name(path: string): Buffer | null {
  const m = /\/label\/([^/]*)\/values$/.exec(path);
  const raw = m?.[1];
  if (raw === undefined || !raw.includes('%')) return null;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === '%' ? raw.slice(i + 1, i + 3) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(raw[i]!, 'utf8')) bytes.push(b);
    }
  }
  const buf = Buffer.from(bytes);
  return isUtf8(buf) ? null : buf;
}

export class SeriesApi {
  constructor(private readonly deps: ApiDeps) {}

  async series(ctx: ApiContext): Promise<ApiResult> {
    const matches = ctx.params.getAll('match[]');
    if (matches.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const limit = parseLimitParam(ctx.params);
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets = parseMatcherSets(this.deps.parser, matches, true);
    const q = this.deps.storage.querier(start, end);
    let metrics: Labels[] = [];
    // One set lists each series once (storage merges its sources); several may overlap.
    const found = sets.length > 1 ? new Map<string, Labels>() : null;
    const warnings: string[] = [];
    try {
      // As Prometheus: one selector is answered in storage order, several are sorted and merged.
      const sort = sets.length > 1;
      const selected: SeriesSet[] = sets.map((ms) => q.select(sort, { start, end, func: 'series' }, ...ms));
      // Remote-read queriers fetch during the selects.
      if (q.ready !== undefined) await q.ready();
      for (const set of selected) {
        while (set.next()) {
          const ls = set.at().labels;
          if (found === null) metrics.push(ls);
          else found.set(ls.key(), ls);
          if (ctx.signal.aborted) throw new ApiError('canceled', 'context canceled');
        }
        const err = set.err();
        if (err !== null) throw queryExecError(err);
        warnings.push(...set.warnings());
      }
    } finally {
      q.close();
    }
    if (found !== null) metrics = [...found.values()].sort(Labels.compare);
    if (limit > 0 && metrics.length > limit) {
      metrics = metrics.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: new LabelSetsData(metrics), warnings: capAnnotations(warnings, 'warning') };
  }

  labelNames(ctx: ApiContext): ApiResult {
    return this.labelQuery(ctx, (q, hints, ms) => q.labelNames(hints, ...ms));
  }

  labelValues(ctx: ApiContext): ApiResult {
    // As Prometheus 3.x (UTF-8 names): only an empty name or invalid UTF-8 is refused.
    const bad = invalidUtf8Name(ctx.path);
    if (bad !== null) throw new ApiError('bad_data', `invalid label name: ${goQuoteBytes(bad, 0, bad.length)}`);
    const name = unescapeLabelName(ctx.pathParams['name'] ?? '');
    if (!isValidLabelName(name)) throw new ApiError('bad_data', `invalid label name: ${goQuote(name)}`);
    return this.labelQuery(ctx, (q, hints, ms) => q.labelValues(name, hints, ...ms));
  }

  /**
   * /labels and /label/:name/values: the strings `read` gives for each match[] set (or for all
   * series), merged, in Go's string order, truncated to `limit` with Prometheus's warning.
   */
  private labelQuery(ctx: ApiContext, read: (q: Querier, hints: LabelHints, matchers: readonly Matcher[]) => Iterable<string>): ApiResult {
    const limit = parseLimitParam(ctx.params);
    const start = parseTimeParam(ctx.params, 'start', MIN_TIME_MS);
    const end = parseTimeParam(ctx.params, 'end', MAX_TIME_MS);
    const sets = parseMatcherSets(this.deps.parser, ctx.params.getAll('match[]'), false);
    // One more than the limit, so that truncation can be told apart from an exact fit.
    const hints = { limit: limit > 0 ? limit + 1 : 0 };
    const q = this.deps.storage.querier(start, end);
    let out: string[];
    try {
      const all = new Set<string>();
      for (const ms of sets.length > 0 ? sets : [[]]) for (const v of read(q, hints, ms)) all.add(v);
      out = [...all];
    } catch (e) {
      throw apiErrorOf('execution', e);
    } finally {
      q.close();
    }
    // Storage of any kind may answer in its own order; Prometheus's is by UTF-8 bytes.
    sortStrings(out);
    const warnings: string[] = [];
    if (limit > 0 && out.length > limit) {
      out = out.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    return { data: out, warnings };
  }

  routes(): ApiRoute[] {
    const labels: ApiRoute['handler'] = (ctx) => this.labelNames(ctx);
    const series: ApiRoute['handler'] = (ctx) => this.series(ctx);
    return [
      { method: 'GET', path: '/labels', handler: labels },
      { method: 'POST', path: '/labels', handler: labels },
      { method: 'GET', path: '/label/:name/values', handler: (ctx) => this.labelValues(ctx) },
      { method: 'GET', path: '/series', handler: series },
      { method: 'POST', path: '/series', handler: series },
    ];
  }
}
