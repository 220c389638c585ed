// The views (DESIGN §1, issue 4 item 5): every message each role received in real runs
// of both join modes, checked against what the role may see. B never receives a table's
// data or join-key ciphertext, nor a row identity; A never receives a plaintext cell or
// the private key; the batches B answers are shuffled, differently on every run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCell, encodingFor } from '../../src/data/cell-codec.js';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { privateMaterial } from '../../src/engine/keys.js';
import { unpack } from '../../src/engine/limbs.js';
import type { Message } from '../../src/protocol/messages.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';

let engine: Engine;
let fed: Federation;
const left = Table.fromRows(
  'patients',
  [
    { name: 'pid', type: 'integer' },
    { name: 'age', type: 'integer' },
    { name: 'score', type: 'decimal' },
    { name: 'city', type: 'string' },
    { name: 'flag', type: 'integer' },
  ],
  Array.from({ length: 8 }, (_, i) => [
    BigInt(100_000 + (i % 5)),
    BigInt(70_000 + i),
    1000.5 + i,
    `city-${i}`,
    BigInt(i % 2),
  ]),
);
const right = Table.fromRows(
  'visits',
  [
    { name: 'pid', type: 'integer' },
    { name: 'cost', type: 'decimal' },
  ],
  Array.from({ length: 7 }, (_, i) => [BigInt(100_000 + (i % 4)), 2500.25 * (i + 1)]),
);

beforeAll(async () => {
  engine = await createEngine({ workers: 2, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, recordViews: true, policy: { minGroupSize: 1 } });
  for (const [name, table] of [
    ['clinic', left],
    ['insurer', right],
  ] as const) {
    const owner = fed.owner(name);
    await owner.shareTable(table, { joinKeys: [['pid']] });
    await owner.joinTraining(table);
    fed.coordinator.addOwner(name);
  }
  for (const mode of ['hashed', 'nested'] as const) {
    await fed.client.query(
      'SELECT COUNT(*), SUM(p.age), AVG(v.cost) FROM patients p JOIN visits v ON p.pid = v.pid',
      { mode },
    );
    // the joined rows reach B only as a training's features
    await fed.client.train(
      'SELECT p.score, v.cost FROM patients p JOIN visits v ON p.pid = v.pid TRAIN LOGISTIC LABEL p.flag ROUNDS 2',
      { mode },
    );
  }
});
afterAll(async () => engine.close());

function view(role: string): Message[] {
  return (fed.transport.views.get(role) ?? []).map((entry) => entry.message);
}

/** Every bigint in a message, with packed batches read at their own word stride. */
function values(message: Message): bigint[] {
  const out: bigint[] = [];
  const words = 'words' in message ? message.words : 1;
  const walk = (value: unknown): void => {
    if (typeof value === 'bigint') out.push(value);
    else if (value instanceof Uint32Array) {
      const stride = value.length % words === 0 ? words : 1;
      out.push(...unpack({ words: stride, count: value.length / stride, data: value }));
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(message);
  return out;
}

function fieldNames(value: unknown, names = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) fieldNames(v, names);
  else if (value && typeof value === 'object' && !(value instanceof Uint32Array)) {
    for (const [k, v] of Object.entries(value)) {
      names.add(k);
      fieldNames(v, names);
    }
  }
  return names;
}

describe('server B', () => {
  it('receives only protocol batches from A, none holding a table ciphertext', () => {
    const tableCiphertexts = new Set(
      view(ROLES.serverA)
        .filter((m) => m.type === 'encrypted-table')
        .flatMap(values),
    );
    expect(tableCiphertexts.size).toBeGreaterThan(50);
    const messages = fed.transport.views.get(ROLES.serverB)!;
    expect(messages.length).toBeGreaterThan(8);
    const fromA = new Set<string>();
    for (const { from, message } of messages) {
      if (from === ROLES.serverA) fromA.add(message.type);
      for (const c of values(message))
        expect(tableCiphertexts.has(c), `${message.type} from ${from} carries a table ciphertext`).toBe(
          false,
        );
    }
    // A's batches: the join, the totals and a training's re-randomised feature rows
    expect(fromA).toEqual(
      new Set([
        'query-open',
        'indicator-batch',
        'tag-batch',
        'feature-batch',
        'aggregate-request',
        'query-close',
      ]),
    );
  });

  it('never receives a row identity', () => {
    for (const message of view(ROLES.serverB)) {
      const names = [...fieldNames(message)];
      expect(
        names.filter((n) => /^(row|rows|rowId|rowIds|index|indices|pairs|pid)$/i.test(n)),
        message.type,
      ).toEqual([]);
    }
  });
});

describe('server A', () => {
  it('never receives a plaintext cell or any part of the private key', () => {
    const n = fed.publicKey.n;
    const secret = privateMaterial(
      (fed.serverB as unknown as { options: { keys: { privateKey: never } } }).options.keys.privateKey,
    );
    const forbidden = new Set<bigint>([secret.p!, secret.q!, (secret.p! - 1n) * (secret.q! - 1n)]);
    for (const table of [left, right]) {
      for (const column of table.columns) {
        for (const v of column.values) {
          const encoded = encodeCell(v, encodingFor(column.type), n);
          // small integers (bits, group numbers) are not distinguishing: the cells here are all >= 1000
          if (encoded > 1000n) forbidden.add(encoded);
        }
      }
    }
    const messages = view(ROLES.serverA);
    expect(new Set(messages.map((m) => m.type))).toEqual(
      new Set(['encrypted-table', 'ack', 'query', 'extract-features', 'indicator-bits', 'tag-groups']),
    );
    for (const message of messages) {
      for (const x of values(message))
        expect(forbidden.has(x), `${message.type} carries a plaintext`).toBe(false);
    }
  });
});

describe('shuffling', () => {
  it('gives B the indicator and tag batches in a different order on every run', async () => {
    const sql = 'SELECT COUNT(*) FROM patients p JOIN visits v ON p.pid = v.pid';
    const replies = async (mode: 'hashed' | 'nested', type: 'indicator-bits' | 'tag-groups') => {
      const before = view(ROLES.serverA).length;
      await fed.client.query(sql, { mode });
      const reply = view(ROLES.serverA)
        .slice(before)
        .find((m) => m.type === type) as { bits?: Uint32Array; groups?: Uint32Array };
      return Array.from(reply.bits ?? reply.groups ?? []);
    };
    const nested = [await replies('nested', 'indicator-bits'), await replies('nested', 'indicator-bits')];
    expect(nested[0].filter((b) => b === 1).length).toBeGreaterThan(2);
    expect(nested[0]).not.toEqual(nested[1]);
    const hashed = [await replies('hashed', 'tag-groups'), await replies('hashed', 'tag-groups')];
    expect(hashed[0]).not.toEqual(hashed[1]);
  });
});
