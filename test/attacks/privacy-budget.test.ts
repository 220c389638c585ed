// Attack 4 of issue 9: a client learning exact counts and differencing answers. While B's
// policy has DP on, every count and total that leaves B is noisy, and every answer is
// charged to the client's ledger for that set of tables, which B keeps on disk: past the
// cap B refuses, also after a restart. A refusal never carries a count: a group of 3 and
// a group of 7 below a minimum of 10 are refused identically. A tells the client nothing
// about the join: its reply has no count. DP is B's policy, not the query's choice.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJoinSecret } from '../../src/data/join-key.js';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { Client } from '../../src/roles/client.js';
import { DataOwner } from '../../src/roles/data-owner.js';
import { ROLES } from '../../src/roles/names.js';
import { ServerA } from '../../src/roles/server-a.js';
import { ServerB, type ServerBPolicy } from '../../src/roles/server-b.js';
import { rejection } from '../helpers/thrown.js';

const people = (name: string, ids: number[]) =>
  Table.fromRows(
    name,
    [
      { name: 'pid', type: 'integer' },
      { name: 'salary', type: 'integer' },
    ],
    ids.map((i): Cell[] => [BigInt(i), BigInt(40_000 + 10 * i)]),
  );
const STAFF = people(
  'staff',
  Array.from({ length: 30 }, (_, i) => i),
);
const SMALL = people('small', [0, 1, 2]);
const MEDIUM = people('medium', [0, 1, 2, 3, 4, 5, 6]);
const PRIVACY = { epsilonCap: 6, delta: 1e-6, aggregateEpsilon: 2, maxAborts: 10 };

let engine: Engine;
let keys: KeyPair;
let dir: string;
beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
  keys = await generateKeys(1024);
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-ledger-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every role in process, B with its state in `stateFile`, the tables registered and sent. */
async function deploy(policy: Partial<ServerBPolicy>, stateFile: string) {
  const transport = new InProcessTransport();
  const serverB = new ServerB({ engine, transport, keys, policy, stateFile });
  new ServerA({ engine, transport, publicKey: keys.publicKey });
  const joinSecret = generateJoinSecret();
  const owner = new DataOwner({ name: 'hr', engine, transport, publicKey: keys.publicKey, joinSecret });
  for (const table of [STAFF, SMALL, MEDIUM]) {
    await owner.shareTable(table, { joinKeys: [['pid']], bounds: { salary: 100_000 } });
  }
  return { client: new Client({ transport }), transport, serverB };
}

describe('a client probing counts and differencing answers', () => {
  it('gets a count-free refusal below the minimum group size, the same for 3 rows and 7', async () => {
    const { client } = await deploy({ minGroupSize: 10 }, join(dir, 'min.json'));
    const refusal = async (table: string) => {
      const e = await rejection(
        client.query(`SELECT COUNT(*), SUM(s.salary) FROM staff s JOIN ${table} t ON s.pid = t.pid`),
      );
      return { name: e.name, code: e.code, message: e.message, details: e.details };
    };
    const three = await refusal('small');
    expect(three).toEqual(await refusal('medium'));
    expect(three).toEqual({
      name: 'PolicyRefusedError',
      code: 'POLICY_REFUSED',
      message: 'server B refused the request',
      details: {},
    });
  });

  it("gets no count from A's reply", async () => {
    const { client, transport } = await deploy({ minGroupSize: 1 }, join(dir, 'a.json'));
    const replies: unknown[] = [];
    const request = transport.request.bind(transport);
    transport.request = async (from, to, message) => {
      const reply = await request(from, to, message);
      if (to === ROLES.serverA && message.type === 'query') replies.push(reply);
      return reply;
    };
    await client.query('SELECT COUNT(*) FROM staff s JOIN medium t ON s.pid = t.pid');
    expect(replies).toHaveLength(1);
    expect(Object.keys(replies[0] as object).sort()).toEqual(['queryId', 'timingsMs', 'type']);
  });

  it('gets only noisy counts while DP is on, and is refused past its budget, also after B restarts', async () => {
    const stateFile = join(dir, 'budget.json');
    // no minimum: every answer is released, so the test sees each noisy count
    const policy = { minGroupSize: 0, privacy: PRIVACY };
    const first = await deploy(policy, stateFile);
    const sql = 'SELECT COUNT(*), SUM(s.salary) FROM staff s JOIN medium t ON s.pid = t.pid';
    const counts: bigint[] = [];
    let refused: unknown;
    while (!refused && counts.length < 40) {
      await first.client.query(sql).then(
        (a) => counts.push(a.rowsJoined),
        (e: unknown) => {
          refused = e;
        },
      );
    }
    expect(refused).toMatchObject({ code: 'POLICY_REFUSED', details: {} });
    expect(counts.length).toBeGreaterThan(1);
    // sd ~ 3.9 on the count: the exact 7 every time would be a 1 in 10^n event
    expect(counts.some((c) => c !== 7n)).toBe(true);
    // B restarts (a new B on the same transport) with the same state file: still spent
    new ServerB({ engine, transport: first.transport, keys, policy, stateFile });
    await expect(first.client.query(sql)).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
    // the same client on other tables has a ledger of its own
    await expect(
      first.client.query('SELECT COUNT(*) FROM staff s JOIN small t ON s.pid = t.pid'),
    ).resolves.toBeDefined();
  });

  it('cannot train without DP while the policy has it on (told so: the policy is no secret)', async () => {
    const { client } = await deploy({ minGroupSize: 1, privacy: PRIVACY }, join(dir, 'train.json'));
    const training = client.train(
      'SELECT s.salary FROM staff s JOIN medium t ON s.pid = t.pid TRAIN LOGISTIC LABEL s.salary ROUNDS 1',
    );
    await expect(training).rejects.toMatchObject({
      code: 'UNSUPPORTED_QUERY',
      message: expect.stringMatching(/requires differential privacy/),
    });
  });
});
