// A data owner (DESIGN §1, §3): holds its plaintext table and B's public key. It encodes
// each column a query may need (cell-codec.ts: integers exact, decimals fixed point,
// strings as UTF-8), encrypts them in batches through the engine, adds the hashed join
// tags HMAC-SHA256_K(canonical key) for the keys it declares (§3.2, K shared by the
// owners only), and hands the encrypted table to A.
import type { PublicKey } from 'paillier-bigint';
import { encodeCell, encodingFor } from '../data/cell-codec.js';
import { joinTags } from '../data/join-key.js';
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
  /** Join keys to tag for the hashed mode, each an ordered column list (default: none). */
  hashedKeys?: readonly (readonly string[])[];
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
    const hashedKeys = options.hashedKeys ?? [];
    const total = names.length + hashedKeys.length;
    const columns = names.map((name) => ({ name, ...encodingFor(table.column(name).type) }));
    const columnData: Uint32Array[] = [];
    for (const column of columns) {
      const plaintexts = table.column(column.name).values.map((v) => encodeCell(v, column, n));
      columnData.push(pack(await engine.encrypt(publicKey, plaintexts), words).data);
      options.onProgress?.(columnData.length, total);
    }
    const tags: { columns: string[]; data: Uint32Array }[] = [];
    for (const key of hashedKeys) {
      if (!this.options.joinSecret)
        throw new Error(`owner ${this.options.name}: hashed join keys need the join secret`);
      const tagged = await engine.encrypt(publicKey, joinTags(table, key, this.options.joinSecret));
      tags.push({ columns: [...key], data: pack(tagged, words).data });
      options.onProgress?.(columnData.length + tags.length, total);
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
    };
  }

  /** Encrypts `table` and hands it to server A. */
  async shareTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const message = await this.encryptTable(table, options);
    await this.options.transport.request(ROLES.owner(this.options.name), ROLES.serverA, message);
    return message;
  }
}
