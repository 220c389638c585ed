// The plaintext reference for join tests (issue 4): loads Tables into an in-memory SQLite
// (better-sqlite3) and runs the same SQL. STRICT tables keep SQLite from coercing types:
// integer -> INTEGER (bigints in and out), decimal -> REAL, string -> TEXT, all NOT NULL.
// Rows come back positionally; integers (COUNT, SUM of integers) as bigint.
import Database from 'better-sqlite3';
import type { Cell, ColumnType, Table } from '../../src/data/table.js';

export type SqlValue = bigint | number | string | null;

/**
 * The addon to load instead of node_modules' (built for the installing Node's ABI): on
 * another Node major, .ci/node-suite passes one compiled for that Node's ABI.
 */
const nativeBinding = process.env.FEDJOIN_SQLITE_BINDING;

const SQL_TYPES: Record<ColumnType, string> = { integer: 'INTEGER', decimal: 'REAL', string: 'TEXT' };

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** A fresh in-memory database holding `tables`, each under its own name. */
export function openSqlite(tables: readonly Table[]): Database.Database {
  const db = new Database(':memory:', nativeBinding ? { nativeBinding } : {});
  for (const table of tables) {
    const columns = table.columns.map((c) => `${quote(c.name)} ${SQL_TYPES[c.type]} NOT NULL`).join(', ');
    db.exec(`CREATE TABLE ${quote(table.name)} (${columns}) STRICT`);
    const insert = db.prepare(
      `INSERT INTO ${quote(table.name)} VALUES (${table.columns.map(() => '?').join(', ')})`,
    );
    db.transaction((rows: Cell[][]) => {
      for (const row of rows) insert.run(...row);
    })(table.rows());
  }
  return db;
}

/** Runs `sql` over `tables` and returns its rows as arrays, in SQLite's order. */
export function runSqlite(tables: readonly Table[], sql: string): SqlValue[][] {
  const db = openSqlite(tables);
  try {
    return db.prepare(sql).safeIntegers(true).raw(true).all() as SqlValue[][];
  } finally {
    db.close();
  }
}

function compareValues(a: SqlValue, b: SqlValue): number {
  const rank = (v: SqlValue) => (v === null ? 0 : typeof v === 'string' ? 2 : 1);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a === null || b === null) return 0;
  if (typeof a === 'string' || typeof b === 'string')
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows in a canonical order, to compare a join's result with SQLite's as multisets. */
export function sortRows(rows: readonly (readonly SqlValue[])[]): SqlValue[][] {
  return rows
    .map((r) => [...r])
    .sort((x, y) => {
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    });
}
