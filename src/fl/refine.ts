// Server B's fit on the joined rows (DESIGN §4 steps 5-6, issue 14 item 6): the decrypted,
// shuffled feature vectors are standardised with the pooled statistics, and B minimises the
// client's objective, L2-regularised logistic regression with lambda = 1 / n (scikit-learn's
// C = 1), from the global model: to a tolerance by Newton's method without DP, by DP-SGD
// under a budget that composes across rounds (RDP accountant) with DP. docs/DECISIONS.md "Federated learning".
import { InvalidArgumentError, MalformedMessageError } from '../errors.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { GlobalWeights, LocalWeights } from './contribution.js';
import { dpSgd } from './dp-sgd.js';
import { modelLoss } from './logistic.js';
import { l2ForC, NEWTON_TOLERANCE, solveLogistic } from './newton.js';
import { RdpAccountant, sigmaForEpsilon } from './rdp-accountant.js';

/** Name of the encrypted global score column A adds to feature sets. */
export const GLOBAL_SCORE = '__global_score';
/** Fraction bits of the global score: features carry 32, A's weights 16 more. */
export const GLOBAL_SCORE_FRACTION_BITS = 48;

/**
 * DP-SGD per round: expected rows per step, passes over the rows, clip norm, step size, and
 * the fraction of the last steps whose iterates are averaged. Tuned on the bundled data (300
 * joined rows, 12 features, epsilon 3 over 1-2 rounds, 1000 runs each): mean accuracy 1.1 to
 * 1.5 points below the exact optimum, the worst run 2.9 below (docs/DECISIONS.md "Federated learning").
 */
const DP_BATCH = 128;
const DP_EPOCHS = 16;
const DP_CLIP = 0.5;
const DP_LEARNING_RATE = 2;
const DP_AVERAGE_TAIL = 0.5;

export interface TrainingRows {
  /** the features B fits, in global order */
  features: string[];
  rows: number[][];
  labels: number[];
  /** log-loss of a global model on these rows (over the fitted coordinates) */
  lossOf(global: GlobalWeights): number;
}

export interface TrainState {
  accountant?: RdpAccountant;
  sigma?: number;
}

export interface FitRequest {
  /** every feature of the training, in global order */
  features: readonly string[];
  label: string;
  standardization: { mean: readonly number[]; std: readonly number[] };
  dp: { epsilon: number; delta: number } | null;
  /** the features B fits: all of them, or the top-k selection; the others get weight 0 */
  fitted: readonly string[];
  /** rounds in which B fits (the training's rounds - 1): DP's budget is spread over them */
  fitRounds: number;
}

/** How B's model was fitted, for the training report. */
export interface FitReport {
  method: 'newton' | 'dp-sgd';
  /** lambda of lambda/2 ||w||^2 on the mean log-loss */
  l2: number;
  /** gradient max-norm B stops at (Newton); null for DP-SGD, which runs a fixed number of steps */
  tolerance: number | null;
  /** Newton steps, or DP-SGD steps */
  iterations: number;
  /** reached gradient max-norm (Newton); null for DP-SGD, where it would be a non-private statistic */
  gradientNorm: number | null;
}

export interface FitResult {
  local: LocalWeights;
  rows: TrainingRows;
  epsilonSpent: number;
  fit: FitReport;
}

/** Standardised rows of the fitted features, and the labels. */
export function trainingRows(set: FeatureSet, request: FitRequest): TrainingRows {
  const index = new Map(set.columns.map((c, i) => [c.name, i]));
  const labelAt = index.get(request.label);
  if (labelAt === undefined) throw new MalformedMessageError(`feature set lacks the label ${request.label}`);
  const position = new Map(request.features.map((f, k) => [f, k]));
  const missing = request.fitted.find((f) => !index.has(f));
  if (missing !== undefined) throw new MalformedMessageError(`feature set lacks the feature ${missing}`);
  const { mean, std } = request.standardization;
  const fitted = request.fitted.map((f) => ({ at: index.get(f)!, k: position.get(f)! }));
  const rows = set.rows.map((row) => fitted.map(({ at, k }) => (Number(row[at]) - mean[k]) / std[k]));
  const labels = set.rows.map((row) => Number(row[labelAt]));
  const features = [...request.fitted];
  return {
    features,
    rows,
    labels,
    lossOf: (model) =>
      modelLoss(
        { features, weights: fitted.map(({ k }) => model.weights[k]), bias: model.bias },
        rows,
        labels,
      ),
  };
}

/**
 * A's E(sum v_k x_k), v_k = w_k / std_k over the features it extracted with the model
 * `global`, must equal what B computes from the same decrypted features: checked once,
 * when the feature set arrives.
 */
export function checkGlobalScore(set: FeatureSet, request: FitRequest, global: GlobalWeights): void {
  const index = new Map(set.columns.map((c, i) => [c.name, i]));
  const scoreAt = index.get(GLOBAL_SCORE);
  if (scoreAt === undefined) return;
  const { std } = request.standardization;
  const held = request.features.flatMap((f, k) => (index.has(f) ? [{ at: index.get(f)!, k }] : []));
  for (const row of set.rows) {
    const expected = held.reduce((acc, { at, k }) => acc + (global.weights[k] / std[k]) * Number(row[at]), 0);
    const got = Number(row[scoreAt]);
    if (Math.abs(got - expected) > 1e-3 * (1 + Math.abs(expected))) {
      throw new MalformedMessageError('the global score from server A does not match the features');
    }
  }
}

/** One round of B's fit from the global model; the accountant in `state` composes rounds. */
export function fitOnJoinedRows(
  set: FeatureSet,
  request: FitRequest,
  global: GlobalWeights,
  state: TrainState,
): FitResult {
  const data = trainingRows(set, request);
  const n = data.rows.length;
  if (n === 0) throw new InvalidArgumentError('no joined rows to fit');
  const position = new Map(request.features.map((f, k) => [f, k]));
  const init = {
    features: data.features,
    weights: data.features.map((f) => global.weights[position.get(f)!]),
    bias: global.bias,
  };
  const l2 = l2ForC(1, n);
  let weights: number[];
  let bias: number;
  let fit: FitReport;
  let epsilonSpent = 0;
  if (request.dp) {
    const q = Math.min(1, DP_BATCH / n);
    const steps = Math.ceil(DP_EPOCHS / q);
    // one noise multiplier for the whole training, so the planned rounds exactly spend the budget
    state.sigma ??= sigmaForEpsilon(q, steps * request.fitRounds, request.dp.delta, request.dp.epsilon);
    state.accountant ??= new RdpAccountant();
    const result = dpSgd(init, data.rows, data.labels, {
      clip: DP_CLIP,
      noiseMultiplier: state.sigma,
      sampleRate: q,
      steps,
      learningRate: DP_LEARNING_RATE,
      l2,
      averageTail: DP_AVERAGE_TAIL,
      budget: { ...request.dp, spent: state.accountant },
    });
    ({ weights, bias } = result.model);
    epsilonSpent = state.accountant.spent(request.dp.delta).epsilon;
    fit = { method: 'dp-sgd', l2, tolerance: null, iterations: steps, gradientNorm: null };
  } else {
    const result = solveLogistic(data.rows, data.labels, { l2, init });
    ({ weights, bias } = result);
    fit = {
      method: 'newton',
      l2,
      tolerance: NEWTON_TOLERANCE,
      iterations: result.iterations,
      gradientNorm: result.gradientNorm,
    };
  }
  // every coordinate is B's: the fitted ones carry the fit, the others (not selected) weight 0
  const all = new Array<number>(request.features.length).fill(0);
  data.features.forEach((f, i) => {
    all[position.get(f)!] = weights[i];
  });
  return {
    local: { weights: all, bias, present: all.map(() => true), samples: n },
    rows: data,
    epsilonSpent,
    fit,
  };
}
