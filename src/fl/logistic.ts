// Logistic regression (single-layer perceptron) over a fixed feature order: the L2-regularised
// log-loss and its gradient (Hastie et al., "Elements of Statistical Learning", sec. 4.4; the
// solvers are newton.ts and dp-sgd.ts); partial models of owners holding some features, their
// per-coordinate, sample-weighted FedAvg (McMahan et al. 2017, Algorithm 1), and top-k ranking.
import { BatchLengthError, InvalidArgumentError } from '../errors.js';

export type Model = { features: string[]; weights: number[]; bias: number };

/**
 * An owner's contribution relative to the GLOBAL feature order: weights[k] is meaningful only
 * where present[k]; a coordinate the owner lacks is absent (its weights[k] is a 0 placeholder
 * that fedAvg never reads), not a trained zero.
 */
export type PartialModel = Model & { present: boolean[] };

export interface Gradient {
  weights: number[];
  bias: number;
  /** The regularised objective at the point where the gradient was taken. */
  loss: number;
}

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
