import { describe, expect, test } from 'vitest';
import { splitBundled } from '../../src/data/bundled.js';
import { Table } from '../../src/data/table.js';
import { parseQuery } from '../../src/query/sql.js';
import { accepted } from '../helpers/sql-examples.js';
import { openSqlite, runSqlite, sortRows } from '../helpers/sqlite.js';

// Duplicate keys on both sides: k = 1 appears 2x in t1 and 3x in t2 (6 pairs), k = 2 once
// in each (1 pair), k = 3 and k = 4 only on one side.
const t1 = new Table('t1', [
  { name: 'k', type: 'integer', values: [1n, 1n, 2n, 3n] },
  { name: 'k2', type: 'string', values: ['p', 'q', 'p', 'p'] },
  { name: 'x', type: 'decimal', values: [0.5, 1.5, 2.5, 3.5] },
]);
const t2 = new Table('t2', [
  { name: 'k', type: 'integer', values: [1n, 1n, 1n, 2n, 4n] },
  { name: 'k2', type: 'string', values: ['p', 'q', 'q', 'p', 'p'] },
  { name: 'y', type: 'integer', values: [10n, 20n, 30n, 40n, 9007199254740993n] },
]);

describe('SQLite reference', () => {
  test('an inner join with duplicate keys on both sides gives every pair', () => {
    const rows = runSqlite([t1, t2], 'SELECT a.k, a.x, b.y FROM t1 a JOIN t2 b ON a.k = b.k');
    expect(sortRows(rows)).toEqual([
      [1n, 0.5, 10n],
      [1n, 0.5, 20n],
      [1n, 0.5, 30n],
      [1n, 1.5, 10n],
      [1n, 1.5, 20n],
      [1n, 1.5, 30n],
      [2n, 2.5, 40n],
    ]);
  });

  test('aggregates: COUNT and SUM of integers as bigint, AVG as a double', () => {
    const [row] = runSqlite(
      [t1, t2],
      'SELECT COUNT(*), SUM(b.y), AVG(a.x), SUM(a.x) FROM t1 a JOIN t2 b ON a.k = b.k',
    );
    expect(row).toEqual([7n, 160n, 8.5 / 7, 8.5]);
  });

  test('a two-column key', () => {
    const rows = runSqlite([t1, t2], 'SELECT a.x, b.y FROM t1 a JOIN t2 b ON a.k = b.k AND a.k2 = b.k2');
    expect(sortRows(rows)).toEqual([
      [0.5, 10n],
      [1.5, 20n],
      [1.5, 30n],
      [2.5, 40n],
    ]);
  });

  test('bigints past 2^53 survive the round trip', () => {
    const rows = runSqlite([t1, t2], 'SELECT t2.y FROM t2 JOIN t1 ON t1.k = t2.k AND t1.k2 = t2.k2');
    expect(rows.flat()).not.toContain(9007199254740993n); // k = 4 has no partner
    const db = openSqlite([t2]);
    const all = db.prepare('SELECT y FROM t2').safeIntegers(true).pluck().all();
    db.close();
    expect(all).toContain(9007199254740993n);
  });

  test('tables are STRICT and NOT NULL', () => {
    const db = openSqlite([t1]);
    expect(() => db.prepare("INSERT INTO t1 VALUES ('x', 'p', 1.0)").run()).toThrow(/cannot store TEXT/);
    expect(() => db.prepare('INSERT INTO t1 VALUES (1, NULL, 1.0)').run()).toThrow(/NOT NULL/);
    db.close();
  });

  test('sortRows orders numbers, bigints and strings canonically', () => {
    expect(
      sortRows([
        ['b', 2n],
        ['a', 3],
        [1n, 'z'],
        ['a', 1n],
      ]),
    ).toEqual([
      [1n, 'z'],
      ['a', 1n],
      ['a', 3],
      ['b', 2n],
    ]);
  });

  test.each(accepted)('SQLite runs the accepted query: %s', (_, sql) => {
    parseQuery(sql);
    const a = t1.project(['k', 'k2', 'x']);
    const b = t2.project(['k', 'k2', 'y']);
    expect(() => runSqlite([a, b], sql)).not.toThrow();
  });

  test('the bundled split joins on 250 ids', () => {
    const { hospital, lab } = splitBundled();
    const [[count, malignant]] = runSqlite(
      [hospital, lab],
      'SELECT COUNT(*), SUM(h.malignant) FROM hospital h JOIN lab l ON h.id = l.id',
    );
    expect(count).toBe(250n);
    expect(typeof malignant).toBe('bigint');
  });
});
