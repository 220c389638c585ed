// Slot packing in one pass per row (DESIGN §2 "Packing", issue 11 item 2): Horner over a row's
// ciphertexts mod n^2, acc = acc^(2^w_s) * c_s from the top slot down, in the digit form of
// montgomery.ts throughout (one conversion in per ciphertext, one out per row), so a packed
// plaintext of W bits costs W squarings and a few products. Public inputs only: variable time.
import {
  ctxDigitBits,
  ctxDigitFactor,
  ctxDigitScratch,
  ctxDigitStride,
  ctxDigits,
  ctxOne,
  ctxWords,
  DIGIT_PAD,
  finishFrom,
  fromMont,
  mulCore,
  sqrCore,
  toDigits,
  toMont,
} from './montgomery';

@inline function at(base: usize, stride: i32, i: i32): usize {
  return base + ((<usize>i * <usize>stride) << 2);
}

/** dst = x R' (the digit form) for a canonical x < N: x R by toMont, then times K over R'. */
function enter(ctx: usize, dst: usize, x: usize, tmp: usize, K: usize): void {
  toMont(ctx, tmp, x);
  toDigits(dst, tmp, ctxWords(ctx), ctxDigits(ctx), 0, ctxDigitBits(ctx));
  mulCore(ctx, dst, K, dst);
}

/**
 * out_i = prod_s c_is^(2^(w_0 + ... + w_(s-1))) mod N for row i of `slots` canonical values
 * (cIn: count x slots values of L words, row-major), by Horner from slot slots - 1 down;
 * widths holds w_0 .. w_(slots-2) as i32. work holds L words.
 */
export function packSlotsBatch(
  ctx: usize,
  work: usize,
  cIn: usize,
  widths: usize,
  out: usize,
  count: i32,
  slots: i32,
): i32 {
  const L = ctxWords(ctx);
  const M = ctxDigits(ctx);
  const b = ctxDigitBits(ctx);
  const S = ctxDigitStride(ctx);
  const reg = ctxDigitScratch(ctx);
  const acc = reg + (<usize>DIGIT_PAD << 2);
  const t = acc + (<usize>S << 2);
  const K = t + (<usize>S << 2);
  memory.fill(reg, 0, <usize>(3 * S) << 2); // every pad reads as zero
  toDigits(K, ctxDigitFactor(ctx), L, M, 0, b);
  for (let i = 0; i < count; i++) {
    const row = at(cIn, L * slots, i);
    enter(ctx, acc, at(row, L, slots - 1), work, K);
    for (let s = slots - 2; s >= 0; s--) {
      const w = load<i32>(widths + (<usize>s << 2));
      for (let k = 0; k < w; k++) sqrCore(ctx, acc, acc);
      enter(ctx, t, at(row, L, s), work, K);
      mulCore(ctx, acc, t, acc);
    }
    // x R' times R (as digits) over R' is x R, then out of Montgomery form
    toDigits(t, ctxOne(ctx), L, M, 0, b);
    mulCore(ctx, acc, t, acc);
    finishFrom(ctx, work, acc);
    fromMont(ctx, at(out, L, i), work);
  }
  return 0;
}
