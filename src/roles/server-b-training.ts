// Server B's part in federated learning (DESIGN §1.1, §4 steps 2, 5, 6; docs/DECISIONS.md "Federated learning"):
// owners enrol with B for a training, and B, not the coordinator, fixes each round's
// participants (round 0: every enrolled owner, at least policy.minOwners; later rounds: B
// alone). B verifies every signed contribution, recomputes the homomorphic aggregate and
// decrypts only the coordinates that enough owners contributed; it fits the model on the
// joined rows (Newton to tolerance, or DP-SGD), and frees a training's state and feature sets
// when it ends or idles. Every refusal is one opaque PolicyRefusedError; the reason is logged here.
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import type { Cell } from '../data/table.js';
import type { Engine } from '../engine/engine.js';
import { fingerprint, type KeyPair } from '../engine/keys.js';
import { FedjoinError, PeerAuthError } from '../errors.js';
import {
  contributionLayouts,
  decodeAggregate,
  encodeContribution,
  type GlobalWeights,
  type LocalWeights,
  packContribution,
  presenceMask,
  releasableCoordinates,
  signContribution,
  unpackContribution,
  verifyContribution,
  verifyEnrolment,
} from '../fl/contribution.js';
import { topKFeatures } from '../fl/logistic.js';
import {
  checkGlobalScore,
  type FitReport,
  fitOnJoinedRows,
  type TrainingRows,
  type TrainState,
} from '../fl/refine.js';
import { batchShape, concat, fromWire, gather, pack, unpack } from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import { featureName, ROLES, trainingFeatures } from './names.js';
import { type AuthorizedQuery, refuseOpaquely } from './server-b-gate.js';

/** B's rules for trainings (DESIGN §1.1; docs/DECISIONS.md "Federated learning"). */
export interface TrainingPolicy {
  /** a round in which owners contribute needs this many enrolled owners */
  minOwners: number;
  /** a weight coordinate fewer owners contributed is not released (B is no owner) */
  minContributors: number;
  /** refuse every training without differential privacy */
  requireDp: boolean;
  /** B forgets a training, and the feature set it decrypted for it, after this long idle (ms) */
  trainingIdleMs: number;
}

export const TRAINING_DEFAULTS: TrainingPolicy = {
  minOwners: 2,
  minContributors: 2,
  requireDp: false,
  trainingIdleMs: 30 * 60_000,
};

type Parameters = Pick<MessageOf<'train-round'>, 'features' | 'label' | 'standardization' | 'dp' | 'topK'>;

interface Training {
  /** owner roles that enrolled (signed) before round 0 opened */
  enrolled: Set<string>;
  /** the open round; -1 before round 0 */
  round: number;
  /** whether the open round's aggregate has been released */
  released: boolean;
  /** a coordinator request is being served: a concurrent one is refused */
  busy: boolean;
  nonce: string;
  participants: string[];
  /** fixed at round 0 */
  rounds: number;
  /** the feature order, fixed by round 0's signed contributions */
  features?: string[];
  /** fixed by the first train-round */
  parameters?: Parameters;
  global?: GlobalWeights;
  /** the top-k features fitted after round 1; null: every feature */
  selected: string[] | null;
  /** whether B has fitted in the open round */
  trained: boolean;
  /** the rows of the training's feature set */
  joinedRows?: number;
  rows?: TrainingRows;
  fit: FitReport | null;
  epsilonSpent: number;
  dp: TrainState;
  idle?: NodeJS.Timeout;
}

/** A refusal: `reason` goes to B's log only. */
class Refusal extends Error {}

export class ServerBTraining {
  private readonly ownerKeys = new Map<string, KeyObject>();
  private readonly trainings = new Map<string, Training>();
  private readonly signingKey: KeyObject;
  private readonly keyFingerprint: string;
  private readonly policy: TrainingPolicy;

  constructor(
    private readonly options: {
      engine: Engine;
      keys: KeyPair;
      featureSets: Map<string, FeatureSet>;
      policy: TrainingPolicy;
      /** the training the client submitted to B under this id (server-b-gate.ts), if still open */
      authorized: (trainingId: string) => AuthorizedQuery | undefined;
      /** a training is over: what it spent goes to the client's ledger */
      finished: (trainingId: string, rdp: readonly number[] | null) => void;
      log?: (event: string, details: Record<string, unknown>) => void;
    },
  ) {
    const pair = generateKeyPairSync('ed25519');
    this.signingKey = pair.privateKey;
    this.ownerKeys.set(ROLES.serverB, pair.publicKey);
    this.keyFingerprint = fingerprint(options.keys.publicKey.n);
    this.policy = options.policy;
  }

  /** Whether B still holds state for a training (tests: a finished training leaves none). */
  holds(trainingId: string): boolean {
    return this.trainings.has(trainingId);
  }

  /** The Ed25519 key `role` registered (owners) or B's own. */
  ownerKey(role: string): KeyObject | undefined {
    return this.ownerKeys.get(role);
  }

  receive(message: Message, from: string): Promise<Message> | undefined {
    switch (message.type) {
      case 'owner-key':
        // an owner registers its own key only: over HTTP `from` is the role its certificate proves
        if (from !== ROLES.owner(message.owner)) {
          throw new PeerAuthError(`${from} may not register a signing key for owner ${message.owner}`, {
            from,
          });
        }
        this.ownerKeys.set(from, createPublicKey(message.publicKey));
        return Promise.resolve({ type: 'ack' });
      case 'enrol':
        return this.guarded(message.trainingId, false, async () => this.enrol(message));
      case 'round-open':
      case 'train-round':
      case 'aggregate-weights':
        return this.guarded(message.trainingId, from === ROLES.coordinator, async () => {
          if (from !== ROLES.coordinator)
            throw new Refusal(`${message.type} from ${from}, not the coordinator`);
          const training = this.trainings.get(message.trainingId);
          if (!training) throw new Refusal('no such training (no enrolment, ended, or idle too long)');
          if (training.busy) throw new Refusal('a concurrent request for the training');
          training.busy = true;
          try {
            this.touch(message.trainingId, training);
            if (message.type === 'round-open') return this.openRound(training, message);
            if (message.type === 'train-round') return await this.trainRound(training, message);
            return await this.aggregate(training, message);
          } finally {
            training.busy = false;
          }
        });
      default:
        return undefined;
    }
  }

  /**
   * Runs one training request; any failure becomes the one opaque refusal, its reason logged
   * here. A refused coordinator request ends the training (state and feature sets freed); a
   * refused enrolment does not, so that no owner can end a training it is not part of.
   */
  private async guarded(trainingId: string, aborts: boolean, run: () => Promise<Message>): Promise<Message> {
    try {
      return await run();
    } catch (err) {
      const reason = err instanceof Refusal || err instanceof FedjoinError ? err.message : String(err);
      return refuseOpaquely(this.options.log, 'training-refused', { trainingId, reason }, () => {
        if (aborts && this.trainings.has(trainingId)) this.end(trainingId, 'refused');
      });
    }
  }

  /** Issue 9 item 5: an owner takes part in a training only by its own signed enrolment. */
  private enrol(message: MessageOf<'enrol'>): Message {
    const owner = ROLES.owner(message.owner);
    const key = this.ownerKeys.get(owner);
    const enrolment = { trainingId: message.trainingId, owner, fingerprint: this.keyFingerprint };
    if (!key || !verifyEnrolment(enrolment, message.signature, key)) {
      throw new Refusal(`enrolment of ${owner}: unregistered key or bad signature`);
    }
    if (!this.options.authorized(message.trainingId))
      throw new Refusal('enrolment in a training no client submitted');
    let training = this.trainings.get(message.trainingId);
    if (training && training.round >= 0) throw new Refusal(`enrolment of ${owner} after round 0 opened`);
    if (!training) {
      training = {
        enrolled: new Set(),
        round: -1,
        released: false,
        busy: false,
        nonce: '',
        participants: [],
        rounds: 0,
        selected: null,
        trained: false,
        fit: null,
        epsilonSpent: 0,
        dp: {},
      };
      this.trainings.set(message.trainingId, training);
    }
    training.enrolled.add(owner);
    this.touch(message.trainingId, training);
    return { type: 'ack' };
  }

  /** B decides the participants: every enrolled owner in round 0, B alone afterwards. */
  private openRound(training: Training, message: MessageOf<'round-open'>): Message {
    const { round } = message;
    if (round === 0) {
      if (training.round !== -1) throw new Refusal('round 0 opened twice');
      if (training.enrolled.size < this.policy.minOwners) {
        throw new Refusal(`${training.enrolled.size} enrolled owners, policy needs ${this.policy.minOwners}`);
      }
      const authorized = this.options.authorized(message.trainingId)?.training;
      if (message.rounds !== authorized?.rounds)
        throw new Refusal("rounds differ from the client's submission");
      training.rounds = message.rounds;
    } else if (round !== training.round + 1 || !training.released) {
      throw new Refusal(
        `round ${round} out of order (open: ${training.round}, released: ${training.released})`,
      );
    } else if (message.rounds !== training.rounds || round >= training.rounds) {
      throw new Refusal(`round ${round} of ${message.rounds}: the training has ${training.rounds}`);
    }
    const expected = round === 0 ? [...training.enrolled] : [ROLES.serverB];
    if (!sameSet(message.participants, expected)) {
      throw new Refusal(
        `round ${round} participants ${message.participants.join(', ')} are not ${expected.join(', ')}`,
      );
    }
    training.round = round;
    training.released = false;
    training.nonce = randomBytes(16).toString('hex');
    training.participants = expected;
    return { type: 'round-nonce', trainingId: message.trainingId, round, nonce: training.nonce };
  }

  /** §4 steps 5-6: B's fit on the joined rows of this training's feature set; B's signed contribution. */
  private async trainRound(training: Training, message: MessageOf<'train-round'>): Promise<Message> {
    const { trainingId, round } = message;
    if (round < 1 || round !== training.round || training.released || message.nonce !== training.nonce) {
      throw new Refusal(`train-round ${round} is not the open round ${training.round}`);
    }
    if (training.trained) throw new Refusal(`round ${round} trained twice`);
    if (this.policy.requireDp && message.dp === null) throw new Refusal('policy requires DP: dp is null');
    const { features, label, standardization, dp, topK } = message;
    const parameters: Parameters = { features, label, standardization, dp, topK };
    training.parameters ??= parameters;
    if (JSON.stringify(parameters) !== JSON.stringify(training.parameters)) {
      throw new Refusal(`round ${round} changes the training's parameters`);
    }
    if (!sameList(features, training.features!)) throw new Refusal('features differ from round 0');
    // the coordinator may not change what the client asked for
    const asked = this.options.authorized(trainingId);
    if (!asked?.training || !sameAsAsked(asked, parameters)) {
      throw new Refusal("label, features, DP or top-k differ from the client's submission");
    }
    // the one feature set A extracted for this training, kept for every round
    const set = message.featureSetId === trainingId ? this.options.featureSets.get(trainingId) : undefined;
    if (!set) throw new Refusal(`no feature set ${message.featureSetId} of this training`);
    training.trained = true;
    const request = {
      features,
      label,
      standardization,
      dp,
      fitted: training.selected ?? features,
      fitRounds: training.rounds - 1,
    };
    // A scored the rows with the model of its extraction, round 0's: checked in round 1
    if (round === 1) checkGlobalScore(set, request, training.global!);
    // A's shuffle gives B the joined rows in a random order: fit them in a canonical order, so
    // that a fit without DP is a deterministic function of the rows
    const result = fitOnJoinedRows(
      { ...set, rows: canonicalOrder(set.rows) },
      request,
      training.global!,
      training.dp,
    );
    training.rows = result.rows;
    training.joinedRows = set.rows.length;
    training.fit = result.fit;
    training.epsilonSpent = result.epsilonSpent;
    return this.contribution(trainingId, round, training.nonce, features, result.local);
  }

  private async contribution(
    trainingId: string,
    round: number,
    nonce: string,
    features: string[],
    local: LocalWeights,
  ): Promise<MessageOf<'contribution'>> {
    const { engine, keys } = this.options;
    const { words, plaintextWords } = batchShape(keys.publicKey);
    // B's own weights, slot-packed: B alone contributes after round 0, so every coordinate
    // of the aggregate is B's and decrypting all of it reveals nothing B does not hold
    const plain = packContribution(encodeContribution(local, keys.publicKey.n), keys.publicKey.n);
    const { data } = await engine.encryptPacked(keys.publicKey, pack(plain, plaintextWords));
    const present = presenceMask(local);
    const fields = {
      round,
      nonce,
      owner: ROLES.serverB,
      fingerprint: this.keyFingerprint,
      features,
      present,
      data,
    };
    return {
      type: 'contribution',
      trainingId,
      ...fields,
      count: plain.length,
      words,
      signature: signContribution(fields, this.signingKey),
    };
  }

  /**
   * §4 step 2: verify every contribution, recompute the aggregate, and decrypt only the
   * coordinates enough owners contributed (releasableCoordinates); the others keep their value.
   */
  private async aggregate(training: Training, message: MessageOf<'aggregate-weights'>): Promise<Message> {
    const { trainingId, round, features } = message;
    if (round !== training.round || training.released)
      throw new Refusal(`aggregate of round ${round}: not open`);
    if (round === 0) training.features = features;
    else if (!sameList(features, training.features!)) throw new Refusal('features differ from round 0');
    this.verifyContributions(training, message);
    // recompute the product of the signed contributions and compare with the coordinator's
    const { engine, keys } = this.options;
    const key = batchShape(keys.publicKey);
    const vectors = message.contributions.map((c) => fromWire(c, key, `contribution from ${c.owner}`));
    const aggregate = fromWire(message, key, 'aggregate');
    const d = features.length;
    const n = keys.publicKey.n;
    // round 0: the owners' contributions, one coordinate per ciphertext, so that B decrypts
    // exactly the released ones; later rounds: B's own, packed (docs/DECISIONS.md "Packing")
    const width = round === 0 ? 2 * (d + 1) : contributionLayouts(n, d).length;
    if (aggregate.count !== width || vectors.some((v) => v.count !== width)) {
      throw new Refusal('a contribution or the aggregate has the wrong length');
    }
    const recomputed = await engine.sumRows(keys.publicKey, concat(vectors), width);
    const k = recomputed.data.findIndex((w, i) => w !== aggregate.data[i]);
    if (k >= 0) {
      throw new Refusal(
        `aggregate coordinate ${Math.floor(k / key.words)} is not the product of the signed contributions`,
      );
    }
    const masks = message.contributions.map((c) => ({
      owner: c.owner !== ROLES.serverB,
      present: c.present,
    }));
    const { release, withheld } = releasableCoordinates(masks, this.policy.minContributors);
    // numerator j and denominator d + 1 + j of each released coordinate; in round 0 nothing
    // else is decrypted, in later rounds the rest of B's own packed vector is dropped unread
    const picked = release.flatMap((r, j) => (r ? [j, d + 1 + j] : []));
    const sparse = new Array<bigint | undefined>(2 * (d + 1));
    if (round === 0 && picked.length > 0) {
      const plain = unpack(await engine.decryptPacked(keys.privateKey, gather(aggregate, picked)));
      picked.forEach((i, j) => {
        sparse[i] = plain[j];
      });
    } else if (round > 0 && picked.length > 0) {
      const packed = unpack(await engine.decryptPacked(keys.privateKey, aggregate));
      const plain = unpackContribution(packed, n, d, message.contributions.length);
      for (const i of picked) sparse[i] = plain[i];
    }
    const global = decodeAggregate(sparse, n, training.global);
    training.global = global;
    const names = [...features, 'bias'];
    const dp = training.parameters?.dp ?? null;
    const lossOnJoined = training.rows && dp === null ? training.rows.lossOf(global) : null;
    const topK = training.parameters?.topK ?? null;
    if (round === 1 && topK !== null && topK < d) {
      // top-k by |w| of B's fit on every feature (weights on standardised features compare)
      training.selected = topKFeatures({ features, weights: global.weights, bias: global.bias }, topK);
    }
    training.trained = false;
    training.rows = undefined;
    training.released = true;
    const reply: MessageOf<'global-model'> = {
      type: 'global-model',
      trainingId,
      round,
      weights: global,
      epsilonSpent: training.epsilonSpent,
      lossOnJoined,
      withheld: withheld.map((j) => names[j]),
      selected: training.selected,
      fit: round === 0 ? null : training.fit,
      rowsJoined: round > 0 && dp === null ? (training.joinedRows ?? null) : null,
    };
    if (round === training.rounds - 1) this.end(trainingId, 'done');
    return reply;
  }

  /** Signed, this round's, from exactly the participants B chose, each once, in the feature order. */
  private verifyContributions(training: Training, message: MessageOf<'aggregate-weights'>): void {
    const seen = new Set<string>();
    for (const c of message.contributions) {
      const who = c.owner;
      if (c.trainingId !== message.trainingId || c.round !== message.round || c.nonce !== training.nonce) {
        throw new Refusal(`replayed contribution from ${who}: it belongs to another round`);
      }
      if (seen.has(who)) throw new Refusal(`replayed contribution: ${who} appears twice`);
      seen.add(who);
      const key = this.ownerKeys.get(who);
      if (!key || !training.participants.includes(who)) {
        throw new Refusal(`forged contribution: ${who} is not a participant`);
      }
      if (
        c.fingerprint !== this.keyFingerprint ||
        !sameList(c.features, message.features) ||
        c.present.length !== message.features.length + 1
      ) {
        throw new Refusal(`contribution from ${who} is for another key or feature order`);
      }
      if (!verifyContribution(c, c.signature, key)) {
        throw new Refusal(`altered or forged contribution from ${who}: bad signature`);
      }
    }
    const missing = training.participants.filter((p) => !seen.has(p));
    if (missing.length > 0) throw new Refusal(`dropped contribution from ${missing.join(', ')}`);
  }

  /** Restarts the training's idle clock (unref'd: it never keeps the process alive). */
  private touch(trainingId: string, training: Training): void {
    clearTimeout(training.idle);
    training.idle = setTimeout(() => this.end(trainingId, 'idle'), this.policy.trainingIdleMs);
    training.idle.unref();
  }

  /** Forgets a training and the feature set A extracted for it (B keeps it under the training's id). */
  private end(trainingId: string, why: 'done' | 'refused' | 'idle'): void {
    const training = this.trainings.get(trainingId);
    if (training) clearTimeout(training.idle);
    this.trainings.delete(trainingId);
    this.options.featureSets.delete(trainingId);
    this.options.finished(trainingId, training?.dp.accountant?.rdp ?? null);
    this.options.log?.('training-ended', { trainingId, why });
  }
}

/** Whether a round's parameters are what the client submitted (features and label qualified). */
function sameAsAsked(asked: AuthorizedQuery, p: Parameters): boolean {
  const training = asked.training!;
  const features = trainingFeatures(asked.plan, training.label).map(featureName);
  return (
    sameList(p.features, features) &&
    p.label === featureName(training.label) &&
    JSON.stringify(p.dp) === JSON.stringify(training.dp) &&
    p.topK === training.topK
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));
}

/** The rows sorted by their values, column by column (B's view carries no row order anyway). */
function canonicalOrder(rows: readonly Cell[][]): Cell[][] {
  const compare = (x: Cell, y: Cell): number => {
    if (typeof x === 'string' || typeof y === 'string') {
      const a = String(x);
      const b = String(y);
      return a < b ? -1 : a > b ? 1 : 0;
    }
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...rows].sort((r, s) => {
    for (let k = 0; k < r.length; k++) {
      const c = compare(r[k], s[k]);
      if (c !== 0) return c;
    }
    return 0;
  });
}
