// Paillier batch kernels (assembly/paillier.ts) and the Engine API over them: known
// answers from Python (test/vectors/paillier-*.json); every op on WASM against the BigInt
// reference with pinned randomness (same task, same words); the homomorphic laws as
// named properties; interop both ways with paillier-bigint at 2048 bits for g = n + 1 and
// a random g. Properties run at 1024 bits; every op also at 2048, and 3072/4096 once.
import fc from 'fast-check';
import { PrivateKey } from 'paillier-bigint';
import { beforeAll, describe, expect, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { gcd, keyPairFromPrimes, privateMaterial, publicMaterial } from '../../src/engine/keys.js';
import { pack, unpack, wordsFor } from '../../src/engine/limbs.js';
import { modPowBig, randomBelow, randomBits } from '../../src/engine/modular.js';
import type { RandomMode } from '../../src/engine/tasks.js';
import { keyWords } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { ciphertext, exponent, plaintext, unitBelow } from '../helpers/arbitraries.js';
import { fedjoinKey, fixture, type KeyFixture, randomGKey, sameModulusOtherG } from '../helpers/keys.js';
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
const SMALL = ['1024-bit g=n+1', '1024-bit random g'] as const;
const LARGE = ['2048-bit g=n+1', '2048-bit random g'] as const;
type KeyName = (typeof SMALL)[number] | (typeof LARGE)[number];

let wasm: WasmBackend;
let ref: BigintBackend;
let engine: Engine;
let refEngine: Engine;
const keys = {} as Record<KeyName, KeyFixture>;

beforeAll(async () => {
  wasm = await WasmBackend.create();
  ref = new BigintBackend();
  engine = await createEngine({ backend: 'wasm', workers: 0 });
  refEngine = await createEngine({ backend: 'bigint' });
  const made = await Promise.all([fedjoinKey(1024), randomGKey(1024), fedjoinKey(2048), randomGKey(2048)]);
  for (const k of made) keys[k.label as KeyName] = k;
});

/** A uniform unit mod n, for pinned randomness. */
function unit(n: bigint): bigint {
  for (;;) {
    const r = randomBelow(n - 1n) + 1n;
    if (gcd(r, n) === 1n) return r;
  }
}

const mod = (x: bigint, n: bigint) => ((x % n) + n) % n;

/** r^n = c (1 + m n)^-1 = c (1 - m n) mod n^2 for g = n + 1: a vector's pool value, no modPow. */
function rnFromVector(n: bigint, m: bigint, c: bigint): bigint {
  const n2 = n * n;
  return mod(c * (1n - m * n), n2);
}

describe.each([1024, 2048, 3072, 4096] as const)('known answers at %i bits (Python pow)', (size) => {
  const { source, keys: vectorKeys } = paillierVectors(size);
  // the BigInt reference and paillier-bigint are slow at the large sizes: fewer cases
  // here, all of them in paillier.slow.test.ts
  const refCases = size <= 1024 ? Number.POSITIVE_INFINITY : size <= 2048 ? 2 : 0;
  it('carry their provenance', () => {
    expect(source).toMatch(/generate\.py.*pow\(\)/);
  });
  for (const vk of vectorKeys) {
    const label = `${size}-bit ${vk.variant}`;
    const ms = vk.cases.map((c) => c.m);
    const rs = vk.cases.map((c) => c.r);
    const cs = vk.cases.map((c) => c.c);
    const few = <T>(xs: readonly T[]) => xs.slice(0, refCases);

    it(`${label}: has the shape its variant claims`, () => {
      expect(vk.p * vk.q).toBe(vk.n);
      expect(vk.n.toString(2).length).toBe(size);
      if (vk.variant === 'g=n+1') expect(vk.g).toBe(vk.n + 1n);
      else expect(vk.p.toString(2).length).toBe(vk.q.toString(2).length + 1);
    });

    if (refCases > 0) {
      it(`${label}: paillier-bigint's encrypt(m, r) and decrypt agree with the vectors`, () => {
        few(vk.cases).forEach((c) => {
          expect(vk.publicKey.encrypt(c.m, c.r), `${label} ${c.label}: pb encrypt`).toBe(c.c);
          expect(vk.privateKey.decrypt(c.c), `${label} ${c.label}: pb decrypt`).toBe(c.m);
        });
      });

      it(`${label}: the BigInt reference encrypts (pinned r) and decrypts the vectors`, async () => {
        const key = publicMaterial(vk.publicKey);
        expectSameValues(
          `${label} bigint encrypt standard`,
          runTask(ref, encryptTask(key, few(ms), 'standard', few(rs))),
          few(cs),
        );
        expectSameValues(`${label} bigint decrypt`, await refEngine.decrypt(vk.privateKey, few(cs)), few(ms));
      });
    }

    it(`${label}: wasm encrypt with pinned r gives c (standard mode)`, () => {
      const key = publicMaterial(vk.publicKey);
      // standard mode costs a full |n|-bit exponentiation mod n^2 per value
      const k = size <= 2048 ? cs.length : 1;
      expectSameValues(
        `${label} wasm encrypt standard`,
        runTask(wasm, encryptTask(key, ms.slice(0, k), 'standard', rs.slice(0, k))),
        cs.slice(0, k),
      );
    });

    it(`${label}: wasm encrypt with pinned r^n gives c (pool mode)`, () => {
      const key = publicMaterial(vk.publicKey);
      const rn =
        vk.variant === 'g=n+1'
          ? vk.cases.map((c) => rnFromVector(vk.n, c.m, c.c))
          : randomnessFor(key, 'pool', rs);
      expectSameValues(`${label} wasm encrypt pool`, runTask(wasm, encryptTask(key, ms, 'pool', rn)), cs);
      if (refCases > 0) {
        expectSameValues(
          `${label} bigint encrypt pool`,
          runTask(ref, encryptTask(key, few(ms), 'pool', few(rn))),
          few(cs),
        );
      }
    });

    it(`${label}: decrypt gives m, decryptModP gives m mod p (wasm engine)`, async () => {
      expectSameValues(`${label} decrypt`, await engine.decrypt(vk.privateKey, cs), ms);
      expectSameValues(
        `${label} decryptModP`,
        await engine.decryptModP(vk.privateKey, cs),
        ms.map((m) => m % vk.p),
      );
    });

    it(`${label}: the zero test decides m = 0 mod p (so m = p reads as zero: DESIGN §2's 1/p error)`, async () => {
      const got = await engine.zeroTest(vk.privateKey, cs);
      vk.cases.forEach((c, i) => {
        expect(got[i], `${label} ${c.label}: zeroTest`).toBe(c.m % vk.p === 0n);
      });
    });
  }
});

describe('wasm matches the BigInt reference, pinned randomness (1024-bit keys, properties)', () => {
  for (const name of SMALL) {
    const batch = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 3 });

    for (const mode of MODES) {
      it(`${name}: encrypt, ${mode} mode`, () => {
        const k = keys[name];
        fc.assert(
          fc.property(batch(fc.tuple(plaintext(k.pub.n), unitBelow(k.pub.n))), (pairs) => {
            const ms = pairs.map(([m]) => m);
            const rand = randomnessFor(
              k.pub,
              mode,
              pairs.map(([, r]) => r),
            );
            expectBackendsAgree(`${name} encrypt ${mode}`, wasm, ref, encryptTask(k.pub, ms, mode, rand));
          }),
          { numRuns: mode === 'standard' ? 10 : 6 },
        );
      });

      it(`${name}: rerandomize, ${mode} mode`, () => {
        const k = keys[name];
        fc.assert(
          fc.property(batch(fc.tuple(ciphertext(k.pub.n), unitBelow(k.pub.n))), (pairs) => {
            const cs = pairs.map(([c]) => c);
            const rand = randomnessFor(
              k.pub,
              mode,
              pairs.map(([, r]) => r),
            );
            expectBackendsAgree(
              `${name} rerandomize ${mode}`,
              wasm,
              ref,
              rerandomizeTask(k.pub, cs, mode, rand),
            );
          }),
          { numRuns: 8 },
        );
      });
    }

    for (const mode of ['standard', 'djn'] as const) {
      it(`${name}: randomFactor (r^n for the pool), ${mode} mode`, () => {
        const k = keys[name];
        fc.assert(
          fc.property(batch(unitBelow(k.pub.n)), (rs) => {
            const rand = randomnessFor(k.pub, mode, rs);
            expectBackendsAgree(
              `${name} randomFactor ${mode}`,
              wasm,
              ref,
              randomFactorTask(k.pub, mode, rand),
            );
          }),
          { numRuns: 8 },
        );
      });
    }

    it(`${name}: add`, () => {
      const k = keys[name];
      fc.assert(
        fc.property(batch(fc.tuple(ciphertext(k.pub.n), ciphertext(k.pub.n))), (pairs) => {
          const task = addTask(
            k.pub,
            pairs.map(([a]) => a),
            pairs.map(([, b]) => b),
          );
          expectBackendsAgree(`${name} add`, wasm, ref, task);
        }),
        { numRuns: 25 },
      );
    });

    for (const secret of [false, true]) {
      it(`${name}: multiply, ${secret ? 'secret' : 'public'} scalars (per value and broadcast)`, () => {
        const k = keys[name];
        const scalar = exponent(k.bits + 40);
        fc.assert(
          fc.property(batch(fc.tuple(ciphertext(k.pub.n), scalar)), scalar, (pairs, one) => {
            const cs = pairs.map(([c]) => c);
            const ks = pairs.map(([, s]) => s);
            expectBackendsAgree(`${name} multiply per value`, wasm, ref, multiplyTask(k.pub, cs, ks, secret));
            expectBackendsAgree(
              `${name} multiply broadcast`,
              wasm,
              ref,
              multiplyTask(k.pub, cs, [one], secret),
            );
          }),
          { numRuns: 8 },
        );
      });
    }

    for (const op of ['decrypt', 'decryptModP', 'zeroTest'] as const) {
      it(`${name}: ${op} of arbitrary ciphertexts`, () => {
        const k = keys[name];
        fc.assert(
          fc.property(batch(ciphertext(k.pub.n)), (cs) => {
            expectBackendsAgree(`${name} ${op}`, wasm, ref, privateTask(op, k.priv, cs));
          }),
          { numRuns: 6 },
        );
      });
    }
  }
});

describe('wasm matches the BigInt reference at 2048 bits (one small batch per op)', () => {
  for (const name of LARGE) {
    const setup = () => {
      const k = keys[name];
      const { n } = k.pub;
      const ms = [n - 1n, randomBelow(n)];
      const rs = ms.map(() => unit(n));
      return { k, n, ms, rs };
    };

    it(`${name}: encrypt in every mode, randomFactor`, () => {
      const { k, ms, rs } = setup();
      for (const mode of MODES) {
        const rand = randomnessFor(k.pub, mode, rs);
        expectBackendsAgree(`${name} encrypt ${mode}`, wasm, ref, encryptTask(k.pub, ms, mode, rand));
      }
      for (const mode of ['standard', 'djn'] as const) {
        const rand = randomnessFor(k.pub, mode, rs.slice(0, 1));
        expectBackendsAgree(`${name} randomFactor ${mode}`, wasm, ref, randomFactorTask(k.pub, mode, rand));
      }
    });

    it(`${name}: rerandomize in every mode, add, multiply (public and secret)`, () => {
      const { k, n, ms, rs } = setup();
      const cs = runTask(wasm, encryptTask(k.pub, ms, 'pool', randomnessFor(k.pub, 'pool', rs)));
      for (const mode of MODES) {
        const rand = randomnessFor(k.pub, mode, rs.slice(0, 1));
        expectBackendsAgree(
          `${name} rerandomize ${mode}`,
          wasm,
          ref,
          rerandomizeTask(k.pub, cs.slice(0, 1), mode, rand),
        );
      }
      expectBackendsAgree(`${name} add`, wasm, ref, addTask(k.pub, cs, [cs[1], cs[0]]));
      for (const secret of [false, true]) {
        const ks = [n - 1n, randomBits(2100)];
        expectBackendsAgree(
          `${name} multiply secret=${secret}`,
          wasm,
          ref,
          multiplyTask(k.pub, cs, ks, secret),
        );
        expectBackendsAgree(
          `${name} multiply broadcast`,
          wasm,
          ref,
          multiplyTask(k.pub, cs, [12345n], secret),
        );
      }
    });

    it(`${name}: decrypt, decryptModP, zeroTest of 1, n^2 - 1 and an arbitrary ciphertext`, () => {
      const { k, n } = setup();
      const arbitrary = [1n, n * n - 1n, randomBelow(n * n - 2n) + 2n];
      // one textbook decryption per value on the reference; the other two ops follow from it
      const m = runTask(ref, privateTask('decrypt', k.priv, arbitrary));
      expectSameValues(`${name} decrypt`, runTask(wasm, privateTask('decrypt', k.priv, arbitrary)), m);
      expectSameValues(
        `${name} decryptModP`,
        runTask(wasm, privateTask('decryptModP', k.priv, arbitrary)),
        m.map((x) => x % k.priv.p!),
      );
      expectSameValues(
        `${name} zeroTest`,
        runTask(wasm, privateTask('zeroTest', k.priv, arbitrary)),
        m.map((x) => (x % k.priv.p! === 0n ? 1n : 0n)),
      );
    });
  }
});

describe.each([3072, 4096] as const)('wasm matches the BigInt reference at %i bits (1-2 samples)', (size) => {
  const vk = paillierVectors(size).keys[0];
  const pub = publicMaterial(vk.publicKey);
  const priv = privateMaterial(vk.privateKey);
  const label = `${size}-bit ${vk.variant}`;

  it(`${label}: encrypt (standard), rerandomize (pool), add, multiply`, () => {
    const m = [randomBelow(vk.n)];
    const r = [unit(vk.n)];
    expectBackendsAgree(`${label} encrypt standard`, wasm, ref, encryptTask(pub, m, 'standard', r));
    const cs = vk.cases.slice(0, 2).map((c) => c.c);
    const rn = [rnFromVector(vk.n, vk.cases[2].m, vk.cases[2].c)];
    expectBackendsAgree(
      `${label} rerandomize pool`,
      wasm,
      ref,
      rerandomizeTask(pub, cs.slice(0, 1), 'pool', rn),
    );
    expectBackendsAgree(`${label} add`, wasm, ref, addTask(pub, cs, [cs[1], cs[0]]));
    for (const secret of [false, true]) {
      expectBackendsAgree(
        `${label} multiply`,
        wasm,
        ref,
        multiplyTask(pub, cs, [randomBits(64), (1n << 64n) - 1n], secret),
      );
    }
  });

  it(`${label}: decrypt, decryptModP, zeroTest of one arbitrary ciphertext`, () => {
    const c = [randomBelow(vk.n * vk.n - 2n) + 2n];
    const m = runTask(ref, privateTask('decrypt', priv, c));
    expectSameValues(`${label} decrypt`, runTask(wasm, privateTask('decrypt', priv, c)), m);
    expectSameValues(`${label} decryptModP`, runTask(wasm, privateTask('decryptModP', priv, c)), [
      m[0] % vk.p,
    ]);
    expectSameValues(`${label} zeroTest`, runTask(wasm, privateTask('zeroTest', priv, c)), [
      m[0] % vk.p === 0n ? 1n : 0n,
    ]);
  });
});

describe('homomorphic laws (wasm engine)', () => {
  const runs = { numRuns: 8 };
  for (const name of SMALL) {
    it(`decryptInvertsEncrypt (${name}): D(E(m)) = m in every mode`, async () => {
      const k = keys[name];
      await fc.assert(
        fc.asyncProperty(
          fc.array(plaintext(k.pub.n), { maxLength: 4 }),
          fc.constantFrom(...MODES),
          async (ms, mode) => {
            const cs = await engine.encrypt(k.publicKey, ms, { mode });
            expectSameValues(`${name} D(E(m)) ${mode}`, await engine.decrypt(k.privateKey, cs), ms);
          },
        ),
        runs,
      );
    });

    it(`addIsPlaintextSum (${name}): D(E(a) E(b)) = a + b mod n`, async () => {
      const k = keys[name];
      const { n } = k.pub;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(plaintext(n), plaintext(n)), { maxLength: 4 }), async (pairs) => {
          const a = await engine.encrypt(
            k.publicKey,
            pairs.map(([x]) => x),
          );
          const b = await engine.encrypt(
            k.publicKey,
            pairs.map(([, y]) => y),
          );
          expectSameValues(
            `${name} D(E(a)E(b))`,
            await engine.decrypt(k.privateKey, await engine.add(k.publicKey, a, b)),
            pairs.map(([x, y]) => (x + y) % n),
          );
        }),
        runs,
      );
    });

    it(`multiplyScales (${name}): D(E(a)^k) = k a mod n, public and secret scalars`, async () => {
      const k = keys[name];
      const { n } = k.pub;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(plaintext(n), exponent(k.bits + 8)), { minLength: 1, maxLength: 3 }),
          fc.boolean(),
          async (pairs, secret) => {
            const cs = await engine.encrypt(
              k.publicKey,
              pairs.map(([a]) => a),
            );
            const ks = pairs.map(([, s]) => s);
            const got = await engine.decrypt(
              k.privateKey,
              await engine.multiply(k.publicKey, cs, ks, { secret }),
            );
            expectSameValues(
              `${name} D(E(a)^k) secret=${secret}`,
              got,
              pairs.map(([a, s]) => (a * s) % n),
            );
            const one = await engine.multiply(k.publicKey, cs, ks[0], { secret });
            expectSameValues(
              `${name} D(E(a)^k) broadcast`,
              await engine.decrypt(k.privateKey, one),
              pairs.map(([a]) => (a * ks[0]) % n),
            );
          },
        ),
        runs,
      );
    });

    it(`zeroTestMatchesZero (${name}): zeroTest(E(m)) = (m = 0)`, async () => {
      const k = keys[name];
      const ms = fc.array(fc.oneof(fc.constant(0n), plaintext(k.pub.n)), { minLength: 1, maxLength: 5 });
      await fc.assert(
        fc.asyncProperty(ms, fc.constantFrom(...MODES), async (xs, mode) => {
          const got = await engine.zeroTest(k.privateKey, await engine.encrypt(k.publicKey, xs, { mode }));
          xs.forEach((m, i) => {
            expect(got[i], `${name} zeroTest [${i}] of a ${m.toString(2).length}-bit m`).toBe(m === 0n);
          });
        }),
        runs,
      );
    });

    it(`rerandomizeKeepsPlaintext (${name}): D(rerandomize(c)) = D(c), c changes`, async () => {
      const k = keys[name];
      await fc.assert(
        fc.asyncProperty(
          fc.array(plaintext(k.pub.n), { minLength: 1, maxLength: 3 }),
          fc.constantFrom(...MODES),
          async (ms, mode) => {
            const cs = await engine.encrypt(k.publicKey, ms);
            const fresh = await engine.rerandomize(k.publicKey, cs, { mode });
            expectSameValues(`${name} D(rerandomize) ${mode}`, await engine.decrypt(k.privateKey, fresh), ms);
            fresh.forEach((c, i) => {
              expect(c === cs[i], `${name} rerandomize ${mode} [${i}] changed the ciphertext`).toBe(false);
            });
          },
        ),
        runs,
      );
    });

    it(`decryptModPIsHalfADecryption (${name}): decryptModP(E(m)) = m mod p`, async () => {
      const k = keys[name];
      await fc.assert(
        fc.asyncProperty(fc.array(plaintext(k.pub.n), { maxLength: 4 }), async (ms) => {
          const got = await engine.decryptModP(k.privateKey, await engine.encrypt(k.publicKey, ms));
          expectSameValues(
            `${name} decryptModP`,
            got,
            ms.map((m) => m % k.priv.p!),
          );
        }),
        runs,
      );
    });

    it(`matchesPaillierBigint (${name}): same c for the same r; each decrypts the other's`, async () => {
      const k = keys[name];
      const { n } = k.pub;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(plaintext(n), unitBelow(n)), { minLength: 1, maxLength: 3 }),
          async (pairs) => {
            const ms = pairs.map(([m]) => m);
            const theirs = pairs.map(([m, r]) => k.publicKey.encrypt(m, r));
            const task = encryptTask(
              k.pub,
              ms,
              'standard',
              pairs.map(([, r]) => r),
            );
            expectSameValues(`${name} encrypt(m, r) vs paillier-bigint`, runTask(wasm, task), theirs);
            expectSameValues(`${name} we decrypt theirs`, await engine.decrypt(k.privateKey, theirs), ms);
            const ours = await engine.encrypt(k.publicKey, ms, { mode: 'djn' });
            expectSameValues(
              `${name} they decrypt ours`,
              ours.map((c) => k.privateKey.decrypt(c)),
              ms,
            );
          },
        ),
        { numRuns: 6 },
      );
    });
  }

  for (const name of LARGE) {
    it(`every law once at 2048 bits (${name})`, async () => {
      const k = keys[name];
      const { n } = k.pub;
      const a = [0n, 1n, n - 1n, randomBelow(n)];
      const b = [5n, n - 1n, 1n, randomBelow(n)];
      const ca = await engine.encrypt(k.publicKey, a);
      const cb = await engine.encrypt(k.publicKey, b, { mode: 'djn' });
      expectSameValues(`${name} decryptInvertsEncrypt`, await engine.decrypt(k.privateKey, ca), a);
      expectSameValues(
        `${name} addIsPlaintextSum`,
        await engine.decrypt(k.privateKey, await engine.add(k.publicKey, ca, cb)),
        a.map((x, i) => (x + b[i]) % n),
      );
      const ks = [3n, 0n, n + 5n, randomBits(2048)];
      for (const secret of [false, true]) {
        expectSameValues(
          `${name} multiplyScales secret=${secret}`,
          await engine.decrypt(k.privateKey, await engine.multiply(k.publicKey, ca, ks, { secret })),
          a.map((x, i) => mod(x * ks[i], n)),
        );
      }
      expect(await engine.zeroTest(k.privateKey, ca), `${name} zeroTestMatchesZero`).toEqual(
        a.map((x) => x === 0n),
      );
      expectSameValues(
        `${name} decryptModP`,
        await engine.decryptModP(k.privateKey, ca),
        a.map((x) => x % k.priv.p!),
      );
      const pool = await engine.rerandomize(k.publicKey, ca, { mode: 'pool' });
      expectSameValues(`${name} rerandomize`, await engine.decrypt(k.privateKey, pool), a);
    });
  }
});

describe('interop with paillier-bigint at 2048 bits, both ways', () => {
  for (const name of LARGE) {
    for (const mode of MODES) {
      it(`${name}, ${mode} mode: paillier-bigint decrypts ours`, async () => {
        const k = keys[name];
        const ms = [k.pub.n - 1n, randomBelow(k.pub.n)];
        const ours = await engine.encrypt(k.publicKey, ms, { mode });
        expectSameValues(
          `${name} pb.decrypt(ours ${mode})`,
          ours.map((c) => k.privateKey.decrypt(c)),
          ms,
        );
      });
    }
    it(`${name}: we decrypt paillier-bigint's ciphertexts and its add / multiply results`, async () => {
      const k = keys[name];
      const { n } = k.pub;
      const ms = [0n, 1n, n - 1n, randomBelow(n)];
      const theirs = ms.map((m) => k.publicKey.encrypt(m));
      expectSameValues(`${name} decrypt(theirs)`, await engine.decrypt(k.privateKey, theirs), ms);
      const sum = k.publicKey.addition(theirs[1], theirs[3]);
      const scaled = k.publicKey.multiply(theirs[3], 7n);
      expectSameValues(
        `${name} decrypt(their add, multiply)`,
        await engine.decrypt(k.privateKey, [sum, scaled]),
        [(1n + ms[3]) % n, (7n * ms[3]) % n],
      );
      const ourSum = await engine.add(k.publicKey, [theirs[1]], [theirs[3]]);
      expect(k.privateKey.decrypt(ourSum[0]), `${name} pb.decrypt(our add of theirs)`).toBe((1n + ms[3]) % n);
    });
  }
});

describe('a PrivateKey built without p and q (new PrivateKey(lambda, mu, publicKey))', () => {
  for (const name of [...SMALL, ...LARGE]) {
    it(`${name}: still decrypts, decryptModP and zero-tests`, async () => {
      const k = keys[name];
      const bare = new PrivateKey(k.privateKey.lambda, k.privateKey.mu, k.publicKey);
      const recovered = privateMaterial(bare);
      expect(recovered.p! * recovered.q!, `${name}: recovered p q`).toBe(k.pub.n);
      // a fresh engine: key contexts are cached per modulus (see 'key contexts' below)
      const own = await createEngine({ backend: 'wasm', workers: 0 });
      const ms = [0n, 1n, k.pub.n - 1n, randomBelow(k.pub.n)];
      const cs = await own.encrypt(k.publicKey, ms);
      expectSameValues(`${name} bare decrypt`, await own.decrypt(bare, cs), ms);
      expectSameValues(
        `${name} bare decryptModP`,
        await own.decryptModP(bare, cs),
        ms.map((m) => m % recovered.p!),
      );
      expect(await own.zeroTest(bare, cs), `${name} bare zeroTest`).toEqual(ms.map((m) => m === 0n));
      await own.close();
    });
  }
});

describe('primes of different word lengths, in either order', () => {
  // |p| = |q| + 1 crosses a word boundary here (513 vs 512 bits): pWords 17, qWords 16
  const vk = paillierVectors(1024).keys.find((v) => v.variant === 'random g')!;
  for (const [first, second] of [
    [vk.p, vk.q],
    [vk.q, vk.p],
  ]) {
    it(`p of ${first.toString(2).length} bits, q of ${second.toString(2).length} bits`, async () => {
      const own = await createEngine({ backend: 'wasm', workers: 0 });
      const sk = new PrivateKey(vk.lambda, vk.mu, vk.publicKey, first, second);
      const cs = vk.cases.map((c) => c.c);
      expectSameValues(
        'decrypt',
        await own.decrypt(sk, cs),
        vk.cases.map((c) => c.m),
      );
      expectSameValues(
        'decryptModP',
        await own.decryptModP(sk, cs),
        vk.cases.map((c) => c.m % first),
      );
      await own.close();
    });
  }
  it('g = n + 1 keys whose q has more words than p (keyPairFromPrimes(small, big))', async () => {
    const small = paillierVectors(1024).keys[0].q; // 512 bits
    const big = vk.p; // 513 bits
    const { publicKey, privateKey } = keyPairFromPrimes(small, big);
    const k = fixture('mixed', publicKey, privateKey);
    const ms = [0n, 1n, k.pub.n - 1n, randomBelow(k.pub.n)];
    const rs = ms.map(() => unit(k.pub.n));
    const cs = expectBackendsAgree('mixed encrypt', wasm, ref, encryptTask(k.pub, ms, 'standard', rs));
    for (const op of ['decrypt', 'decryptModP', 'zeroTest'] as const) {
      expectBackendsAgree(`mixed ${op}`, wasm, ref, privateTask(op, k.priv, cs));
    }
    expectSameValues('mixed decrypt', runTask(wasm, privateTask('decrypt', k.priv, cs)), ms);
  });
});

describe('key contexts are per key, not per modulus', () => {
  // The WASM backend caches key structs by fingerprint = SHA-256(n). Two keys with the
  // same n but another g (or the primes in the other order) must still each get their own.
  it('encrypt under (n, g2) after (n, n + 1) on one engine uses g2', async () => {
    const vk = paillierVectors(1024).keys[0];
    const other = sameModulusOtherG(vk.p, vk.q);
    const own = await createEngine({ backend: 'wasm', workers: 0 });
    const ms = [5n, 7n];
    await own.encrypt(vk.publicKey, ms);
    const cs = await own.encrypt(other.publicKey, ms);
    expectSameValues(
      'paillier-bigint decrypts E_(n, g2)(m)',
      cs.map((c) => other.privateKey.decrypt(c)),
      ms,
    );
    await own.close();
  });

  it('decrypt with (n, g2) after decrypting with (n, n + 1) on one engine uses g2', async () => {
    const vk = paillierVectors(1024).keys[0];
    const other = sameModulusOtherG(vk.p, vk.q);
    const own = await createEngine({ backend: 'wasm', workers: 0 });
    const ms = [5n, 7n];
    await own.decrypt(
      vk.privateKey,
      ms.map((m) => vk.publicKey.encrypt(m)),
    );
    expectSameValues(
      'decrypt E_(n, g2)(m)',
      await own.decrypt(
        other.privateKey,
        ms.map((m) => other.publicKey.encrypt(m)),
      ),
      ms,
    );
    await own.close();
  });

  it('decryptModP follows each key object own p when the primes come in the other order', async () => {
    const vk = paillierVectors(1024).keys[0];
    const pq = keyPairFromPrimes(vk.p, vk.q);
    const qp = keyPairFromPrimes(vk.q, vk.p);
    const own = await createEngine({ backend: 'wasm', workers: 0 });
    const ms = [12345678901234567890n, vk.n - 1n];
    const cs = ms.map((m) => pq.publicKey.encrypt(m));
    expectSameValues(
      'decryptModP with (p, q)',
      await own.decryptModP(pq.privateKey, cs),
      ms.map((m) => m % vk.p),
    );
    expectSameValues(
      'decryptModP with (q, p)',
      await own.decryptModP(qp.privateKey, cs),
      ms.map((m) => m % vk.q),
    );
    await own.close();
  });
});

describe('key context cache eviction (more keys than one WASM instance keeps)', () => {
  it('20 keys in turn, twice round: every op stays correct after the cache is reset', async () => {
    const own = await createEngine({ backend: 'wasm', workers: 0 });
    const many: KeyFixture[] = [keys['1024-bit random g']];
    for (let i = 0; i < 19; i++) many.push(await fedjoinKey(1024));
    for (let round = 0; round < 2; round++) {
      for (const [i, k] of many.entries()) {
        const label = `round ${round}, key ${i} (${k.label})`;
        const ms = [BigInt(i), k.pub.n - 1n];
        const cs = await own.encrypt(k.publicKey, ms, { mode: MODES[i % 3] });
        expectSameValues(`${label} decrypt`, await own.decrypt(k.privateKey, cs), ms);
        expect(await own.zeroTest(k.privateKey, cs), `${label} zeroTest`).toEqual([i === 0, false]);
        expect(k.privateKey.decrypt(cs[1]), `${label} pb decrypt`).toBe(k.pub.n - 1n);
      }
    }
    await own.close();
  });
});

describe('batch boundaries and the packed form', () => {
  it('batches of 0, 1 and 17 values through every op', async () => {
    const k = keys['1024-bit g=n+1'];
    const { n } = k.pub;
    for (const size of [0, 1, 17]) {
      const ms = Array.from({ length: size }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n) % n);
      const cs = await engine.encrypt(k.publicKey, ms);
      expect(cs.length, `encrypt ${size}`).toBe(size);
      expectSameValues(`decrypt ${size}`, await engine.decrypt(k.privateKey, cs), ms);
      expectSameValues(
        `add ${size}`,
        await engine.decrypt(k.privateKey, await engine.add(k.publicKey, cs, cs)),
        ms.map((m) => (2n * m) % n),
      );
      expectSameValues(
        `multiply ${size}`,
        await engine.decrypt(k.privateKey, await engine.multiply(k.publicKey, cs, 3n)),
        ms.map((m) => (3n * m) % n),
      );
      expect(await engine.zeroTest(k.privateKey, cs), `zeroTest ${size}`).toEqual(ms.map((m) => m === 0n));
      expect((await engine.rerandomize(k.publicKey, cs)).length, `rerandomize ${size}`).toBe(size);
      expect((await engine.decryptModP(k.privateKey, cs)).length, `decryptModP ${size}`).toBe(size);
    }
  });

  it('encryptPacked takes n-word plaintexts and returns n^2-word ciphertexts', async () => {
    const k = keys['1024-bit random g'];
    const ms = [0n, 1n, k.pub.n - 1n];
    const words = keyWords(k.pub);
    const packed = await engine.encryptPacked(k.publicKey, pack(ms, wordsFor(k.pub.n)), { mode: 'djn' });
    expect(packed.words).toBe(words.n2);
    expect(packed.count).toBe(3);
    expectSameValues('packed round trip', await engine.decrypt(k.privateKey, unpack(packed)), ms);
  });

  it('every packed form equals its bigint form, on the WASM and the BigInt engine', async () => {
    const k = keys['1024-bit random g'];
    const { n } = k.pub;
    const n2Words = keyWords(k.pub).n2;
    const ms = [0n, 1n, n - 1n, 42n];
    for (const eng of [engine, refEngine]) {
      const cs = await eng.encrypt(k.publicKey, ms);
      const packed = pack(cs, n2Words);
      expectSameValues('decryptPacked', unpack(await eng.decryptPacked(k.privateKey, packed)), ms);
      expect(Array.from(await eng.zeroTestPacked(k.privateKey, packed)), 'zeroTestPacked').toEqual([
        1, 0, 0, 0,
      ]);
      const sums = await eng.addPacked(k.publicKey, packed, packed);
      expectSameValues(
        'addPacked',
        await eng.decrypt(k.privateKey, unpack(sums)),
        ms.map((m) => (2n * m) % n),
      );
      const scaled = await eng.multiplyPacked(k.publicKey, packed, [1n, 2n, 3n, 4n]);
      expectSameValues(
        'multiplyPacked',
        await eng.decrypt(k.privateKey, unpack(scaled)),
        ms.map((m, i) => (BigInt(i + 1) * m) % n),
      );
      const fresh = await eng.rerandomizePacked(k.publicKey, packed);
      expect(
        unpack(fresh).some((c, i) => c === cs[i]),
        'rerandomizePacked changes every ciphertext',
      ).toBe(false);
      expectSameValues('rerandomizePacked', await eng.decrypt(k.privateKey, unpack(fresh)), ms);
      expectSameValues(
        'inversePacked',
        unpack(await eng.inversePacked(k.publicKey, packed)),
        await eng.inverse(k.publicKey, cs),
      );
      // row tables of E(m) and of fresh E(m)^-1, then every pair: zero exactly where the plaintexts are equal
      const inverses = await eng.inverse(k.publicKey, await eng.encrypt(k.publicKey, ms));
      const tables = await eng.joinTablesPacked(k.publicKey, pack([...cs, ...inverses], n2Words));
      const half = (tables.count / 2) * tables.words;
      const indicators = await eng.joinPairsPacked(
        k.publicKey,
        { words: tables.words, count: ms.length, data: tables.data.subarray(0, half) },
        { words: tables.words, count: ms.length, data: tables.data.subarray(half) },
      );
      expect(
        await eng.zeroTest(k.privateKey, unpack(indicators)),
        'joinTablesPacked + joinPairsPacked',
      ).toEqual(ms.flatMap((a) => ms.map((b) => a === b)));
    }
  });

  it('the same batch on the bigint engine decrypts the same', async () => {
    const k = keys['1024-bit random g'];
    const ms = [0n, 1n, k.pub.n - 1n, 42n];
    for (const mode of MODES) {
      const cs = await refEngine.encrypt(k.publicKey, ms, { mode });
      expectSameValues(`bigint engine ${mode}`, await engine.decrypt(k.privateKey, cs), ms);
      expectSameValues(
        `bigint engine decrypts wasm ${mode}`,
        await refEngine.decrypt(k.privateKey, await engine.encrypt(k.publicKey, ms, { mode })),
        ms,
      );
    }
  });
});

describe('the randomness pool', () => {
  it('is filled up to its capacity, drained by pool encryptions, and never hands out an r^n twice', async () => {
    const k = keys['1024-bit g=n+1'];
    const own = await createEngine({ backend: 'wasm', workers: 0, randomnessPoolCapacity: 6 });
    expect(own.randomnessPoolSize(k.publicKey)).toBe(0);
    expect(await own.fillRandomnessPool(k.publicKey, 4)).toBe(4);
    expect(await own.fillRandomnessPool(k.publicKey, 10), 'capped at capacity 6').toBe(6);
    const ms = [7n, 7n, 7n];
    const first = await own.encrypt(k.publicKey, ms, { mode: 'pool' });
    expect(own.randomnessPoolSize(k.publicKey)).toBe(3);
    // 5 values: 3 from the pool, 2 computed on the spot
    const second = await own.encrypt(k.publicKey, [7n, 7n, 7n, 7n, 7n], { mode: 'pool' });
    expect(own.randomnessPoolSize(k.publicKey)).toBe(0);
    const all = [...first, ...second];
    expect(new Set(all).size, 'distinct ciphertexts of the same m').toBe(all.length);
    expectSameValues(
      'pool ciphertexts decrypt',
      await own.decrypt(k.privateKey, all),
      all.map(() => 7n),
    );
    await own.close();
  });

  it("an engine's default encryption mode applies when a call names none", async () => {
    const k = keys['1024-bit random g'];
    for (const encryption of MODES) {
      const own = await createEngine({ backend: 'wasm', workers: 0, encryption });
      const ms = [0n, 99n];
      expectSameValues(
        `default ${encryption}`,
        (await own.encrypt(k.publicKey, ms)).map((c) => k.privateKey.decrypt(c)),
        ms,
      );
      await own.close();
    }
  });

  it('r^n made ahead of time matches r^n by modPow', () => {
    const k = keys['1024-bit random g'];
    const rs = [1n, k.pub.n - 1n, unit(k.pub.n)];
    const got = runTask(wasm, randomFactorTask(k.pub, 'standard', rs));
    expectSameValues(
      'randomFactor',
      got,
      rs.map((r) => modPowBig(r, k.pub.n, k.pub.n * k.pub.n)),
    );
  });
});
