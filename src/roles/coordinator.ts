// The coordinator (DESIGN §1, §4): orchestrates training rounds and aggregates encrypted
// weights; it holds only the public key and never sees a plaintext weight of one owner.
// Round 0: the enrolled owners' local models, FedAvg-ed under encryption (a warm start).
// Each later round: A extracts the joined rows' features (all of them, then B's top-k), B
// fits the model on them and contributes alone. B chooses the participants, verifies every
// signed contribution and decrypts only aggregates (docs/DECISIONS.md "Federated learning").
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError } from '../errors.js';
import { authorize } from '../protocol/authorization.js';
import { batchShape, concat, fromWire, toWire } from '../protocol/batch.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import { expectType } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { featureName, ROLES, trainingFeatures } from './names.js';

type ColumnRef = { table: string; column: string };
type Standardization = MessageOf<'local-train'>['standardization'];

export class Coordinator {
  private readonly owners: string[] = [];

  constructor(private readonly options: { engine: Engine; transport: Transport; publicKey: PublicKey }) {
    options.transport.register(ROLES.coordinator, (message, from) => {
      authorize(ROLES.coordinator, message, from);
      return this.receive(message);
    });
  }

  /** Enrols an owner (by name) in every later training. */
  addOwner(name: string): void {
    if (!this.owners.includes(name)) this.owners.push(name);
  }

  private receive(message: Message): Promise<Message> {
    if (message.type !== 'train') {
      throw new MalformedMessageError(`the coordinator does not accept ${message.type} messages`);
    }
    return this.train(message);
  }

  private request(to: string, message: Message): Promise<Message> {
    return this.options.transport.request(ROLES.coordinator, to, message);
  }

  private async train(message: MessageOf<'train'>): Promise<MessageOf<'train-result'>> {
    const { trainingId, plan, label, rounds, dp, topK, mode } = message;
    const features = trainingFeatures(plan, label);
    const names = features.map(featureName);
    const timingsMs: Record<string, number> = {};
    const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      try {
        return await fn();
      } finally {
        timingsMs[phase] = (timingsMs[phase] ?? 0) + performance.now() - start;
      }
    };
    // asked for statistics, each owner also enrols with B for this training
    const standardization = await timed('pooled statistics', () =>
      this.pooledStatistics(trainingId, features),
    );
    let global: { weights: number[]; bias: number } | null = null;
    /** B's top-k selection once round 1 has ranked every feature; null: every feature */
    let selected: string[] | null = null;
    let fit: MessageOf<'global-model'>['fit'] = null;
    let rowsJoined: number | null = null;
    /** B's id of the feature set A extracted in round 1, used by every later round */
    let featureSetId: string | undefined;
    let epsilon: number | null = dp ? 0 : null;
    const lossPerRound: (number | null)[] = [];
    const withheldPerRound: string[][] = [];
    for (let round = 0; round < rounds; round++) {
      // B admits exactly these: the owners in round 0, itself afterwards (docs/DECISIONS.md "Federated learning")
      const participants = round === 0 ? this.owners.map(ROLES.owner) : [ROLES.serverB];
      const { nonce } = expectType(
        await this.request(ROLES.serverB, { type: 'round-open', trainingId, round, participants, rounds }),
        'round-nonce',
      );
      const contributions: MessageOf<'contribution'>[] = [];
      if (round === 0) {
        await timed('owners: local training + encryption', async () => {
          for (const owner of this.owners) {
            const reply = await this.request(ROLES.owner(owner), {
              type: 'local-train',
              trainingId,
              round,
              nonce,
              features,
              label,
              standardization,
            });
            contributions.push(expectType(reply, 'contribution'));
          }
        });
      } else {
        // A extracts every feature once, in round 1; B keeps that feature set for the later
        // rounds (it has decrypted every feature by then: extracting a top-k subset again
        // would hide nothing from B and cost A a join)
        if (featureSetId === undefined) {
          const current = global!;
          const ready = await timed('A: join + feature extraction', async () =>
            expectType(
              await this.request(ROLES.serverA, {
                type: 'extract-features',
                trainingId,
                mode,
                plan,
                label,
                features,
                global: current,
                standardization,
              }),
              'features-ready',
            ),
          );
          featureSetId = ready.featureSetId;
        }
        const reply = await timed('B: decrypt + fit + encryption', () =>
          this.request(ROLES.serverB, {
            type: 'train-round',
            trainingId,
            round,
            nonce,
            featureSetId: featureSetId!,
            features: names,
            label: featureName(label),
            standardization,
            dp,
            topK,
          }),
        );
        contributions.push(expectType(reply, 'contribution'));
      }
      const model = await timed('aggregation + verification at B', async () =>
        expectType(await this.aggregate(trainingId, round, names, contributions), 'global-model'),
      );
      global = model.weights;
      selected = model.selected;
      fit = model.fit ?? fit;
      rowsJoined = model.rowsJoined ?? rowsJoined;
      lossPerRound.push(model.lossOnJoined);
      withheldPerRound.push(model.withheld);
      if (epsilon !== null) epsilon = model.epsilonSpent;
    }
    return {
      type: 'train-result',
      trainingId,
      features: names,
      weights: global!,
      standardization,
      rounds,
      rowsJoined,
      epsilon,
      delta: dp?.delta ?? null,
      lossPerRound,
      withheldPerRound,
      selected,
      fit,
      timingsMs,
    };
  }

  /** §4 step 2: the per-coordinate homomorphic sum of every contribution, sent to B with them all. */
  private async aggregate(
    trainingId: string,
    round: number,
    features: string[],
    contributions: MessageOf<'contribution'>[],
  ): Promise<Message> {
    const { engine, publicKey } = this.options;
    const key = batchShape(publicKey);
    const vectors = contributions.map((c) => fromWire(c, key, `contribution from ${c.owner}`));
    const length = vectors[0].count;
    if (vectors.some((v) => v.count !== length))
      throw new MalformedMessageError('contributions differ in length');
    const sums = await engine.sumRows(publicKey, concat(vectors), length);
    return this.request(ROLES.serverB, {
      type: 'aggregate-weights',
      trainingId,
      round,
      features,
      contributions,
      ...toWire(sums, key.fingerprint),
    });
  }

  /** Pools the owners' per-column count / mean / M2 into one standardisation per feature. */
  private async pooledStatistics(trainingId: string, features: ColumnRef[]): Promise<Standardization> {
    const names = features.map(featureName);
    const acc = names.map(() => ({ count: 0, mean: 0, m2: 0 }));
    for (const owner of this.owners) {
      const reply = expectType(
        await this.request(ROLES.owner(owner), { type: 'stats-request', trainingId, features }),
        'column-stats',
      );
      for (const s of reply.stats) {
        const k = names.indexOf(s.feature);
        if (k < 0 || s.count === 0) continue;
        // Chan et al.'s parallel variance: merge (count, mean, M2) pairs exactly
        const a = acc[k];
        const total = a.count + s.count;
        const delta = s.mean - a.mean;
        a.m2 += s.m2 + (delta * delta * a.count * s.count) / total;
        a.mean += (delta * s.count) / total;
        a.count = total;
      }
    }
    return {
      mean: acc.map((a) => a.mean),
      std: acc.map((a) => (a.count > 1 && a.m2 > 0 ? Math.sqrt(a.m2 / (a.count - 1)) : 1)),
    };
  }
}
