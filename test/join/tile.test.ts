// The nested-loop join's tile kernel (DESIGN §3.1, issue 4 item 1): the WASM kernel
// against the BigInt reference on pinned tasks of ragged shapes and 1-3 key columns, the
// worker pool against the calling thread byte for byte, and the protocol property
// through the Engine: an indicator decrypts to zero exactly where every key column of the
// two rows is equal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { generateKeys, type KeyMaterial, type KeyPair, publicMaterial } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { modInverse } from '../../src/engine/modular.js';
import { PoolRunner } from '../../src/engine/pool.js';
import { drawBelow } from '../../src/engine/randomness.js';
import type { KernelTask } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { BatchLengthError, CiphertextRangeError, InvalidArgumentError } from '../../src/errors.js';

let keys: KeyPair;
let key: KeyMaterial;
let local: WasmBackend;
let pool: PoolRunner;
let engine: Engine;

beforeAll(async () => {
  keys = await generateKeys(1024);
  key = publicMaterial(keys.publicKey);
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

/**
 * A pinned joinTile task: rows x keyCols left ciphertexts, cols x keyCols right inverses,
 * rho drawn once (with the extremes 1 and n - 1 in the first two places when present).
 */
function joinTask(rows: number, cols: number, keyCols: number, seed: number): KernelTask {
  const rand = lcg(seed);
  const n2 = key.n * key.n;
  const n2Words = wordsFor(n2);
  const plain = () => BigInt(Math.floor(rand() * 4));
  const left = Array.from({ length: rows * keyCols }, () => keys.publicKey.encrypt(plain()));
  const rightInv = Array.from({ length: cols * keyCols }, () =>
    modInverse(keys.publicKey.encrypt(plain()), n2),
  );
  const rho = drawBelow(key.n, rows * cols * keyCols);
  const rhoValues = pack([1n, key.n - 1n], rho.words).data;
  rho.data.set(rhoValues.subarray(0, Math.min(rhoValues.length, rho.data.length)));
  return {
    op: 'joinTile',
    key,
    count: rows,
    input: pack(left, n2Words).data,
    tile: pack(rightInv, n2Words).data,
    cols,
    keyCols,
    rand: rho.data,
    randWords: cols * keyCols * rho.words,
  };
}

describe('joinTile kernel', () => {
  const shapes: [number, number, number][] = [
    [3, 5, 1],
    [1, 1, 1],
    [0, 4, 1],
    [2, 3, 2],
    [3, 2, 3],
    [4, 0, 2],
  ];
  for (const [rows, cols, keyCols] of shapes) {
    it(`WASM equals the BigInt reference, ${rows}x${cols}, ${keyCols} key column(s)`, () => {
      const task = joinTask(rows, cols, keyCols, rows * 100 + cols * 10 + keyCols);
      const before = [task.input.slice(), (task as { tile: Uint32Array }).tile.slice()];
      const got = local.run(task);
      expect(got.length).toBe(rows * cols * wordsFor(key.n * key.n));
      expect(got).toEqual(new BigintBackend().run(task));
      // the kernel converts its own copies in place, never the caller's arrays
      expect([task.input, (task as { tile: Uint32Array }).tile]).toEqual(before);
    });
  }

  it('a 2-worker pool returns the in-thread bytes', async () => {
    for (const [rows, cols, keyCols] of [
      [7, 3, 2],
      [1, 4, 1],
      [9, 2, 1],
      [0, 3, 1],
    ]) {
      const task = joinTask(rows, cols, keyCols, 7 + rows);
      expect(await pool.run(task), `${rows}x${cols}x${keyCols}`).toEqual(local.run(task));
    }
  });

  it('runs the same operation sequence whatever rho and the plaintexts are', () => {
    const k = local.kernels.exports;
    const trace = (seed: number) => {
      const task = joinTask(2, 2, 2, seed);
      k.traceReset();
      local.run(task);
      return [k.traceOps(), k.traceHashLow()];
    };
    const first = trace(1);
    expect(first[0]).toBeGreaterThan(0);
    expect(trace(2)).toEqual(first);
  });

  it('refuses a tile whose shape does not match cols x keyCols', () => {
    const task = joinTask(2, 3, 1, 5) as Extract<KernelTask, { op: 'joinTile' }>;
    expect(() => local.run({ ...task, tile: task.tile.subarray(0, 10) })).toThrow(BatchLengthError);
    expect(() => local.run({ ...task, cols: 4 })).toThrow(BatchLengthError);
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
