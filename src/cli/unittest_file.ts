// The unit-test file of `tsprom test rules` (promtool's format), decoded
// strictly: unknown keys and values of the wrong type are errors named by
// line, worded as promtool's YAML decoder words them.
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar } from 'yaml';
import { InvalidDurationError, parseDuration } from '../gofmt/duration.js';
import { Labels } from '../model/labels.js';

/** The file cannot be used; the message is what promtool prints for it. */
export class UnitTestFileError extends Error {
  override name = 'UnitTestFileError';
}

export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

export interface ExpectedAlert {
  /** Without `alertname`, which the runner adds. */
  readonly expLabels: ReadonlyMap<string, string>;
  readonly expAnnotations: ReadonlyMap<string, string>;
}

export interface AlertTestCase {
  readonly evalTimeMs: number;
  readonly alertname: string;
  readonly expAlerts: readonly ExpectedAlert[];
}

export interface ExpectedSample {
  /** A PromQL metric (`up{job="a"}`, `{}`), parsed when the test runs. */
  readonly labels: string;
  readonly value: number;
  /** A native histogram description; non-empty means `value` is ignored. */
  readonly histogram: string;
}

export interface PromqlTestCase {
  readonly expr: string;
  readonly evalTimeMs: number;
  readonly expSamples: readonly ExpectedSample[];
}

export interface TestGroup {
  /** 0: the file's evaluation interval. */
  readonly intervalMs: number;
  readonly inputSeries: readonly InputSeries[];
  readonly alertRuleTests: readonly AlertTestCase[];
  readonly promqlExprTests: readonly PromqlTestCase[];
  readonly externalLabels: Labels;
  readonly externalUrl: string;
  readonly name: string;
  /** ms since the epoch where the series and the evaluation start; null: 0. */
  readonly startTimestampMs: number | null;
}

export interface UnitTestFile {
  /** As written: relative to the test file, globs allowed. */
  readonly ruleFiles: readonly string[];
  /** 0 when not given (the runner defaults it to 1m). */
  readonly evaluationIntervalMs: number;
  readonly groupEvalOrder: readonly string[];
  readonly tests: readonly TestGroup[];
  readonly fuzzyCompare: boolean;
}

/** Parses a unit-test file; throws UnitTestFileError. */
export function parseUnitTestFile(text: string): UnitTestFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, schema: 'failsafe', uniqueKeys: true, prettyErrors: false });
  const yamlErr = doc.errors[0];
  if (yamlErr !== undefined) {
    const line = lc.linePos(yamlErr.pos[0]).line;
    throw new UnitTestFileError(`yaml: line ${line}: ${yamlErr.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const d = new Decoder(lc);
  const root = doc.contents as Node | null;
  let file: UnitTestFile = { ruleFiles: [], evaluationIntervalMs: 0, groupEvalOrder: [], tests: [], fuzzyCompare: false };
  d.struct(root, 'main.unitTestFile', (f) => {
    file = {
      ruleFiles: f.seq('rule_files', (n) => d.str(n)),
      evaluationIntervalMs: f.opt('evaluation_interval', (n) => d.duration(n), 0),
      groupEvalOrder: f.seq('group_eval_order', (n) => d.str(n)),
      tests: f.seq('tests', (n) => testGroup(d, n)),
      fuzzyCompare: f.opt('fuzzy_compare', (n) => d.bool(n), false),
    };
  });
  d.throwIfErrors();
  return file;
}

function testGroup(d: Decoder, node: Node): TestGroup {
  let tg: TestGroup = {
    intervalMs: 0,
    inputSeries: [],
    alertRuleTests: [],
    promqlExprTests: [],
    externalLabels: Labels.EMPTY,
    externalUrl: '',
    name: '',
    startTimestampMs: null,
  };
  d.struct(node, 'main.testGroup', (f) => {
    tg = {
      intervalMs: f.opt('interval', (n) => d.duration(n), 0),
      inputSeries: f.seq('input_series', (n) => {
        let s: InputSeries = { series: '', values: '' };
        d.struct(n, 'main.series', (g) => {
          s = { series: g.opt('series', (v) => d.str(v), ''), values: g.opt('values', (v) => d.str(v), '') };
        });
        return s;
      }),
      alertRuleTests: f.seq('alert_rule_test', (n) => alertTestCase(d, n)),
      promqlExprTests: f.seq('promql_expr_test', (n) => promqlTestCase(d, n)),
      externalLabels: Labels.fromObject(Object.fromEntries(f.opt('external_labels', (n) => d.strMap(n), new Map<string, string>()))),
      externalUrl: f.opt('external_url', (n) => d.str(n), ''),
      name: f.opt('name', (n) => d.str(n), ''),
      startTimestampMs: f.opt('start_timestamp', (n) => d.timestamp(n), null),
    };
  });
  return tg;
}

function alertTestCase(d: Decoder, node: Node): AlertTestCase {
  let tc: AlertTestCase = { evalTimeMs: 0, alertname: '', expAlerts: [] };
  d.struct(node, 'main.alertTestCase', (f) => {
    tc = {
      evalTimeMs: f.opt('eval_time', (n) => d.duration(n), 0),
      alertname: f.opt('alertname', (n) => d.str(n), ''),
      expAlerts: f.seq('exp_alerts', (n) => {
        let a: ExpectedAlert = { expLabels: new Map(), expAnnotations: new Map() };
        d.struct(n, 'main.alert', (g) => {
          a = {
            expLabels: g.opt('exp_labels', (v) => d.strMap(v), new Map()),
            expAnnotations: g.opt('exp_annotations', (v) => d.strMap(v), new Map()),
          };
        });
        return a;
      }),
    };
  });
  return tc;
}

function promqlTestCase(d: Decoder, node: Node): PromqlTestCase {
  let tc: PromqlTestCase = { expr: '', evalTimeMs: 0, expSamples: [] };
  d.struct(node, 'main.promqlTestCase', (f) => {
    tc = {
      expr: f.opt('expr', (n) => d.str(n), ''),
      evalTimeMs: f.opt('eval_time', (n) => d.duration(n), 0),
      expSamples: f.seq('exp_samples', (n) => {
        let s: ExpectedSample = { labels: '', value: 0, histogram: '' };
        d.struct(n, 'main.sample', (g) => {
          s = {
            labels: g.opt('labels', (v) => d.str(v), ''),
            value: g.opt('value', (v) => d.float(v), 0),
            histogram: g.opt('histogram', (v) => d.str(v), ''),
          };
        });
        return s;
      }),
    };
  });
  return tc;
}

/** The fields of one YAML mapping being decoded into a struct. */
interface Fields {
  opt<T>(key: string, fn: (n: Node) => T, def: T): T;
  seq<T>(key: string, fn: (n: Node) => T): T[];
}

const BOOL_TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const BOOL_FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const YAML_INT = /^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)$/;
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Collects type errors ("line N: ...") as Go's yaml decoder does, so that one
 * run reports all of them; other errors (bad durations) stop at once.
 */
class Decoder {
  private readonly errors: string[] = [];
  constructor(private readonly lc: LineCounter) {}

  throwIfErrors(): void {
    if (this.errors.length > 0) throw new UnitTestFileError(`yaml: unmarshal errors:\n  ${this.errors.join('\n  ')}`);
  }

  private line(n: Node | Pair['key']): number {
    const r = (n as Node | null)?.range;
    return r ? this.lc.linePos(r[0]).line : 0;
  }

  private isNull(n: Node | null | undefined): boolean {
    if (n === null || n === undefined) return true;
    return isScalar(n) && n.type === 'PLAIN' && ['', '~', 'null', 'Null', 'NULL'].includes(String(n.value));
  }

  /** promtool's name for what a node holds, as in "cannot unmarshal !!seq into string". */
  private describe(n: Node): string {
    if (isSeq(n)) return '!!seq';
    if (isMap(n)) return '!!map';
    const s = n as Scalar;
    const v = String(s.value);
    let tag = '!!str';
    if (s.type === 'PLAIN') {
      if (YAML_INT.test(v)) tag = '!!int';
      else if (YAML_FLOAT.test(v) || /^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(v)) tag = '!!float';
      else if (BOOL_TRUE.has(v) || BOOL_FALSE.has(v)) tag = '!!bool';
    }
    return `${tag} \`${v}\``;
  }

  private typeError(n: Node, into: string): void {
    this.errors.push(`line ${this.line(n)}: cannot unmarshal ${this.describe(n)} into ${into}`);
  }

  struct(node: Node | null | undefined, typeName: string, fn: (f: Fields) => void): void {
    if (this.isNull(node)) {
      fn({ opt: (_k, _fn, def) => def, seq: () => [] });
      return;
    }
    if (!isMap(node)) {
      this.typeError(node!, typeName);
      return;
    }
    const byKey = new Map<string, Node | null>();
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      byKey.set(k, (p.value as Node | null) ?? null);
    }
    const used = new Set<string>();
    const f: Fields = {
      opt: (key, fn, def) => {
        used.add(key);
        const v = byKey.get(key);
        return v === undefined || this.isNull(v) ? def : fn(v!);
      },
      seq: (key, fn) => {
        used.add(key);
        const v = byKey.get(key);
        if (v === undefined || this.isNull(v)) return [];
        if (!isSeq(v)) {
          this.typeError(v!, `[]${key === 'rule_files' || key === 'group_eval_order' ? 'string' : 'main.' + SEQ_TYPES[key]}`);
          return [];
        }
        return v.items.map((item) => fn(item as Node));
      },
    };
    fn(f);
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      if (!used.has(k)) this.errors.push(`line ${this.line(p.key)}: field ${k} not found in type ${typeName}`);
    }
  }

  str(n: Node): string {
    if (this.isNull(n)) return '';
    if (!isScalar(n)) {
      this.typeError(n, 'string');
      return '';
    }
    return String(n.value);
  }

  strMap(n: Node): Map<string, string> {
    const out = new Map<string, string>();
    if (this.isNull(n)) return out;
    if (!isMap(n)) {
      this.typeError(n, 'map[string]string');
      return out;
    }
    for (const p of n.items) out.set(this.str(p.key as Node), this.str(p.value as Node));
    return out;
  }

  bool(n: Node): boolean {
    const v = isScalar(n) ? String(n.value) : '';
    if (isScalar(n) && n.type === 'PLAIN' && BOOL_TRUE.has(v)) return true;
    if (isScalar(n) && n.type === 'PLAIN' && BOOL_FALSE.has(v)) return false;
    this.typeError(n, 'bool');
    return false;
  }

  float(n: Node): number {
    if (isScalar(n) && n.type === 'PLAIN') {
      const v = String(n.value);
      if (YAML_FLOAT.test(v)) return Number(v);
      if (YAML_INT.test(v)) return Number(v.replaceAll('_', ''));
      if (/^[-+]?\.(inf|Inf|INF)$/.test(v)) return v.startsWith('-') ? -Infinity : Infinity;
      if (/^\.(nan|NaN|NAN)$/.test(v)) return NaN;
    }
    this.typeError(n, 'float64');
    return 0;
  }

  /** A Prometheus duration (`5m`); a bad one ends decoding with its own message, as in promtool. */
  duration(n: Node): number {
    const s = this.str(n);
    try {
      return parseDuration(s);
    } catch (e) {
      if (e instanceof InvalidDurationError) throw new UnitTestFileError(e.message);
      throw e;
    }
  }

  /** RFC 3339 or Unix seconds, as promtool's start_timestamp. */
  timestamp(n: Node): number {
    const s = this.str(n);
    const ms = parseTimestamp(s);
    if (ms === null) throw new UnitTestFileError(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
    return ms;
  }
}

const SEQ_TYPES: Record<string, string> = {
  tests: 'testGroup',
  input_series: 'series',
  alert_rule_test: 'alertTestCase',
  promql_expr_test: 'promqlTestCase',
  exp_alerts: 'alert',
  exp_samples: 'sample',
};

/** Unix seconds (with fraction) or an RFC 3339 time; null when neither. */
export function parseTimestamp(s: string): number | null {
  if (/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[-+]\d{2}:\d{2})$/.test(s)) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}
