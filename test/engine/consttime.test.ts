// The constant-time paths execute the same sequence of operations whatever the secret
// (DESIGN §2): every montMul / montSqr folds its kind and operand addresses (never
// values) into a trace hash in the WASM module (assembly/montgomery.ts). Two secrets of
// the same word length must leave identical traces; the public sliding-window path is the
// positive control, whose trace follows the exponent's bits. The trace sees only which
// multiplications run on which addresses: a branch inside montMul is not visible here.
import { generateRandomKeys } from 'paillier-bigint';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeys, type KeyMaterial, privateMaterial, publicMaterial } from '../../src/engine/keys.js';
import { randomBelow, randomBits } from '../../src/engine/modular.js';
import type { KernelTask } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import {
  encryptTask,
  modPowTask,
  multiplyTask,
  privateTask,
  randomnessFor,
  runTask,
} from '../helpers/tasks.js';

interface Trace {
  hash: number;
  ops: number;
}

/** The trace of one run of `task` (after a warm-up run has built its contexts). */
function traceOf(backend: WasmBackend, task: KernelTask): Trace {
  const k = backend.kernels.exports;
  k.traceReset();
  runTask(backend, task);
  return { hash: k.traceHashLow(), ops: k.traceOps() };
}

function tracesOf(backend: WasmBackend, tasks: KernelTask[]): Trace[] {
  runTask(backend, tasks[0]); // builds and caches contexts: later runs allocate the same
  return tasks.map((t) => traceOf(backend, t));
}

const ones = (bits: number) => (1n << BigInt(bits)) - 1n;

/** Exponent pairs of the same word length whose bit patterns differ as much as possible. */
function secretPairs(words: number): [string, bigint, bigint][] {
  const bits = 32 * words;
  return [
    ['all ones vs top word 1, rest 0', ones(bits), 1n << BigInt(bits - 32)],
    ['top word 0xffffffff vs 0x80000000', ones(bits), (1n << BigInt(bits - 1)) + 1n],
    ['two random exponents', randomBits(bits) | (1n << BigInt(bits - 1)), randomBits(bits) | 1n],
    [
      'alternating bits vs their complement',
      0x55555555n * (ones(bits) / 0xffffffffn),
      0xaaaaaaaan * (ones(bits) / 0xffffffffn),
    ],
  ];
}

let wasm: WasmBackend;
beforeAll(async () => {
  wasm = await WasmBackend.create();
});

describe('modPow, secret path (modPowConstTime)', () => {
  for (const [modBits, expWords] of [
    [64, 2],
    [127, 4],
    [1024, 32],
    [2048, 16],
    [2048, 64],
  ] as const) {
    const modulus = randomBits(modBits) | (1n << BigInt(modBits - 1)) | 1n;
    const base = randomBelow(modulus);
    for (const [what, e1, e2] of secretPairs(expWords)) {
      it(`${modBits}-bit modulus, ${expWords}-word exponents (${what}): identical traces`, () => {
        const [t1, t2] = tracesOf(wasm, [
          modPowTask(modulus, [base], [e1], true),
          modPowTask(modulus, [base], [e2], true),
        ]);
        expect(t2.ops, `${modBits}-bit: operation count`).toBe(t1.ops);
        expect(t2.hash, `${modBits}-bit: operation/address hash`).toBe(t1.hash);
        expect(t1.ops, 'the trace recorded something').toBeGreaterThan(expWords * 32);
      });
    }
  }

  it('a batch with one secret exponent per base: swapping the exponents leaves the trace unchanged', () => {
    const modulus = (1n << 1024n) - 105n;
    const es = [ones(1024), 1n << 992n, randomBits(1024)];
    const bs = [2n, 3n, modulus - 1n];
    const [t1, t2] = tracesOf(wasm, [
      modPowTask(modulus, bs, es, true),
      modPowTask(modulus, bs, [es[2], es[0], es[1]], true),
    ]);
    expect(t2).toEqual(t1);
  });

  it('the base value does not change the trace either (0, 1, N-1, random)', () => {
    const modulus = (1n << 2048n) - 159n;
    const e = randomBits(2048);
    const traces = tracesOf(
      wasm,
      [0n, 1n, modulus - 1n, randomBelow(modulus)].map((b) => modPowTask(modulus, [b], [e], true)),
    );
    for (const t of traces) expect(t).toEqual(traces[0]);
  });

  it('control: the word length is public, so a longer exponent gives a longer trace', () => {
    const modulus = (1n << 1024n) - 105n;
    const [short, long] = tracesOf(wasm, [
      modPowTask(modulus, [3n], [ones(64)], true),
      modPowTask(modulus, [3n], [ones(96)], true),
    ]);
    expect(long.ops).toBeGreaterThan(short.ops);
  });
});

describe('positive control: the public path (modPowWindow) follows the exponent bits', () => {
  for (const modBits of [64, 1024, 2048]) {
    it(`${modBits}-bit modulus: all ones vs a lone top bit of the same length differ`, () => {
      const modulus = randomBits(modBits) | (1n << BigInt(modBits - 1)) | 1n;
      const bits = modBits;
      const [dense, sparse] = tracesOf(wasm, [
        modPowTask(modulus, [5n], [ones(bits)], false),
        modPowTask(modulus, [5n], [1n << BigInt(bits - 1)], false),
      ]);
      expect(dense.ops, `${modBits}-bit: dense exponent does more multiplications`).toBeGreaterThan(
        sparse.ops,
      );
      expect(dense.hash).not.toBe(sparse.hash);
    });
  }

  it('same bit length, different windows: different traces', () => {
    const modulus = (1n << 1024n) - 105n;
    const [a, b] = tracesOf(wasm, [
      modPowTask(modulus, [5n], [(1n << 1023n) | 0x1111n], false),
      modPowTask(modulus, [5n], [(1n << 1023n) | 0xffffn], false),
    ]);
    expect(a.hash).not.toBe(b.hash);
  });
});

describe('Paillier kernels on secrets', () => {
  let k1: { pub: KeyMaterial; priv: KeyMaterial };
  let k2: { pub: KeyMaterial; priv: KeyMaterial };
  let kr: { pub: KeyMaterial; priv: KeyMaterial };
  beforeAll(async () => {
    const [a, b, r] = await Promise.all([generateKeys(1024), generateKeys(1024), generateRandomKeys(1024)]);
    k1 = { pub: publicMaterial(a.publicKey), priv: privateMaterial(a.privateKey) };
    k2 = { pub: publicMaterial(b.publicKey), priv: privateMaterial(b.privateKey) };
    kr = { pub: publicMaterial(r.publicKey), priv: privateMaterial(r.privateKey) };
  });

  it('multiply with secret scalars of the same word length: identical traces; public: not', () => {
    const c = [randomBelow(k1.pub.n * k1.pub.n - 2n) + 2n];
    const s1 = ones(1024);
    const s2 = 1n << 992n;
    const [a, b] = tracesOf(wasm, [multiplyTask(k1.pub, c, [s1], true), multiplyTask(k1.pub, c, [s2], true)]);
    expect(b).toEqual(a);
    const [pa, pb] = tracesOf(wasm, [
      multiplyTask(k1.pub, c, [s1], false),
      multiplyTask(k1.pub, c, [s2], false),
    ]);
    expect(pa.ops).toBeGreaterThan(pb.ops);
  });

  for (const op of ['decrypt', 'decryptModP', 'zeroTest'] as const) {
    it(`${op}: the trace does not depend on the ciphertext (E(0), E(1), E(n-1), arbitrary)`, () => {
      for (const k of [k1, kr]) {
        const n = k.pub.n;
        const rs = [1n, 2n, 3n].map(() => randomBelow(n - 2n) + 2n);
        const cs = runTask(wasm, encryptTask(k.pub, [0n, 1n, n - 1n], 'standard', rs));
        cs.push(randomBelow(n * n - 2n) + 2n);
        const traces = tracesOf(
          wasm,
          cs.map((c) => privateTask(op, k.priv, [c])),
        );
        for (const t of traces) expect(t, `${op}: trace of each ciphertext`).toEqual(traces[0]);
      }
    });

    it(`${op}: the trace does not depend on the secret primes (two keys of the same sizes)`, async () => {
      // fresh instances, so both keys' contexts land at the same addresses
      const traces: { hash: number; ops: number }[] = [];
      for (const k of [k1, k2]) {
        const backend = await WasmBackend.create();
        const c = [randomBelow(k.pub.n * k.pub.n - 2n) + 2n];
        traces.push(tracesOf(backend, [privateTask(op, k.priv, c), privateTask(op, k.priv, c)])[1]);
      }
      expect(traces[1], `${op}: key 2 vs key 1`).toEqual(traces[0]);
    });
  }

  it('encrypt with a random g: g^m leaves the same trace for every plaintext (standard and pool modes)', () => {
    const n = kr.pub.n;
    const r = [randomBelow(n - 2n) + 2n];
    for (const mode of ['standard', 'pool'] as const) {
      const rand = randomnessFor(kr.pub, mode, r);
      const traces = tracesOf(
        wasm,
        [0n, 1n, n - 1n, randomBelow(n)].map((m) => encryptTask(kr.pub, [m], mode, rand)),
      );
      for (const t of traces) expect(t, `${mode}: trace of each m`).toEqual(traces[0]);
    }
  });

  it('encrypt, standard mode: r^n leaves the same trace for every r (the exponent n is public)', () => {
    const n = k1.pub.n;
    const traces = tracesOf(
      wasm,
      [1n, n - 1n, randomBelow(n - 2n) + 2n].map((r) => encryptTask(k1.pub, [7n], 'standard', [r])),
    );
    for (const t of traces) expect(t).toEqual(traces[0]);
  });

  it('encrypt, DJN mode: the short exponent a leaves the same trace for every a (knowing a reveals m)', () => {
    // c = g^m h_n^a: whoever learns a learns r^n = h_n^a and with it g^m, so a is as
    // secret as the plaintext, and a table entry chosen by a digit of a leaks it
    const as = [1n, ones(512), randomBits(512)];
    const traces = tracesOf(
      wasm,
      as.map((a) => encryptTask(k1.pub, [7n], 'djn', randomnessFor(k1.pub, 'djn', [a]))),
    );
    for (const t of traces) expect(t, 'DJN trace of each a').toEqual(traces[0]);
  });
});
