// Rule files: YAML groups of recording and alerting rules, decoded and
// validated as Prometheus's rulefmt does (same error texts and positions),
// glob expansion of rule_files patterns, and promtool's duplicate-rule lint.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node, type Scalar, type YAMLMap } from 'yaml';
import { InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { goQuote } from '../gofmt/quote.js';
import { compareStrings } from '../gofmt/order.js';
import { Labels, METRIC_NAME, isValidLabelName, isValidMetricName, isWellFormedUTF16, type Label } from '../model/labels.js';
import { expandGlob, globToRegExp } from '../config/load.js';
import { parseExpr } from '../promql/parser/parser.js';
import { compileAlertTemplate } from '../template/template.js';
import { nopLogger, type Logger } from '../logging/types.js';

export interface RuleDef {
  record?: string;
  alert?: string;
  expr: string;
  forMs: number;
  keepFiringForMs: number;
  /** Labels with non-empty values. */
  labels: Labels;
  /** Label names given an empty value: Prometheus removes them from the output. */
  removedLabels: readonly string[];
  annotations: Labels;
  /** 1-based line of the rule in its file (0 when unknown). */
  line: number;
}

export interface RuleGroupDef {
  name: string;
  file: string;
  /** 0: the global evaluation interval. */
  intervalMs: number;
  /** null: the global rule_query_offset. */
  queryOffsetMs: number | null;
  limit: number;
  labels: Labels;
  removedLabels: readonly string[];
  rules: RuleDef[];
}

/** One problem in a rule file; the message is the line Prometheus and promtool print. */
export class RuleFileError extends Error {
  override name = 'RuleFileError';
  constructor(
    readonly file: string,
    /** The text after `<file>: `. */
    readonly detail: string,
    readonly line = 0,
    readonly col = 0,
  ) {
    super(`${file}: ${detail}`);
  }
}

export interface ParseOptions {
  /** PromQL feature flags the expressions may use. */
  features?: ReadonlySet<string>;
  /** promtool's --ignore-unknown-fields. */
  ignoreUnknownFields?: boolean;
  logger?: Logger;
}

export interface ParsedRules {
  groups: RuleGroupDef[];
  errors: RuleFileError[];
}

// ---------------------------------------------------------------------------
// YAML decoding with yaml.v3's semantics and messages.

/** Decoding stops at a custom unmarshaler's error (a bad duration), as yaml.v3 does. */
class FatalDecodeError extends Error {}

interface Pos {
  line: number;
  col: number;
}

const NO_POS: Pos = { line: 0, col: 0 };

class Decoder {
  readonly typeErrors: string[] = [];
  constructor(
    private readonly doc: Document,
    private readonly lc: LineCounter,
    private readonly knownFields: boolean,
  ) {}

  resolve(n: unknown): Node | null {
    let cur = n;
    for (let i = 0; i < 100 && isAlias(cur); i++) cur = cur.resolve(this.doc);
    return (cur ?? null) as Node | null;
  }

  pos(n: Node | null): Pos {
    const r = n?.range;
    if (r === undefined || r === null) return NO_POS;
    return this.lc.linePos(r[0]);
  }

  /** yaml.v3's short tag of a node: what the value resolves to. */
  tag(n: Node): string {
    if (isMap(n)) return '!!map';
    if (isSeq(n)) return '!!seq';
    const s = n as Scalar;
    if (s.tag !== undefined && s.tag.startsWith('tag:yaml.org,2002:')) return '!!' + s.tag.slice('tag:yaml.org,2002:'.length);
    if (s.type !== 'PLAIN') return '!!str';
    const v = String(s.value);
    if (v === '' || v === '~' || v === 'null' || v === 'Null' || v === 'NULL') return '!!null';
    if (/^(true|True|TRUE|false|False|FALSE)$/.test(v)) return '!!bool';
    if (parseGoInt(v) !== null) return '!!int';
    if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(v.replace(/_/g, '')) || /^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(v)) return '!!float';
    return '!!str';
  }

  isNull(n: Node | null): boolean {
    return n === null || (isScalar(n) && this.tag(n) === '!!null');
  }

  typeError(n: Node, into: string): void {
    const tag = this.tag(n);
    let value = '';
    if (tag !== '!!map' && tag !== '!!seq') {
      const v = String((n as Scalar).value);
      value = v.length > 10 ? ` \`${v.slice(0, 7)}...\`` : ` \`${v}\``;
    }
    this.typeErrors.push(`line ${this.pos(n).line}: cannot unmarshal ${tag}${value} into ${into}`);
  }

  str(n: Node | null): string {
    const r = this.resolve(n);
    if (r === null || this.isNull(r)) return '';
    if (!isScalar(r)) {
      this.typeError(r, 'string');
      return '';
    }
    return String(r.value);
  }

  int(n: Node | null): number {
    const r = this.resolve(n);
    if (r === null || this.isNull(r)) return 0;
    if (isScalar(r)) {
      const tag = this.tag(r);
      const v = String(r.value);
      if (tag === '!!int') return parseGoInt(v) ?? 0;
      if (tag === '!!float') {
        const f = Number(v.replace(/_/g, ''));
        if (Number.isInteger(f)) return f;
      }
    }
    this.typeError(r, 'int');
    return 0;
  }

  /** model.Duration: a string parsed by ParseDuration, whose error ends decoding. */
  duration(n: Node | null): number {
    const r = this.resolve(n);
    if (r === null || this.isNull(r)) return 0;
    if (!isScalar(r)) {
      this.typeError(r, 'string');
      return 0;
    }
    try {
      return parseDuration(String(r.value));
    } catch (e) {
      if (e instanceof InvalidDurationError) throw new FatalDecodeError(e.message);
      throw e;
    }
  }

  stringMap(n: Node | null): { list: Label[]; pos: Pos } {
    const r = this.resolve(n);
    if (r === null || this.isNull(r)) return { list: [], pos: NO_POS };
    if (!isMap(r)) {
      this.typeError(r, 'map[string]string');
      return { list: [], pos: NO_POS };
    }
    const list: Label[] = [];
    for (const { key, value } of this.entries(r)) list.push({ name: key, value: this.str(value) });
    return { list, pos: this.pos(r) };
  }

  /** Reports a key the struct does not have (unless unknown fields are ignored), in document order as yaml.v3. */
  unknownField(keyNode: Node | null, key: string, type: string): void {
    if (this.knownFields) this.typeErrors.push(`line ${this.pos(keyNode).line}: field ${key} not found in type ${type}`);
  }

  /** The key/value pairs of a mapping, with `<<` merge keys applied (explicit keys win) and duplicate keys reported. */
  entries(m: YAMLMap): Array<{ key: string; keyNode: Node | null; value: Node | null }> {
    const out = new Map<string, { key: string; keyNode: Node | null; value: Node | null }>();
    const merged: Array<{ key: string; keyNode: Node | null; value: Node | null }> = [];
    for (const p of m.items) {
      const keyNode = this.resolve(p.key);
      const key = keyNode !== null && isScalar(keyNode) ? String(keyNode.value) : '';
      if (key === '<<' && keyNode !== null && isScalar(keyNode) && keyNode.type === 'PLAIN') {
        const v = this.resolve(p.value);
        const sources = v !== null && isSeq(v) ? v.items.map((x) => this.resolve(x)) : [v];
        for (const s of sources) if (s !== null && isMap(s)) merged.push(...this.entries(s));
        continue;
      }
      const first = out.get(key);
      if (first !== undefined) {
        this.typeErrors.push(`line ${this.pos(keyNode).line}: mapping key ${goQuote(key)} already defined at line ${this.pos(first.keyNode).line}`);
      }
      out.set(key, { key, keyNode, value: (p.value ?? null) as Node | null });
    }
    for (const e of merged) if (!out.has(e.key)) out.set(e.key, e);
    return [...out.values()];
  }
}

/** Go's strconv.ParseInt(s, 0, 64) after yaml.v3 drops underscores; null when it is no integer. */
function parseGoInt(v: string): number | null {
  const s = v.replace(/_/g, '');
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return null;
  let body = m[2]!;
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (body.length > 1 && body.startsWith('0')) {
    body = body.slice(1);
    n = parseInt(body, 8);
  } else n = parseInt(body, 10);
  if (!Number.isSafeInteger(n)) return null;
  return m[1] === '-' ? -n : n;
}


interface RawRule {
  record: string;
  alert: string;
  expr: string;
  recordPos: Pos | null;
  alertPos: Pos | null;
  exprPos: Pos | null;
  forMs: number;
  keepFiringForMs: number;
  labels: Label[];
  annotations: Label[];
  line: number;
}

interface RawGroup {
  name: string;
  pos: Pos;
  intervalMs: number;
  queryOffsetMs: number | null;
  limit: number;
  labels: Label[];
  rules: RawRule[];
}

function decodeRule(d: Decoder, n: Node | null): RawRule {
  const r: RawRule = {
    record: '',
    alert: '',
    expr: '',
    recordPos: null,
    alertPos: null,
    exprPos: null,
    forMs: 0,
    keepFiringForMs: 0,
    labels: [],
    annotations: [],
    line: 0,
  };
  const m = d.resolve(n);
  if (m === null || d.isNull(m)) return r;
  if (!isMap(m)) {
    d.typeError(m, 'rulefmt.Rule');
    return r;
  }
  r.line = d.pos(m).line;
  for (const { key, keyNode, value } of d.entries(m)) {
    const v = d.resolve(value);
    switch (key) {
      case 'record':
        r.record = d.str(v);
        r.recordPos = d.pos(v);
        break;
      case 'alert':
        r.alert = d.str(v);
        r.alertPos = d.pos(v);
        break;
      case 'expr':
        r.expr = d.str(v);
        r.exprPos = d.pos(v);
        break;
      case 'for':
        r.forMs = d.duration(v);
        break;
      case 'keep_firing_for':
        r.keepFiringForMs = d.duration(v);
        break;
      case 'labels':
        r.labels = d.stringMap(v).list;
        break;
      case 'annotations':
        r.annotations = d.stringMap(v).list;
        break;
      default:
        d.unknownField(keyNode, key, 'rulefmt.Rule');
    }
  }
  return r;
}

function decodeGroup(d: Decoder, n: Node | null): RawGroup {
  const g: RawGroup = { name: '', pos: NO_POS, intervalMs: 0, queryOffsetMs: null, limit: 0, labels: [], rules: [] };
  const m = d.resolve(n);
  if (m === null || d.isNull(m)) return g;
  if (!isMap(m)) {
    d.typeError(m, 'rulefmt.RuleGroup');
    return g;
  }
  g.pos = d.pos(m);
  for (const { key, keyNode, value } of d.entries(m)) {
    const v = d.resolve(value);
    switch (key) {
      case 'name':
        g.name = d.str(v);
        break;
      case 'interval':
        g.intervalMs = d.duration(v);
        break;
      case 'query_offset':
        // A null pointer stays unset.
        g.queryOffsetMs = d.isNull(v) ? null : d.duration(v);
        break;
      case 'limit':
        g.limit = d.int(v);
        break;
      case 'labels':
        g.labels = d.stringMap(v).list;
        break;
      case 'rules':
        if (v === null || d.isNull(v)) break;
        if (!isSeq(v)) {
          d.typeError(v, '[]rulefmt.Rule');
          break;
        }
        g.rules = v.items.map((it) => decodeRule(d, it as Node | null));
        break;
      default:
        d.unknownField(keyNode, key, 'rulefmt.RuleGroup');
    }
  }
  return g;
}

function yamlSyntaxError(err: { message: string; pos: [number, number] }, lc: LineCounter): string {
  const line = lc.linePos(err.pos[0]).line;
  const first = err.message.split('\n')[0] ?? err.message;
  const msg = first.replace(/ at line \d+, column \d+:?$/, '');
  return `yaml: line ${line}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

/** Decodes the first YAML document; errors are the texts Prometheus prints after the file name. */
function decode(text: string, opts: ParseOptions): { groups: RawGroup[]; errors: string[] } {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, schema: 'failsafe', uniqueKeys: false, prettyErrors: false });
  if (!Array.isArray(docs)) return { groups: [], errors: [] }; // empty input
  const doc = docs[0];
  if (doc === undefined) return { groups: [], errors: [] };
  if (docs.length > 1) (opts.logger ?? nopLogger).warn('Multiple document yaml rules files are not supported, only the first document is processed');
  const syntax = doc.errors[0];
  if (syntax !== undefined) return { groups: [], errors: [yamlSyntaxError(syntax, lc)] };
  const d = new Decoder(doc, lc, opts.ignoreUnknownFields !== true);
  const groups: RawGroup[] = [];
  try {
    const root = d.resolve(doc.contents);
    if (root !== null && !d.isNull(root)) {
      if (!isMap(root)) d.typeError(root, 'rulefmt.RuleGroups');
      else {
        for (const { key, keyNode, value } of d.entries(root)) {
          if (key !== 'groups') {
            d.unknownField(keyNode, key, 'rulefmt.RuleGroups');
            continue;
          }
          const v = d.resolve(value);
          if (v === null || d.isNull(v)) continue;
          if (!isSeq(v)) {
            d.typeError(v, '[]rulefmt.RuleGroup');
            continue;
          }
          for (const it of v.items) groups.push(decodeGroup(d, it as Node | null));
        }
      }
    }
  } catch (e) {
    if (e instanceof FatalDecodeError) return { groups: [], errors: [e.message] };
    throw e;
  }
  if (d.typeErrors.length > 0) return { groups: [], errors: [`yaml: unmarshal errors:\n  ${d.typeErrors.join('\n  ')}`] };
  return { groups, errors: [] };
}

// ---------------------------------------------------------------------------
// Validation (rulefmt's RuleGroups.Validate and Rule.Validate).

function fmtPos(p: Pos | null): string {
  const q = p ?? NO_POS;
  return `${q.line}:${q.col}`;
}

function sortedByName(list: readonly Label[]): Label[] {
  // Later duplicates win, as decoding into a Go map does.
  const m = new Map<string, string>();
  for (const l of list) m.set(l.name, l.value);
  return [...m].map(([name, value]) => ({ name, value })).sort((a, b) => compareStrings(a.name, b.name));
}

function validateRule(r: RawRule, opts: ParseOptions): Array<{ msg: string; pos: Pos | null; alt?: Pos | null }> {
  const errs: Array<{ msg: string; pos: Pos | null; alt?: Pos | null }> = [];
  if (r.record !== '' && r.alert !== '') errs.push({ msg: "only one of 'record' and 'alert' must be set", pos: r.recordPos, alt: r.alertPos });
  if (r.record === '' && r.alert === '') errs.push({ msg: "one of 'record' or 'alert' must be set", pos: r.recordPos, alt: r.alertPos });
  if (r.expr === '') errs.push({ msg: "field 'expr' must be set in rule", pos: r.exprPos ?? NO_POS });
  else {
    try {
      parseExpr(r.expr, { features: opts.features });
    } catch (e) {
      errs.push({ msg: `could not parse expression: ${e instanceof Error ? e.message : String(e)}`, pos: r.exprPos });
    }
  }
  if (r.record !== '') {
    if (r.annotations.length > 0) errs.push({ msg: "invalid field 'annotations' in recording rule", pos: r.recordPos });
    if (r.forMs !== 0) errs.push({ msg: "invalid field 'for' in recording rule", pos: r.recordPos });
    if (r.keepFiringForMs !== 0) errs.push({ msg: "invalid field 'keep_firing_for' in recording rule", pos: r.recordPos });
    if (!isValidMetricName(r.record)) errs.push({ msg: `invalid recording rule name: ${r.record}`, pos: r.recordPos });
    if (r.record.includes('{') || r.record.includes('}')) {
      errs.push({ msg: `braces present in the recording rule name; should it be in expr?: ${r.record}`, pos: r.recordPos });
    }
  }
  for (const l of sortedByName(r.labels)) {
    if (!isValidLabelName(l.name) || l.name === METRIC_NAME) errs.push({ msg: `invalid label name: ${l.name}`, pos: null });
    if (!isWellFormedUTF16(l.value)) errs.push({ msg: `invalid label value: ${l.value}`, pos: null });
  }
  for (const a of sortedByName(r.annotations)) {
    if (!isValidLabelName(a.name)) errs.push({ msg: `invalid annotation name: ${a.name}`, pos: null });
  }
  if (r.alert !== '') {
    const tmplName = `__alert_${r.alert}`;
    const check = (what: string, l: Label): void => {
      // Text without an action always parses.
      if (!l.value.includes('{{')) return;
      try {
        compileAlertTemplate(l.value, tmplName);
      } catch (e) {
        errs.push({ msg: `${what} ${goQuote(l.name)}: ${e instanceof Error ? e.message : String(e)}`, pos: null });
      }
    };
    for (const l of sortedByName(r.labels)) check('label', l);
    for (const a of sortedByName(r.annotations)) check('annotation', a);
  }
  return errs;
}

/** Non-empty labels and the names given an empty value (those remove a label in Prometheus). */
function splitLabels(list: readonly Label[]): { labels: Labels; removed: string[] } {
  const sorted = sortedByName(list);
  return { labels: Labels.fromList(sorted), removed: sorted.filter((l) => l.value === '').map((l) => l.name) };
}

/** Parses and validates one rule file's text. */
export function parseRuleFile(text: string, file: string, opts: ParseOptions = {}): ParsedRules {
  const { groups: raw, errors: decodeErrors } = decode(text, opts);
  if (decodeErrors.length > 0) return { groups: [], errors: decodeErrors.map((m) => new RuleFileError(file, m)) };
  const errors: RuleFileError[] = [];
  const seen = new Set<string>();
  const groups: RuleGroupDef[] = [];
  for (const g of raw) {
    if (g.name === '') errors.push(new RuleFileError(file, `${fmtPos(g.pos)}: Groupname must not be empty`, g.pos.line, g.pos.col));
    if (seen.has(g.name)) {
      errors.push(new RuleFileError(file, `${fmtPos(g.pos)}: groupname: "${g.name}" is repeated in the same file`, g.pos.line, g.pos.col));
    }
    seen.add(g.name);
    for (const l of sortedByName(g.labels)) {
      if (!isValidLabelName(l.name) || l.name === METRIC_NAME) errors.push(new RuleFileError(file, `invalid label name: ${l.name}`));
      if (!isWellFormedUTF16(l.value)) errors.push(new RuleFileError(file, `invalid label value: ${l.value}`));
    }
    g.rules.forEach((r, i) => {
      const ruleName = r.alert !== '' ? r.alert : r.record;
      for (const e of validateRule(r, opts)) {
        const where = `group ${goQuote(g.name)}, rule ${i + 1}, ${goQuote(ruleName)}: ${e.msg}`;
        let prefix = '';
        if (e.alt !== undefined) prefix = `${fmtPos(e.pos)}: ${fmtPos(e.alt)}: `;
        else if (e.pos !== null) prefix = `${fmtPos(e.pos)}: `;
        errors.push(new RuleFileError(file, prefix + where, e.pos?.line ?? 0, e.pos?.col ?? 0));
      }
    });
    const gl = splitLabels(g.labels);
    groups.push({
      name: g.name,
      file,
      intervalMs: g.intervalMs,
      queryOffsetMs: g.queryOffsetMs,
      limit: g.limit,
      labels: gl.labels,
      removedLabels: gl.removed,
      rules: g.rules.map((r) => {
        const rl = splitLabels(r.labels);
        const def: RuleDef = {
          expr: r.expr,
          forMs: r.forMs,
          keepFiringForMs: r.keepFiringForMs,
          labels: rl.labels,
          removedLabels: rl.removed,
          annotations: Labels.fromList(sortedByName(r.annotations)),
          line: r.line,
        };
        if (r.record !== '') def.record = r.record;
        if (r.alert !== '') def.alert = r.alert;
        return def;
      }),
    });
  }
  return { groups: errors.length > 0 ? [] : groups, errors };
}

/** Go's os.ReadFile error text for a failed read. */
function readError(file: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return `open ${file}: no such file or directory`;
  if (code === 'EACCES') return `open ${file}: permission denied`;
  if (code === 'EISDIR') return `read ${file}: is a directory`;
  return `open ${file}: ${e instanceof Error ? e.message : String(e)}`;
}

/** Reads and parses one rule file (as rulefmt.ParseFile). */
export function loadRuleFile(file: string, opts: ParseOptions = {}): ParsedRules {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { groups: [], errors: [new RuleFileError(file, readError(file, e))] };
  }
  return parseRuleFile(text, file, opts);
}

/**
 * The files rule_files patterns name, in order (filepath.Glob per pattern:
 * sorted matches, nothing for a literal path that does not exist).
 */
export function expandRuleFilePatterns(patterns: readonly string[]): { files: string[]; errors: RuleFileError[] } {
  const files: string[] = [];
  const errors: RuleFileError[] = [];
  for (const pat of patterns) {
    if (globToRegExp(basename(pat)) === null) {
      errors.push(new RuleFileError(pat, 'syntax error in pattern'));
      continue;
    }
    files.push(...expandGlob(pat));
  }
  return { files, errors };
}

/** Expands the patterns and loads every file they name; errors of all files are collected. */
export function loadRuleFiles(patterns: readonly string[], opts: ParseOptions = {}): ParsedRules {
  const { files, errors } = expandRuleFilePatterns(patterns);
  const groups: RuleGroupDef[] = [];
  for (const f of files) {
    const r = loadRuleFile(f, opts);
    groups.push(...r.groups);
    errors.push(...r.errors);
  }
  return { groups: errors.length > 0 ? [] : groups, errors };
}

// ---------------------------------------------------------------------------
// promtool check rules --lint=duplicate-rules

export interface DuplicateRule {
  /** The record or alert name. */
  metric: string;
  /** Group labels overridden by rule labels. */
  labels: Labels;
}

/** Rules with the same name and labels (the expression is not compared), each reported once. */
export function findDuplicateRules(groups: readonly RuleGroupDef[]): DuplicateRule[] {
  const all: DuplicateRule[] = [];
  for (const g of groups) {
    for (const r of g.rules) {
      const b = g.labels.builder();
      for (const n of g.removedLabels) b.del(n);
      r.labels.forEach((n, v) => b.set(n, v));
      for (const n of r.removedLabels) b.del(n);
      all.push({ metric: r.alert ?? r.record ?? '', labels: b.labels() });
    }
  }
  const cmp = (a: DuplicateRule, b: DuplicateRule): number => compareStrings(a.metric, b.metric) || Labels.compare(a.labels, b.labels);
  all.sort(cmp);
  const dups: DuplicateRule[] = [];
  for (let i = 1; i < all.length; i++) {
    const prev = all[i - 1]!;
    const cur = all[i]!;
    if (cmp(prev, cur) !== 0) continue;
    const last = dups[dups.length - 1];
    if (last === undefined || cmp(prev, last) !== 0) dups.push(cur);
  }
  return dups;
}

/** promtool's lint findings for one file's groups, each as it prints them (empty when clean). */
export function lintRuleFile(groups: readonly RuleGroupDef[]): string[] {
  const dups = findDuplicateRules(groups);
  if (dups.length === 0) return [];
  let msg = `lint error ${dups.length} duplicate rule(s) found.\n`;
  for (const d of dups) {
    msg += `Metric: ${d.metric}\nLabel(s):\n`;
    d.labels.forEach((n, v) => {
      msg += `\t${n}: ${v}\n`;
    });
  }
  msg += 'Might cause inconsistency while recording expressions';
  return [msg];
}
