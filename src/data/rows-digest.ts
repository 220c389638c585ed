// A digest of a multiset of rows, to compare what server B decrypted in one process with
// what it decrypted in another (or with the plaintext join) without printing any row:
// SHA-256 over the rows' canonical JSON (bigints as decimal strings), sorted.
import { createHash } from 'node:crypto';
import type { Cell } from '../data/table.js';

export function rowsDigest(rows: readonly (readonly Cell[])[]): string {
  const lines = rows
    .map((row) => JSON.stringify(row.map((c) => (typeof c === 'bigint' ? `${c}n` : c))))
    .sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line).update('\n');
  return hash.digest('hex');
}
