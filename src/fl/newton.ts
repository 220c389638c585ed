// L2-regularised logistic regression solved to a tolerance by Newton's method (IRLS) with a
// backtracking line search; each step solves H d = -g by Cholesky (Nocedal & Wright,
// "Numerical Optimization", 2nd ed., Alg. 3.1 and sec. 3.4). The objective is scikit-learn's
// LogisticRegression(penalty='l2') divided by C n: mean log-loss + l2/2 ||w||^2, bias free.
import { InvalidArgumentError } from '../errors.js';
import { checkData, logit, logLossGradient, sigmoid, softplus } from './logistic.js';

/** Stop when every partial derivative of the (mean) objective is at most this in magnitude. */
export const NEWTON_TOLERANCE = 1e-8;
/** Newton converges in ~10 steps on well-posed data; this bound only stops a pathological run. */
const MAX_ITERATIONS = 100;
/** Armijo's sufficient-decrease constant. */
const ARMIJO = 1e-4;

/** lambda for scikit-learn's C on n rows: its C sum(loss) + ||w||^2 / 2 is C n (ours). */
export function l2ForC(c: number, rows: number): number {
  if (!(c > 0) || !(rows > 0)) throw new InvalidArgumentError(`l2ForC: expected C > 0 and rows > 0`);
  return 1 / (c * rows);
}

export interface NewtonOptions {
  /** lambda of lambda/2 ||w||^2 (the bias is not penalised); must be > 0. */
  l2: number;
  /** Max-norm of the gradient at which to stop; default NEWTON_TOLERANCE. */
  tolerance?: number;
  /** Starting point (the global model): the optimum does not depend on it, only the step count. */
  init?: { weights: readonly number[]; bias: number };
}

export interface NewtonResult {
  weights: number[];
  bias: number;
  /** Newton steps taken. */
  iterations: number;
  /** Max-norm of the objective's gradient at the result: <= tolerance when converged. */
  gradientNorm: number;
}

/**
 * Minimises mean_i [softplus(z_i) - y_i z_i] + l2/2 ||w||^2, z_i = w . x_i + b. Strictly convex
 * for l2 > 0, so the minimiser is unique; the result is a deterministic function of the rows in
 * their given order (floating-point sums follow it).
 */
export function solveLogistic(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: NewtonOptions,
): NewtonResult {
  const d = options.init?.weights.length ?? rows[0]?.length ?? 0;
  checkData(rows, labels, d);
  if (rows.length === 0) throw new InvalidArgumentError('solveLogistic: no rows');
  if (!(options.l2 > 0)) throw new InvalidArgumentError(`l2: expected > 0, got ${options.l2}`);
  const tolerance = options.tolerance ?? NEWTON_TOLERANCE;
  // theta = (w, b): the bias is the last coordinate
  let theta = options.init ? [...options.init.weights, options.init.bias] : new Array<number>(d + 1).fill(0);
  let state = evaluate(theta, rows, labels, options.l2);
  let iterations = 0;
  // the line search needs the objective only: logLossGradient sums it in the same order as evaluate
  const lossAt = (next: readonly number[]) =>
    logLossGradient(next.slice(0, d), next[d], rows, labels, options.l2).loss;
  while (maxAbs(state.gradient) > tolerance && iterations < MAX_ITERATIONS) {
    const step = choleskySolve(
      state.hessian,
      state.gradient.map((g) => -g),
    );
    const slope = dot(state.gradient, step);
    // backtracking: the full Newton step is accepted near the optimum (quadratic convergence)
    let t = 1;
    let next = theta.map((v, k) => v + t * step[k]);
    let trial = lossAt(next);
    while (trial > state.loss + ARMIJO * t * slope && t > 1e-12) {
      t /= 2;
      next = theta.map((v, k) => v + t * step[k]);
      trial = lossAt(next);
    }
    theta = next;
    state = evaluate(theta, rows, labels, options.l2);
    iterations++;
  }
  return { weights: theta.slice(0, d), bias: theta[d], iterations, gradientNorm: maxAbs(state.gradient) };
}

interface Evaluation {
  loss: number;
  gradient: number[];
  /** (d+1) x (d+1), row-major */
  hessian: number[][];
}

/** The objective, its gradient and its Hessian at theta = (w, b), in one pass over the rows. */
function evaluate(
  theta: readonly number[],
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  l2: number,
): Evaluation {
  const d = theta.length - 1;
  const n = rows.length;
  const weights = theta.slice(0, d);
  const gradient = new Array<number>(d + 1).fill(0);
  const hessian = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const z = logit(weights, theta[d], row);
    const p = sigmoid(z);
    loss += softplus(z) - labels[i] * z;
    const r = p - labels[i];
    for (let k = 0; k < d; k++) gradient[k] += r * row[k];
    gradient[d] += r;
    const s = p * (1 - p);
    // lower triangle of sum s x~ x~^T, x~ = (x, 1); mirrored below
    for (let j = 0; j < d; j++) {
      const sx = s * row[j];
      const hj = hessian[j];
      for (let k = 0; k <= j; k++) hj[k] += sx * row[k];
    }
    const hb = hessian[d];
    for (let k = 0; k < d; k++) hb[k] += s * row[k];
    hb[d] += s;
  }
  let penalty = 0;
  for (let k = 0; k <= d; k++) gradient[k] /= n;
  for (let k = 0; k < d; k++) {
    gradient[k] += l2 * weights[k];
    penalty += weights[k] * weights[k];
  }
  for (let j = 0; j <= d; j++) {
    for (let k = 0; k <= j; k++) {
      hessian[j][k] = hessian[j][k] / n + (j === k && j < d ? l2 : 0);
      hessian[k][j] = hessian[j][k];
    }
  }
  return { loss: loss / n + (l2 / 2) * penalty, gradient, hessian };
}

/**
 * x with A x = b for symmetric positive definite A (A = L L^T). The bias row of the Hessian is
 * mean p(1 - p), which underflows when the data are separated and |z| is huge: a diagonal
 * shift, grown tenfold until the factorisation succeeds, keeps the step a descent direction.
 */
function choleskySolve(a: readonly (readonly number[])[], b: readonly number[]): number[] {
  const m = b.length;
  const scale = Math.max(1, ...a.map((row, k) => Math.abs(row[k])));
  for (let shift = 0; shift <= scale; shift = shift === 0 ? 1e-14 * scale : shift * 10) {
    const l = cholesky(a, shift);
    if (!l) continue;
    const y = new Array<number>(m).fill(0);
    for (let i = 0; i < m; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= l[i][k] * y[k];
      y[i] = s / l[i][i];
    }
    const x = new Array<number>(m).fill(0);
    for (let i = m - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < m; k++) s -= l[k][i] * x[k];
      x[i] = s / l[i][i];
    }
    return x;
  }
  throw new Error('choleskySolve: the Hessian is not positive definite (non-finite data?)');
}

function cholesky(a: readonly (readonly number[])[], shift: number): number[][] | null {
  const m = a.length;
  const l = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i][j] + (i === j ? shift : 0);
      for (let k = 0; k < j; k++) s -= l[i][k] * l[j][k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i][i] = Math.sqrt(s);
      } else {
        l[i][j] = s / l[j][j];
      }
    }
  }
  return l;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

function maxAbs(v: readonly number[]): number {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}
