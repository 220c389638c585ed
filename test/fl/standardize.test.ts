// Per-column standardisation: hand values, constant columns, unit variance on the bundled data.
import { describe, expect, test } from 'vitest';
import { BatchLengthError, InvalidArgumentError } from '../../src/errors.js';
import { apply, applyStandardizer, fitStandardizer, selectColumns } from '../../src/fl/standardize.js';
import { bundledXy } from '../helpers/bundled-data.js';

describe('standardize', () => {
  test('mean and population std per column on a hand example', () => {
    const s = fitStandardizer([
      [1, 10],
      [2, 20],
      [3, 30],
      [6, 20],
    ]);
    expect(s.mean).toEqual([3, 20]);
    // Column 0: deviations -2, -1, 0, 3 -> variance 14/4; column 1: -10, 0, 10, 0 -> 200/4.
    expect(s.std[0]).toBeCloseTo(Math.sqrt(3.5), 15);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(50), 15);
    const z = applyStandardizer(s, [
      [3, 20],
      [1, 10],
    ]);
    expect(z[0]).toEqual([0, 0]);
    expect(z[1][0]).toBeCloseTo(-2 / Math.sqrt(3.5), 15);
    expect(apply).toBe(applyStandardizer);
  });

  test('a constant column (std 0) maps to zeros instead of dividing by 0', () => {
    const s = fitStandardizer([
      [5, 1],
      [5, 2],
      [5, 3],
    ]);
    expect(s.std[0]).toBe(1);
    expect(
      applyStandardizer(s, [
        [5, 2],
        [7, 2],
      ]),
    ).toEqual([
      [0, 0],
      [2, 0],
    ]);
    // Constant up to rounding (0.1 + 0.2 vs 0.3) counts as constant too.
    expect(fitStandardizer([[0.1 + 0.2], [0.3], [0.3]]).std[0]).toBe(1);
  });

  test('train statistics standardise the train rows to mean 0, std 1 (bundled data)', () => {
    const { rows } = bundledXy();
    const s = fitStandardizer(rows);
    const z = applyStandardizer(s, rows);
    for (let k = 0; k < 30; k++) {
      const col = z.map((r) => r[k]);
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(variance).toBeCloseTo(1, 12);
    }
  });

  test('an owner can take its columns of a standardizer', () => {
    const s = { mean: [1, 2, 3], std: [4, 5, 6] };
    expect(selectColumns(s, [2, 0])).toEqual({ mean: [3, 1], std: [6, 4] });
  });

  test('rejects empty, ragged and non-finite input', () => {
    expect(() => fitStandardizer([])).toThrow(InvalidArgumentError);
    expect(() => fitStandardizer([[1, 2], [3]])).toThrow(BatchLengthError);
    expect(() => fitStandardizer([[1], [Number.POSITIVE_INFINITY]])).toThrow(InvalidArgumentError);
    expect(() => applyStandardizer({ mean: [0], std: [1] }, [[1, 2]])).toThrow(BatchLengthError);
  });
});
