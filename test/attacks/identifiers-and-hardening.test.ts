// Attacks 5 and 6 of issue 9. Identifiers: join keys and the columns an owner marks as
// identifiers are never aggregated, never features, so B never decrypts them, even when an
// owner encrypted them as values. Hardening: the nested join's tiles are cut from both
// tables' rows in a secret order (a tile is no run of the owner's rows, so per-tile match
// counts say nothing about row positions); only the client that submitted a query, or A
// for its own run, may close it at B.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { type PackedBatch, unpack } from '../../src/engine/limbs.js';
import { modInverse } from '../../src/engine/modular.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';

const PATIENTS = Table.fromRows(
  'patients',
  [
    { name: 'pid', type: 'integer' },
    { name: 'ssn', type: 'integer' },
    { name: 'salary', type: 'integer' },
  ],
  Array.from({ length: 40 }, (_, i): Cell[] => [BigInt(i), BigInt(900_000_000 + i), BigInt(1000 * i)]),
);
const VISITS = Table.fromRows(
  'visits',
  [
    { name: 'pid', type: 'integer' },
    { name: 'cost', type: 'integer' },
  ],
  Array.from({ length: 40 }, (_, i): Cell[] => [BigInt((i * 7) % 40), BigInt(i)]),
);

let engine: Engine;
let fed: Federation;
beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 1 } });
  // the clinic encrypts its identifiers as values too: B must still never decode them
  await fed.owner('clinic').shareTable(PATIENTS, {
    joinKeys: [['pid']],
    identifiers: ['ssn'],
    columns: ['pid', 'ssn', 'salary'],
  });
  await fed.owner('insurer').shareTable(VISITS, { joinKeys: [['pid']] });
});
afterAll(async () => engine?.close());

describe('identifiers', () => {
  it.each([
    ['SELECT SUM(p.ssn) FROM patients p JOIN visits v ON p.pid = v.pid', /p(atients)?\.ssn is an identifier/],
    ['SELECT AVG(p.pid) FROM patients p JOIN visits v ON p.pid = v.pid', /p(atients)?\.pid is a join key/],
  ])('%s is refused before anything is decrypted', async (sql, message) => {
    const decrypted: number[] = [];
    const real = engine.decryptPacked.bind(engine);
    engine.decryptPacked = async (key, batch, options) => {
      decrypted.push(batch.count);
      return real(key, batch, options);
    };
    try {
      await expect(fed.client.query(sql)).rejects.toMatchObject({
        code: 'UNSUPPORTED_QUERY',
        message: expect.stringMatching(message),
      });
    } finally {
      engine.decryptPacked = real;
    }
    expect(decrypted).toEqual([]);
  });

  it('an identifier is no feature or label of a training either', async () => {
    const training = fed.client.train(
      'SELECT p.ssn, v.cost FROM patients p JOIN visits v ON p.pid = v.pid TRAIN LOGISTIC LABEL p.salary ROUNDS 1',
    );
    await expect(training).rejects.toMatchObject({ code: 'UNSUPPORTED_QUERY' });
  });
});

describe('hardening', () => {
  it("cuts the nested join's tiles from rows in a secret order", async () => {
    // a 512-bit key keeps the 26 x 40 indicators quick: two tiles of 26 left x 20 right rows
    const small = await createFederation({ engine, bits: 512, policy: { minGroupSize: 1 } });
    const left = PATIENTS.takeRows(Array.from({ length: 26 }, (_, i) => i));
    const share = { joinKeys: [['pid']], joinModes: ['nested' as const] };
    const stored = await small.owner('clinic').shareTable(left, share);
    const storedRight = await small.owner('insurer').shareTable(VISITS, share);
    const tiles: { left: PackedBatch; right: PackedBatch }[] = [];
    const real = engine.joinPairsPacked.bind(engine);
    engine.joinPairsPacked = async (key, leftTables, rightTables, options) => {
      tiles.push({ left: leftTables, right: rightTables });
      return real(key, leftTables, rightTables, options);
    };
    try {
      await small.client.query('SELECT COUNT(*) FROM patients p JOIN visits v ON p.pid = v.pid', {
        mode: 'nested',
      });
    } finally {
      engine.joinPairsPacked = real;
    }
    expect(tiles.map((t) => [t.left.count, t.right.count])).toEqual([
      [26, 20],
      [26, 20],
    ]);
    // which stored rows a tile holds: value 0 of a row table is the row's own ciphertext,
    // E(a) on the left and E(b)^-1 on the right
    const w = stored.words;
    const n2 = small.publicKey.n * small.publicKey.n;
    const ciphertexts = (data: Uint32Array, count: number) =>
      unpack({ words: w, count, data }).map((c) => c.toString());
    const leftRows = ciphertexts(stored.nestedKeys[0].data, left.rowCount);
    const rightRows = ciphertexts(storedRight.nestedKeys[0].data, VISITS.rowCount);
    const rowsOf = (tables: PackedBatch, known: string[], invert: boolean) =>
      Array.from({ length: tables.count }, (_, k) => {
        const c = unpack({
          words: w,
          count: 1,
          data: tables.data.subarray(k * tables.words, k * tables.words + w),
        })[0];
        return known.indexOf((invert ? modInverse(c, n2) : c).toString());
      });
    const rows = rowsOf(tiles[0].left, leftRows, false);
    expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    // in order, rows 0..25 are the unshuffled table: 1 in 26! shuffles would give it
    expect(rows).not.toEqual(Array.from({ length: 26 }, (_, i) => i));
    const cols = tiles.map((t) => rowsOf(t.right, rightRows, true));
    expect([...cols[0], ...cols[1]].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // as a set, 1 in C(40, 20) shuffles would put visits 0..19 in the first tile
    expect([...cols[0]].sort((a, b) => a - b)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('lets only the submitting client close its query at B', async () => {
    const plan = {
      tables: [
        { name: 'patients', alias: 'p' },
        { name: 'visits', alias: 'v' },
      ] as [{ name: string; alias: string }, { name: string; alias: string }],
      joinKeys: [{ left: { table: 'patients', column: 'pid' }, right: { table: 'visits', column: 'pid' } }],
      select: [{ kind: 'count' as const }],
    };
    await fed.transport.request(ROLES.client, ROLES.serverB, {
      type: 'query-submit',
      queryId: 'q-close',
      mode: 'hashed',
      plan,
      training: null,
    });
    for (const intruder of ['client:eve', ROLES.coordinator, ROLES.owner('clinic')]) {
      const closed = await fed.transport
        .request(intruder, ROLES.serverB, { type: 'query-close', queryId: 'q-close' })
        .catch((e: unknown) => e);
      expect(closed, intruder).toMatchObject({ code: 'PEER_AUTH' });
    }
    await expect(
      fed.transport.request(ROLES.client, ROLES.serverB, { type: 'query-close', queryId: 'q-close' }),
    ).resolves.toEqual({ type: 'ack' });
  });
});
