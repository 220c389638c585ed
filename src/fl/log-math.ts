// Log-space arithmetic for the privacy accountant: logAdd/logSub, log Gamma (Lanczos
// approximation, g = 7, n = 9, as in Numerical Recipes 3rd ed. sec. 6.1 / Godfrey's
// coefficients) and log erfc. RDP terms for large orders reach e^(hundreds), so every
// quantity is kept as its logarithm; -Infinity stands for zero.

/** log(e^a + e^b), exact for -Infinity operands. */
export function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === Number.NEGATIVE_INFINITY) return hi;
  // e^a + e^b = e^hi (1 + e^(lo - hi)); lo - hi <= 0 so nothing overflows.
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a - e^b) for a >= b; -Infinity when they are equal. */
export function logSub(a: number, b: number): number {
  if (a < b) throw new RangeError(`logSub: result would be negative (${a} < ${b})`);
  if (b === Number.NEGATIVE_INFINITY) return a;
  if (a === b) return Number.NEGATIVE_INFINITY;
  return a + Math.log1p(-Math.exp(b - a));
}

/** A signed number in log space: value = sign * e^log. */
export interface SignedLog {
  sign: 1 | -1;
  log: number;
}

/** x + s * e^t for a signed log-space x: how alternating series are summed without overflow. */
export function signedLogAdd(x: SignedLog, sign: 1 | -1, t: number): SignedLog {
  if (t === Number.NEGATIVE_INFINITY) return x;
  if (x.log === Number.NEGATIVE_INFINITY) return { sign, log: t };
  if (x.sign === sign) return { sign, log: logAdd(x.log, t) };
  if (x.log >= t) return { sign: x.sign, log: logSub(x.log, t) };
  return { sign, log: logSub(t, x.log) };
}

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log |Gamma(x)|. Lanczos for x >= 0.5 (relative error ~1e-15), the reflection formula
 * Gamma(x) Gamma(1 - x) = pi / sin(pi x) below. +Infinity at the poles 0, -1, -2...
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0 && Number.isInteger(x)) return Number.POSITIVE_INFINITY;
  if (x < 0.5) {
    return Math.log(Math.PI) - Math.log(Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log C(n, k) for real n >= k >= 0 (both may be fractional), via lgamma. */
export function logBinomial(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/**
 * log erfc(x), accurate where erfc underflows (x up to ~1e150). Three regimes:
 * x < 0: erfc = 2 - erfc(-x) >= 1, no precision issue;
 * 0 <= x < 2: erf by its everywhere-positive series erf(x) = 2/sqrt(pi) e^(-x^2)
 *   sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)) (Abramowitz & Stegun 7.1.6), no cancellation;
 * x >= 2: erfc(x) = e^(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 *   (A&S 7.1.14), evaluated by the modified Lentz method, in log form.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  if (x === Number.NEGATIVE_INFINITY) return Math.LN2;
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 2) return Math.log1p(-erfSeries(x));
  return -x * x - LOG_SQRT_PI - Math.log(erfcContinuedFraction(x));
}

/** erf(x) for 0 <= x < 2 by A&S 7.1.6; terms grow at most ~x^2/n per step and all are positive. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/**
 * The denominator D(x) with erfc(x) = e^(-x^2) / (sqrt(pi) D(x)): the continued fraction
 * x + (1/2)/(x + 1/(x + (3/2)/(x + ...))), partial numerators a_k = k/2, by modified Lentz.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}
