// Part of template (see template.ts): Go's regexp package as the template
// functions `match` and `reReplaceAll` use it: RE2 syntax, Go's error texts,
// ReplaceAllString with Go's rules for empty matches and `$1` / `${name}`.
import RE2 from 're2';
import { goQuote } from '../gofmt/quote.js';

/** A pattern RE2 rejected; the message is Go's `error parsing regexp: ...`. */
export class RegexpSyntaxError extends Error {
  override readonly name = 'RegexpSyntaxError';
}

/** RE2's error code texts and Go's regexp/syntax wording for the same code. */
const GO_CODES: ReadonlyArray<readonly [string, string]> = [
  ['missing )', 'missing closing )'],
  ['missing ]', 'missing closing ]'],
  ['unexpected )', 'unexpected )'],
  ['trailing \\', 'trailing backslash at end of expression'],
  ['no argument for repetition operator', 'missing argument to repetition operator'],
  ['invalid repetition size', 'invalid repeat count'],
  ['bad repetition operator', 'invalid nested repetition operator'],
  ['invalid perl operator', 'invalid or unsupported Perl syntax'],
  ['invalid escape sequence', 'invalid escape sequence'],
  ['invalid character class range', 'invalid character class range'],
  ['invalid character class', 'invalid character class'],
  ['invalid named capture group', 'invalid named capture'],
  ['invalid UTF-8', 'invalid UTF-8'],
  ['pattern too large - compile failed', 'expression too large'],
];

function goSyntaxMessage(re2Message: string): string {
  for (const [re2, go] of GO_CODES) {
    if (re2Message.startsWith(re2)) {
      const arg = re2Message.slice(re2.length).replace(/^: /, '');
      return `error parsing regexp: ${go}: \`${arg}\``;
    }
  }
  return `error parsing regexp: ${re2Message}`;
}

/** Compiled patterns are reused across expansions; the bound keeps hostile templates from growing it. */
const CACHE_MAX = 256;
const cache = new Map<string, RE2>();

/** Go's regexp.Compile (unanchored, RE2 syntax); throws RegexpSyntaxError. */
export function compileGoRegexp(pattern: string): RE2 {
  let re = cache.get(pattern);
  if (re !== undefined) return re;
  try {
    re = new RE2(pattern, 'gu');
  } catch (e) {
    throw new RegexpSyntaxError(goSyntaxMessage(e instanceof Error ? e.message : String(e)));
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(pattern, re);
  return re;
}

/** Go's regexp.quote in MustCompile's panic: backquoted when it can be. */
export function regexpQuote(s: string): string {
  return /^[^`\x00-\x08\x0a-\x1f\x7f\ufffd]*$/.test(s) ? '`' + s + '`' : goQuote(s);
}

/** Go's regexp.MatchString. */
export function matchString(re: RE2, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** Go's Regexp.Expand of one match: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let rest = template;
  for (;;) {
    const d = rest.indexOf('$');
    if (d < 0) break;
    out += rest.slice(0, d);
    rest = rest.slice(d + 1);
    if (rest[0] === '$') {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    let name: string;
    let after: string;
    if (rest[0] === '{') {
      const close = rest.indexOf('}');
      name = close < 0 ? '' : rest.slice(1, close);
      if (close < 0 || name === '' || !Array.from(name).every((c) => NAME_CHAR.test(c))) {
        out += '$';
        continue;
      }
      after = rest.slice(close + 1);
    } else {
      let j = 0;
      for (const c of rest) {
        if (!NAME_CHAR.test(c)) break;
        j += c.length;
      }
      name = rest.slice(0, j);
      if (name === '') {
        out += '$';
        continue;
      }
      after = rest.slice(j);
    }
    rest = after;
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      if (n < m.length) out += m[n] ?? '';
    } else out += m.groups?.[name] ?? '';
  }
  return out + rest;
}

/** Go's Regexp.ReplaceAllString: an empty match right after a match is not replaced. */
export function replaceAllString(re: RE2, src: string, repl: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (m === null) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(repl, m);
    lastMatchEnd = end;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}
