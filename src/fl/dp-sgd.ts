// DP-SGD for logistic regression (Abadi et al. 2016, "Deep Learning with Differential
// Privacy", Algorithm 1) with Poisson sampling, the setting of the RDP accountant (Mironov,
// Talwar, Zhang 2019): per-example clipping to C, N(0, sigma^2 C^2) noise on the sum, divided
// by the expected batch size q N. Sampling and noise come from node:crypto.
import { InvalidArgumentError } from '../errors.js';
import { checkData, logit, type Model, sigmoid } from './logistic.js';
import { SecureRandom } from './random.js';
import { assertWithinBudget, type RdpAccountant } from './rdp-accountant.js';

/** One pool of CSPRNG bytes per module (per worker thread), not a fresh 64 KiB draw per call. */
const random = new SecureRandom();

export interface DpSgdOptions {
  /** C: every per-example gradient (weights and bias together) is scaled to L2 norm <= C. */
  clip: number;
  /** sigma: the noise std is sigma * C. */
  noiseMultiplier: number;
  /** q: each example's independent inclusion probability per step. */
  sampleRate: number;
  /** T: number of noisy steps. */
  steps: number;
  learningRate: number;
  /** lambda of lambda/2 ||w||^2; its gradient does not touch the data, so it costs no privacy. Default 0. */
  l2?: number;
  /**
   * If set, training is refused (PrivacyBudgetError, before any step) when its epsilon at
   * `budget.delta`, composed with `budget.spent` if given, would exceed `budget.epsilon`.
   * `spent` (earlier rounds) has this run composed into it once the run completes.
   */
  budget?: { epsilon: number; delta: number; spent?: RdpAccountant };
  /**
   * Return the mean of the iterates of the last `averageTail` fraction of the steps instead of
   * the last iterate (Polyak-Ruppert averaging): post-processing, so it costs no privacy, and it
   * averages out much of the noise the last steps added. Default 0 (the last iterate).
   */
  averageTail?: number;
}

export interface DpSgdResult {
  model: Model;
  /**
   * With a budget: the epsilon at budget.delta after this run, composed with budget.spent.
   * (Batch sizes are deliberately not reported: the analysis protects the noisy sums, not the
   * number of examples drawn.)
   */
  epsilon?: number;
}

/**
 * Runs T steps of DP-SGD from `init` (the global model) on rows in init's feature order with
 * 0/1 labels. The result is (epsilon, delta)-DP with respect to adding or removing one row,
 * for the epsilon that rdp-accountant's epsilon(q, sigma, T, delta) reports. Dividing by the
 * fixed q N rather than the drawn batch size keeps the sensitivity of a step at C / (q N)
 * (as Opacus does with Poisson sampling). Like Opacus and TF Privacy, the floating-point
 * Box-Muller noise is not hardened against the attacks of Mironov 2012 (CCS).
 */
export function dpSgd(
  init: Model,
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: DpSgdOptions,
): DpSgdResult {
  const { clip, noiseMultiplier: sigma, sampleRate: q, steps, learningRate: lr } = options;
  const l2 = options.l2 ?? 0;
  checkOptions(options);
  const d = init.weights.length;
  checkData(rows, labels, d);
  if (rows.length === 0) throw new InvalidArgumentError('dpSgd: no rows');
  let eps: number | undefined;
  if (options.budget) {
    const { epsilon: maxEps, delta, spent } = options.budget;
    eps = assertWithinBudget({ sampleRate: q, noiseMultiplier: sigma, steps, delta }, maxEps, spent);
  }
  const weights = [...init.weights];
  let bias = init.bias;
  const expectedBatch = q * rows.length;
  const sum = new Array<number>(d + 1);
  const grad = new Array<number>(d + 1);
  const averaged = Math.min(steps, Math.ceil(steps * (options.averageTail ?? 0)));
  const mean = new Array<number>(d + 1).fill(0);
  for (let t = 0; t < steps; t++) {
    sum.fill(0);
    for (let i = 0; i < rows.length; i++) {
      // Poisson sampling: an independent coin per example; q = 1 takes everyone without a draw.
      if (q < 1 && random.uniform() >= q) continue;
      const row = rows[i];
      const residual = sigmoid(logit(weights, bias, row)) - labels[i];
      let norm2 = residual * residual; // bias coordinate
      for (let k = 0; k < d; k++) {
        grad[k] = residual * row[k];
        norm2 += grad[k] * grad[k];
      }
      grad[d] = residual;
      // Clip: scale by min(1, C / ||g||) so each example moves the sum by at most C.
      const scale = Math.min(1, clip / Math.sqrt(norm2));
      for (let k = 0; k <= d; k++) sum[k] += scale * grad[k];
    }
    if (sigma > 0) for (let k = 0; k <= d; k++) sum[k] += sigma * clip * random.gaussian();
    for (let k = 0; k < d; k++) weights[k] -= lr * (sum[k] / expectedBatch + l2 * weights[k]);
    bias -= lr * (sum[d] / expectedBatch);
    if (t >= steps - averaged) {
      for (let k = 0; k < d; k++) mean[k] += weights[k] / averaged;
      mean[d] += bias / averaged;
    }
  }
  const model: Model =
    averaged > 0
      ? { features: [...init.features], weights: mean.slice(0, d), bias: mean[d] }
      : { features: [...init.features], weights, bias };
  options.budget?.spent?.compose(q, sigma, steps);
  return eps === undefined ? { model } : { model, epsilon: eps };
}

function checkOptions(o: DpSgdOptions): void {
  if (!(o.clip > 0)) throw new InvalidArgumentError(`clip: expected > 0, got ${o.clip}`);
  if (!(o.noiseMultiplier >= 0 && Number.isFinite(o.noiseMultiplier))) {
    throw new InvalidArgumentError(
      `noiseMultiplier: expected a finite number >= 0, got ${o.noiseMultiplier}`,
    );
  }
  if (!(o.sampleRate > 0 && o.sampleRate <= 1)) {
    throw new InvalidArgumentError(`sampleRate: expected (0, 1], got ${o.sampleRate}`);
  }
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) {
    throw new InvalidArgumentError(`steps: expected an integer >= 0, got ${o.steps}`);
  }
  if (!(o.learningRate > 0))
    throw new InvalidArgumentError(`learningRate: expected > 0, got ${o.learningRate}`);
  if (o.l2 !== undefined && !(o.l2 >= 0)) throw new InvalidArgumentError(`l2: expected >= 0, got ${o.l2}`);
}
