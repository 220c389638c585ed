// Red-team test for issue 9 attack 3 (DESIGN §1.1): a deviating coordinator, rewriting its
// own messages on their way out, tries to read one owner's weights: a round of one owner,
// DP switched off against B's policy, a coordinate only one owner trained. Each attempt gets
// the same opaque refusal whatever the owner's data, B logs why, and honest training goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundled } from '../../src/data/bundled.js';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { unpack } from '../../src/engine/limbs.js';
import { PolicyRefusedError } from '../../src/errors.js';
import { stratifiedSplit } from '../../src/fl/metrics.js';
import type { Message, MessageOf } from '../../src/protocol/messages.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import type { DataOwner } from '../../src/roles/data-owner.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { recordDecryptions } from '../helpers/decryptions.js';

const REFUSAL = 'server B refused the request';

const HOSPITAL = ['mean_radius', 'mean_texture', 'mean_concave_points', 'mean_area'];
const LAB = ['worst_radius', 'worst_concave_points', 'worst_texture'];
const SQL =
  `SELECT ${HOSPITAL.map((f) => `h.${f}`).join(', ')}, ${LAB.map((f) => `l.${f}`).join(', ')} ` +
  'FROM hospital h JOIN lab l ON h.id = l.id TRAIN LOGISTIC LABEL h.malignant ROUNDS 2 EPSILON 3 DELTA 1e-5';
const EAST = ROLES.owner('hospital-east');
/** Only hospital-east trains on mean_area: hospital-west's training table lacks it. */
const LONE = 'hospital.mean_area';

type Forward = (message: Message) => Promise<Message>;
/** How the coordinator deviates: rewrite, drop or answer a message itself; undefined is honest. */
type Deviation = (to: string, message: Message, forward: Forward) => Promise<Message>;

/** The coordinator's own transport, rewriting what it sends (the coordinator is the attacker). */
class DeviatingTransport extends InProcessTransport {
  deviation: Deviation | undefined;
  /** every global model B released to the coordinator, with the aggregate it came from */
  readonly releases: { aggregate: MessageOf<'aggregate-weights'>; model: MessageOf<'global-model'> }[] = [];

  override async request(from: string, to: string, message: Message): Promise<Message> {
    const forward: Forward = (m) => super.request(from, to, m);
    if (from !== ROLES.coordinator) return forward(message);
    const reply = this.deviation ? await this.deviation(to, message, forward) : await forward(message);
    if (message.type === 'aggregate-weights' && reply.type === 'global-model') {
      this.releases.push({ aggregate: message, model: reply });
    }
    return reply;
  }
}

let engine: Engine;
let fed: Federation;
let transport: DeviatingTransport;
let east: DataOwner;
/** hospital-east's training table, with two different secrets: its own mean_area, and a reflection */
const eastTables: Table[] = [];
const decrypted: bigint[][] = [];
const logged: string[] = [];

beforeAll(async () => {
  const all = loadBundled();
  const labels = all.column('malignant').values.map(Number);
  const trainRows = stratifiedSplit(labels, 0.3, 5).train.slice(0, 160);
  const hospital = all.project(['id', ...HOSPITAL, 'malignant'], 'hospital');
  const lab = all.project(['id', ...LAB], 'lab').takeRows(trainRows.filter((_, k) => k % 4 !== 0));
  const eastRows = hospital.takeRows(trainRows.slice(0, 80));
  const westRows = hospital.takeRows(trainRows.slice(80));
  eastTables.push(eastRows, reflect(eastRows, 'mean_area'));

  engine = await createEngine({ workers: 2, encryption: 'djn' });
  recordDecryptions(engine, decrypted);
  transport = new DeviatingTransport();
  fed = await createFederation({
    engine,
    bits: 1024,
    transport,
    policy: { minGroupSize: 5, requireDp: true, minOwners: 2, minContributors: 2 },
    log: (event, details) => {
      if (event === 'training-refused') logged.push(String(details.reason));
    },
  });
  east = fed.owner('hospital-east');
  await east.shareTable(eastRows, { joinKeys: [['id']], joinModes: ['hashed'], coOwners: ['hospital-west'] });
  await east.joinTraining(eastRows);
  const west = fed.owner('hospital-west');
  await west.shareTable(westRows, { joinKeys: [['id']], joinModes: ['hashed'], coOwners: ['hospital-east'] });
  await west.joinTraining(
    westRows.project(['id', 'mean_radius', 'mean_texture', 'mean_concave_points', 'malignant']),
  );
  const labOwner = fed.owner('lab');
  await labOwner.shareTable(lab, { joinKeys: [['id']], joinModes: ['hashed'] });
  await labOwner.joinTraining(lab);
  for (const name of ['hospital-east', 'hospital-west', 'lab']) fed.coordinator.addOwner(name);
});
afterAll(async () => engine.close());

/** The table with `column` negated: hospital-east's weight on it changes sign. */
function reflect(table: Table, column: string): Table {
  const rows = table
    .rows()
    .map((row) => row.map((cell, k) => (table.columnNames[k] === column ? -Number(cell) : cell)));
  return Table.fromRows(
    table.name,
    table.columnNames.map((name) => ({ name, type: table.column(name).type })),
    rows,
  );
}

/** Only hospital-east's contribution, and the aggregate that is exactly it. */
function eastOnly(m: MessageOf<'aggregate-weights'>): MessageOf<'aggregate-weights'> {
  const own = m.contributions.filter((c) => c.owner === EAST);
  return { ...m, contributions: own, data: own[0].data };
}

const attacks: [string, Deviation, RegExp][] = [
  [
    '1: a round naming one owner as its only participant',
    (_to, m, forward) => {
      if (m.type === 'round-open' && m.round === 0) return forward({ ...m, participants: [EAST] });
      if (m.type === 'aggregate-weights') return forward(eastOnly(m));
      return forward(m);
    },
    /participants/,
  ],
  [
    '1: only one owner invited, so only one enrolled',
    (to, m, forward) => {
      if (m.type === 'stats-request' && to !== EAST)
        return Promise.resolve({ type: 'column-stats', stats: [] });
      if (m.type === 'round-open' && m.round === 0) return forward({ ...m, participants: [EAST] });
      if (m.type === 'aggregate-weights') return forward(eastOnly(m));
      return forward(m);
    },
    /1 enrolled owners, policy needs 2/,
  ],
  [
    '2: train-round with dp null although B requires DP',
    (_to, m, forward) => forward(m.type === 'train-round' ? { ...m, dp: null } : m),
    /policy requires DP/,
  ],
  [
    '3: hospital-east counted twice for the coordinate only it trained',
    (_to, m, forward) => {
      if (m.type !== 'aggregate-weights' || m.round !== 0) return forward(m);
      const mine = m.contributions.find((c) => c.owner === EAST)!;
      return forward({
        ...m,
        contributions: m.contributions.map((c) => (c.owner === 'owner:hospital-west' ? mine : c)),
      });
    },
    /appears twice/,
  ],
  [
    '3: hospital-east asked into a refinement round beside B',
    (_to, m, forward) =>
      forward(m.type === 'round-open' && m.round === 1 ? { ...m, participants: [ROLES.serverB, EAST] } : m),
    /participants/,
  ],
];

describe('a coordinator cannot single out an owner (issue 9 attack 3)', () => {
  it.each(attacks)('%s: refused opaquely, whatever the secret', async (_name, deviation, reason) => {
    const refusals: unknown[] = [];
    for (const table of eastTables) {
      await east.joinTraining(table);
      transport.deviation = deviation;
      logged.length = 0;
      let outcome: unknown;
      try {
        outcome = await fed.client.train(SQL).catch((e: unknown) => e);
      } finally {
        transport.deviation = undefined;
      }
      expect(outcome).toBeInstanceOf(PolicyRefusedError);
      refusals.push((outcome as PolicyRefusedError).toJSON());
      // the reason stays in B's own log
      expect(
        logged.some((l) => reason.test(l)),
        logged.join('; '),
      ).toBe(true);
    }
    // one code, one message, no details: nothing depends on the owner's data
    for (const refusal of refusals) {
      expect(refusal).toEqual({ code: 'POLICY_REFUSED', message: REFUSAL, details: {} });
    }
  });

  it('withholds the coordinate only one owner trained, never decrypting it, and training still works', async () => {
    await east.joinTraining(eastTables[0]);
    const before = transport.releases.length;
    const report = await fed.client.train(SQL);
    expect(report.epsilon).toBeGreaterThan(0);
    expect(report.withheldPerRound).toEqual([[LONE], []]);
    const [round0] = transport.releases.slice(before);
    const k = report.model.features.indexOf(LONE);
    const d = report.model.features.length;
    // round 0 left it at its previous value (none yet: 0) ...
    expect(round0.model.weights.weights[k]).toBe(0);
    expect(round0.model.withheld).toEqual([LONE]);
    // ... and B never decrypted its numerator or denominator
    const aggregate = unpack(round0.aggregate);
    const all = new Set(decrypted.flat());
    // B did decrypt the released coordinates of that very aggregate
    expect(all.has(aggregate[0])).toBe(true);
    expect(all.has(aggregate[k])).toBe(false);
    expect(all.has(aggregate[d + 1 + k])).toBe(false);
    // round 1 is B's DP fit on the joined rows: every coordinate, that one included
    expect(report.model.weights[k]).not.toBe(0);
  });
});
