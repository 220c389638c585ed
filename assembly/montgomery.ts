// Montgomery arithmetic over little-endian u32 limbs (DESIGN §5): contexts, the digit-form
// product and square cores that every exponentiation runs on, and montMul/montSqr/fromMont.
// Invariant: time depends only on the word count L and the column index, never on operand
// values (masked final subtraction, public loop bounds); kernels never allocate.

import { addWords, copyWords, setWord, subWords, word, zeroWords } from './limbs';

// Context header layout (u32 fields, byte offsets). JS sizes the region with ctxSizeBytes.
const H_WORDS: usize = 0; // L
const H_NINV: usize = 4; // N' = -N^-1 mod 2^32
const H_N: usize = 8; // pointer to N (L words)
const H_ONE: usize = 12; // pointer to R mod N (Montgomery form of 1)
const H_R2: usize = 16; // pointer to R^2 mod N
const H_TMP: usize = 20; // pointer to the product buffer (2L + 2 words)
const H_SCRATCH: usize = 24; // pointer to the scratch elements (SCRATCH_ELEMS x L words)
const H_DIGITS: usize = 28; // M = digits of the internal form, see digitsFor
const H_DNINV: usize = 32; // -N^-1 mod 2^b (b = digit bits)
const H_SHIFT: usize = 36; // s | d << 8 with 2s + d = bM - 32L: operand pre-shifts, see montMul
const H_INT: usize = 40; // pointer to the internal digit vectors (16-byte aligned)
const H_DBITS: usize = 44; // b = DIGIT_BITS (read from the context, so a per-size choice stays possible)
const H_K: usize = 48; // pointer to K = R'^2 / R mod N (L words), see ctxDigitFactor
const H_ACC: usize = 52; // pointer to the column accumulators (2M + 8 u64, 16-byte aligned)
export const CTX_HEADER_BYTES: usize = 64;
// Scratch elements (L words each) for callers' temporaries: reduceToMont takes two.
export const SCRATCH_ELEMS: usize = 2;
// Digit vectors for modpow.ts's exponentiations: a table of up to 32 entries (window 5
// constant time, window 6 sliding over odd powers) plus the accumulator and temporaries.
export const DIGIT_SCRATCH_VECTORS: i32 = 38;

// ---- internal radix-2^b digit form ----
// Elements cross montMul/montSqr/fromMont/toMont as canonical L-word values; inside, they
// are M digits of b bits, one per u32 word, in "digit vectors" with PAD zero words on both
// sides. modpow.ts's exponentiations run mulCore/sqrCore directly on digit vectors (values
// below 2N, no final subtraction) between one conversion in and one out.
// The cores scan operands row by row (docs/decisions/kernel.md, "row cores"): for each pair
// of multiplier digits (a_c, a_c+1) and their reduction digits (m_c, m_c+1), one SIMD pass
// adds a_c B + m_c N + (a_c+1 B + m_c+1 N) 2^b into 64-bit column accumulators, with
// i64x2.extmul_{low,high}_i32x4_u. Column-wise dot products (the previous cores) paid ~50
// cycles per column for horizontal sums and a store-forwarding stall on each reduction digit.
// Digit size: 29 bits at every size. The carry passes (carryEvery) keep the columns exact
// whatever M is, so the digit size no longer depends on the modulus; 29 beat 28 at 2048 and
// 4096 bits (modPow 3.81x / 3.52x plain BigInt against 3.47x / 3.32x), and 30 would need a
// carry pass every 2 or 3 row pairs.
const DIGIT_BITS: u32 = 29;
// Zero words kept on both sides of every digit vector, so the 4-wide loops may run past the
// end and read digit -1: the extra lanes multiply a zero.
const PAD: i32 = 4;
// Vectors in the internal area, each `stride` words, all forward (digit 0 first): A and B (the
// operands of montMul/montSqr), NF (N), RES (the result), W (the squaring's doubled operand).
const V_A: i32 = 0;
const V_B: i32 = 1;
const V_NF: i32 = 2;
const V_RES: i32 = 3;
const V_W: i32 = 4;
const VECTORS: i32 = 5;

// M = ceil((32L + 2) / b): R' = 2^(bM) >= 4 * 2^(32L) > 4N, so a product of two values
// below 2N reduces to a value below 2N again, and the digit-form exponentiations chain
// products without a final subtraction.
@inline function digitsFor(words: i32): i32 {
  return (32 * words + 2 + <i32>DIGIT_BITS - 1) / <i32>DIGIT_BITS;
}
@inline function vecStride(M: i32): i32 {
  return (M + 2 * PAD + 3) & ~3;
}
/** u64 column accumulators of the cores: 2M + 8 (the row passes run up to 4 columns past 2M). */
@inline function accWords(M: i32): i32 {
  return 2 * (2 * M + 8);
}
@inline export function ctxDigitBits(ctx: usize): u32 {
  return load<u32>(ctx + H_DBITS);
}
@inline export function ctxDigits(ctx: usize): i32 {
  return load<i32>(ctx + H_DIGITS);
}
/** Words between consecutive digit vectors (pads included; a multiple of 4). */
@inline export function ctxDigitStride(ctx: usize): i32 {
  return vecStride(load<i32>(ctx + H_DIGITS));
}
/** Pads (in words) before digit 0 of a digit vector. */
export const DIGIT_PAD: i32 = PAD;
/** Address of digit 0 of internal vector `v`. */
@inline function vec(ctx: usize, v: i32): usize {
  const M = load<i32>(ctx + H_DIGITS);
  return load<usize>(ctx + H_INT) + ((<usize>(v * vecStride(M) + PAD)) << 2);
}

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

/** K = R'^2 / R mod N (R' = 2^(bM)): x R times K over R' is x R', the digit form's representative. */
@inline export function ctxDigitFactor(ctx: usize): usize {
  return load<usize>(ctx + H_K);
}
/** The exponentiations' DIGIT_SCRATCH_VECTORS digit vectors (16-byte aligned, stride ctxDigitStride). */
@inline export function ctxDigitScratch(ctx: usize): usize {
  return load<usize>(ctx + H_INT) + ((<usize>(VECTORS * ctxDigitStride(ctx))) << 2);
}

export function ctxSizeBytes(words: i32): usize {
  const L = <usize>words;
  const M = digitsFor(words);
  // + the internal digit vectors, the exponentiation scratch, the accumulators, and up to 3
  // words to align them
  const internal = <usize>((VECTORS + DIGIT_SCRATCH_VECTORS) * vecStride(M) + accWords(M) + 3);
  return CTX_HEADER_BYTES + ((4 * L + (2 * L + 2) + SCRATCH_ELEMS * L + internal) << 2);
}

// ---- operation trace ----
// Every montMul/montSqr folds its kind and operand addresses (never values) into a hash,
// so a test can check that the constant-time exponentiation performs the same sequence
// of operations for two different secret exponents of the same length.
let traceHash: u64 = 0;
let traceCount: u32 = 0;
@inline export function trace(kind: u64, out: usize, a: usize, b: usize): void {
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
  const kPtr = r2Ptr + (L << 2);
  const tmpPtr = kPtr + (L << 2);
  const scratchPtr = tmpPtr + ((2 * L + 2) << 2);
  store<usize>(ctx + H_N, nPtr);
  store<usize>(ctx + H_ONE, onePtr);
  store<usize>(ctx + H_R2, r2Ptr);
  store<usize>(ctx + H_K, kPtr);
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

  // internal digit form: digit count, pre-shift, -N^-1 mod 2^b, N's digits
  const M = digitsFor(words);
  const b = DIGIT_BITS;
  store<i32>(ctx + H_DIGITS, M);
  store<u32>(ctx + H_DBITS, b);
  const extra = b * <u32>M - 32 * <u32>words;
  store<u32>(ctx + H_SHIFT, (extra >> 1) | ((extra & 1) << 8));
  store<u32>(ctx + H_DNINV, (0 - inv) & ((<u32>1 << b) - 1));
  const intPtr = (scratchPtr + ((SCRATCH_ELEMS * L) << 2) + 15) & ~(<usize>15);
  store<usize>(ctx + H_INT, intPtr);
  // the accumulators follow the digit vectors and the exponentiation scratch (both 16-byte multiples)
  store<usize>(ctx + H_ACC, intPtr + (<usize>((VECTORS + DIGIT_SCRATCH_VECTORS) * vecStride(M)) << 2));
  zeroWords(intPtr, VECTORS * vecStride(M)); // the pads must read as zero forever
  toDigits(vec(ctx, V_NF), nPtr, words, M, 0, b);
  // K = R * 2^(2 (bM - 32L)) mod N = R'^2 / R: once per context, not per exponentiation
  copyWords(kPtr, onePtr, words);
  for (let k: u32 = 0; k < 2 * extra; k++) doubleMod(kPtr, nPtr, tmpPtr, words);
}

/** v = 2v mod n for v < n; tmp holds L words. */
export function doubleMod(v: usize, n: usize, tmp: usize, L: i32): void {
  let carry: u32 = 0;
  for (let j = 0; j < L; j++) {
    const x = word(v, j);
    setWord(tmp, j, (x << 1) | carry);
    carry = x >> 31;
  }
  finalSubtract(v, tmp, carry, n, L);
}

/**
 * Writes the M radix-2^b digits of (x << shift) for the L-word x at dst, digit 0 first.
 * Loop counts depend on L and M only.
 */
export function toDigits(dst: usize, x: usize, L: i32, M: i32, shift: u32, bits: u32): void {
  const mask = (<u32>1 << bits) - 1;
  let acc: u64 = 0;
  let have: u32 = shift; // valid bits in acc; the low `shift` are the zeros shifted in
  let j = 0;
  let p = dst;
  for (let k = 0; k < M; k++) {
    if (have < bits) {
      const w: u64 = j < L ? <u64>word(x, j) : 0;
      acc |= w << have;
      have += 32;
      j++;
    }
    store<u32>(p, <u32>acc & mask);
    acc >>= bits;
    have -= bits;
    p += 4;
  }
}

/**
 * Packs the M digits at r into L words at dst and returns the bits above word L - 1 (0 or 1
 * for a Montgomery result < 2N).
 */
function fromDigits(dst: usize, r: usize, L: i32, M: i32, bits: u32): u32 {
  let acc: u64 = 0;
  let have: u32 = 0;
  let k = 0;
  for (let j = 0; j < L; j++) {
    while (have < 32) {
      acc |= <u64>load<u32>(r + (<usize>k << 2)) << have;
      have += bits;
      k++;
    }
    setWord(dst, j, <u32>acc);
    acc >>= 32;
    have -= 32;
  }
  if (k < M) acc |= <u64>load<u32>(r + (<usize>k << 2)) << have;
  return <u32>acc;
}

// ---- the row cores ----
// T holds 2M + 8 u64 column sums (16-byte aligned); column k stands for weight 2^(bk).
// A row pair (c, c+1) adds up to 4 products below 2^2b to each column it spans (mulCore;
// sqrCore's cross terms use 2a_j < 2^(b+1), so 6 units of 2^2b), so a column can take
// carryEvery pairs after a carry pass before it could pass 2^64; the carry pass leaves every
// column below 2^b + 2^(64-b), and the running carry adds at most 2^(64-b) more.

/** Row pairs between carry passes: floor((2^64 - 2^(66-b)) / (units (2^b - 1)^2)). */
@inline function carryEvery(bits: u32, units: u64): i32 {
  const d = (<u64>1 << bits) - 1;
  return <i32>((0xffffffffffffffff - (<u64>1 << (66 - bits))) / (units * d * d));
}

/**
 * The carry pass: column k keeps its low b bits plus the bits above b of column k - 1, for
 * the columns [lo, hi). Runs from the top down so that every column's old value is read
 * before it changes; column lo - 1 must hold zero (the cores clear each finished pair).
 */
@inline function carryPass(T: usize, lo: i32, hi: i32, bits: u32): void {
  const maskv = i64x2.splat(<i64>((<u64>1 << bits) - 1));
  for (let k = (hi - 2) & ~1; k >= lo; k -= 2) {
    const p = T + (<usize>k << 3);
    const cur = v128.load(p);
    const prev = v128.load(p - 8);
    v128.store(p, i64x2.add(v128.and(cur, maskv), i64x2.shr_u(prev, bits)));
  }
}

/**
 * RES = the M digits of the columns [M, 2M) plus the running carry: the result of a core.
 * With an odd M the last row pair's second row was a dummy (a_M = m_M = 0) and its scalar
 * sum s1 is column M itself (the pair cleared T[M]).
 */
@inline function carryOut(T: usize, RES: usize, M: i32, carry: u64, s1: u64, bits: u32): void {
  const mask = (<u32>1 << bits) - 1;
  let k = M;
  let r = RES;
  if ((M & 1) != 0) {
    store<u32>(r, <u32>s1 & mask);
    r += 4;
    k++;
  }
  for (; k < 2 * M; k++) {
    const s = load<u64>(T + (<usize>k << 3)) + carry;
    store<u32>(r, <u32>s & mask);
    carry = s >> bits;
    r += 4;
  }
}

/**
 * Columns j..j+3 of two rows at once: T[j..j+3] += a0 X[j..] + m0 N[j..] + a1 X[j-1..] +
 * m1 N[j-1..] (row c+1 is the same run shifted by one digit), X at px, N at pn, T at pt.
 */
@inline function addRowPair(pt: usize, px: usize, pn: usize, va0: v128, vm0: v128, va1: v128, vm1: v128): void {
  const x = v128.load(px);
  const xs = v128.load(px - 4);
  const y = v128.load(pn);
  const ys = v128.load(pn - 4);
  const lo = i64x2.add(
    i64x2.add(i64x2.extmul_low_i32x4_u(va0, x), i64x2.extmul_low_i32x4_u(vm0, y)),
    i64x2.add(i64x2.extmul_low_i32x4_u(va1, xs), i64x2.extmul_low_i32x4_u(vm1, ys)),
  );
  const hi = i64x2.add(
    i64x2.add(i64x2.extmul_high_i32x4_u(va0, x), i64x2.extmul_high_i32x4_u(vm0, y)),
    i64x2.add(i64x2.extmul_high_i32x4_u(va1, xs), i64x2.extmul_high_i32x4_u(vm1, ys)),
  );
  v128.store(pt, i64x2.add(v128.load(pt), lo));
  v128.store(pt + 16, i64x2.add(v128.load(pt + 16), hi));
}

/**
 * RES = A B / R' mod N as a value below 2N (M digits), for digit vectors A, B below 2N.
 * RES may alias A or B: it is written only once T holds the whole product.
 * Per row pair: the reduction digits m_c, m_c+1 come from two scalar column sums (public
 * addresses, arithmetic only), then one SIMD pass over B and N adds both rows to T.
 */
export function mulCore(ctx: usize, A: usize, B: usize, RES: usize): void {
  const M = load<i32>(ctx + H_DIGITS);
  const bits = load<u32>(ctx + H_DBITS);
  const mask = (<u32>1 << bits) - 1;
  const ninv = load<u32>(ctx + H_DNINV);
  const NF = vec(ctx, V_NF);
  const T = load<usize>(ctx + H_ACC);
  const every = carryEvery(bits, 4);
  memory.fill(T, 0, <usize>(2 * M + 8) << 3);
  const b0 = <u64>load<u32>(B);
  const b1 = <u64>load<u32>(B + 4);
  const n0 = <u64>load<u32>(NF);
  const n1 = <u64>load<u32>(NF + 4);
  const end = B + (<usize>(M + 1) << 2); // the shifted row reaches digit M - 1 at j = M
  let carry: u64 = 0;
  let s1: u64 = 0;
  let since = 0;
  for (let c = 0; c < M; c += 2) {
    const a0 = <u64>load<u32>(A + (<usize>c << 2));
    const a1 = <u64>load<u32>(A + (<usize>(c + 1) << 2)); // a pad zero when c + 1 = M
    const tc = T + (<usize>c << 3);
    let s0 = load<u64>(tc) + carry + a0 * b0;
    const m0 = <u64>(<u32>s0 * ninv & mask);
    s0 += m0 * n0;
    s1 = load<u64>(tc + 8) + (s0 >> bits) + a0 * b1 + m0 * n1 + a1 * b0;
    // the branch depends on c and M only
    const m1 = c + 1 < M ? <u64>(<u32>s1 * ninv & mask) : 0;
    s1 += m1 * n0;
    carry = s1 >> bits;
    const va0 = i32x4.splat(<i32>a0);
    const vm0 = i32x4.splat(<i32>m0);
    const va1 = i32x4.splat(<i32>a1);
    const vm1 = i32x4.splat(<i32>m1);
    let pb = B;
    let pn = NF;
    let pt = tc;
    do {
      addRowPair(pt, pb, pn, va0, vm0, va1, vm1);
      pb += 16;
      pn += 16;
      pt += 32;
    } while (pb < end);
    // columns c and c+1 are now 0 mod 2^b and their carry is in `carry`
    v128.store(tc, i64x2.splat(0));
    if (++since == every) {
      carryPass(T, c + 2, c + M + 4, bits);
      since = 0;
    }
  }
  carryOut(T, RES, M, carry, s1, bits);
}

/**
 * RES = A^2 / R' mod N as a value below 2N, each cross product a_i a_j (i < j) once: row c
 * multiplies a_c by W, where W holds 2a_j above c, a_c at c (the diagonal) and 0 below, so
 * the rows shrink and a square costs 3/4 of mulCore's products. RES may alias A.
 */
export function sqrCore(ctx: usize, A: usize, RES: usize): void {
  const M = load<i32>(ctx + H_DIGITS);
  const bits = load<u32>(ctx + H_DBITS);
  const mask = (<u32>1 << bits) - 1;
  const ninv = load<u32>(ctx + H_DNINV);
  const NF = vec(ctx, V_NF);
  const W = vec(ctx, V_W);
  const T = load<usize>(ctx + H_ACC);
  const every = carryEvery(bits, 6);
  memory.fill(T, 0, <usize>(2 * M + 8) << 3);
  // W = 2A over whole 4-word blocks (the pads of A read as zero, W's stay zero)
  for (let j = 0; j <= M; j += 4) v128.store(W + (<usize>j << 2), i32x4.shl(v128.load(A + (<usize>j << 2)), 1));
  const n0 = <u64>load<u32>(NF);
  const n1 = <u64>load<u32>(NF + 4);
  const end = NF + (<usize>(M + 1) << 2);
  let carry: u64 = 0;
  let s1: u64 = 0;
  let since = 0;
  for (let c = 0; c < M; c += 2) {
    const a0 = <u64>load<u32>(A + (<usize>c << 2));
    const a1 = <u64>load<u32>(A + (<usize>(c + 1) << 2));
    const tc = T + (<usize>c << 3);
    // W: the diagonal a_c at c; the previous pair's two entries cleared
    store<u32>(W + (<usize>c << 2), <u32>a0);
    if (c >= 2) store<u64>(W + (<usize>(c - 2) << 2), 0);
    // columns c, c+1 get cross terms of this pair only when c = 0 (a_0^2 and 2 a_0 a_1)
    let s0 = load<u64>(tc) + carry;
    let x1: u64 = 0;
    if (c == 0) {
      s0 += a0 * a0;
      x1 = (a0 * a1) << 1;
    }
    const m0 = <u64>(<u32>s0 * ninv & mask);
    s0 += m0 * n0;
    s1 = load<u64>(tc + 8) + (s0 >> bits) + m0 * n1 + x1;
    const m1 = c + 1 < M ? <u64>(<u32>s1 * ninv & mask) : 0;
    s1 += m1 * n0;
    carry = s1 >> bits;
    const va0 = i32x4.splat(<i32>a0);
    const vm0 = i32x4.splat(<i32>m0);
    const va1 = i32x4.splat(<i32>a1);
    const vm1 = i32x4.splat(<i32>m1);
    let pn = NF;
    let pt = tc;
    // below the 4-block holding the diagonal W is zero: reduction rows only
    const mid = NF + (<usize>(c & ~3) << 2);
    while (pn < mid) {
      const y = v128.load(pn);
      const ys = v128.load(pn - 4);
      const lo = i64x2.add(i64x2.extmul_low_i32x4_u(vm0, y), i64x2.extmul_low_i32x4_u(vm1, ys));
      const hi = i64x2.add(i64x2.extmul_high_i32x4_u(vm0, y), i64x2.extmul_high_i32x4_u(vm1, ys));
      v128.store(pt, i64x2.add(v128.load(pt), lo));
      v128.store(pt + 16, i64x2.add(v128.load(pt + 16), hi));
      pn += 16;
      pt += 32;
    }
    let pw = W + (<usize>(c & ~3) << 2);
    do {
      addRowPair(pt, pw, pn, va0, vm0, va1, vm1);
      pw += 16;
      pn += 16;
      pt += 32;
    } while (pn < end);
    // row c+1 read W[c] = a_c (adding a_c a_c+1 once too often at column 2c+1) and
    // W[c+1] = 2a_c+1 (a_c+1^2 once too often at column 2c+2)
    const p1 = T + (<usize>(2 * c + 1) << 3);
    store<u64>(p1, load<u64>(p1) - a0 * a1);
    store<u64>(p1 + 8, load<u64>(p1 + 8) - a1 * a1);
    v128.store(tc, i64x2.splat(0));
    if (++since == every) {
      carryPass(T, c + 2, c + M + 4, bits);
      since = 0;
    }
  }
  carryOut(T, RES, M, carry, s1, bits);
}

/** out = RES as L words, fully reduced (masked final subtraction). */
@inline function finish(ctx: usize, out: usize): void {
  finishFrom(ctx, out, vec(ctx, V_RES));
}
/** out = the digit vector res (a value < 2N) as L words, fully reduced. */
export function finishFrom(ctx: usize, out: usize, res: usize): void {
  const L = ctxWords(ctx);
  const t = ctxTmp(ctx);
  const top = fromDigits(t, res, L, load<i32>(ctx + H_DIGITS), load<u32>(ctx + H_DBITS));
  finalSubtract(out, t, top, ctxModulus(ctx), L);
}

/**
 * out = a * b * R^-1 mod N. Requires a * b < N * R (for instance a < R and b < N); the
 * result is fully reduced. out may alias a or b.
 * The internal product has R' = 2^(bM) >= 4R, R = 2^(32L); with 2s + d = bM - 32L (d = 0 or
 * 1), a goes in shifted left by s + d bits and b by s, so a 2^(s+d) * b 2^s / R' = a b / R
 * and a 2^(s+d) * b 2^s < N R'.
 */
export function montMul(ctx: usize, out: usize, a: usize, b: usize): void {
  const L = ctxWords(ctx);
  const M = load<i32>(ctx + H_DIGITS);
  const sh = load<u32>(ctx + H_SHIFT);
  const s = sh & 0xff;
  const bits = load<u32>(ctx + H_DBITS);
  trace(1, out, a, b);
  toDigits(vec(ctx, V_A), a, L, M, s + (sh >> 8), bits);
  toDigits(vec(ctx, V_B), b, L, M, s, bits);
  mulCore(ctx, vec(ctx, V_A), vec(ctx, V_B), vec(ctx, V_RES));
  finish(ctx, out);
}

/** out = a^2 * R^-1 mod N with each cross product computed once. out may alias a. */
export function montSqr(ctx: usize, out: usize, a: usize): void {
  const L = ctxWords(ctx);
  const M = load<i32>(ctx + H_DIGITS);
  const sh = load<u32>(ctx + H_SHIFT);
  trace(2, out, a, a);
  toDigits(vec(ctx, V_A), a, L, M, sh & 0xff, load<u32>(ctx + H_DBITS));
  sqrCore(ctx, vec(ctx, V_A), vec(ctx, V_RES));
  finish(ctx, out);
  // with an odd bM - 32L both operands carry only s bits of the 2s + 1: that was a^2 / 2R.
  // The branch depends on the modulus only (public); the doubling is masked.
  if ((sh >> 8) != 0) doubleMod(out, ctxModulus(ctx), ctxTmp(ctx), L);
}

/** out = x * R mod N (into Montgomery form) for any L-word x < R. */
export function toMont(ctx: usize, out: usize, x: usize): void {
  montMul(ctx, out, x, ctxR2(ctx));
}

/** out = a * R^-1 mod N (out of Montgomery form): the product with the integer 1. */
export function fromMont(ctx: usize, out: usize, a: usize): void {
  const L = ctxWords(ctx);
  const M = load<i32>(ctx + H_DIGITS);
  const sh = load<u32>(ctx + H_SHIFT);
  const s = sh & 0xff;
  const bits = load<u32>(ctx + H_DBITS);
  toDigits(vec(ctx, V_A), a, L, M, s + (sh >> 8), bits);
  // 1 shifted by s: one digit is non-zero (digit 0, or 1 when s >= b)
  const B = vec(ctx, V_B);
  zeroWords(B, M);
  store<u32>(B + (<usize>(s / bits) << 2), <u32>1 << (s % bits));
  mulCore(ctx, vec(ctx, V_A), B, vec(ctx, V_RES));
  finish(ctx, out);
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
