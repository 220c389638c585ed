// DP on the join's aggregate answers (issue 5 item 6): with B's aggregatePrivacy policy the
// client gets noisy totals and a privacy statement; the noise has the Laplace scale the
// statement implies; a SUM over a column without a declared bound is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { PolicyRefusedError } from '../../src/errors.js';
import { laplace } from '../../src/fl/laplace.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { keyedTable } from '../helpers/tables.js';

let engine: Engine;
let fed: Federation;
const rows = Array.from({ length: 40 }, (_, i) => [BigInt(i % 20), (i % 7) + 0.5] as [bigint, number]);
const left = keyedTable('visits', { name: 'cost', type: 'decimal' }, rows);
const right = Table.fromRows(
  'people',
  [{ name: 'k', type: 'integer' }],
  Array.from({ length: 20 }, (_, i) => [BigInt(i)]),
);

beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
  fed = await createFederation({
    engine,
    bits: 1024,
    policy: { minGroupSize: 5, aggregatePrivacy: { epsilon: 1, bounds: { 'visits.cost': 10 } } },
  });
  await fed.owner('a').shareTable(left, { joinKeys: [['k']], joinModes: ['hashed'] });
  await fed.owner('b').shareTable(right, { joinKeys: [['k']], joinModes: ['hashed'] });
});
afterAll(async () => engine.close());

describe('differentially private aggregates', () => {
  it('answers with noise and says so', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push(
        await fed.client.query('SELECT COUNT(*), SUM(v.cost) FROM visits v JOIN people p ON v.k = p.k'),
      );
    }
    const exactSum = rows.reduce((s, [, c]) => s + c, 0);
    for (const a of answers) {
      expect(a.privacy).toMatch(/epsilon 1, delta 0\) per joined pair: Laplace noise/);
      expect(Math.abs(a.values['COUNT(*)'] - 40)).toBeLessThan(60); // scale 2: |noise| < 60 but for p ~ 1e-13
      expect(Math.abs(a.values['SUM(v.cost)'] - exactSum)).toBeLessThan(600); // scale 20
    }
    // three independent draws of continuous noise are never all equal
    expect(new Set(answers.map((a) => a.values['SUM(v.cost)'])).size).toBe(3);
  });

  it('refuses a sum over a column with no declared bound', async () => {
    const error = await fed.client
      .query('SELECT SUM(p.k) FROM visits v JOIN people p ON v.k = p.k')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyRefusedError);
    expect((error as PolicyRefusedError).code).toBe('POLICY_REFUSED');
  });

  it('draws Laplace noise with the right scale', () => {
    const draws = Array.from({ length: 20000 }, () => laplace(3));
    const meanAbs = draws.reduce((s, x) => s + Math.abs(x), 0) / draws.length;
    expect(meanAbs).toBeGreaterThan(2.85); // E|X| = scale
    expect(meanAbs).toBeLessThan(3.15);
    expect(Math.abs(draws.reduce((s, x) => s + x, 0) / draws.length)).toBeLessThan(0.15);
  });
});
