// Label matchers with RE2 semantics, anchored at both ends as Prometheus anchors them.
import RE2 from 're2';
import { goQuote } from '../gofmt/quote.js';

export enum MatchType {
  Equal = '=',
  NotEqual = '!=',
  Regexp = '=~',
  NotRegexp = '!~',
}

/** A regular expression that RE2 rejected; the message names the expression. */
export class InvalidRegexError extends Error {
  override readonly name = 'InvalidRegexError';
  constructor(
    readonly regex: string,
    readonly reason: string,
  ) {
    super(`invalid regular expression ${goQuote(regex)}: ${reason}`);
  }
}

/** Bound on cached compiled regexes: matchers are rebuilt per query, patterns repeat. */
const REGEX_CACHE_MAX = 1024;
/**
 * Bound on the summed length of the cached patterns. A compiled RE2 program
 * grows with its pattern, so the entry count alone does not bound the cache's
 * memory: dashboards send alternations of hundreds of values, and 1024 of
 * 100 KB each would pin gigabytes. 1 Mi characters keeps it to tens of MB.
 */
const REGEX_CACHE_MAX_CHARS = 1 << 20;
/** Longer patterns are compiled on every use: caching one would evict a sixteenth of the cache. */
const REGEX_CACHE_MAX_PATTERN_CHARS = REGEX_CACHE_MAX_CHARS / 16;
/** Insertion order is eviction order (the oldest entry goes first when the cache is full). */
const regexCache = new Map<string, RE2>();
let regexCacheChars = 0;

/** Entries and summed pattern length of the compiled-regex cache, for the server's metrics. */
export function regexCacheStats(): { entries: number; chars: number } {
  return { entries: regexCache.size, chars: regexCacheChars };
}

/**
 * Compiles a regex anchored at both ends, as Prometheus anchors label
 * regexes (matchers, relabeling, label_replace), from a bounded cache.
 * Throws InvalidRegexError.
 */
export function compileAnchoredRegex(re: string): RE2 {
  let c = regexCache.get(re);
  if (c !== undefined) return c;
  try {
    // (?s) lets `.` match newlines, as Prometheus's FastRegexMatcher does.
    c = new RE2(`^(?s:${re})$`, 'u');
  } catch (e) {
    throw new InvalidRegexError(re, e instanceof Error ? e.message : String(e));
  }
  if (re.length > REGEX_CACHE_MAX_PATTERN_CHARS) return c;
  while (regexCache.size >= REGEX_CACHE_MAX || (regexCache.size > 0 && regexCacheChars + re.length > REGEX_CACHE_MAX_CHARS)) {
    const oldest = regexCache.keys().next().value!;
    regexCache.delete(oldest);
    regexCacheChars -= oldest.length;
  }
  regexCache.set(re, c);
  regexCacheChars += re.length;
  return c;
}

const LITERAL = /^[^\\.+*?()|[\]{}^$]*$/;

export class Matcher {
  private readonly re: RE2 | null;
  /** For regexes that are a plain alternation of literals (`a|b|c`): the literals. */
  private readonly set: readonly string[] | null;

  private constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
  ) {
    if (type === MatchType.Regexp || type === MatchType.NotRegexp) {
      this.re = compileAnchoredRegex(value);
      this.set = literalAlternation(value);
    } else {
      this.re = null;
      this.set = null;
    }
  }

  /** Throws InvalidRegexError for a bad regex. */
  static create(type: MatchType, name: string, value: string): Matcher {
    return new Matcher(type, name, value);
  }

  matches(v: string): boolean {
    switch (this.type) {
      case MatchType.Equal:
        return v === this.value;
      case MatchType.NotEqual:
        return v !== this.value;
      case MatchType.Regexp:
        return this.set !== null ? this.set.includes(v) : this.re!.test(v);
      case MatchType.NotRegexp:
        return this.set !== null ? !this.set.includes(v) : !this.re!.test(v);
    }
  }

  /** The exact values a positive regex matcher can match, when it is a literal alternation; else null. */
  setMatches(): readonly string[] | null {
    return this.type === MatchType.Regexp ? this.set : null;
  }

  /** True when the matcher matches the empty string (so it also selects series without the label). */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  /** Prometheus's form: `name="value"`, quoting the name when it is not a legacy name. */
  toString(): string {
    const n = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(this.name) ? this.name : goQuote(this.name);
    return `${n}${this.type}${goQuote(this.value)}`;
  }
}

function literalAlternation(re: string): string[] | null {
  const parts = re.split('|');
  for (const p of parts) if (!LITERAL.test(p)) return null;
  return parts;
}
