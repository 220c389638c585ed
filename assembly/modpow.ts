// Windowed modular exponentiation in Montgomery form (DESIGN §2, §5).
// modPowWindow: sliding window over a public exponent, skipping zero bits.
// modPowConstTime: fixed window over every bit of a secret exponent of a public word
// length; the instruction and memory-address sequence depends only on that length.
import { bitLength, bitsAt, copyWords } from './limbs';
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
  mulCore,
  sqrCore,
  toDigits,
  trace,
} from './montgomery';

// Both stay in montgomery.ts's digit form with R' = 2^(bM) > 4N from end to end: every
// product of values below 2N is again below 2N, so the loop runs mulCore/sqrCore back to
// back with no conversion to u32 words, no final subtraction and no pre-shift; the operands
// are converted in once (x R / R -> x R') and out once. Digit form against montMul/montSqr
// per step: zero test 3.11 -> 2.56 ms, modPow (4096, 2048) 2.36x -> 2.65x plain BigInt
// (docs/decisions/kernel.md has the history).
// Window 5 for the constant-time path: window 6 has the same operation count at 1024 bits
// (1020 squarings + 170 + 62 multiplies against 1020 + 204 + 30) and needs a bigger table.

/** Digit vector i of the region at `reg` (16-byte aligned, S words each). */
@inline function dv(reg: usize, S: i32, i: i32): usize {
  return reg + ((<usize>(i * S + DIGIT_PAD)) << 2);
}

// The cores may write their result over an operand, so the running value lives in one digit
// vector and every step updates it in place.
@inline function squareStep(ctx: usize, acc: usize): void {
  trace(2, acc, acc, acc);
  sqrCore(ctx, acc, acc);
}
@inline function multiplyStep(ctx: usize, acc: usize, entry: usize): void {
  trace(1, acc, acc, entry);
  mulCore(ctx, acc, entry, acc);
}

/**
 * Zeroes the region's `vectors` digit vectors (every pad must read as zero), then brings
 * the base (a Montgomery representative x R) into digit form x R' at `dst`, through X (K).
 */
function enterDigits(ctx: usize, reg: usize, vectors: i32, base: usize, dst: usize, X: usize): void {
  const L = ctxWords(ctx);
  const M = ctxDigits(ctx);
  const b = ctxDigitBits(ctx);
  memory.fill(reg, 0, <usize>(vectors * ctxDigitStride(ctx)) << 2); // every pad reads as zero
  toDigits(X, ctxDigitFactor(ctx), L, M, 0, b);
  toDigits(dst, base, L, M, 0, b);
  trace(1, dst, dst, X);
  mulCore(ctx, dst, X, dst);
}

/** out = acc taken out of R' form: times R (unshifted) over R' gives x R. */
function leaveDigits(ctx: usize, out: usize, acc: usize, X: usize): void {
  toDigits(X, ctxOne(ctx), ctxWords(ctx), ctxDigits(ctx), 0, ctxDigitBits(ctx));
  multiplyStep(ctx, acc, X);
  finishFrom(ctx, out, acc);
}

/**
 * out = base^e mod N, all in Montgomery form (base and out are Montgomery
 * representatives). Variable time in e: use only for public exponents.
 */
export function modPowWindow(ctx: usize, out: usize, base: usize, e: usize, eWords: i32): void {
  const bits = bitLength(e, eWords);
  if (bits == 0) {
    copyWords(out, ctxOne(ctx), ctxWords(ctx));
    return;
  }
  // sliding window of width w over odd powers: table[k] = base^(2k+1)
  const w: i32 = bits > 768 ? 6 : bits > 240 ? 5 : bits > 80 ? 4 : bits > 24 ? 3 : 1;
  const half = 1 << (w - 1);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const reg = ctxDigitScratch(ctx);
  const acc = dv(reg, S, half);
  const sq = dv(reg, S, half + 1);
  const X = dv(reg, S, half + 2);
  enterDigits(ctx, reg, half + 3, base, dv(reg, S, 0), X);
  if (w > 1) {
    trace(2, sq, dv(reg, S, 0), dv(reg, S, 0));
    sqrCore(ctx, dv(reg, S, 0), sq);
    for (let k = 1; k < half; k++) {
      trace(1, dv(reg, S, k), dv(reg, S, k - 1), sq);
      mulCore(ctx, dv(reg, S, k - 1), sq, dv(reg, S, k));
    }
  }
  let started = false;
  let i = bits - 1;
  while (i >= 0) {
    if (bitsAt(e, eWords, i, 1) == 0) {
      if (started) squareStep(ctx, acc);
      i--;
      continue;
    }
    // longest window ending in a 1 bit, at most w wide
    let lo = max(i - w + 1, 0);
    while (bitsAt(e, eWords, lo, 1) == 0) lo++;
    const width = i - lo + 1;
    const entry = dv(reg, S, <i32>(bitsAt(e, eWords, lo, width) >> 1));
    if (started) {
      for (let k = 0; k < width; k++) squareStep(ctx, acc);
      multiplyStep(ctx, acc, entry);
    } else {
      memory.copy(acc, entry, <usize>M << 2);
      started = true;
    }
    i = lo - 1;
  }
  leaveDigits(ctx, out, acc, X);
}

/**
 * out = base^e mod N in Montgomery form, constant time in the value of e: every one of
 * the eWords * 32 bits is processed, and each table look-up reads all 2^w entries,
 * keeping one with a mask derived arithmetically from the digit.
 */
export function modPowConstTime(ctx: usize, out: usize, base: usize, e: usize, eWords: i32): void {
  const totalBits = eWords * 32;
  const w: i32 = totalBits >= 512 ? 5 : 4;
  const size = 1 << w;
  const S = ctxDigitStride(ctx);
  const reg = ctxDigitScratch(ctx);
  // vectors: 0..size-1 the table, size: sel, size+1: the accumulator, size+2: conversions
  const SEL = dv(reg, S, size);
  const acc = dv(reg, S, size + 1);
  const X = dv(reg, S, size + 2);
  // table[1] = base'
  enterDigits(ctx, reg, size + 3, base, dv(reg, S, 1), X);
  // table[0] = 1' = R' (from R, times K over R')
  toDigits(dv(reg, S, 0), ctxOne(ctx), ctxWords(ctx), ctxDigits(ctx), 0, ctxDigitBits(ctx));
  trace(1, dv(reg, S, 0), dv(reg, S, 0), X);
  mulCore(ctx, dv(reg, S, 0), X, dv(reg, S, 0));
  // table[k] = table[k-1] * base'
  for (let k = 2; k < size; k++) {
    trace(1, dv(reg, S, k), dv(reg, S, k - 1), dv(reg, S, 1));
    mulCore(ctx, dv(reg, S, k - 1), dv(reg, S, 1), dv(reg, S, k));
  }
  // accumulator = table[top digit] (masked scan; the squarings of 1 are skipped)
  const windows = (totalBits + w - 1) / w;
  ctSelectDigits(reg, S, acc, bitsAt(e, eWords, (windows - 1) * w, w), size);
  for (let win = windows - 2; win >= 0; win--) {
    // the window position is public; only the digit is secret
    for (let k = 0; k < w; k++) squareStep(ctx, acc);
    ctSelectDigits(reg, S, SEL, bitsAt(e, eWords, win * w, w), size);
    multiplyStep(ctx, acc, SEL);
  }
  leaveDigits(ctx, out, acc, X);
  // the table and accumulator held powers of a secret-dependent walk: wipe them
  memory.fill(reg, 0, <usize>((size + 3) * S) << 2);
}

/**
 * sel = table[digit] over whole digit vectors (pads included), reading every entry with
 * v128 and/or; the mask is all ones exactly when k == digit, with no branch or index on it.
 */
export function ctSelectDigits(reg: usize, S: i32, sel: usize, digit: u32, size: i32): void {
  const bytes = <usize>S << 2;
  const dst = sel - (<usize>DIGIT_PAD << 2);
  // S is a multiple of 4: process 4 words per step, one pass per v128 column
  // lane-wise compare of a running entry counter with the splatted digit: the mask is all
  // ones exactly for entry `digit`, computed without a branch or an index on it
  const dv4 = i32x4.splat(<i32>digit);
  const one = i32x4.splat(1);
  for (let j: usize = 0; j < bytes; j += 16) {
    let v = i32x4.splat(0);
    let kv = i32x4.splat(0);
    let src = reg + j;
    for (let k = 0; k < size; k++) {
      v = v128.or(v, v128.and(v128.load(src), i32x4.eq(kv, dv4)));
      kv = i32x4.add(kv, one);
      src += bytes;
    }
    v128.store(dst + j, v);
  }
}
