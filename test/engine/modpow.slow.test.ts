import { beforeAll, describe, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { assertModPowAgrees, expectSameValues, modPowTask, runTask } from '../helpers/tasks.js';
import { modPowVectors } from '../helpers/vectors.js';

const vectors = modPowVectors();

let wasm: WasmBackend;
let ref: BigintBackend;
beforeAll(async () => {
  wasm = await WasmBackend.create();
  ref = new BigintBackend();
});

describe(`every known answer, both paths and the reference: ${vectors.source}`, () => {
  for (const group of vectors.groups) {
    const name = `${group.bits}-bit modulus (${group.label})`;
    for (const [label, backend, secret] of [
      ['wasm public', () => wasm, false],
      ['wasm secret', () => wasm, true],
      ['bigint', () => ref, false],
    ] as const) {
      it(`${name}: ${label}`, () => {
        group.exponents.forEach((e, j) => {
          expectSameValues(
            `${name} ${label}, e = ${group.exponentLabels[j]}`,
            runTask(backend(), modPowTask(group.modulus, group.bases, [e], secret)),
            group.results.map((row) => row[j]),
          );
        });
      });
    }
  }
});

describe('wasm matches the BigInt reference: more runs at the large sizes', () => {
  for (const [modBits, numRuns] of [
    [1024, 200],
    [2048, 60],
    [3072, 20],
    [4096, 12],
    [6144, 4],
    [8192, 3],
  ] as const) {
    for (const secret of [false, true]) {
      it(`${modBits}-bit moduli, ${secret ? 'secret' : 'public'} full-size exponents`, () => {
        assertModPowAgrees(wasm, ref, modBits, modBits, secret, numRuns, 2);
      });
    }
  }
});
