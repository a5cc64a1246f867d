// relabel: Prometheus's relabel rules, one room so that scraping, and later remote write
// and alerting, share them. May import model/ and config/ (the rule types).
//
// Relabeling as Prometheus does it: shared by target relabeling, metric relabeling,
// alert relabeling and remote-write relabeling.
//
//   processBuilder(lb, configs): boolean         applies the rules to a mutable LabelMap (false = dropped).
//   expandTemplate(template, match)              Go's regexp.Expand ($1, ${name}, $$).
//
// Regexes are RE2 (the `re2` package), anchored as Prometheus anchors them:
// `^(?s:<regex>)$` (compileAnchoredRegex). Compiled forms are cached per
// (frozen) config object.
import { createHash } from 'node:crypto';
import type RE2 from 're2';
import type { RelabelConfig } from '../config/types.js';
import { Labels, isValidLabelName, type Label } from '../model/labels.js';
import { InvalidRegexError, compileAnchoredRegex } from '../model/matcher.js';

/** Thrown when a rule's regex does not compile (load.ts normally catches this first). */
class RelabelConfigError extends Error {
  override name = 'RelabelConfigError';
}

interface Compiled {
  readonly cfg: RelabelConfig;
  readonly re: RE2;
  /** True for the default regex "(.*)", which enables Prometheus's add/delete fast path. */
  readonly isDefaultRegex: boolean;
  readonly modulus: bigint;
}

const compiledCache = new WeakMap<RelabelConfig, Compiled>();

function compile(cfg: RelabelConfig): Compiled {
  let c = compiledCache.get(cfg);
  if (c !== undefined) return c;
  let re: RE2;
  try {
    re = compileAnchoredRegex(cfg.regex);
  } catch (e) {
    throw new RelabelConfigError(`invalid relabel regex ${JSON.stringify(cfg.regex)}: ${e instanceof InvalidRegexError ? e.reason : String(e)}`);
  }
  c = { cfg, re, isDefaultRegex: cfg.regex === '(.*)', modulus: BigInt(Math.trunc(cfg.modulus)) };
  compiledCache.set(cfg, c);
  return c;
}

/**
 * A mutable label set under relabeling. Setting '' deletes, as in Prometheus's
 * labels.Builder; iteration order does not matter (the result is sorted).
 */
export class LabelMap {
  private readonly m: Map<string, string>;

  constructor(base?: Labels | Iterable<Label>) {
    this.m = new Map();
    if (base instanceof Labels) base.forEach((n, v) => this.m.set(n, v));
    else if (base !== undefined) for (const l of base) this.m.set(l.name, l.value);
  }

  get(name: string): string {
    return this.m.get(name) ?? '';
  }

  set(name: string, value: string): void {
    if (value === '') this.m.delete(name);
    else this.m.set(name, value);
  }

  del(name: string): void {
    this.m.delete(name);
  }

  /** A snapshot of the current labels, so callers may set and delete while walking it. */
  entries(): [string, string][] {
    return [...this.m];
  }

  labels(): Labels {
    const list: Label[] = [];
    for (const [name, value] of this.m) list.push({ name, value });
    return Labels.fromList(list);
  }
}

/** Applies the rules to lb in place; false when a rule dropped the set. */
export function processBuilder(lb: LabelMap, configs: readonly RelabelConfig[]): boolean {
  for (const cfg of configs) if (!applyOne(compile(cfg), lb)) return false;
  return true;
}

function applyOne(c: Compiled, lb: LabelMap): boolean {
  const cfg = c.cfg;
  let val: string;
  if (cfg.sourceLabels.length === 1) val = lb.get(cfg.sourceLabels[0]!);
  else {
    const parts: string[] = [];
    for (const n of cfg.sourceLabels) parts.push(lb.get(n));
    val = parts.join(cfg.separator);
  }
  switch (cfg.action) {
    case 'drop':
      return !c.re.test(val);
    case 'keep':
      return c.re.test(val);
    case 'dropequal':
      return lb.get(cfg.targetLabel) !== val;
    case 'keepequal':
      return lb.get(cfg.targetLabel) === val;
    case 'replace': {
      // Adding or deleting a fixed label needs no regex work.
      if (val === '' && c.isDefaultRegex && !cfg.targetLabel.includes('$') && !cfg.replacement.includes('$')) {
        lb.set(cfg.targetLabel, cfg.replacement);
        return true;
      }
      const m = c.re.exec(val);
      if (m === null) return true;
      const target = expandTemplate(cfg.targetLabel, m);
      if (!isValidLabelName(target)) return true;
      lb.set(target, expandTemplate(cfg.replacement, m));
      return true;
    }
    case 'lowercase':
      lb.set(cfg.targetLabel, val.toLowerCase());
      return true;
    case 'uppercase':
      lb.set(cfg.targetLabel, val.toUpperCase());
      return true;
    case 'hashmod':
      lb.set(cfg.targetLabel, hashMod(val, c.modulus).toString());
      return true;
    case 'labelmap':
      for (const [name, value] of lb.entries()) {
        const m = c.re.exec(name);
        if (m !== null) lb.set(expandTemplate(cfg.replacement, m), value);
      }
      return true;
    case 'labeldrop':
      for (const [name] of lb.entries()) if (c.re.test(name)) lb.del(name);
      return true;
    case 'labelkeep':
      for (const [name] of lb.entries()) if (!c.re.test(name)) lb.del(name);
      return true;
    default:
      throw new RelabelConfigError(`relabel: unknown relabel action type ${JSON.stringify(cfg.action)}`);
  }
}

/** Prometheus's hashmod: the last 8 bytes of md5(value), big-endian, modulo the modulus. */
export function hashMod(value: string, modulus: bigint): bigint {
  const sum = createHash('md5').update(value, 'utf8').digest();
  return sum.readBigUInt64BE(8) % modulus;
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** A match as RegExp/RE2 exec() returns it: numbered groups, and named ones in `groups`. */
export interface RegexMatch {
  readonly length: number;
  readonly [group: number]: string | undefined;
  readonly groups?: Readonly<Record<string, string | undefined>>;
}

/**
 * Go's regexp Expand: `$name` / `${name}` name a group (a number or a named group; the
 * name is the longest run of letters, digits and `_`), `$$` is a literal `$`, and a `$`
 * that starts no valid reference is copied as is. Unknown groups expand to ''. Shared by
 * relabeling and PromQL's label_replace, which both follow Go's regexp.Expand.
 */
export function expandTemplate(template: string, m: RegexMatch): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    if (template[d + 1] === '$') {
      out += '$';
      i = d + 2;
      continue;
    }
    let name = '';
    let next: number;
    if (template[d + 1] === '{') {
      const close = template.indexOf('}', d + 2);
      name = close < 0 ? '' : template.slice(d + 2, close);
      if (close < 0 || name === '' || !allNameChars(name)) {
        out += '$';
        i = d + 1;
        continue;
      }
      next = close + 1;
    } else {
      let j = d + 1;
      while (j < template.length) {
        const cp = template.codePointAt(j)!;
        const ch = String.fromCodePoint(cp);
        if (!NAME_CHAR.test(ch)) break;
        j += ch.length;
      }
      name = template.slice(d + 1, j);
      if (name === '') {
        out += '$';
        i = d + 1;
        continue;
      }
      next = j;
    }
    out += groupValue(m, name);
    i = next;
  }
  return out;
}

function allNameChars(s: string): boolean {
  for (const ch of s) if (!NAME_CHAR.test(ch)) return false;
  return true;
}

function groupValue(m: RegexMatch, name: string): string {
  if (/^[0-9]+$/.test(name)) {
    const n = Number(name);
    return n < m.length ? (m[n] ?? '') : '';
  }
  return m.groups?.[name] ?? '';
}
