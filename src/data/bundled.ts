// The bundled data set (data/breast_cancer_wdbc.csv, CC BY 4.0, attribution in
// data/README.md) and its deterministic split into two parties' tables joined on `id`:
// "hospital" holds id, the first 15 features and the label for rows [0, 400); "lab"
// holds id and the other 15 features for rows [400 - overlap, 569), overlap 250 by default.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';
import { loadCsv } from './csv.js';
import type { ColumnType, Table } from './table.js';

export const BUNDLED_FILE = 'data/breast_cancer_wdbc.csv';
export const BUNDLED_ROWS = 569;
export const BUNDLED_ID = 'id';
export const BUNDLED_LABEL = 'malignant';

const STATS = ['radius', 'texture', 'perimeter', 'area', 'smoothness', 'compactness', 'concavity'];
const MEASURES = [...STATS, 'concave_points', 'symmetry', 'fractal_dimension'];

/** The 30 features in file order: mean_*, then *_error, then worst_*. */
export const BUNDLED_FEATURES: readonly string[] = [
  ...MEASURES.map((m) => `mean_${m}`),
  ...MEASURES.map((m) => `${m}_error`),
  ...MEASURES.map((m) => `worst_${m}`),
];
export const HOSPITAL_FEATURES: readonly string[] = BUNDLED_FEATURES.slice(0, 15);
export const LAB_FEATURES: readonly string[] = BUNDLED_FEATURES.slice(15);

/** The hospital's rows are [0, HOSPITAL_ROWS); the overlap is the tail of that range. */
export const HOSPITAL_ROWS = 400;
export const DEFAULT_OVERLAP = 250;

/** data/ sits at the package root: two levels above src/data/, three above dist/src/data/. */
export function bundledCsvPath(): string {
  for (const up of ['../../', '../../../']) {
    const candidate = fileURLToPath(new URL(up + BUNDLED_FILE, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${BUNDLED_FILE} not found next to the package`);
}

let cached: Table | undefined;

/** The whole data set as one table named "wdbc": id string, 30 decimals, label integer 0/1. */
export function loadBundled(): Table {
  if (!cached) {
    // An explicit schema: inference would make a feature an integer if its cells happened
    // to be whole numbers, and loading fails loudly if the file's columns ever change.
    const schema: Record<string, ColumnType> = { [BUNDLED_ID]: 'string', [BUNDLED_LABEL]: 'integer' };
    for (const f of BUNDLED_FEATURES) schema[f] = 'decimal';
    cached = loadCsv(bundledCsvPath(), { name: 'wdbc', schema });
  }
  return cached;
}

export interface BundledSplit {
  /** id, HOSPITAL_FEATURES, malignant; rows [0, 400). */
  hospital: Table;
  /** id, LAB_FEATURES; rows [400 - overlap, 569). */
  lab: Table;
  /** The ids both parties hold, in file order. */
  overlapIds: string[];
}

export interface SplitOptions {
  /** Rows both parties hold, in [0, 400]; default 250. */
  overlap?: number;
}

/** Splits the bundled data into the tables "hospital" and "lab", deterministically. */
export function splitBundled(options: SplitOptions = {}): BundledSplit {
  const overlap = options.overlap ?? DEFAULT_OVERLAP;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > HOSPITAL_ROWS) {
    throw new InvalidArgumentError(`overlap: expected an integer in [0, ${HOSPITAL_ROWS}], got ${overlap}`);
  }
  const all = loadBundled();
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const labStart = HOSPITAL_ROWS - overlap;
  const hospital = all
    .project([BUNDLED_ID, ...HOSPITAL_FEATURES, BUNDLED_LABEL], 'hospital')
    .takeRows(range(0, HOSPITAL_ROWS));
  const lab = all.project([BUNDLED_ID, ...LAB_FEATURES], 'lab').takeRows(range(labStart, BUNDLED_ROWS));
  const ids = all.column(BUNDLED_ID, 'string').values;
  return { hospital, lab, overlapIds: ids.slice(labStart, HOSPITAL_ROWS) };
}
