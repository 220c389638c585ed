// Montgomery arithmetic over little-endian u32 limbs (DESIGN §5).
// A context holds one odd modulus N of L words with N' = -N^-1 mod 2^32, R mod N and
// R^2 mod N (R = 2^(32L)), plus a scratch area that kernels use for temporaries, so no
// kernel allocates. Every routine here runs in time that depends only on L, never on
// operand values: the final subtraction is a masked select, not a branch, and every loop
// bound and branch in the kernels depends on L and the column index only.
// Elements cross montMul/montSqr/fromMont/toMont as canonical L-word values; the radix-2^b
// digit form below is theirs, and modpow.ts's exponentiations, which run mulCore/sqrCore
// directly on digit vectors (values below 2N, no final subtraction) between one
// conversion in and one out.

import { addWords, copyWords, setWord, subWords, word, zeroWords } from './limbs';

// Context header layout (u32 fields, byte offsets). JS sizes the region with ctxSizeBytes.
const H_WORDS: usize = 0; // L
const H_NINV: usize = 4; // N' = -N^-1 mod 2^32
const H_N: usize = 8; // pointer to N (L words)
const H_ONE: usize = 12; // pointer to R mod N (Montgomery form of 1)
const H_R2: usize = 16; // pointer to R^2 mod N
const H_TMP: usize = 20; // pointer to the product buffer (2L + 2 words)
const H_SCRATCH: usize = 24; // pointer to the scratch elements (SCRATCH_ELEMS x L words)
const H_DIGITS: usize = 28; // M = ceil(32L / 28): radix-2^28 digits of the internal form
const H_NINV28: usize = 32; // -N^-1 mod 2^b (b = digit bits)
const H_SHIFT: usize = 36; // s | d << 8 with 2s + d = bM - 32L: operand pre-shifts, see montMul
const H_DBITS: usize = 44; // b, the digit size: 29 or 28 bits, see digitBitsFor
const H_INT: usize = 40; // pointer to the internal digit vectors (16-byte aligned)
const H_K: usize = 48; // pointer to K = R'^2 / R mod N (L words), see ctxDigitFactor
export const CTX_HEADER_BYTES: usize = 64;
// Scratch elements (L words each) for callers' temporaries: reduceToMont takes two.
export const SCRATCH_ELEMS: usize = 2;
// Digit vectors for modpow.ts's exponentiations: a table of up to 32 entries (window 5
// constant time, window 6 sliding over odd powers) plus 6 accumulators and temporaries.
export const DIGIT_SCRATCH_VECTORS: i32 = 38;

// ---- internal radix-2^28 form ----
// montMul/montSqr convert their canonical u32 operands (O(L)) into radix-2^28 digits held
// one per u32, run a product-scanning (Comba) Montgomery product whose column sums are
// dot products done two lanes at a time with i64x2.extmul_{low,high}_i32x4_u, and convert
// the result back. Digits < 2^28 make each product < 2^56, so a u64 lane can take 256 of
// them before overflowing: no carry is propagated inside a column, one per column.
// Each lane-pair sum below holds at most about M/2 + 4 products (squaring doubles its half),
// so this is exact for M < 500 digits (about 14000 bits; the engine takes up to 8192).
// Measured on the 2-core Zen 5 dev box, Node 20, min of 40 runs (us per call):
//            CIOS u32 (before)   radix 2^28 SIMD Comba (this)
//   2048 bits  sqr 3.8 mul 4.1      sqr 1.9 mul 2.1
//   4096 bits  sqr 15.9 mul 18.6    sqr 5.6 mul 6.5    (2.8x)
//   8192 bits  sqr 72.8 mul 63.4    sqr 19.4 mul 23.4
// modPow via the engine, same run: 4096-bit modulus / 2048-bit exponent 2.3x plain BigInt
// (gmp-wasm 1.5x); 2048/1024 3.8x (gmp-wasm 1.5x). Tried and not kept: unrolling the
// column loop to 8 digits (no change), fusing the squaring's cross-product and reduction
// loops (no change), masking the squaring's middle block instead of the scalar tail (no
// change): the i64x2 extmul throughput (V8 emits two unpacks and a pmuludq for each) is
// the limit, about 6.6 G products/s here against 7.8 in a bare dot-product loop.
// Not tried yet: Karatsuba at the top level (at best ~8% on squaring, 12% on mul).
// Second round (same box, loaded; microbench min of 25 runs at 2048 bits, us per call):
// - radix 2^29 for M <= 100 (kept): 2048-bit moduli take 71 digits instead of 74;
//   montSqr/montMul ~2.0/2.05 (the conversions dominate the gain), sqrCore 1.61, mulCore
//   1.74 inside the digit-form exponentiations (modpow.ts).
// - M minimal with an odd bM - 32L (kept): a goes in shifted by s + 1, b by s; montSqr
//   then yields a^2 / 2R and doubles it once (masked).
// - Not kept (all slower or within noise): storing the reduction digit's whole 16-byte
//   block to avoid a failed store forwarding (sqrCore 1.61 -> 1.73-1.85); a masked vector
//   block instead of the scalar tail (-> 1.71); a branch-free 3-term scalar tail
//   (-> 1.72); unaligned loop starts at lo instead of lo & ~3 (noise); one fused loop per
//   squaring column, 8 reduction + 4 masked cross terms per step, PAD 12 (-> 1.76).
//   Split of sqrCore (2048 bits): the scalar tail is ~0.06 of its 1.61 us; a fit over
//   1024..2560 bits gives ~5 ns per column on top of ~0.2 ns per product for mulCore.
// Digit size b per context: 29 bits while the column sums stay exact, else 28.
// A lane sum holds at most about M/2 + 4 products below 2^(2b); with b = 29 that is below
// 2^64 for M <= 110 digits (we stop at 100: moduli up to about 2880 bits, so the 2048-bit
// p^2 of the zero test and decrypt gets 72 digits instead of 74).
const MAX_M29: i32 = 100;
@inline function digitBitsFor(words: i32): u32 {
  return (32 * words + 2 + 28) / 29 <= MAX_M29 ? 29 : 28;
}
// Zero words kept on both sides of every digit vector, so the 4-wide loops may start at a
// multiple of 4 and run past the end: the extra lanes multiply a zero.
const PAD: i32 = 4;
// Vectors in the internal area, each `stride` words: A (forward), B (reversed: column c's
// sum a_i b_(c-i) becomes a dot product of two contiguous runs), Q (the reduction digits m_i,
// forward), NR (N reversed), RES (result digits).
const V_A: i32 = 0;
const V_B: i32 = 1;
const V_Q: i32 = 2;
const V_NR: i32 = 3;
const V_RES: i32 = 4;
const V_RREV: i32 = 5; // RES reversed (written alongside RES; read by the digit-form paths)
const VECTORS: i32 = 6;

// M = ceil((32L + 2) / 28): R' = 2^(28M) >= 4 * 2^(32L) > 4N, so a product of two values
// below 2N reduces to a value below 2N again, and the digit-form exponentiation
// (modPowConstTime) chains products without a final subtraction.
@inline function digitsFor(words: i32): i32 {
  const b = <i32>digitBitsFor(words);
  return (32 * words + 2 + b - 1) / b;
}
@inline function vecStride(M: i32): i32 {
  return (M + 2 * PAD + 3) & ~3;
}
/** Address of digit 0 of internal vector `v`. */
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
  // + the internal digit vectors, the exponentiation scratch, and up to 3 words to align them
  const internal = <usize>((VECTORS + DIGIT_SCRATCH_VECTORS) * vecStride(digitsFor(words)) + 3);
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

  // internal radix-2^28 form: digit count, pre-shift, -N^-1 mod 2^28, N reversed
  const M = digitsFor(words);
  const b = digitBitsFor(words);
  store<i32>(ctx + H_DIGITS, M);
  store<u32>(ctx + H_DBITS, b);
  const extra = b * <u32>M - 32 * <u32>words;
  store<u32>(ctx + H_SHIFT, (extra >> 1) | ((extra & 1) << 8));
  store<u32>(ctx + H_NINV28, (0 - inv) & ((<u32>1 << b) - 1));
  const intPtr = (scratchPtr + ((SCRATCH_ELEMS * L) << 2) + 15) & ~(<usize>15);
  store<usize>(ctx + H_INT, intPtr);
  zeroWords(intPtr, VECTORS * vecStride(M)); // the pads must read as zero forever
  toDigits(vec(ctx, V_NR) + (<usize>(M - 1) << 2), -4, nPtr, words, M, 0, b);
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
 * Writes the M radix-2^28 digits of (x << shift) for the L-word x, digit k at dst + k * step
 * bytes (step 4: forward, -4 from the last slot: reversed). Loop counts depend on L only.
 */
export function toDigits(dst: usize, step: isize, x: usize, L: i32, M: i32, shift: u32, bits: u32): void {
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
    p += step;
  }
}

/**
 * Packs the M digits at r (the last may hold 29 bits) into L words at dst and returns the
 * bits above word L - 1 (0 or 1 for a Montgomery result < 2N).
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

/**
 * Column c of a Montgomery product ends here: folds the lane sums (each < 2^63.3, so they
 * are split at bit 28 before adding) and the extra scalar terms into the running carry.
 * For c < M it picks the reduction digit m_c (stored at q) that clears the column; for
 * c >= M it stores the result digit at res. Returns the next carry.
 */
@inline function endColumn(
  v1: v128,
  v2: v128,
  extra: u64,
  carry: u64,
  reduce: bool,
  ninv: u32,
  n0: u64,
  dst: usize,
  dst2: usize,
  bits: u32,
): u64 {
  const DIGIT_MASK = (<u32>1 << bits) - 1;
  const DIGIT_BITS = bits;
  const mask = i64x2.splat(<i64>DIGIT_MASK);
  const vl = i64x2.add(v128.and(v1, mask), v128.and(v2, mask));
  const vh = i64x2.add(i64x2.shr_u(v1, DIGIT_BITS), i64x2.shr_u(v2, DIGIT_BITS));
  let s = carry + <u64>i64x2.extract_lane(vl, 0) + <u64>i64x2.extract_lane(vl, 1) + (extra & DIGIT_MASK);
  const h = <u64>i64x2.extract_lane(vh, 0) + <u64>i64x2.extract_lane(vh, 1) + (extra >> DIGIT_BITS);
  if (reduce) {
    const m = (<u32>s * ninv) & DIGIT_MASK;
    store<u32>(dst, m);
    s += <u64>m * n0;
  } else {
    store<u32>(dst, <u32>s & DIGIT_MASK);
    store<u32>(dst2, <u32>s & DIGIT_MASK);
  }
  return h + (s >> DIGIT_BITS);
}

/**
 * The Montgomery product of the digit vectors A and B (B reversed) into RES:
 * sum(a_i b_j 2^(28(i+j))) * 2^(-28M) mod N, as a value < 2N (M digits, the last up to 29
 * bits). Product scanning with the reduction interleaved, column by column.
 */
export function mulCore(ctx: usize, A: usize, B: usize, RES: usize, RREV: usize): void {
  const M = load<i32>(ctx + H_DIGITS);
  const Q = vec(ctx, V_Q);
  const NR = vec(ctx, V_NR);
  const ninv = load<u32>(ctx + H_NINV28);
  const bits = load<u32>(ctx + H_DBITS);
  const n0 = <u64>load<u32>(NR + (<usize>(M - 1) << 2));
  // Q must read as zero beyond the digits chosen so far
  zeroWords(Q, M);
  let carry: u64 = 0;
  for (let c = 0; c < 2 * M - 1; c++) {
    const lo = c < M ? 0 : c - M + 1;
    const hi = c < M ? c : M - 1;
    const i0 = lo & ~3;
    // b_(c-i) sits at B[M-1-c+i]: the same offset for every i of the column
    const off = (<isize>(M - 1 - c)) << 2;
    let pa = A + (<usize>i0 << 2);
    let pb = <usize>(<isize>pa - <isize>A + <isize>B + off);
    let pq = Q + (<usize>i0 << 2);
    let pn = <usize>(<isize>pq - <isize>Q + <isize>NR + off);
    const end = A + (<usize>(hi + 1) << 2);
    let m0 = i64x2.splat(0);
    let m1 = i64x2.splat(0);
    let r0 = i64x2.splat(0);
    let r1 = i64x2.splat(0);
    do {
      const x = v128.load(pa);
      const y = v128.load(pb);
      const q = v128.load(pq);
      const n = v128.load(pn);
      m0 = i64x2.add(m0, i64x2.extmul_low_i32x4_u(x, y));
      m1 = i64x2.add(m1, i64x2.extmul_high_i32x4_u(x, y));
      r0 = i64x2.add(r0, i64x2.extmul_low_i32x4_u(q, n));
      r1 = i64x2.add(r1, i64x2.extmul_high_i32x4_u(q, n));
      pa += 16;
      pb += 16;
      pq += 16;
      pn += 16;
    } while (pa < end);
    const reduce = c < M;
    const dst = reduce ? Q + (<usize>c << 2) : RES + (<usize>(c - M) << 2);
    const dst2 = RREV + (<usize>(2 * M - 1 - c) << 2);
    carry = endColumn(i64x2.add(m0, m1), i64x2.add(r0, r1), 0, carry, reduce, ninv, n0, dst, dst2, bits);
  }
  store<u32>(RES + (<usize>(M - 1) << 2), <u32>carry);
  store<u32>(RREV, <u32>carry);
}

/**
 * As mulCore for B = A reversed (a square): each cross product a_i a_(c-i), i < c - i, once,
 * doubled, plus the diagonal a_(c/2)^2.
 */
export function sqrCore(ctx: usize, A: usize, B: usize, RES: usize, RREV: usize): void {
  const M = load<i32>(ctx + H_DIGITS);
  const Q = vec(ctx, V_Q);
  const NR = vec(ctx, V_NR);
  const ninv = load<u32>(ctx + H_NINV28);
  const bits = load<u32>(ctx + H_DBITS);
  const n0 = <u64>load<u32>(NR + (<usize>(M - 1) << 2));
  zeroWords(Q, M);
  let carry: u64 = 0;
  for (let c = 0; c < 2 * M - 1; c++) {
    const lo = c < M ? 0 : c - M + 1;
    const hi = c < M ? c : M - 1;
    const hs = (c - 1) >> 1; // last i with i < c - i
    const i0 = lo & ~3;
    const off = (<isize>(M - 1 - c)) << 2;
    // cross products: whole blocks of 4 below the middle, then up to 3 scalar terms
    let m0 = i64x2.splat(0);
    let m1 = i64x2.splat(0);
    let i = i0;
    let pa = A + (<usize>i << 2);
    let pb = <usize>(<isize>pa - <isize>A + <isize>B + off);
    for (; i + 3 <= hs; i += 4) {
      const x = v128.load(pa);
      const y = v128.load(pb);
      m0 = i64x2.add(m0, i64x2.extmul_low_i32x4_u(x, y));
      m1 = i64x2.add(m1, i64x2.extmul_high_i32x4_u(x, y));
      pa += 16;
      pb += 16;
    }
    let tail: u64 = 0;
    for (; i <= hs; i++) tail += <u64>load<u32>(A + (<usize>i << 2)) * <u64>load<u32>(A + (<usize>(c - i) << 2));
    let extra = tail << 1;
    if ((c & 1) == 0) {
      const d = <u64>load<u32>(A + (<usize>(c >> 1) << 2));
      extra += d * d;
    }
    // reduction terms m_i n_(c-i) over the whole column
    let r0 = i64x2.splat(0);
    let r1 = i64x2.splat(0);
    let pq = Q + (<usize>i0 << 2);
    let pn = <usize>(<isize>pq - <isize>Q + <isize>NR + off);
    const end = Q + (<usize>(hi + 1) << 2);
    do {
      const q = v128.load(pq);
      const n = v128.load(pn);
      r0 = i64x2.add(r0, i64x2.extmul_low_i32x4_u(q, n));
      r1 = i64x2.add(r1, i64x2.extmul_high_i32x4_u(q, n));
      pq += 16;
      pn += 16;
    } while (pq < end);
    const reduce = c < M;
    const dst = reduce ? Q + (<usize>c << 2) : RES + (<usize>(c - M) << 2);
    const dst2 = RREV + (<usize>(2 * M - 1 - c) << 2);
    const v1 = i64x2.shl(i64x2.add(m0, m1), 1);
    carry = endColumn(v1, i64x2.add(r0, r1), extra, carry, reduce, ninv, n0, dst, dst2, bits);
  }
  store<u32>(RES + (<usize>(M - 1) << 2), <u32>carry);
  store<u32>(RREV, <u32>carry);
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
  trace(1, out, a, b);
  toDigits(vec(ctx, V_A), 4, a, L, M, s + (sh >> 8), load<u32>(ctx + H_DBITS));
  toDigits(vec(ctx, V_B) + (<usize>(M - 1) << 2), -4, b, L, M, s, load<u32>(ctx + H_DBITS));
  mulCore(ctx, vec(ctx, V_A), vec(ctx, V_B), vec(ctx, V_RES), vec(ctx, V_RREV));
  finish(ctx, out);
}

/**
 * out = a^2 * R^-1 mod N with each cross product computed once (about 25% fewer
 * multiplies than montMul). out may alias a.
 */
export function montSqr(ctx: usize, out: usize, a: usize): void {
  const L = ctxWords(ctx);
  const M = load<i32>(ctx + H_DIGITS);
  const sh = load<u32>(ctx + H_SHIFT);
  const s = sh & 0xff;
  trace(2, out, a, a);
  toDigits(vec(ctx, V_A), 4, a, L, M, s, load<u32>(ctx + H_DBITS));
  toDigits(vec(ctx, V_B) + (<usize>(M - 1) << 2), -4, a, L, M, s, load<u32>(ctx + H_DBITS));
  sqrCore(ctx, vec(ctx, V_A), vec(ctx, V_B), vec(ctx, V_RES), vec(ctx, V_RREV));
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
  toDigits(vec(ctx, V_A), 4, a, L, M, s + (sh >> 8), load<u32>(ctx + H_DBITS));
  // 1 shifted by s, reversed: one digit is non-zero (digit 0, or 1 when s >= b)
  const B = vec(ctx, V_B);
  zeroWords(B, M);
  const bits = load<u32>(ctx + H_DBITS);
  store<u32>(B + (<usize>(M - 1 - <i32>(s / bits)) << 2), <u32>1 << (s % bits));
  mulCore(ctx, vec(ctx, V_A), vec(ctx, V_B), vec(ctx, V_RES), vec(ctx, V_RREV));
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
