// The roles' addresses on a transport (DESIGN §1).
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
