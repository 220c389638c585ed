// Server B (DESIGN §1): the only holder of the private key. It zero-tests shuffled join
// indicators (§3.1), turns shuffled masked tags into group numbers (§3.2), decrypts
// re-randomised, shuffled feature vectors into a local feature set (§4 step 5), and
// decrypts aggregate totals only for groups at least `minGroupSize` rows large. It never
// receives a table's ciphertexts, join keys or row identities.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { fingerprint, generateKeys, type KeyPair } from '../engine/keys.js';
import { KeyMismatchError, MalformedMessageError, PolicyRefusedError } from '../errors.js';
import { type AggregatePrivacy, privatize } from '../fl/laplace.js';
import { decryptTotals } from '../join/aggregates.js';
import { decodeFeatures } from '../join/features.js';
import { groupTags } from '../join/hashed.js';
import { zeroTestIndicators } from '../join/nested.js';
import { QUERY_NOT_OPEN } from '../join/query-run.js';
import {
  type BatchShape,
  batchShape,
  fromWire,
  type PackedBatch,
  type WireBatch,
} from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { ROLES } from './names.js';
import { ServerBTraining } from './server-b-training.js';

export interface ServerBPolicy {
  /** Aggregates over fewer joined rows are refused (default 10). */
  minGroupSize: number;
  /** When set, aggregate answers get Laplace noise (src/fl/laplace.ts) and a privacy statement. */
  aggregatePrivacy?: AggregatePrivacy;
  /** A training round in which owners contribute needs this many enrolled owners (default 2). */
  minOwners?: number;
  /** A weight coordinate fewer owners contributed is not released (default 2; B is no owner). */
  minContributors?: number;
  /** Refuse every training without differential privacy (default false). */
  requireDp?: boolean;
  /** B forgets a training, and the feature sets it decrypted for it, after this long idle (default 30 min). */
  trainingIdleMs?: number;
}

export type { FeatureSet } from '../protocol/feature-set.js';

interface OpenQuery {
  mode: 'hashed' | 'nested';
  nextSeq: number;
}

export class ServerB {
  private readonly keyFingerprint: string;
  private readonly shape: BatchShape;
  private readonly open = new Map<string, OpenQuery>();
  /** queryId -> the feature vectors B decrypted for it (B's local training data). */
  readonly featureSets = new Map<string, FeatureSet>();
  readonly policy: ServerBPolicy;
  /** B's federated-learning duties (server-b-training.ts). */
  readonly training: ServerBTraining;

  constructor(
    private readonly options: {
      engine: Engine;
      transport: Transport;
      keys: KeyPair;
      policy?: Partial<ServerBPolicy>;
      /** B's local log: details of what it refuses, which it never sends (DESIGN §1.1). */
      log?: (event: string, details: Record<string, unknown>) => void;
    },
  ) {
    this.keyFingerprint = fingerprint(options.keys.publicKey.n);
    this.shape = batchShape(options.keys.publicKey);
    this.policy = { minGroupSize: 10, ...options.policy };
    this.training = new ServerBTraining({
      engine: options.engine,
      keys: options.keys,
      featureSets: this.featureSets,
      policy: this.policy,
      log: options.log,
    });
    options.transport.register(ROLES.serverB, (message, from) => this.receive(message, from));
  }

  /** B generates the key pair (it is the only holder of the private key). */
  static async create(options: {
    engine: Engine;
    transport: Transport;
    bits?: number;
    policy?: Partial<ServerBPolicy>;
    log?: (event: string, details: Record<string, unknown>) => void;
  }): Promise<ServerB> {
    return new ServerB({ ...options, keys: await generateKeys(options.bits) });
  }

  get publicKey(): PublicKey {
    return this.options.keys.publicKey;
  }

  /** The public key and its fingerprint, as published to every other role. */
  publicKeyMessage(): MessageOf<'public-key'> {
    const { n, g } = this.publicKey;
    return { type: 'public-key', n, g, fingerprint: this.keyFingerprint };
  }

  private async receive(message: Message, from: string): Promise<Message> {
    switch (message.type) {
      case 'query-open':
        return this.openQuery(message);
      case 'indicator-batch':
        return this.zeroTests(message);
      case 'tag-batch':
        return this.tagGroups(message);
      case 'feature-batch':
        return this.features(message);
      case 'aggregate-request':
        return this.aggregate(message);
      case 'owner-key':
      case 'enrol':
      case 'round-open':
      case 'train-round':
      case 'aggregate-weights':
        return this.training.receive(message, from)!;
      case 'query-close':
        this.open.delete(message.queryId);
        return { type: 'ack' };
      default:
        throw new MalformedMessageError(`server B does not accept ${message.type} messages`, {
          type: message.type,
        });
    }
  }

  private requireKey(got: string): void {
    if (got !== this.keyFingerprint) {
      throw new KeyMismatchError('batch is under another key', { expected: this.keyFingerprint, got });
    }
  }

  private requireOpen(queryId: string): OpenQuery {
    const query = this.open.get(queryId);
    // reason 'not-open': B does not know the query (never opened, closed, or B restarted and
    // lost its in-memory state); server A then re-opens the query and runs it again
    if (!query) {
      throw new MalformedMessageError(`query ${queryId} is not open at server B`, {
        queryId,
        reason: QUERY_NOT_OPEN,
      });
    }
    return query;
  }

  /** Batches of a query must follow its query-open, with seq 0, 1, 2, ... */
  private inSequence(queryId: string, seq: number): OpenQuery {
    const query = this.requireOpen(queryId);
    if (seq !== query.nextSeq) {
      throw new MalformedMessageError(
        `query ${queryId}: batch ${seq} out of order, expected ${query.nextSeq}`,
        {
          queryId,
          seq,
        },
      );
    }
    query.nextSeq++;
    return query;
  }

  private async openQuery(message: MessageOf<'query-open'>): Promise<Message> {
    this.requireKey(message.fingerprint);
    if (this.open.has(message.queryId)) {
      throw new MalformedMessageError(`query ${message.queryId} is already open`, {
        queryId: message.queryId,
      });
    }
    this.open.set(message.queryId, { mode: message.mode, nextSeq: 0 });
    return { type: 'ack' };
  }

  /** A wire batch of ciphertexts under B's key, checked. */
  private batch(message: WireBatch, what: string): PackedBatch {
    return fromWire(message, this.shape, what);
  }

  /** §3.1: one bit per shuffled indicator. B learns how many pairs of the batch match. */
  private async zeroTests(message: MessageOf<'indicator-batch'>): Promise<Message> {
    const indicators = this.batch(message, 'indicator-batch');
    this.inSequence(message.queryId, message.seq);
    return zeroTestIndicators(this.options.engine, this.options.keys.privateKey, message, indicators);
  }

  /** §3.2: a group number per shuffled tag. */
  private async tagGroups(message: MessageOf<'tag-batch'>): Promise<Message> {
    const tags = this.batch(message, 'tag-batch');
    this.inSequence(message.queryId, message.seq);
    return groupTags(this.options.engine, this.options.keys.privateKey, message, tags);
  }

  /** §4 step 5: decrypt and decode shuffled feature vectors; they stay at B. */
  private async features(message: MessageOf<'feature-batch'>): Promise<Message> {
    const values = this.batch(message, 'feature-batch');
    this.inSequence(message.queryId, message.seq);
    const { engine, keys } = this.options;
    const set = this.featureSets.get(message.queryId);
    this.featureSets.set(
      message.queryId,
      await decodeFeatures(engine, keys.privateKey, this.publicKey.n, message, values, set),
    );
    return { type: 'ack' };
  }

  /** Aggregates: decrypt totals only, only for large enough groups; the answer goes to the client. */
  private async aggregate(message: MessageOf<'aggregate-request'>): Promise<Message> {
    const batch = this.batch(message, 'aggregate-request');
    this.requireOpen(message.queryId);
    if (message.groupSize < this.policy.minGroupSize) {
      throw new PolicyRefusedError(
        `aggregate over ${message.groupSize} joined rows refused: server B's minimum group size is ${this.policy.minGroupSize}`,
        { groupSize: message.groupSize, minGroupSize: this.policy.minGroupSize },
      );
    }
    const { engine, keys } = this.options;
    const decoded = await decryptTotals(engine, keys.privateKey, this.publicKey.n, message, batch);
    // totals of integer columns are exact; Number() keeps 53 bits, enough for reports
    const totals = decoded.map((t) => ({ ...t, value: Number(t.value) }));
    const privacy = this.policy.aggregatePrivacy;
    let released = {
      groupSize: message.groupSize,
      totals: totals.map(({ label, value }) => ({ label, value })),
    };
    let statement: string | null = null;
    if (privacy) {
      const missing = totals.find((t) => !(privacy.bounds[t.column] > 0));
      if (missing) {
        throw new PolicyRefusedError(`no declared bound for ${missing.column}: a DP sum needs one`, {
          column: missing.column,
        });
      }
      ({ statement, ...released } = privatize(totals, message.groupSize, privacy));
    }
    await this.options.transport.request(ROLES.serverB, ROLES.client, {
      type: 'aggregate-result',
      queryId: message.queryId,
      ...released,
      privacy: statement,
    });
    return { type: 'ack' };
  }
}
