// Server B's part in federated learning (DESIGN §4 steps 2, 5, 6; issue 5 items 3, 5):
// it issues each round's nonce, verifies every signed contribution the coordinator
// forwards (a dropped, altered, forged or replayed one fails the round, named), recomputes
// the homomorphic aggregate itself and decrypts only that aggregate; and it refines the
// global model on the decrypted joined feature vectors with DP-SGD under a privacy budget,
// contributing its own encrypted, signed weights.
import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import type { Cell } from '../data/table.js';
import { sumRows } from '../engine/aggregate.js';
import type { Engine } from '../engine/engine.js';
import { fingerprint, type KeyPair } from '../engine/keys.js';
import {
  ForgedContributionError,
  KeyMismatchError,
  MalformedMessageError,
  PeerAuthError,
} from '../errors.js';
import {
  decodeAggregate,
  encodeContribution,
  type GlobalWeights,
  type LocalWeights,
  signContribution,
  verifyContribution,
} from '../fl/contribution.js';
import { refineOnJoinedRows, type TrainingRows, type TrainState } from '../fl/refine.js';
import { batchShape, concat, fromWire, type PackedBatch, pack, unpack } from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import { ROLES } from './names.js';

interface RoundState {
  round: number;
  nonce: string;
  participants: string[];
  global?: GlobalWeights;
  /** the feature set B trained on last, for the loss report */
  rows?: TrainingRows;
  epsilonSpent: number;
  /** DP state across rounds: the accountant and the noise multiplier */
  dp: TrainState;
}

export class ServerBTraining {
  private readonly ownerKeys = new Map<string, KeyObject>();
  private readonly trainings = new Map<string, RoundState>();
  private readonly signingKey: KeyObject;
  private readonly keyFingerprint: string;

  constructor(
    private readonly options: { engine: Engine; keys: KeyPair; featureSets: Map<string, FeatureSet> },
  ) {
    const pair = generateKeyPairSync('ed25519');
    this.signingKey = pair.privateKey;
    this.ownerKeys.set(ROLES.serverB, pair.publicKey);
    this.keyFingerprint = fingerprint(options.keys.publicKey.n);
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
      case 'round-open':
        return Promise.resolve(this.openRound(message));
      case 'train-round':
        return this.trainRound(message);
      case 'aggregate-weights':
        return this.aggregate(message);
      default:
        return undefined;
    }
  }

  private openRound(message: MessageOf<'round-open'>): Message {
    const state = this.trainings.get(message.trainingId);
    const expected = state ? state.round + 1 : 0;
    if (message.round !== expected) {
      throw new MalformedMessageError(`training ${message.trainingId}: round ${message.round} out of order`);
    }
    const nonce = randomBytes(16).toString('hex');
    this.trainings.set(message.trainingId, {
      epsilonSpent: 0,
      dp: {},
      ...state,
      round: message.round,
      nonce,
      participants: message.participants,
    });
    return { type: 'round-nonce', trainingId: message.trainingId, round: message.round, nonce };
  }

  private state(trainingId: string, round: number, nonce?: string): RoundState {
    const state = this.trainings.get(trainingId);
    if (!state || state.round !== round) {
      throw new MalformedMessageError(`training ${trainingId}: round ${round} is not open at server B`);
    }
    if (nonce !== undefined && nonce !== state.nonce) {
      throw new MalformedMessageError(`training ${trainingId}: wrong nonce for round ${round}`);
    }
    return state;
  }

  /** §4 step 5: DP-SGD from the global model on the joined rows; B's signed contribution. */
  private async trainRound(message: MessageOf<'train-round'>): Promise<Message> {
    const state = this.state(message.trainingId, message.round, message.nonce);
    if (!state.participants.includes(ROLES.serverB)) {
      throw new MalformedMessageError('server B is not a participant of this round');
    }
    const set = this.options.featureSets.get(message.featureSetId);
    if (!set) throw new MalformedMessageError(`no feature set ${message.featureSetId} at server B`);
    // A's shuffle gives B the joined rows in a random order: train on them in a canonical
    // order, so that a training without DP is a deterministic function of the rows
    const result = refineOnJoinedRows({ ...set, rows: canonicalOrder(set.rows) }, message, state.dp);
    state.rows = result.rows;
    state.epsilonSpent = result.epsilonSpent;
    return this.contribution(message.trainingId, message.round, state.nonce, message.features, result.local);
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
    const plain = encodeContribution(local, keys.publicKey.n);
    const { data } = await engine.encryptPacked(keys.publicKey, pack(plain, plaintextWords));
    const fields = { round, nonce, owner: ROLES.serverB, fingerprint: this.keyFingerprint, features, data };
    return {
      type: 'contribution',
      trainingId,
      ...fields,
      count: plain.length,
      words,
      signature: signContribution(fields, this.signingKey),
    };
  }

  /** §4 step 2: verify every contribution, recompute the aggregate, decrypt only that. */
  private async aggregate(message: MessageOf<'aggregate-weights'>): Promise<Message> {
    const state = this.state(message.trainingId, message.round);
    if (message.fingerprint !== this.keyFingerprint) {
      throw new KeyMismatchError('aggregate is under another key', {
        expected: this.keyFingerprint,
        got: message.fingerprint,
      });
    }
    const seen = new Set<string>();
    for (const c of message.contributions) {
      const who = c.owner;
      if (c.trainingId !== message.trainingId || c.round !== message.round || c.nonce !== state.nonce) {
        throw new ForgedContributionError(`replayed contribution from ${who}: it belongs to another round`, {
          owner: who,
        });
      }
      if (seen.has(who))
        throw new ForgedContributionError(`replayed contribution: ${who} appears twice`, { owner: who });
      seen.add(who);
      const key = this.ownerKeys.get(who);
      if (!key || !state.participants.includes(who)) {
        throw new ForgedContributionError(`forged contribution: ${who} is not a registered participant`, {
          owner: who,
        });
      }
      if (
        c.fingerprint !== this.keyFingerprint ||
        c.features.join('\u0000') !== message.features.join('\u0000')
      ) {
        throw new ForgedContributionError(`contribution from ${who} is for another key or feature order`, {
          owner: who,
        });
      }
      if (!verifyContribution(c, c.signature, key)) {
        throw new ForgedContributionError(`altered or forged contribution from ${who}: bad signature`, {
          owner: who,
        });
      }
    }
    const missing = state.participants.filter((p) => !seen.has(p));
    if (missing.length > 0) {
      throw new ForgedContributionError(`dropped contribution from ${missing.join(', ')}`, {
        owner: missing[0],
      });
    }
    // recompute the product of the signed contributions and compare with the coordinator's
    const { engine, keys } = this.options;
    const key = batchShape(keys.publicKey);
    const vectors = message.contributions.map((c) => fromWire(c, key, `contribution from ${c.owner}`));
    const aggregate = fromWire(message, key, 'aggregate');
    if (vectors.some((v) => v.count !== aggregate.count)) {
      throw new ForgedContributionError('a contribution differs in length from the aggregate');
    }
    const recomputed = await sumRows(engine, keys.publicKey, concat(vectors), aggregate.count);
    for (let k = 0; k < aggregate.count; k++) {
      const words = (batch: PackedBatch) => batch.data.subarray(k * key.words, (k + 1) * key.words);
      if (words(recomputed).some((w, j) => w !== words(aggregate)[j])) {
        throw new ForgedContributionError(
          `aggregate coordinate ${k} is not the product of the signed contributions`,
        );
      }
    }
    const plain = unpack(await engine.decryptPacked(keys.privateKey, aggregate));
    const global = decodeAggregate(plain, keys.publicKey.n, state.global);
    state.global = global;
    return {
      type: 'global-model',
      trainingId: message.trainingId,
      round: message.round,
      weights: global,
      epsilonSpent: state.epsilonSpent,
      lossOnJoined: state.rows ? state.rows.lossOf(global) : null,
    };
  }
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
