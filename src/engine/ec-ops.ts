// The engine's ristretto255 ops (DESIGN §3.2, issue 10): the hashed join's EC ElGamal
// tags, one descriptor per op as in ops.ts. The fast path is libsodium's WASM build
// through src/ec (it owns its memory, so a descriptor returns the result itself); the
// reference is @noble/curves, sharing no code with libsodium. Both reject the same bad
// inputs with InvalidPointError naming the caller's index (task.first + i).
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { blindWith, decryptPoints, encryptIdentities, encryptTags } from '../ec/elgamal.js';
import { fromHashBatch, invalidPoint } from '../ec/ristretto.js';
import { InvalidPointError } from '../errors.js';
import type { KernelTask } from './tasks.js';

type EcOp = 'ecEncryptTags' | 'ecRerandomizers' | 'ecBlind' | 'ecDecrypt';
type EcTask<K extends EcOp> = KernelTask & { op: K };

import { EC_CIPHERTEXT_WORDS, EC_HASH_WORDS, EC_POINT_WORDS } from '../ec/sizes.js';

export { EC_CIPHERTEXT_WORDS, EC_HASH_WORDS, EC_POINT_WORDS };

/**
 * Shard sizing in ops.ts's unit (Montgomery multiplications x bits^2, about 5e8 a
 * millisecond): microseconds per row, measured by bench:ec at load ~6 (docs/DECISIONS.md),
 * times this factor.
 */
const COST_PER_US = 5e5;

export interface EcOpSpec<T extends KernelTask> {
  strides(task: T): { inWords: number; outWords: number };
  cost(task: T): number;
  /** The batch through libsodium (src/ec): the packed result. */
  sodium(task: T): Uint32Array;
  /** Value i's outputs by @noble/curves: 32-byte encodings read as little-endian integers. */
  reference(task: T, i: number): bigint[];
}

// Little-endian words are the bytes of the encodings (the codec assumes a little-endian host).
const bytesOf = (words: Uint32Array) => new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
const wordsOf = (bytes: Uint8Array) => new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

/** Runs a src/ec batch; a bad element's index becomes the caller's (the task may be a shard). */
function inCallerIndex(task: { first: number }, body: () => Uint8Array): Uint32Array {
  try {
    return wordsOf(body());
  } catch (err) {
    if (err instanceof InvalidPointError && typeof err.details.index === 'number') {
      const component = err.details.component;
      throw invalidPoint(
        String(err.details.name),
        task.first + err.details.index,
        component === 'R' || component === 'C' ? component : undefined,
      );
    }
    throw err;
  }
}

// ---- reference: @noble/curves

const Point = ristretto255.Point;
type Pt = InstanceType<typeof Point>;

/** Element at `word` of `data` as a non-identity point, else InvalidPointError like src/ec's. */
function pointAt(data: Uint32Array, word: number, name: string, index?: number, component?: 'R' | 'C'): Pt {
  const bytes = bytesOf(data.subarray(word, word + EC_POINT_WORDS));
  try {
    // the identity's only encoding is 32 zero bytes; it is no protocol value
    if (bytes.every((b) => b === 0)) throw new Error('identity');
    return Point.fromBytes(bytes);
  } catch {
    throw invalidPoint(name, index, component);
  }
}

const scalarAt = (data: Uint32Array, word: number) =>
  bytesToNumberLE(bytesOf(data.subarray(word, word + EC_POINT_WORDS)));
const encoded = (p: Pt) => bytesToNumberLE(p.toBytes());

/** (R, C) of ciphertext i of the task's input. */
function ciphertextAt(task: KernelTask & { first: number }, i: number): [Pt, Pt] {
  const at = i * EC_CIPHERTEXT_WORDS;
  const index = task.first + i;
  return [
    pointAt(task.input, at, 'ciphertexts', index, 'R'),
    pointAt(task.input, at + EC_POINT_WORDS, 'ciphertexts', index, 'C'),
  ];
}

export const EC_OPS: { [K in EcOp]: EcOpSpec<EcTask<K>> } = {
  ecEncryptTags: {
    strides: () => ({ inWords: EC_HASH_WORDS, outWords: EC_CIPHERTEXT_WORDS }),
    // from-hash 32, rG 45, rY 122, add 25 (us)
    cost: () => 224 * COST_PER_US,
    sodium: (task) =>
      inCallerIndex(task, () => {
        const points = fromHashBatch(bytesOf(task.input));
        try {
          // encryptTags zeroes the scalars it is given: this task's own copy
          return encryptTags(bytesOf(task.ecKey), points, bytesOf(task.rand));
        } finally {
          // T links rows across tables for whoever sees it
          points.fill(0);
        }
      }),
    reference: (task, i) => {
      const wide = bytesOf(task.input.subarray(i * EC_HASH_WORDS, (i + 1) * EC_HASH_WORDS));
      const T = ristretto255_hasher.deriveToCurve!(wide) as Pt;
      const r = scalarAt(task.rand, i * task.randWords);
      const Y = pointAt(task.ecKey, 0, 'publicKey');
      return [encoded(Point.BASE.multiply(r)), encoded(T.add(Y.multiply(r)))];
    },
  },
  ecRerandomizers: {
    strides: () => ({ inWords: 0, outWords: EC_CIPHERTEXT_WORDS }),
    // r'G 45, r'Y 122 (us)
    cost: () => 167 * COST_PER_US,
    sodium: (task) => inCallerIndex(task, () => encryptIdentities(bytesOf(task.ecKey), bytesOf(task.rand))),
    reference: (task, i) => {
      const Y = pointAt(task.ecKey, 0, 'publicKey');
      const r = scalarAt(task.rand, i * task.randWords);
      return [encoded(Point.BASE.multiply(r)), encoded(Y.multiply(r))];
    },
  },
  ecBlind: {
    strides: () => ({ inWords: EC_CIPHERTEXT_WORDS, outWords: EC_CIPHERTEXT_WORDS }),
    // 2 variable-base (alpha R, alpha C) 122 each, 2 additions 25 (us)
    cost: () => 294 * COST_PER_US,
    sodium: (task) =>
      inCallerIndex(task, () => blindWith(bytesOf(task.input), bytesOf(task.alpha), bytesOf(task.rand))),
    reference: (task, i) => {
      const [R, C] = ciphertextAt(task, i);
      const alpha = scalarAt(task.alpha, 0);
      const at = i * task.randWords;
      const index = task.first + i;
      const zR = pointAt(task.rand, at, 'rerandomizers', index, 'R');
      const zC = pointAt(task.rand, at + EC_POINT_WORDS, 'rerandomizers', index, 'C');
      return [encoded(R.multiply(alpha).add(zR)), encoded(C.multiply(alpha).add(zC))];
    },
  },
  ecDecrypt: {
    strides: () => ({ inWords: EC_CIPHERTEXT_WORDS, outWords: EC_POINT_WORDS }),
    // xR 122, subtraction 25 (us)
    cost: () => 147 * COST_PER_US,
    sodium: (task) => inCallerIndex(task, () => decryptPoints(bytesOf(task.ecKey), bytesOf(task.input))),
    reference: (task, i) => {
      const [R, C] = ciphertextAt(task, i);
      return [encoded(C.subtract(R.multiply(scalarAt(task.ecKey, 0))))];
    },
  },
};
