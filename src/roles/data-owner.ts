// A data owner (DESIGN §1, §3): holds its plaintext table and B's public key. It encodes
// each column a query may need (cell-codec.ts: integers exact, decimals fixed point,
// strings as UTF-8), encrypts them in batches through the engine, adds for each join key
// it declares the hashed tag HMAC-SHA256_K(canonical key) (§3.2, K shared by the owners
// only) and canonical per-column keys for the nested loop (§3.1), and hands the
// encrypted table to A.
import type { PublicKey } from 'paillier-bigint';
import { encodeCell, encodingFor } from '../data/cell-codec.js';
import { joinTags, nestedKeyColumns } from '../data/join-key.js';
import type { Table } from '../data/table.js';
import type { Engine } from '../engine/engine.js';
import { fingerprint } from '../engine/keys.js';
import { pack, wordsFor } from '../engine/limbs.js';
import type { MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { ROLES } from './names.js';

export interface EncryptTableOptions {
  /** Columns to encrypt (default: all). */
  columns?: readonly string[];
  /**
   * Join keys a query may use, each an ordered column list (default: none). Each gets a
   * hashed tag (§3.2) and each of its columns a canonical nested-mode key column (§3.1),
   * so both modes compare the same canonical keys (src/data/join-key.ts).
   */
  joinKeys?: readonly (readonly string[])[];
  /** Called after each column with columns done / total. */
  onProgress?: (done: number, total: number) => void;
}

export class DataOwner {
  constructor(
    private readonly options: {
      name: string;
      engine: Engine;
      transport: Transport;
      publicKey: PublicKey;
      /** The owners' shared join secret K (A and B never get it). */
      joinSecret?: Uint8Array;
    },
  ) {}

  /** Encodes and encrypts `table` under B's key: the encrypted-table message. */
  async encryptTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const { engine, publicKey } = this.options;
    const n = publicKey.n;
    const words = wordsFor(n * n);
    const names = options.columns ?? table.columnNames;
    const joinKeys = options.joinKeys ?? [];
    const keyColumns = [...new Set(joinKeys.flat())];
    const total = names.length + joinKeys.length + keyColumns.length;
    const secret = this.options.joinSecret;
    if (joinKeys.length > 0 && !secret)
      throw new Error(`owner ${this.options.name}: join keys need the join secret`);
    let done = 0;
    const encrypt = async (plaintexts: bigint[]) => {
      const data = pack(await engine.encrypt(publicKey, plaintexts), words).data;
      options.onProgress?.(++done, total);
      return data;
    };
    const columns = names.map((name) => ({ name, ...encodingFor(table.column(name).type) }));
    const columnData: Uint32Array[] = [];
    for (const column of columns) {
      columnData.push(await encrypt(table.column(column.name).values.map((v) => encodeCell(v, column, n))));
    }
    const tags: { columns: string[]; data: Uint32Array }[] = [];
    for (const key of joinKeys)
      tags.push({ columns: [...key], data: await encrypt(joinTags(table, key, secret!)) });
    const nestedKeys: { column: string; data: Uint32Array }[] = [];
    for (const column of keyColumns) {
      const [plaintexts] = nestedKeyColumns(table, [column], n, secret);
      nestedKeys.push({ column, data: await encrypt(plaintexts) });
    }
    return {
      type: 'encrypted-table',
      table: table.name,
      owner: this.options.name,
      fingerprint: fingerprint(n),
      rowCount: table.rowCount,
      words,
      columns,
      columnData,
      tags,
      nestedKeys,
    };
  }

  /** Encrypts `table` and hands it to server A. */
  async shareTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const message = await this.encryptTable(table, options);
    await this.options.transport.request(ROLES.owner(this.options.name), ROLES.serverA, message);
    return message;
  }
}
