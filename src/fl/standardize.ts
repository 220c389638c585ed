// Per-column standardisation z = (x - mean) / std, fitted by each owner on its own columns
// (population std, as scikit-learn's StandardScaler). Gradient descent on a shared learning
// rate needs features on comparable scales (the bundled data spans 1e-3 to 4e3), and |w_k|
// only ranks features (top-k) once every column has unit variance.
import { BatchLengthError, InvalidArgumentError } from '../errors.js';

export interface Standardizer {
  mean: number[];
  /** Population standard deviation; a constant column gets 1 so it maps to all zeros. */
  std: number[];
}

/** Mean and population std of each column; rows must be non-empty and rectangular. */
export function fitStandardizer(rows: readonly (readonly number[])[]): Standardizer {
  if (rows.length === 0) throw new InvalidArgumentError('fitStandardizer: no rows');
  const d = rows[0].length;
  const mean = new Array<number>(d).fill(0);
  for (const [i, row] of rows.entries()) {
    if (row.length !== d) throw new BatchLengthError(`row ${i} has ${row.length} values, expected ${d}`);
    for (let k = 0; k < d; k++) mean[k] += row[k];
  }
  for (let k = 0; k < d; k++) mean[k] /= rows.length;
  // Two passes (mean first, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
  const variance = new Array<number>(d).fill(0);
  for (const row of rows) {
    for (let k = 0; k < d; k++) variance[k] += (row[k] - mean[k]) ** 2;
  }
  const std = variance.map((v, k) => {
    const s = Math.sqrt(v / rows.length);
    // Exactly constant columns, and those constant up to rounding, divide by 1 instead of ~0.
    return s > 1e-12 * Math.max(1, Math.abs(mean[k])) ? s : 1;
  });
  for (const [k, s] of std.entries()) {
    if (!Number.isFinite(s) || !Number.isFinite(mean[k])) {
      throw new InvalidArgumentError(`fitStandardizer: column ${k} holds a non-finite value`);
    }
  }
  return { mean, std };
}

/** (x - mean) / std for each row, with the statistics of a fitted standardizer (e.g. train rows on test rows). */
export function applyStandardizer(s: Standardizer, rows: readonly (readonly number[])[]): number[][] {
  const d = s.mean.length;
  return rows.map((row, i) => {
    if (row.length !== d) throw new BatchLengthError(`row ${i} has ${row.length} values, expected ${d}`);
    return row.map((v, k) => (v - s.mean[k]) / s.std[k]);
  });
}

/** Alias of applyStandardizer under the short name the FL API uses. */
export const apply = applyStandardizer;

/** The statistics of a subset of columns, e.g. an owner's share of a global standardizer. */
export function selectColumns(s: Standardizer, columns: readonly number[]): Standardizer {
  return { mean: columns.map((k) => s.mean[k]), std: columns.map((k) => s.std[k]) };
}
