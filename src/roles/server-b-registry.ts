// Server B's registry of tables (DESIGN §1.1): each owner registers the shape of its
// partition of a table, signed with its Ed25519 key: row count, column names, types and
// roles (value, join key, identifier), declared bounds, join keys. B decodes only with
// these types, never decrypts a key or identifier column, and bounds every query by the
// registered row counts. Partitions of one table (a horizontal split) must agree on
// everything but the row count; an update is atomic.
import type { KeyObject } from 'node:crypto';
import { MalformedMessageError, PeerAuthError } from '../errors.js';
import type { ColumnMeta, MessageOf } from '../protocol/messages.js';
import { registrationDigest, verifyDigest } from '../protocol/signature.js';
import type { ColumnRef } from '../query/plan.js';
import { ROLES } from './names.js';

export type Registration = Omit<MessageOf<'table-registration'>, 'type'>;
export type RegisteredColumn = Registration['columns'][number];

/** A table as B knows it: its partitions' shared shape and their total row count. */
export interface RegisteredTable {
  name: string;
  rowCount: number;
  columns: RegisteredColumn[];
  joinKeys: string[][];
  owners: string[];
}

export class TableRegistry {
  constructor(
    private readonly tables: Record<string, Record<string, Registration>>,
    private readonly save: () => void,
    private readonly ownerKey: (role: string) => KeyObject | undefined,
  ) {}

  /** Registers `from`'s partition, or refuses it and keeps everything as it was. */
  register(message: MessageOf<'table-registration'>, from: string, fingerprint: string): void {
    const { type: _type, ...registration } = message;
    if (from !== ROLES.owner(message.owner)) {
      throw new PeerAuthError(`${from} may not register a table for owner ${message.owner}`, { from });
    }
    const key = this.ownerKey(from);
    if (!key || !verifyDigest(registrationDigest(registration), message.signature, key)) {
      throw new PeerAuthError(`registration of ${message.table} from ${from}: no valid signature`, { from });
    }
    if (message.fingerprint !== fingerprint) {
      throw new MalformedMessageError(`registration of ${message.table}: made for another key`);
    }
    const names = new Set<string>();
    for (const c of message.columns) {
      if (names.has(c.name.toLowerCase())) {
        throw new MalformedMessageError(`registration of ${message.table}: column ${c.name} twice`);
      }
      names.add(c.name.toLowerCase());
    }
    for (const k of message.joinKeys.flat()) {
      if (message.columns.find((c) => c.name === k)?.role !== 'key') {
        throw new MalformedMessageError(
          `registration of ${message.table}: join key column ${k} is not a key column`,
        );
      }
    }
    const parts = this.tables[message.table] ?? {};
    const first = Object.values(parts)[0];
    if (first && first.owner !== message.owner && !first.coOwners.includes(message.owner)) {
      throw new PeerAuthError(
        `${from} may not register a partition of ${message.table}: it belongs to ${first.owner}`,
        {
          from,
        },
      );
    }
    for (const [owner, other] of Object.entries(parts)) {
      if (owner !== message.owner && shape(other) !== shape(registration)) {
        throw new MalformedMessageError(
          `registration of ${message.table} from ${message.owner}: another shape than the partition of ${owner}`,
        );
      }
    }
    this.tables[message.table] = { ...parts, [message.owner]: registration };
    this.save();
  }

  /** The registered table `name` (exact spelling), or undefined. */
  get(name: string): RegisteredTable | undefined {
    const parts = Object.values(this.tables[name] ?? {});
    if (parts.length === 0) return undefined;
    return {
      name,
      rowCount: parts.reduce((n, p) => n + p.rowCount, 0),
      columns: parts[0].columns,
      joinKeys: parts[0].joinKeys,
      owners: parts.map((p) => p.owner),
    };
  }

  /** The registered column `ref` (exact spelling), or undefined. */
  column(ref: ColumnRef): RegisteredColumn | undefined {
    return this.get(ref.table)?.columns.find((c) => c.name === ref.column);
  }

  /** Every registered table's name, for resolving a query's spelling. */
  names(): string[] {
    return Object.keys(this.tables);
  }
}

/** How B decodes a registered column. */
export function encodingOf(column: RegisteredColumn): ColumnMeta {
  return { name: column.name, type: column.type, fractionBits: column.fractionBits };
}

/** What every partition of a table shares: its schema, keys, key and owners. */
function shape(r: Omit<Registration, 'signature'>): string {
  const owners = [...new Set([r.owner, ...r.coOwners])].sort();
  return JSON.stringify([r.columns, r.joinKeys, r.fingerprint, owners]);
}
