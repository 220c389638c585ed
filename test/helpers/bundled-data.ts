// The bundled WDBC data as plain numbers for the learning tests: the 30 features in file
// order, the 0/1 label, and the stratified 70/30 split standardised on its train part.
import { BUNDLED_FEATURES, BUNDLED_LABEL, loadBundled } from '../../src/data/bundled.js';
import { stratifiedSplit, take } from '../../src/fl/metrics.js';
import { applyStandardizer, fitStandardizer } from '../../src/fl/standardize.js';

export const FEATURES: string[] = [...BUNDLED_FEATURES];

export function bundledXy(): { rows: number[][]; labels: number[] } {
  const table = loadBundled();
  const rows = table.project(FEATURES).rows() as number[][];
  const labels = table.column(BUNDLED_LABEL, 'integer').values.map((v) => Number(v));
  return { rows, labels };
}

export interface PreparedSplit {
  trainRows: number[][];
  trainLabels: number[];
  testRows: number[][];
  testLabels: number[];
}

/** Stratified 70/30 split (seeded), standardised with statistics of the train rows only. */
export function preparedSplit(seed: number): PreparedSplit {
  const { rows, labels } = bundledXy();
  const split = stratifiedSplit(labels, 0.3, seed);
  const standardizer = fitStandardizer(take(rows, split.train));
  return {
    trainRows: applyStandardizer(standardizer, take(rows, split.train)),
    trainLabels: take(labels, split.train),
    testRows: applyStandardizer(standardizer, take(rows, split.test)),
    testLabels: take(labels, split.test),
  };
}
