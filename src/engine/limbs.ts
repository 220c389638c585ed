// The limb codec: bigint <-> little-endian u32 words (word 0 least significant), every
// value of a batch padded to the same stride. This is the one layout shared with
// assembly/limbs.ts; wasm.ts checks LIMB_BITS against the binary at load.

import { MalformedMessageError } from '../errors.js';

export const LIMB_BITS = 32;

/** Words needed for a value of `bits` bits (at least 1). */
export function wordsForBits(bits: number): number {
  return Math.max(1, Math.ceil(bits / LIMB_BITS));
}

export function bitLength(x: bigint): number {
  if (x <= 0n) return 0;
  // one hex string is far cheaper than a binary one for a 4096-bit value
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0], 16)));
}

/** Words needed to hold x. */
export function wordsFor(x: bigint): number {
  return wordsForBits(bitLength(x));
}

/** A batch of `count` values, each `words` words, contiguous. */
export interface PackedBatch {
  readonly words: number;
  readonly count: number;
  readonly data: Uint32Array;
}

// Words are read and written as their in-memory bytes (word 0 first, each little-endian):
// every platform Node runs fedjoin on is little-endian.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('fedjoin: big-endian hosts are not supported');
}

/** Writes x (non-negative) into dst[offset .. offset + words); x must fit. */
export function writeWords(dst: Uint32Array, offset: number, words: number, x: bigint): void {
  // one hex string, decoded and byte-reversed natively: ~3x cheaper than a parse per word
  const hex = x.toString(16);
  if (x < 0n || hex.length > 8 * words) throw new RangeError(`value does not fit in ${words} words`);
  const bytes = Buffer.from(hex.padStart(8 * words, '0'), 'hex').reverse();
  new Uint8Array(dst.buffer, dst.byteOffset + 4 * offset, 4 * words).set(bytes);
}

export function readWords(src: Uint32Array, offset: number, words: number): bigint {
  if (words === 0) return 0n;
  // the words' bytes reversed natively into one hex string: ~10x cheaper than a string per word
  const bytes = Buffer.from(src.buffer, src.byteOffset + 4 * offset, 4 * words);
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
}

export function pack(values: readonly bigint[], words: number): PackedBatch {
  const data = new Uint32Array(values.length * words);
  for (let i = 0; i < values.length; i++) writeWords(data, i * words, words, values[i]);
  return { words, count: values.length, data };
}

export function unpack(batch: PackedBatch): bigint[] {
  const out = new Array<bigint>(batch.count);
  for (let i = 0; i < batch.count; i++) out[i] = readWords(batch.data, i * batch.words, batch.words);
  return out;
}

export function toWords(x: bigint, words = wordsFor(x)): Uint32Array {
  const out = new Uint32Array(words);
  writeWords(out, 0, words, x);
  return out;
}

/** a < b for two little-endian word arrays of the same length, compared from the top word. */
export function lessThanWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let j = a.length - 1; j >= 0; j--) {
    if (a[j] !== b[j]) return a[j] < b[j];
  }
  return false;
}

// ---- batch operations: rows move by copying words, never through bigints

/** Values [start, end) as a batch of their own (a view, not a copy). */
export function slice(batch: PackedBatch, start: number, end: number): PackedBatch {
  return {
    words: batch.words,
    count: end - start,
    data: batch.data.subarray(start * batch.words, end * batch.words),
  };
}

/** The values at `indices`, in that order: a join's column, or a batch in shuffled order. */
export function gather(batch: PackedBatch, indices: ArrayLike<number>): PackedBatch {
  const { words } = batch;
  const data = new Uint32Array(indices.length * words);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    data.set(batch.data.subarray(i * words, (i + 1) * words), k * words);
  }
  return { words, count: indices.length, data };
}

/** The batches one after another (equal strides). */
export function concat(batches: readonly PackedBatch[], words = batches[0]?.words ?? 1): PackedBatch {
  const count = batches.reduce((total, b) => total + b.count, 0);
  const data = new Uint32Array(count * words);
  let offset = 0;
  for (const b of batches) {
    if (b.words !== words)
      throw new MalformedMessageError(`batches differ in stride: ${b.words} and ${words}`);
    data.set(b.data, offset);
    offset += b.data.length;
  }
  return { words, count, data };
}

/** Equal-length columns as one row-major batch: row r is columns[0][r], columns[1][r], ... */
export function interleave(columns: readonly PackedBatch[], words = columns[0]?.words ?? 1): PackedBatch {
  const width = columns.length;
  const rows = columns[0]?.count ?? 0;
  const data = new Uint32Array(rows * width * words);
  for (const [c, column] of columns.entries()) {
    for (let r = 0; r < rows; r++) {
      data.set(column.data.subarray(r * words, (r + 1) * words), (r * width + c) * words);
    }
  }
  return { words, count: rows * width, data };
}

/** `count` copies of one value: e.g. E(0) = 1 with r = 1, the identity of homomorphic sums. */
export function repeat(value: bigint, count: number, words: number): PackedBatch {
  const one = pack([value], words).data;
  const data = new Uint32Array(count * words);
  for (let i = 0; i < count; i++) data.set(one, i * words);
  return { words, count, data };
}
