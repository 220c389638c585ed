// The demo's reference: the same queries answered in plaintext on the same tables, as a
// SQL engine would (an inner equi-join, duplicates on both sides kept), and the checks
// that compare them with what the secure join gave. Decimals cross the protocol in fixed
// point (2^-32, DESIGN §2), so numbers are compared with a tolerance far below the data's
// precision and far above the encoding's rounding.
import type { Cell, Table } from '../data/table.js';
import type { Query, SelectItem } from '../query/sql.js';

export type Pair = [left: number, right: number];

/** Relative tolerance (absolute below 1): fixed point rounds each value by <= 2^-33. */
export const TOLERANCE = 1e-9;

/** The joined (left row, right row) pairs, in left-then-right order. */
export function plaintextJoin(query: Query, left: Table, right: Table): Pair[] {
  const leftKeys = query.joinKeys.map((k) => left.column(k.left.column).values);
  const rightKeys = query.joinKeys.map((k) => right.column(k.right.column).values);
  const keyOf = (columns: readonly (readonly Cell[])[], row: number) =>
    JSON.stringify(columns.map((c) => `${typeof c[row]}:${String(c[row])}`));
  const byKey = new Map<string, number[]>();
  for (let j = 0; j < right.rowCount; j++) {
    const key = keyOf(rightKeys, j);
    const rows = byKey.get(key) ?? [];
    rows.push(j);
    byKey.set(key, rows);
  }
  const pairs: Pair[] = [];
  for (let i = 0; i < left.rowCount; i++) {
    for (const j of byKey.get(keyOf(leftKeys, i)) ?? []) pairs.push([i, j]);
  }
  return pairs;
}

/** The label the client gives an aggregate item: 'COUNT(*)', 'AVG(h.mean_radius)'. */
export function aggregateLabel(query: Query, item: SelectItem): string {
  if (item.kind === 'count') return 'COUNT(*)';
  if (item.kind === 'column') throw new Error('aggregateLabel: a column is not an aggregate');
  const alias = query.tables.find((t) => t.name === item.table)?.alias ?? item.table;
  return `${item.kind.toUpperCase()}(${alias}.${item.column})`;
}

function columnOf(query: Query, item: { table: string; column: string }, left: Table, right: Table) {
  const onLeft = item.table === query.tables[0].name;
  return { onLeft, values: (onLeft ? left : right).column(item.column).values };
}

/** COUNT, SUM and AVG over the joined pairs, by label. */
export function plaintextAggregates(
  query: Query,
  left: Table,
  right: Table,
  pairs: readonly Pair[],
): Record<string, number> {
  const values: Record<string, number> = {};
  for (const item of query.select) {
    if (item.kind === 'column') continue;
    if (item.kind === 'count') {
      values[aggregateLabel(query, item)] = pairs.length;
      continue;
    }
    const { onLeft, values: column } = columnOf(query, item, left, right);
    let sum = 0;
    for (const [i, j] of pairs) sum += Number(column[onLeft ? i : j]);
    values[aggregateLabel(query, item)] = item.kind === 'sum' ? sum : sum / pairs.length;
  }
  return values;
}

export function sameNumber(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= TOLERANCE * Math.max(1, Math.abs(expected));
}
