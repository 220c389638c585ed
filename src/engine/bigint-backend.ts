// The reference backend: every kernel task computed with plain BigInt and textbook
// formulas (decryption as L(c^lambda mod n^2) * mu mod n, the zero test as D(c) = 0),
// deliberately independent of the WASM code paths it checks. Not constant time: a
// reference, not a production path.
import {
  type KernelBackend,
  type KernelTask,
  keyWords,
  type RandomMode,
  taskStrides,
} from '../workers/tasks.js';
import { djnGenerator, gcd, type KeyMaterial } from './keys.js';
import { readWords, writeWords } from './limbs.js';
import { modInverse, modPowBig } from './modular.js';

export class BigintBackend implements KernelBackend {
  private readonly djnBases = new Map<string, bigint>();

  run(task: KernelTask): Uint32Array {
    const { inWords, outWords } = taskStrides(task);
    const value = (i: number) => readWords(task.input, i * inWords, inWords);
    const out = new Uint32Array(task.count * outWords);
    const put = (i: number, x: bigint) => writeWords(out, i * outWords, outWords, x);
    if (task.op === 'modPow') {
      for (let i = 0; i < task.count; i++) put(i, modPowBig(value(i), exponent(task, i), task.modulus));
      return out;
    }
    const { n, g } = task.key;
    const n2 = n * n;
    for (let i = 0; i < task.count; i++) {
      switch (task.op) {
        case 'encrypt': {
          const m = value(i);
          const gm = g === n + 1n ? (1n + m * n) % n2 : modPowBig(g, m, n2);
          put(i, (gm * this.randomFactor(task, i)) % n2);
          break;
        }
        case 'randomFactor':
          put(i, this.randomFactor(task, i));
          break;
        case 'rerandomize':
          put(i, (value(i) * this.randomFactor(task, i)) % n2);
          break;
        case 'add':
          put(i, (value(i) * readWords(task.input2, i * inWords, inWords)) % n2);
          break;
        case 'multiply':
          put(i, modPowBig(value(i), exponent(task, i), n2));
          break;
        case 'decrypt':
          put(i, decryptTextbook(task.key, value(i)));
          break;
        case 'decryptModP':
          put(i, decryptTextbook(task.key, value(i)) % task.key.p!);
          break;
        case 'zeroTest':
          put(i, decryptTextbook(task.key, value(i)) === 0n ? 1n : 0n);
          break;
        case 'joinTile':
          joinRow(task, i, out);
          break;
      }
    }
    return out;
  }

  /** r^n mod n^2 from the task's randomness, per mode. */
  private randomFactor(task: Extract<KernelTask, { mode: RandomMode }>, i: number): bigint {
    const { n } = task.key;
    const n2 = n * n;
    const words = task.randWords;
    const source = task.op === 'randomFactor' ? task.input : task.rand;
    const r = readWords(source, i * words, words);
    if (task.mode === 'pool') return r;
    if (task.mode === 'standard') return modPowBig(r, n, n2);
    let hn = this.djnBases.get(task.key.fingerprint);
    if (hn === undefined) {
      hn = modPowBig(djnGenerator(n), n, n2);
      this.djnBases.set(task.key.fingerprint, hn);
    }
    return modPowBig(hn, r, n2);
  }
}

function exponent(task: Extract<KernelTask, { exp: Uint32Array }>, i: number): bigint {
  return readWords(task.exp, i * task.expStride, task.expWords);
}

/**
 * Left row i of a join tile, the textbook way: for each right row j,
 * prod_c (a_ic * binv_jc mod n^2)^rho_ijc mod n^2 (the task carries the inverses).
 */
function joinRow(task: Extract<KernelTask, { op: 'joinTile' }>, i: number, out: Uint32Array): void {
  const n2 = task.key.n * task.key.n;
  const w = keyWords(task.key);
  const { cols, keyCols } = task;
  for (let j = 0; j < cols; j++) {
    let indicator = 1n;
    for (let c = 0; c < keyCols; c++) {
      const a = readWords(task.input, (i * keyCols + c) * w.n2, w.n2);
      const bInv = readWords(task.tile, (j * keyCols + c) * w.n2, w.n2);
      const rho = readWords(task.rand, ((i * cols + j) * keyCols + c) * w.n, w.n);
      indicator = (indicator * modPowBig((a * bInv) % n2, rho, n2)) % n2;
    }
    writeWords(out, (i * cols + j) * w.n2, w.n2, indicator);
  }
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
