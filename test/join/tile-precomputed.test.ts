// The join by algorithm (DESIGN §3.1, issue 11 item 1): joinTablesBatch + joinPairsBatch
// called directly through loadKernels() and the Arena, against the BigInt formula
// (a * binv)^rho mod n^2 at several comb geometries, as a zero test on real ciphertexts,
// and for the constant-time trace property in rho (the ops around them: tile.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyContexts } from '../../src/engine/key-context.js';
import type { KeyMaterial } from '../../src/engine/keys.js';
import { readWords, toWords, wordsFor } from '../../src/engine/limbs.js';
import { Arena } from '../../src/engine/memory.js';
import { modInverse, modPowBig, randomBelow } from '../../src/engine/modular.js';
import { type Kernels, loadKernels } from '../../src/engine/wasm.js';
import { fedjoinKey, type KeyFixture } from '../helpers/keys.js';

let kernels: Kernels;
let arena: Arena;
let contexts: KeyContexts;
let k1024: KeyFixture;
let k2048: KeyFixture;

beforeAll(async () => {
  kernels = await loadKernels();
  arena = new Arena(kernels.exports.memory, kernels.exports.heapBase());
  contexts = new KeyContexts(kernels, arena);
  k1024 = await fedjoinKey(1024);
  k2048 = await fedjoinKey(2048);
});

interface Geometry {
  teeth: number;
  blocks: number;
}

interface PairsRun {
  out: bigint[];
  status: [number, number, number];
  /** trace of joinPairsBatch alone */
  trace: { ops: number; hash: number };
}

/** Writes values at `ptr`, `words` words each. */
function writeAll(ptr: number, values: readonly bigint[], words: number): void {
  values.forEach((v, i) => {
    arena.write(ptr + i * words * 4, toWords(v, words));
  });
}

/**
 * Row tables for `left` and `rightInv`, then all rows x cols indicators with rho[i * cols + j],
 * through the raw kernels; every allocation is released before returning.
 */
function runPairs(
  key: KeyMaterial,
  left: readonly bigint[],
  rightInv: readonly bigint[],
  rho: readonly bigint[],
  geometry: Geometry = { teeth: kernels.layout.JOIN_TEETH, blocks: kernels.layout.JOIN_BLOCKS },
): PairsRun {
  const k = kernels.exports;
  const pk = contexts.publicKey(key);
  const { teeth, blocks } = geometry;
  const n2Words = wordsFor(key.n * key.n);
  const rhoWords = wordsFor(key.n);
  const rows = left.length;
  const cols = rightInv.length;
  const mark = arena.mark();
  try {
    const tableBytes = k.joinTableBytes(pk, teeth, blocks);
    const inL = arena.alloc(Math.max(1, rows) * n2Words * 4);
    const inR = arena.alloc(Math.max(1, cols) * n2Words * 4);
    const tabL = arena.alloc(Math.max(1, rows) * tableBytes);
    const tabR = arena.alloc(Math.max(1, cols) * tableBytes);
    const rhoPtr = arena.alloc(Math.max(1, rows * cols) * rhoWords * 4);
    const out = arena.alloc(Math.max(1, rows * cols) * n2Words * 4);
    const work = arena.alloc(k.joinWorkBytes(pk, teeth, blocks));
    writeAll(inL, left, n2Words);
    writeAll(inR, rightInv, n2Words);
    writeAll(rhoPtr, rho, rhoWords);
    const s1 = k.joinTablesBatch(pk, inL, tabL, rows, teeth, blocks, rhoWords);
    const s2 = k.joinTablesBatch(pk, inR, tabR, cols, teeth, blocks, rhoWords);
    k.traceReset();
    const s3 = k.joinPairsBatch(pk, tabL, tabR, rhoPtr, out, rows, cols, teeth, blocks, rhoWords, work);
    const trace = { ops: k.traceOps(), hash: k.traceHashLow() };
    const words = arena.read(out, rows * cols * n2Words);
    const values = Array.from({ length: rows * cols }, (_, i) => readWords(words, i * n2Words, n2Words));
    // the work region held secret-dependent values: wiped by the kernel
    expect(arena.read(work, k.joinWorkBytes(pk, teeth, blocks) / 4).every((w) => w === 0)).toBe(true);
    return { out: values, status: [s1, s2, s3], trace };
  } finally {
    arena.release(mark);
  }
}

/** The reference: out[i * cols + j] = (left_i * rightInv_j)^rho_ij mod n^2. */
function reference(
  n: bigint,
  left: readonly bigint[],
  rightInv: readonly bigint[],
  rho: readonly bigint[],
): bigint[] {
  const n2 = n * n;
  return left.flatMap((a, i) =>
    rightInv.map((b, j) => modPowBig((a * b) % n2, rho[i * rightInv.length + j], n2)),
  );
}

/** rho uniform in [1, n), with the extremes 1 and n - 1 first. */
function drawRho(n: bigint, count: number): bigint[] {
  return Array.from({ length: count }, (_, i) =>
    i === 0 ? 1n : i === 1 ? n - 1n : randomBelow(n - 1n) + 1n,
  );
}

function expectIndicators(label: string, got: readonly bigint[], want: readonly bigint[]): void {
  expect(got.length, `${label}: count`).toBe(want.length);
  got.forEach((g, i) => {
    expect(g === want[i], `${label}: indicator ${i} differs from (a * binv)^rho mod n^2`).toBe(true);
  });
}

describe('joinTablesBatch + joinPairsBatch', () => {
  it('equal (a * binv)^rho mod n^2 on random inputs, 1024 bits, several comb geometries', () => {
    const { n } = k1024.pub;
    const n2 = n * n;
    const left = [1n, n2 - 1n, randomBelow(n2 - 2n) + 2n];
    const rightInv = [randomBelow(n2 - 2n) + 2n, 1n, n + 1n, randomBelow(n2 - 2n) + 2n];
    const rho = drawRho(n, left.length * rightInv.length);
    const want = reference(n, left, rightInv, rho);
    for (const geometry of [
      { teeth: kernels.layout.JOIN_TEETH, blocks: kernels.layout.JOIN_BLOCKS },
      { teeth: 1, blocks: 1 },
      { teeth: 5, blocks: 3 },
      { teeth: 8, blocks: 1 },
      { teeth: 3, blocks: 7 },
    ]) {
      const label = `1024 bits, ${geometry.teeth} teeth x ${geometry.blocks} blocks`;
      const run = runPairs(k1024.pub, left, rightInv, rho, geometry);
      expect(run.status, label).toEqual([0, 0, 0]);
      expectIndicators(label, run.out, want);
    }
  });

  it('equal (a * binv)^rho mod n^2 on random inputs, 2048 bits', () => {
    const { n } = k2048.pub;
    const n2 = n * n;
    const left = [randomBelow(n2 - 2n) + 2n, randomBelow(n2 - 2n) + 2n];
    const rightInv = [randomBelow(n2 - 2n) + 2n, n2 - 1n];
    const rho = drawRho(n, 4);
    const run = runPairs(k2048.pub, left, rightInv, rho);
    expect(run.status).toEqual([0, 0, 0]);
    expectIndicators('2048 bits', run.out, reference(n, left, rightInv, rho));
  });

  it('give indicators that decrypt to zero exactly where the keys match (ciphertexts (1 + m n) r^n)', () => {
    const { publicKey, privateKey } = k1024;
    const { n } = publicKey;
    const n2 = n * n;
    const encrypt = (m: bigint) => ((1n + m * n) * modPowBig(randomBelow(n - 2n) + 2n, n, n2)) % n2;
    const a = [5n, 7n, 0n, n - 1n];
    const b = [7n, 5n, 9n, n - 1n, 0n];
    const left = a.map(encrypt);
    const rightInv = b.map((m) => modInverse(encrypt(m), n2));
    const rho = drawRho(n, a.length * b.length);
    const run = runPairs(k1024.pub, left, rightInv, rho);
    const zero = run.out.map((c) => privateKey.decrypt(c) === 0n);
    expect(zero).toEqual(a.flatMap((x) => b.map((y) => x === y)));
  });

  it('handle an empty side and refuse a geometry out of range', () => {
    const { n } = k1024.pub;
    const c = [randomBelow(n * n - 2n) + 2n];
    expect(runPairs(k1024.pub, [], c, []).status).toEqual([0, 0, 0]);
    expect(runPairs(k1024.pub, c, [], []).out).toEqual([]);
    for (const geometry of [
      { teeth: 0, blocks: 1 },
      { teeth: 9, blocks: 1 },
      { teeth: 4, blocks: 0 },
    ]) {
      const k = kernels.exports;
      const pk = contexts.publicKey(k1024.pub);
      // status 1 (bad mode) before any memory is touched
      expect(k.joinTablesBatch(pk, 0, 0, 1, geometry.teeth, geometry.blocks, 32)).toBe(1);
      expect(k.joinPairsBatch(pk, 0, 0, 0, 0, 1, 1, geometry.teeth, geometry.blocks, 32, 0)).toBe(1);
    }
  });

  it('run the same operations on the same addresses for any rho of the same length', () => {
    const { n } = k1024.pub;
    const n2 = n * n;
    const left = [randomBelow(n2 - 2n) + 2n, randomBelow(n2 - 2n) + 2n];
    const rightInv = [randomBelow(n2 - 2n) + 2n];
    const ones = (1n << 1023n) - 1n;
    const traces = [
      [1n, n - 1n],
      [ones, 1n << 1000n],
      [randomBelow(n - 1n) + 1n, randomBelow(n - 1n) + 1n],
    ].map((rho) => runPairs(k1024.pub, left, rightInv, rho).trace);
    expect(traces[0].ops).toBeGreaterThan(100);
    for (const t of traces) expect(t, 'trace of joinPairsBatch').toEqual(traces[0]);
  });
});
