// Attack 1 of issue 9: server A using B as a decryption oracle. A deviating A sends
// well-formed messages of its own making through the real message path (in-process and
// over HTTPS with mTLS): it opens a query no client submitted and asks B to group a
// stored join tag with its guess (issue 10: EC tags; a Paillier-shaped tag batch no
// longer parses); it stretches a submitted query past what the registered sizes allow, or
// slips in a point that is no valid encoding. Every attempt ends in the same opaque
// refusal whatever the secret is, and honest queries still get SQLite's answers afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cell, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { ecKeyOf, fingerprint } from '../../src/engine/keys.js';
import { wordsFor } from '../../src/engine/limbs.js';
import { type Message, type MessageOf, TAG_WORDS } from '../../src/protocol/messages.js';
import { ROLES } from '../../src/roles/names.js';
import { DEPLOYMENTS, type Deployment } from '../helpers/deployments.js';
import { runSqlite } from '../helpers/sqlite.js';

const PATIENTS = Table.fromRows(
  'patients',
  [
    { name: 'pid', type: 'integer' },
    { name: 'salary', type: 'integer' },
  ],
  Array.from({ length: 6 }, (_, i): Cell[] => [BigInt(i), BigInt(123_456_789_012 + 1000 * i)]),
);
const VISITS = Table.fromRows(
  'visits',
  [
    { name: 'pid', type: 'integer' },
    { name: 'cost', type: 'integer' },
  ],
  Array.from({ length: 5 }, (_, i): Cell[] => [BigInt(i % 4), BigInt(10 * i)]),
);
const SQL = 'SELECT COUNT(*), SUM(p.salary), SUM(v.cost) FROM patients p JOIN visits v ON p.pid = v.pid';

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 0, encryption: 'djn' });
});
afterAll(async () => engine?.close());

/** What a caller observes of a request (its own query id aside): the reply, or the error's class, code, message and details. */
async function outcome(send: () => Promise<Message>): Promise<unknown> {
  try {
    const { queryId: _id, ...reply } = (await send()) as Message & { queryId?: string };
    return { reply: JSON.parse(JSON.stringify(reply, (_k, v) => (v instanceof Uint32Array ? [...v] : v))) };
  } catch (err) {
    const e = err as { name: string; code: string; message: string; details: unknown };
    return { error: e.name, code: e.code, message: e.message, details: e.details };
  }
}

describe.each(DEPLOYMENTS)('server A probing server B (%s)', (_kind, deploy) => {
  let d: Deployment;
  let patients: MessageOf<'encrypted-table'>;
  let visits: MessageOf<'encrypted-table'>;

  /** The client's query while A rewrites its messages to B with `rewrite`: B's one opaque refusal. */
  async function expectRefusedUnder(rewrite: (message: Message) => Message, mode: 'hashed' | 'nested') {
    d.rewrite = rewrite;
    try {
      const error = await d.client.query(SQL, { mode }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'POLICY_REFUSED',
        message: 'server B refused the request',
        details: {},
      });
    } finally {
      d.rewrite = undefined;
    }
  }

  /** Twice the batch's words, as count x 2: a second look at every row or pair. */
  const doubled = <M extends { count: number; data: Uint32Array }>(message: M): M => {
    const data = new Uint32Array(2 * message.data.length);
    data.set(message.data);
    data.set(message.data, message.data.length);
    return { ...message, count: 2 * message.count, data };
  };

  beforeAll(async () => {
    d = await deploy({ engine, owners: ['clinic', 'insurer'], policy: { minGroupSize: 2 } });
    patients = await d.owner('clinic').shareTable(PATIENTS, { joinKeys: [['pid']] });
    visits = await d.owner('insurer').shareTable(VISITS, { joinKeys: [['pid']] });
  });
  afterAll(async () => d?.close());

  it('cannot open a query no client submitted: grouping a stored tag with a guess is refused alike for a right and a wrong guess', async () => {
    const fp = fingerprint(d.publicKey.n);
    const ecFp = ecKeyOf(d.publicKey)!.fingerprint;
    // A's guess: the stored tag of a visits row, to be grouped with patients row 0 (pid 0)
    const tagOf = (message: MessageOf<'encrypted-table'>, row: number) =>
      message.tags[0].data.slice(row * TAG_WORDS, (row + 1) * TAG_WORDS);
    const a = d.as(ROLES.serverA);
    const probe = async (visitsRow: number) => {
      const queryId = `probe-${visitsRow}`;
      const batch = (seq: number, side: 0 | 1, data: Uint32Array): MessageOf<'tag-batch'> => ({
        type: 'tag-batch',
        queryId,
        seq,
        side,
        fingerprint: ecFp,
        count: 1,
        words: TAG_WORDS,
        data,
      });
      return [
        await outcome(() =>
          a.request(ROLES.serverB, { type: 'query-open', queryId, mode: 'hashed', fingerprint: fp }),
        ),
        await outcome(() => a.request(ROLES.serverB, batch(0, 0, tagOf(patients, 0)))),
        await outcome(() => a.request(ROLES.serverB, batch(1, 1, tagOf(visits, visitsRow)))),
      ];
    };
    const right = await probe(4); // visits row 4 has pid 0
    const wrong = await probe(1); // visits row 1 has pid 1
    // nothing A observes depends on the secret ...
    expect(right).toEqual(wrong);
    // ... because B refuses every step, opaquely
    for (const step of right) {
      expect(step).toEqual({
        error: 'PolicyRefusedError',
        code: 'POLICY_REFUSED',
        message: 'server B refused the request',
        details: {},
      });
    }
    // the Paillier-shaped tag batch of the old protocol does not even parse: EC tags only
    const words = wordsFor(d.publicKey.n * d.publicKey.n);
    const paillierShaped = {
      type: 'tag-batch',
      queryId: 'probe-paillier',
      seq: 0,
      side: 0,
      fingerprint: fp,
      count: 2,
      words,
      data: new Uint32Array(2 * words).fill(1),
    } as unknown as Message;
    expect(await outcome(() => a.request(ROLES.serverB, paillierShaped))).toMatchObject({
      error: 'MalformedMessageError',
      code: 'MALFORMED_MESSAGE',
    });
    const [row] = runSqlite([PATIENTS, VISITS], SQL);
    expect((await d.client.query(SQL)).items.map((i) => i.value)).toEqual(row);
  });

  it('cannot stretch a hashed run past the registered sizes, nor slip in a point that is no canonical encoding', async () => {
    // every left tag twice: more tags than the table has rows
    const stretch = (message: Message): Message =>
      message.type === 'tag-batch' && message.side === 0 ? doubled(message) : message;
    const corrupt = (message: Message): Message => {
      if (message.type !== 'tag-batch' || message.side !== 1) return message;
      const data = message.data.slice();
      data.fill(0xffffffff, 8, 16); // C of the first tag: 2^256 - 1 encodes no point
      return { ...message, data };
    };
    for (const rewrite of [stretch, corrupt]) await expectRefusedUnder(rewrite, 'hashed');
    const [row] = runSqlite([PATIENTS, VISITS], SQL);
    expect((await d.client.query(SQL, { mode: 'hashed' })).items.map((i) => i.value)).toEqual(row);
  });

  it('cannot stretch a submitted query past the registered sizes: extra indicators are refused and abort the query', async () => {
    // twice the indicators the tables have pairs for: a second look at every pair
    await expectRefusedUnder(
      (message) => (message.type === 'indicator-batch' ? doubled(message) : message),
      'nested',
    );
    const [row] = runSqlite([PATIENTS, VISITS], SQL);
    expect((await d.client.query(SQL, { mode: 'nested' })).items.map((i) => i.value)).toEqual(row);
  });

  it('cannot replay a finished query: a new run of an answered query is refused', async () => {
    let queryId = '';
    d.rewrite = (message) => {
      if (message.type === 'query-open') queryId = message.queryId;
      return message;
    };
    try {
      await d.client.query(SQL);
    } finally {
      d.rewrite = undefined;
    }
    const fp = fingerprint(d.publicKey.n);
    const again = await outcome(() =>
      d
        .as(ROLES.serverA)
        .request(ROLES.serverB, { type: 'query-open', queryId, mode: 'hashed', fingerprint: fp }),
    );
    expect(again).toMatchObject({ code: 'POLICY_REFUSED', details: {} });
  });
});
