// Newton's method for L2-regularised logistic regression (src/fl/newton.ts): it reaches the
// optimum an independent solver finds, from any start, deterministically; it survives
// separable data; it refuses bad input with typed errors.
import { describe, expect, test } from 'vitest';
import { BatchLengthError, InvalidArgumentError } from '../../src/errors.js';
import { logLossGradient, predictProba } from '../../src/fl/logistic.js';
import { accuracy, auc } from '../../src/fl/metrics.js';
import { l2ForC, NEWTON_TOLERANCE, solveLogistic } from '../../src/fl/newton.js';
import { FEATURES, preparedSplit } from '../helpers/bundled-data.js';
import { plainLogistic } from './plain-solver.js';

describe('solveLogistic', () => {
  test('matchesAcceleratedGradientDescent: same optimum on the bundled data, to 1e-6', () => {
    const s = preparedSplit(1);
    const l2 = l2ForC(1, s.trainRows.length);
    const newton = solveLogistic(s.trainRows, s.trainLabels, { l2 });
    const plain = plainLogistic(s.trainRows, s.trainLabels, l2);
    expect(newton.gradientNorm).toBeLessThanOrEqual(NEWTON_TOLERANCE);
    expect(newton.iterations).toBeLessThan(20);
    for (const [k, w] of newton.weights.entries()) expect(Math.abs(w - plain.weights[k])).toBeLessThan(1e-6);
    expect(Math.abs(newton.bias - plain.bias)).toBeLessThan(1e-6);
    // and the gradient there is zero by an independent formula
    const g = logLossGradient(newton.weights, newton.bias, s.trainRows, s.trainLabels, l2);
    expect(Math.max(...g.weights.map(Math.abs), Math.abs(g.bias))).toBeLessThanOrEqual(NEWTON_TOLERANCE);
  });

  test('reaches the test accuracy data/README.md reports for scikit-learn (~0.95) on five splits', () => {
    const results = [1, 2, 3, 4, 5].map((seed) => {
      const s = preparedSplit(seed);
      const fit = solveLogistic(s.trainRows, s.trainLabels, { l2: l2ForC(1, s.trainRows.length) });
      const p = predictProba({ features: FEATURES, ...fit }, s.testRows);
      return { acc: accuracy(s.testLabels, p), auc: auc(s.testLabels, p) };
    });
    expect(results.reduce((t, r) => t + r.acc, 0) / results.length).toBeGreaterThan(0.95);
    for (const r of results) expect(r.auc).toBeGreaterThan(0.98);
  });

  test('isDeterministicAndStartIndependent: same rows, same bits; another start, the same optimum', () => {
    const s = preparedSplit(2);
    const l2 = l2ForC(1, s.trainRows.length);
    const a = solveLogistic(s.trainRows, s.trainLabels, { l2 });
    expect(solveLogistic(s.trainRows, s.trainLabels, { l2 })).toEqual(a);
    const far = solveLogistic(s.trainRows, s.trainLabels, {
      l2,
      init: { weights: FEATURES.map((_, k) => (k % 2 ? 5 : -5)), bias: 3 },
    });
    for (const [k, w] of far.weights.entries()) expect(Math.abs(w - a.weights[k])).toBeLessThan(1e-6);
    // from the optimum itself: no step is needed
    expect(solveLogistic(s.trainRows, s.trainLabels, { l2, init: a }).iterations).toBe(0);
  });

  test('converges on separable data, where the unregularised optimum is at infinity', () => {
    const rows = [[-2], [-1], [1], [2]];
    const labels = [0, 0, 1, 1];
    const fit = solveLogistic(rows, labels, { l2: 1e-3 });
    expect(fit.gradientNorm).toBeLessThanOrEqual(NEWTON_TOLERANCE);
    expect(fit.weights[0]).toBeGreaterThan(3);
    expect(Math.abs(fit.bias)).toBeLessThan(1e-9);
  });

  test('rejects bad shapes, labels and options', () => {
    const cases: [() => unknown, new (...a: never[]) => Error, string][] = [
      [() => solveLogistic([[1, 2], [3]], [0, 1], { l2: 1 }), BatchLengthError, 'BATCH_LENGTH'],
      [() => solveLogistic([[1], [2]], [0], { l2: 1 }), BatchLengthError, 'BATCH_LENGTH'],
      [() => solveLogistic([[1], [2]], [0, 2], { l2: 1 }), InvalidArgumentError, 'INVALID_ARGUMENT'],
      [() => solveLogistic([[Number.NaN]], [0], { l2: 1 }), InvalidArgumentError, 'INVALID_ARGUMENT'],
      [() => solveLogistic([[1]], [0], { l2: 0 }), InvalidArgumentError, 'INVALID_ARGUMENT'],
      [() => solveLogistic([], [], { l2: 1 }), InvalidArgumentError, 'INVALID_ARGUMENT'],
      [
        () => solveLogistic([[1]], [0], { l2: 1, init: { weights: [1, 2], bias: 0 } }),
        BatchLengthError,
        'BATCH_LENGTH',
      ],
      [() => l2ForC(0, 10), InvalidArgumentError, 'INVALID_ARGUMENT'],
    ];
    for (const [run, type, code] of cases) {
      const error = (() => {
        try {
          run();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(type);
      expect((error as { code: string }).code).toBe(code);
    }
  });

  test('l2ForC is scikit-learn C on the mean loss: 1 / (C n)', () => {
    expect(l2ForC(1, 400)).toBe(1 / 400);
    expect(l2ForC(0.5, 100)).toBe(1 / 50);
  });
});
