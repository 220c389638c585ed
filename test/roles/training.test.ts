// Federated training over the join (issue 5): a small run end to end against a plaintext
// centralised baseline, every tampering of the coordinator caught by B and named, and the
// views: the coordinator sees no plaintext weight, and B decrypts no single contribution.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundled } from '../../src/data/bundled.js';
import type { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { unpack } from '../../src/engine/limbs.js';
import { ForgedContributionError, PeerAuthError } from '../../src/errors.js';
import { predictProba, train } from '../../src/fl/logistic.js';
import { accuracy, stratifiedSplit } from '../../src/fl/metrics.js';
import { applyStandardizer, fitStandardizer } from '../../src/fl/standardize.js';
import type { Message, MessageOf } from '../../src/protocol/messages.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';

const HOSPITAL = ['mean_radius', 'mean_texture', 'mean_concave_points', 'mean_area'];
const LAB = ['worst_radius', 'worst_concave_points', 'worst_texture', 'worst_area'];
const SQL = `SELECT ${HOSPITAL.map((f) => `h.${f}`).join(', ')}, ${LAB.map((f) => `l.${f}`).join(', ')} FROM hospital h JOIN lab l ON h.id = l.id TRAIN LOGISTIC LABEL h.malignant ROUNDS 2`;

let engine: Engine;
let fed: Federation;
let evaluation: Table;
let baseline: number;
/** Mutates the coordinator's aggregate-weights message on its way to B, when set. */
let tamper: ((m: MessageOf<'aggregate-weights'>) => MessageOf<'aggregate-weights'>) | undefined;
const decrypted: bigint[][] = [];
const contributions: MessageOf<'contribution'>[] = [];

class TamperingTransport extends InProcessTransport {
  override async request(from: string, to: string, message: Message): Promise<Message> {
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
  const rows = stratifiedSplit(labels, 0.3, 3);
  const trainRows = rows.train.slice(0, 240);
  evaluation = all.takeRows(rows.test);
  // plaintext centralised baseline on the same training rows and features
  const features = [...HOSPITAL, ...LAB];
  const x = trainRows.map((i) => features.map((f) => Number(all.column(f).values[i])));
  const st = fitStandardizer(x);
  const model = train(
    features,
    applyStandardizer(st, x),
    trainRows.map((i) => labels[i]),
    { epochs: 100 },
  );
  const xTest = rows.test.map((i) => features.map((f) => Number(all.column(f).values[i])));
  baseline = accuracy(
    rows.test.map((i) => labels[i]),
    predictProba(model, applyStandardizer(st, xTest)),
  );

  engine = await createEngine({ workers: 2, encryption: 'djn' });
  const realDecrypt = engine.decrypt.bind(engine);
  engine.decrypt = async (key, cs, options) => {
    decrypted.push([...cs]);
    return realDecrypt(key, cs, options);
  };
  const transport = new TamperingTransport(true);
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 5 }, transport });
  const hospital = all.project(['id', ...HOSPITAL, 'malignant'], 'hospital');
  const parts: [string, Table][] = [
    ['hospital-east', hospital.takeRows(trainRows.slice(0, 120))],
    ['hospital-west', hospital.takeRows(trainRows.slice(120))],
    ['lab', all.project(['id', ...LAB], 'lab').takeRows(trainRows.filter((_, k) => k % 4 !== 0))],
  ];
  for (const [name, table] of parts) {
    const owner = fed.owner(name);
    await owner.shareTable(table, { joinKeys: [['id']] });
    await owner.joinTraining(table);
    fed.coordinator.addOwner(name);
  }
});
afterAll(async () => engine.close());

describe('training over the join', () => {
  it('lands within 2 points of the centralised baseline and reports the run', async () => {
    const report = await fed.client.train(SQL, { evaluation });
    expect(report.rounds).toBe(2);
    expect(report.rowsJoined).toBe(180);
    expect(report.model.features).toHaveLength(8);
    expect(report.lossPerRound[0]).toBeNull();
    expect(report.lossPerRound[1]).toBeGreaterThan(0);
    expect(report.epsilon).toBeNull();
    expect(report.evaluation!.accuracy).toBeGreaterThanOrEqual(baseline - 0.02);
    expect(report.evaluation!.auc).toBeGreaterThan(0.95);
  });

  it('spends at most the requested epsilon with DP-SGD at B', async () => {
    const report = await fed.client.train(SQL.replace('ROUNDS 2', 'ROUNDS 2 EPSILON 3 DELTA 1e-5'), {
      evaluation,
    });
    expect(report.epsilon).toBeGreaterThan(0);
    expect(report.epsilon).toBeLessThanOrEqual(3 + 1e-6);
    expect(report.delta).toBe(1e-5);
    expect(report.evaluation!.accuracy).toBeGreaterThan(0.8);
  });

  it('never lets B decrypt one contribution, nor the coordinator see a plaintext weight', () => {
    const contributed = new Set(contributions.flatMap((c) => unpack(c)));
    expect(contributed.size).toBeGreaterThan(0);
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

describe('tampered rounds fail with ForgedContributionError naming the contribution', () => {
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
      'forged',
      (m) => ({
        ...m,
        contributions: [...m.contributions.slice(1), { ...m.contributions[0], owner: 'owner:mallory' }],
      }),
      /owner:mallory is not a registered participant/,
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
    try {
      const error = await fed.client.train(SQL.replace('ROUNDS 2', 'ROUNDS 1')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgedContributionError);
      expect((error as ForgedContributionError).code).toBe('FORGED_CONTRIBUTION');
      expect((error as Error).message).toMatch(pattern);
    } finally {
      tamper = undefined;
    }
  });
});
