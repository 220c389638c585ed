// Per-value randomness from node:crypto, drawn straight into packed words, one
// randomFillSync per batch: r uniform in [1, n) for the standard mode and a uniform
// exponent of djnExponentBits(n) bits for DJN (on the calling thread), and the join
// randomisers rho uniform in [1, n) (where the join kernel runs).
import { randomFillSync } from 'node:crypto';
import { bitLength, lessThanWords, toWords, wordsForBits } from './limbs.js';

/** count values of `words` words, each uniform in [1, bound), by rejection per value. */
export function drawBelow(bound: bigint, count: number): { data: Uint32Array; words: number } {
  const bits = bitLength(bound);
  const words = wordsForBits(bits);
  const data = new Uint32Array(count * words);
  const topMask = bits % 32 === 0 ? 0xffffffff : 2 ** (bits % 32) - 1;
  const boundWords = toWords(bound, words);
  fill(data);
  for (let i = 0; i < count; i++) {
    const value = data.subarray(i * words, (i + 1) * words);
    for (;;) {
      value[words - 1] &= topMask;
      if (value.some((w) => w !== 0) && lessThanWords(value, boundWords)) break;
      fill(value);
    }
  }
  return { data, words };
}

/** count values of exactly `bits` random bits each. */
export function drawBits(bits: number, count: number): { data: Uint32Array; words: number } {
  const words = wordsForBits(bits);
  const data = new Uint32Array(count * words);
  fill(data);
  const topMask = bits % 32 === 0 ? 0xffffffff : 2 ** (bits % 32) - 1;
  for (let i = 0; i < count; i++) data[i * words + words - 1] &= topMask;
  return { data, words };
}

function fill(view: Uint32Array): void {
  // straight into the caller's words: no intermediate buffer is left holding a secret
  randomFillSync(view);
}
