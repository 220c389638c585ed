// The join tests' usual table: an integer join key `k` (repeated on purpose, so both sides
// hold duplicates) and one value column, built from [k, value] rows.
import { type Cell, type ColumnSchema, Table } from '../../src/data/table.js';

/** `value` names an integer column, or gives its schema. */
export function keyedTable(name: string, value: string | ColumnSchema, rows: Cell[][]): Table {
  const column: ColumnSchema = typeof value === 'string' ? { name: value, type: 'integer' } : value;
  return Table.fromRows(name, [{ name: 'k', type: 'integer' }, column], rows);
}
