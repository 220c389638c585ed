// Windowed modular exponentiation in Montgomery form (DESIGN §2, §5).
// modPowWindow: sliding window over a public exponent, skipping zero bits.
// modPowConstTime: fixed window over every bit of a secret exponent of a public word
// length; each step squares w times and multiplies by a table entry chosen by a full
// masked scan, so the instruction and memory-address sequence depends only on the
// exponent's word length, never on its bits.
import { bitLength, bitsAt, copyWords, word, zeroWords } from './limbs';
import { ctxOne, ctxScratch, ctxWords, montMul, montSqr } from './montgomery';

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
