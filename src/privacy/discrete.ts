// Exact samplers of discrete noise (Canonne, Kamath, Steinke, "The Discrete Gaussian for
// Differential Privacy", NeurIPS 2020, Algorithms 1-3): Bernoulli(exp(-gamma)) for a
// rational gamma, the discrete Laplace and the discrete Gaussian, in integer arithmetic
// on bigints with uniform draws from node:crypto. No floating point touches a sample, so
// the attacks on floating-point Laplace (Mironov, CCS 2012) do not apply.
import { bitLength } from '../engine/limbs.js';
import { randomBelow } from '../engine/modular.js';
import { InvalidArgumentError } from '../errors.js';

/** A non-negative rational num / den. */
export interface Rational {
  num: bigint;
  den: bigint;
}

function checkRational(x: Rational, name: string): void {
  if (x.den <= 0n || x.num < 0n) throw new InvalidArgumentError(`${name}: expected a non-negative rational`);
}

/** Bernoulli(num / den), num <= den: a uniform integer below den compared with num. */
function bernoulli(num: bigint, den: bigint): boolean {
  return randomBelow(den) < num;
}

/** Bernoulli(exp(-gamma)) for a rational gamma >= 0 (CKS20 Algorithm 1). */
export function bernoulliExp({ num, den }: Rational): boolean {
  checkRational({ num, den }, 'gamma');
  // exp(-gamma) = exp(-1)^floor(gamma) * exp(-(gamma - floor(gamma)))
  let n = num;
  while (n > den) {
    if (!bernoulliExpAtMostOne(den, den)) return false;
    n -= den;
  }
  return bernoulliExpAtMostOne(n, den);
}

/** Bernoulli(exp(-gamma)) for gamma = num / den in [0, 1]: the Taylor series trick. */
function bernoulliExpAtMostOne(num: bigint, den: bigint): boolean {
  let k = 1n;
  while (bernoulli(num, den * k)) k++;
  return k % 2n === 1n;
}

/** Geometric-like count: the number of exp(-1) successes before the first failure. */
function geometricExpMinusOne(): bigint {
  let v = 0n;
  while (bernoulliExp({ num: 1n, den: 1n })) v++;
  return v;
}

/**
 * The discrete Laplace with scale t (an integer >= 1): P(Y = y) proportional to
 * exp(-|y| / t) (CKS20 Algorithm 2 with s = 1).
 */
export function discreteLaplace(t: bigint): bigint {
  if (t < 1n) throw new InvalidArgumentError('discrete Laplace: expected an integer scale >= 1');
  for (;;) {
    const u = randomBelow(t);
    if (!bernoulliExp({ num: u, den: t })) continue;
    const x = u + t * geometricExpMinusOne();
    const negative = bernoulli(1n, 2n);
    if (negative && x === 0n) continue;
    return negative ? -x : x;
  }
}

/**
 * The discrete Gaussian with variance parameter sigma^2 = num / den: P(Y = y)
 * proportional to exp(-y^2 / (2 sigma^2)) (CKS20 Algorithm 3).
 */
export function discreteGaussian(sigma2: Rational): bigint {
  checkRational(sigma2, 'sigma^2');
  if (sigma2.num === 0n) return 0n;
  // t = floor(sigma) + 1, with floor(sigma) = floor(sqrt(num / den)) in integers
  const t = isqrt(sigma2.num / sigma2.den) + 1n;
  for (;;) {
    const y = discreteLaplace(t);
    const absY = y < 0n ? -y : y;
    // gamma = (|y| - sigma^2 / t)^2 / (2 sigma^2) = (|y| t den - num)^2 / (2 num t^2 den)
    const diff = absY * t * sigma2.den - sigma2.num;
    if (bernoulliExp({ num: diff * diff, den: 2n * sigma2.num * t * t * sigma2.den })) return y;
  }
}

/** floor(sqrt(x)) for x >= 0: Newton's method on bigints from a start above the root. */
export function isqrt(x: bigint): bigint {
  if (x < 0n) throw new InvalidArgumentError('isqrt: negative argument');
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(bitLength(x) / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}

/** A positive double as a rational with a power-of-two denominator (exact for the double). */
export function rationalOf(x: number): Rational {
  if (!(x >= 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`expected a finite x >= 0, got ${x}`);
  if (x === 0) return { num: 0n, den: 1n };
  // every double is m 2^e with an integer m < 2^53
  let e = 0;
  let m = x;
  while (!Number.isInteger(m)) {
    m *= 2;
    e++;
  }
  return { num: BigInt(m), den: 1n << BigInt(e) };
}
