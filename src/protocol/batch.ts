// The one boundary type between the wire, the roles and the engine: a packed batch of
// `count` values of `words` little-endian u32 words each (src/engine/limbs.ts). A wire
// batch adds the key fingerprint; fromWire checks it and the shape once at receipt, and
// from then on roles move rows by copying words (gather, interleave, concat): no
// value becomes a bigint between the wire and the kernel.
import { fingerprint } from '../engine/keys.js';
import { type PackedBatch, wordsFor } from '../engine/limbs.js';
import { KeyMismatchError, MalformedMessageError } from '../errors.js';

// bigints enter and leave only at the edges: plaintexts before encryption, after decryption;
// between them rows move as words (the engine's batch operations, limbs.ts)
export {
  concat,
  gather,
  interleave,
  type PackedBatch,
  pack,
  repeat,
  slice,
  unpack,
} from '../engine/limbs.js';

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
