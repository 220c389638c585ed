// The coordinator (DESIGN §1, §4): orchestrates training rounds and aggregates encrypted
// weights; it holds only the public key and never sees a plaintext weight of one owner.
// Round 0: the owners' local models, FedAvg-ed under encryption. Each later round: A
// extracts the joined rows' features guided by the global model, B refines the model on
// them with DP-SGD, and B's contribution is aggregated with the owners' (retrained from
// the global model). B verifies every signed contribution and decrypts only aggregates.
import type { PublicKey } from 'paillier-bigint';
import { sumRows } from '../engine/aggregate.js';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError } from '../errors.js';
import { authorize } from '../protocol/authorization.js';
import { batchShape, concat, fromWire, toWire } from '../protocol/batch.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import { expectType } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { featureName, ROLES } from './names.js';

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
    const features = plan.select.filter(
      (s): s is { kind: 'column'; table: string; column: string } =>
        s.kind === 'column' && !(s.table === label.table && s.column === label.column),
    );
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
    const standardization = await timed('pooled statistics', () =>
      this.pooledStatistics(trainingId, features),
    );
    let global: { weights: number[]; bias: number } | null = null;
    let rowsJoined = 0;
    let epsilon: number | null = dp ? 0 : null;
    const lossPerRound: (number | null)[] = [];
    for (let round = 0; round < rounds; round++) {
      const withB = global !== null;
      const participants = [...this.owners.map(ROLES.owner), ...(withB ? [ROLES.serverB] : [])];
      const { nonce } = expectType(
        await this.request(ROLES.serverB, { type: 'round-open', trainingId, round, participants }),
        'round-nonce',
      );
      const contributions: MessageOf<'contribution'>[] = [];
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
            global,
          });
          contributions.push(expectType(reply, 'contribution'));
        }
      });
      if (global) {
        const current = global;
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
              topK,
            }),
            'features-ready',
          ),
        );
        rowsJoined = ready.rowsJoined;
        const reply = await timed('B: decrypt + DP-SGD + encryption', () =>
          this.request(ROLES.serverB, {
            type: 'train-round',
            trainingId,
            round,
            nonce,
            featureSetId: ready.featureSetId,
            features: names,
            label: featureName(label),
            standardization,
            global: current,
            dp,
            rounds,
          }),
        );
        contributions.push(expectType(reply, 'contribution'));
      }
      const model = await timed('aggregation + verification at B', async () =>
        expectType(await this.aggregate(trainingId, round, names, contributions), 'global-model'),
      );
      global = model.weights;
      lossPerRound.push(model.lossOnJoined);
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
    const sums = await sumRows(engine, publicKey, concat(vectors), length);
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
