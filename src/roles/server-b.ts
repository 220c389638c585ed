// Server B (DESIGN §1, §1.1): the only holder of the private keys (Paillier, and the EC
// key of the hashed join's tags), and so the gatekeeper. Owners register their tables
// with it (server-b-registry.ts); a client submits each query to it before A runs it; B
// then zero-tests shuffled join indicators (§3.1), decrypts and groups blinded, shuffled
// EC tags (§3.2, never a Paillier ciphertext), decrypts a training's shuffled feature
// vectors into a local feature set (§4 step 5) and aggregate totals into the client's
// answer, each only within what the query needs (server-b-gate.ts), with DP noise and a
// privacy ledger when its policy says so. It never receives a table's ciphertexts, join
// keys or row identities.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { fingerprint, generateKeys, type KeyPair } from '../engine/keys.js';
import { unpackSlots } from '../engine/slots.js';
import { FedjoinError, PeerAuthError, PolicyRefusedError, QueryError } from '../errors.js';
import { GLOBAL_SCORE, GLOBAL_SCORE_FRACTION_BITS } from '../fl/refine.js';
import { decodeFeatures } from '../join/features.js';
import { groupTags } from '../join/hashed.js';
import { zeroTestIndicators } from '../join/nested.js';
import { QUERY_NOT_OPEN } from '../join/query-run.js';
import { PrivacyLedger } from '../privacy/ledger.js';
import { authorize } from '../protocol/authorization.js';
import {
  type BatchShape,
  batchShape,
  fromWire,
  type PackedBatch,
  unpack,
  type WireBatch,
} from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import { type Message, type MessageOf, TAG_WORDS } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { ROLES } from './names.js';
import { type GateLog, type GatePolicy, type PrivacyPolicy, QueryGate } from './server-b-gate.js';
import { TableRegistry } from './server-b-registry.js';
import { ServerBState } from './server-b-state.js';
import { ServerBTraining, TRAINING_DEFAULTS, type TrainingPolicy } from './server-b-training.js';

export type { FeatureSet } from '../protocol/feature-set.js';

export type ServerBPolicy = GatePolicy & TrainingPolicy;

/** B's policy when none is given: exact answers (the library and the in-process demo). */
export const DEFAULT_POLICY: ServerBPolicy = {
  minGroupSize: 10,
  privacy: null,
  maxRuns: 4,
  ...TRAINING_DEFAULTS,
};

/** DP settings a served B starts with (DESIGN §1.1: on by default when served). */
export const DEFAULT_PRIVACY: PrivacyPolicy = {
  epsilonCap: 10,
  delta: 1e-6,
  aggregateEpsilon: 1,
  maxAborts: 10,
};

export interface ServerBOptions {
  engine: Engine;
  transport: Transport;
  keys: KeyPair;
  policy?: Partial<ServerBPolicy>;
  /** Where B keeps registrations, its ledger and authorized queries across restarts (default: memory). */
  stateFile?: string;
  /** B's local log of refusals and authorizations (reasons never go to the sender). */
  log?: GateLog;
}

export class ServerB {
  private readonly keyFingerprint: string;
  private readonly shape: BatchShape;
  /** trainingId -> the feature vectors B decrypted for its latest round (B's local training data). */
  readonly featureSets = new Map<string, FeatureSet>();
  readonly policy: ServerBPolicy;
  private readonly registry: TableRegistry;
  private readonly gate: QueryGate;
  /** B's federated-learning duties (server-b-training.ts). */
  readonly training: ServerBTraining;

  constructor(private readonly options: ServerBOptions) {
    this.keyFingerprint = fingerprint(options.keys.publicKey.n);
    this.shape = batchShape(options.keys.publicKey);
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    const state = ServerBState.open(options.stateFile);
    const save = () => state.save();
    this.training = new ServerBTraining({
      engine: options.engine,
      keys: options.keys,
      featureSets: this.featureSets,
      policy: this.policy,
      authorized: (id) => this.gate.training(id),
      finished: (id, rdp) => this.gate.finishTraining(id, rdp),
      log: options.log,
    });
    this.registry = new TableRegistry(state.data.registrations, save, (role) => this.training.ownerKey(role));
    const privacy = this.policy.privacy;
    const ledger = new PrivacyLedger(
      state.data.ledger,
      privacy ?? {
        epsilonCap: Number.POSITIVE_INFINITY,
        delta: DEFAULT_PRIVACY.delta,
        maxAborts: DEFAULT_PRIVACY.maxAborts,
      },
    );
    this.gate = new QueryGate(state.data.queries, this.registry, ledger, this.policy, save, options.log);
    options.transport.register(ROLES.serverB, (message, from) => this.receive(message, from));
  }

  /** B generates the key pair (it is the only holder of the private key). */
  static async create(options: Omit<ServerBOptions, 'keys'> & { bits?: number }): Promise<ServerB> {
    return new ServerB({ ...options, keys: await generateKeys(options.bits) });
  }

  get publicKey(): PublicKey {
    return this.options.keys.publicKey;
  }

  /** The public keys and their fingerprints, as published to every other role. */
  publicKeyMessage(): MessageOf<'public-key'> {
    const { n, g } = this.publicKey;
    const ec = this.options.keys.ec;
    return {
      type: 'public-key',
      n,
      g,
      fingerprint: this.keyFingerprint,
      ec: ec ? { publicKey: Buffer.from(ec.publicKey).toString('hex'), fingerprint: ec.fingerprint } : null,
    };
  }

  private async receive(message: Message, from: string): Promise<Message> {
    authorize(ROLES.serverB, message, from);
    switch (message.type) {
      case 'table-registration':
        this.registry.register(message, from, this.keyFingerprint);
        return { type: 'ack' };
      case 'query-submit':
        if (message.mode === 'hashed' && !this.options.keys.ec) {
          // a key file from before the EC key (version 1): nothing secret in saying so
          throw new QueryError(
            'server B has no EC key for hashed joins yet (its operator runs fedjoin keygen --rotate); use mode nested',
            { part: 'mode' },
          );
        }
        this.gate.submit(message, from);
        return { type: 'ack' };
      case 'query-open':
        return this.fromA(message, async () => {
          this.requireKey(message.fingerprint);
          const run = this.gate.open(message);
          if (run.query.training) this.featureSets.delete(run.query.queryId);
          return { type: 'ack' };
        });
      case 'indicator-batch':
        return this.fromA(message, () => this.zeroTests(message));
      case 'tag-batch':
        return this.fromA(message, () => this.tagBatch(message));
      case 'feature-batch':
        return this.fromA(message, () => this.features(message));
      case 'aggregate-request':
        return this.fromA(message, () => this.aggregate(message));
      case 'query-close':
        this.gate.close(message, from);
        return { type: 'ack' };
      default:
        return this.training.receive(message, from)!;
    }
  }

  /**
   * Runs a step of a query for A. Whatever goes wrong, A gets the one opaque refusal and
   * the query is aborted: A must not learn from B's answers anything that depends on a
   * decrypted value. Only 'not open' (B lost the run in a restart) is said as such.
   */
  private async fromA(message: { queryId: string }, step: () => Promise<Message>): Promise<Message> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof PolicyRefusedError || err instanceof PeerAuthError) throw err;
      if (err instanceof FedjoinError && err.details.reason === QUERY_NOT_OPEN) throw err;
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return this.gate.refuse(reason, { queryId: message.queryId }, this.gate.queryOf(message.queryId));
    }
  }

  private requireKey(got: string): void {
    if (got !== this.keyFingerprint) this.gate.refuse('query opened under another key', { got });
  }

  /** A wire batch of ciphertexts under B's key, checked. */
  private batch(message: WireBatch, what: string): PackedBatch {
    return fromWire(message, this.shape, what);
  }

  /** §3.1: one bit per shuffled indicator. B learns how many pairs of the batch match. */
  private async zeroTests(message: MessageOf<'indicator-batch'>): Promise<Message> {
    const indicators = this.batch(message, 'indicator-batch');
    const run = this.gate.batch(message);
    this.gate.indicators(run, indicators.count);
    const reply = await zeroTestIndicators(
      this.options.engine,
      this.options.keys.privateKey,
      message,
      indicators,
    );
    this.gate.indicatorBits(run, reply.bits);
    return reply;
  }

  /**
   * §3.2: one side's blinded tags, decrypted to alpha T (a bad point fails here, and the
   * run with it); once both tables are complete, a group number per tag for the rows
   * whose group has members on both sides.
   */
  private async tagBatch(message: MessageOf<'tag-batch'>): Promise<Message> {
    const ec = this.options.keys.ec;
    if (!ec) return this.gate.refuse('tags without an EC key');
    const tags = fromWire(message, { fingerprint: ec.fingerprint, words: TAG_WORDS }, 'tag-batch');
    const run = this.gate.batch(message);
    const complete = this.gate.tags(run, message.side, tags.count);
    run.tagPoints[message.side].push(await this.options.engine.ecDecrypt(ec.secretKey, tags));
    if (!complete) return { type: 'ack' };
    const { groups, joined } = groupTags(...run.tagPoints);
    this.gate.tagGroups(run, joined);
    return { type: 'tag-groups', queryId: message.queryId, seq: message.seq, groups };
  }

  /** §4 step 5: decrypt and decode a training's shuffled feature vectors; they stay at B. */
  private async features(message: MessageOf<'feature-batch'>): Promise<Message> {
    const values = this.batch(message, 'feature-batch');
    const run = this.gate.batch(message);
    const score = { name: GLOBAL_SCORE, type: 'decimal' as const, fractionBits: GLOBAL_SCORE_FRACTION_BITS };
    const { encodings, packing } = this.gate.features(
      run,
      message.columns,
      message.rowCount,
      values.count,
      [score],
      this.publicKey.n,
    );
    const { engine, keys } = this.options;
    const id = run.query.queryId;
    // decoding numbers cannot fail: a value A tampered with becomes a number the training
    // later rejects, at the client, without A seeing any difference here
    this.featureSets.set(
      id,
      await decodeFeatures(
        engine,
        keys.privateKey,
        this.publicKey.n,
        encodings,
        packing,
        message.rowCount,
        values,
        this.featureSets.get(id),
      ),
    );
    return { type: 'ack' };
  }

  /** Aggregates: decrypt the totals only, and answer the client that submitted the query. */
  private async aggregate(message: MessageOf<'aggregate-request'>): Promise<Message> {
    const totals = this.batch(message, 'aggregate-request');
    const run = this.gate.batch(message);
    const { encodings, layouts } = this.gate.aggregate(run, totals.count, this.publicKey.n);
    const plain = unpack(await this.options.engine.decryptPacked(this.options.keys.privateKey, totals));
    // exact totals: each slot holds one, below n/2 by the layout's rule
    const exact = layouts.flatMap((layout, j) => unpackSlots(plain[j], layout));
    const answer = this.gate.answer(run, exact, encodings);
    await this.options.transport.request(ROLES.serverB, run.query.client, answer);
    return { type: 'ack' };
  }
}
