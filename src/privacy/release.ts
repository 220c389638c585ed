// Differentially private aggregate answers (DESIGN §1.1, §4 step 7): B adds discrete
// Gaussian noise (discrete.ts) to the count and to each fixed-point sum of an aggregate
// query before anything leaves it. A query's (epsilon, delta) becomes a zCDP budget rho
// (Bun and Steinke 2016, Prop. 1.3); rho is split evenly over the released values, and
// the discrete Gaussian with variance sigma^2 is (Delta^2 / (2 sigma^2))-zCDP like the
// continuous one (Canonne, Kamath, Steinke 2020, Thm. 4). The privacy unit is a joined
// pair: one row matching k rows of the other table counts k times.
import { InvalidArgumentError } from '../errors.js';
import { discreteGaussian, rationalOf } from './discrete.js';

/** The largest rho with rho + 2 sqrt(rho ln(1/delta)) <= epsilon: rho-zCDP implies (epsilon, delta)-DP. */
export function rhoFor(epsilon: number, delta: number): number {
  if (!(epsilon > 0) || !(delta > 0 && delta < 1)) {
    throw new InvalidArgumentError(`expected epsilon > 0 and delta in (0, 1), got ${epsilon}, ${delta}`);
  }
  const l = Math.log(1 / delta);
  const root = Math.sqrt(l + epsilon) - Math.sqrt(l);
  return root * root;
}

/** The RDP curve of a rho-zCDP mechanism at the given orders: alpha * rho. */
export function zcdpCurve(rho: number, orders: readonly number[]): number[] {
  return orders.map((alpha) => alpha * rho);
}

export interface Sensitive {
  /** the exact value, an integer (fixed-point sums in units of 2^-F) */
  value: bigint;
  /** how much one joined pair can change it, in the same units */
  sensitivity: bigint;
}

/** Each value plus discrete Gaussian noise, the values together rho-zCDP. */
export function addNoise(values: readonly Sensitive[], rho: number): bigint[] {
  if (!(rho > 0)) throw new InvalidArgumentError(`rho: expected > 0, got ${rho}`);
  const k = BigInt(values.length);
  const r = rationalOf(rho);
  return values.map(({ value, sensitivity }) => {
    // sigma^2 = k Delta^2 / (2 rho): each of the k values gets rho / k
    const sigma2 = { num: k * sensitivity * sensitivity * r.den, den: 2n * r.num };
    return value + discreteGaussian(sigma2);
  });
}

/** The standard deviation each value gets, for the statement: sqrt(k / (2 rho)) Delta. */
export function noiseScale(count: number, rho: number): number {
  return Math.sqrt(count / (2 * rho));
}
