// RDP accountant for the Poisson-subsampled Gaussian mechanism (DP-SGD): log A_alpha from
// Mironov, Talwar & Zhang 2019, sec. 3.3, integer and fractional orders, as TF Privacy's
// _compute_log_a_int/_frac; RDP adds over steps; epsilon by the conversion of Balle et al.
// 2020, Thm. 21 (as Opacus and dp_accounting compute_epsilon), or the classic one.
import { InvalidArgumentError, PrivacyBudgetError } from '../errors.js';
import { lgamma, logAdd, logErfc, type SignedLog, signedLogAdd } from './log-math.js';

/**
 * Orders tried by default: 1.1..10.9 by 0.1 (Opacus's DEFAULT_ALPHAS grid; small orders win
 * at large epsilon), every integer 11..64, then sparser large ones (they win at tiny q or
 * huge sigma, and cost only their binomial sum).
 */
export const DEFAULT_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, i) => Math.round((1 + (i + 1) / 10) * 10) / 10),
  ...Array.from({ length: 54 }, (_, i) => 11 + i),
  80,
  96,
  128,
  192,
  256,
  512,
  1024,
];

/** Bound on the fractional-order series, as dp_accounting's _MAX_STEPS_LOG_A_FRAC. */
const MAX_FRAC_TERMS = 1000;

/**
 * log A_alpha for integer alpha >= 2 and 0 < q < 1, where A_alpha = E_{z~N(0,s^2)}[(mu(z)/mu0(z))^alpha]
 * and mu = (1-q) N(0,s^2) + q N(1,s^2):
 * A_alpha = sum_{i=0}^{alpha} C(alpha,i) (1-q)^(alpha-i) q^i exp((i^2 - i) / (2 s^2)).
 */
export function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const lgAlpha1 = lgamma(alpha + 1);
  let logA = Number.NEGATIVE_INFINITY;
  for (let i = 0; i <= alpha; i++) {
    const logCoef = lgAlpha1 - lgamma(i + 1) - lgamma(alpha - i + 1) + i * logQ + (alpha - i) * log1mQ;
    logA = logAdd(logA, logCoef + (i * i - i) / (2 * sigma * sigma));
  }
  return logA;
}

/**
 * log A_alpha for fractional alpha > 1, 0 < q < 1 (Mironov et al. 2019, sec. 3.3): A is split at
 * z0 = s^2 log(1/q - 1) + 1/2 into two integrals, each a generalised-binomial series whose
 * terms carry erfc tails. Coefficients C(alpha, i) change sign once i > alpha + 1, so the sums
 * are kept signed in log space. Returns Infinity if the series has not converged in 1000 terms
 * (the order is then ignored, as in dp_accounting).
 */
export function logAFrac(q: number, sigma: number, alpha: number): number {
  const s2 = sigma * sigma;
  const z0 = s2 * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const logHalf = Math.log(0.5);
  const rt2s = Math.SQRT2 * sigma;
  let a0: SignedLog = { sign: 1, log: Number.NEGATIVE_INFINITY };
  let a1: SignedLog = { sign: 1, log: Number.NEGATIVE_INFINITY };
  // C(alpha, i) built by C(alpha, i) = C(alpha, i-1) (alpha - i + 1) / i: log magnitude and sign.
  let logCoef = 0;
  let coefSign: 1 | -1 = 1;
  let last0 = Number.NEGATIVE_INFINITY;
  let last1 = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < MAX_FRAC_TERMS; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logCoef += Math.log(Math.abs(factor));
      if (factor < 0) coefSign = coefSign === 1 ? -1 : 1;
    }
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    const logE0 = logHalf + logErfc((i - z0) / rt2s);
    const logE1 = logHalf + logErfc((z0 - j) / rt2s);
    const logS0 = logT0 + (i * i - i) / (2 * s2) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * s2) + logE1;
    a0 = signedLogAdd(a0, coefSign, logS0);
    a1 = signedLogAdd(a1, coefSign, logS1);
    const total = signedLogAdd(a0, a1.sign, a1.log);
    // Stop once both term sequences decrease and are e^-30 below the running total.
    if (logS0 < last0 && logS1 < last1 && Math.max(logS0, logS1) < total.log - 30) {
      return total.sign === 1 ? total.log : Number.POSITIVE_INFINITY;
    }
    last0 = logS0;
    last1 = logS1;
  }
  return Number.POSITIVE_INFINITY;
}

/** RDP epsilon at order alpha of one step of the Poisson-subsampled Gaussian mechanism. */
export function rdpStep(q: number, sigma: number, alpha: number): number {
  checkMechanism(q, sigma);
  if (!(alpha > 1)) throw new InvalidArgumentError(`RDP order must be > 1, got ${alpha}`);
  if (q === 0) return 0;
  if (sigma === 0 || alpha === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  // Without subsampling it is the plain Gaussian mechanism: alpha / (2 sigma^2).
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/** RDP of `steps` compositions at each order: RDP composes additively (Mironov 2017, Prop. 1). */
export function computeRdp(
  q: number,
  sigma: number,
  steps: number,
  orders: readonly number[] = DEFAULT_ORDERS,
): number[] {
  if (!(Number.isInteger(steps) && steps >= 0)) {
    throw new InvalidArgumentError(`steps: expected an integer >= 0, got ${steps}`);
  }
  return orders.map((a) => (steps === 0 ? 0 : steps * rdpStep(q, sigma, a)));
}

export type Conversion = 'improved' | 'classic';

export interface PrivacySpent {
  epsilon: number;
  /** The RDP order that gave the smallest epsilon. */
  order: number;
}

/**
 * (epsilon, delta) from RDP, minimised over orders.
 * 'improved' (default): eps = rdp + log1p(-1/a) - log(delta a)/(a - 1) (Balle et al. 2020
 *   Thm. 21), with the KL shortcut eps = 0 when delta^2 >= 1 - e^-rdp, orders <= 1.01 skipped,
 *   exactly as dp_accounting's compute_epsilon;
 * 'classic': eps = rdp - log(delta)/(a - 1) (Mironov 2017, Prop. 3), as the pre-2020 TF Privacy
 *   get_privacy_spent and the moments accountant's tail bound.
 */
export function rdpToEpsilon(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
  conversion: Conversion = 'improved',
): PrivacySpent {
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new InvalidArgumentError(`${orders.length} orders but ${rdp.length} RDP values`);
  }
  if (!(delta > 0 && delta < 1)) throw new InvalidArgumentError(`delta: expected (0, 1), got ${delta}`);
  let best: PrivacySpent = { epsilon: Number.POSITIVE_INFINITY, order: orders[0] };
  orders.forEach((a, idx) => {
    const r = rdp[idx];
    let eps: number;
    if (Number.isNaN(r)) eps = Number.POSITIVE_INFINITY;
    else if (conversion === 'classic') eps = r - Math.log(delta) / (a - 1);
    else if (r <= 0 || delta * delta + Math.expm1(-r) > 0) eps = 0;
    else if (a > 1.01) eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    else eps = Number.POSITIVE_INFINITY;
    if (eps < best.epsilon) best = { epsilon: eps, order: a };
  });
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

export interface AccountantOptions {
  orders?: readonly number[];
  conversion?: Conversion;
}

/** Epsilon (and its order) after `steps` DP-SGD steps with sampling rate q and noise multiplier sigma. */
export function privacySpent(
  q: number,
  sigma: number,
  steps: number,
  delta: number,
  options: AccountantOptions = {},
): PrivacySpent {
  const orders = options.orders ?? DEFAULT_ORDERS;
  return rdpToEpsilon(orders, computeRdp(q, sigma, steps, orders), delta, options.conversion);
}

/** Epsilon after `steps` DP-SGD steps with sampling rate q and noise multiplier sigma, at delta. */
export function epsilon(
  q: number,
  sigma: number,
  steps: number,
  delta: number,
  options: AccountantOptions = {},
): number {
  return privacySpent(q, sigma, steps, delta, options).epsilon;
}

/**
 * Running RDP total over heterogeneous mechanisms (e.g. B's DP-SGD in several rounds, each
 * with its own q, sigma, steps), reported as epsilon at a delta.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly total: number[];

  constructor(orders: readonly number[] = DEFAULT_ORDERS) {
    this.orders = [...orders];
    this.total = orders.map(() => 0);
  }

  /** Adds `steps` steps of the subsampled Gaussian mechanism. */
  compose(q: number, sigma: number, steps: number): this {
    computeRdp(q, sigma, steps, this.orders).forEach((r, i) => {
      this.total[i] += r;
    });
    return this;
  }

  get rdp(): number[] {
    return [...this.total];
  }

  spent(delta: number, conversion: Conversion = 'improved'): PrivacySpent {
    return rdpToEpsilon(this.orders, this.total, delta, conversion);
  }

  /** The accountant after a further plan, without changing this one: what a budget check looks at. */
  withPlan(q: number, sigma: number, steps: number): RdpAccountant {
    const next = new RdpAccountant(this.orders);
    this.total.forEach((r, i) => {
      next.total[i] = r;
    });
    return next.compose(q, sigma, steps);
  }
}

export interface PlannedTraining {
  sampleRate: number;
  noiseMultiplier: number;
  steps: number;
  delta: number;
}

/**
 * Refuses a training whose epsilon, composed with what `spentSoFar` already holds, would exceed
 * maxEpsilon; returns the epsilon it would reach otherwise. Checked before any step runs, so a
 * refused plan spends nothing.
 */
export function assertWithinBudget(
  plan: PlannedTraining,
  maxEpsilon: number,
  spentSoFar?: RdpAccountant,
  options: AccountantOptions = {},
): number {
  if (!(maxEpsilon >= 0)) throw new InvalidArgumentError(`maxEpsilon: expected >= 0, got ${maxEpsilon}`);
  const base = spentSoFar ?? new RdpAccountant(options.orders);
  const after = base.withPlan(plan.sampleRate, plan.noiseMultiplier, plan.steps);
  const eps = after.spent(plan.delta, options.conversion).epsilon;
  // A relative slack of 1e-9 absorbs rounding between equivalent compositions (T r computed
  // once vs rounds t1 r + t2 r + ...), so a sigma solved for the whole plan is not refused on
  // its last round; it is far below any meaningful difference in epsilon.
  if (eps > maxEpsilon * (1 + 1e-9)) {
    throw new PrivacyBudgetError(
      `planned DP-SGD reaches epsilon ${eps.toFixed(4)} at delta ${plan.delta}, over the budget ${maxEpsilon}`,
      {
        epsilon: eps,
        maxEpsilon,
        delta: plan.delta,
        sampleRate: plan.sampleRate,
        noiseMultiplier: plan.noiseMultiplier,
        steps: plan.steps,
      },
    );
  }
  return eps;
}

export interface SigmaSearchOptions extends AccountantOptions {
  /** Relative width at which bisection stops; default 1e-4. */
  tolerance?: number;
}

/**
 * The smallest noise multiplier (within `tolerance`, rounded up) whose epsilon after `steps`
 * steps at rate q is <= targetEpsilon, by bisection: epsilon decreases in sigma because every
 * order's RDP does. The returned sigma always satisfies the target (upper end of the bracket).
 */
export function sigmaForEpsilon(
  q: number,
  steps: number,
  delta: number,
  targetEpsilon: number,
  options: SigmaSearchOptions = {},
): number {
  if (!(targetEpsilon > 0))
    throw new InvalidArgumentError(`targetEpsilon: expected > 0, got ${targetEpsilon}`);
  checkMechanism(q, 1);
  const tol = options.tolerance ?? 1e-4;
  const eps = (s: number) => epsilon(q, s, steps, delta, options);
  let hi = 1;
  while (eps(hi) > targetEpsilon) {
    hi *= 2;
    if (hi > 1e6)
      throw new InvalidArgumentError(`no noise multiplier up to 1e6 reaches epsilon ${targetEpsilon}`);
  }
  let lo = hi / 2;
  if (hi === 1) {
    // Bracket from below too: halve until the target is missed (or sigma is negligible).
    while (lo > 1e-3 && eps(lo) <= targetEpsilon) {
      hi = lo;
      lo /= 2;
    }
  }
  while ((hi - lo) / hi > tol) {
    const mid = (lo + hi) / 2;
    if (eps(mid) <= targetEpsilon) hi = mid;
    else lo = mid;
  }
  return hi;
}

function checkMechanism(q: number, sigma: number): void {
  if (!(q >= 0 && q <= 1)) throw new InvalidArgumentError(`sampling rate: expected [0, 1], got ${q}`);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) {
    throw new InvalidArgumentError(`noise multiplier: expected a finite number >= 0, got ${sigma}`);
  }
}
