import { beforeAll, describe, expect, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { modPowBig, randomBits } from '../../src/engine/modular.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import {
  assertModPowAgrees,
  bits,
  expectBackendsAgree,
  expectSameValues,
  modPowTask,
  runTask,
} from '../helpers/tasks.js';
import { modPowVectors } from '../helpers/vectors.js';

const vectors = modPowVectors();

let wasm: WasmBackend;
let ref: BigintBackend;
beforeAll(async () => {
  wasm = await WasmBackend.create();
  ref = new BigintBackend();
});

describe(`known answers: ${vectors.source}`, () => {
  it('cover every size class 64..8192 bits', () => {
    expect(new Set(vectors.groups.map((g) => g.bits))).toEqual(new Set([64, 127, 1024, 2048, 4096, 8192]));
  });

  for (const group of vectors.groups) {
    const name = `${group.bits}-bit modulus (${group.label})`;
    // 8192-bit moduli: full-size exponents on one base here, all of them in the slow suite
    const cheap = (j: number) => group.bits < 8192 || bits(group.exponents[j]) <= 64;
    for (const secret of [false, true]) {
      it(`${name}, ${secret ? 'secret' : 'public'} path: wasm gives pow(b, e, N)`, () => {
        group.exponents.forEach((e, j) => {
          const rows = group.bases.map((_, i) => i).filter((i) => cheap(j) || i === group.bases.length - 1);
          const got = runTask(
            wasm,
            modPowTask(
              group.modulus,
              rows.map((i) => group.bases[i]),
              [e],
              secret,
            ),
          );
          expectSameValues(
            `${name}, e = ${group.exponentLabels[j]}`,
            got,
            rows.map((i) => group.results[i][j]),
          );
        });
      });
    }
    it(`${name}: the BigInt reference gives pow(b, e, N)`, () => {
      group.exponents.forEach((e, j) => {
        if (!cheap(j)) return;
        const got = runTask(ref, modPowTask(group.modulus, group.bases, [e], false));
        expectSameValues(
          `${name} bigint, e = ${group.exponentLabels[j]}`,
          got,
          group.results.map((row) => row[j]),
        );
      });
    });
    it(`${name}: one batch with one exponent per base (exponent stride)`, () => {
      const short = (j: number) => group.bits < 4096 || bits(group.exponents[j]) <= 64;
      const js = group.exponents.map((_, j) => j).filter(short);
      const bases = js.flatMap(() => group.bases);
      const es = js.flatMap((j) => group.bases.map(() => group.exponents[j]));
      const want = js.flatMap((j) => group.results.map((row) => row[j]));
      for (const secret of [false, true]) {
        expectSameValues(
          `${name} strided ${secret ? 'secret' : 'public'}`,
          runTask(wasm, modPowTask(group.modulus, bases, es, secret)),
          want,
        );
      }
    });
  }
});

describe('wasm matches the BigInt reference on random and edge inputs', () => {
  // [modulus bits, fast-check runs, exponent bits]
  const classes: [number, number, number][] = [
    [64, 60, 64],
    [65, 30, 70],
    [127, 60, 127],
    [128, 30, 128],
    [1024, 20, 1024],
    [2048, 6, 2048],
  ];
  for (const [modBits, numRuns, expBits] of classes) {
    for (const secret of [false, true]) {
      it(`${modBits}-bit odd moduli, ${secret ? 'secret' : 'public'} exponents of up to ${expBits} bits`, () => {
        assertModPowAgrees(wasm, ref, modBits, expBits, secret, numRuns, 4);
      });
    }
  }

  // Few samples at the large sizes: moduli of key-sized n, n^2 and p^2 shapes
  const large = [3072, 4096, 6144, 8192];
  for (const modBits of large) {
    it(`${modBits}-bit modulus: one random base, exponents 0, 1, ones(64) and a 256-bit random`, () => {
      const m = randomBits(modBits) | (1n << BigInt(modBits - 1)) | 1n;
      const b = randomBits(modBits - 1);
      const es = [0n, 1n, (1n << 64n) - 1n, randomBits(256)];
      for (const secret of [false, true]) {
        expectBackendsAgree(
          `modPow ${modBits}-bit ${secret ? 'secret' : 'public'}`,
          wasm,
          ref,
          modPowTask(
            m,
            es.map(() => b),
            es,
            secret,
          ),
        );
      }
    });
  }
  for (const modBits of [3072, 4096]) {
    it(`${modBits}-bit modulus: a full-size exponent, both paths`, () => {
      const m = randomBits(modBits) | (1n << BigInt(modBits - 1)) | 1n;
      const b = randomBits(modBits - 1);
      const e = randomBits(modBits);
      const want = modPowBig(b, e, m);
      for (const secret of [false, true]) {
        expectSameValues(
          `modPow ${modBits}-bit full exponent ${secret ? 'secret' : 'public'}`,
          runTask(wasm, modPowTask(m, [b], [e], secret)),
          [want],
        );
      }
    });
  }
});

describe('edges of the modulus and exponent ranges', () => {
  const moduli = [
    3n,
    5n,
    0xffffffffn,
    (1n << 32n) + 1n,
    (1n << 64n) - 1n,
    (1n << 64n) + 1n,
    (1n << 127n) - 1n,
    (1n << 1024n) - 1n,
    (1n << 1023n) + 1n,
    (1n << 8192n) - 1n,
  ];
  for (const m of moduli) {
    it(`${bits(m)}-bit modulus ${m < 1n << 70n ? `0x${m.toString(16)}` : `2^${bits(m)} +- 1`}: bases 0, 1, 2, N-1`, () => {
      const bs = [0n, 1n, 2n % m, m - 1n];
      const es = [0n, 1n, 2n, (1n << 64n) - 1n, 1n << 64n, (1n << 96n) + 1n];
      for (const secret of [false, true]) {
        for (const e of es) {
          expectBackendsAgree(
            `${bits(m)}-bit, ${bits(e)}-bit exponent, ${secret ? 'secret' : 'public'}`,
            wasm,
            ref,
            modPowTask(m, bs, [e], secret),
          );
        }
      }
    });
  }

  it('exponents far longer than the modulus (64-bit modulus, 3000-bit exponent)', () => {
    const m = (1n << 63n) + 29n;
    const es = [randomBits(3000), (1n << 3000n) - 1n];
    for (const secret of [false, true]) {
      expectBackendsAgree('long exponent', wasm, ref, modPowTask(m, [12345n, m - 2n], es, secret));
    }
  });

  it('exponents of mixed word lengths in one batch (padded to a common width)', () => {
    const m = (1n << 200n) + 235n;
    const es = [0n, 1n, (1n << 32n) - 1n, 1n << 32n, randomBits(190), (1n << 200n) - 1n];
    const bs = es.map((_, i) => BigInt(i + 3) ** 40n % m);
    for (const secret of [false, true])
      expectBackendsAgree('mixed widths', wasm, ref, modPowTask(m, bs, es, secret));
  });

  it('stays correct after more moduli than the context cache holds (eviction)', () => {
    const moduli = Array.from({ length: 20 }, (_, i) => (1n << BigInt(100 + 7 * i)) + BigInt(2 * i + 1));
    const e = (1n << 80n) - 3n;
    for (let round = 0; round < 2; round++) {
      for (const m of moduli) {
        expectBackendsAgree(
          `eviction round ${round}, ${bits(m)}-bit`,
          wasm,
          ref,
          modPowTask(m, [7n, m - 1n], [e], false),
        );
      }
    }
  });
});

describe('Engine.modPow on both backends', () => {
  let engines: { wasm: Engine; bigint: Engine };
  beforeAll(async () => {
    engines = {
      wasm: await createEngine({ backend: 'wasm', workers: 0 }),
      bigint: await createEngine({ backend: 'bigint' }),
    };
  });

  it('broadcasts one exponent, or takes one per base; empty and single batches', async () => {
    const m = (1n << 521n) - 1n;
    const bs = [0n, 1n, m - 1n, 3n, randomBits(520)];
    const es = bs.map((_, i) => randomBits(64 * (i + 1)));
    for (const backend of ['wasm', 'bigint'] as const) {
      const engine = engines[backend];
      for (const secret of [false, true]) {
        const label = `${backend} ${secret ? 'secret' : 'public'}`;
        expectSameValues(
          `${label} broadcast`,
          await engine.modPow(bs, 65537n, m, { secret }),
          bs.map((b) => modPowBig(b, 65537n, m)),
        );
        expectSameValues(
          `${label} per base`,
          await engine.modPow(bs, es, m, { secret }),
          bs.map((b, i) => modPowBig(b, es[i], m)),
        );
        expect(await engine.modPow([], 5n, m, { secret }), `${label} empty`).toEqual([]);
        expect(await engine.modPow([], [], m, { secret }), `${label} empty, no exponents`).toEqual([]);
        expect(await engine.modPow([5n], [3n], m, { secret }), `${label} single`).toEqual([125n]);
      }
    }
  });
});
