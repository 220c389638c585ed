// The nested-loop join's ops (DESIGN §3.1, issue 11 item 1): 'joinTables' (per-row comb
// tables) and 'joinPairs' (a tile of indicators from them) in WASM against the BigInt
// reference on pinned tasks of ragged shapes at 1024 and 2048 bits, the worker pool against
// the calling thread byte for byte, rho drawn where the kernel runs, and the protocol
// property through the Engine: an indicator decrypts to zero exactly where the keys match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalKey, type KeyPart } from '../../src/data/join-key.js';
import { foldKey } from '../../src/data/nested-key.js';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { generateKeys, type KeyMaterial, type KeyPair, publicMaterial } from '../../src/engine/keys.js';
import { pack, unpack, wordsFor } from '../../src/engine/limbs.js';
import { modInverse, modPowBig } from '../../src/engine/modular.js';
import { PoolRunner } from '../../src/engine/pool.js';
import { drawBelow } from '../../src/engine/randomness.js';
import { JOIN_COMB, joinCombPositions, type KernelTask } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { BatchLengthError, CiphertextRangeError, InvalidArgumentError } from '../../src/errors.js';

let keys: KeyPair;
let key: KeyMaterial;
let key2048: KeyMaterial;
let local: WasmBackend;
let pool: PoolRunner;
let engine: Engine;

beforeAll(async () => {
  keys = await generateKeys(1024);
  key = publicMaterial(keys.publicKey);
  key2048 = publicMaterial((await generateKeys(2048)).publicKey);
  local = await WasmBackend.create();
  pool = new PoolRunner({ workers: 2 });
  engine = await createEngine({ workers: 0 });
});
afterAll(async () => {
  await pool.close();
  await engine.close();
});

/** A small seeded generator, so a failing case can be replayed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type TablesTask = Extract<KernelTask, { op: 'joinTables' }>;
type PairsTask = Extract<KernelTask, { op: 'joinPairs' }>;

/** A joinTables task over `count` ciphertexts of small plaintexts (some inverted, as right rows are). */
function tablesTask(k: KeyMaterial, count: number, seed: number): TablesTask {
  const rand = lcg(seed);
  const n2 = k.n * k.n;
  const cs = Array.from({ length: count }, (_, i) => {
    const c = (1n + BigInt(Math.floor(rand() * 4)) * k.n) * modPowBig(BigInt(2 + i), k.n, n2);
    return i % 2 === 0 ? c % n2 : modInverse(c % n2, n2);
  });
  return { op: 'joinTables', key: k, ...JOIN_COMB, count, input: pack(cs, wordsFor(n2)).data };
}

/**
 * A pinned joinPairs task: the tables of `rows` and `cols` ciphertexts (built by the
 * reference) and rho drawn once, with the extremes 1 and n - 1 in the first two places.
 */
function pairsTask(k: KeyMaterial, rows: number, cols: number, seed: number): PairsTask {
  const reference = new BigintBackend();
  const left = reference.run(tablesTask(k, rows, seed));
  const right = reference.run(tablesTask(k, cols, seed + 1));
  const rho = drawBelow(k.n, rows * cols);
  const extremes = pack([1n, k.n - 1n], rho.words).data;
  rho.data.set(extremes.subarray(0, Math.min(extremes.length, rho.data.length)));
  return {
    op: 'joinPairs',
    key: k,
    ...JOIN_COMB,
    count: rows,
    input: left,
    tile: right,
    cols,
    rand: rho.data,
    randWords: cols * rho.words,
  };
}

describe("the join ops 'joinTables' and 'joinPairs'", () => {
  it('joinTables equals the BigInt reference: canonical x^(2^p) mod n^2, x itself first (1024 and 2048 bits)', () => {
    for (const [k, count] of [
      [key, 5],
      [key, 0],
      [key2048, 2],
    ] as const) {
      const task = tablesTask(k, count, 3);
      const got = local.run(task);
      const n2Words = wordsFor(k.n * k.n);
      expect(got.length).toBe(count * JOIN_COMB.teeth * JOIN_COMB.blocks * n2Words);
      expect(got).toEqual(new BigintBackend().run(task));
      if (count > 0) expect(got.subarray(0, n2Words)).toEqual(task.input.subarray(0, n2Words));
    }
    // the positions of the 5 x 3 comb at a 2048-bit n (a = 410, b = 137)
    expect(joinCombPositions(5, 3, 64).slice(0, 6)).toEqual([0, 410, 820, 1230, 1640, 137]);
  });

  const shapes: [number, number][] = [
    [3, 5],
    [1, 1],
    [0, 4],
    [4, 0],
    [2, 3],
  ];
  for (const [rows, cols] of shapes) {
    it(`joinPairs equals the BigInt reference (x_i y_j)^rho_ij mod n^2, ${rows}x${cols}, 1024 bits`, () => {
      const task = pairsTask(key, rows, cols, rows * 10 + cols);
      const before = [task.input.slice(), task.tile.slice()];
      const got = local.run(task);
      expect(got.length).toBe(rows * cols * wordsFor(key.n * key.n));
      expect(got).toEqual(new BigintBackend().run(task));
      // the kernel reads its own copies, never the caller's arrays
      expect([task.input, task.tile]).toEqual(before);
    });
  }

  it('joinPairs equals the BigInt reference at 2048 bits', () => {
    const task = pairsTask(key2048, 2, 2, 41);
    expect(local.run(task)).toEqual(new BigintBackend().run(task));
  });

  it('a 2-worker pool returns the in-thread bytes', async () => {
    for (const [rows, cols] of [
      [7, 3],
      [1, 4],
      [9, 2],
      [0, 3],
    ]) {
      const task = pairsTask(key, rows, cols, 7 + rows);
      expect(await pool.run(task), `joinPairs ${rows}x${cols}`).toEqual(local.run(task));
    }
    const tables = tablesTask(key, 9, 5);
    expect(await pool.run(tables), 'joinTables x9').toEqual(local.run(tables));
  });

  it('draws rho where the kernel runs when the task pins none: fresh each call, zero exactly on equal keys', async () => {
    const { publicKey, privateKey } = keys;
    const n2 = key.n * key.n;
    const ms = [5n, 7n, 5n];
    // both sides encrypted apart: E(m) times its own inverse would be 1, whatever rho is
    const left = ms.map((m) => publicKey.encrypt(m));
    const rightInverse = ms.map((m) => modInverse(publicKey.encrypt(m), n2));
    const input = pack([...left, ...rightInverse], wordsFor(n2)).data;
    const tables = local.run({ op: 'joinTables', key, ...JOIN_COMB, count: 6, input });
    const half = tables.length / 2;
    const task: PairsTask = {
      op: 'joinPairs',
      key,
      ...JOIN_COMB,
      count: 3,
      input: tables.slice(0, half),
      tile: tables.slice(half),
      cols: 3,
      randWords: 3 * wordsFor(key.n),
    };
    const words = wordsFor(n2);
    for (const [label, run] of [
      ['in thread', () => local.run(task)],
      ['2-worker pool', () => pool.run(task)],
      ['BigInt reference', () => new BigintBackend().run(task)],
    ] as const) {
      const first = unpack({ words, count: 9, data: await run() });
      const second = unpack({ words, count: 9, data: await run() });
      expect(
        first.some((c, i) => c === second[i]),
        `${label}: rho is fresh`,
      ).toBe(false);
      expect(
        first.map((c) => privateKey.decrypt(c) === 0n),
        label,
      ).toEqual(ms.flatMap((a) => ms.map((b) => a === b)));
    }
  });

  it('runs the same operation sequence whatever rho is', () => {
    const k = local.kernels.exports;
    const task = pairsTask(key, 2, 2, 1);
    const trace = (rho: bigint[]) => {
      k.traceReset();
      local.run({ ...task, rand: pack(rho, wordsFor(key.n)).data });
      return [k.traceOps(), k.traceHashLow()];
    };
    const first = trace([1n, key.n - 1n, 2n, 3n]);
    expect(first[0]).toBeGreaterThan(0);
    expect(trace([(1n << 1000n) - 1n, 1n << 1000n, key.n - 2n, 1n])).toEqual(first);
  });

  it('refuses tables or rho that do not match the shape', () => {
    const task = pairsTask(key, 2, 3, 5);
    const bad: [string, PairsTask][] = [
      ['short tile', { ...task, tile: task.tile.subarray(0, 10) }],
      ['cols past the tile', { ...task, cols: 4 }],
      ['short input', { ...task, input: task.input.subarray(1) }],
      ['short rho', { ...task, rand: task.rand!.subarray(1) }],
      ['other geometry', { ...task, teeth: 4 }],
    ];
    for (const [label, t] of bad) {
      expect(() => local.run(t), label).toThrow(BatchLengthError);
      expect(() => new BigintBackend().run(t), label).toThrow(BatchLengthError);
    }
  });
});

describe('Engine.inverse and Engine.joinIndicators', () => {
  it('inverse gives E(-m), and c * c^-1 = 1 mod n^2', async () => {
    const { n } = keys.publicKey;
    const ms = [0n, 1n, 42n, n - 1n];
    const cs = await engine.encrypt(keys.publicKey, ms);
    const inv = await engine.inverse(keys.publicKey, cs);
    expect(inv.map((c, i) => (c * cs[i]) % (n * n))).toEqual(ms.map(() => 1n));
    expect(await engine.decrypt(keys.privateKey, inv)).toEqual(ms.map((m) => (n - m) % n));
    await expect(engine.inverse(keys.publicKey, [0n])).rejects.toThrow(CiphertextRangeError);
  });

  /** Checks zeroTest(joinIndicators(E(a), E(b)^-1)) against plain equality of whole rows. */
  async function checkProperty(e: Engine, pair: KeyPair, a: bigint[][], b: bigint[][]): Promise<void> {
    const { publicKey, privateKey } = pair;
    const encRows = async (rows: bigint[][]) => {
      const flat = await e.encrypt(publicKey, rows.flat());
      return rows.map((row, i) => flat.slice(i * row.length, (i + 1) * row.length));
    };
    const left = await encRows(a);
    const right = await encRows(b);
    const rightInverse = await Promise.all(right.map((row) => e.inverse(publicKey, row)));
    const indicators = await e.joinIndicators(publicKey, left, rightInverse);
    expect(indicators.length).toBe(a.length * b.length);
    const zero = await e.zeroTest(privateKey, indicators);
    const expected = a.flatMap((ra) => b.map((rb) => ra.every((x, c) => x === rb[c])));
    expect(zero).toEqual(expected);
    expect(expected).toContain(true);
    expect(expected).toContain(false);
  }

  /** rows x keyCols plaintext keys from a small alphabet (duplicates on both sides). */
  function keyRows(rows: number, keyCols: number, rand: () => number, alphabet: bigint[]): bigint[][] {
    return Array.from({ length: rows }, () =>
      Array.from({ length: keyCols }, () => alphabet[Math.floor(rand() * alphabet.length)]),
    );
  }

  it('indicators are zero exactly where every key column matches (1024 bits, 1-3 columns)', async () => {
    const rand = lcg(2024);
    const { n } = keys.publicKey;
    const alphabet = [0n, 1n, 2n, n - 1n];
    for (const [rows, cols, keyCols] of [
      [5, 6, 1],
      [4, 5, 2],
      [3, 4, 3],
    ]) {
      const a = keyRows(rows, keyCols, rand, alphabet.slice(0, keyCols === 1 ? 4 : 2));
      const b = keyRows(cols, keyCols, rand, alphabet.slice(0, keyCols === 1 ? 4 : 2));
      // pin a full match and, with several columns, a pair equal in all but the last column
      b[0] = [...a[0]];
      if (keyCols > 1) b[1] = [...a[0].slice(0, -1), a[0][keyCols - 1] === 0n ? 1n : 0n];
      await checkProperty(engine, keys, a, b);
    }
  });

  it('holds through a 2-worker pool engine, and rho is fresh on every call', async () => {
    const pooled = await createEngine({ workers: 2 });
    try {
      const a = [
        [1n, 2n],
        [3n, 4n],
        [1n, 2n],
        [5n, 6n],
        [3n, 4n],
      ];
      const b = [
        [1n, 2n],
        [3n, 5n],
        [3n, 4n],
      ];
      await checkProperty(pooled, keys, a, b);
      const left = [await pooled.encrypt(keys.publicKey, [7n])];
      const right = [await pooled.inverse(keys.publicKey, await pooled.encrypt(keys.publicKey, [7n]))];
      const [x] = await pooled.joinIndicators(keys.publicKey, left, right);
      const [y] = await pooled.joinIndicators(keys.publicKey, left, right);
      expect(x).not.toBe(y);
    } finally {
      await pooled.close();
    }
  });

  it('holds at 2048 bits', async () => {
    const big = await generateKeys(2048);
    const rand = lcg(11);
    const a = keyRows(3, 1, rand, [10n, 20n, 30n]);
    const b = keyRows(3, 1, rand, [10n, 20n, 30n]);
    b[0] = [...a[0]];
    b[1] = [a[0][0] + 1n];
    await checkProperty(engine, big, a, b);
  });

  it('indicators of folded keys are zero exactly where the canonical keys match (1-3 columns)', async () => {
    const { publicKey, privateKey } = keys;
    const secret = Buffer.alloc(32, 9);
    const n2Words = wordsFor(key.n * key.n);
    for (const [a, b] of [
      [
        [[7n], [-3n], [7n]],
        [[7n], [8n], [-3n]],
      ],
      [
        [
          [7n, 'Zürich'],
          [7n, ' Basel'],
          [-3n, 'x'],
        ],
        [
          [7n, 'Zu\u0308rich '],
          [7n, 'Basel '],
          [7n, 'x'],
          [-3n, 'x'],
        ],
      ],
      [
        [
          ['a', 1n, 'b'],
          ['ab', 1n, ''],
          ['a', 2n, 'b'],
        ],
        [
          ['a', 1n, 'b'],
          ['a', 1n, 'b '],
          ['a', 1n, 'c'],
        ],
      ],
    ] as KeyPart[][][][]) {
      const fold = (rows: KeyPart[][]) => rows.map((parts) => foldKey(parts, key.n, secret));
      const left = await engine.encrypt(publicKey, fold(a));
      const rightInverse = await engine.inverse(publicKey, await engine.encrypt(publicKey, fold(b)));
      const tables = await engine.joinTablesPacked(publicKey, pack([...left, ...rightInverse], n2Words));
      const half = a.length * tables.words;
      const indicators = await engine.joinPairsPacked(
        publicKey,
        { words: tables.words, count: a.length, data: tables.data.subarray(0, half) },
        { words: tables.words, count: b.length, data: tables.data.subarray(half) },
      );
      const expected = a.flatMap((x) => b.map((y) => canonicalKey(x) === canonicalKey(y)));
      expect(await engine.zeroTest(privateKey, unpack(indicators)), `${a[0].length} column(s)`).toEqual(
        expected,
      );
      expect(expected).toContain(true);
    }
  });

  it('validates rows before any work', async () => {
    const pk = keys.publicKey;
    const [c] = await engine.encrypt(pk, [1n]);
    expect(await engine.joinIndicators(pk, [], [[c]])).toEqual([]);
    expect(await engine.joinIndicators(pk, [[c, c]], [])).toEqual([]);
    await expect(engine.joinIndicators(pk, [[c, c], [c]], [[c, c]])).rejects.toThrow(BatchLengthError);
    await expect(engine.joinIndicators(pk, [[c]], [[c, c]])).rejects.toThrow(BatchLengthError);
    await expect(engine.joinIndicators(pk, [[]], [[c]])).rejects.toThrow(InvalidArgumentError);
    await expect(engine.joinIndicators(pk, [[c]], [[pk.n * pk.n]])).rejects.toThrow(/rightInverse\[0\]\[0\]/);
    await expect(engine.joinIndicators(pk, [[c]], [[pk.n]])).rejects.toThrow(CiphertextRangeError);
  });
});
