// The limb codec (src/engine/limbs.ts): bigint <-> little-endian u32 words at a fixed
// stride, the one layout shared with assembly/limbs.ts; the packed randomness drawn in
// that layout (randomness.ts); and values crossing into WASM and back unchanged.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bitLength,
  LIMB_BITS,
  pack,
  readWords,
  toWords,
  unpack,
  wordsFor,
  wordsForBits,
  writeWords,
} from '../../src/engine/limbs.js';
import { drawBelow, drawBits } from '../../src/engine/randomness.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { bigIntIn, edgeValues } from '../helpers/arbitraries.js';
import { modPowTask, runTask } from '../helpers/tasks.js';

describe('limb codec', () => {
  it('uses 32-bit limbs, word 0 least significant', () => {
    expect(LIMB_BITS).toBe(32);
    expect([...toWords(0x00000001_00000002n)]).toEqual([2, 1]);
    expect([...toWords(0xffffffff_00000000_ffffffffn)]).toEqual([0xffffffff, 0, 0xffffffff]);
    expect([...toWords(5n, 3)]).toEqual([5, 0, 0]);
  });

  it('counts words and bits at limb boundaries', () => {
    const cases: [bigint, number, number][] = [
      [0n, 0, 1],
      [1n, 1, 1],
      [0xffffffffn, 32, 1],
      [1n << 32n, 33, 2],
      [(1n << 64n) - 1n, 64, 2],
      [1n << 64n, 65, 3],
      [(1n << 8192n) - 1n, 8192, 256],
    ];
    for (const [x, bitsWant, wordsWant] of cases) {
      expect(bitLength(x), `bitLength of a ${bitsWant}-bit value`).toBe(bitsWant);
      expect(wordsFor(x), `wordsFor of a ${bitsWant}-bit value`).toBe(wordsWant);
    }
    expect(wordsForBits(0)).toBe(1);
    expect(wordsForBits(33)).toBe(2);
  });

  it('packRoundTrips: unpack(pack(xs, w)) = xs at every stride 1..9 and 64, 256 words', () => {
    const strides = [1, 2, 3, 4, 5, 8, 9, 64, 256];
    for (const words of strides) {
      const max = (1n << BigInt(32 * words)) - 1n;
      fc.assert(
        fc.property(fc.array(bigIntIn(0n, max), { maxLength: 6 }), (xs) => {
          const batch = pack(xs, words);
          expect(batch.data.length, `stride ${words}: packed words`).toBe(xs.length * words);
          expect(unpack(batch), `stride ${words}`).toEqual(xs);
        }),
        { numRuns: words >= 64 ? 20 : 60 },
      );
    }
  });

  it('readWords reads a value at an offset inside a batch', () => {
    const xs = [0xffffffffn, 0n, (1n << 95n) + 7n];
    const batch = pack(xs, 3);
    for (let i = 0; i < xs.length; i++) expect(readWords(batch.data, i * 3, 3), `value ${i}`).toBe(xs[i]);
  });

  it('reads and writes through a view that starts inside its buffer, leaving the rest alone, and reads 0 words as 0', () => {
    const whole = new Uint32Array(12).fill(0xdeadbeef);
    const view = whole.subarray(3, 9);
    writeWords(view, 2, 3, (1n << 95n) + 7n);
    expect(readWords(view, 2, 3)).toBe((1n << 95n) + 7n);
    expect(readWords(whole, 5, 3)).toBe((1n << 95n) + 7n);
    expect([...whole.subarray(0, 5), ...whole.subarray(8)]).toEqual(new Array(9).fill(0xdeadbeef));
    expect(readWords(view, 0, 0)).toBe(0n);
    expect(() => writeWords(view, 0, 1, -1n)).toThrowError(RangeError);
  });

  it('writeWords rejects a value that does not fit its stride, naming the stride', () => {
    const dst = new Uint32Array(2);
    expect(() => writeWords(dst, 0, 2, 1n << 64n)).toThrowError(
      expect.objectContaining({ name: 'RangeError', message: 'value does not fit in 2 words' }),
    );
    expect(() => pack([1n, 1n << 32n], 1)).toThrowError(
      expect.objectContaining({ name: 'RangeError', message: 'value does not fit in 1 words' }),
    );
  });

  it('bigIntIn draws edge or limb-boundary values about a quarter of the time (seeded)', () => {
    const max = (1n << 1024n) - 12345n;
    const edges = new Set(edgeValues(0n, max));
    const xs = fc.sample(bigIntIn(0n, max), { numRuns: 2000, seed: 7 });
    const topWord = (x: bigint) => x >> 992n;
    const edgy = xs.filter((x) => edges.has(x) || topWord(x) === 0n || topWord(x) === 0xffffffffn).length;
    // fast-check's own bias toward small values adds to the explicit quarter
    expect(edgy / xs.length).toBeGreaterThan(0.2);
    expect(edgy / xs.length).toBeLessThan(0.6);
    expect(xs.every((x) => x >= 0n && x <= max)).toBe(true);
  });

  it('edgeValues stays inside its range and includes both ends', () => {
    const n = (1n << 100n) + 12345n;
    const edges = edgeValues(1n, n - 1n);
    expect(edges[0]).toBe(1n);
    expect(edges[edges.length - 1]).toBe(n - 1n);
    for (const e of edges) expect(e >= 1n && e < n, `edge of ${bitLength(e)} bits`).toBe(true);
    expect(edges).toContain(1n << 96n);
    expect(edges).toContain((1n << 96n) - 1n);
  });
});

describe('packed randomness (randomness.ts)', () => {
  it('drawBelow gives values in [1, bound) at the bound word stride', () => {
    const bounds = [3n, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n, (1n << 1023n) + 1n, (1n << 1024n) - 1n];
    for (const bound of bounds) {
      const { data, words } = drawBelow(bound, 64);
      expect(words, `${bitLength(bound)}-bit bound: words`).toBe(wordsFor(bound));
      const xs = unpack({ words, count: 64, data });
      xs.forEach((x, i) => {
        expect(x >= 1n && x < bound, `${bitLength(bound)}-bit bound: value ${i} in [1, bound)`).toBe(true);
      });
    }
  });

  it('drawBelow with the smallest bound, 2, gives only 1', () => {
    const { data, words } = drawBelow(2n, 16);
    expect(unpack({ words, count: 16, data })).toEqual(new Array(16).fill(1n));
  });

  it('drawBits gives values of at most `bits` bits', () => {
    for (const b of [1, 31, 32, 33, 512, 1024]) {
      const { data, words } = drawBits(b, 32);
      expect(words, `${b} bits: words`).toBe(wordsForBits(b));
      unpack({ words, count: 32, data }).forEach((x, i) => {
        expect(bitLength(x) <= b, `${b} bits: value ${i} has ${bitLength(x)} bits`).toBe(true);
      });
    }
  });
});

describe('values cross into WASM and back unchanged', () => {
  let wasm: WasmBackend;
  beforeAll(async () => {
    wasm = await WasmBackend.create();
  });

  // x^1 mod N = x: the codec, toMont and fromMont round trip at limb-shaped values
  for (const bitsN of [64, 96, 127, 1024, 2048, 8192]) {
    it(`modPow(x, 1) = x for limb-shaped x under a ${bitsN}-bit modulus`, () => {
      const modulus = (1n << BigInt(bitsN)) - 1n - 2n * 12345n;
      fc.assert(
        fc.property(fc.array(bigIntIn(0n, modulus - 1n), { minLength: 1, maxLength: 4 }), (xs) => {
          expect(runTask(wasm, modPowTask(modulus, xs, [1n], false)), `${bitsN}-bit public`).toEqual(xs);
          expect(runTask(wasm, modPowTask(modulus, xs, [1n], true)), `${bitsN}-bit secret`).toEqual(xs);
        }),
        { numRuns: bitsN >= 8192 ? 5 : 25 },
      );
    });
  }
});
