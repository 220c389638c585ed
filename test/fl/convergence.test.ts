// Issue 14 items 5-6 end to end on synthetic data: two owners, the label and three weakly
// informative features at one, three strongly informative and two noise features at the
// other, 300 joined rows. Without DP the federated model is the plaintext optimum of an
// independent solver to 1e-3 in every weight; TOPK picks the other owner's features; DP at
// epsilon 3 stays within 3 points of plaintext accuracy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { logit, sigmoid } from '../../src/fl/logistic.js';
import { accuracy, auc } from '../../src/fl/metrics.js';
import { seededRng } from '../../src/fl/random.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { meanStd, plainLogistic } from './plain-solver.js';

const LEFT = ['x1', 'x2', 'x3'];
const RIGHT = ['z1', 'z2', 'z3', 'n1', 'n2'];
const FEATURES = [...LEFT.map((f) => `clinic.${f}`), ...RIGHT.map((f) => `registry.${f}`)];
/** the generating model: weak at the label holder, strong at the other owner, noise ignored */
const TRUTH: Record<string, { mean: number; std: number; weight: number }> = {
  x1: { mean: 5, std: 2, weight: 0.3 },
  x2: { mean: -1, std: 0.5, weight: -0.25 },
  x3: { mean: 0, std: 10, weight: 0.2 },
  z1: { mean: 100, std: 15, weight: 1.6 },
  z2: { mean: 0.5, std: 0.1, weight: -1.3 },
  z3: { mean: -20, std: 4, weight: 1.1 },
  n1: { mean: 3, std: 1, weight: 0 },
  n2: { mean: 0, std: 7, weight: 0 },
};
const SQL = `SELECT ${[...LEFT.map((f) => `c.${f}`), ...RIGHT.map((f) => `r.${f}`)].join(', ')} FROM clinic c JOIN registry r ON c.id = r.id TRAIN LOGISTIC LABEL c.y`;

interface Rows {
  ids: number[];
  values: Record<string, number[]>;
  labels: number[];
}

/** Rows with ids `ids` drawn from TRUTH (seeded, so every run tests the same data). */
function draw(ids: number[], seed: number): Rows {
  const rng = seededRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const values: Record<string, number[]> = {};
  for (const f of Object.keys(TRUTH)) values[f] = [];
  const labels = ids.map(() => {
    let z = 0.2;
    for (const [f, t] of Object.entries(TRUTH)) {
      const v = Math.round((t.mean + t.std * normal()) * 1e6) / 1e6;
      values[f].push(v);
      z += (t.weight * (v - t.mean)) / t.std;
    }
    return rng.next() < sigmoid(z) ? 1 : 0;
  });
  return { ids, values, labels };
}

function table(name: string, rows: Rows, columns: string[], withLabel: boolean): Table {
  const schema = [
    { name: 'id', type: 'integer' as const },
    ...columns.map((c) => ({ name: c, type: 'decimal' as const })),
    ...(withLabel ? [{ name: 'y', type: 'integer' as const }] : []),
  ];
  return Table.fromRows(
    name,
    schema,
    rows.ids.map((id, i) => [
      BigInt(id),
      ...columns.map((c) => rows.values[c][i]),
      ...(withLabel ? [BigInt(rows.labels[i])] : []),
    ]),
  );
}

let engine: Engine;
let fed: Federation;
let joined: Rows;
let evaluation: { table: Table; rows: Rows };
let standardization: { mean: number; std: number }[];

/** Standardised feature rows of `rows` over `features` (names without the table prefix). */
function standardized(rows: Rows, features: string[]): number[][] {
  return rows.ids.map((_, i) =>
    features.map((f) => {
      const k = FEATURES.findIndex((g) => g.endsWith(`.${f}`));
      return (rows.values[f][i] - standardization[k].mean) / standardization[k].std;
    }),
  );
}

function evaluate(weights: number[], bias: number, features: string[]) {
  const p = standardized(evaluation.rows, features).map((row) => sigmoid(logit(weights, bias, row)));
  return { accuracy: accuracy(evaluation.rows.labels, p), auc: auc(evaluation.rows.labels, p) };
}

beforeAll(async () => {
  // ids 0..359: the clinic (alice) holds 0..329, the registry (bob) 30..359: 300 rows join
  const all = draw(
    Array.from({ length: 360 }, (_, i) => i),
    11,
  );
  const pick = (from: number, to: number): Rows => ({
    ids: all.ids.slice(from, to),
    values: Object.fromEntries(Object.entries(all.values).map(([f, v]) => [f, v.slice(from, to)])),
    labels: all.labels.slice(from, to),
  });
  const left = pick(0, 330);
  const right = pick(30, 360);
  joined = pick(30, 330);
  const testRows = draw(
    Array.from({ length: 400 }, (_, i) => 1000 + i),
    12,
  );
  evaluation = { rows: testRows, table: table('evaluation', testRows, Object.keys(TRUTH), true) };
  // the coordinator's pooled statistics: each feature over the rows of the owner holding it
  standardization = [
    ...LEFT.map((f) => meanStd(left.values[f])),
    ...RIGHT.map((f) => meanStd(right.values[f])),
  ];

  engine = await createEngine({ workers: 2, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024 });
  for (const [name, t] of [
    ['alice', table('clinic', left, LEFT, true)],
    ['bob', table('registry', right, RIGHT, false)],
  ] as const) {
    const owner = fed.owner(name);
    await owner.shareTable(t, { joinKeys: [['id']], joinModes: ['hashed'] });
    await owner.joinTraining(t);
    fed.coordinator.addOwner(name);
  }
});
afterAll(async () => engine.close());

describe('synthetic convergence (issue 14 item 6)', () => {
  it('without DP: every weight is the independent plaintext optimum to 1e-3', async () => {
    const report = await fed.client.train(`${SQL} ROUNDS 2`, { evaluation: evaluation.table });
    expect(report.rowsJoined).toBe(300);
    expect(report.model.features).toEqual(FEATURES);
    report.model.standardization.mean.forEach((m, k) => {
      expect(m).toBeCloseTo(standardization[k].mean, 9);
    });
    const names = Object.keys(TRUTH);
    const optimum = plainLogistic(standardized(joined, names), joined.labels, 1 / 300);
    for (const [k, w] of report.model.weights.entries()) {
      expect(Math.abs(w - optimum.weights[k]), FEATURES[k]).toBeLessThan(1e-3);
    }
    expect(Math.abs(report.model.bias - optimum.bias)).toBeLessThan(1e-3);
    // round 0: only alice holds the label, so her coordinates are withheld (one owner < 2)
    expect(report.withheldPerRound).toEqual([[...LEFT.map((f) => `clinic.${f}`), 'bias'], []]);
    const plain = evaluate(optimum.weights, optimum.bias, names);
    expect(Math.abs(report.evaluation!.accuracy - plain.accuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(report.evaluation!.auc - plain.auc)).toBeLessThanOrEqual(0.01);
  });

  it('TOPK 3 selects the informative features of the owner without the label, then refits on them', async () => {
    const report = await fed.client.train(`${SQL} ROUNDS 3 TOPK 3`);
    expect(report.selected).toEqual(['registry.z1', 'registry.z2', 'registry.z3']);
    const refit = plainLogistic(standardized(joined, ['z1', 'z2', 'z3']), joined.labels, 1 / 300);
    for (const [k, w] of report.model.weights.entries()) {
      const j = ['registry.z1', 'registry.z2', 'registry.z3'].indexOf(FEATURES[k]);
      expect(Math.abs(w - (j < 0 ? 0 : refit.weights[j])), FEATURES[k]).toBeLessThan(1e-3);
    }
    expect(Math.abs(report.model.bias - refit.bias)).toBeLessThan(1e-3);
  });

  it('with DP-SGD at epsilon 3, delta 1e-5: within 3 points of the plaintext optimum', async () => {
    const report = await fed.client.train(`${SQL} ROUNDS 2 EPSILON 3 DELTA 1e-5`, {
      evaluation: evaluation.table,
    });
    const names = Object.keys(TRUTH);
    const optimum = plainLogistic(standardized(joined, names), joined.labels, 1 / 300);
    const plain = evaluate(optimum.weights, optimum.bias, names);
    expect(report.epsilon).toBeLessThanOrEqual(3 + 1e-6);
    expect(report.evaluation!.accuracy).toBeGreaterThanOrEqual(plain.accuracy - 0.03);
  });
});
