// Evaluation of a binary classifier: accuracy, ROC AUC by the rank-sum (Mann-Whitney U)
// identity with mid-ranks for ties (Hanley & McNeil 1982), clipped log-loss, and a seeded
// stratified train/test split (each label keeps its proportion, as scikit-learn's
// train_test_split(stratify=y) does).
import { BatchLengthError, InvalidArgumentError } from '../errors.js';
import { seededRng, shuffleInPlace } from './random.js';

/** Fraction of rows whose thresholded score (score >= threshold means 1) equals the label. */
export function accuracy(labels: readonly number[], scores: readonly number[], threshold = 0.5): number {
  checkPair(labels, scores);
  let hits = 0;
  labels.forEach((y, i) => {
    if ((scores[i] >= threshold ? 1 : 0) === y) hits++;
  });
  return hits / labels.length;
}

/**
 * Area under the ROC curve = P(score of a random positive > score of a random negative)
 * + 1/2 P(equal). Computed as (R+ - n+(n+ + 1)/2) / (n+ n-), R+ the sum of the positives'
 * ranks with tied scores sharing their mean rank; that sharing is exactly the 1/2 for ties.
 */
export function auc(labels: readonly number[], scores: readonly number[]): number {
  checkPair(labels, scores);
  const nPos = labels.filter((y) => y === 1).length;
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new InvalidArgumentError('auc: needs both labels present');
  const order = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && scores[order[end + 1]] === scores[order[start]]) end++;
    const midRank = (start + end) / 2 + 1; // ranks are 1-based
    for (let j = start; j <= end; j++) if (labels[order[j]] === 1) rankSumPos += midRank;
    start = end + 1;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean of -[y log p + (1-y) log(1-p)], p clipped to [eps, 1 - eps] so one confident miss stays finite. */
export function logLoss(labels: readonly number[], probabilities: readonly number[], eps = 1e-15): number {
  checkPair(labels, probabilities);
  let total = 0;
  labels.forEach((y, i) => {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i]));
    total -= y === 1 ? Math.log(p) : Math.log1p(-p);
  });
  return total / labels.length;
}

export interface Split {
  /** Row indices, ascending. */
  train: number[];
  test: number[];
}

/**
 * Stratified split: for each label the rows are shuffled by a PRNG seeded from `seed` and
 * round(count * testFraction) of them go to test. Deterministic in (labels, testFraction, seed).
 */
export function stratifiedSplit(labels: readonly number[], testFraction: number, seed: number): Split {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new InvalidArgumentError(`testFraction: expected a number in (0, 1), got ${testFraction}`);
  }
  const rng = seededRng(seed);
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const train: number[] = [];
  const test: number[] = [];
  for (const c of classes) {
    const members = labels.flatMap((y, i) => (y === c ? [i] : []));
    shuffleInPlace(members, rng);
    const nTest = Math.round(members.length * testFraction);
    test.push(...members.slice(0, nTest));
    train.push(...members.slice(nTest));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Picks the entries of `items` at `indices`. */
export function take<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => items[i]);
}

function checkPair(labels: readonly number[], scores: readonly number[]): void {
  if (labels.length !== scores.length) {
    throw new BatchLengthError(`${labels.length} labels but ${scores.length} scores`);
  }
  if (labels.length === 0) throw new InvalidArgumentError('no rows to evaluate');
  labels.forEach((y, i) => {
    if (y !== 0 && y !== 1) throw new InvalidArgumentError(`label ${i}: expected 0 or 1`);
  });
  scores.forEach((s, i) => {
    if (Number.isNaN(s)) throw new InvalidArgumentError(`score ${i} is NaN`);
  });
}
