// The limb codec: bigint <-> little-endian u32 words (word 0 least significant), every
// value of a batch padded to the same stride. This is the one layout shared with
// assembly/limbs.ts; wasm.ts checks LIMB_BITS against the binary at load.

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

/** Writes x (non-negative) into dst[offset .. offset + words); x must fit. */
export function writeWords(dst: Uint32Array, offset: number, words: number, x: bigint): void {
  // 8 hex digits per word from the end of one hex string: ~10x cheaper than shifting a
  // 4096-bit BigInt 128 times
  const hex = x.toString(16);
  const used = Math.ceil(hex.length / 8);
  if (x < 0n || used > words) throw new RangeError(`value does not fit in ${words} words`);
  for (let j = 0; j < words; j++) {
    const end = hex.length - 8 * j;
    dst[offset + j] = end > 0 ? Number.parseInt(hex.slice(Math.max(0, end - 8), end), 16) : 0;
  }
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

/** a < b for two little-endian word arrays of the same length, compared from the top word. */
export function lessThanWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let j = a.length - 1; j >= 0; j--) {
    if (a[j] !== b[j]) return a[j] < b[j];
  }
  return false;
}
