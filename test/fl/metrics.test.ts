// Accuracy, AUC (ties, against the pairwise definition), log-loss and the stratified split.
import { describe, expect, test } from 'vitest';
import { BatchLengthError, InvalidArgumentError } from '../../src/errors.js';
import { accuracy, auc, logLoss, stratifiedSplit } from '../../src/fl/metrics.js';
import { seededRng } from '../../src/fl/random.js';
import { bundledXy } from '../helpers/bundled-data.js';

/** AUC by definition: over all (positive, negative) pairs, 1 if the positive scores higher, 1/2 if tied. */
function aucByPairs(labels: number[], scores: number[]): number {
  let total = 0;
  let pairs = 0;
  labels.forEach((yi, i) => {
    if (yi !== 1) return;
    labels.forEach((yj, j) => {
      if (yj !== 0) return;
      pairs++;
      total += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return total / pairs;
}

describe('metrics', () => {
  test('accuracy thresholds scores at 0.5 by default (>= counts as 1)', () => {
    expect(accuracy([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.5])).toBe(0.5);
    expect(accuracy([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.5], 0.3)).toBe(0.75);
    expect(accuracy([1, 0], [1, 0])).toBe(1);
  });

  test('AUC on the scikit-learn roc_auc_score doc example is 0.75', () => {
    // scikit-learn docs, sklearn.metrics.roc_auc_score: y = [0, 0, 1, 1], scores
    // [0.1, 0.4, 0.35, 0.8] -> 0.75.
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
  });

  test('AUC counts ties as one half', () => {
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    // Positives 0.5, 0.7, 0.2 vs negatives 0.2, 0.5: pairs 1 + 1/2 + 1 + 1 + 1/2 + 0 = 4 of 6.
    expect(auc([0, 0, 1, 1, 1], [0.2, 0.5, 0.5, 0.7, 0.2])).toBeCloseTo(4 / 6, 15);
    expect(auc([0, 1], [0.3, 0.9])).toBe(1);
    expect(auc([1, 0], [0.3, 0.9])).toBe(0);
  });

  test('rank-based AUC equals the pairwise definition on random data with many ties', () => {
    const rng = seededRng(5);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rng.next() * 60);
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.next() < 0.4 ? 1 : 0));
      const scores = labels.map(() => Math.floor(rng.next() * 6) / 5); // 6 distinct values
      expect(auc(labels, scores)).toBeCloseTo(aucByPairs(labels, scores), 12);
    }
  });

  test('log-loss on hand values, clipped so a confident miss stays finite', () => {
    // -(log 0.8 + log(1 - 0.3)) / 2
    expect(logLoss([1, 0], [0.8, 0.3])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 15);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-15), 10); // 34.538776...
    expect(logLoss([0], [1])).toBeCloseTo(34.538776394910684, 1);
    expect(Number.isFinite(logLoss([0, 1], [1, 0]))).toBe(true);
    expect(logLoss([1], [0], 1e-3)).toBeCloseTo(-Math.log(1e-3), 12);
  });

  test('metrics reject length mismatches, empty input and non-binary labels', () => {
    expect(() => accuracy([1, 0], [0.5])).toThrow(BatchLengthError);
    expect(() => auc([], [])).toThrow(InvalidArgumentError);
    expect(() => auc([1, 1], [0.2, 0.3])).toThrow(InvalidArgumentError);
    expect(() => logLoss([2], [0.5])).toThrow(InvalidArgumentError);
    expect(() => auc([0, 1], [Number.NaN, 0.3])).toThrow(InvalidArgumentError);
  });

  test('stratifiedSplit 70/30 on the bundled labels: proportions kept, disjoint, deterministic', () => {
    const { labels } = bundledXy(); // 357 benign, 212 malignant
    const s = stratifiedSplit(labels, 0.3, 42);
    expect(s.train.length + s.test.length).toBe(569);
    expect(new Set([...s.train, ...s.test]).size).toBe(569);
    // round(357 * 0.3) = 107 benign and round(212 * 0.3) = 64 malignant in test.
    expect(s.test.filter((i) => labels[i] === 0)).toHaveLength(107);
    expect(s.test.filter((i) => labels[i] === 1)).toHaveLength(64);
    expect(s.train).toHaveLength(398);
    expect([...s.train].sort((a, b) => a - b)).toEqual(s.train);
    expect(stratifiedSplit(labels, 0.3, 42)).toEqual(s);
    expect(stratifiedSplit(labels, 0.3, 43).test).not.toEqual(s.test);
  });

  test('stratifiedSplit validates the fraction', () => {
    expect(() => stratifiedSplit([0, 1], 0, 1)).toThrow(InvalidArgumentError);
    expect(() => stratifiedSplit([0, 1], 1, 1)).toThrow(InvalidArgumentError);
  });
});
