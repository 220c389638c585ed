// The secure join end to end (issue 4): on random tables with duplicate keys on both
// sides, multi-column keys, and the bundled data split into two parties, both modes give
// exactly the rows and aggregates SQLite gives for the same SQL. Also the policy and
// protocol errors each role raises.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitBundled } from '../../src/data/bundled.js';
import { type Cell, type ColumnSchema, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { ecKeyOf, fingerprint, generateKeys } from '../../src/engine/keys.js';
import {
  InvalidKeyError,
  KeyMismatchError,
  PeerAuthError,
  PolicyRefusedError,
  QueryError,
} from '../../src/errors.js';
import { GLOBAL_SCORE } from '../../src/fl/refine.js';
import { parseTrainQuery } from '../../src/fl/train-query.js';
import { expectType } from '../../src/protocol/messages.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { Client, type JoinMode } from '../../src/roles/client.js';
import { DataOwner } from '../../src/roles/data-owner.js';
import { createFederation, type Federation, publishedKey } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { ServerA } from '../../src/roles/server-a.js';
import { ServerB } from '../../src/roles/server-b.js';
import { expectSqliteAnswer } from '../helpers/answers.js';
import { runSqlite } from '../helpers/sqlite.js';
import { lcg } from '../helpers/tables.js';

function randomTable(name: string, rows: number, seed: number, extra: ColumnSchema): Table {
  const rand = lcg(seed);
  const schema: ColumnSchema[] = [
    { name: 'k', type: 'integer' },
    { name: 'g', type: 'string' },
    { name: 'h', type: 'integer' },
    extra,
  ];
  const data: Cell[][] = Array.from({ length: rows }, (_, i) => [
    BigInt(Math.floor(rand() * 5) - 1), // keys in [-1, 3]: many duplicates on both sides
    ['x', 'y', 'zé'][Math.floor(rand() * 3)],
    BigInt(i % 2), // a third key column: 3 of the 6 pairs that match on (k, g) match on h too
    extra.type === 'decimal'
      ? Math.round((rand() * 200 - 100) * 1000) / 1000
      : BigInt(Math.floor(rand() * 1000)),
  ]);
  return Table.fromRows(name, schema, data);
}

let engine: Engine;
let fed: Federation;
const left = randomTable('lt', 9, 7, { name: 'x', type: 'decimal' });
const right = randomTable('rt', 8, 11, { name: 'y', type: 'integer' });

beforeAll(async () => {
  engine = await createEngine({ workers: 2, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 3 }, recordViews: true });
  const joinKeys = [['k'], ['k', 'g'], ['k', 'g', 'h']];
  await fed.owner('left-owner').shareTable(left, { joinKeys });
  await fed.owner('right-owner').shareTable(right, { joinKeys });
});
afterAll(async () => engine.close());

const modes: JoinMode[] = ['hashed', 'nested'];

describe.each(modes)('%s join equals SQLite', (mode) => {
  it('aggregates over a one-column key with duplicates on both sides', async () => {
    const sql = 'SELECT COUNT(*), SUM(a.x), AVG(b.y), SUM(b.y) FROM lt a JOIN rt b ON a.k = b.k';
    const answer = await fed.client.query(sql, { mode });
    const [row] = runSqlite([left, right], sql);
    expect(answer.rowsJoined).toBe(row[0]);
    expectSqliteAnswer(answer, row, 7);
  });

  it('aggregates over a two-column key', async () => {
    const sql = 'SELECT COUNT(*), SUM(b.y), AVG(a.x) FROM lt a JOIN rt b ON a.k = b.k AND a.g = b.g';
    expectSqliteAnswer(await fed.client.query(sql, { mode }), runSqlite([left, right], sql)[0], 7);
  });

  it('aggregates over a three-column key named in another order than declared', async () => {
    const sql =
      'SELECT COUNT(*), SUM(b.y), SUM(a.x) FROM lt a JOIN rt b ON b.h = a.h AND a.g = b.g AND a.k = b.k';
    const [row] = runSqlite([left, right], sql);
    expect(row[0]).toBe(3n);
    expectSqliteAnswer(await fed.client.query(sql, { mode }), row, 7);
  });
});

describe('bundled data, two parties with overlapping ids', () => {
  it('hashed mode on the full split and nested mode on a sample match SQLite', async () => {
    const { hospital, lab } = splitBundled({ overlap: 250 });
    // nested: a sample (10 x 10 rows, 4 ids in common) keeps 100 indicators
    const hospitalSample = hospital.takeRows([0, 1, 146, 147, 148, 149, 150, 151, 152, 153], 'hs');
    const labSample = lab.takeRows([0, 1, 2, 3, 300, 301, 302, 303, 304, 305], 'ls');
    const owner = fed.owner('hospital');
    const columns = ['id', 'mean_radius', 'malignant'];
    await owner.shareTable(hospital.project(columns), { joinKeys: [['id']] });
    await owner.shareTable(hospitalSample.project(columns), { joinKeys: [['id']] });
    const labColumns = ['id', 'worst_area'];
    await fed.owner('lab').shareTable(lab.project(labColumns), { joinKeys: [['id']] });
    await fed.owner('lab').shareTable(labSample.project(labColumns), { joinKeys: [['id']] });
    // A's idle workers make the largest hashed join's re-randomisers ahead of it (§3.2)
    const Y = ecKeyOf(fed.publicKey)!.publicKey;
    const largest = hospital.rowCount + lab.rowCount;
    for (let i = 0; i < 500 && engine.rerandomizerPoolSize(Y) < largest; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(engine.rerandomizerPoolSize(Y)).toBe(largest);
    const cases: [string, JoinMode, Table[]][] = [
      [
        'SELECT COUNT(*), AVG(h.mean_radius), SUM(l.worst_area) FROM hospital h JOIN lab l ON h.id = l.id',
        'hashed',
        [hospital, lab],
      ],
      [
        'SELECT COUNT(*), SUM(h.malignant) FROM hs h JOIN ls l ON h.id = l.id',
        'nested',
        [hospitalSample, labSample],
      ],
    ];
    for (const [sql, mode, tables] of cases) {
      expectSqliteAnswer(await fed.client.query(sql, { mode }), runSqlite(tables, sql)[0]);
    }
  });
});

describe('refusals and protocol errors', () => {
  it('refuses an aggregate over fewer rows than B allows, with nothing but the refusal', async () => {
    const tiny = Table.fromRows('tiny', [{ name: 'k', type: 'integer' }], [[3n]]);
    await fed.owner('tiny-owner').shareTable(tiny, { joinKeys: [['k']] });
    const error = await fed.client
      .query('SELECT COUNT(*) FROM tiny t JOIN rt b ON t.k = b.k', { mode: 'hashed' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyRefusedError);
    expect((error as PolicyRefusedError).code).toBe('POLICY_REFUSED');
    expect((error as PolicyRefusedError).details).toEqual({});
  });

  it('refuses an unsupported query, an unknown table, a missing hashed tag and a plain SELECT', async () => {
    const cases = [
      'SELECT COUNT(*) FROM lt a JOIN rt b ON a.k = b.k WHERE a.x > 1',
      'SELECT COUNT(*) FROM nowhere a JOIN rt b ON a.k = b.k',
      'SELECT COUNT(*) FROM lt a JOIN rt b ON a.g = b.g',
      'SELECT a.x, b.y FROM lt a JOIN rt b ON a.k = b.k',
    ];
    for (const sql of cases) {
      const error = await fed.client.query(sql, { mode: 'hashed' }).catch((e: unknown) => e);
      expect(error, sql).toBeInstanceOf(QueryError);
      expect((error as QueryError).code).toBe('UNSUPPORTED_QUERY');
    }
  });

  it('with a key from before the EC key (a version 1 key file), B joins nested only: hashed is refused, saying why', async () => {
    const transport = new InProcessTransport();
    const { publicKey: paillier, privateKey } = await generateKeys(1024);
    const serverB = new ServerB({
      engine,
      transport,
      keys: { publicKey: paillier, privateKey },
      policy: { minGroupSize: 1 },
    });
    const published = serverB.publicKeyMessage();
    expect(published.ec).toBeNull();
    const publicKey = publishedKey(published);
    new ServerA({ engine, transport, publicKey });
    const client = new Client({ transport });
    const owner = (name: string) =>
      new DataOwner({ name, engine, transport, publicKey, joinSecret: Buffer.alloc(32, 1) });
    const tagged = await owner('l')
      .shareTable(left, { joinKeys: [['k']] })
      .catch((e: unknown) => e);
    expect(tagged).toBeInstanceOf(InvalidKeyError);
    expect((tagged as InvalidKeyError).code).toBe('INVALID_KEY');
    await owner('l').shareTable(left, { joinKeys: [['k']], joinModes: ['nested'] });
    await owner('r').shareTable(right, { joinKeys: [['k']], joinModes: ['nested'] });
    const sql = 'SELECT COUNT(*), SUM(b.y) FROM lt a JOIN rt b ON a.k = b.k';
    const hashed = await client.query(sql, { mode: 'hashed' }).catch((e: unknown) => e);
    expect(hashed).toBeInstanceOf(QueryError);
    expect((hashed as QueryError).message).toMatch(/keygen --rotate/);
    expectSqliteAnswer(await client.query(sql, { mode: 'nested' }), runSqlite([left, right], sql)[0]);
  });

  it('rejects a table under another key, and a message B never accepts', async () => {
    const other = await createFederation({ engine, bits: 1024 });
    const wrongKey = await other.owner('o').encryptTable(left, {});
    const e1 = await fed.transport
      .request(ROLES.owner('o'), ROLES.serverA, wrongKey)
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(KeyMismatchError);
    expect((e1 as KeyMismatchError).code).toBe('KEY_MISMATCH');
    const fp = fingerprint(fed.publicKey.n);
    const e2 = await fed.transport
      .request(ROLES.client, ROLES.serverB, { type: 'public-key', n: 3n, g: 4n, fingerprint: fp, ec: null })
      .catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(PeerAuthError);
  });
});

describe('feature extraction for a training', () => {
  // the tables spelled in another case than registered, as a client may write them
  const { query: plan, label } = parseTrainQuery(
    'SELECT A.X, b.y FROM LT a JOIN Rt b ON a.k = b.k TRAIN LOGISTIC LABEL b.y ROUNDS 2',
  );
  // as the coordinator asks: every selected column but the label
  const features = plan.select.flatMap((s) =>
    s.kind === 'column' && !(s.table === label.table && s.column === label.column) ? [s] : [],
  );
  const joinedRows = runSqlite([left, right], 'SELECT a.x, b.y FROM lt a JOIN rt b ON a.k = b.k');

  /** B's feature set of A's extraction for a training submitted as `trainingId`, warm-started at `weight`. */
  async function extract(trainingId: string, weight: number) {
    await fed.transport.request(ROLES.client, ROLES.serverB, {
      type: 'query-submit',
      queryId: trainingId,
      mode: 'hashed',
      plan,
      training: { label, rounds: 2, dp: null, topK: null },
    });
    const ready = await fed.transport.request(ROLES.coordinator, ROLES.serverA, {
      type: 'extract-features',
      trainingId,
      mode: 'hashed',
      plan,
      label,
      features,
      global: { weights: [weight], bias: 0 },
      standardization: { mean: [0], std: [1] },
    });
    expect(expectType(ready, 'features-ready').featureSetId).toBe(trainingId);
    return fed.serverB.featureSets.get(trainingId)!;
  }

  it('finds each feature on its own side when the query spells a table in another case than registered', async () => {
    // the bug: A took a feature's side from the client's spelling of its table, so LT.X was
    // looked up in rt (and would have gone to B under a name B never authorized)
    const set = await extract('case-training', 0);
    expect(set.columns.map((c) => c.name)).toEqual(['lt.x', 'rt.y', GLOBAL_SCORE]);
    // the joined rows' x of lt and y of rt: decimals to the fixed point's precision
    const rows = (pairs: unknown[][]) => pairs.map(([x, y]) => `${Number(x).toFixed(6)} ${y}`).sort();
    expect(rows(set.rows)).toEqual(rows(joinedRows));
  });

  it.each([0, 0.75, -0.75])('scores each joined row with the warm-start weight %d', async (weight) => {
    const set = await extract(`score-training-${weight}`, weight);
    expect(set.rows).toHaveLength(joinedRows.length);
    for (const [x, , score] of set.rows)
      expect(Math.abs(Number(score) - weight * Number(x))).toBeLessThan(1e-9);
  });
});
