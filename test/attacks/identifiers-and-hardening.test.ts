// Attacks 5 and 6 of issue 9. Identifiers: join keys and the columns an owner marks as
// identifiers are never aggregated, never features, so B never decrypts them, even when an
// owner encrypted them as values. Hardening: the nested join's tiles are cut from rows in
// a secret order (a tile is no run of the owner's rows, so per-tile match counts say
// nothing about row positions); only the client that submitted a query, or A for its own
// run, may close it at B.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { PackedBatch } from '../../src/engine/limbs.js';
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
    // a 512-bit key keeps the 26 x 40 indicators quick: two tiles of 25 and 1 left rows
    const small = await createFederation({ engine, bits: 512, policy: { minGroupSize: 1 } });
    const left = PATIENTS.takeRows(Array.from({ length: 26 }, (_, i) => i));
    const stored = await small
      .owner('clinic')
      .shareTable(left, { joinKeys: [['pid']], joinModes: ['nested'] });
    await small.owner('insurer').shareTable(VISITS, { joinKeys: [['pid']], joinModes: ['nested'] });
    const tiles: PackedBatch[] = [];
    const real = engine.joinIndicatorsPacked.bind(engine);
    engine.joinIndicatorsPacked = async (key, rows, right, keyCols, options) => {
      tiles.push(rows);
      return real(key, rows, right, keyCols, options);
    };
    try {
      await small.client.query('SELECT COUNT(*) FROM patients p JOIN visits v ON p.pid = v.pid', {
        mode: 'nested',
      });
    } finally {
      engine.joinIndicatorsPacked = real;
    }
    expect(tiles.map((t) => t.count)).toEqual([25, 1]);
    // which stored rows the first tile holds, by their ciphertexts
    const keys = stored.nestedKeys[0].data;
    const w = stored.words;
    const rowOf = (k: number) => {
      const value = tiles[0].data.subarray(k * w, (k + 1) * w);
      for (let r = 0; r < left.rowCount; r++) {
        if (keys.subarray(r * w, (r + 1) * w).every((x, j) => x === value[j])) return r;
      }
      return -1;
    };
    const rows = Array.from({ length: 25 }, (_, k) => rowOf(k));
    expect(rows.every((r) => r >= 0)).toBe(true);
    // in order, rows 0..24 are the unshuffled tile; as a set, 1 in 26 shuffles would give it
    expect(rows).not.toEqual(Array.from({ length: 25 }, (_, i) => i));
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
