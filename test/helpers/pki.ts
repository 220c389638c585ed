// Shared fixtures for the HTTP tests: one role CA and one foreign CA in a temporary
// directory, made once per test file (RSA key generation is the slow part, ~0.4 s a role).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, loadCredentials, type TlsCredentials } from '../../src/http/ca.js';

export interface Pki {
  dir: string;
  creds(role: string): Promise<TlsCredentials>;
  /** Credentials for `role` issued by another CA, trusting our CA (so only the server can refuse them). */
  foreign(role: string): Promise<TlsCredentials>;
  cleanup(): Promise<void>;
}

export async function makePki(roles: string[], foreignRoles: string[] = []): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'fedjoin-pki-'));
  await initCa(join(dir, 'ca'), { roles });
  if (foreignRoles.length > 0) await initCa(join(dir, 'other'), { roles: foreignRoles });
  return {
    dir,
    creds: (role) => loadCredentials(join(dir, 'ca'), role),
    foreign: async (role) => {
      const own = await loadCredentials(join(dir, 'other'), role);
      const ours = await loadCredentials(join(dir, 'ca'), roles[0]);
      return { ...own, ca: ours.ca };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
