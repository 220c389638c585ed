// Server B's training step (DESIGN §4 steps 5-6, issue 5 item 5): the decrypted, shuffled
// feature vectors of joined rows are standardised with the pooled statistics and used to
// refine the global model, plainly or with DP-SGD under a privacy budget that composes
// across rounds (RDP accountant). The encrypted global score A sent along is checked
// against the features when B holds all of them.
import { MalformedMessageError } from '../errors.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { GlobalWeights, LocalWeights } from './contribution.js';
import { dpSgd } from './dp-sgd.js';
import { modelLoss, train } from './logistic.js';
import { RdpAccountant, sigmaForEpsilon } from './rdp-accountant.js';

/** Name of the encrypted global score column A adds to feature sets. */
export const GLOBAL_SCORE = '__global_score';
/** Fraction bits of the global score: features carry 32, A's weights 16 more. */
export const GLOBAL_SCORE_FRACTION_BITS = 48;

/** Plain training per round at B (no DP): passes over the joined rows. */
const PLAIN_EPOCHS = 30;
/** DP-SGD: expected rows per step, epochs per round, clip norm, step size. */
const DP_BATCH = 32;
const DP_EPOCHS = 4;
const DP_CLIP = 1;
const DP_LEARNING_RATE = 0.5;

export interface TrainingRows {
  /** the global features B holds in this set, in global order */
  features: string[];
  present: boolean[];
  rows: number[][];
  labels: number[];
  /** log-loss of a global model on these rows (over the coordinates present) */
  lossOf(global: GlobalWeights): number;
}

export interface TrainState {
  accountant?: RdpAccountant;
  sigma?: number;
}

export interface RefineRequest {
  features: string[];
  label: string;
  standardization: { mean: number[]; std: number[] };
  global: GlobalWeights;
  dp: { epsilon: number; delta: number } | null;
  /** total rounds of the training: B trains in rounds 1 .. rounds - 1 */
  rounds: number;
}

export interface LocalTrainingResult {
  local: LocalWeights;
  rows: TrainingRows;
  epsilonSpent: number;
}

/** Standardised rows of the features B holds, labels, and the score check. */
export function trainingRows(set: FeatureSet, request: RefineRequest): TrainingRows {
  const index = new Map(set.columns.map((c, i) => [c.name, i]));
  const labelAt = index.get(request.label);
  if (labelAt === undefined) throw new MalformedMessageError(`feature set lacks the label ${request.label}`);
  const present = request.features.map((f) => index.has(f));
  const positions = request.features.flatMap((f, k) => (index.has(f) ? [k] : []));
  const { mean, std } = request.standardization;
  const rows = set.rows.map((row) =>
    positions.map((k) => (Number(row[index.get(request.features[k])!]) - mean[k]) / std[k]),
  );
  const labels = set.rows.map((row) => Number(row[labelAt]));
  const scoreAt = index.get(GLOBAL_SCORE);
  if (scoreAt !== undefined && positions.length === request.features.length) {
    // A's E(sum v_k x_k) with v_k = w_k / std_k must equal what B computes from the features
    const v = request.global.weights.map((w, k) => w / std[k]);
    for (const row of set.rows) {
      const expected = positions.reduce(
        (acc, k) => acc + v[k] * Number(row[index.get(request.features[k])!]),
        0,
      );
      const got = Number(row[scoreAt]);
      if (Math.abs(got - expected) > 1e-3 * (1 + Math.abs(expected))) {
        throw new MalformedMessageError('the global score from server A does not match the features');
      }
    }
  }
  const features = positions.map((k) => request.features[k]);
  return {
    features,
    present,
    rows,
    labels,
    lossOf: (global) =>
      modelLoss(
        { features, weights: positions.map((k) => global.weights[k]), bias: global.bias },
        rows,
        labels,
      ),
  };
}

/** One round of B's refinement from the global model; the accountant in `state` composes rounds. */
export function refineOnJoinedRows(
  set: FeatureSet,
  request: RefineRequest,
  state: TrainState,
): LocalTrainingResult {
  const data = trainingRows(set, request);
  const positions = request.features.flatMap((_, k) => (data.present[k] ? [k] : []));
  const init = {
    features: data.features,
    weights: positions.map((k) => request.global.weights[k]),
    bias: request.global.bias,
  };
  const n = data.rows.length;
  let model = init;
  let epsilonSpent = 0;
  if (n > 0 && request.dp) {
    const q = Math.min(1, DP_BATCH / n);
    const steps = Math.ceil(DP_EPOCHS / q);
    const plannedSteps = steps * Math.max(1, request.rounds - 1);
    // one noise multiplier for the whole training, so the planned rounds exactly spend the budget
    state.sigma ??= sigmaForEpsilon(q, plannedSteps, request.dp.delta, request.dp.epsilon);
    state.accountant ??= new RdpAccountant();
    const result = dpSgd(init, data.rows, data.labels, {
      clip: DP_CLIP,
      noiseMultiplier: state.sigma,
      sampleRate: q,
      steps,
      learningRate: DP_LEARNING_RATE,
      budget: { ...request.dp, spent: state.accountant },
    });
    model = result.model;
    epsilonSpent = state.accountant.spent(request.dp.delta).epsilon;
  } else if (n > 0) {
    model = train(data.features, data.rows, data.labels, { init, epochs: PLAIN_EPOCHS, learningRate: 0.1 });
  }
  const weights = new Array<number>(request.features.length).fill(0);
  positions.forEach((k, i) => {
    weights[k] = model.weights[i];
  });
  return {
    local: { weights, bias: model.bias, present: data.present, samples: n },
    rows: data,
    epsilonSpent,
  };
}
