// Engine.sumRows (src/engine/aggregate.ts): the coordinate-wise homomorphic sum of a
// row-major batch, for odd and even row counts and no rows at all, on both backends and at
// 2048 bits; its input is checked once, like any public op's, and a row count that is not a
// multiple of the width is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { pack, unpack, wordsFor } from '../../src/engine/limbs.js';
import { BatchLengthError, CiphertextRangeError } from '../../src/errors.js';
import { rejection } from '../helpers/thrown.js';

let engines: Engine[];
let keys: KeyPair;
beforeAll(async () => {
  engines = [await createEngine({ workers: 2 }), await createEngine({ backend: 'bigint' })];
  keys = await generateKeys(1024);
});
afterAll(async () => {
  for (const e of engines) await e.close();
});

/** Rows of `width` signed values, encrypted (negatives as n - |x|), and their column sums. */
async function rows(engine: Engine, pair: KeyPair, count: number, width: number) {
  const n = pair.publicKey.n;
  const values = Array.from({ length: count * width }, (_, i) => BigInt((i * 7919) % 1000) - 400n);
  const cs = await engine.encryptPacked(
    pair.publicKey,
    pack(
      values.map((v) => (v < 0n ? n + v : v)),
      wordsFor(n),
    ),
  );
  const sums = Array.from({ length: width }, (_, c) =>
    values.filter((_, i) => i % width === c).reduce((a, b) => a + b, 0n),
  );
  return { cs, sums };
}

const signed = (m: bigint, n: bigint) => (m > n / 2n ? m - n : m);

describe('Engine.sumRows', () => {
  it('sums each coordinate over 0, 1, 2, 5 and 8 rows, on both backends', async () => {
    for (const engine of engines) {
      for (const count of [0, 1, 2, 5, 8]) {
        const { cs, sums } = await rows(engine, keys, count, 3);
        const total = await engine.sumRows(keys.publicKey, cs, 3);
        expect(total.count, `${engine.backend} x${count}`).toBe(3);
        const plain = unpack(await engine.decryptPacked(keys.privateKey, total));
        expect(
          plain.map((m) => signed(m, keys.publicKey.n)),
          `${engine.backend} x${count}`,
        ).toEqual(sums);
      }
    }
  });

  it('holds at 2048 bits', async () => {
    const pair = await generateKeys(2048);
    const { cs, sums } = await rows(engines[0], pair, 7, 2);
    const total = await engines[0].sumRows(pair.publicKey, cs, 2);
    const got = unpack(await engines[0].decryptPacked(pair.privateKey, total));
    expect(got.map((m) => signed(m, pair.publicKey.n))).toEqual(sums);
  });

  it('refuses a ciphertext out of range, naming it, and a batch that is not whole rows', async () => {
    const [engine] = engines;
    const { cs } = await rows(engine, keys, 4, 3);
    const bad = { ...cs, data: cs.data.slice() };
    bad.data.fill(0, 5 * cs.words, 6 * cs.words);
    const error = await rejection(() => engine.sumRows(keys.publicKey, bad, 3));
    expect(error).toBeInstanceOf(CiphertextRangeError);
    expect(error.details).toMatchObject({ index: 5 });
    expect(await rejection(() => engine.sumRows(keys.publicKey, cs, 5))).toBeInstanceOf(BatchLengthError);
  });
});
