// The hashed join's leakage contract (DESIGN §3.2, issue 10 item 6), on the roles' recorded
// views: B's values of one run (the blinded tags it receives and the points it decrypts)
// share no value and no group-law difference with another run's, nor any value with A's
// stored tables or the owners' T; A gets no answer for a row whose key is in one table
// only, and such a row leaves its result unchanged. Keys repeat within and across tables.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalKey } from '../../src/data/join-key.js';
import { type Cell, Table } from '../../src/data/table.js';
import { hashToGroupBatch } from '../../src/ec/hash-to-group.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { KeyPair } from '../../src/engine/keys.js';
import { unpack } from '../../src/engine/limbs.js';
import type { Pair } from '../../src/join/pairs.js';
import { type Message, type MessageOf, NO_GROUP } from '../../src/protocol/messages.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { hex, ref } from '../helpers/ristretto-reference.js';

const table = (name: string, keys: number[]) =>
  Table.fromRows(
    name,
    [
      { name: 'k', type: 'integer' },
      { name: 'v', type: 'integer' },
    ],
    keys.map((k, i): Cell[] => [BigInt(k), BigInt(1000 + i)]),
  );
// keys 1, 2, 3 in both tables (with duplicates); 5, 5, 6 only left; 4, 4, 7 only right
const LEFT_KEYS = [1, 1, 2, 3, 3, 5, 5, 6];
const RIGHT_KEYS = [1, 2, 2, 4, 4, 7, 3];
// the left table again, plus rows whose keys 8, 8, 9 no right row has
const WIDER_KEYS = [...LEFT_KEYS, 8, 8, 9];
const SQL = 'SELECT COUNT(*), SUM(l.v) FROM lt l JOIN rt r ON l.k = r.k';

let engine: Engine;
let fed: Federation;
/** A's join result (its pairs) per run, seen by wrapping ServerA.join. */
const pairsOfRuns: Pair[][] = [];

interface RunView {
  toB: Message[];
  toA: Message[];
  pairs: Pair[];
}
let runs: RunView[];

async function run(sql: string): Promise<RunView> {
  const b0 = fed.transport.views.get(ROLES.serverB)?.length ?? 0;
  const a0 = fed.transport.views.get(ROLES.serverA)?.length ?? 0;
  await fed.client.query(sql, { mode: 'hashed' });
  return {
    toB: fed.transport.views
      .get(ROLES.serverB)!
      .slice(b0)
      .map((e) => e.message),
    toA: fed.transport.views
      .get(ROLES.serverA)!
      .slice(a0)
      .map((e) => e.message),
    pairs: pairsOfRuns.at(-1)!,
  };
}

beforeAll(async () => {
  engine = await createEngine({ workers: 0 });
  fed = await createFederation({ engine, bits: 1024, recordViews: true, policy: { minGroupSize: 1 } });
  await fed.owner('left').shareTable(table('lt', LEFT_KEYS), { joinKeys: [['k']] });
  await fed.owner('left').shareTable(table('wt', WIDER_KEYS), { joinKeys: [['k']] });
  await fed.owner('right').shareTable(table('rt', RIGHT_KEYS), { joinKeys: [['k']] });
  const join = fed.serverA.join.bind(fed.serverA);
  vi.spyOn(fed.serverA, 'join').mockImplementation((queryId, mode, plan, timings, then) =>
    join(queryId, mode, plan, timings, async (joined) => {
      pairsOfRuns.push(joined.pairs);
      await then(joined);
    }),
  );
  runs = [await run(SQL), await run(SQL), await run(SQL.replace('lt l', 'wt l'))];
});
afterAll(async () => {
  vi.restoreAllMocks();
  await engine.close();
});

/** The 32-byte encodings in a packed tag batch: R and C of each tag. */
function points(data: Uint32Array): string[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: data.length / 8 }, (_, i) => bytes.toString('hex', i * 32, (i + 1) * 32));
}

const tagBatches = (view: RunView) =>
  view.toB.filter((m): m is MessageOf<'tag-batch'> => m.type === 'tag-batch');

/** What B decrypts, C - xR per tag in the order received, by @noble/curves with B's x. */
function decrypted(view: RunView): string[] {
  const x = (fed.serverB as unknown as { options: { keys: KeyPair } }).options.keys.ec!.secretKey;
  return tagBatches(view).flatMap((m) => {
    const encodings = points(m.data).map((p) => Uint8Array.from(Buffer.from(p, 'hex')));
    return Array.from({ length: m.count }, (_, i) =>
      hex(ref.sub(encodings[2 * i + 1], ref.mul(x, encodings[2 * i]))),
    );
  });
}

/** Every value B holds in a run: the points it received and the points it decrypted. */
const bValues = (view: RunView) => [...tagBatches(view).flatMap((m) => points(m.data)), ...decrypted(view)];

/** P - Q for every two distinct points (the identity, from equal points, is in every run alike). */
function differences(values: readonly string[]): Set<string> {
  const distinct = [...new Set(values)].map((p) => Uint8Array.from(Buffer.from(p, 'hex')));
  const out = new Set<string>();
  for (const p of distinct) for (const q of distinct) if (p !== q) out.add(hex(ref.sub(p, q)));
  return out;
}

/** The answers A got in a run: the tag-groups reply, left rows first. */
const reply = (view: RunView) =>
  view.toA.find((m): m is MessageOf<'tag-groups'> => m.type === 'tag-groups')!.groups;

describe('server B, across runs of the same query', () => {
  it('holds no value of one run in another, and no difference of two of its points', () => {
    const [first, second] = runs.slice(0, 2).map(bValues);
    expect(first).toHaveLength(3 * (LEFT_KEYS.length + RIGHT_KEYS.length));
    // within a run equal keys decrypt to equal points: the check below is not vacuous
    expect(new Set(decrypted(runs[0])).size).toBe(new Set([...LEFT_KEYS, ...RIGHT_KEYS]).size);
    const seen = new Set(first);
    expect(second.filter((v) => seen.has(v))).toEqual([]);
    const firstDiffs = differences(first);
    expect(firstDiffs.size).toBeGreaterThan(1000);
    expect([...differences(second)].filter((d) => firstDiffs.has(d))).toEqual([]);
  });

  it("holds no point of A's stored tables, no stored ciphertext, and never an owner's T", () => {
    const stored = fed.transport.views
      .get(ROLES.serverA)!
      .map((e) => e.message)
      .filter((m): m is MessageOf<'encrypted-table'> => m.type === 'encrypted-table');
    const storedPoints = new Set(stored.flatMap((m) => m.tags.flatMap((t) => points(t.data))));
    const storedCiphertexts = new Set(
      stored.flatMap((m) =>
        m.columnData.flatMap((data) => unpack({ words: m.words, count: m.rowCount, data })),
      ),
    );
    const secret = (fed.owner('left') as unknown as { options: { joinSecret: Uint8Array } }).options
      .joinSecret;
    const keys = [...new Set([...WIDER_KEYS, ...RIGHT_KEYS])].map((k) => canonicalKey([BigInt(k)]));
    const ts = new Set(points(new Uint32Array(hashToGroupBatch(keys, secret).buffer)));
    expect(storedPoints.size).toBe(2 * (LEFT_KEYS.length + WIDER_KEYS.length + RIGHT_KEYS.length));
    for (const view of runs) {
      for (const v of bValues(view)) {
        expect(storedPoints.has(v), 'a stored tag point').toBe(false);
        expect(ts.has(v), "an owner's T").toBe(false);
      }
      for (const m of view.toB) {
        if (m.type === 'tag-batch' || !('data' in m)) continue;
        for (const c of unpack({ words: m.words, count: m.count, data: m.data })) {
          expect(storedCiphertexts.has(c), `${m.type} carries a stored ciphertext`).toBe(false);
        }
      }
    }
  });
});

describe('server A', () => {
  it('gets no answer for a row whose key is in one table only', () => {
    const matched = (keys: number[], other: number[]) => keys.filter((k) => other.includes(k)).length;
    for (const view of runs.slice(0, 2)) {
      const groups = reply(view);
      const left = [...groups.subarray(0, LEFT_KEYS.length)].filter((g) => g !== NO_GROUP);
      const right = [...groups.subarray(LEFT_KEYS.length)].filter((g) => g !== NO_GROUP);
      // 5, 5, 6 and 4, 4, 7 get NO_GROUP: nothing tells A that the two 5s (or 4s) are equal
      expect(left).toHaveLength(matched(LEFT_KEYS, RIGHT_KEYS));
      expect(right).toHaveLength(matched(RIGHT_KEYS, LEFT_KEYS));
      expect(new Set(left)).toEqual(new Set(right));
    }
  });

  it('gets the same result whether or not a table holds rows whose keys the other lacks', () => {
    const [narrow, , wide] = runs;
    expect(wide.pairs).toEqual(narrow.pairs);
    expect(narrow.pairs).toHaveLength(2 + 2 + 2);
    // the answers differ only by one NO_GROUP per added row, a count A knows anyway
    const shape = (view: RunView) => {
      const groups = [...reply(view)];
      const sizes = new Map<number, number>();
      for (const g of groups) if (g !== NO_GROUP) sizes.set(g, (sizes.get(g) ?? 0) + 1);
      return { none: groups.filter((g) => g === NO_GROUP).length, sizes: [...sizes.values()].sort() };
    };
    expect(shape(wide)).toEqual({ ...shape(narrow), none: shape(narrow).none + 3 });
  });
});
