// The engine's op table (issue 12): one descriptor per kernel op, holding everything the
// engine knows about it: its strides, a cost estimate for sizing shards, the one WASM
// batch call (with the key context it needs), and the textbook BigInt formula the WASM
// result is checked against. A new op is a kernel in assembly/, one entry here and one
// Engine method. The ristretto255 ops of the hashed join (ec-ops.ts) sit in the same table:
// libsodium instead of a kernel, @noble/curves as their reference.
import { BatchLengthError } from '../errors.js';
import { EC_OPS, type EcOpSpec } from './ec-ops.js';
import type { KeyContexts } from './key-context.js';
import { gcd, type KeyMaterial } from './keys.js';
import { bitLength, readWords, wordsFor } from './limbs.js';
import { modInverse, modPowBig } from './modular.js';
import { drawBelow } from './randomness.js';
import { joinCombPositions, type KernelOp, type KernelTask, keyWords, type RandomMode } from './tasks.js';
import type { KernelExports, KernelLayout } from './wasm.js';

export interface Strides {
  /** Words per input value. */
  inWords: number;
  /** Words per output value. */
  outWords: number;
}

/** What a descriptor's WASM call may use: the instance, its key contexts, the batch area. */
export interface WasmCall {
  readonly exports: KernelExports;
  readonly layout: KernelLayout;
  readonly contexts: KeyContexts;
  /**
   * Marks the arena (so call it after any context set-up: contexts allocate for good),
   * copies the task's input in and reserves the output.
   */
  batch(): { input: number; out: number };
  /** Copies one more of the task's buffers into the batch area. */
  copyIn(data: Uint32Array): number;
  /** Reserves `bytes` of kernel scratch in the batch area (wiped and released with it). */
  reserve(bytes: number): number;
}

/** What the BigInt reference needs beyond the task: cached per-key constants. */
export interface ReferenceCall {
  /** h_n = h^n mod n^2 of the DJN mode (DESIGN §2), computed once per key. */
  djnBase(key: KeyMaterial): bigint;
}

export interface KernelOpSpec<T extends KernelTask> {
  strides(task: T): Strides;
  /** Rough kernel cost per value in Montgomery multiplications x bits^2, to size shards. */
  cost(task: T): number;
  /** One batch call into WASM; returns the kernel's status word (0: ok). */
  wasm(task: T, call: WasmCall): number;
  /** Value i's outputs by the textbook formula: one bigint per outWords / outputs.length words. */
  reference(task: T, i: number, ref: ReferenceCall): bigint[];
}

/** A fedjoin kernel op, or a ristretto255 op that libsodium computes (`sodium` instead of `wasm`). */
export type OpSpec<T extends KernelTask> = KernelOpSpec<T> | EcOpSpec<T>;

type TaskOf<K extends KernelOp> = KernelTask & { op: K };
type PaillierOp = Exclude<KernelOp, keyof typeof EC_OPS>;
type RandomTask = Extract<KernelTask, { mode: RandomMode }>;

const input = (task: KernelTask, i: number, words: number) => readWords(task.input, i * words, words);
const exponent = (task: Extract<KernelTask, { exp: Uint32Array }>, i: number) =>
  readWords(task.exp, i * task.expStride, task.expWords);
/** bits^2 of one multiplication mod n^2, and the bit length of n. */
const n2Cost = (key: KeyMaterial) => (keyWords(key).n2 * 32) ** 2;
const nBits = (key: KeyMaterial) => keyWords(key).n * 32;
/** Multiplications per r^n factor in each mode: a full exponent, the DJN comb, or none (pooled). */
const factorCost = (task: RandomTask) =>
  (task.mode === 'standard' ? 1.2 * nBits(task.key) : task.mode === 'djn' ? nBits(task.key) / 14 : 1) + 1;

function randomMode(layout: KernelLayout, mode: RandomMode): number {
  return mode === 'djn' ? layout.RAND_DJN : mode === 'pool' ? layout.RAND_RN : layout.RAND_R;
}

/** r^n mod n^2 for value i by the task's mode: r^n, h_n^a, or the pooled value itself. */
function randomFactor(task: RandomTask, i: number, ref: ReferenceCall): bigint {
  const { n } = task.key;
  const source = task.op === 'randomFactor' ? task.input : task.rand;
  const r = readWords(source, i * task.randWords, task.randWords);
  if (task.mode === 'pool') return r;
  if (task.mode === 'standard') return modPowBig(r, n, n * n);
  return modPowBig(ref.djnBase(task.key), r, n * n);
}

/** m = L(c^lambda mod n^2) * mu mod n, lambda = lcm(p-1, q-1), mu = L(g^lambda mod n^2)^-1. */
function decryptTextbook(key: KeyMaterial, c: bigint): bigint {
  const { n, g } = key;
  const p = key.p!;
  const q = key.q!;
  const n2 = n * n;
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const L = (x: bigint) => (x - 1n) / n;
  const mu = modInverse(L(modPowBig(g, lambda, n2)), n);
  return (L(modPowBig(c, lambda, n2)) * mu) % n;
}

/** The ops on a public key whose input and output are both mod n^2 values. */
const sameN2 = (task: { key: KeyMaterial }): Strides => ({
  inWords: keyWords(task.key).n2,
  outWords: keyWords(task.key).n2,
});

/** The three private-key ops differ only in their kernel, output and formula. */
type PrivateOp = 'decrypt' | 'decryptModP' | 'zeroTest';
function privateOp(
  outWords: (w: ReturnType<typeof keyWords>) => number,
  exponentBits: (w: ReturnType<typeof keyWords>) => number,
  kernel: (k: KernelExports) => (sk: number, c: number, out: number, count: number) => number,
  formula: (key: KeyMaterial, m: bigint) => bigint,
): KernelOpSpec<TaskOf<PrivateOp>> {
  return {
    strides: (task) => ({ inWords: keyWords(task.key).n2, outWords: outWords(keyWords(task.key)) }),
    cost: (task) => {
      const w = keyWords(task.key);
      return 1.2 * exponentBits(w) * (2 * w.p * 32) ** 2;
    },
    wasm: (task, call) => {
      const sk = call.contexts.privateKey(task.key);
      const { input, out } = call.batch();
      return kernel(call.exports).call(call.exports, sk, input, out, task.count);
    },
    reference: (task, i) => {
      const words = keyWords(task.key).n2;
      return [formula(task.key, decryptTextbook(task.key, input(task, i, words)))];
    },
  };
}

/** Words of one row table of the join kernels: teeth * blocks values mod n^2. */
export function joinTableWords(task: { key: KeyMaterial; teeth: number; blocks: number }): number {
  return task.teeth * task.blocks * keyWords(task.key).n2;
}

/**
 * Products mod n^2 of one pair in joinPairsBatch: the pair's table (v (2^h - 1)), the comb
 * (b - 1 squarings, v b - 1 products) and the conversion out.
 */
function pairProducts(task: { key: KeyMaterial; teeth: number; blocks: number }): number {
  const a = Math.ceil((32 * keyWords(task.key).n) / task.teeth);
  const b = Math.ceil(a / task.blocks);
  return task.blocks * (2 ** task.teeth - 1) + b * (task.blocks + 1);
}

/** Checks a joinPairs task's buffers against its shape: a short one would let the kernel read past it. */
function checkPairsShape(task: TaskOf<'joinPairs'>): void {
  const table = joinTableWords(task);
  if (task.tile.length !== task.cols * table || task.input.length !== task.count * table) {
    throw new BatchLengthError('joinPairs: row tables do not match rows, cols and the comb geometry', {
      count: task.count,
      cols: task.cols,
    });
  }
  if (task.randWords !== task.cols * keyWords(task.key).n) {
    throw new BatchLengthError('joinPairs: randWords is not cols x (words of n)', {
      randWords: task.randWords,
    });
  }
  if (task.rand !== undefined && task.rand.length !== task.count * task.randWords) {
    throw new BatchLengthError('joinPairs: rho does not match the row count', { count: task.count });
  }
}

/**
 * rho_ij of left row i, j < cols, n words each: the task's pinned values or fresh draws
 * uniform in [1, n) (node:crypto), which the caller wipes after use.
 */
function pairRho(task: TaskOf<'joinPairs'>, rows: number): Uint32Array {
  return task.rand ?? drawBelow(task.key.n, rows * task.cols).data;
}

const PAILLIER_OPS: { [K in PaillierOp]: KernelOpSpec<TaskOf<K>> } = {
  encrypt: {
    strides: (task) => ({ inWords: keyWords(task.key).n, outWords: keyWords(task.key).n2 }),
    cost: (task) => factorCost(task) * n2Cost(task.key),
    wasm: (task, call) => {
      const pk = call.contexts.publicKey(task.key, task.mode === 'djn');
      const { input, out } = call.batch();
      const mode = randomMode(call.layout, task.mode);
      return call.exports.encryptBatch(
        pk,
        input,
        call.copyIn(task.rand),
        out,
        task.count,
        mode,
        task.randWords,
      );
    },
    reference: (task, i, ref) => {
      const { n, g } = task.key;
      const n2 = n * n;
      const m = input(task, i, keyWords(task.key).n);
      const gm = g === n + 1n ? (1n + m * n) % n2 : modPowBig(g, m, n2);
      return [(gm * randomFactor(task, i, ref)) % n2];
    },
  },
  randomFactor: {
    strides: (task) => ({ inWords: task.randWords, outWords: keyWords(task.key).n2 }),
    cost: (task) => factorCost(task) * n2Cost(task.key),
    wasm: (task, call) => {
      const pk = call.contexts.publicKey(task.key, task.mode === 'djn');
      const { input, out } = call.batch();
      const mode = randomMode(call.layout, task.mode);
      return call.exports.randomFactorBatch(pk, input, out, task.count, mode, task.randWords);
    },
    reference: (task, i, ref) => [randomFactor(task, i, ref)],
  },
  rerandomize: {
    strides: sameN2,
    cost: (task) => factorCost(task) * n2Cost(task.key),
    wasm: (task, call) => {
      const pk = call.contexts.publicKey(task.key, task.mode === 'djn');
      const { input, out } = call.batch();
      const mode = randomMode(call.layout, task.mode);
      const rand = call.copyIn(task.rand);
      return call.exports.rerandomizeBatch(pk, input, rand, out, task.count, mode, task.randWords);
    },
    reference: (task, i, ref) => {
      const n2 = task.key.n * task.key.n;
      return [(input(task, i, keyWords(task.key).n2) * randomFactor(task, i, ref)) % n2];
    },
  },
  add: {
    strides: sameN2,
    cost: (task) => 2 * n2Cost(task.key),
    wasm: (task, call) => {
      const pk = call.contexts.publicKey(task.key);
      const { input, out } = call.batch();
      return call.exports.addBatch(pk, input, call.copyIn(task.input2), out, task.count);
    },
    reference: (task, i) => {
      const words = keyWords(task.key).n2;
      const n2 = task.key.n * task.key.n;
      return [(input(task, i, words) * readWords(task.input2, i * words, words)) % n2];
    },
  },
  // scalar multiply is modPow under the key's n^2: E(m)^k = E(k m)
  multiply: {
    strides: sameN2,
    cost: (task) => 1.2 * task.expWords * 32 * n2Cost(task.key),
    wasm: (task, call) => {
      const { ctx, work } = call.contexts.n2Modulus(task.key);
      const { input, out } = call.batch();
      const exp = call.copyIn(task.exp);
      const { count, expWords, expStride } = task;
      return call.exports.modPowBatch(ctx, work, input, exp, out, count, expWords, expStride, +task.secret);
    },
    reference: (task, i) => {
      const n2 = task.key.n * task.key.n;
      return [modPowBig(input(task, i, keyWords(task.key).n2), exponent(task, i), n2)];
    },
  },
  // Horner with shifts 2^w: sum(widths) squarings per row, plus a product per slot
  packSlots: {
    strides: (task) => ({ inWords: task.slots * keyWords(task.key).n2, outWords: keyWords(task.key).n2 }),
    cost: (task) => (task.widths.reduce((a, w) => a + w, 0) + 3 * task.slots) * n2Cost(task.key),
    wasm: (task, call) => {
      const { ctx, work } = call.contexts.n2Modulus(task.key);
      const { input, out } = call.batch();
      const widths = call.copyIn(task.widths);
      return call.exports.packSlotsBatch(ctx, work, input, widths, out, task.count, task.slots);
    },
    reference: (task, i) => {
      const words = keyWords(task.key).n2;
      const n2 = task.key.n * task.key.n;
      const c = (s: number) => readWords(task.input, (i * task.slots + s) * words, words);
      let acc = c(task.slots - 1);
      for (let s = task.slots - 2; s >= 0; s--)
        acc = (modPowBig(acc, 1n << BigInt(task.widths[s]), n2) * c(s)) % n2;
      return [acc];
    },
  },
  decrypt: privateOp(
    (w) => w.n,
    (w) => 2 * w.p * 32,
    (k) => k.decryptCrtBatch,
    (_key, m) => m,
  ),
  decryptModP: privateOp(
    (w) => w.p,
    (w) => w.p * 32,
    (k) => k.decryptModPBatch,
    (key, m) => m % key.p!,
  ),
  zeroTest: privateOp(
    () => 1,
    (w) => w.p * 32,
    (k) => k.zeroTestBatch,
    (_key, m) => (m === 0n ? 1n : 0n),
  ),
  // the nested-loop join (DESIGN §3.1): row tables once per row and query, then tiles of pairs
  joinTables: {
    strides: (task) => ({ inWords: keyWords(task.key).n2, outWords: joinTableWords(task) }),
    cost: (task) => 32 * keyWords(task.key).n * n2Cost(task.key),
    wasm: (task, call) => {
      const pk = call.contexts.publicKey(task.key);
      const { input, out } = call.batch();
      const { count, teeth, blocks } = task;
      return call.exports.joinTablesBatch(pk, input, out, count, teeth, blocks, keyWords(task.key).n);
    },
    reference: (task, i) => {
      const w = keyWords(task.key);
      const n2 = task.key.n * task.key.n;
      const positions = joinCombPositions(task.teeth, task.blocks, w.n);
      // powers[p] = x^(2^p) by repeated squaring, up to the highest position
      const powers = [input(task, i, w.n2)];
      for (let p = 1; p <= Math.max(...positions); p++) powers.push(powers[p - 1] ** 2n % n2);
      return positions.map((p) => powers[p]);
    },
  },
  joinPairs: {
    strides: (task) => ({ inWords: joinTableWords(task), outWords: task.cols * keyWords(task.key).n2 }),
    cost: (task) => task.cols * pairProducts(task) * n2Cost(task.key),
    wasm: (task, call) => {
      checkPairsShape(task);
      const pk = call.contexts.publicKey(task.key);
      const { input, out } = call.batch();
      const tile = call.copyIn(task.tile);
      const rho = pairRho(task, task.count);
      let rhoPtr: number;
      try {
        rhoPtr = call.copyIn(rho);
      } finally {
        // drawn here: this thread's copy goes now, the batch area's with the batch
        if (rho !== task.rand) rho.fill(0);
      }
      const { count, cols, teeth, blocks } = task;
      const work = call.reserve(call.exports.joinWorkBytes(pk, teeth, blocks));
      const rhoWords = keyWords(task.key).n;
      return call.exports.joinPairsBatch(
        pk,
        input,
        tile,
        rhoPtr,
        out,
        count,
        cols,
        teeth,
        blocks,
        rhoWords,
        work,
      );
    },
    reference: (task, i) => {
      checkPairsShape(task);
      const w = keyWords(task.key);
      const n2 = task.key.n * task.key.n;
      const table = joinTableWords(task);
      // value 0 of a row table is x^(2^0) = x itself: the textbook formula needs only that
      const x = readWords(task.input, i * table, w.n2);
      const rho = task.rand?.subarray(i * task.randWords, (i + 1) * task.randWords) ?? pairRho(task, 1);
      try {
        return Array.from({ length: task.cols }, (_, j) => {
          const y = readWords(task.tile, j * table, w.n2);
          return modPowBig((x * y) % n2, readWords(rho, j * w.n, w.n), n2);
        });
      } finally {
        if (task.rand === undefined) rho.fill(0);
      }
    },
  },
  modPow: {
    strides: (task) => ({ inWords: wordsFor(task.modulus), outWords: wordsFor(task.modulus) }),
    cost: (task) => 1.2 * task.expWords * 32 * bitLength(task.modulus) ** 2,
    wasm: (task, call) => {
      const { ctx, work } = call.contexts.modulus(task.modulus);
      const { input, out } = call.batch();
      const exp = call.copyIn(task.exp);
      const { count, expWords, expStride } = task;
      return call.exports.modPowBatch(ctx, work, input, exp, out, count, expWords, expStride, +task.secret);
    },
    reference: (task, i) => [
      modPowBig(input(task, i, wordsFor(task.modulus)), exponent(task, i), task.modulus),
    ],
  },
};

export const OPS: { [K in KernelOp]: OpSpec<TaskOf<K>> } = { ...PAILLIER_OPS, ...EC_OPS };

/** The descriptor of a task's op. */
export function opOf(task: KernelTask): OpSpec<KernelTask> {
  return OPS[task.op] as OpSpec<KernelTask>;
}

/** Input and output words per value of a task. */
export function taskStrides(task: KernelTask): Strides {
  return opOf(task).strides(task);
}
