// A whole deployment on loopback in a temporary directory, as an operator would lay it out
// (docs/DEPLOYMENT.md): the role CA and credentials (`fedjoin init`), B's sealed key and
// public key (`fedjoin keygen`), the owners' join secret, owners' CSV files, and one JSON
// config per role with fixed loopback ports. Used by `fedjoin demo --processes` and the
// CLI tests; the role processes are started from these configs with `fedjoin serve`.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cell, Table } from '../data/table.js';
import { generateKeys } from '../engine/keys.js';
import { initCa } from '../http/ca.js';
import { saveKey } from '../keystore/index.js';
import type { RoleConfigInput, TableConfigInput } from '../serve/config.js';
import { joinSecretFileText, publicKeyFileText, writeFileAtomic } from '../serve/files.js';
import { freePort } from './free-port.js';

export type ConfigInput = Partial<RoleConfigInput>;

export interface LoopbackDeployment {
  dir: string;
  /** B's passphrase (random, for this deployment only): pass it as FEDJOIN_PASSPHRASE. */
  passphrase: string;
  ports: Record<string, number>;
  url(role: string): string;
  fingerprint: string;
  /** Writes <dir>/<name>.json for `role` (credentials, public key, peers filled in) and returns its path. */
  writeConfig(role: string, config?: ConfigInput, name?: string): Promise<string>;
  /** Writes `table` as <dir>/<file> with a schema entry per column, for an owner's config. */
  writeCsv(table: Table, file?: string): Promise<TableConfigInput>;
  cleanup(): Promise<void>;
}

export async function prepareDeployment(options: {
  bits: number;
  /** Roles with credentials; server-a, server-b, client and coordinator get loopback ports. */
  roles: string[];
  /** scrypt cost of B's key file (default: the keystore's, 2^17). */
  scryptN?: number;
  /** Further roles that listen on a loopback port (owners that train: the coordinator calls them). */
  listeners?: string[];
}): Promise<LoopbackDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'fedjoin-deploy-'));
  const ca = join(dir, 'ca');
  await initCa(ca, { roles: options.roles });
  const passphrase = randomBytes(18).toString('base64url');
  const keys = await generateKeys(options.bits);
  const info = await saveKey(join(dir, 'paillier.key'), keys, passphrase, {
    ...(options.scryptN ? { scrypt: { N: options.scryptN } } : {}),
  });
  await writeFileAtomic(join(dir, 'paillier.pub.json'), publicKeyFileText(keys.publicKey), {
    secret: false,
    overwrite: false,
  });
  await writeFileAtomic(join(dir, 'join.secret'), joinSecretFileText(), { secret: true, overwrite: false });
  const ports: Record<string, number> = {};
  for (const role of ['server-a', 'server-b', 'client', 'coordinator', ...(options.listeners ?? [])]) {
    if (options.roles.includes(role) && ports[role] === undefined) ports[role] = await freePort();
  }
  const url = (role: string) => `https://127.0.0.1:${ports[role]}`;
  const peers = Object.fromEntries(Object.keys(ports).map((role) => [role, url(role)]));
  return {
    dir,
    passphrase,
    ports,
    url,
    fingerprint: info.fingerprint,
    writeConfig: async (role, config = {}, name = role.replace(':', '.')) => {
      const full = {
        role,
        credentials: 'ca',
        publicKey: 'paillier.pub.json',
        peers,
        ...(ports[role] === undefined ? {} : { listen: { host: '127.0.0.1', port: ports[role] } }),
        ...(role === 'server-b' ? { keyFile: 'paillier.key' } : {}),
        ...(role.startsWith('owner:') ? { joinSecretFile: 'join.secret' } : {}),
        ...config,
      };
      const path = join(dir, `${name}.json`);
      await writeFile(path, `${JSON.stringify(full, null, 2)}\n`);
      return path;
    },
    writeCsv: async (table, file = `${table.name}.csv`) => {
      const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
      const cell = (c: Cell) => (typeof c === 'string' ? quote(c) : String(c));
      const lines = [table.columnNames.map(quote).join(',')];
      for (let r = 0; r < table.rowCount; r++)
        lines.push(table.columns.map((c) => cell(c.values[r])).join(','));
      await writeFile(join(dir, file), `${lines.join('\n')}\n`);
      return {
        csv: file,
        name: table.name,
        joinKeys: [],
        schema: Object.fromEntries(table.columns.map((c) => [c.name, c.type])),
      };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
