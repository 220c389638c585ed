// Windowed modular exponentiation in Montgomery form (DESIGN §2, §5).
// modPowWindow: sliding window over a public exponent, skipping zero bits.
// modPowConstTime: fixed window over every bit of a secret exponent of a public word
// length; each step squares w times and multiplies by a table entry chosen by a full
// masked scan, so the instruction and memory-address sequence depends only on the
// exponent's word length, never on its bits.
// Both run in montgomery.ts's digit form from end to end (modPow*Digits below) whenever
// the table and temporaries fit in the context's scratch elements 0..63 (every window
// size from 18 words, 576 bits, up); smaller moduli take the word-form loops.
import { bitLength, bitsAt, copyWords, word, zeroWords } from './limbs';
import {
  ctxDigitBits,
  ctxDigitStride,
  ctxDigits,
  ctxOne,
  ctxScratch,
  ctxTmp,
  ctxModulus,
  ctxWords,
  DIGIT_PAD,
  doubleMod,
  finishFrom,
  montMul,
  montSqr,
  mulCore,
  sqrCore,
  toDigits,
  trace,
} from './montgomery';

// Scratch use: elements 0..63 hold the window table, 64..67 temporaries.
const TABLE_ELEM: i32 = 0;
const ACC_ELEM: i32 = 64;
const SEL_ELEM: i32 = 65;

@inline function tableEntry(ctx: usize, i: i32): usize {
  return ctxScratch(ctx, TABLE_ELEM + i);
}

/**
 * out = base^e mod N, all in Montgomery form (base and out are Montgomery
 * representatives). Variable time in e: use only for public exponents.
 */
export function modPowWindow(ctx: usize, out: usize, base: usize, e: usize, eWords: i32): void {
  const L = ctxWords(ctx);
  const bits = bitLength(e, eWords);
  if (bits == 0) {
    copyWords(out, ctxOne(ctx), L);
    return;
  }
  // sliding window of width w over odd powers: table[k] = base^(2k+1)
  const w: i32 = bits > 768 ? 6 : bits > 240 ? 5 : bits > 80 ? 4 : bits > 24 ? 3 : 1;
  if (((1 << (w - 1)) + 5) * ctxDigitStride(ctx) + 4 <= 64 * L) {
    modPowWindowDigits(ctx, out, base, e, eWords, bits, w);
    return;
  }
  const acc = ctxScratch(ctx, ACC_ELEM);
  copyWords(tableEntry(ctx, 0), base, L);
  if (w > 1) {
    const sq = ctxScratch(ctx, SEL_ELEM);
    montSqr(ctx, sq, base);
    const half = 1 << (w - 1);
    for (let k = 1; k < half; k++) montMul(ctx, tableEntry(ctx, k), tableEntry(ctx, k - 1), sq);
  }
  let started = false;
  let i = bits - 1;
  while (i >= 0) {
    if (bitsAt(e, eWords, i, 1) == 0) {
      if (started) montSqr(ctx, acc, acc);
      i--;
      continue;
    }
    // longest window ending in a 1 bit, at most w wide
    let lo = max(i - w + 1, 0);
    while (bitsAt(e, eWords, lo, 1) == 0) lo++;
    const width = i - lo + 1;
    const digit = bitsAt(e, eWords, lo, width);
    if (started) {
      for (let k = 0; k < width; k++) montSqr(ctx, acc, acc);
      montMul(ctx, acc, acc, tableEntry(ctx, <i32>(digit >> 1)));
    } else {
      copyWords(acc, tableEntry(ctx, <i32>(digit >> 1)), L);
      started = true;
    }
    i = lo - 1;
  }
  copyWords(out, acc, L);
}

/**
 * out = base^e mod N in Montgomery form, constant time in the value of e: every one of
 * the eWords * 32 bits is processed, and each table look-up reads all 2^w entries,
 * keeping one with a mask derived arithmetically from the digit.
 */
export function modPowConstTime(ctx: usize, out: usize, base: usize, e: usize, eWords: i32): void {
  const L = ctxWords(ctx);
  const totalBits = eWords * 32;
  const w: i32 = totalBits >= 512 ? 5 : 4;
  const size = 1 << w;
  // the digit-form path needs size + 6 digit vectors inside scratch elements 0..63
  const S = ctxDigitStride(ctx);
  if ((size + 6) * S + 4 <= 64 * L) {
    modPowConstTimeDigits(ctx, out, base, e, eWords, w);
    return;
  }
  // table[k] = base^k for k in [0, 2^w)
  copyWords(tableEntry(ctx, 0), ctxOne(ctx), L);
  copyWords(tableEntry(ctx, 1), base, L);
  for (let k = 2; k < size; k++) montMul(ctx, tableEntry(ctx, k), tableEntry(ctx, k - 1), base);
  const acc = ctxScratch(ctx, ACC_ELEM);
  const sel = ctxScratch(ctx, SEL_ELEM);
  copyWords(acc, ctxOne(ctx), L);
  const windows = (totalBits + w - 1) / w;
  for (let win = windows - 1; win >= 0; win--) {
    // the window position is public; only the digit is secret
    for (let k = 0; k < w; k++) montSqr(ctx, acc, acc);
    const digit = bitsAt(e, eWords, win * w, w);
    ctSelect(ctx, sel, digit, size, L);
    montMul(ctx, acc, acc, sel);
  }
  copyWords(out, acc, L);
  // the table and temporaries held powers of a secret-dependent walk: wipe them
  zeroWords(tableEntry(ctx, 0), size * L);
  zeroWords(sel, L);
}

/** sel = table[digit], reading every entry; mask = all ones exactly when k == digit. */
function ctSelect(ctx: usize, sel: usize, digit: u32, size: i32, L: i32): void {
  zeroWords(sel, L);
  for (let k = 0; k < size; k++) {
    const mask = <u32>((<u64>(<u32>k ^ digit) - 1) >> 32); // 0xffffffff iff equal
    const entry = tableEntry(ctx, k);
    for (let j = 0; j < L; j++) {
      const p = sel + (<usize>j << 2);
      store<u32>(p, load<u32>(p) | (word(entry, j) & mask));
    }
  }
}

// ---- digit-form constant-time exponentiation ----
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

function modPowConstTimeDigits(ctx: usize, out: usize, base: usize, e: usize, eWords: i32, w: i32): void {
  const L = ctxWords(ctx);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const size = 1 << w;
  const totalBits = eWords * 32;
  const reg = (ctxScratch(ctx, 0) + 15) & ~(<usize>15);
  // vectors: 0..size-1 table (reversed), size: sel (reversed), size+1..size+4 the two
  // accumulator pairs (forward, reversed), size+5: conversion operand
  const SEL = dv(reg, S, size);
  let aF = dv(reg, S, size + 1);
  let aR = dv(reg, S, size + 2);
  let bF = dv(reg, S, size + 3);
  let bR = dv(reg, S, size + 4);
  const X = dv(reg, S, size + 5);
  memory.fill(reg, 0, <usize>((size + 6) * S) << 2); // every pad reads as zero
  // K = R 2^(4s) mod N = R'^2 / R: x R (digits, unshifted) times K over R' is x R'
  const K = ctxScratch(ctx, 65);
  const b = ctxDigitBits(ctx);
  const s2 = <i32>b * M - 32 * L; // 2s
  copyWords(K, ctxOne(ctx), L);
  for (let k = 0; k < 2 * s2; k++) doubleMod(K, ctxModulus(ctx), ctxTmp(ctx), L);
  toDigits(X + (<usize>(M - 1) << 2), -4, K, L, M, 0, b); // K reversed
  // table[1] = base', its forward copy in aF
  toDigits(bF, 4, base, L, M, 0, b);
  trace(1, aF, bF, X);
  mulCore(ctx, bF, X, aF, dv(reg, S, 1));
  // table[0] = 1' = R' (from R): the forward copy lands in bF, then into the accumulator
  toDigits(bR, 4, ctxOne(ctx), L, M, 0, b);
  trace(1, bF, bR, X);
  mulCore(ctx, bR, X, bF, dv(reg, S, 0));
  // table[k] = table[k-1] * base'; the forward copies go to X (no longer needed)
  for (let k = 2; k < size; k++) {
    trace(1, X, aF, dv(reg, S, k - 1));
    mulCore(ctx, aF, dv(reg, S, k - 1), X, dv(reg, S, k));
  }
  // accumulator = table[top digit] (masked scan; the squarings of 1 are skipped):
  // reversed by the scan, forward by reversing it (public indices only)
  const windows = (totalBits + w - 1) / w;
  ctSelectDigits(reg, S, bR, bitsAt(e, eWords, (windows - 1) * w, w), size);
  for (let j = 0; j < M; j++) store<u32>(bF + (<usize>j << 2), load<u32>(bR + (<usize>(M - 1 - j) << 2)));
  let cF = bF;
  let cR = bR;
  let dF = aF;
  let dR = aR;
  for (let win = windows - 2; win >= 0; win--) {
    for (let k = 0; k < w; k++) {
      trace(2, dF, cF, cF);
      sqrCore(ctx, cF, cR, dF, dR);
      let t = cF;
      cF = dF;
      dF = t;
      t = cR;
      cR = dR;
      dR = t;
    }
    const digit = bitsAt(e, eWords, win * w, w);
    ctSelectDigits(reg, S, SEL, digit, size);
    trace(1, dF, cF, SEL);
    mulCore(ctx, cF, SEL, dF, dR);
    let t = cF;
    cF = dF;
    dF = t;
    t = cR;
    cR = dR;
    dR = t;
  }
  // out of R' form: times R (reversed digits, unshifted) over R' gives x R
  memory.fill(X - (<usize>DIGIT_PAD << 2), 0, <usize>S << 2);
  toDigits(X + (<usize>(M - 1) << 2), -4, ctxOne(ctx), L, M, 0, b);
  trace(1, dF, cF, X);
  mulCore(ctx, cF, X, dF, dR);
  finishFrom(ctx, out, dF);
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

/** As modPowWindow (public exponent, bits > 0), in digit form like modPowConstTimeDigits. */
function modPowWindowDigits(
  ctx: usize,
  out: usize,
  base: usize,
  e: usize,
  eWords: i32,
  bits: i32,
  w: i32,
): void {
  const L = ctxWords(ctx);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const b = ctxDigitBits(ctx);
  const half = 1 << (w - 1);
  const reg = (ctxScratch(ctx, 0) + 15) & ~(<usize>15);
  // vectors: 0..half-1 table of odd powers (reversed), then two accumulator pairs and X
  let aF = dv(reg, S, half);
  let aR = dv(reg, S, half + 1);
  let bF = dv(reg, S, half + 2);
  let bR = dv(reg, S, half + 3);
  const X = dv(reg, S, half + 4);
  memory.fill(reg, 0, <usize>((half + 5) * S) << 2);
  // base' = base R' (see modPowConstTimeDigits): forward in aF, reversed in table[0]
  const K = ctxScratch(ctx, 65);
  const s2 = <i32>b * M - 32 * L;
  copyWords(K, ctxOne(ctx), L);
  for (let k = 0; k < 2 * s2; k++) doubleMod(K, ctxModulus(ctx), ctxTmp(ctx), L);
  toDigits(X + (<usize>(M - 1) << 2), -4, K, L, M, 0, b);
  toDigits(bF, 4, base, L, M, 0, b);
  trace(1, aF, bF, X);
  mulCore(ctx, bF, X, aF, dv(reg, S, 0));
  if (w > 1) {
    // sq = base'^2 forward in bF; table[k] = table[k-1] * sq (forward copies to aR, unused)
    trace(2, bF, aF, aF);
    sqrCore(ctx, aF, dv(reg, S, 0), bF, X);
    for (let k = 1; k < half; k++) {
      trace(1, aR, bF, dv(reg, S, k - 1));
      mulCore(ctx, bF, dv(reg, S, k - 1), aR, dv(reg, S, k));
    }
  }
  let cF = bF;
  let cR = bR;
  let dF = aF;
  let dR = aR;
  let started = false;
  let i = bits - 1;
  while (i >= 0) {
    if (bitsAt(e, eWords, i, 1) == 0) {
      if (started) {
        trace(2, dF, cF, cF);
        sqrCore(ctx, cF, cR, dF, dR);
        let t = cF;
        cF = dF;
        dF = t;
        t = cR;
        cR = dR;
        dR = t;
      }
      i--;
      continue;
    }
    let lo = max(i - w + 1, 0);
    while (bitsAt(e, eWords, lo, 1) == 0) lo++;
    const width = i - lo + 1;
    const entry = dv(reg, S, <i32>(bitsAt(e, eWords, lo, width) >> 1));
    if (started) {
      for (let k = 0; k < width; k++) {
        trace(2, dF, cF, cF);
        sqrCore(ctx, cF, cR, dF, dR);
        let t = cF;
        cF = dF;
        dF = t;
        t = cR;
        cR = dR;
        dR = t;
      }
      trace(1, dF, cF, entry);
      mulCore(ctx, cF, entry, dF, dR);
      let t = cF;
      cF = dF;
      dF = t;
      t = cR;
      cR = dR;
      dR = t;
    } else {
      memory.copy(cR - (<usize>DIGIT_PAD << 2), entry - (<usize>DIGIT_PAD << 2), <usize>S << 2);
      for (let j = 0; j < M; j++) store<u32>(cF + (<usize>j << 2), load<u32>(cR + (<usize>(M - 1 - j) << 2)));
      started = true;
    }
    i = lo - 1;
  }
  // out of R' form, as in modPowConstTimeDigits
  memory.fill(X - (<usize>DIGIT_PAD << 2), 0, <usize>S << 2);
  toDigits(X + (<usize>(M - 1) << 2), -4, ctxOne(ctx), L, M, 0, b);
  trace(1, dF, cF, X);
  mulCore(ctx, cF, X, dF, dR);
  finishFrom(ctx, out, dF);
}
