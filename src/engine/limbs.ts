// The limb codec: bigint <-> little-endian u32 words (word 0 least significant), every
// value of a batch padded to the same stride. This is the one layout shared with
// assembly/limbs.ts; wasm.ts checks LIMB_BITS against the binary at load.

export const LIMB_BITS = 32;
const MASK = 0xffffffffn;

/** Words needed for a value of `bits` bits (at least 1). */
export function wordsForBits(bits: number): number {
  return Math.max(1, Math.ceil(bits / LIMB_BITS));
}

export function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
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

/** Writes x into dst[offset .. offset + words); x must fit. */
export function writeWords(dst: Uint32Array, offset: number, words: number, x: bigint): void {
  let v = x;
  // 32 bits at a time via Number keeps this cheap; a 4096-bit value is 128 steps
  for (let j = 0; j < words; j++) {
    dst[offset + j] = Number(v & MASK);
    v >>= 32n;
  }
  if (v !== 0n) throw new RangeError(`value does not fit in ${words} words`);
}

export function readWords(src: Uint32Array, offset: number, words: number): bigint {
  // build from hex: one BigInt parse instead of `words` shifts and ors
  let hex = '';
  for (let j = words - 1; j >= 0; j--) hex += src[offset + j].toString(16).padStart(8, '0');
  return BigInt(`0x${hex}`);
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
