// Windowed modular exponentiation in Montgomery form (DESIGN §2, §5).
// modPowWindow: sliding window over a public exponent, skipping zero bits.
// modPowConstTime: fixed window over every bit of a secret exponent of a public word
// length; each step squares w times and multiplies by a table entry chosen by a full
// masked scan, so the instruction and memory-address sequence depends only on the
// exponent's word length, never on its bits.
// Both run in montgomery.ts's digit form from end to end: one conversion in, mulCore /
// sqrCore back to back on digit vectors in the context's exponentiation scratch
// (ctxDigitScratch), one conversion out.
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

// The whole exponentiation stays in montgomery.ts's radix-2^28 digit form with
// R' = 2^(28M) > 4N: every product of values below 2N is again below 2N, so the loop runs
// mulCore/sqrCore back to back with no conversion to u32 words, no final subtraction and
// no pre-shift; the operands are converted in once (x R / R -> x R') and out once.
// Each result is written forward (the next A) and reversed (the next B) by the core.
// The squarings and multiplies cost sqrCore/mulCore only (2048 bits: 1.61 / 1.74 us against
// 2.0 / 2.05 us for montSqr/montMul with their conversions and final subtraction).
// Measured (2-core box, loaded, Node 20; bench --quick, x16, ms per value; the ratio is
// against paillier-bigint's decrypt in the same run):
//   zero test (2048-bit n)  before 3.11 (8.0x)   digit form 2.56 (9.4x)
//                           + radix 2^29 2.47 (9.9x)   + minimal M, top-window start,
//                           v128 select 2.37-2.40 (10.2x, 10.5x); x1 2.75 (8.7-9.0x)
//   modPowConstTime alone (microbench, 2048-bit modulus, 1024-bit exponent): 2.87 -> 2.15 ms
//   decrypt (CRT) x16 3.8x -> 5.2x paillier-bigint
// modPowWindow (public exponents) runs the same way (modPowWindowDigits): bench modPow
// (2048, 1024) 2.2x -> 2.75x plain BigInt, (4096, 2048) 2.36x -> 2.65x, x16.
// Window 6 for the constant-time path: same operation count at 1024 bits (1020 squarings
// + 170 + 62 multiplies against 1020 + 204 + 30) and a table too big for the scratch area.

/** Digit vector i of the region at `reg` (16-byte aligned, S words each). */
@inline function dv(reg: usize, S: i32, i: i32): usize {
  return reg + ((<usize>(i * S + DIGIT_PAD)) << 2);
}

// The running value: its forward and reversed digit vectors (cF, cR) and the pair the next
// product goes to (dF, dR). Each core writes both forms of its result, then the pairs swap.
// Module state: one exponentiation at a time per instance (kernels do not re-enter).
let cF: usize = 0;
let cR: usize = 0;
let dF: usize = 0;
let dR: usize = 0;

@inline function swapPairs(): void {
  let t = cF;
  cF = dF;
  dF = t;
  t = cR;
  cR = dR;
  dR = t;
}
@inline function squareStep(ctx: usize): void {
  trace(2, dF, cF, cF);
  sqrCore(ctx, cF, cR, dF, dR);
  swapPairs();
}
@inline function multiplyStep(ctx: usize, entry: usize): void {
  trace(1, dF, cF, entry);
  mulCore(ctx, cF, entry, dF, dR);
  swapPairs();
}
/** cF = the forward copy of the reversed vector cR (public indices only). */
@inline function forwardFromReversed(M: i32): void {
  for (let j = 0; j < M; j++) store<u32>(cF + (<usize>j << 2), load<u32>(cR + (<usize>(M - 1 - j) << 2)));
}

/**
 * Zeroes the region's `vectors` digit vectors (every pad must read as zero), then brings
 * the base (a Montgomery representative x R) into digit form x R': reversed in `rev`,
 * forward in `fwd`, through X (K reversed) and `tmp`.
 */
function enterDigits(
  ctx: usize,
  reg: usize,
  vectors: i32,
  base: usize,
  fwd: usize,
  rev: usize,
  X: usize,
  tmp: usize,
): void {
  const L = ctxWords(ctx);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const b = ctxDigitBits(ctx);
  memory.fill(reg, 0, <usize>(vectors * S) << 2); // every pad reads as zero
  toDigits(X + (<usize>(M - 1) << 2), -4, ctxDigitFactor(ctx), L, M, 0, b);
  toDigits(tmp, 4, base, L, M, 0, b);
  trace(1, fwd, tmp, X);
  mulCore(ctx, tmp, X, fwd, rev);
}

/** out = the running value taken out of R' form: times R (reversed, unshifted) over R' gives x R. */
function leaveDigits(ctx: usize, out: usize, X: usize): void {
  const M = ctxDigits(ctx);
  memory.fill(X - (<usize>DIGIT_PAD << 2), 0, <usize>ctxDigitStride(ctx) << 2);
  toDigits(X + (<usize>(M - 1) << 2), -4, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  multiplyStep(ctx, X);
  finishFrom(ctx, out, cF);
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
  // sliding window of width w over odd powers: table[k] = base^(2k+1), reversed
  const w: i32 = bits > 768 ? 6 : bits > 240 ? 5 : bits > 80 ? 4 : bits > 24 ? 3 : 1;
  const half = 1 << (w - 1);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const reg = ctxDigitScratch(ctx);
  const aF = dv(reg, S, half);
  const aR = dv(reg, S, half + 1);
  const bF = dv(reg, S, half + 2);
  const bR = dv(reg, S, half + 3);
  const X = dv(reg, S, half + 4);
  enterDigits(ctx, reg, half + 5, base, aF, dv(reg, S, 0), X, bF);
  if (w > 1) {
    // sq = base'^2 forward in bF; table[k] = table[k-1] * sq (forward copies to aR, unused)
    trace(2, bF, aF, aF);
    sqrCore(ctx, aF, dv(reg, S, 0), bF, X);
    for (let k = 1; k < half; k++) {
      trace(1, aR, bF, dv(reg, S, k - 1));
      mulCore(ctx, bF, dv(reg, S, k - 1), aR, dv(reg, S, k));
    }
  }
  cF = bF;
  cR = bR;
  dF = aF;
  dR = aR;
  let started = false;
  let i = bits - 1;
  while (i >= 0) {
    if (bitsAt(e, eWords, i, 1) == 0) {
      if (started) squareStep(ctx);
      i--;
      continue;
    }
    // longest window ending in a 1 bit, at most w wide
    let lo = max(i - w + 1, 0);
    while (bitsAt(e, eWords, lo, 1) == 0) lo++;
    const width = i - lo + 1;
    const entry = dv(reg, S, <i32>(bitsAt(e, eWords, lo, width) >> 1));
    if (started) {
      for (let k = 0; k < width; k++) squareStep(ctx);
      multiplyStep(ctx, entry);
    } else {
      memory.copy(cR - (<usize>DIGIT_PAD << 2), entry - (<usize>DIGIT_PAD << 2), <usize>S << 2);
      forwardFromReversed(M);
      started = true;
    }
    i = lo - 1;
  }
  leaveDigits(ctx, out, X);
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
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const reg = ctxDigitScratch(ctx);
  // vectors: 0..size-1 table (reversed), size: sel (reversed), size+1..size+4 the two
  // accumulator pairs (forward, reversed), size+5: conversion operand
  const SEL = dv(reg, S, size);
  const aF = dv(reg, S, size + 1);
  const aR = dv(reg, S, size + 2);
  const bF = dv(reg, S, size + 3);
  const bR = dv(reg, S, size + 4);
  const X = dv(reg, S, size + 5);
  // table[1] = base', its forward copy in aF
  enterDigits(ctx, reg, size + 6, base, aF, dv(reg, S, 1), X, bF);
  // table[0] = 1' = R' (from R): the forward copy lands in bF
  toDigits(bR, 4, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  trace(1, bF, bR, X);
  mulCore(ctx, bR, X, bF, dv(reg, S, 0));
  // table[k] = table[k-1] * base'; the forward copies go to X (no longer needed)
  for (let k = 2; k < size; k++) {
    trace(1, X, aF, dv(reg, S, k - 1));
    mulCore(ctx, aF, dv(reg, S, k - 1), X, dv(reg, S, k));
  }
  // accumulator = table[top digit] (masked scan; the squarings of 1 are skipped)
  const windows = (totalBits + w - 1) / w;
  cF = bF;
  cR = bR;
  dF = aF;
  dR = aR;
  ctSelectDigits(reg, S, cR, bitsAt(e, eWords, (windows - 1) * w, w), size);
  forwardFromReversed(M);
  for (let win = windows - 2; win >= 0; win--) {
    // the window position is public; only the digit is secret
    for (let k = 0; k < w; k++) squareStep(ctx);
    ctSelectDigits(reg, S, SEL, bitsAt(e, eWords, win * w, w), size);
    multiplyStep(ctx, SEL);
  }
  leaveDigits(ctx, out, X);
  // the table and accumulators held powers of a secret-dependent walk: wipe them
  memory.fill(reg, 0, <usize>((size + 6) * S) << 2);
}

/**
 * sel = table[digit] over whole digit vectors (pads included), reading every entry with
 * v128 and/or; the mask is all ones exactly when k == digit, with no branch or index on it.
 */
function ctSelectDigits(reg: usize, S: i32, sel: usize, digit: u32, size: i32): void {
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

