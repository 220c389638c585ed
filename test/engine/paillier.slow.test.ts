// Slow Paillier checks (npm run test:slow): every known answer on every implementation
// at 1024..4096 bits, every op at 3072 and 4096 bits (DJN included) on WASM against the
// BigInt reference, and the homomorphic laws with more runs at 2048 bits.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { privateMaterial, publicMaterial } from '../../src/engine/keys.js';
import { randomBelow, randomBits } from '../../src/engine/modular.js';
import type { RandomMode } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { plaintext, unitBelow } from '../helpers/arbitraries.js';
import { fedjoinKey, type KeyFixture, randomGKey } from '../helpers/keys.js';
import {
  addTask,
  encryptTask,
  expectBackendsAgree,
  expectSameValues,
  multiplyTask,
  privateTask,
  randomFactorTask,
  randomnessFor,
  rerandomizeTask,
  runTask,
} from '../helpers/tasks.js';
import { paillierVectors } from '../helpers/vectors.js';

const MODES: RandomMode[] = ['standard', 'djn', 'pool'];

let wasm: WasmBackend;
let ref: BigintBackend;
let engine: Engine;
let refEngine: Engine;
beforeAll(async () => {
  wasm = await WasmBackend.create();
  ref = new BigintBackend();
  engine = await createEngine({ backend: 'wasm', workers: 0 });
  refEngine = await createEngine({ backend: 'bigint' });
});

describe.each([1024, 2048, 3072, 4096] as const)('every known answer at %i bits', (size) => {
  for (const vk of paillierVectors(size).keys) {
    const label = `${size}-bit ${vk.variant}`;
    const ms = vk.cases.map((c) => c.m);
    const rs = vk.cases.map((c) => c.r);
    const cs = vk.cases.map((c) => c.c);

    it(`${label}: paillier-bigint`, () => {
      vk.cases.forEach((c) => {
        expect(vk.publicKey.encrypt(c.m, c.r), `${label} ${c.label}: pb encrypt`).toBe(c.c);
        expect(vk.privateKey.decrypt(c.c), `${label} ${c.label}: pb decrypt`).toBe(c.m);
      });
    });

    it(`${label}: encrypt (standard, pool) on wasm and bigint`, () => {
      const key = publicMaterial(vk.publicKey);
      for (const mode of ['standard', 'pool'] as const) {
        const task = encryptTask(key, ms, mode, randomnessFor(key, mode, rs));
        expectSameValues(`${label} wasm encrypt ${mode}`, runTask(wasm, task), cs);
        expectSameValues(`${label} bigint encrypt ${mode}`, runTask(ref, task), cs);
      }
    });

    it(`${label}: decrypt, decryptModP, zeroTest on wasm and bigint`, async () => {
      for (const e of [engine, refEngine]) {
        expectSameValues(`${label} ${e.backend} decrypt`, await e.decrypt(vk.privateKey, cs), ms);
        expectSameValues(
          `${label} ${e.backend} decryptModP`,
          await e.decryptModP(vk.privateKey, cs),
          ms.map((m) => m % vk.p),
        );
      }
      expect(await refEngine.zeroTest(vk.privateKey, cs), `${label} bigint zeroTest`).toEqual(
        ms.map((m) => m === 0n),
      );
    });
  }
});

describe.each([3072, 4096] as const)('every op at %i bits, wasm vs bigint, pinned randomness', (size) => {
  const vk = paillierVectors(size).keys[0];
  const pub = publicMaterial(vk.publicKey);
  const priv = privateMaterial(vk.privateKey);
  const label = `${size}-bit ${vk.variant}`;
  const ms = [0n, vk.n - 1n, randomBelow(vk.n)];
  const rs = ms.map(() => randomBelow(vk.n - 2n) + 2n);

  for (const mode of MODES) {
    it(`${label}: encrypt and rerandomize, ${mode} mode`, () => {
      const rand = randomnessFor(pub, mode, rs);
      const cs = expectBackendsAgree(`${label} encrypt ${mode}`, wasm, ref, encryptTask(pub, ms, mode, rand));
      expectBackendsAgree(`${label} rerandomize ${mode}`, wasm, ref, rerandomizeTask(pub, cs, mode, rand));
    });
  }

  it(`${label}: randomFactor, add, multiply (full-size secret and public scalars)`, () => {
    for (const mode of ['standard', 'djn'] as const) {
      expectBackendsAgree(
        `${label} randomFactor ${mode}`,
        wasm,
        ref,
        randomFactorTask(pub, mode, randomnessFor(pub, mode, rs)),
      );
    }
    const cs = vk.cases.map((c) => c.c);
    expectBackendsAgree(`${label} add`, wasm, ref, addTask(pub, cs, [...cs].reverse()));
    for (const secret of [false, true]) {
      const ks = cs.map(() => randomBits(size));
      expectBackendsAgree(`${label} multiply secret=${secret}`, wasm, ref, multiplyTask(pub, cs, ks, secret));
    }
  });

  it(`${label}: decrypt, decryptModP, zeroTest of arbitrary ciphertexts`, () => {
    const cs = [1n, vk.n * vk.n - 1n, randomBelow(vk.n * vk.n - 2n) + 2n];
    for (const op of ['decrypt', 'decryptModP', 'zeroTest'] as const) {
      expectBackendsAgree(`${label} ${op}`, wasm, ref, privateTask(op, priv, cs));
    }
  });
});

describe('laws and interop at 2048 and 4096 bits, more runs', () => {
  const keys: KeyFixture[] = [];
  beforeAll(async () => {
    keys.push(await fedjoinKey(2048), await randomGKey(2048), await fedjoinKey(4096));
  });

  it('decryptInvertsEncrypt, addIsPlaintextSum, matchesPaillierBigint', async () => {
    for (const k of keys) {
      const { n } = k.pub;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(plaintext(n), plaintext(n), unitBelow(n)), { minLength: 1, maxLength: 3 }),
          fc.constantFrom(...MODES),
          async (triples, mode) => {
            const a = triples.map(([x]) => x);
            const b = triples.map(([, y]) => y);
            const ca = await engine.encrypt(k.publicKey, a, { mode });
            const cb = await engine.encrypt(k.publicKey, b, { mode });
            expectSameValues(`${k.label} D(E(m)) ${mode}`, await engine.decrypt(k.privateKey, ca), a);
            expectSameValues(
              `${k.label} D(E(a)E(b))`,
              await engine.decrypt(k.privateKey, await engine.add(k.publicKey, ca, cb)),
              a.map((x, i) => (x + b[i]) % n),
            );
            expectSameValues(
              `${k.label} pb decrypts ours`,
              ca.map((c) => k.privateKey.decrypt(c)),
              a,
            );
            const theirs = triples.map(([x, , r]) => k.publicKey.encrypt(x, r));
            const task = encryptTask(
              k.pub,
              a,
              'standard',
              triples.map(([, , r]) => r),
            );
            expectSameValues(`${k.label} same c for the same r`, runTask(wasm, task), theirs);
          },
        ),
        { numRuns: 8 },
      );
    }
  });
});
