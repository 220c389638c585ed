// A data owner (DESIGN §1, §3): holds its plaintext table and B's public keys. It encodes
// each column a query may need (cell-codec.ts: integers exact, decimals fixed point,
// strings as UTF-8), encrypts them in batches through the engine, adds for each join key
// it declares the hashed tag T = HashToGroup(HMAC-SHA256_K(canonical key)) ElGamal-encrypted
// under B's EC key (§3.2, K shared by the owners only) and the same canonical key folded
// into one plaintext for the nested loop (§3.1), and hands the encrypted table to A.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { PublicKey } from 'paillier-bigint';
import { encodeCells, encodingFor } from '../data/cell-codec.js';
import { canonicalKey, keyParts } from '../data/join-key.js';
import { nestedKeyPlaintexts } from '../data/nested-key.js';
import type { Table } from '../data/table.js';
import { tagHashes } from '../ec/hash-to-group.js';
import { EC_HASH_WORDS } from '../engine/ec-ops.js';
import type { Engine } from '../engine/engine.js';
import { ecKeyOf, fingerprint } from '../engine/keys.js';
import { InvalidKeyError, MalformedMessageError } from '../errors.js';
import {
  encodeContribution,
  type LocalWeights,
  presenceMask,
  signContribution,
  signEnrolment,
} from '../fl/contribution.js';
import { toPartial } from '../fl/logistic.js';
import { l2ForC, solveLogistic } from '../fl/newton.js';
import { authorize } from '../protocol/authorization.js';
import { batchShape, pack } from '../protocol/batch.js';
import { expectType, type JoinMode, type Message, type MessageOf } from '../protocol/messages.js';
import { registrationDigest, signDigest } from '../protocol/signature.js';
import type { Transport } from '../protocol/transport.js';
import { featureName, ROLES } from './names.js';

export interface EncryptTableOptions {
  /**
   * Columns to encrypt as values (default: every column that is neither a join key nor
   * an identifier: those are never decrypted, so encrypting them as values serves nothing).
   */
  columns?: readonly string[];
  /** Columns that identify a person or a row (DESIGN §1.1): never a feature, never decrypted. */
  identifiers?: readonly string[];
  /**
   * |value| <= bound per column, declared by the owner: the sensitivity of a SUM when
   * server B adds DP noise (a SUM over a column with no bound is refused then).
   */
  bounds?: Readonly<Record<string, number>>;
  /**
   * Join keys a query may use, each an ordered column list (default: none). Each gets a
   * hashed tag (§3.2) and one nested-mode plaintext per row folded from all its columns
   * (§3.1), so both modes compare the same canonical keys (src/data/join-key.ts).
   */
  joinKeys?: readonly (readonly string[])[];
  /** Join modes to prepare the keys for (default both): a hashed-only table skips the nested keys. */
  joinModes?: readonly JoinMode[];
  /** Other owners holding rows of the same table (a horizontal split): only they may add partitions. */
  coOwners?: readonly string[];
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
  private training?: { table: Table };
  /** The owner's Ed25519 key: it signs registrations and contributions (registered with B once). */
  private readonly signingKey: KeyObject;
  private keyRegistered?: Promise<Message>;

  constructor(
    private readonly options: {
      name: string;
      engine: Engine;
      transport: Transport;
      publicKey: PublicKey;
      /** The owners' shared join secret K (A and B never get it). */
      joinSecret?: Uint8Array;
    },
  ) {
    this.signingKey = generateKeyPairSync('ed25519').privateKey;
  }

  private get role(): string {
    return ROLES.owner(this.options.name);
  }

  /** Registers the owner's public signing key with B (once). */
  private registerKey(): Promise<Message> {
    this.keyRegistered ??= this.options.transport.request(this.role, ROLES.serverB, {
      type: 'owner-key',
      owner: this.options.name,
      publicKey: createPublicKey(this.signingKey).export({ type: 'spki', format: 'pem' }).toString(),
    });
    return this.keyRegistered;
  }

  /** Encodes and encrypts `table` under B's key: the encrypted-table message. */
  async encryptTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const { engine, publicKey } = this.options;
    const n = publicKey.n;
    const { fingerprint: keyFingerprint, words, plaintextWords } = batchShape(publicKey);
    const notValues = new Set([...(options.joinKeys ?? []).flat(), ...(options.identifiers ?? [])]);
    const names = options.columns ?? table.columnNames.filter((c) => !notValues.has(c));
    const modes = options.joinModes ?? ['hashed', 'nested'];
    const joinKeys = options.joinKeys ?? [];
    const hashedKeys = modes.includes('hashed') ? joinKeys : [];
    const nestedJoinKeys = modes.includes('nested') ? joinKeys : [];
    const total = names.length + hashedKeys.length + nestedJoinKeys.length;
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
      columnData.push(await encrypt(encodeCells(table.column(column.name), column, n)));
    }
    const tags: MessageOf<'encrypted-table'>['tags'] = [];
    for (const key of hashedKeys) {
      tags.push({ columns: [...key], ...(await this.tags(table, key, secret!)) });
      options.onProgress?.(++done, total);
    }
    const nestedKeys: { columns: string[]; data: Uint32Array }[] = [];
    for (const key of nestedJoinKeys)
      nestedKeys.push({
        columns: [...key],
        data: await encrypt(nestedKeyPlaintexts(table, key, n, secret!)),
      });
    // key columns are queryable by name even when their values are not encrypted as data
    const keyTypes = [...new Set(joinKeys.flat())].map((name) => ({ name, type: table.column(name).type }));
    return {
      type: 'encrypted-table',
      table: table.name,
      owner: this.options.name,
      fingerprint: keyFingerprint,
      rowCount: table.rowCount,
      words,
      columns,
      columnData,
      tags,
      nestedKeys,
      keyColumns: keyTypes,
      coOwners: [...(options.coOwners ?? [])],
    };
  }

  /**
   * §3.2 step 1: the ElGamal ciphertext under B's EC key of T = HashToGroup(HMAC-SHA256_K(k))
   * for each row's canonical key k over `columns`; the keyed hashes are wiped after.
   */
  private async tags(
    table: Table,
    columns: readonly string[],
    secret: Uint8Array,
  ): Promise<{ fingerprint: string; data: Uint32Array }> {
    const ec = ecKeyOf(this.options.publicKey);
    if (!ec) {
      throw new InvalidKeyError(
        "server B's public key has no EC key (a key from before hashed joins): prepare join keys for mode nested only",
      );
    }
    const hashes = tagHashes(keyParts(table, columns).map(canonicalKey), secret);
    try {
      const data = new Uint32Array(hashes.buffer, hashes.byteOffset, hashes.byteLength / 4);
      const input = { words: EC_HASH_WORDS, count: table.rowCount, data };
      return {
        fingerprint: ec.fingerprint,
        data: (await this.options.engine.ecEncryptTags(ec.publicKey, input)).data,
      };
    } finally {
      hashes.fill(0);
    }
  }

  /**
   * Takes part in training with `table` (issue 5): registers an Ed25519 signing key with
   * B, then answers the coordinator's statistics and local-training requests; it enrols with
   * B (signed) for each training the coordinator asks it about (issue 9 item 5).
   */
  async joinTraining(table: Table): Promise<void> {
    this.training = { table };
    this.options.transport.register(this.role, (message, from) => this.receive(message, from));
    await this.registerKey();
  }

  private async receive(message: Message, from: string): Promise<Message> {
    authorize(this.role, message, from);
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
    const signature = signEnrolment(
      { trainingId, owner: this.role, fingerprint: fingerprint(publicKey.n) },
      this.signingKey,
    );
    expectType(
      await transport.request(this.role, ROLES.serverB, {
        type: 'enrol',
        trainingId,
        owner: name,
        signature,
      }),
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
    const { table } = this.training!;
    const { signingKey } = this;
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
    const { fingerprint: keyFingerprint, words, plaintextWords } = batchShape(publicKey);
    const { data } = await engine.encryptPacked(publicKey, pack(plain, plaintextWords));
    const fields = {
      round: request.round,
      nonce: request.nonce,
      owner: ROLES.owner(name),
      fingerprint: keyFingerprint,
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

  /**
   * The registration of an encrypted table with B (DESIGN §1.1), signed: each column's
   * encoding and role (value, join key, identifier), declared bounds, the join keys and
   * the row count. B decodes only with these types and never decrypts a key or identifier.
   */
  registration(
    table: Table,
    message: MessageOf<'encrypted-table'>,
    options: EncryptTableOptions = {},
  ): MessageOf<'table-registration'> {
    const keys = new Set(message.keyColumns.map((k) => k.name));
    const identifiers = new Set(options.identifiers ?? []);
    const role = (name: string) => (keys.has(name) ? 'key' : identifiers.has(name) ? 'identifier' : 'value');
    const encoded = new Set(message.columns.map((c) => c.name));
    const columns = [
      ...message.columns,
      ...[...keys, ...identifiers]
        .filter((name) => !encoded.has(name))
        .map((name) => ({ name, ...encodingFor(table.column(name).type) })),
    ].map((c) => ({ ...c, role: role(c.name), bound: options.bounds?.[c.name] ?? null }) as const);
    const fields = {
      table: message.table,
      owner: this.options.name,
      fingerprint: message.fingerprint,
      rowCount: message.rowCount,
      columns,
      joinKeys: (options.joinKeys ?? []).map((k) => [...k]),
      coOwners: message.coOwners,
    };
    return {
      type: 'table-registration',
      ...fields,
      signature: signDigest(registrationDigest(fields), this.signingKey),
    };
  }

  /** Registers an encrypted table with B (and the owner's signing key, the first time). */
  async register(registration: MessageOf<'table-registration'>): Promise<void> {
    await this.registerKey();
    await this.options.transport.request(this.role, ROLES.serverB, registration);
  }

  /** Encrypts `table`, registers it with B and hands it to server A. */
  async shareTable(table: Table, options: EncryptTableOptions = {}): Promise<MessageOf<'encrypted-table'>> {
    const message = await this.encryptTable(table, options);
    await this.register(this.registration(table, message, options));
    await this.options.transport.request(this.role, ROLES.serverA, message);
    return message;
  }
}
