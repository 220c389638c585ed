// The roles' addresses on a transport (DESIGN §1).
export const ROLES = {
  serverA: 'server-a',
  serverB: 'server-b',
  client: 'client',
  coordinator: 'coordinator',
  owner: (name: string) => `owner:${name}`,
} as const;
