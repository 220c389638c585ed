// The one boundary type between the wire, the roles and the engine: a packed batch of
// `count` values of `words` little-endian u32 words each (src/engine/limbs.ts). A wire
// batch adds the key fingerprint; fromWire checks it and the shape once at receipt, and
// from then on roles move rows by copying words (gather, interleave, concat): no
// value becomes a bigint between the wire and the kernel.
import { fingerprint } from '../engine/keys.js';
import { type PackedBatch, pack, wordsFor } from '../engine/limbs.js';
import { KeyMismatchError, MalformedMessageError } from '../errors.js';

// bigints enter and leave only at the edges: plaintexts before encryption, after decryption
export { type PackedBatch, pack, unpack } from '../engine/limbs.js';

/** What every batch under a key must match: the key's fingerprint and words per value. */
export interface BatchShape {
  fingerprint: string;
  /** words of a ciphertext, mod n^2 */
  words: number;
  /** words of a plaintext, mod n */
  plaintextWords: number;
}

export function batchShape(publicKey: { n: bigint }): BatchShape {
  const { n } = publicKey;
  return { fingerprint: fingerprint(n), words: wordsFor(n * n), plaintextWords: wordsFor(n) };
}

/** A batch as a message carries it: under the key with this fingerprint. */
export interface WireBatch {
  fingerprint: string;
  count: number;
  words: number;
  data: Uint32Array;
}

export function toWire(batch: PackedBatch, fingerprint: string): WireBatch {
  return { fingerprint, count: batch.count, words: batch.words, data: batch.data };
}

/**
 * The packed batch a message carries, checked: under the expected key, at the expected
 * stride, and holding exactly count x words words. `what` names the batch in errors.
 */
export function fromWire(
  batch: WireBatch,
  expected: { fingerprint: string; words: number },
  what: string,
): PackedBatch {
  if (batch.fingerprint !== expected.fingerprint) {
    throw new KeyMismatchError(`${what} is under another key`, {
      expected: expected.fingerprint,
      got: batch.fingerprint,
    });
  }
  if (batch.words !== expected.words || batch.data.length !== batch.count * batch.words) {
    throw new MalformedMessageError(
      `${what}: expected ${batch.count} values of ${expected.words} words, got ${batch.data.length} words of stride ${batch.words}`,
    );
  }
  return { count: batch.count, words: batch.words, data: batch.data };
}

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
