// The join tests' usual table: an integer join key `k` (repeated on purpose, so both sides
// hold duplicates) and one value column, built from [k, value] rows.
import { type Cell, type ColumnSchema, Table } from '../../src/data/table.js';

/** `value` names an integer column, or gives its schema. */
export function keyedTable(name: string, value: string | ColumnSchema, rows: Cell[][]): Table {
  const column: ColumnSchema = typeof value === 'string' ? { name: value, type: 'integer' } : value;
  return Table.fromRows(name, [{ name: 'k', type: 'integer' }, column], rows);
}

/** Deterministic test data (not cryptographic randomness): a seeded linear congruential generator in [0, 1). */
export function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}
