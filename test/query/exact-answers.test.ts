// Issue 14 items 1 and 2: COUNT and integer SUM reach the client as exact bigints (totals
// past 2^53, near +-2^62, equal to SQLite's to the last digit, in both join modes), and
// every select item is answered in select order, a repeated item as often as it is asked.
// The nested tables stay small: each pair of rows costs a full modpow at A.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnSchema, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { JoinMode } from '../../src/roles/client.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { expectSqliteAnswer } from '../helpers/answers.js';
import { runSqlite } from '../helpers/sqlite.js';

/** Deterministic offsets (not cryptographic randomness): odd, so no total is a round number. */
function offsets(count: number, seed: number, span: number): bigint[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return BigInt(Math.floor((x / 2 ** 31) * span)) * 2n + 1n;
  });
}

const ID: ColumnSchema = { name: 'id', type: 'integer' };
const X: ColumnSchema = { name: 'x', type: 'integer' };

// 184 values around 3e15: the case, a total of about 5.5e17 (ulp 64 as a double)
const around3e15 = offsets(184, 3, 1e12).map((o) => 3_000_000_000_000_000n + o);
const big = Table.fromRows(
  'big',
  [ID, X],
  around3e15.map((x, i) => [BigInt(i + 1), x]),
);
const bigPeer = Table.fromRows(
  'big_peer',
  [ID],
  around3e15.map((_, i) => [BigInt(i + 1)]),
);

// 12 rows near 2^62 / 13 (one id matches twice: 13 joined rows), totals near +2^62 and -2^62
const share = (1n << 62n) / 13n;
const nearShare = offsets(12, 5, 1e9).map((o) => share - o);
const huge = Table.fromRows(
  'huge',
  [ID, X, { name: 'neg', type: 'integer' }],
  nearShare.map((x, i) => [BigInt(i), x, -x - 7n]),
);
const hugePeer = Table.fromRows(
  'huge_peer',
  [ID, { name: 'w', type: 'integer' }],
  [...nearShare.map((_, i) => [BigInt(i), BigInt(i)]), [0n, 100n]],
);

let engine: Engine;
let fed: Federation;

beforeAll(async () => {
  engine = await createEngine({ workers: 2, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 1 } });
  await fed.owner('left').shareTable(big, { joinKeys: [['id']], joinModes: ['hashed'] });
  await fed.owner('right').shareTable(bigPeer, { joinKeys: [['id']], joinModes: ['hashed'] });
  await fed.owner('left').shareTable(huge, { joinKeys: [['id']] });
  await fed.owner('right').shareTable(hugePeer, { joinKeys: [['id']] });
});
afterAll(async () => engine.close());

/** SQLite's one row for `sql`, checked to be a total a double cannot hold. */
function sqliteRow(tables: Table[], sql: string, sumAt: number): bigint[] {
  const [row] = runSqlite(tables, sql) as bigint[][];
  const sum = row[sumAt];
  expect(BigInt(Number(sum)), 'the total must be one a double rounds').not.toBe(sum);
  return row;
}

describe('integer SUM past 2^53 is exact (item 1)', () => {
  it('184 values around 3e15, hashed', async () => {
    const sql = 'SELECT COUNT(*), SUM(a.x) FROM big a JOIN big_peer b ON a.id = b.id';
    const row = sqliteRow([big, bigPeer], sql, 1);
    expect(row[0]).toBe(184n);
    const answer = await fed.client.query(sql, { mode: 'hashed' });
    expectSqliteAnswer(answer, row);
  });

  describe.each<JoinMode>(['hashed', 'nested'])('totals near +-2^62, %s', (mode) => {
    it('equal SQLite exactly', async () => {
      const sql =
        'SELECT SUM(a.x), COUNT(*), SUM(a.neg), SUM(b.w) FROM huge a JOIN huge_peer b ON a.id = b.id';
      const row = sqliteRow([huge, hugePeer], sql, 0);
      expect(row[0] > 1n << 61n && row[2] < -(1n << 61n), 'totals near +-2^62').toBe(true);
      expectSqliteAnswer(await fed.client.query(sql, { mode }), row);
    });
  });
});

describe('every select item is answered, in order (item 2)', () => {
  it.each<JoinMode>(['hashed', 'nested'])(
    'COUNT(*), SUM(a.x), SUM(a.x), COUNT(*) gives 4 items, %s',
    async (mode) => {
      const sql = 'SELECT COUNT(*), SUM(a.x), SUM(a.x), COUNT(*) FROM huge a JOIN huge_peer b ON a.id = b.id';
      const answer = await fed.client.query(sql, { mode });
      expect(answer.items.map((i) => [i.kind, i.label])).toEqual([
        ['count', 'COUNT(*)'],
        ['sum', 'SUM(a.x)'],
        ['sum', 'SUM(a.x)'],
        ['count', 'COUNT(*)'],
      ]);
      expectSqliteAnswer(answer, runSqlite([huge, hugePeer], sql)[0]);
    },
  );
});
