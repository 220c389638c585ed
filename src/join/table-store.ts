// Server A's encrypted tables (DESIGN §1, §3): each table as its owners sent it, column
// by column as packed ciphertext batches, never unpacked. Owners holding rows of the
// same table (a horizontal split) each send a partition; A joins over their
// concatenation, in the order the owners first sent theirs. An update is atomic: a
// partition that does not fit the others is refused and changes nothing. Hashed join
// tags are EC ElGamal ciphertexts (TAG_WORDS words a row) under B's current EC key.

import type { TableSchema } from '../data/table.js';
import type { EcPublicKey } from '../engine/keys.js';
import { KeyMismatchError, MalformedMessageError, PeerAuthError, QueryError } from '../errors.js';
import { concat, type PackedBatch } from '../protocol/batch.js';
import { type ColumnMeta, type JoinMode, type MessageOf, TAG_WORDS } from '../protocol/messages.js';

type EncryptedTable = MessageOf<'encrypted-table'>;

/** One table at A: its owners' partitions concatenated. */
export class StoredTable {
  constructor(readonly meta: EncryptedTable) {}

  get name(): string {
    return this.meta.table;
  }

  get rowCount(): number {
    return this.meta.rowCount;
  }

  private batch(data: Uint32Array): PackedBatch {
    return { words: this.meta.words, count: this.meta.rowCount, data };
  }

  /** The encrypted data column `column`. */
  column(column: string): PackedBatch {
    const k = this.meta.columns.findIndex((c) => c.name === column);
    if (k < 0) {
      throw new QueryError(`table ${this.name} has no encrypted column ${column}`, { part: 'column' });
    }
    return this.batch(this.meta.columnData[k]);
  }

  /** How column `column` is encoded (type and fixed-point fraction bits). */
  columnMeta(column: string): ColumnMeta {
    const meta = this.meta.columns.find((c) => c.name === column);
    if (!meta)
      throw new QueryError(`table ${this.name} has no encrypted column ${column}`, { part: 'column' });
    return meta;
  }

  /** The column lists of the join keys its owner made `mode`'s data for, in the order declared. */
  declaredKeys(mode: JoinMode): string[][] {
    return (mode === 'hashed' ? this.meta.tags : this.meta.nestedKeys).map((key) => key.columns);
  }

  /** Declared key `k`'s data for `mode`: hashed tags (§3.2) or folded nested-loop keys (§3.1). */
  joinKey(mode: JoinMode, k: number): PackedBatch {
    if (mode === 'nested') return this.batch(this.meta.nestedKeys[k].data);
    return { words: TAG_WORDS, count: this.meta.rowCount, data: this.meta.tags[k].data };
  }

  /** Column names and types a query may name: data columns and key columns. */
  schema(): TableSchema {
    const data = this.meta.columns.map(({ name, type }) => ({ name, type }));
    const keys = this.meta.keyColumns.filter((k) => !data.some((c) => c.name === k.name));
    return { name: this.name, columns: [...data, ...keys] };
  }
}

export class TableStore {
  private readonly tables = new Map<string, StoredTable>();
  private readonly partitions = new Map<string, Map<string, EncryptedTable>>();

  constructor(private readonly key: { fingerprint: string; words: number; ecKey: EcPublicKey | null }) {}

  /** Stores `owner`'s partition of a table, or refuses it and keeps everything as it was. */
  store(message: EncryptedTable, owner: string): void {
    const name = `table ${message.table} from ${owner}`;
    if (message.fingerprint !== this.key.fingerprint) {
      throw new KeyMismatchError(`${name} is under another key`, {
        expected: this.key.fingerprint,
        got: message.fingerprint,
      });
    }
    const expected = message.rowCount * this.key.words;
    if (message.words !== this.key.words || message.columnData.length !== message.columns.length) {
      throw new MalformedMessageError(`${name}: column data does not match its columns`);
    }
    const all = [...message.columnData, ...message.nestedKeys.map((k) => k.data)];
    for (const data of all) {
      if (data.length !== expected) {
        throw new MalformedMessageError(`${name}: a column holds ${data.length} words, not ${expected}`);
      }
    }
    for (const tag of message.tags) {
      if (tag.fingerprint !== this.key.ecKey?.fingerprint) {
        throw new KeyMismatchError(`${name}: its hashed join tags are under another EC key than server B's`, {
          expected: this.key.ecKey?.fingerprint ?? 'none',
          got: tag.fingerprint,
        });
      }
      if (tag.data.length !== message.rowCount * TAG_WORDS) {
        throw new MalformedMessageError(
          `${name}: a tag column holds ${tag.data.length} words, not ${message.rowCount * TAG_WORDS}`,
        );
      }
    }
    const parts = new Map(this.partitions.get(message.table));
    const [first] = parts.values();
    if (first && first.owner !== owner && !first.coOwners.includes(owner)) {
      throw new PeerAuthError(
        `${owner} may not send a partition of ${message.table}: it belongs to ${first.owner}`,
        {
          owner,
        },
      );
    }
    parts.set(owner, message);
    // built before anything is kept: a partition that does not fit changes nothing
    const table = new StoredTable(concatenatePartitions([...parts.entries()], owner));
    this.partitions.set(message.table, parts);
    this.tables.set(message.table, table);
  }

  get(name: string): StoredTable {
    const table = this.tables.get(name);
    if (!table) throw new QueryError(`no encrypted table ${name} at server A`, { part: 'table' });
    return table;
  }

  schemas(): TableSchema[] {
    return [...this.tables.values()].map((t) => t.schema());
  }

  /** Tags one run of the largest hashed join of two stored tables blinds: the two largest tagged tables' rows. */
  largestHashedJoinRows(): number {
    const rows = [...this.tables.values()]
      .filter((t) => t.meta.tags.length > 0)
      .map((t) => t.rowCount)
      .sort((a, b) => b - a);
    return (rows[0] ?? 0) + (rows[1] ?? 0);
  }
}

/** One table from its owners' partitions: same schema and keys required, rows concatenated. */
function concatenatePartitions(parts: [string, EncryptedTable][], sender: string): EncryptedTable {
  const [[, first]] = parts;
  if (parts.length === 1) return first;
  const shape = (p: EncryptedTable) =>
    JSON.stringify([
      p.columns,
      p.keyColumns,
      p.tags.map((t) => t.columns),
      p.nestedKeys.map((k) => k.columns),
      [...new Set([p.owner, ...p.coOwners])].sort(),
    ]);
  const incoming = parts.find(([owner]) => owner === sender)![1];
  for (const [owner, p] of parts) {
    if (owner !== sender && shape(p) !== shape(incoming)) {
      throw new MalformedMessageError(
        `table ${first.table}: the partition from ${sender} has another schema or keys than the one from ${owner}`,
      );
    }
  }
  const tables = parts.map(([, p]) => p);
  const joined = (pick: (p: EncryptedTable) => Uint32Array, words = first.words) =>
    concat(tables.map((p) => ({ words, count: p.rowCount, data: pick(p) }))).data;
  return {
    ...first,
    owner: parts.map(([owner]) => owner).join('+'),
    rowCount: tables.reduce((n, p) => n + p.rowCount, 0),
    columnData: first.columnData.map((_, k) => joined((p) => p.columnData[k])),
    tags: first.tags.map((t, k) => ({ ...t, data: joined((p) => p.tags[k].data, TAG_WORDS) })),
    nestedKeys: first.nestedKeys.map((key, k) => ({ ...key, data: joined((p) => p.nestedKeys[k].data) })),
  };
}
