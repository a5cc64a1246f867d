// Go's math package on amd64, bit for bit, and PromQL's element-wise math
// functions built on it (MATH_FUNCTIONS, round, ^ and atan2).
//
// Prometheus evaluates these with Go's math package, whose algorithms (Cephes
// polynomials, an assembly log without subnormal handling, an FMA-based exp)
// differ from V8's fdlibm in the last bit and in some visible cases: Go's
// log10(1e15) is 14.999999999999998, sinh(710) is +Inf, log(5e-324) is
// -709.09. The functions below follow Go's algorithms and constants so that
// comparisons and floor() of results agree with Prometheus.
// Imports nothing.

/** Smallest positive normal float64. */
export const MIN_NORMAL = 2.2250738585072014e-308;

// Views of one float64 for reading and writing its bits. Every function
// below fills f64[0] and reads the words back before returning, and the
// indices used (0, and HI/LO of u32) exist, so their reads carry `!`.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const u64 = new BigUint64Array(f64.buffer);
// Index of the high (sign/exponent) word of f64 in u32.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

/** 2^e for integer e in the normal range, built from bits (exact). */
function pow2(e: number): number {
  u32[HI] = (e + 1023) << 20;
  u32[LO] = 0;
  return f64[0]!;
}

/** sgn: -1, 1, or the value itself for ±0 and NaN. */
function sgn(v: number): number {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;
}

/**
 * The fraction of Go's math.Frexp: x = frac * 2^exp with |frac| in [0.5, 1);
 * ±0, ±Inf and NaN come back unchanged.
 */
function frexpFrac(x: number): number {
  if (x === 0 || x !== x || x === Infinity || x === -Infinity) return x;
  if (Math.abs(x) < MIN_NORMAL) x *= 2 ** 52;
  f64[0] = x;
  u32[HI] = (u32[HI]! & 0x800fffff) | (1022 << 20);
  return f64[0]!;
}

/** The exponent of Go's math.Frexp (see frexpFrac); 0 for ±0, ±Inf and NaN. */
function frexpExp(x: number): number {
  if (x === 0 || x !== x || x === Infinity || x === -Infinity) return 0;
  let exp = 0;
  if (Math.abs(x) < MIN_NORMAL) {
    x *= 2 ** 52;
    exp = -52;
  }
  f64[0] = x;
  return exp + ((u32[HI]! >>> 20) & 0x7ff) - 1022;
}

// Fused multiply-add emulation: a*b splits exactly into p + e (Dekker), and
// the three-term sum p + e + c is rounded once with Shewchuk's partials.
const VELTKAMP = 134217729; // 2^27 + 1 splits a double into two 26-bit halves
// Shewchuk's partials of the sum in fma; three terms never need more than four.
const partials = new Float64Array(4);

/** Adds x to partials[0..n); returns the new number of partials. */
function addPartial(x: number, n: number): number {
  let i = 0;
  // i <= j < n <= 3: inside partials.
  for (let j = 0; j < n; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials[i] = x;
  return i + 1;
}

/** Correctly rounded a*b + c for the finite, moderate operands exp uses. */
function fma(a: number, b: number, c: number): number {
  const p = a * b;
  if (!Number.isFinite(p) || !Number.isFinite(c)) return p + c;
  let t = VELTKAMP * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = VELTKAMP * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  let n = addPartial(p, 0);
  n = addPartial(e, n);
  n = addPartial(c, n);
  // Sum the partials from the largest, then correct a half-way rounding using
  // the sign of what remains (as Python's math.fsum). 1 <= n <= 3 here; reads stay below it.
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

// exp: Go's amd64 assembly, FMA variant (every x86-64 server CPU since 2013
// has AVX and FMA, and Go picks this variant there). Argument reduction by
// k*ln 2, a Taylor polynomial of x/16, then four squarings of (1 + y).
const EXP_LN2U = 0.693147180559663; // ln 2, upper half
const EXP_LN2L = 2.8235290563031577e-13; // ln 2, lower half
const EXP_OVERFLOW = 709.782712893384;
const EXP_C = [2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3, 8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1] as const;

function goExp(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === -Infinity) return 0;
  if (x > EXP_OVERFLOW) return Infinity;
  // CVTSD2SL: round half to even into an int32; out of range gives INT32_MIN.
  let k = roundHalfEven(Math.LOG2E * x);
  if (!(k >= -2147483648 && k <= 2147483647)) k = -2147483648;
  let r = fma(-EXP_LN2U, k, x);
  r = fma(-EXP_LN2L, k, r);
  r *= 0.0625;
  let p: number = EXP_C[0];
  // i < 8 = EXP_C.length.
  for (let i = 1; i < 8; i++) p = fma(p, r, EXP_C[i]!);
  r *= p;
  r *= r + 2;
  r *= r + 2;
  r *= r + 2;
  r = fma(r + 2, r, 1);
  const biased = k + 1023;
  if (biased >= 0x7ff) return Infinity;
  if (biased > 0) return r * pow2(k);
  if (biased < -52) return 0;
  return r * pow2(k + 1022) * pow2(-1022);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// log: Go's amd64 assembly (fdlibm's polynomial). It reads the exponent
// field directly, so subnormal inputs are treated as if normal.
const LOG_LN2HI = 6.93147180369123816490e-01;
const LOG_LN2LO = 1.90821492927058770002e-10;
const LOG_L1 = 6.666666666666735130e-01;
const LOG_L2 = 3.999999999940941908e-01;
const LOG_L3 = 2.857142874366239149e-01;
const LOG_L4 = 2.222219843214978396e-01;
const LOG_L5 = 1.818357216161805012e-01;
const LOG_L6 = 1.531383769920937332e-01;
const LOG_L7 = 1.479819860511658591e-01;

function goLog(x: number): number {
  if (x === 0) return -Infinity;
  if (x !== x) return x;
  if (x < 0) return NaN;
  if (x === Infinity) return x;
  f64[0] = x;
  const hi = u32[HI]!;
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  u32[HI] = (hi & 0x000fffff) | 0x3fe00000;
  let f1 = f64[0]!;
  if (f1 <= Math.SQRT1_2) {
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (((LOG_L7 * s4 + LOG_L5) * s4 + LOG_L3) * s4 + LOG_L1);
  const t2 = s4 * ((LOG_L6 * s4 + LOG_L4) * s4 + LOG_L2);
  const hfsq = 0.5 * f * f;
  return k * LOG_LN2HI - ((hfsq - (s * (hfsq + (t1 + t2)) + k * LOG_LN2LO)) - f);
}

/** Go's math.Log2: exact for powers of two, else log(frac)/ln 2 + exp. */
function goLog2(x: number): number {
  const frac = frexpFrac(x);
  const exp = frexpExp(x);
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * Math.LOG2E + exp;
}

/** Go's math.Log10: log(x) * (1/ln 10). */
function goLog10(x: number): number {
  return goLog(x) * Math.LOG10E;
}

// log1p: Go's pure-Go port of fdlibm's s_log1p.c.
const LP = [6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01] as const;

function goLog1p(x: number): number {
  if (x < -1 || x !== x) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  const absx = Math.abs(x);
  let f = 0;
  let iuZero = false; // fdlibm's "hu == 0": f is known to be tiny
  let k = 1;
  if (absx < 0.41421356237309503) {
    if (absx < 1.862645149230957e-9) {
      if (absx < 5.551115123125783e-17) return x;
      return x - x * x * 0.5;
    }
    if (x > -0.2928932188134525) {
      k = 0;
      f = x;
    }
  }
  let c = 0;
  if (k !== 0) {
    let u: number;
    if (absx < 9007199254740992) {
      u = 1 + x;
      f64[0] = u;
      k = ((u32[HI]! >>> 20) & 0x7ff) - 1023;
      c = k > 0 ? 1 - (u - x) : x - (u - 1);
      c /= u;
    } else {
      u = x;
      f64[0] = u;
      k = ((u32[HI]! >>> 20) & 0x7ff) - 1023;
      c = 0;
    }
    // f64 still holds u; keep its mantissa and normalise u (or u/2) near 1.
    const mantHi = u32[HI]! & 0x000fffff;
    const mantLo = u32[LO]!;
    if (mantHi < 0x6a09e || (mantHi === 0x6a09e && mantLo < 0x667f3bcd)) {
      u32[HI] = mantHi | 0x3ff00000;
      u = f64[0]!;
      iuZero = mantHi === 0 && mantLo === 0;
    } else {
      k++;
      u32[HI] = mantHi | 0x3fe00000;
      u = f64[0]!;
      // fdlibm's hu becomes (2^52 - mantissa) >> 2 here.
      iuZero = mantHi * 4294967296 + mantLo > 4503599627370492;
    }
    f = u - 1;
  }
  const hfsq = 0.5 * f * f;
  if (iuZero) {
    if (f === 0) {
      if (k === 0) return 0;
      c += k * LOG_LN2LO;
      return k * LOG_LN2HI + c;
    }
    const R = hfsq * (1 - 0.6666666666666666 * f);
    if (k === 0) return f - R;
    return k * LOG_LN2HI - ((R - (k * LOG_LN2LO + c)) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const R = z * (LP[0] + z * (LP[1] + z * (LP[2] + z * (LP[3] + z * (LP[4] + z * (LP[5] + z * LP[6]))))));
  if (k === 0) return f - (hfsq - s * (hfsq + R));
  return k * LOG_LN2HI - ((hfsq - (s * (hfsq + R) + (k * LOG_LN2LO + c))) - f);
}

// sin, cos, tan: Cephes polynomials after reduction modulo pi/4, with
// Payne-Hanek reduction from 2^29 on.
const PI4A = 7.85398125648498535156e-1;
const PI4B = 3.77489470793079817668e-8;
const PI4C = 2.69515142907905952645e-15;
const FOUR_OVER_PI = 1.2732395447351628;
const TRIG_REDUCE_THRESHOLD = 536870912; // 2^29: below it the three-part pi/4 keeps full precision
const SIN = [1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6, -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1] as const;
const COS = [-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7, 2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2] as const;
const TAN_P = [-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7] as const;
const TAN_Q = [1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7] as const;

/** trunc(x * 4/pi) rounded up to even: the octant count of Cody-Waite reduction (x below TRIG_REDUCE_THRESHOLD). */
function evenOctantCount(x: number): number {
  const j = Math.trunc(x * FOUR_OVER_PI);
  return j % 2 === 1 ? j + 1 : j;
}

/** x - y * pi/4 with pi/4 in three parts, exact enough below TRIG_REDUCE_THRESHOLD. */
function reduceBy(x: number, y: number): number {
  return ((x - y * PI4A) - y * PI4B) - y * PI4C;
}

function sinPoly(z: number, zz: number): number {
  return z + z * zz * ((((((SIN[0] * zz) + SIN[1]) * zz + SIN[2]) * zz + SIN[3]) * zz + SIN[4]) * zz + SIN[5]);
}

function cosPoly(zz: number): number {
  return 1.0 - 0.5 * zz + zz * zz * ((((((COS[0] * zz) + COS[1]) * zz + COS[2]) * zz + COS[3]) * zz + COS[4]) * zz + COS[5]);
}

function goSin(x: number): number {
  if (x === 0 || x !== x) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let j: number;
  let z: number;
  if (x >= TRIG_REDUCE_THRESHOLD) {
    const r = payneHanek(x);
    j = r.octant;
    z = r.z;
  } else {
    const y = evenOctantCount(x);
    j = y % 8;
    z = reduceBy(x, y);
  }
  if (j > 3) {
    sign = !sign;
    j -= 4;
  }
  const zz = z * z;
  const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
  return sign ? -y : y;
}

function goCos(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  const ax = Math.abs(x);
  let j: number;
  let z: number;
  if (ax >= TRIG_REDUCE_THRESHOLD) {
    const r = payneHanek(ax);
    j = r.octant;
    z = r.z;
  } else {
    const y = evenOctantCount(ax);
    j = y % 8;
    z = reduceBy(ax, y);
  }
  if (j > 3) {
    j -= 4;
    sign = !sign;
  }
  if (j > 1) sign = !sign;
  const zz = z * z;
  const y = j === 1 || j === 2 ? sinPoly(z, zz) : cosPoly(zz);
  return sign ? -y : y;
}

function goTan(x: number): number {
  if (x === 0 || x !== x) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let j: number;
  let z: number;
  if (x >= TRIG_REDUCE_THRESHOLD) {
    const r = payneHanek(x);
    j = r.octant;
    z = r.z;
  } else {
    // Unlike sin/cos, tan keeps the unreduced octant count (only bit 1 matters).
    j = evenOctantCount(x);
    z = reduceBy(x, j);
  }
  const zz = z * z;
  let y: number;
  if (zz > 1e-14) {
    y = z + z * ((zz * (((TAN_P[0] * zz) + TAN_P[1]) * zz + TAN_P[2])) / ((((zz + TAN_Q[0]) * zz + TAN_Q[1]) * zz + TAN_Q[2]) * zz + TAN_Q[3]));
  } else {
    y = z;
  }
  if (Math.floor(j / 2) % 2 === 1) y = -1 / y;
  return sign ? -y : y;
}

// Payne-Hanek reduction of huge arguments: multiply the 53-bit mantissa by a
// 192-bit window of the binary expansion of 4/pi, in 64-bit words as Go does
// (including its truncations), giving the octant and the fraction within it.
const FOUR_OVER_PI_WORDS = 20; // covers exponents up to 2^1023
const MASK64 = (1n << 64n) - 1n;

/** floor(4/pi * 2^(64*19)): the words Go's mPi4 table holds, computed with Machin's formula (well under 1 ms). */
function fourOverPiTable(): bigint {
  const bits = BigInt(64 * FOUR_OVER_PI_WORDS + 64); // guard bits against truncation error
  const one = 1n << bits;
  const arctanInv = (n: bigint): bigint => {
    // arctan(1/n) = sum (-1)^k / ((2k+1) n^(2k+1))
    let sum = 0n;
    let term = one / n;
    const n2 = n * n;
    for (let k = 0n; term !== 0n; k++) {
      const t = term / (2n * k + 1n);
      sum = k % 2n === 0n ? sum + t : sum - t;
      term /= n2;
    }
    return sum;
  };
  const pi = 4n * (4n * arctanInv(5n) - arctanInv(239n));
  const fourOverPi = (4n * one * one) / pi; // 4/pi scaled by 2^bits
  return fourOverPi >> (bits - BigInt(64 * (FOUR_OVER_PI_WORDS - 1)));
}

const FOUR_OVER_PI_TABLE = fourOverPiTable();

/** The octant (0-7) of an argument and its reduced value within it. */
interface Reduction {
  readonly octant: number;
  readonly z: number;
}

/** Only for huge arguments (TRIG_REDUCE_THRESHOLD and beyond), where the BigInt work dwarfs the result object. */
function payneHanek(x: number): Reduction {
  if (x < 0.7853981633974483) return { octant: 0, z: x };
  f64[0] = x;
  const ix0 = u64[0]!;
  const exp = Number((ix0 >> 52n) & 0x7ffn) - 1023 - 52;
  const ix = (ix0 & 0xfffffffffffffn) | (1n << 52n);
  const digit = Math.floor((exp + 61) / 64);
  const bitshift = BigInt((exp + 61) % 64);
  const table = FOUR_OVER_PI_TABLE;
  const word = (i: number): bigint => (table >> BigInt(64 * (FOUR_OVER_PI_WORDS - 1 - i))) & MASK64;
  const sh = (a: bigint, b: bigint): bigint => ((a << bitshift) | (bitshift === 0n ? 0n : b >> (64n - bitshift))) & MASK64;
  const z0 = sh(word(digit), word(digit + 1));
  const z1 = sh(word(digit + 1), word(digit + 2));
  const z2 = sh(word(digit + 2), word(digit + 3));
  // (z0:z1:z2 * ix) >> 64, kept to 128 bits.
  const prod = (((z0 * ix) << 128n) + ((z1 * ix) << 64n) + z2 * ix) >> 64n;
  let hi = (prod >> 64n) & MASK64;
  const lo = prod & MASK64;
  let j = Number(hi >> 61n);
  hi = ((hi << 3n) | (lo >> 61n)) & MASK64;
  const lz = hi === 0n ? 64 : 64 - hi.toString(2).length;
  const e = BigInt(1023 - (lz + 1));
  const s = BigInt(lz + 1);
  // Go reuses the unshifted low word here; Go shifts of 64 or more give 0.
  const top = s >= 64n ? 0n : (hi << s) & MASK64;
  const bottom = s > 64n ? 0n : lo >> (64n - s);
  hi = ((top | bottom) >> 12n) | ((e & 0x7ffn) << 52n);
  u64[0] = hi & MASK64;
  let z = f64[0]!;
  if (j % 2 === 1) {
    j = (j + 1) % 8;
    z--;
  }
  return { octant: j, z: z * 0.7853981633974483 };
}

// asin, acos, atan: Cephes rational approximation of atan after reduction.
const ATAN_P = [-8.750608600031904122785e-01, -1.615753718733365076637e+01, -7.500855792314704667340e+01, -1.228866684490136173410e+02, -6.485021904942025371773e+01] as const;
const ATAN_Q = [2.485846490142306297962e+01, 1.650270098316988542046e+02, 4.328810604912902668951e+02, 4.853903996359136964868e+02, 1.945506571482613964425e+02] as const;
const MOREBITS = 6.123233995736766e-17; // pi/2 - float64(pi/2)
const HALF_MOREBITS = 3.061616997868383e-17;
const TAN3PIO8 = 2.414213562373095;

function xatan(x: number): number {
  let z = x * x;
  z = (z * ((((ATAN_P[0] * z + ATAN_P[1]) * z + ATAN_P[2]) * z + ATAN_P[3]) * z + ATAN_P[4])) / (((((z + ATAN_Q[0]) * z + ATAN_Q[1]) * z + ATAN_Q[2]) * z + ATAN_Q[3]) * z + ATAN_Q[4]);
  return x * z + x;
}

function satan(x: number): number {
  if (x <= 0.66) return xatan(x);
  if (x > TAN3PIO8) return Math.PI / 2 - xatan(1 / x) + MOREBITS;
  return Math.PI / 4 + xatan((x - 1) / (x + 1)) + HALF_MOREBITS;
}

function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? satan(x) : -satan(-x);
}

function goAsin(x: number): number {
  if (x === 0) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  if (x > 1) return NaN;
  let temp = Math.sqrt(1 - x * x);
  temp = x > 0.7 ? Math.PI / 2 - satan(temp / x) : satan(x / temp);
  return sign ? -temp : temp;
}

function goAcos(x: number): number {
  return Math.PI / 2 - goAsin(x);
}

// sinh, cosh, tanh: from exp, with rational approximations near zero.
const SINH_P = [-0.6307673640497716991184787251e+6, -0.8991272022039509355398013511e+5, -0.2894211355989563807284660366e+4, -0.2630563213397497062819489e+2] as const;
const SINH_Q = [-0.6307673640497716991212077277e+6, 0.1521517378790019070696485176e+5, -0.173678953558233699533450911e+3] as const;
const TANH_P = [-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3] as const;
const TANH_Q = [1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3] as const;
const TANH_SATURATION = 44.014845965556525; // half of ln(2^127): tanh is ±1 beyond

function goSinh(x: number): number {
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > 21) {
    temp = goExp(x) * 0.5;
  } else if (x > 0.5) {
    const ex = goExp(x);
    temp = (ex - 1 / ex) * 0.5;
  } else {
    const sq = x * x;
    temp = (((SINH_P[3] * sq + SINH_P[2]) * sq + SINH_P[1]) * sq + SINH_P[0]) * x;
    temp = temp / (((sq + SINH_Q[2]) * sq + SINH_Q[1]) * sq + SINH_Q[0]);
  }
  return sign ? -temp : temp;
}

function goCosh(x: number): number {
  x = Math.abs(x);
  if (x > 21) return goExp(x) * 0.5;
  const ex = goExp(x);
  return (ex + 1 / ex) * 0.5;
}

function goTanh(x: number): number {
  let z = Math.abs(x);
  if (z > TANH_SATURATION) return x < 0 ? -1 : 1;
  if (z >= 0.625) {
    const s = goExp(2 * z);
    z = 1 - 2 / (s + 1);
    return x < 0 ? -z : z;
  }
  if (x === 0) return x;
  const s = x * x;
  return x + (x * s * ((TANH_P[0] * s + TANH_P[1]) * s + TANH_P[2])) / (((s + TANH_Q[0]) * s + TANH_Q[1]) * s + TANH_Q[2]);
}

// asinh, acosh, atanh: fdlibm's formulas over log and log1p.
const NEAR_ZERO = 3.725290298461914e-9; // 2^-28: below it asinh/atanh(x) round to x
const LARGE = 268435456; // 2^28: above it the +1/-1 under the root no longer matters

function goAsinh(x: number): number {
  if (x !== x || x === Infinity || x === -Infinity) return x;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x > LARGE) temp = goLog(x) + Math.LN2;
  else if (x > 2) temp = goLog(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
  else if (x < NEAR_ZERO) temp = x;
  else temp = goLog1p(x + (x * x) / (1 + Math.sqrt(1 + x * x)));
  return sign ? -temp : temp;
}

function goAcosh(x: number): number {
  if (x < 1 || x !== x) return NaN;
  if (x === 1) return 0;
  if (x >= LARGE) return goLog(x) + Math.LN2;
  if (x > 2) return goLog(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  const t = x - 1;
  return goLog1p(t + Math.sqrt(2 * t + t * t));
}

function goAtanh(x: number): number {
  if (x < -1 || x > 1 || x !== x) return NaN;
  if (x === 1) return Infinity;
  if (x === -1) return -Infinity;
  let sign = false;
  if (x < 0) {
    x = -x;
    sign = true;
  }
  let temp: number;
  if (x < NEAR_ZERO) {
    temp = x;
  } else if (x < 0.5) {
    temp = x + x;
    temp = 0.5 * goLog1p(temp + (temp * x) / (1 - x));
  } else {
    temp = 0.5 * goLog1p((x + x) / (1 - x));
  }
  return sign ? -temp : temp;
}

export const MATH_FUNCTIONS: Readonly<Record<string, (x: number) => number>> = Object.freeze({
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: goExp,
  sqrt: Math.sqrt,
  ln: goLog,
  log2: goLog2,
  log10: goLog10,
  sgn,
  deg: (v: number) => (v * 180) / Math.PI,
  rad: (v: number) => (v * Math.PI) / 180,
  sin: goSin,
  cos: goCos,
  tan: goTan,
  asin: goAsin,
  acos: goAcos,
  atan: goAtan,
  sinh: goSinh,
  cosh: goCosh,
  tanh: goTanh,
  asinh: goAsinh,
  acosh: goAcosh,
  atanh: goAtanh,
});

/** Go's math.Ldexp: frac * 2^exp with a single rounding, saturating to ±0 and ±Inf. */
function goLdexp(frac: number, exp: number): number {
  if (frac === 0 || frac !== frac || frac === Infinity || frac === -Infinity) return frac;
  if (Math.abs(frac) < MIN_NORMAL) {
    frac *= 2 ** 52;
    exp -= 52;
  }
  f64[0] = frac;
  const hi = u32[HI]!;
  exp += ((hi >>> 20) & 0x7ff) - 1023;
  if (exp < -1075) return frac < 0 ? -0 : 0;
  if (exp > 1023) return frac < 0 ? -Infinity : Infinity;
  let m = 1;
  if (exp < -1022) {
    exp += 53;
    m = 2 ** -53;
  }
  u32[HI] = (hi & 0x800fffff) | ((exp + 1023) << 20);
  return m * f64[0]!;
}

function isOddInt(x: number): boolean {
  // Doubles from 2^53 on are even; Go's int64 conversion makes larger ones even too.
  return Number.isInteger(x) && Math.abs(x) < 9007199254740992 && x % 2 !== 0;
}

/**
 * Go's math.Pow, which PromQL's ^ operator uses: special cases differ from
 * JavaScript's ** (1^NaN = 1, (-1)^±Inf = 1), and finite results come from
 * repeated squaring times exp(frac * log x), not from fdlibm's pow.
 */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (x !== x || y !== y) return NaN;
  if (x === 0) {
    if (y < 0) {
      if (isOddInt(y)) return Object.is(x, -0) ? -Infinity : Infinity;
      return Infinity;
    }
    return isOddInt(y) ? x : 0;
  }
  if (y === Infinity || y === -Infinity) {
    if (x === -1) return 1;
    if ((Math.abs(x) < 1) === (y === Infinity)) return 0;
    return Infinity;
  }
  if (x === Infinity || x === -Infinity) {
    if (x === -Infinity) return goPow(1 / x, -y);
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  const ay = Math.abs(y);
  let yi = Math.trunc(ay);
  let yf = ay - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 9223372036854775808) {
    if (x === -1) return 1;
    if ((Math.abs(x) < 1) === (y > 0)) return 0;
    return Infinity;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = goExp(yf * goLog(x));
  }
  let x1 = frexpFrac(x);
  let xe = frexpExp(x);
  // Square-and-multiply over the bits of yi, keeping the exponent aside so
  // that intermediate values neither overflow nor underflow.
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -4096 || xe > 4096) {
      ae += xe;
      break;
    }
    if (i % 2 === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return goLdexp(a1, ae);
}

/** Go's math.Atan2 (PromQL's atan2 operator), built on Go's atan. */
export function goAtan2(y: number, x: number): number {
  if (y !== y || x !== x) return NaN;
  const ySign = y < 0 || Object.is(y, -0) ? -1 : 1;
  if (y === 0) {
    if (x >= 0 && !Object.is(x, -0)) return ySign < 0 ? -0 : 0;
    return ySign * Math.PI;
  }
  if (x === 0) return (ySign * Math.PI) / 2;
  if (x === Infinity) {
    if (y === Infinity || y === -Infinity) return (ySign * Math.PI) / 4;
    return ySign < 0 ? -0 : 0;
  }
  if (x === -Infinity) {
    if (y === Infinity || y === -Infinity) return ySign * 2.356194490192345;
    return ySign * Math.PI;
  }
  if (y === Infinity || y === -Infinity) return (ySign * Math.PI) / 2;
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

/** round(x, toNearest) as Prometheus: half-way values round up (towards +Inf). */
export function round(x: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(x * inv + 0.5) / inv;
}

/** Go's math.Max: +Inf wins over NaN, NaN wins over the rest, +0 over -0. */
export function goMax(a: number, b: number): number {
  if (a === Infinity || b === Infinity) return Infinity;
  if (a !== a || b !== b) return NaN;
  if (a === 0 && a === b) return Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}

/** Go's math.Min: -Inf wins over NaN, NaN wins over the rest, -0 over +0. */
export function goMin(a: number, b: number): number {
  if (a === -Infinity || b === -Infinity) return -Infinity;
  if (a !== a || b !== b) return NaN;
  if (a === 0 && a === b) return Object.is(a, -0) ? a : b;
  return a < b ? a : b;
}

