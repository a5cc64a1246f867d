// The PromQL function table of Prometheus 3.x: argument types, arity and result
// type of every function the parser accepts. Experimental functions need
// --enable-feature=promql-experimental-functions.
import type { FunctionDef, ValueKind } from './ast.js';

const V: ValueKind = 'vector';
const M: ValueKind = 'matrix';
const S: ValueKind = 'scalar';
const STR: ValueKind = 'string';

interface Extra {
  variadic?: number;
  experimental?: boolean;
}

function def(name: string, argTypes: ValueKind[], returnType: ValueKind, extra: Extra = {}): FunctionDef {
  return Object.freeze({
    name,
    argTypes: Object.freeze(argTypes) as ValueKind[],
    variadic: extra.variadic ?? 0,
    returnType,
    experimental: extra.experimental ?? false,
  });
}

const EXP: Extra = { experimental: true };
/** One optional trailing argument, e.g. hour(v=vector(time())). */
const OPT1: Extra = { variadic: 1 };

const DEFS: FunctionDef[] = [
  def('abs', [V], V),
  def('absent', [V], V),
  def('absent_over_time', [M], V),
  def('acos', [V], V),
  def('acosh', [V], V),
  def('asin', [V], V),
  def('asinh', [V], V),
  def('atan', [V], V),
  def('atanh', [V], V),
  def('avg_over_time', [M], V),
  def('ceil', [V], V),
  def('changes', [M], V),
  def('clamp', [V, S, S], V),
  def('clamp_max', [V, S], V),
  def('clamp_min', [V, S], V),
  def('cos', [V], V),
  def('cosh', [V], V),
  def('count_over_time', [M], V),
  def('day_of_month', [V], V, OPT1),
  def('day_of_week', [V], V, OPT1),
  def('day_of_year', [V], V, OPT1),
  def('days_in_month', [V], V, OPT1),
  def('deg', [V], V),
  def('delta', [M], V),
  def('deriv', [M], V),
  def('double_exponential_smoothing', [M, S, S], V, EXP),
  def('end', [], S, EXP),
  def('exp', [V], V),
  def('first_over_time', [M], V),
  def('floor', [V], V),
  def('histogram_avg', [V], V),
  def('histogram_count', [V], V),
  def('histogram_fraction', [S, S, V], V),
  def('histogram_quantile', [S, V], V),
  // Up to ten quantiles: the last scalar may repeat nine more times.
  def('histogram_quantiles', [V, STR, S, S], V, { variadic: 9, experimental: true }),
  def('histogram_stddev', [V], V),
  def('histogram_stdvar', [V], V),
  def('histogram_sum', [V], V),
  def('hour', [V], V, OPT1),
  def('idelta', [M], V),
  def('increase', [M], V),
  def('info', [V, V], V, { variadic: 1, experimental: true }),
  def('irate', [M], V),
  def('label_join', [V, STR, STR, STR], V, { variadic: -1 }),
  def('label_replace', [V, STR, STR, STR, STR], V),
  def('last_over_time', [M], V),
  def('ln', [V], V),
  def('log10', [V], V),
  def('log2', [V], V),
  def('mad_over_time', [M], V, EXP),
  def('max_of', [S, S], S, EXP),
  def('max_over_time', [M], V),
  def('min_of', [S, S], S, EXP),
  def('min_over_time', [M], V),
  def('minute', [V], V, OPT1),
  def('month', [V], V, OPT1),
  def('pi', [], S),
  def('predict_linear', [M, S], V),
  def('present_over_time', [M], V),
  def('quantile_over_time', [S, M], V),
  def('rad', [V], V),
  def('range', [], S, EXP),
  def('rate', [M], V),
  def('resets', [M], V),
  def('round', [V, S], V, OPT1),
  def('scalar', [V], S),
  def('sgn', [V], V),
  def('sin', [V], V),
  def('sinh', [V], V),
  def('sort', [V], V),
  def('sort_by_label', [V, STR], V, { variadic: -1, experimental: true }),
  def('sort_by_label_desc', [V, STR], V, { variadic: -1, experimental: true }),
  def('sort_desc', [V], V),
  def('sqrt', [V], V),
  def('start', [], S, EXP),
  def('start_timestamp', [V], V, EXP),
  def('step', [], S, EXP),
  def('stddev_over_time', [M], V),
  def('stdvar_over_time', [M], V),
  def('sum_over_time', [M], V),
  def('tan', [V], V),
  def('tanh', [V], V),
  def('time', [], S),
  def('timestamp', [V], V),
  def('ts_of_first_over_time', [M], V, EXP),
  def('ts_of_last_over_time', [M], V, EXP),
  def('ts_of_max_over_time', [M], V, EXP),
  def('ts_of_min_over_time', [M], V, EXP),
  def('vector', [S], V),
  def('year', [V], V, OPT1),
];

/** Every PromQL function by name (names are case-sensitive). */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(DEFS.map((d) => [d.name, d]));
