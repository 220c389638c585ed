// Paillier operations at n = 2048 bits (issue 2 item 6): encrypt in each fedjoin mode,
// CRT decrypt, add, scalar multiply and the zero test, beside paillier-bigint, the same
// formulas in plain BigInt, and in gmp-wasm. Plaintexts and scalars are uniform in [0, n):
// paillier-bigint computes g^m by a full modPow, whose cost grows with m.
import type { Engine } from '../../src/index.js';
import { type Fixture, KEY_BITS, uniform } from '../lib/fixture.js';
import { BATCHES, type BenchCase, type Columns, defineCase, type Impl, ROTATION } from '../lib/types.js';

type Ints = readonly bigint[];

/** The peers every operation has: paillier-bigint, plain BigInt, gmp-wasm (when loaded). */
function peers<V extends Columns>(
  fx: Fixture,
  rows: {
    paillier: (input: V) => readonly unknown[];
    plain: (input: V) => readonly unknown[];
    gmp: (input: V) => readonly unknown[];
    paillierNote?: string;
  },
): Impl<V>[] {
  const list: Impl<V>[] = [
    {
      label: 'paillier-bigint',
      family: 'paillier-bigint',
      wasm: false,
      async: false,
      run: rows.paillier,
      note: rows.paillierNote,
    },
    { label: 'plain-bigint', family: 'plain-bigint', wasm: false, async: false, run: rows.plain },
  ];
  if (fx.gmpPaillier)
    list.push({ label: 'gmp-wasm', family: 'gmp-wasm', wasm: true, async: false, run: rows.gmp });
  return list;
}

function engineRow<V extends Columns>(
  label: string,
  engine: Engine,
  run: (engine: Engine, input: V) => Promise<readonly unknown[]>,
  note?: string,
): Impl<V> {
  const wasm = engine.backend === 'wasm';
  return {
    label,
    family: wasm ? 'fedjoin-wasm' : 'fedjoin-bigint',
    wasm,
    async: true,
    run: (input) => run(engine, input),
    note,
  };
}

/** The 'pool' row: r^n values made by fillRandomnessPool before each phase, outside the timed region. */
function poolRow(fx: Fixture): Impl<{ m: Ints }> {
  const pk = fx.keys.publicKey;
  const row: Impl<{ m: Ints }> = {
    label: 'fedjoin-wasm pool (online)',
    family: 'fedjoin-wasm',
    wasm: true,
    async: true,
    run: (input) => fx.wasm.encrypt(pk, input.m, { mode: 'pool' }),
    async prepare(calls, batch) {
      // one value more than the phase takes: a pool left non-empty proves no call ran short
      const missing = calls * batch + 1 - fx.wasm.randomnessPoolSize(pk);
      if (missing <= 0) return;
      const start = performance.now();
      await fx.wasm.fillRandomnessPool(pk, missing);
      const perValue = (performance.now() - start) / missing;
      row.note = `online part only: pool filled by fillRandomnessPool outside the timed region (offline cost ${perValue.toFixed(1)} ms/value)`;
    },
    afterPhase() {
      if (fx.wasm.randomnessPoolSize(pk) < 1) {
        throw new Error('randomness pool ran short during a timed phase: some r^n was computed online');
      }
    },
    note: 'online part only: pool filled by fillRandomnessPool outside the timed region',
  };
  return row;
}

const encrypt = defineCase<{ m: Ints }>({
  id: `encrypt.${KEY_BITS}`,
  title: `encrypt, n = ${KEY_BITS} bits, m uniform in [0, n)`,
  batches: BATCHES,
  async setup(fx) {
    const { publicKey: pk, privateKey: sk } = fx.keys;
    const n2 = pk.n * pk.n;
    const m = uniform(pk.n, ROTATION);
    const enc = (mode: 'standard' | 'djn') => (e: Engine, input: { m: Ints }) =>
      e.encrypt(pk, input.m, { mode });
    return {
      values: { m },
      impls: [
        engineRow('fedjoin-wasm standard', fx.wasm, enc('standard')),
        engineRow(
          'fedjoin-wasm djn',
          fx.wasm,
          enc('djn'),
          'fixed-base h_n^a, |a| = n/2 bits (DJN short-exponent assumption)',
        ),
        poolRow(fx),
        engineRow('fedjoin-bigint', fx.bigint, enc('standard'), 'BigInt reference backend, standard mode'),
        ...peers<{ m: Ints }>(fx, {
          paillier: (input) => input.m.map((x) => pk.encrypt(x)),
          plain: (input) => input.m.map((x) => fx.plain.encrypt(x)),
          gmp: (input) => input.m.map((x) => fx.gmpPaillier!.encrypt(x)),
          paillierNote: 'g^m and r^n by two full modPows',
        }),
      ],
      expected: m,
      // ciphertexts are random: each impl's must lie in [1, n^2) and decrypt (by paillier-bigint) to m
      canonical: (cs) =>
        cs.map((c) => (typeof c === 'bigint' && c > 0n && c < n2 ? sk.decrypt(c) : `not a ciphertext: ${c}`)),
    };
  },
});

/** 16 ciphertexts of `ms`, made by the WASM engine's DJN mode (fast; checked by every decrypt). */
function ciphertexts(fx: Fixture, ms: Ints): Promise<bigint[]> {
  return fx.wasm.encrypt(fx.keys.publicKey, ms, { mode: 'djn' });
}

const decrypt = defineCase<{ c: Ints }>({
  id: `decrypt.${KEY_BITS}`,
  title: `decrypt, n = ${KEY_BITS} bits`,
  batches: BATCHES,
  async setup(fx) {
    const { privateKey: sk } = fx.keys;
    const m = uniform(fx.keys.publicKey.n, ROTATION);
    const c = await ciphertexts(fx, m);
    return {
      values: { c },
      impls: [
        engineRow('fedjoin-wasm', fx.wasm, (e, input) => e.decrypt(sk, input.c), 'CRT'),
        engineRow(
          'fedjoin-bigint',
          fx.bigint,
          (e, input) => e.decrypt(sk, input.c),
          'textbook c^lambda mod n^2',
        ),
        ...peers<{ c: Ints }>(fx, {
          paillier: (input) => input.c.map((x) => sk.decrypt(x)),
          plain: (input) => input.c.map((x) => fx.plain.decrypt(x)),
          gmp: (input) => input.c.map((x) => fx.gmpPaillier!.decrypt(x)),
          paillierNote: 'CRT (its key holds p, q)',
        }),
      ],
      expected: m,
    };
  },
});

const add = defineCase<{ a: Ints; b: Ints }>({
  id: `add.${KEY_BITS}`,
  title: `add E(a) * E(b) mod n^2, n = ${KEY_BITS} bits`,
  batches: BATCHES,
  async setup(fx) {
    const { publicKey: pk } = fx.keys;
    const n2 = pk.n * pk.n;
    const a = await ciphertexts(fx, uniform(pk.n, ROTATION));
    const b = await ciphertexts(fx, uniform(pk.n, ROTATION));
    return {
      values: { a, b },
      impls: [
        engineRow('fedjoin-wasm', fx.wasm, (e, input: { a: Ints; b: Ints }) => e.add(pk, input.a, input.b)),
        engineRow('fedjoin-bigint', fx.bigint, (e, input: { a: Ints; b: Ints }) =>
          e.add(pk, input.a, input.b),
        ),
        ...peers<{ a: Ints; b: Ints }>(fx, {
          paillier: (input) => input.a.map((x, i) => pk.addition(x, input.b[i])),
          plain: (input) => input.a.map((x, i) => fx.plain.add(x, input.b[i])),
          gmp: (input) => input.a.map((x, i) => fx.gmpPaillier!.add(x, input.b[i])),
        }),
      ],
      expected: a.map((x, i) => (x * b[i]) % n2),
    };
  },
});

const multiply = defineCase<{ c: Ints; k: Ints }>({
  id: `multiply.${KEY_BITS}`,
  title: `scalar multiply E(m)^k mod n^2, n = ${KEY_BITS} bits, k uniform in [0, n)`,
  batches: BATCHES,
  async setup(fx) {
    const { publicKey: pk } = fx.keys;
    const c = await ciphertexts(fx, uniform(pk.n, ROTATION));
    const k = uniform(pk.n, ROTATION);
    return {
      values: { c, k },
      impls: [
        engineRow('fedjoin-wasm', fx.wasm, (e, input: { c: Ints; k: Ints }) =>
          e.multiply(pk, input.c, input.k),
        ),
        engineRow('fedjoin-bigint', fx.bigint, (e, input: { c: Ints; k: Ints }) =>
          e.multiply(pk, input.c, input.k),
        ),
        ...peers<{ c: Ints; k: Ints }>(fx, {
          paillier: (input) => input.c.map((x, i) => pk.multiply(x, input.k[i])),
          plain: (input) => input.c.map((x, i) => fx.plain.multiply(x, input.k[i])),
          gmp: (input) => input.c.map((x, i) => fx.gmpPaillier!.multiply(x, input.k[i])),
        }),
      ],
    };
  },
});

const zeroTest = defineCase<{ c: Ints }>({
  id: `zeroTest.${KEY_BITS}`,
  title: `zero test (is D(c) = 0?), n = ${KEY_BITS} bits, every other c encrypts 0`,
  batches: BATCHES,
  async setup(fx) {
    const { privateKey: sk } = fx.keys;
    const m = uniform(fx.keys.publicKey.n, ROTATION).map((x, i) => (i % 2 === 0 ? 0n : x));
    const c = await ciphertexts(fx, m);
    return {
      values: { c },
      impls: [
        engineRow('fedjoin-wasm', fx.wasm, (e, input) => e.zeroTest(sk, input.c), 'c^(p-1) mod p^2 = 1'),
        engineRow('fedjoin-bigint', fx.bigint, (e, input) => e.zeroTest(sk, input.c), 'textbook decrypt = 0'),
        ...peers<{ c: Ints }>(fx, {
          // the target compares the zero test with paillier-bigint's decrypt
          paillier: (input) => input.c.map((x) => sk.decrypt(x) === 0n),
          plain: (input) => input.c.map((x) => fx.plain.isZero(x)),
          gmp: (input) => input.c.map((x) => fx.gmpPaillier!.isZero(x)),
          paillierNote: 'its decrypt, then = 0 (no zero test of its own)',
        }),
      ],
      expected: m.map((x) => x === 0n),
    };
  },
});

export const cases: BenchCase[] = [encrypt, decrypt, add, multiply, zeroTest];
