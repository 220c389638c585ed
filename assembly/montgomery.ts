// Montgomery arithmetic over little-endian u32 limbs (DESIGN §5).
// A context holds one odd modulus N of L words with N' = -N^-1 mod 2^32, R mod N and
// R^2 mod N (R = 2^(32L)), plus a scratch area that kernels use for temporaries, so no
// kernel allocates. Every routine here runs in time that depends only on L, never on
// operand values: the final subtraction is a masked select, not a branch.

import { addWords, copyWords, setWord, subWords, word, zeroWords } from './limbs';

// Context header layout (u32 fields, byte offsets). JS sizes the region with ctxSizeBytes.
const H_WORDS: usize = 0; // L
const H_NINV: usize = 4; // N' = -N^-1 mod 2^32
const H_N: usize = 8; // pointer to N (L words)
const H_ONE: usize = 12; // pointer to R mod N (Montgomery form of 1)
const H_R2: usize = 16; // pointer to R^2 mod N
const H_TMP: usize = 20; // pointer to the product buffer (2L + 2 words)
const H_SCRATCH: usize = 24; // pointer to the scratch elements (SCRATCH_ELEMS x L words)
export const CTX_HEADER_BYTES: usize = 32;
// Scratch elements: the windowed exponentiations need at most 2^6 table entries + 4 temps.
export const SCRATCH_ELEMS: usize = 72;

@inline export function ctxWords(ctx: usize): i32 {
  return load<i32>(ctx + H_WORDS);
}
@inline export function ctxModulus(ctx: usize): usize {
  return load<usize>(ctx + H_N);
}
@inline export function ctxOne(ctx: usize): usize {
  return load<usize>(ctx + H_ONE);
}
@inline export function ctxR2(ctx: usize): usize {
  return load<usize>(ctx + H_R2);
}
@inline export function ctxTmp(ctx: usize): usize {
  return load<usize>(ctx + H_TMP);
}
/** Address of scratch element `i` (L words each). */
@inline export function ctxScratch(ctx: usize, i: i32): usize {
  return load<usize>(ctx + H_SCRATCH) + ((<usize>i * <usize>ctxWords(ctx)) << 2);
}

export function ctxSizeBytes(words: i32): usize {
  const L = <usize>words;
  return CTX_HEADER_BYTES + ((3 * L + (2 * L + 2) + SCRATCH_ELEMS * L) << 2);
}

// ---- operation trace ----
// Every montMul/montSqr folds its kind and operand addresses (never values) into a hash,
// so a test can check that the constant-time exponentiation performs the same sequence
// of operations for two different secret exponents of the same length.
let traceHash: u64 = 0;
let traceCount: u32 = 0;
@inline function trace(kind: u64, out: usize, a: usize, b: usize): void {
  traceHash = (traceHash ^ (kind + (<u64>out << 8) + (<u64>a << 24) + (<u64>b << 40))) * 0x100000001b3;
  traceCount++;
}
export function traceReset(): void {
  traceHash = 0;
  traceCount = 0;
}
export function traceHashLow(): u32 {
  return <u32>traceHash ^ <u32>(traceHash >> 32);
}
export function traceOps(): u32 {
  return traceCount;
}

/** Branch-free select: dst = mask ? a : b, mask all ones or zero. */
@inline function selectWords(dst: usize, a: usize, b: usize, mask: u32, words: i32): void {
  for (let j = 0; j < words; j++) setWord(dst, j, (word(a, j) & mask) | (word(b, j) & ~mask));
}

/**
 * out = t - N if t >= N else t, for t = t[0..L) + top * 2^(32L) < 2N.
 * Masked, so the same instructions run whether or not the subtraction is kept.
 */
@inline function finalSubtract(out: usize, t: usize, top: u32, n: usize, L: i32): void {
  const borrow = subWords(out, t, n, L);
  // keep the difference when top carry is set or no borrow occurred
  const keep = top | (borrow ^ 1);
  selectWords(out, out, t, 0 - keep, L);
}

// ---- Montgomery context ----

/** Writes the context for odd modulus `n` (L words, top word non-zero) at `ctx`. */
export function ctxInit(ctx: usize, n: usize, words: i32): void {
  const L = <usize>words;
  store<i32>(ctx + H_WORDS, words);
  const nPtr = ctx + CTX_HEADER_BYTES;
  const onePtr = nPtr + (L << 2);
  const r2Ptr = onePtr + (L << 2);
  const tmpPtr = r2Ptr + (L << 2);
  const scratchPtr = tmpPtr + ((2 * L + 2) << 2);
  store<usize>(ctx + H_N, nPtr);
  store<usize>(ctx + H_ONE, onePtr);
  store<usize>(ctx + H_R2, r2Ptr);
  store<usize>(ctx + H_TMP, tmpPtr);
  store<usize>(ctx + H_SCRATCH, scratchPtr);
  copyWords(nPtr, n, words);

  // N^-1 mod 2^32 by Newton iteration: an odd x is its own inverse mod 8, and each
  // step doubles the number of correct bits (3, 6, 12, 24, 48).
  const n0 = word(n, 0);
  let inv: u32 = n0;
  for (let k = 0; k < 4; k++) inv = inv * (2 - n0 * inv);
  store<u32>(ctx + H_NINV, 0 - inv);

  // R mod N and R^2 mod N by modular doubling from 1 (the modulus is public: the
  // branches here depend on N only). 64L doublings: about 1 ms at 4096 bits.
  zeroWords(onePtr, words);
  setWord(onePtr, 0, 1);
  for (let k = 0; k < 32 * words; k++) doubleMod(onePtr, nPtr, tmpPtr, words);
  copyWords(r2Ptr, onePtr, words);
  for (let k = 0; k < 32 * words; k++) doubleMod(r2Ptr, nPtr, tmpPtr, words);
}

/** v = 2v mod n for v < n; tmp holds L words. */
function doubleMod(v: usize, n: usize, tmp: usize, L: i32): void {
  let carry: u32 = 0;
  for (let j = 0; j < L; j++) {
    const x = word(v, j);
    setWord(tmp, j, (x << 1) | carry);
    carry = x >> 31;
  }
  finalSubtract(v, tmp, carry, n, L);
}

/**
 * out = a * b * R^-1 mod N (CIOS, the two inner loops fused). Requires a * b < N * R
 * (for instance a < R and b < N); the result is fully reduced. out may alias a or b.
 */
export function montMul(ctx: usize, out: usize, a: usize, b: usize): void {
  const L = ctxWords(ctx);
  const n = ctxModulus(ctx);
  const t = ctxTmp(ctx);
  const ninv = load<u32>(ctx + H_NINV);
  trace(1, out, a, b);
  zeroWords(t, L + 2);
  const a0 = <u64>word(a, 0);
  for (let i = 0; i < L; i++) {
    const bi = <u64>word(b, i);
    // first column: choose m so that t[0] + a0*bi + m*n0 = 0 mod 2^32
    let s1 = <u64>word(t, 0) + a0 * bi;
    const m = <u64>(<u32>s1 * ninv);
    let c1 = s1 >> 32;
    let s2 = <u64>(<u32>s1) + m * <u64>word(n, 0);
    let c2 = s2 >> 32;
    for (let j = 1; j < L; j++) {
      s1 = <u64>word(t, j) + <u64>word(a, j) * bi + c1;
      c1 = s1 >> 32;
      s2 = <u64>(<u32>s1) + m * <u64>word(n, j) + c2;
      c2 = s2 >> 32;
      setWord(t, j - 1, <u32>s2);
    }
    const top = <u64>word(t, L) + c1 + c2;
    setWord(t, L - 1, <u32>top);
    setWord(t, L, word(t, L + 1) + <u32>(top >> 32));
    setWord(t, L + 1, 0);
  }
  finalSubtract(out, t, word(t, L), n, L);
}

/**
 * Montgomery reduction of the 2L-word value in ctxTmp (t < N * R): out = t * R^-1 mod N.
 */
function redcTmp(ctx: usize, out: usize): void {
  const L = ctxWords(ctx);
  const n = ctxModulus(ctx);
  const t = ctxTmp(ctx);
  const ninv = load<u32>(ctx + H_NINV);
  let topCarry: u64 = 0;
  for (let i = 0; i < L; i++) {
    const row = t + (<usize>i << 2);
    const m = <u64>(word(row, 0) * ninv);
    let c: u64 = 0;
    for (let j = 0; j < L; j++) {
      const s = <u64>word(row, j) + m * <u64>word(n, j) + c;
      setWord(row, j, <u32>s);
      c = s >> 32;
    }
    // the previous row's overflow belongs at the same position as this row's carry
    const s = <u64>word(row, L) + c + topCarry;
    setWord(row, L, <u32>s);
    topCarry = s >> 32;
  }
  finalSubtract(out, t + (<usize>L << 2), <u32>topCarry, n, L);
}

/**
 * out = a^2 * R^-1 mod N: the square computed with each cross product once (about
 * 25% fewer multiplies than montMul), then a separate reduction. out may alias a.
 */
export function montSqr(ctx: usize, out: usize, a: usize): void {
  const L = ctxWords(ctx);
  const t = ctxTmp(ctx);
  trace(2, out, a, a);
  zeroWords(t, 2 * L + 2);
  // cross products a_i a_j, i < j
  for (let i = 0; i < L - 1; i++) {
    const ai = <u64>word(a, i);
    const row = t + (<usize>i << 2);
    let c: u64 = 0;
    for (let j = i + 1; j < L; j++) {
      const s = <u64>word(row, j) + ai * <u64>word(a, j) + c;
      setWord(row, j, <u32>s);
      c = s >> 32;
    }
    setWord(row, L, <u32>c);
  }
  // double them and add the squares a_i^2 at column 2i
  let shiftIn: u32 = 0;
  let c: u64 = 0;
  for (let i = 0; i < L; i++) {
    const ai = <u64>word(a, i);
    const sq = ai * ai;
    const lo = word(t, 2 * i);
    const hi = word(t, 2 * i + 1);
    const dlo = (lo << 1) | shiftIn;
    const dhi = (hi << 1) | (lo >> 31);
    shiftIn = hi >> 31;
    const s0 = <u64>dlo + (sq & 0xffffffff) + c;
    setWord(t, 2 * i, <u32>s0);
    const s1 = <u64>dhi + (sq >> 32) + (s0 >> 32);
    setWord(t, 2 * i + 1, <u32>s1);
    c = s1 >> 32;
  }
  redcTmp(ctx, out);
}

/** out = x * R mod N (into Montgomery form) for any L-word x < R. */
export function toMont(ctx: usize, out: usize, x: usize): void {
  montMul(ctx, out, x, ctxR2(ctx));
}

/** out = a * R^-1 mod N (out of Montgomery form). */
export function fromMont(ctx: usize, out: usize, a: usize): void {
  const L = ctxWords(ctx);
  const t = ctxTmp(ctx);
  copyWords(t, a, L);
  zeroWords(t + (<usize>L << 2), L + 2);
  redcTmp(ctx, out);
}

/** out = (a + b) mod N for a, b < N, masked. tmp holds L words. */
export function addMod(ctx: usize, out: usize, a: usize, b: usize, tmp: usize): void {
  const L = ctxWords(ctx);
  const carry = addWords(tmp, a, b, L);
  finalSubtract(out, tmp, carry, ctxModulus(ctx), L);
}

/** out = (a - b) mod N for a, b < N, masked. */
export function subMod(ctx: usize, out: usize, a: usize, b: usize): void {
  const L = ctxWords(ctx);
  const borrow = subWords(out, a, b, L);
  // add N back under a mask when the subtraction borrowed
  const mask = 0 - borrow;
  const n = ctxModulus(ctx);
  let carry: u64 = 0;
  for (let j = 0; j < L; j++) {
    const s = <u64>word(out, j) + <u64>(word(n, j) & mask) + carry;
    setWord(out, j, <u32>s);
    carry = s >> 32;
  }
}

/**
 * out = x mod N in Montgomery form (x * R mod N) for x of any number of words, by Horner
 * over L-word chunks: acc = acc * R + chunk. Used to bring a ciphertext mod n^2 down to
 * mod p^2. Scratch element `s` and `s + 1` are used.
 */
export function reduceToMont(ctx: usize, out: usize, x: usize, xWords: i32, s: i32): void {
  const L = ctxWords(ctx);
  const chunk = ctxScratch(ctx, s);
  const part = ctxScratch(ctx, s + 1);
  const chunks = (xWords + L - 1) / L;
  zeroWords(out, L);
  for (let k = chunks - 1; k >= 0; k--) {
    const start = k * L;
    const have = min(L, xWords - start);
    zeroWords(chunk, L);
    copyWords(chunk, x + (<usize>start << 2), have);
    // out = out * R (montMul by R^2 drops one R) then + chunk * R
    montMul(ctx, out, out, ctxR2(ctx));
    toMont(ctx, part, chunk);
    addMod(ctx, out, out, part, chunk);
  }
}
