// Kernel tasks: plain, structured-cloneable data that a backend (WASM in this thread, a
// Piscina worker, or the BigInt reference) turns into a packed result. Every value of a
// batch sits at a fixed word stride; randomness is drawn before a task is made, so a
// task is a pure function of its fields and a retried shard yields identical bytes.
import type { KeyMaterial } from './keys.js';
import { wordsFor } from './limbs.js';

/** How the r^n factor of encrypt / re-randomise is obtained (DESIGN §2). */
export type RandomMode = 'standard' | 'djn' | 'pool';

interface Batch {
  /** Number of values. */
  count: number;
  /** count values of the task's input stride. */
  input: Uint32Array;
}

export type KernelTask =
  | (Batch & { op: 'encrypt'; key: KeyMaterial; mode: RandomMode; rand: Uint32Array; randWords: number })
  | (Batch & { op: 'randomFactor'; key: KeyMaterial; mode: Exclude<RandomMode, 'pool'>; randWords: number })
  | (Batch & { op: 'rerandomize'; key: KeyMaterial; mode: RandomMode; rand: Uint32Array; randWords: number })
  | (Batch & { op: 'add'; key: KeyMaterial; input2: Uint32Array })
  | (Batch & { op: 'decrypt' | 'decryptModP' | 'zeroTest'; key: KeyMaterial })
  | (Batch & {
      /**
       * Slot packing (DESIGN §2): count rows of `slots` ciphertexts each (input, row-major),
       * one per row out: Horner acc = acc^(2^widths[s]) * c_s from the top slot down.
       */
      op: 'packSlots';
      key: KeyMaterial;
      slots: number;
      /** the widths of slots 0 .. slots - 2, in bits */
      widths: Uint32Array;
    })
  | (Batch & {
      op: 'multiply';
      key: KeyMaterial;
      exp: Uint32Array;
      expWords: number;
      /** 0: one exponent for every value; else expWords. */
      expStride: number;
      secret: boolean;
    })
  | (Batch & {
      /**
       * The nested-loop join (DESIGN §3.1) over a tile: count left rows (input: keyCols
       * ciphertexts each) against cols right rows (tile: their inverses E(b)^-1, keyCols
       * each), one indicator prod_c (E(a_ic) E(b_jc)^-1)^rho_ijc per pair, row-major.
       */
      op: 'joinTile';
      key: KeyMaterial;
      /** cols x keyCols inverses of n2 words; every shard gets all of it. */
      tile: Uint32Array;
      cols: number;
      keyCols: number;
      /** The secret rho_ijc, each of n words, in [1, n): count x randWords words. */
      rand: Uint32Array;
      /** cols * keyCols * (words of n): the rhos of one left row. */
      randWords: number;
    })
  | (Batch & {
      op: 'modPow';
      modulus: bigint;
      exp: Uint32Array;
      expWords: number;
      expStride: number;
      secret: boolean;
    });

export type KernelOp = KernelTask['op'];

/** Something that runs kernel tasks: the WASM host or the BigInt reference. */
export interface KernelBackend {
  run(task: KernelTask): Uint32Array;
}

/** Words per value: n, n^2 and p of a key (the codec's strides). */
export function keyWords(key: KeyMaterial): { n: number; n2: number; p: number; q: number } {
  return {
    n: wordsFor(key.n),
    n2: wordsFor(key.n * key.n),
    p: key.p === undefined ? 0 : wordsFor(key.p),
    q: key.q === undefined ? 0 : wordsFor(key.q),
  };
}
