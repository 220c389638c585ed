// Kernel tasks: plain, structured-cloneable data that a backend (WASM in this thread, a
// Piscina worker, or the BigInt reference) turns into a packed result. Every value of a
// batch sits at a fixed word stride; randomness is drawn before a task is made, so a
// task is a pure function of its fields and a retried shard yields identical bytes.
// Paillier tasks carry their key as KeyMaterial; ristretto255 tasks (the hashed join's EC
// ElGamal tags, DESIGN §3.2) carry 32-byte encodings and scalars as 8 words each.
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
       * The nested-loop join's row tables (DESIGN §3.1): for each of count ciphertexts x
       * (input, canonical, n2 words), the teeth * blocks powers x^(2^(r a + k b)) mod n^2
       * of the comb (joinCombPositions), value k * teeth + r, n2 words each.
       */
      op: 'joinTables';
      key: KeyMaterial;
      teeth: number;
      blocks: number;
    })
  | (Batch & {
      /**
       * One tile of the nested-loop join (DESIGN §3.1): count left rows (input: their row
       * tables) against cols right rows (tile: the tables of their inverses E(b)^-1), one
       * indicator (x_i y_j)^rho_ij mod n^2 per pair, row-major.
       */
      op: 'joinPairs';
      key: KeyMaterial;
      teeth: number;
      blocks: number;
      /** cols right tables; every shard gets all of it. */
      tile: Uint32Array;
      cols: number;
      /**
       * rho_ij pinned by a test, count x randWords words (n words per pair). Absent in
       * production: the backend that runs the shard draws each rho_ij uniform in [1, n)
       * from node:crypto and wipes it (DESIGN §7: A's workers draw rho themselves).
       */
      rand?: Uint32Array;
      /** cols * (words of n): the rhos of one left row. */
      randWords: number;
    })
  | (EcBatch & {
      /**
       * §3.2 step 1 (owner): per 64-byte input (16 words of HMAC output), T = from_hash(input)
       * encrypted under B's EC key: (rG, T + rY), 16 words out.
       */
      op: 'ecEncryptTags';
      /** r per value, 8 words each, in [1, L). */
      rand: Uint32Array;
      randWords: number;
    })
  | (EcBatch & {
      /**
       * A's re-randomisers for §3.2 step 2: per value (r'G, r'Y), an encryption of the
       * identity under B's EC key, 16 words out; no input.
       */
      op: 'ecRerandomizers';
      /** r' per value, 8 words each, in [1, L). */
      rand: Uint32Array;
      randWords: number;
    })
  | (EcBatch & {
      /**
       * §3.2 step 2 (server A): per ciphertext (R, C), 16 words, (alpha R + r'G, alpha C + r'Y)
       * with (r'G, r'Y) from `rand`: an encryption of alpha T under fresh randomness, 16 words out.
       */
      op: 'ecBlind';
      /** The query's secret alpha, 8 words; every shard gets all of it. */
      alpha: Uint32Array;
      /** A re-randomiser (r'G, r'Y) per value (ecRerandomizers), 16 words each, used once. */
      rand: Uint32Array;
      randWords: number;
    })
  | (EcBatch & {
      /** §3.2 step 3 (server B): C - xR per ciphertext (16 words) as a point, 8 words out; ecKey is x. */
      op: 'ecDecrypt';
    })
  | (Batch & {
      op: 'modPow';
      modulus: bigint;
      exp: Uint32Array;
      expWords: number;
      expStride: number;
      secret: boolean;
    });

/** A ristretto255 batch (src/ec): values are canonical encodings, each 32 bytes as 8 words. */
interface EcBatch extends Batch {
  /** B's public key Y, or for ecDecrypt its secret x: 8 words, and every shard gets all of it. */
  ecKey: Uint32Array;
  /** Index of this batch's first value in the caller's batch, so that errors name the caller's index. */
  first: number;
}

export type KernelOp = KernelTask['op'];

/**
 * The comb geometry of the join kernels (h teeth, v blocks): measured fastest for 2048-bit
 * rho (docs/DECISIONS.md, "Nested-loop join by algorithm"); wasm.ts checks that the
 * binary's JOIN_TEETH / JOIN_BLOCKS agree.
 */
export const JOIN_COMB = { teeth: 5, blocks: 3 } as const;

/**
 * The exponent positions of a row table for rhoWords-word exponents, value k * teeth + r
 * at r a + k b with a = ceil(32 rhoWords / teeth), b = ceil(a / blocks) (assembly/join.ts).
 */
export function joinCombPositions(teeth: number, blocks: number, rhoWords: number): number[] {
  const a = Math.ceil((32 * rhoWords) / teeth);
  const b = Math.ceil(a / blocks);
  return Array.from({ length: teeth * blocks }, (_, v) => (v % teeth) * a + Math.floor(v / teeth) * b);
}

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
