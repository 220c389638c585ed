// A data owner (DESIGN §1, §3): holds its plaintext table and B's public key. It encodes
// each column a query may need (cell-codec.ts: integers exact, decimals fixed point,
// strings as UTF-8), encrypts them in batches through the engine, adds for each join key
// it declares the hashed tag HMAC-SHA256_K(canonical key) (§3.2, K shared by the owners
// only) and canonical per-column keys for the nested loop (§3.1), and hands the
// encrypted table to A.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { PublicKey } from 'paillier-bigint';
import { encodeCell, encodingFor } from '../data/cell-codec.js';
import { joinTags, nestedKeyColumns } from '../data/join-key.js';
import type { ColumnType, Table } from '../data/table.js';
import type { Engine } from '../engine/engine.js';
import { fingerprint } from '../engine/keys.js';
import { MalformedMessageError } from '../errors.js';
import {
  encodeContribution,
  type LocalWeights,
  presenceMask,
  signContribution,
  signEnrolment,
} from '../fl/contribution.js';
import { toPartial } from '../fl/logistic.js';
import { l2ForC, solveLogistic } from '../fl/newton.js';
import { batchShape, pack } from '../protocol/batch.js';
import { expectType, type Message, type MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { featureName, ROLES } from './names.js';

export interface EncryptTableOptions {
  /** Columns to encrypt (default: all). */
  columns?: readonly string[];
  /**
   * Join keys a query may use, each an ordered column list (default: none). Each gets a
   * hashed tag (§3.2) and each of its columns a canonical nested-mode key column (§3.1),
   * so both modes compare the same canonical keys (src/data/join-key.ts).
   */
  joinKeys?: readonly (readonly string[])[];
  /** Join modes to prepare the keys for (default both): a hashed-only table skips the nested keys. */
  joinModes?: readonly ('hashed' | 'nested')[];
  /** Called after each column with columns done / total. */
  onProgress?: (done: number, total: number) => void;
}

function numbers(table: Table, column: string): number[] {
  return table.column(column).values.map((v) => Number(v));
}

/** count, mean and M2 (sum of squared deviations), for pooled standardisation. */
function columnStats(values: number[]): { count: number; mean: number; m2: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return { count: values.length, mean, m2: values.reduce((a, x) => a + (x - mean) ** 2, 0) };
}

export class DataOwner {
  private training?: { table: Table; signingKey: KeyObject };

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
    const { words, plaintextWords } = batchShape(publicKey);
    const names = options.columns ?? table.columnNames;
    const modes = options.joinModes ?? ['hashed', 'nested'];
    const joinKeys = options.joinKeys ?? [];
    const hashedKeys = modes.includes('hashed') ? joinKeys : [];
    const keyColumns = modes.includes('nested') ? [...new Set(joinKeys.flat())] : [];
    const total = names.length + hashedKeys.length + keyColumns.length;
    const secret = this.options.joinSecret;
    if (joinKeys.length > 0 && !secret)
      throw new Error(`owner ${this.options.name}: join keys need the join secret`);
    let done = 0;
    const encrypt = async (plaintexts: bigint[]) => {
      const { data } = await engine.encryptPacked(publicKey, pack(plaintexts, plaintextWords));
      options.onProgress?.(++done, total);
      return data;
    };
    const columns = names.map((name) => ({ name, ...encodingFor(table.column(name).type) }));
    const columnData: Uint32Array[] = [];
    for (const column of columns) {
      columnData.push(await encrypt(table.column(column.name).values.map((v) => encodeCell(v, column, n))));
    }
    const tags: { columns: string[]; data: Uint32Array }[] = [];
    for (const key of hashedKeys)
      tags.push({ columns: [...key], data: await encrypt(joinTags(table, key, secret!)) });
    const nestedKeys: { column: string; type: ColumnType; data: Uint32Array }[] = [];
    for (const column of keyColumns) {
      const [plaintexts] = nestedKeyColumns(table, [column], n, secret);
      nestedKeys.push({ column, type: table.column(column).type, data: await encrypt(plaintexts) });
    }
    // key columns are queryable by name even when their values are not encrypted as data
    const keyTypes = [...new Set(joinKeys.flat())].map((name) => ({ name, type: table.column(name).type }));
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
      keyColumns: keyTypes,
    };
  }

  /**
   * Takes part in training with `table` (issue 5): registers an Ed25519 signing key with
   * B, then answers the coordinator's statistics and local-training requests; it enrols with
   * B (signed) for each training the coordinator asks it about (issue 9 item 5).
   */
  async joinTraining(table: Table): Promise<void> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    this.training = { table, signingKey: privateKey };
    const me = ROLES.owner(this.options.name);
    this.options.transport.register(me, (message) => this.receive(message));
    await this.options.transport.request(me, ROLES.serverB, {
      type: 'owner-key',
      owner: this.options.name,
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
  }

  private async receive(message: Message): Promise<Message> {
    if (!this.training) throw new MalformedMessageError(`owner ${this.options.name} is not training`);
    const { table } = this.training;
    const own = (refs: readonly { table: string; column: string }[]) =>
      refs.filter((r) => r.table === table.name && table.has(r.column));
    if (message.type === 'stats-request') {
      await this.enrol(message.trainingId);
      return {
        type: 'column-stats',
        stats: own(message.features).map((ref) => ({
          feature: featureName(ref),
          ...columnStats(numbers(table, ref.column)),
        })),
      };
    }
    const request = expectType(message, 'local-train');
    return this.contribute(request, own(request.features));
  }

  /** Tells B, under this owner's signature, that it takes part in `trainingId`. */
  private async enrol(trainingId: string): Promise<void> {
    const { name, transport, publicKey } = this.options;
    const me = ROLES.owner(name);
    const signature = signEnrolment(
      { trainingId, owner: me, fingerprint: fingerprint(publicKey.n) },
      this.training!.signingKey,
    );
    expectType(
      await transport.request(me, ROLES.serverB, { type: 'enrol', trainingId, owner: name, signature }),
      'ack',
    );
  }

  /**
   * §4 step 1, round 0: this owner's model on its own rows, solved to tolerance (the client's
   * objective, lambda = 1 / rows), over the features it holds; encrypted and signed. An owner
   * without the label sends an all-absent vector: its features are unknown, not zero.
   */
  private async contribute(
    request: MessageOf<'local-train'>,
    ownRefs: { table: string; column: string }[],
  ): Promise<MessageOf<'contribution'>> {
    const { engine, publicKey, name } = this.options;
    const { table, signingKey } = this.training!;
    const names = request.features.map(featureName);
    const d = names.length;
    const holdsLabel = request.label.table === table.name && table.has(request.label.column);
    let local: LocalWeights = {
      weights: new Array(d).fill(0),
      bias: 0,
      present: new Array(d).fill(false),
      samples: 0,
    };
    if (holdsLabel && ownRefs.length > 0 && table.rowCount > 0) {
      const own = ownRefs.map(featureName);
      const { mean, std } = request.standardization;
      const columns = ownRefs.map((ref, i) => {
        const k = names.indexOf(own[i]);
        return numbers(table, ref.column).map((x) => (x - mean[k]) / std[k]);
      });
      const rows = Array.from({ length: table.rowCount }, (_, r) => columns.map((c) => c[r]));
      const labels = numbers(table, request.label.column);
      const fit = solveLogistic(rows, labels, { l2: l2ForC(1, table.rowCount) });
      const model = toPartial({ features: own, weights: fit.weights, bias: fit.bias }, names);
      local = { weights: model.weights, bias: model.bias, present: model.present, samples: table.rowCount };
    }
    const plain = encodeContribution(local, publicKey.n);
    const { words, plaintextWords } = batchShape(publicKey);
    const { data } = await engine.encryptPacked(publicKey, pack(plain, plaintextWords));
    const fields = {
      round: request.round,
      nonce: request.nonce,
      owner: ROLES.owner(name),
      fingerprint: fingerprint(publicKey.n),
      features: names,
      present: presenceMask(local),
      data,
    };
    return {
      type: 'contribution',
      trainingId: request.trainingId,
      ...fields,
      count: plain.length,
      words,
      signature: signContribution(fields, signingKey),
    };
  }

  /** Encrypts `table` and hands it to server A. */
  async shareTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const message = await this.encryptTable(table, options);
    await this.options.transport.request(ROLES.owner(this.options.name), ROLES.serverA, message);
    return message;
  }
}
