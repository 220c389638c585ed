// DP on the join's aggregate answers (DESIGN §1.1, issue 9 item 6): with a privacy policy
// B adds discrete Gaussian noise to its own count and to each total, says so, charges
// every query to the client's ledger for those tables, and refuses, opaquely, once the
// cap would be passed; a SUM over a column its owner declared no bound for is refused
// before anything is charged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { PolicyRefusedError, QueryError } from '../../src/errors.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { keyedTable } from '../helpers/tables.js';

let engine: Engine;
let fed: Federation;
const rows = Array.from({ length: 40 }, (_, i) => [BigInt(i % 20), (i % 7) + 0.5] as [bigint, number]);
const left = keyedTable('visits', { name: 'cost', type: 'decimal' }, rows);
const right = Table.fromRows(
  'people',
  [
    { name: 'k', type: 'integer' },
    { name: 'age', type: 'integer' },
  ],
  Array.from({ length: 20 }, (_, i) => [BigInt(i), BigInt(20 + i)]),
);
const SQL = 'SELECT COUNT(*), SUM(v.cost) FROM visits v JOIN people p ON v.k = p.k';
const privacy = { epsilonCap: 3, delta: 1e-6, aggregateEpsilon: 1, maxAborts: 10 };

beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 5, privacy } });
  await fed.owner('a').shareTable(left, { joinKeys: [['k']], joinModes: ['hashed'], bounds: { cost: 10 } });
  await fed.owner('b').shareTable(right, { joinKeys: [['k']], joinModes: ['hashed'] });
});
afterAll(async () => engine.close());

describe('differentially private aggregates', () => {
  it('answers with discrete Gaussian noise on the count and the sum, and says so', async () => {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await fed.client.query(SQL));
    const exactSum = rows.reduce((s, [, c]) => s + c, 0);
    for (const a of answers) {
      expect(a.privacy).toMatch(/\(1, 0\.000001\)-DP per joined pair: discrete Gaussian noise/);
      const [count, sum] = a.items.map((i) => i.value);
      expect(typeof count).toBe('bigint');
      expect(a.rowsJoined).toBe(count);
      // sd ~ 7.7 on the count and ~77 on the sum: 8 sd is never reached in practice
      expect(Math.abs(Number(count) - 40)).toBeLessThan(62);
      expect(Math.abs(Number(sum) - exactSum)).toBeLessThan(620);
    }
    expect(new Set(answers.map((a) => a.items[1].value)).size).toBeGreaterThan(1);
  });

  it('refuses a sum over a column with no declared bound, before charging anything', async () => {
    const error = await fed.client
      .query('SELECT SUM(p.age) FROM visits v JOIN people p ON v.k = p.k')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).message).toMatch(/no declared bound/);
  });

  it('refuses every query once the client has spent its budget on these tables', async () => {
    let answered = 3;
    let refusal: unknown;
    for (; answered < 50 && !refusal; answered++) {
      refusal = await fed.client.query(SQL).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(refusal).toBeInstanceOf(PolicyRefusedError);
    expect(refusal).toMatchObject({
      code: 'POLICY_REFUSED',
      message: 'server B refused the request',
      details: {},
    });
    // zCDP composes better than adding epsilons: more than 3 queries of epsilon 1 fit under a cap of 3
    expect(answered).toBeGreaterThan(4);
    await expect(fed.client.query(SQL)).rejects.toBeInstanceOf(PolicyRefusedError);
  });
});
