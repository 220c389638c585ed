// Federated training over the join (issues 5, 14): on the bundled data, the model without DP
// is the plaintext optimum of the same objective on the same joined rows (an independent
// solver), DP at epsilon 3 stays within 3 points of it; every tampering of the coordinator is
// refused opaquely; training ids do not collide across clients, and B forgets finished trainings.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundled } from '../../src/data/bundled.js';
import type { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { unpack } from '../../src/engine/limbs.js';
import { PeerAuthError, PolicyRefusedError } from '../../src/errors.js';
import { logit, sigmoid } from '../../src/fl/logistic.js';
import { accuracy, auc, stratifiedSplit } from '../../src/fl/metrics.js';
import { NEWTON_TOLERANCE } from '../../src/fl/newton.js';
import type { Message, MessageOf } from '../../src/protocol/messages.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { parseQuery } from '../../src/query/sql.js';
import { Client } from '../../src/roles/client.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';

const REFUSAL = 'server B refused the request';

import { meanStd, plainLogistic } from '../fl/plain-solver.js';
import { recordDecryptions } from '../helpers/decryptions.js';

const HOSPITAL = ['mean_radius', 'mean_texture', 'mean_concave_points', 'mean_area'];
const LAB = ['worst_radius', 'worst_concave_points', 'worst_texture', 'worst_area'];
const SQL = `SELECT ${HOSPITAL.map((f) => `h.${f}`).join(', ')}, ${LAB.map((f) => `l.${f}`).join(', ')} FROM hospital h JOIN lab l ON h.id = l.id TRAIN LOGISTIC LABEL h.malignant ROUNDS 2`;

/** The two partitions of the hospital table (a horizontal split) name each other. */
const HOSPITALS = ['hospital-east', 'hospital-west'];
let engine: Engine;
let fed: Federation;
let evaluation: Table;
/** the plaintext optimum on the joined rows, with its test accuracy and AUC */
let baseline: { weights: number[]; bias: number; accuracy: number; auc: number; rows: number };
/** Mutates the coordinator's aggregate-weights message on its way to B, when set. */
let tamper: ((m: MessageOf<'aggregate-weights'>) => MessageOf<'aggregate-weights'>) | undefined;
const decrypted: bigint[][] = [];
const contributions: MessageOf<'contribution'>[] = [];
const logged: { event: string; details: Record<string, unknown> }[] = [];
/** the id of every training the coordinator opened at B */
const opened: string[] = [];

class TamperingTransport extends InProcessTransport {
  override async request(from: string, to: string, message: Message): Promise<Message> {
    if (message.type === 'round-open' && message.round === 0) opened.push(message.trainingId);
    if (message.type === 'aggregate-weights') {
      contributions.push(...message.contributions);
      if (tamper) return super.request(from, to, tamper(message));
    }
    return super.request(from, to, message);
  }
}

beforeAll(async () => {
  const all = loadBundled();
  const labels = all.column('malignant').values.map(Number);
  const split = stratifiedSplit(labels, 0.3, 3);
  const trainRows = split.train;
  const labRows = trainRows.filter((_, k) => k % 4 !== 0);
  evaluation = all.takeRows(split.test);
  // the same objective on the same joined rows (every lab row joins one hospital row), with the
  // pooled standardisation: hospital columns over both hospitals' rows, lab columns over lab's
  const features = [...HOSPITAL, ...LAB];
  const column = (f: string) => all.column(f).values.map(Number);
  const stats = features.map((f) =>
    meanStd((HOSPITAL.includes(f) ? trainRows : labRows).map((i) => column(f)[i])),
  );
  const x = (rows: number[]) =>
    rows.map((i) => features.map((f, k) => (column(f)[i] - stats[k].mean) / stats[k].std));
  const optimum = plainLogistic(
    x(labRows),
    labRows.map((i) => labels[i]),
    1 / labRows.length,
  );
  const p = x(split.test).map((row) => sigmoid(logit(optimum.weights, optimum.bias, row)));
  const y = split.test.map((i) => labels[i]);
  baseline = { ...optimum, accuracy: accuracy(y, p), auc: auc(y, p), rows: labRows.length };

  engine = await createEngine({ workers: 2, encryption: 'djn' });
  recordDecryptions(engine, decrypted);
  const transport = new TamperingTransport(true);
  fed = await createFederation({
    engine,
    bits: 1024,
    policy: { minGroupSize: 5 },
    transport,
    log: (event, details) => logged.push({ event, details }),
  });
  const hospital = all.project(['id', ...HOSPITAL, 'malignant'], 'hospital');
  const half = Math.floor(trainRows.length / 2);
  const parts: [string, Table][] = [
    ['hospital-east', hospital.takeRows(trainRows.slice(0, half))],
    ['hospital-west', hospital.takeRows(trainRows.slice(half))],
    ['lab', all.project(['id', ...LAB], 'lab').takeRows(labRows)],
  ];
  for (const [name, table] of parts) {
    const owner = fed.owner(name);
    await owner.shareTable(table, { joinKeys: [['id']], joinModes: ['hashed'], coOwners: HOSPITALS });
    await owner.joinTraining(table);
    fed.coordinator.addOwner(name);
  }
});
afterAll(async () => engine.close());

describe('training over the join', () => {
  it('without DP releases the plaintext optimum of the same objective on the joined rows', async () => {
    const report = await fed.client.train(SQL, { evaluation });
    expect(report.rounds).toBe(2);
    expect(report.rowsJoined).toBe(baseline.rows);
    expect(report.model.features).toHaveLength(8);
    for (const [k, w] of report.model.weights.entries()) {
      expect(Math.abs(w - baseline.weights[k])).toBeLessThan(1e-6);
    }
    expect(Math.abs(report.model.bias - baseline.bias)).toBeLessThan(1e-6);
    expect(report.fit).toMatchObject({
      method: 'newton',
      l2: 1 / baseline.rows,
      tolerance: NEWTON_TOLERANCE,
    });
    expect(report.fit!.gradientNorm).toBeLessThanOrEqual(NEWTON_TOLERANCE);
    // round 0: both hospitals trained every hospital coordinate; lab's are unknown, not withheld
    expect(report.withheldPerRound).toEqual([[], []]);
    expect(report.lossPerRound[0]).toBeNull();
    expect(report.lossPerRound[1]).toBeGreaterThan(0);
    expect(report.epsilon).toBeNull();
    expect(Math.abs(report.evaluation!.accuracy - baseline.accuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(report.evaluation!.auc - baseline.auc)).toBeLessThanOrEqual(0.01);
    // B forgot the finished training and the feature set it decrypted for it (issue 14 item 4)
    const id = opened.at(-1)!;
    expect(fed.serverB.training.holds(id)).toBe(false);
    expect([...fed.serverB.featureSets.keys()].filter((k) => k.startsWith(`${id}#`))).toEqual([]);
  });

  it('with DP-SGD at epsilon 3 spends at most that and stays within 3 points', async () => {
    const report = await fed.client.train(SQL.replace('ROUNDS 2', 'ROUNDS 2 EPSILON 3 DELTA 1e-5'), {
      evaluation,
    });
    expect(report.epsilon).toBeGreaterThan(0);
    expect(report.epsilon).toBeLessThanOrEqual(3 + 1e-6);
    expect(report.delta).toBe(1e-5);
    expect(report.fit).toMatchObject({ method: 'dp-sgd', tolerance: null, gradientNorm: null });
    // a loss on the joined rows would be a non-private statistic
    expect(report.lossPerRound).toEqual([null, null]);
    expect(report.evaluation!.accuracy).toBeGreaterThanOrEqual(baseline.accuracy - 0.03);
  });

  it('never lets B decrypt an owner contribution, nor the coordinator see a plaintext weight', () => {
    const owners = contributions.filter((c) => c.owner !== ROLES.serverB);
    const contributed = new Set(owners.flatMap((c) => unpack(c)));
    expect(contributed.size).toBeGreaterThan(0);
    expect(decrypted.flat().length).toBeGreaterThan(0);
    for (const batch of decrypted) for (const c of batch) expect(contributed.has(c)).toBe(false);
    const seen = new Set((fed.transport.views.get(ROLES.coordinator) ?? []).map((e) => e.message.type));
    for (const type of seen) {
      expect([
        'train',
        'column-stats',
        'round-nonce',
        'contribution',
        'features-ready',
        'global-model',
        'ack',
      ]).toContain(type);
    }
  });

  it('gives trainings of two clients with the same name distinct ids, and B forgets both (issue 14)', async () => {
    // the bug: two `serve client` processes both numbered their trainings client-train-1
    const other = new Client({ transport: fed.transport });
    const sql = SQL.replace('ROUNDS 2', 'ROUNDS 1');
    const before = opened.length;
    const reports = await Promise.all([fed.client.train(sql), other.train(sql)]);
    expect(reports.map((r) => r.rounds)).toEqual([1, 1]);
    const ids = opened.slice(before);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) {
      expect(id).toMatch(/^client-train-[0-9a-f]{32}$/);
      expect(fed.serverB.training.holds(id)).toBe(false);
    }
  });
});

describe('signing keys', () => {
  it('lets an owner register only its own key', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const error = await fed.transport
      .request(ROLES.owner('lab'), ROLES.serverB, {
        type: 'owner-key',
        owner: 'hospital-east',
        publicKey: pem,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerAuthError);
    expect((error as PeerAuthError).code).toBe('PEER_AUTH');
  });
});

describe('tampered rounds are refused opaquely, and B logs which contribution', () => {
  const cases: [string, (m: MessageOf<'aggregate-weights'>) => MessageOf<'aggregate-weights'>, RegExp][] = [
    [
      'dropped',
      (m) => ({ ...m, contributions: m.contributions.slice(1) }),
      /dropped contribution from owner:hospital-east/,
    ],
    [
      'altered',
      (m) => {
        const [first, ...rest] = m.contributions;
        const data = first.data.slice();
        data[0] ^= 1;
        return { ...m, contributions: [{ ...first, data }, ...rest] };
      },
      /altered or forged contribution from owner:hospital-east/,
    ],
    [
      'presence mask altered',
      (m) => {
        const [first, ...rest] = m.contributions;
        return { ...m, contributions: [{ ...first, present: first.present.map(() => true) }, ...rest] };
      },
      /altered or forged contribution from owner:hospital-east/,
    ],
    [
      'forged',
      (m) => ({
        ...m,
        contributions: [...m.contributions.slice(1), { ...m.contributions[0], owner: 'owner:mallory' }],
      }),
      /owner:mallory is not a participant/,
    ],
    [
      'replayed',
      (m) => ({
        ...m,
        contributions: [{ ...contributions[0], round: m.round }, ...m.contributions.slice(1)],
      }),
      /replayed contribution from owner:hospital-east/,
    ],
    [
      'aggregate altered',
      (m) => {
        const data = m.data.slice();
        data[3] ^= 0x10;
        return { ...m, data };
      },
      /not the product of the signed contributions/,
    ],
  ];
  it.each(cases)('%s', async (_name, mutate, pattern) => {
    tamper = mutate;
    logged.length = 0;
    try {
      const error = await fed.client.train(SQL.replace('ROUNDS 2', 'ROUNDS 1')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PolicyRefusedError);
      expect((error as PolicyRefusedError).toJSON()).toEqual({
        code: 'POLICY_REFUSED',
        message: REFUSAL,
        details: {},
      });
      const refusal = logged.find((l) => l.event === 'training-refused');
      expect(String(refusal?.details.reason)).toMatch(pattern);
    } finally {
      tamper = undefined;
    }
  });
});

describe('idle trainings', () => {
  it('are forgotten after policy.trainingIdleMs', async () => {
    const small = await createFederation({ engine, bits: 1024, policy: { trainingIdleMs: 50 } });
    const owner = small.owner('solo');
    const hospital = evaluation.project(['id', 'mean_radius', 'malignant'], 'hospital');
    await owner.shareTable(hospital, { joinKeys: [['id']], joinModes: ['hashed'] });
    await small.owner('lab').shareTable(evaluation.project(['id', 'worst_area'], 'lab'), {
      joinKeys: [['id']],
      joinModes: ['hashed'],
    });
    await owner.joinTraining(hospital);
    // the client submits the training to B: only then may owners enrol in it
    await small.transport.request(ROLES.client, ROLES.serverB, {
      type: 'query-submit',
      queryId: 'idle-1',
      mode: 'hashed',
      plan: parseQuery('SELECT h.mean_radius, l.worst_area FROM hospital h JOIN lab l ON h.id = l.id'),
      training: { label: { table: 'hospital', column: 'malignant' }, rounds: 2, dp: null, topK: null },
    });
    // asked for statistics, the owner enrols: B now holds the training
    await small.transport.request(ROLES.coordinator, ROLES.owner('solo'), {
      type: 'stats-request',
      trainingId: 'idle-1',
      features: [],
    });
    expect(small.serverB.training.holds('idle-1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(small.serverB.training.holds('idle-1')).toBe(false);
  });
});
