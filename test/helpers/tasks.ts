// Kernel tasks with pinned randomness, run on the WASM backend and on the BigInt
// reference, unpacked to bigints. A task is a pure function of its fields, so both
// backends must return identical words; comparisons name the op, bit size and index.
import fc from 'fast-check';
import { expect } from 'vitest';
import { djnExponentBits, type KeyMaterial } from '../../src/engine/keys.js';
import { pack, unpack, wordsFor, wordsForBits } from '../../src/engine/limbs.js';
import { modPowBig } from '../../src/engine/modular.js';
import { taskStrides } from '../../src/engine/ops.js';
import type { KernelBackend, KernelTask, RandomMode } from '../../src/engine/tasks.js';
import { keyWords } from '../../src/engine/tasks.js';
import { base, exponent, oddModulus } from './arbitraries.js';

export function bits(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/** Runs a task and unpacks its output. */
export function runTask(backend: KernelBackend, task: KernelTask): bigint[] {
  const { outWords } = taskStrides(task);
  const data = backend.run(task);
  expect(data.length, `${task.op}: output words`).toBe(task.count * outWords);
  return unpack({ words: outWords, count: task.count, data });
}

/** Element-wise equality whose failure names the label (op, bit size) and the index. */
export function expectSameValues(label: string, got: readonly bigint[], want: readonly bigint[]): void {
  expect(got.length, `${label}: batch length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i], `${label} [${i}]`).toBe(want[i]);
}

/** Runs `task` on both backends and expects identical values; returns them. */
export function expectBackendsAgree(
  label: string,
  wasm: KernelBackend,
  ref: KernelBackend,
  task: KernelTask,
): bigint[] {
  const want = runTask(ref, task);
  expectSameValues(`${label} (wasm vs bigint)`, runTask(wasm, task), want);
  return want;
}

/** Words per randomness value in each mode: r < n, a DJN exponent, or r^n < n^2. */
export function randWordsFor(key: KeyMaterial, mode: RandomMode): number {
  if (mode === 'standard') return wordsFor(key.n);
  if (mode === 'djn') return wordsForBits(djnExponentBits(key.n));
  return keyWords(key).n2;
}

/**
 * Randomness input for `mode` from units r: r itself (standard), r reduced to the DJN
 * exponent width (djn), or r^n mod n^2 (pool: what the pool would hold).
 */
export function randomnessFor(key: KeyMaterial, mode: RandomMode, rs: readonly bigint[]): bigint[] {
  if (mode === 'standard') return [...rs];
  if (mode === 'djn') {
    const mask = (1n << BigInt(djnExponentBits(key.n))) - 1n;
    return rs.map((r) => r & mask);
  }
  const n2 = key.n * key.n;
  return rs.map((r) => modPowBig(r, key.n, n2));
}

export function encryptTask(
  key: KeyMaterial,
  ms: readonly bigint[],
  mode: RandomMode,
  rand: readonly bigint[],
): KernelTask {
  const randWords = randWordsFor(key, mode);
  return {
    op: 'encrypt',
    key,
    mode,
    count: ms.length,
    input: pack(ms, keyWords(key).n).data,
    rand: pack(rand, randWords).data,
    randWords,
  };
}

export function rerandomizeTask(
  key: KeyMaterial,
  cs: readonly bigint[],
  mode: RandomMode,
  rand: readonly bigint[],
): KernelTask {
  const randWords = randWordsFor(key, mode);
  return {
    op: 'rerandomize',
    key,
    mode,
    count: cs.length,
    input: pack(cs, keyWords(key).n2).data,
    rand: pack(rand, randWords).data,
    randWords,
  };
}

export function randomFactorTask(
  key: KeyMaterial,
  mode: 'standard' | 'djn',
  rand: readonly bigint[],
): KernelTask {
  const randWords = randWordsFor(key, mode);
  return { op: 'randomFactor', key, mode, count: rand.length, input: pack(rand, randWords).data, randWords };
}

export function addTask(key: KeyMaterial, a: readonly bigint[], b: readonly bigint[]): KernelTask {
  const words = keyWords(key).n2;
  return { op: 'add', key, count: a.length, input: pack(a, words).data, input2: pack(b, words).data };
}

export function privateTask(
  op: 'decrypt' | 'decryptModP' | 'zeroTest',
  key: KeyMaterial,
  cs: readonly bigint[],
): KernelTask {
  return { op, key, count: cs.length, input: pack(cs, keyWords(key).n2).data };
}

/** Exponents at a common width; one exponent is broadcast (stride 0), as the engine does. */
function exponents(es: readonly bigint[]): { exp: Uint32Array; expWords: number; expStride: number } {
  let expWords = 1;
  for (const e of es) expWords = Math.max(expWords, wordsFor(e));
  return { exp: pack(es, expWords).data, expWords, expStride: es.length === 1 ? 0 : expWords };
}

export function multiplyTask(
  key: KeyMaterial,
  cs: readonly bigint[],
  ks: readonly bigint[],
  secret: boolean,
): KernelTask {
  return {
    op: 'multiply',
    key,
    count: cs.length,
    input: pack(cs, keyWords(key).n2).data,
    ...exponents(ks),
    secret,
  };
}

export function modPowTask(
  modulus: bigint,
  bases: readonly bigint[],
  es: readonly bigint[],
  secret: boolean,
): KernelTask {
  return {
    op: 'modPow',
    modulus,
    count: bases.length,
    input: pack(bases, wordsFor(modulus)).data,
    ...exponents(es),
    secret,
  };
}

/**
 * Property: for random odd moduli of `modBits` bits and up to `maxValues` (base, exponent)
 * pairs with exponents of up to `expBits` bits, the WASM modPow equals the reference.
 */
export function assertModPowAgrees(
  wasm: KernelBackend,
  ref: KernelBackend,
  modBits: number,
  expBits: number,
  secret: boolean,
  numRuns: number,
  maxValues: number,
): void {
  const input = oddModulus(modBits).chain((m) =>
    fc.tuple(
      fc.constant(m),
      fc.array(fc.tuple(base(m), exponent(expBits)), { minLength: 1, maxLength: maxValues }),
    ),
  );
  fc.assert(
    fc.property(input, ([m, pairs]) => {
      const task = modPowTask(
        m,
        pairs.map(([b]) => b),
        pairs.map(([, e]) => e),
        secret,
      );
      expectBackendsAgree(`modPow ${modBits}-bit`, wasm, ref, task);
    }),
    { numRuns },
  );
}
