// The engine's op table (issue 12): one descriptor per kernel op, holding everything the
// engine knows about it: its strides, a cost estimate for sizing shards, the one WASM
// batch call (with the key context it needs), and the textbook BigInt formula the WASM
// result is checked against. A new op is a kernel in assembly/, one entry here and one
// Engine method.
import { BatchLengthError } from '../errors.js';
import type { KeyContexts } from './key-context.js';
import { gcd, type KeyMaterial } from './keys.js';
import { bitLength, readWords, wordsFor } from './limbs.js';
import { modInverse, modPowBig } from './modular.js';
import { type KernelOp, type KernelTask, keyWords, type RandomMode } from './tasks.js';
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
}

/** What the BigInt reference needs beyond the task: cached per-key constants. */
export interface ReferenceCall {
  /** h_n = h^n mod n^2 of the DJN mode (DESIGN §2), computed once per key. */
  djnBase(key: KeyMaterial): bigint;
}

export interface OpSpec<T extends KernelTask> {
  strides(task: T): Strides;
  /** Rough kernel cost per value in Montgomery multiplications x bits^2, to size shards. */
  cost(task: T): number;
  /** One batch call into WASM; returns the kernel's status word (0: ok). */
  wasm(task: T, call: WasmCall): number;
  /** Value i's outputs by the textbook formula: one bigint per outWords / outputs.length words. */
  reference(task: T, i: number, ref: ReferenceCall): bigint[];
}

type TaskOf<K extends KernelOp> = KernelTask & { op: K };
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
): OpSpec<TaskOf<PrivateOp>> {
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

/** Checks the join task's buffers against its shape: a short one would let the kernel read past it. */
function checkJoinShape(task: TaskOf<'joinTile'>): void {
  const w = keyWords(task.key);
  const pair = task.cols * task.keyCols;
  if (task.tile.length !== pair * w.n2 || task.randWords !== pair * w.n) {
    throw new BatchLengthError('joinTile: tile or rho does not match cols x keyCols', {
      tileWords: task.tile.length,
      randWords: task.randWords,
    });
  }
  if (
    task.rand.length !== task.count * task.randWords ||
    task.input.length !== task.count * task.keyCols * w.n2
  ) {
    throw new BatchLengthError('joinTile: input or rho does not match the row count', { count: task.count });
  }
}

export const OPS: { [K in KernelOp]: OpSpec<TaskOf<K>> } = {
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
  /**
   * Left row i of a join tile against every right row j: prod_c (a_ic * binv_jc)^rho_ijc
   * mod n^2 (the task carries the inverses E(b)^-1; DESIGN §3.1).
   */
  joinTile: {
    strides: (task) => ({
      inWords: task.keyCols * keyWords(task.key).n2,
      outWords: task.cols * keyWords(task.key).n2,
    }),
    cost: (task) => task.cols * task.keyCols * 1.2 * nBits(task.key) * n2Cost(task.key),
    wasm: (task, call) => {
      checkJoinShape(task);
      const pk = call.contexts.publicKey(task.key);
      // the kernel turns input and tile into Montgomery form in place: they are this call's copies
      const { input, out } = call.batch();
      const tile = call.copyIn(task.tile);
      const rho = call.copyIn(task.rand);
      const { count, cols, keyCols } = task;
      return call.exports.joinTileBatch(
        pk,
        input,
        tile,
        rho,
        out,
        count,
        cols,
        keyCols,
        keyWords(task.key).n,
      );
    },
    reference: (task, i) => {
      const n2 = task.key.n * task.key.n;
      const w = keyWords(task.key);
      const { cols, keyCols } = task;
      return Array.from({ length: cols }, (_, j) => {
        let indicator = 1n;
        for (let c = 0; c < keyCols; c++) {
          const a = readWords(task.input, (i * keyCols + c) * w.n2, w.n2);
          const bInv = readWords(task.tile, (j * keyCols + c) * w.n2, w.n2);
          const rho = readWords(task.rand, ((i * cols + j) * keyCols + c) * w.n, w.n);
          indicator = (indicator * modPowBig((a * bInv) % n2, rho, n2)) % n2;
        }
        return indicator;
      });
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

/** The descriptor of a task's op. */
export function opOf(task: KernelTask): OpSpec<KernelTask> {
  return OPS[task.op] as OpSpec<KernelTask>;
}

/** Input and output words per value of a task. */
export function taskStrides(task: KernelTask): Strides {
  return opOf(task).strides(task);
}
