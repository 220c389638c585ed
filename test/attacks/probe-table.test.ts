// Attack 2 of issue 9: a client isolating one person with a table of its own. The client
// encrypts ten copies of the target's id under B's public key and uploads them to A as a
// table, or as another owner's partition, then asks for SUM(salary) over a nested join
// with it: a group of ten that passes a minimum group size of ten, worth ten times the
// target's salary. A stores tables only from an owner's certificate, under that owner's
// own name, and B answers only over registered tables, so the upload is refused and the
// query never runs; a deviating owner cannot add rows to another owner's table either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { fingerprint } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import type { MessageOf } from '../../src/protocol/messages.js';
import { ROLES } from '../../src/roles/names.js';
import { DEPLOYMENTS, type Deployment } from '../helpers/deployments.js';
import { runSqlite } from '../helpers/sqlite.js';

const TARGET = 3n;
const PATIENTS = Table.fromRows(
  'patients',
  [
    { name: 'pid', type: 'integer' },
    { name: 'salary', type: 'integer' },
  ],
  Array.from({ length: 12 }, (_, i): Cell[] => [BigInt(i), BigInt(50_000 + 1_111 * i)]),
);
const VISITS = Table.fromRows(
  'visits',
  [{ name: 'pid', type: 'integer' }],
  Array.from({ length: 12 }, (_, i): Cell[] => [BigInt(i)]),
);
const PROBE_SQL = 'SELECT COUNT(*), SUM(p.salary) FROM patients p JOIN probe x ON p.pid = x.pid';
const HONEST_SQL = 'SELECT COUNT(*), SUM(p.salary) FROM patients p JOIN visits v ON p.pid = v.pid';

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
});
afterAll(async () => engine?.close());

/** Ten rows of E(target id) as a nested-mode join key: the table a client would upload. */
async function probeTable(
  d: Deployment,
  table: string,
  owner: string,
): Promise<MessageOf<'encrypted-table'>> {
  const n = d.publicKey.n;
  const words = wordsFor(n * n);
  const keys = await engine.encrypt(d.publicKey, new Array(10).fill(TARGET));
  return {
    type: 'encrypted-table',
    table,
    owner,
    fingerprint: fingerprint(n),
    rowCount: 10,
    words,
    columns: [],
    columnData: [],
    tags: [],
    nestedKeys: [{ columns: ['pid'], data: pack(keys, words).data }],
    keyColumns: [{ name: 'pid', type: 'integer' }],
    coOwners: [],
  };
}

describe.each(DEPLOYMENTS)('a probe table (%s)', (_kind, deploy) => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ engine, owners: ['clinic', 'insurer'], policy: { minGroupSize: 10 } });
    await d.owner('clinic').shareTable(PATIENTS, { joinKeys: [['pid']] });
    await d.owner('insurer').shareTable(VISITS, { joinKeys: [['pid']] });
  });
  afterAll(async () => d?.close());

  it("cannot be uploaded by the client, under any owner's name, so the isolating query never answers", async () => {
    const client = d.as(ROLES.client);
    for (const owner of ['mallory', 'clinic']) {
      const upload = await client
        .request(ROLES.serverA, await probeTable(d, 'probe', owner))
        .catch((e: unknown) => e);
      expect(upload, `upload as ${owner}`).toMatchObject({ code: 'PEER_AUTH' });
    }
    const answer = await d.client.query(PROBE_SQL, { mode: 'nested' }).catch((e: unknown) => e);
    const tenTimes = 10n * (PATIENTS.column('salary').values[Number(TARGET)] as bigint);
    expect(JSON.stringify(answer, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(
      tenTimes.toString(),
    );
    expect(answer).toMatchObject({ code: 'UNSUPPORTED_QUERY' });
  });

  it("cannot be slipped in by another owner as a partition of the owner's table, or under its name", async () => {
    const insurer = d.as(ROLES.owner('insurer'));
    const asPartition = await insurer
      .request(ROLES.serverA, await probeTable(d, 'patients', 'insurer'))
      .catch((e: unknown) => e);
    expect(asPartition).toMatchObject({ code: 'PEER_AUTH' });
    const asClinic = await insurer
      .request(ROLES.serverA, await probeTable(d, 'patients', 'clinic'))
      .catch((e: unknown) => e);
    expect(asClinic).toMatchObject({ code: 'PEER_AUTH' });
  });

  it('leaves the honest query its SQLite answer', async () => {
    const [row] = runSqlite([PATIENTS, VISITS], HONEST_SQL);
    expect((await d.client.query(HONEST_SQL, { mode: 'nested' })).items.map((i) => i.value)).toEqual(row);
  });
});
