// Server A's table store (issue 14 item 3): partitions of one table from several owners
// are joined over their concatenation, and a refused partition changes nothing: the
// error names the sender, and every other partition and query keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { MalformedMessageError } from '../../src/errors.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { valuesOf } from '../helpers/answers.js';

let engine: Engine;
let fed: Federation;

const people = (rows: [bigint, bigint][], extra = false) =>
  Table.fromRows(
    'people',
    [
      { name: 'id', type: 'integer' },
      { name: 'salary', type: 'integer' },
      ...(extra ? [{ name: 'bonus', type: 'integer' as const }] : []),
    ],
    rows.map(([id, salary]): Cell[] => (extra ? [id, salary, 1n] : [id, salary])),
  );
const visits = Table.fromRows(
  'visits',
  [{ name: 'id', type: 'integer' }],
  Array.from({ length: 6 }, (_, i): Cell[] => [BigInt(i)]),
);
const east = people([
  [0n, 10n],
  [1n, 20n],
  [2n, 30n],
]);
const west = people([
  [3n, 40n],
  [4n, 50n],
  [5n, 60n],
]);
const SQL = 'SELECT COUNT(*), SUM(p.salary) FROM people p JOIN visits v ON p.id = v.id';
const EAST = { joinKeys: [['id']], coOwners: ['west'] };
const WEST = { joinKeys: [['id']], coOwners: ['east'] };

beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 1 } });
  await fed.owner('clinic').shareTable(visits, { joinKeys: [['id']] });
});
afterAll(async () => engine.close());

describe('a table split across owners', () => {
  it('joins over every partition', async () => {
    await fed.owner('east').shareTable(east, EAST);
    await fed.owner('west').shareTable(west, WEST);
    const answer = await fed.client.query(SQL);
    expect(valuesOf(answer)).toEqual({ 'COUNT(*)': 6n, 'SUM(p.salary)': 210n });
  });

  it('refuses a partition of another schema at A, names its sender, and changes nothing', async () => {
    const west = fed.owner('west');
    const bad = await west.encryptTable(people([[3n, 40n]], true), WEST);
    const error = await fed.transport
      .request(ROLES.owner('west'), ROLES.serverA, bad)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as Error).message).toMatch(/partition from west/);
    // the table is as it was before the refusal
    expect(valuesOf(await fed.client.query(SQL))).toEqual({ 'COUNT(*)': 6n, 'SUM(p.salary)': 210n });
    // and another owner's valid, unchanged partition is still accepted
    await fed.owner('east').shareTable(east, EAST);
    expect(valuesOf(await fed.client.query(SQL))).toEqual({ 'COUNT(*)': 6n, 'SUM(p.salary)': 210n });
  });

  it('refuses the registration of a partition of another schema at B, naming its sender', async () => {
    const shared = fed.owner('west').shareTable(people([[3n, 40n]], true), WEST);
    await expect(shared).rejects.toBeInstanceOf(MalformedMessageError);
    await expect(shared).rejects.toThrow(/from west/);
    expect(valuesOf(await fed.client.query(SQL))).toEqual({ 'COUNT(*)': 6n, 'SUM(p.salary)': 210n });
  });

  it("refuses a partition from an owner the table's first owner did not name, at A and at B", async () => {
    const mallory = fed.owner('mallory');
    const probe = people([[3n, 1_000_000n]]);
    const atB = mallory.shareTable(probe, { joinKeys: [['id']], coOwners: ['east', 'west'] });
    await expect(atB).rejects.toMatchObject({ code: 'PEER_AUTH' });
    const atA = await fed.transport
      .request(
        ROLES.owner('mallory'),
        ROLES.serverA,
        await mallory.encryptTable(probe, { joinKeys: [['id']] }),
      )
      .catch((e: unknown) => e);
    expect(atA).toMatchObject({ code: 'PEER_AUTH' });
    expect(valuesOf(await fed.client.query(SQL))).toEqual({ 'COUNT(*)': 6n, 'SUM(p.salary)': 210n });
  });
});
