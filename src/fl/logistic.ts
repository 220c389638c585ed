// Logistic regression (single-layer perceptron) over a fixed feature order, trained by
// mini-batch gradient descent on the L2-regularised log-loss (Hastie et al., "Elements of
// Statistical Learning", sec. 4.4); partial models of owners holding some features, and their
// per-coordinate, sample-weighted FedAvg (McMahan et al. 2017, Algorithm 1).
import { BatchLengthError, InvalidArgumentError } from '../errors.js';
import { type Rng, seededRng, shuffleInPlace } from './random.js';

export type Model = { features: string[]; weights: number[]; bias: number };

/**
 * An owner's contribution relative to the GLOBAL feature order: weights[k] is meaningful only
 * where present[k]; a coordinate the owner lacks is absent (its weights[k] is a 0 placeholder
 * that fedAvg never reads), not a trained zero.
 */
export type PartialModel = Model & { present: boolean[] };

export interface TrainOptions {
  /** Step size; default 0.1. */
  learningRate?: number;
  /** Passes over the data; default 100. */
  epochs?: number;
  /** Rows per step; default 32 (the last batch of an epoch may be smaller). */
  batchSize?: number;
  /** lambda in the objective mean(log-loss) + lambda/2 ||w||^2 (bias not penalised); default 1e-3. */
  l2?: number;
  /** Seed of the shuffling PRNG: equal seeds give bit-identical models. Default 1. */
  seed?: number;
  /** Starting point (e.g. the global model); default all zeros. */
  init?: { weights: readonly number[]; bias: number };
}

export interface Gradient {
  weights: number[];
  bias: number;
  /** The regularised objective at the point where the gradient was taken. */
  loss: number;
}

export const DEFAULT_TRAIN = { learningRate: 0.1, epochs: 100, batchSize: 32, l2: 1e-3, seed: 1 } as const;

/** 1 / (1 + e^-z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z) without overflow: the log-loss of a logit is softplus(z) - y z. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** w . x + b. */
export function logit(weights: readonly number[], bias: number, row: readonly number[]): number {
  let z = bias;
  for (let k = 0; k < weights.length; k++) z += weights[k] * row[k];
  return z;
}

/** P(y = 1 | x) for each row; rows are in the model's feature order. */
export function predictProba(model: Model, rows: readonly (readonly number[])[]): number[] {
  checkRows(rows, model.weights.length);
  return rows.map((row) => sigmoid(logit(model.weights, model.bias, row)));
}

/** Hard 0/1 predictions at a probability threshold (default 0.5). */
export function predict(model: Model, rows: readonly (readonly number[])[], threshold = 0.5): number[] {
  return predictProba(model, rows).map((p) => (p >= threshold ? 1 : 0));
}

/**
 * Gradient of mean_i [softplus(z_i) - y_i z_i] + l2/2 ||w||^2 over the rows in `indices`
 * (all rows by default): d/dw = mean((p_i - y_i) x_i) + l2 w, d/db = mean(p_i - y_i).
 */
export function logLossGradient(
  weights: readonly number[],
  bias: number,
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  l2 = 0,
  indices?: readonly number[],
): Gradient {
  const d = weights.length;
  const gw = new Array<number>(d).fill(0);
  let gb = 0;
  let loss = 0;
  const count = indices ? indices.length : rows.length;
  if (count === 0) throw new InvalidArgumentError('logLossGradient: no rows');
  for (let n = 0; n < count; n++) {
    const i = indices ? indices[n] : n;
    const row = rows[i];
    const z = logit(weights, bias, row);
    const residual = sigmoid(z) - labels[i];
    for (let k = 0; k < d; k++) gw[k] += residual * row[k];
    gb += residual;
    loss += softplus(z) - labels[i] * z;
  }
  let penalty = 0;
  for (let k = 0; k < d; k++) {
    gw[k] = gw[k] / count + l2 * weights[k];
    penalty += weights[k] * weights[k];
  }
  return { weights: gw, bias: gb / count, loss: loss / count + (l2 / 2) * penalty };
}

/** Mean log-loss of a model on rows (no penalty): the "loss per round" a report shows. */
export function modelLoss(
  model: Model,
  rows: readonly (readonly number[])[],
  labels: readonly number[],
): number {
  checkData(rows, labels, model.weights.length);
  return logLossGradient(model.weights, model.bias, rows, labels, 0).loss;
}

/**
 * Mini-batch gradient descent. Each epoch visits the rows in an order shuffled by a PRNG
 * seeded from options.seed, so the result is a deterministic function of inputs and options.
 */
export function train(
  features: readonly string[],
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: TrainOptions = {},
): Model {
  const o = resolve(options);
  const d = features.length;
  checkData(rows, labels, d);
  const weights = o.init ? [...o.init.weights] : new Array<number>(d).fill(0);
  let bias = o.init ? o.init.bias : 0;
  if (weights.length !== d) {
    throw new BatchLengthError(`init: expected ${d} weights, got ${weights.length}`);
  }
  const rng: Rng = seededRng(o.seed);
  const order = rows.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    shuffleInPlace(order, rng);
    for (let start = 0; start < order.length; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      const g = logLossGradient(weights, bias, rows, labels, o.l2, batch);
      for (let k = 0; k < d; k++) weights[k] -= o.learningRate * g.weights[k];
      bias -= o.learningRate * g.bias;
    }
  }
  return { features: [...features], weights, bias };
}

/**
 * An owner's local training over the global features it holds: `rows` carry only the owner's
 * columns, in the order of `ownFeatures` (any order, each one a global feature). The result is
 * expressed in the global order with the owner's coordinates marked present.
 */
export function trainPartial(
  globalFeatures: readonly string[],
  ownFeatures: readonly string[],
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  options: TrainOptions = {},
): PartialModel {
  const positions = featurePositions(globalFeatures, ownFeatures);
  let init: TrainOptions['init'];
  if (options.init) {
    // A global starting point is given in the global order: keep the owner's coordinates.
    if (options.init.weights.length !== globalFeatures.length) {
      throw new BatchLengthError(
        `init: expected ${globalFeatures.length} global weights, got ${options.init.weights.length}`,
      );
    }
    init = { weights: positions.map((p) => options.init!.weights[p]), bias: options.init.bias };
  }
  const local = train(ownFeatures, rows, labels, { ...options, init });
  return toPartial(local, globalFeatures);
}

/** Re-expresses a model over a subset of the global features in the global order, with its mask. */
export function toPartial(model: Model, globalFeatures: readonly string[]): PartialModel {
  const positions = featurePositions(globalFeatures, model.features);
  const weights = new Array<number>(globalFeatures.length).fill(0);
  const present = new Array<boolean>(globalFeatures.length).fill(false);
  positions.forEach((p, j) => {
    weights[p] = model.weights[j];
    present[p] = true;
  });
  return { features: [...globalFeatures], weights, bias: model.bias, present };
}

export interface Contribution {
  weights: readonly number[];
  bias: number;
  present: readonly boolean[];
  /** Rows the owner trained on: its weight in the average. */
  samples: number;
}

export interface FedAvgResult {
  /** Per coordinate: sum_o samples_o w_o[k] / sum_o samples_o over owners o having k; 0 where nobody has k. */
  weights: number[];
  /** Every owner trains a bias, so it is averaged over all contributions. */
  bias: number;
  /** Whether any contribution had the coordinate. */
  present: boolean[];
  /** Per coordinate: the denominator, sum of samples over the owners having it. */
  samples: number[];
}

/**
 * Per-coordinate sample-weighted FedAvg. Plaintext reference of what the coordinator computes
 * homomorphically: the numerator prod E(w_k * n_o) and denominator prod E(n_o) over owners with k.
 * Averaging over only the owners that have a coordinate is what makes absent differ from zero:
 * an owner without feature k does not drag w_k towards 0.
 */
export function fedAvg(contributions: readonly Contribution[]): FedAvgResult {
  if (contributions.length === 0) throw new InvalidArgumentError('fedAvg: no contributions');
  const d = contributions[0].weights.length;
  const num = new Array<number>(d).fill(0);
  const den = new Array<number>(d).fill(0);
  let biasNum = 0;
  let biasDen = 0;
  contributions.forEach((c, i) => {
    if (c.weights.length !== d || c.present.length !== d) {
      throw new BatchLengthError(
        `fedAvg: contribution ${i} has ${c.weights.length} weights and ${c.present.length} mask entries, expected ${d}`,
      );
    }
    if (!(Number.isFinite(c.samples) && c.samples > 0)) {
      throw new InvalidArgumentError(`fedAvg: contribution ${i} has sample count ${c.samples}`);
    }
    for (let k = 0; k < d; k++) {
      if (!c.present[k]) continue;
      num[k] += c.samples * c.weights[k];
      den[k] += c.samples;
    }
    biasNum += c.samples * c.bias;
    biasDen += c.samples;
  });
  return {
    weights: num.map((v, k) => (den[k] > 0 ? v / den[k] : 0)),
    bias: biasNum / biasDen,
    present: den.map((v) => v > 0),
    samples: den,
  };
}

/**
 * The k features with the largest |w| (ties: earlier feature first), in global order. On
 * standardised features |w_k| is a fair importance score, which is what top-k selection uses.
 */
export function topKFeatures(model: Model, k: number): string[] {
  if (!Number.isInteger(k) || k < 0) throw new InvalidArgumentError(`topK: expected k >= 0, got ${k}`);
  const ranked = model.weights
    .map((w, i) => ({ i, a: Math.abs(w) }))
    .sort((x, y) => y.a - x.a || x.i - y.i)
    .slice(0, k)
    .map((e) => e.i)
    .sort((x, y) => x - y);
  return ranked.map((i) => model.features[i]);
}

/** Index of each of `subset` in `all`; every name must exist exactly once. */
export function featurePositions(all: readonly string[], subset: readonly string[]): number[] {
  const index = new Map(all.map((f, i) => [f, i]));
  if (index.size !== all.length) throw new InvalidArgumentError('feature order has duplicate names');
  const seen = new Set<string>();
  return subset.map((f) => {
    const p = index.get(f);
    if (p === undefined) throw new InvalidArgumentError(`feature ${f} is not in the global feature order`);
    if (seen.has(f)) throw new InvalidArgumentError(`feature ${f} is listed twice`);
    seen.add(f);
    return p;
  });
}

function resolve(options: TrainOptions) {
  const o = {
    learningRate: options.learningRate ?? DEFAULT_TRAIN.learningRate,
    epochs: options.epochs ?? DEFAULT_TRAIN.epochs,
    batchSize: options.batchSize ?? DEFAULT_TRAIN.batchSize,
    l2: options.l2 ?? DEFAULT_TRAIN.l2,
    seed: options.seed ?? DEFAULT_TRAIN.seed,
    init: options.init,
  };
  if (!(o.learningRate > 0))
    throw new InvalidArgumentError(`learningRate: expected > 0, got ${o.learningRate}`);
  if (!(Number.isInteger(o.epochs) && o.epochs >= 0)) {
    throw new InvalidArgumentError(`epochs: expected an integer >= 0, got ${o.epochs}`);
  }
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) {
    throw new InvalidArgumentError(`batchSize: expected an integer >= 1, got ${o.batchSize}`);
  }
  if (!(o.l2 >= 0)) throw new InvalidArgumentError(`l2: expected >= 0, got ${o.l2}`);
  return o;
}

/** Rows must all have d finite numbers and labels must be 0/1, one per row. */
export function checkData(rows: readonly (readonly number[])[], labels: readonly number[], d: number): void {
  if (rows.length !== labels.length) {
    throw new BatchLengthError(`${rows.length} rows but ${labels.length} labels`);
  }
  checkRows(rows, d);
  labels.forEach((y, i) => {
    if (y !== 0 && y !== 1) throw new InvalidArgumentError(`label of row ${i}: expected 0 or 1`);
  });
}

function checkRows(rows: readonly (readonly number[])[], d: number): void {
  rows.forEach((row, i) => {
    if (row.length !== d) throw new BatchLengthError(`row ${i} has ${row.length} values, expected ${d}`);
    for (const v of row) {
      if (!Number.isFinite(v)) throw new InvalidArgumentError(`row ${i} holds a non-finite value`);
    }
  });
}
