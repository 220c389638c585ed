// The roles' addresses on a transport (DESIGN §1), and the names of a model's features.
import type { ColumnRef, Query, SelectItem } from '../query/plan.js';

export const ROLES = {
  serverA: 'server-a',
  serverB: 'server-b',
  client: 'client',
  coordinator: 'coordinator',
  owner: (name: string) => `owner:${name}`,
} as const;

/** A model feature's name: the qualified column, as A names feature-set columns. */
export function featureName(ref: { table: string; column: string }): string {
  return `${ref.table}.${ref.column}`;
}

/**
 * A training's features: the plan's plain SELECT columns but its label, in SELECT order.
 * The coordinator and B derive them alike, so that B can tell the coordinator changed them.
 */
export function trainingFeatures(plan: Query, label: ColumnRef): Extract<SelectItem, { kind: 'column' }>[] {
  return plan.select.filter(
    (s): s is Extract<SelectItem, { kind: 'column' }> =>
      s.kind === 'column' && !(s.table === label.table && s.column === label.column),
  );
}
