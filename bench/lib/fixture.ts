// What every case shares, made once per run: a fresh 2048-bit key pair (g = n + 1), one
// in-thread WASM engine and one BigInt-reference engine (workers: 0, single thread), and
// the plain-BigInt and gmp-wasm Paillier peers over the same key.

import { randomBelow } from '../../src/engine/modular.js';
import { createEngine, type Engine, generateKeys, type KeyPair } from '../../src/index.js';
import { CrtPaillier, plainArithmetic } from './crt-paillier.js';
import type { Gmp } from './gmp.js';

export const KEY_BITS = 2048;

export interface Fixture {
  readonly keys: KeyPair;
  /** In-thread WASM engine; its randomness pool serves the 'pool' rows. */
  readonly wasm: Engine;
  readonly bigint: Engine;
  readonly plain: CrtPaillier;
  /** Absent when gmp-wasm (a dev dependency) cannot be loaded; see gmpMissing. */
  readonly gmp?: Gmp;
  readonly gmpPaillier?: CrtPaillier;
  readonly gmpMissing?: string;
  close(): Promise<void>;
}

export async function createFixture(): Promise<Fixture> {
  const keys = await generateKeys(KEY_BITS);
  const wasm = await createEngine({ backend: 'wasm', workers: 0, randomnessPoolCapacity: 4096 });
  const bigint = await createEngine({ backend: 'bigint' });
  let gmp: Gmp | undefined;
  let gmpMissing: string | undefined;
  try {
    gmp = await (await import('./gmp.js')).Gmp.load();
  } catch (err) {
    gmpMissing = `gmp-wasm not loaded: ${(err as Error).message}`;
  }
  return {
    keys,
    wasm,
    bigint,
    plain: new CrtPaillier(keys, plainArithmetic),
    gmp,
    gmpPaillier: gmp && new CrtPaillier(keys, gmp),
    gmpMissing,
    async close() {
      await Promise.all([wasm.close(), bigint.close()]);
    },
  };
}

/** `count` values uniform in [0, bound). */
export function uniform(bound: bigint, count: number): bigint[] {
  return Array.from({ length: count }, () => randomBelow(bound));
}

/** `count` values of exactly `bits` bits (top bit set), odd when `odd`. */
export function exactBits(bits: number, count: number, odd = false): bigint[] {
  const top = 1n << BigInt(bits - 1);
  return uniform(top, count).map((x) => (x | top | (odd ? 1n : 0n)) as bigint);
}
