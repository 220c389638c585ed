// Logistic regression (loss and gradient) and the partial models / per-coordinate FedAvg that
// the coordinator computes under encryption. The solvers have their own tests (newton, dp-sgd).
import { describe, expect, test } from 'vitest';
import { BatchLengthError, InvalidArgumentError } from '../../src/errors.js';
import {
  fedAvg,
  logLossGradient,
  predictProba,
  sigmoid,
  softplus,
  toPartial,
  topKFeatures,
} from '../../src/fl/logistic.js';
import { accuracy } from '../../src/fl/metrics.js';
import { l2ForC, solveLogistic } from '../../src/fl/newton.js';
import { FEATURES, preparedSplit } from '../helpers/bundled-data.js';

describe('logistic regression', () => {
  test('sigmoid and softplus stay finite and accurate at extreme logits', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(-40)).toBeCloseTo(Math.exp(-40), 30);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
  });

  test('log-loss gradient equals central finite differences (with L2)', () => {
    const rows = [
      [0.5, -1.2, 2],
      [-0.3, 0.8, 0.1],
      [1.5, 0.2, -0.7],
      [0, -0.4, 1.1],
    ];
    const labels = [1, 0, 1, 0];
    const w = [0.3, -0.2, 0.5];
    const b = 0.1;
    const l2 = 0.05;
    const g = logLossGradient(w, b, rows, labels, l2);
    const h = 1e-6;
    const lossAt = (ww: number[], bb: number) => logLossGradient(ww, bb, rows, labels, l2).loss;
    for (let k = 0; k < w.length; k++) {
      const up = [...w];
      const down = [...w];
      up[k] += h;
      down[k] -= h;
      expect(g.weights[k]).toBeCloseTo((lossAt(up, b) - lossAt(down, b)) / (2 * h), 8);
    }
    expect(g.bias).toBeCloseTo((lossAt(w, b + h) - lossAt(w, b - h)) / (2 * h), 8);
    // A subset of rows via `indices` is the same as passing only those rows.
    const sub = logLossGradient(w, b, rows, labels, l2, [1, 3]);
    const direct = logLossGradient(w, b, [rows[1], rows[3]], [labels[1], labels[3]], l2);
    expect(sub).toEqual(direct);
  });
});

describe('partial models and FedAvg', () => {
  const GLOBAL = ['f0', 'f1', 'f2', 'f3'];

  test('fedAvg: per-coordinate weighted mean over the owners that HAVE the coordinate', () => {
    // Owner A (10 rows) has f0, f1; owner B (30 rows) has f1, f2; owner C (20 rows) has f0, f2.
    // Nobody has f3. Placeholders of absent coordinates are set to a large value on purpose:
    // they must not be read.
    const contributions = [
      { weights: [1, 2, 999, 999], bias: 0.5, present: [true, true, false, false], samples: 10 },
      { weights: [999, 4, -1, 999], bias: -0.5, present: [false, true, true, false], samples: 30 },
      { weights: [3, 999, 5, 999], bias: 1, present: [true, false, true, false], samples: 20 },
    ];
    const avg = fedAvg(contributions);
    // f0: (10*1 + 20*3) / (10 + 20) = 70/30; f1: (10*2 + 30*4) / 40 = 140/40;
    // f2: (30*-1 + 20*5) / 50 = 70/50; f3: nobody -> absent (0); bias: (5 - 15 + 20) / 60.
    expect(avg.weights[0]).toBeCloseTo(70 / 30, 14);
    expect(avg.weights[1]).toBeCloseTo(3.5, 14);
    expect(avg.weights[2]).toBeCloseTo(1.4, 14);
    expect(avg.weights[3]).toBe(0);
    expect(avg.bias).toBeCloseTo(10 / 60, 14);
    expect(avg.present).toEqual([true, true, true, false]);
    expect(avg.samples).toEqual([30, 40, 50, 0]);
    // Absent is not zero: treating A's missing f2 as a trained 0 would give (0*10 - 30 + 100)/60.
    expect(avg.weights[2]).not.toBeCloseTo(70 / 60, 3);
  });

  test('fedAvg of identical full contributions is that contribution', () => {
    const c = { weights: [0.1, -0.2, 0.3, 0.4], bias: 0.7, present: [true, true, true, true], samples: 5 };
    const avg = fedAvg([c, { ...c, samples: 11 }]);
    for (const [k, w] of avg.weights.entries()) expect(w).toBeCloseTo(c.weights[k], 15);
    expect(avg.bias).toBeCloseTo(0.7, 15);
  });

  test('fedAvg rejects empty input, ragged masks and non-positive sample counts', () => {
    expect(() => fedAvg([])).toThrow(InvalidArgumentError);
    const ok = { weights: [1, 2], bias: 0, present: [true, true], samples: 1 };
    expect(() => fedAvg([ok, { ...ok, present: [true] }])).toThrow(BatchLengthError);
    expect(() => fedAvg([ok, { ...ok, samples: 0 }])).toThrow(InvalidArgumentError);
  });

  test('toPartial places an owner model in the global order with its mask', () => {
    const local = { features: ['f2', 'f0'], weights: [0.5, -1], bias: 0.25 };
    const p = toPartial(local, GLOBAL);
    expect(p).toEqual({
      features: GLOBAL,
      weights: [-1, 0, 0.5, 0],
      bias: 0.25,
      present: [true, false, true, false],
    });
    expect(() => toPartial({ features: ['zz'], weights: [1], bias: 0 }, GLOBAL)).toThrow(
      InvalidArgumentError,
    );
  });

  test('owners with overlapping feature subsets, averaged: a usable global model', () => {
    const s = preparedSplit(1);
    const n = s.trainRows.length;
    const owners = [
      { features: FEATURES.slice(0, 15), rows: [0, Math.floor(n / 3)] },
      { features: FEATURES.slice(10, 25), rows: [Math.floor(n / 3), Math.floor((2 * n) / 3)] },
      { features: [...FEATURES.slice(20), ...FEATURES.slice(0, 5)], rows: [Math.floor((2 * n) / 3), n] },
    ];
    const contributions = owners.map((o) => {
      const cols = o.features.map((f) => FEATURES.indexOf(f));
      const rows = s.trainRows.slice(o.rows[0], o.rows[1]).map((r) => cols.map((c) => r[c]));
      const labels = s.trainLabels.slice(o.rows[0], o.rows[1]);
      const fit = solveLogistic(rows, labels, { l2: l2ForC(1, rows.length) });
      return { ...toPartial({ features: o.features, ...fit }, FEATURES), samples: rows.length };
    });
    const avg = fedAvg(contributions);
    expect(avg.present.every(Boolean)).toBe(true);
    const global = { features: FEATURES, weights: avg.weights, bias: avg.bias };
    // One averaging round of partial models, before any fit at B.
    expect(accuracy(s.testLabels, predictProba(global, s.testRows))).toBeGreaterThan(0.9);
  });

  test('topKFeatures ranks by |w| and returns names in global order', () => {
    const m = { features: GLOBAL, weights: [0.1, -3, 2, -0.5], bias: 0 };
    expect(topKFeatures(m, 2)).toEqual(['f1', 'f2']);
    expect(topKFeatures(m, 0)).toEqual([]);
    expect(topKFeatures(m, 9)).toEqual(GLOBAL);
    expect(() => topKFeatures(m, -1)).toThrow(InvalidArgumentError);
  });
});
