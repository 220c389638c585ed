// The demo's scenario, shared by both drivers (in-process.ts, processes.ts): the bundled
// data split between two owners, the queries of each join mode (hashed on the full tables,
// nested on a sample, since the full 400 x 419 tables would need 167,600 indicators), and
// the training parties. Pure data: nothing here starts an engine or a role.
import { loadBundled, splitBundled } from '../data/bundled.js';
import type { Cell, Table } from '../data/table.js';
import { stratifiedSplit } from '../fl/metrics.js';
import { parseQuery, queryColumns } from '../query/sql.js';

/**
 * The demo's two aggregate queries, over the tables named h and l. Rows never leave the
 * servers: a plain SELECT is refused, and only a training (below) brings joined rows to B.
 */
export const DEMO_QUERIES = {
  averages: (h: string, l: string) =>
    `SELECT COUNT(*), AVG(h.mean_radius), AVG(l.worst_area) FROM ${h} h JOIN ${l} l ON h.id = l.id`,
  totals: (h: string, l: string) =>
    `SELECT COUNT(*), SUM(h.malignant), SUM(l.worst_area) FROM ${h} h JOIN ${l} l ON h.id = l.id`,
} as const;

/** A plain SELECT of joined rows: the demo shows that B refuses it. */
export const REFUSED_SELECT = (h: string, l: string) =>
  `SELECT h.mean_radius, l.worst_area FROM ${h} h JOIN ${l} l ON h.id = l.id`;

/** |value| bounds the owners declare for the columns the demo sums (a DP sum's sensitivity). */
export const DEMO_BOUNDS: Readonly<Record<string, number>> = {
  mean_radius: 50,
  malignant: 1,
  worst_area: 5000,
};

/** The query part's owners; their roles are owner:<name>. */
export const DEMO_OWNERS = { hospital: 'hospital', lab: 'lab' } as const;

export interface NestedSample {
  rows: number;
  /** Hospital rows [from, to) of its 400. */
  hospitalRows: [number, number];
  /** Lab rows [from, to) of its rows, and the bundled file's rows they are. */
  labRows: [number, number];
  labFileRows: [number, number];
  commonIds: number;
  indicatorsPerQuery: number;
  fullTableIndicators: number;
}

/** One join mode's part: the table each owner hands to A, and the two queries over them. */
export interface JoinPart {
  mode: 'hashed' | 'nested';
  shares: { owner: string; table: Table }[];
  sqls: string[];
  left: Table;
  right: Table;
}

export interface DemoScenario {
  hospital: Table;
  lab: Table;
  overlapIds: readonly Cell[];
  hashed: JoinPart;
  /** Null with nestedRows 0. */
  nested: (JoinPart & { sample: NestedSample }) | null;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** What an owner's table must carry for the demo's queries: value columns, and join keys (encrypted as keys only). */
export function neededColumns(
  table: string,
  sqls: readonly string[],
): { columns: string[]; joinKeys: string[][] } {
  const columns: string[] = [];
  const joinKeys: string[][] = [];
  for (const sql of sqls) {
    const { keys, values } = queryColumns(parseQuery(sql), table);
    for (const c of values) if (!columns.includes(c)) columns.push(c);
    if (!joinKeys.some((k) => k.join('\u0000') === keys.join('\u0000'))) joinKeys.push(keys);
  }
  return { columns, joinKeys };
}

/** Both parts on the bundled split with `overlap` common ids (default 250) and `nestedRows`-row samples. */
export function demoScenario(options: { overlap?: number; nestedRows: number }): DemoScenario {
  const { hospital, lab, overlapIds } = splitBundled(
    options.overlap === undefined ? {} : { overlap: options.overlap },
  );
  const part = (mode: JoinPart['mode'], left: Table, right: Table): JoinPart => ({
    mode,
    shares: [
      { owner: DEMO_OWNERS.hospital, table: left },
      { owner: DEMO_OWNERS.lab, table: right },
    ],
    sqls: [DEMO_QUERIES.averages(left.name, right.name), DEMO_QUERIES.totals(left.name, right.name)],
    left,
    right,
  });
  return {
    hospital,
    lab,
    overlapIds,
    hashed: part('hashed', hospital, lab),
    nested:
      options.nestedRows === 0
        ? null
        : nestedPart(hospital, lab, overlapIds.length, options.nestedRows, part),
  };
}

/**
 * The nested-loop samples of `nestedRows` rows each: half the hospital sample before the
 * overlap, half inside it; the lab sample is the lab's first rows, which open the overlap,
 * so about nestedRows / 2 ids are in common.
 */
function nestedPart(
  hospital: Table,
  lab: Table,
  overlap: number,
  nestedRows: number,
  part: (mode: JoinPart['mode'], left: Table, right: Table) => JoinPart,
): JoinPart & { sample: NestedSample } {
  const overlapStart = hospital.rowCount - overlap;
  const hFrom = Math.max(
    0,
    Math.min(overlapStart - Math.floor(nestedRows / 2), hospital.rowCount - nestedRows),
  );
  const hTo = Math.min(hospital.rowCount, hFrom + nestedRows);
  const lTo = Math.min(lab.rowCount, nestedRows);
  const hs = hospital.takeRows(range(hFrom, hTo), 'hospital_sample');
  const ls = lab.takeRows(range(0, lTo), 'lab_sample');
  const labIds = new Set<Cell>(ls.column('id').values);
  return {
    ...part('nested', hs, ls),
    sample: {
      rows: nestedRows,
      hospitalRows: [hFrom, hTo],
      labRows: [0, lTo],
      labFileRows: [overlapStart, overlapStart + lTo],
      commonIds: hs.column('id').values.filter((id) => labIds.has(id)).length,
      indicatorsPerQuery: hs.rowCount * ls.rowCount,
      fullTableIndicators: hospital.rowCount * lab.rowCount,
    },
  };
}

// ---- training

/** The model's features: six of the hospital's columns and six of the lab's. */
export const TRAINING_FEATURES = {
  hospital: [
    'mean_radius',
    'mean_texture',
    'mean_area',
    'mean_smoothness',
    'mean_concavity',
    'mean_concave_points',
  ],
  lab: [
    'worst_radius',
    'worst_texture',
    'worst_area',
    'worst_smoothness',
    'worst_concavity',
    'worst_concave_points',
  ],
} as const;
export const TRAINING_DP = { epsilon: 3, delta: 1e-5 } as const;
/** The training owners, in the coordinator's order. */
export const TRAINING_OWNERS = ['hospital-east', 'hospital-west', 'lab'] as const;
const SPLIT_SEED = 7;

/** The names the training tables have at A. */
export interface TrainingTables {
  hospital: string;
  lab: string;
}
/** Where A holds nothing else: the in-process run trains on a federation of its own. */
export const TRAINING_TABLES: TrainingTables = { hospital: 'hospital', lab: 'lab' };
/** Beside the query part's tables: the process run's A already holds `hospital` and `lab`. */
export const TRAINING_TABLES_BESIDE_QUERIES: TrainingTables = {
  hospital: 'hospital_train',
  lab: 'lab_train',
};

export function trainingSql(rounds: number, dp: boolean, tables: TrainingTables = TRAINING_TABLES): string {
  const h = TRAINING_FEATURES.hospital.map((f) => `h.${f}`);
  const l = TRAINING_FEATURES.lab.map((f) => `l.${f}`);
  const privacy = dp ? ` EPSILON ${TRAINING_DP.epsilon} DELTA ${TRAINING_DP.delta}` : '';
  return (
    `SELECT ${[...h, ...l].join(', ')} FROM ${tables.hospital} h JOIN ${tables.lab} l ON h.id = l.id ` +
    `TRAIN LOGISTIC LABEL h.malignant ROUNDS ${rounds}${privacy}`
  );
}

/**
 * The training parties on a stratified 70/30 split (seed SPLIT_SEED): hospital-east and
 * hospital-west hold halves of the training rows with the hospital's features and the
 * label, lab the lab's features for 80% of the training ids; the client holds the rest.
 */
export function trainingParties(tables: TrainingTables = TRAINING_TABLES) {
  const all = loadBundled();
  const labels = all.column('malignant').values.map(Number);
  const { train: trainRows, test: testRows } = stratifiedSplit(labels, 0.3, SPLIT_SEED);
  const hospital = all.project(['id', ...TRAINING_FEATURES.hospital, 'malignant'], tables.hospital);
  const lab = all.project(['id', ...TRAINING_FEATURES.lab], tables.lab);
  const half = Math.floor(trainRows.length / 2);
  const [east, west, labOwner] = TRAINING_OWNERS;
  // ids are unique: each of lab's rows joins exactly one hospital row
  const labRows = trainRows.filter((_, k) => k % 5 !== 0);
  const owners: [string, Table][] = [
    [east, hospital.takeRows(trainRows.slice(0, half))],
    [west, hospital.takeRows(trainRows.slice(half))],
    [labOwner, lab.takeRows(labRows)],
  ];
  return {
    all,
    labels,
    trainRows,
    testRows,
    labRows,
    owners,
    evaluation: all.takeRows(testRows, 'evaluation'),
  };
}
