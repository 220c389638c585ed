// Packing in the protocol (DESIGN §2 "Packing", §1.1; issue 11 item 2): the fixed layout rules
// A and B share and the owner's cell bound they rest on; on the wire, a joined row in as many
// ciphertexts as its layouts, a query's totals in one, B's row bound counted in rows, and a
// tampered slot that decodes to a number while A sees only B's usual acknowledgement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELL_MAGNITUDE_BITS, encodeCell } from '../../src/data/cell-codec.js';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { generateKeys } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { EncodingOverflowError, PolicyRefusedError } from '../../src/errors.js';
import { contributionLayouts, packContribution, unpackContribution } from '../../src/fl/contribution.js';
import { GLOBAL_SCORE } from '../../src/fl/refine.js';
import {
  checkScoreScales,
  featureCiphertexts,
  featurePacking,
  SCORE_MAGNITUDE_BITS,
  totalLayouts,
} from '../../src/join/packing.js';
import type { FeatureSet } from '../../src/protocol/feature-set.js';
import type { ColumnMeta, Message } from '../../src/protocol/messages.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { runSqlite } from '../helpers/sqlite.js';
import { thrown } from '../helpers/thrown.js';

const decimal = (name: string): ColumnMeta => ({ name, type: 'decimal', fractionBits: 32 });

describe('the layout rules A and B share', () => {
  let n2048: bigint;
  beforeAll(async () => {
    n2048 = (await generateKeys(2048)).publicKey.n;
  });

  it('a row of 30 decimal features and a label fills one 2048-bit plaintext; the score takes a second', () => {
    const columns = [
      ...Array.from({ length: 30 }, (_, k) => decimal(`t.f${k}`)),
      { name: 't.label', type: 'integer' as const, fractionBits: 0 },
      decimal(GLOBAL_SCORE),
    ];
    const packing = featurePacking(n2048, columns);
    expect(packing.rowsPerBlock).toBe(1);
    expect(packing.layouts.map((l) => l.valueBits.length)).toEqual([31, 1]);
    expect(packing.layouts[0].widths.every((w) => w === CELL_MAGNITUDE_BITS + 1)).toBe(true);
    expect(packing.layouts[1].valueBits).toEqual([SCORE_MAGNITUDE_BITS]);
    expect(packing.cells[1]).toEqual([{ row: 0, column: 31 }]);
    expect(featureCiphertexts(packing, 5)).toBe(10);
  });

  it("the demo's row (12 features, label, score: 1006 bits) shares a 2048-bit plaintext with another", () => {
    const columns = [...Array.from({ length: 13 }, (_, k) => decimal(`t.f${k}`)), decimal(GLOBAL_SCORE)];
    const packing = featurePacking(n2048, columns);
    expect(packing.rowsPerBlock).toBe(2);
    expect(packing.layouts).toHaveLength(1);
    expect(packing.layouts[0].bits).toBe(2012);
    expect(packing.cells[0][14]).toEqual({ row: 1, column: 0 });
    // 5 rows: three blocks, the last one half empty
    expect(featureCiphertexts(packing, 5)).toBe(3);
  });

  it('a total of J cells gets 64 + bits(J) bits: ten totals of a 250-row join share one plaintext', () => {
    const [layout, ...rest] = totalLayouts(n2048, 10, 250);
    expect(rest).toEqual([]);
    expect(layout.valueBits).toEqual(new Array(10).fill(CELL_MAGNITUDE_BITS + 8));
    expect(totalLayouts(n2048, 0, 250)).toEqual([]);
  });

  it("B's contribution of 30 features packs in 3 plaintexts that sum over up to 1024 contributions", () => {
    const layouts = contributionLayouts(n2048, 30);
    expect(layouts).toHaveLength(3);
    expect(layouts.every((l) => l.terms === 1024 && l.headroomBits === 10)).toBe(true);
    // coordinates as plaintexts: negatives as n - |x|
    const a = Array.from({ length: 62 }, (_, i) =>
      i % 3 === 0 ? n2048 - (BigInt(i + 1) << 20n) : BigInt(i) << 40n,
    );
    const sum = packContribution(a, n2048).map((p, j) => p + packContribution(a, n2048)[j]);
    expect(unpackContribution(sum, n2048, 30, 2)).toEqual(a.map((x) => (2n * x) % n2048));
  });

  it('owners refuse a numeric cell past 64 bits of encoded magnitude, so no slot can carry', () => {
    const n = n2048;
    const integer = { type: 'integer' as const, fractionBits: 0 };
    const dec = { type: 'decimal' as const, fractionBits: 32 };
    expect(encodeCell((1n << 64n) - 1n, integer, n)).toBe((1n << 64n) - 1n);
    expect(encodeCell(-((1n << 64n) - 1n), integer, n)).toBe(n - ((1n << 64n) - 1n));
    expect(encodeCell(2 ** 32 - 0.5, dec, n)).toBe((1n << 64n) - (1n << 31n));
    for (const [value, encoding] of [
      [1n << 64n, integer],
      [-(2 ** 32), dec],
    ] as const) {
      const err = thrown(() => encodeCell(value, encoding, n));
      expect(err).toBeInstanceOf(EncodingOverflowError);
      expect(err.code).toBe('ENCODING_OVERFLOW');
      expect(err.details).toMatchObject({ bits: 65, valueBits: 64 });
    }
  });

  it("A refuses a global model whose scores could pass the score's slot", () => {
    checkScoreScales([1n << 94n, 1n << 94n]);
    const err = thrown(() => checkScoreScales([1n << 95n, 1n << 95n]));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.details).toMatchObject({ bits: 161, valueBits: 160 });
  });
});

/** Passes A's requests to B through `rewrite` and keeps B's replies to A's feature batches. */
class Interposer extends InProcessTransport {
  rewrite?: (message: Message) => Message;
  readonly featureReplies: Message[] = [];
  readonly featureCounts: number[] = [];
  /** B's feature set after each feature batch, copied (B frees it when the training ends) */
  readonly featureSets: FeatureSet[] = [];
  onFeatures?: (queryId: string) => FeatureSet | undefined;

  override async request(from: string, to: string, message: Message): Promise<Message> {
    const sent = from === ROLES.serverA && this.rewrite ? this.rewrite(message) : message;
    const reply = await super.request(from, to, sent);
    if (sent.type === 'feature-batch') {
      this.featureReplies.push(reply);
      this.featureCounts.push(sent.count);
      const set = this.onFeatures?.(sent.queryId);
      if (set) this.featureSets.push({ columns: set.columns, rows: set.rows.map((r) => [...r]) });
    }
    return reply;
  }
}

describe('packed batches on the wire', () => {
  // 16 features, the label and the score need two plaintexts a row under a 1024-bit key
  const xs = Array.from({ length: 13 }, (_, k) => `x${k}`);
  const patients = Table.fromRows(
    'patients',
    [
      { name: 'pid', type: 'integer' },
      { name: 'age', type: 'integer' },
      { name: 'score', type: 'decimal' },
      { name: 'flag', type: 'integer' },
      ...xs.map((name) => ({ name, type: 'decimal' as const })),
    ],
    Array.from({ length: 12 }, (_, i) => [
      BigInt(i),
      BigInt(30 + i),
      -1000.25 * i,
      BigInt(i % 2),
      ...xs.map((_, k) => ((i * 7 + k * 3) % 11) - 5.5),
    ]),
  );
  const visits = Table.fromRows(
    'visits',
    [
      { name: 'pid', type: 'integer' },
      { name: 'cost', type: 'decimal' },
    ],
    Array.from({ length: 10 }, (_, i) => [BigInt(i), 2500.5 * (i + 1) * (i % 3 === 0 ? -1 : 1)]),
  );
  const FEATURES = ['p.score', 'p.age', ...xs.map((x) => `p.${x}`), 'v.cost'];
  const TRAIN = `SELECT ${FEATURES.join(', ')} FROM patients p JOIN visits v ON p.pid = v.pid TRAIN LOGISTIC LABEL p.flag ROUNDS 2`;
  /** B's packing of this training's rows: 16 features and the label, then the score */
  const packing = () =>
    featurePacking(fed.publicKey.n, [
      ...Array.from({ length: 17 }, (_, k) => decimal(`c${k}`)),
      decimal(GLOBAL_SCORE),
    ]);
  let engine: Engine;
  let fed: Federation;
  let transport: Interposer;
  /** the reasons B logs for its refusals (they never reach A) */
  const refusals: string[] = [];

  beforeAll(async () => {
    engine = await createEngine({ workers: 0, encryption: 'djn' });
    transport = new Interposer(true);
    fed = await createFederation({
      engine,
      bits: 1024,
      transport,
      policy: { minGroupSize: 1 },
      log: (event, details) => {
        if (event === 'refused') refusals.push(String(details.reason));
      },
    });
    transport.onFeatures = (id) => fed.serverB.featureSets.get(id);
    for (const [name, table] of [
      ['clinic', patients],
      ['insurer', visits],
    ] as const) {
      const owner = fed.owner(name);
      await owner.shareTable(table, { joinKeys: [['pid']], joinModes: ['hashed'] });
      await owner.joinTraining(table);
      fed.coordinator.addOwner(name);
    }
  });
  afterAll(async () => engine.close());

  const fromA = (type: string) =>
    (fed.transport.views.get(ROLES.serverB) ?? []).filter(
      (e) => e.from === ROLES.serverA && e.message.type === type,
    );

  it("sends every total of a query in one ciphertext, and B's exact answer matches SQLite", async () => {
    const sql =
      'SELECT COUNT(*), SUM(p.age), AVG(v.cost), SUM(p.score), SUM(p.flag), AVG(p.score) FROM patients p JOIN visits v ON p.pid = v.pid';
    const before = fromA('aggregate-request').length;
    const answer = await fed.client.query(sql);
    const [request] = fromA('aggregate-request').slice(before);
    expect(request.message).toMatchObject({ count: 1 });
    const [row] = runSqlite([patients, visits], sql);
    answer.items.forEach((item, k) => {
      expect(Number(item.value)).toBeCloseTo(Number(row[k]), 6);
    });
  });

  it('sends each joined row as its layouts of packed ciphertexts, and B decodes the rows', async () => {
    const before = transport.featureCounts.length;
    await fed.client.train(TRAIN);
    const counts = transport.featureCounts.slice(before);
    // 10 joined rows, one batch, each row over two plaintexts
    expect(packing()).toMatchObject({ rowsPerBlock: 1, layouts: [{}, {}] });
    expect(counts).toEqual([20]);
    const [set] = transport.featureSets.slice(-1);
    const cost = set.columns.findIndex((c) => c.name === 'visits.cost');
    const costs = set.rows.map((r) => r[cost] as number).sort((a, b) => a - b);
    expect(costs).toEqual(
      visits
        .column('cost')
        .values.map(Number)
        .sort((a, b) => a - b),
    );
  });

  it('packs two small rows per plaintext, and B decodes exactly the rows sent', async () => {
    const before = transport.featureCounts.length;
    await fed.client.train(
      'SELECT p.score, v.cost FROM patients p JOIN visits v ON p.pid = v.pid TRAIN LOGISTIC LABEL p.flag ROUNDS 2',
    );
    // a 356-bit row: 2 rows per 1022-bit plaintext, 10 rows in 5
    expect(transport.featureCounts.slice(before)).toEqual([5]);
    const [set] = transport.featureSets.slice(-1);
    expect(set.rows).toHaveLength(10);
    const score = set.columns.findIndex((c) => c.name === 'patients.score');
    expect(set.rows.map((r) => r[score] as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => -1000.25 * (9 - i) || 0),
    );
  });

  it.each([
    ['one row more than the join has', 1, 2, /more feature rows than joined pairs/],
    ['a batch that is not the blocks of its rows', 0, 1, /not the blocks of its rows/],
    ['rows the ciphertexts do not hold', 1, 0, /not the blocks of its rows/],
  ])('B counts rows, not ciphertexts: %s is refused', async (_what, extraRows, extraCiphertexts, reason) => {
    const words = wordsFor(fed.publicKey.n ** 2n);
    transport.rewrite = (m) => {
      if (m.type !== 'feature-batch') return m;
      const count = m.count + extraCiphertexts;
      const data = new Uint32Array(count * words);
      data.set(m.data);
      data.set(m.data.subarray(0, extraCiphertexts * words), m.data.length);
      return { ...m, rowCount: m.rowCount + extraRows, count, data };
    };
    try {
      const error = await fed.client.train(TRAIN).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PolicyRefusedError);
      expect(error).toMatchObject({ code: 'POLICY_REFUSED', details: {} });
      expect(refusals.at(-1)).toMatch(reason);
    } finally {
      transport.rewrite = undefined;
    }
  });

  it('a tampered slot decodes to some number, and A gets the same acknowledgement as ever', async () => {
    const n = fed.publicKey.n;
    const words = wordsFor(n * n);
    // A replaces row 0's first packed ciphertext by an encryption of an arbitrary plaintext
    const [forged] = await engine.encrypt(fed.publicKey, [n - 12345678901234567890n]);
    transport.rewrite = (m) => {
      if (m.type !== 'feature-batch') return m;
      const data = m.data.slice();
      data.set(pack([forged], words).data, 0);
      return { ...m, data };
    };
    const before = transport.featureReplies.length;
    try {
      // B's check of A's global score against the decoded features catches the change later,
      // and refuses the coordinator, not A
      await fed.client.train(TRAIN).catch((e: unknown) => expect(e).toBeInstanceOf(PolicyRefusedError));
    } finally {
      transport.rewrite = undefined;
    }
    expect(transport.featureReplies.slice(before)).toEqual([{ type: 'ack' }]);
    const [set] = transport.featureSets.slice(-1);
    for (const row of set.rows) {
      for (const cell of row) expect(typeof cell === 'bigint' || Number.isFinite(cell)).toBe(true);
    }
  });
});
