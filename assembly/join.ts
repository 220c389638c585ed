// The nested-loop indicator join over a tile of rows (DESIGN §3.1): joinTileBatch (one
// constant-time modPow per pair and key column) and the comb kernels joinTablesBatch /
// joinPairsBatch (per-row tables, one key column). JS passes the inverses E(b)^-1 and draws
// rho uniformly in [1, n); rho is secret, so every read of it is constant time.
import { bitsAt, copyWords, zeroWords } from './limbs';
import { ctSelectDigits, modPowConstTime } from './modpow';
import {
  ctxDigitBits,
  ctxDigitFactor,
  ctxDigitScratch,
  ctxDigitStride,
  ctxDigits,
  ctxOne,
  DIGIT_PAD,
  finishFrom,
  fromMont,
  montMul,
  mulCore,
  sqrCore,
  toDigits,
  toMont,
  trace,
} from './montgomery';
import { PK_CTX_N2, PK_N2_WORDS, PK_WORK, STATUS_BAD_MODE, STATUS_OK } from './paillier';

@inline function at(base: usize, stride: i32, i: i32): usize {
  return base + ((<usize>i * <usize>stride) << 2);
}

/**
 * out[i * cols + j] = prod_c (leftIn[i][c] * rightInvIn[j][c])^(rho[i][j][c]) mod n^2
 * = E(sum_c rho_ijc (a_ic - b_jc)), which decrypts to 0 exactly when every column matches
 * (but with probability about 1/n).
 * leftIn: rows x keyCols ciphertexts and rightInvIn: cols x keyCols inverses, n2Words
 * each, row-major; rhoIn: rows x cols x keyCols exponents of rhoWords words (the words of
 * n), in the same order; out: rows x cols ciphertexts.
 *
 * leftIn and rightInvIn are consumed: each ciphertext is converted into Montgomery form in
 * place, once per call rather than once per pair (JS copied them into this memory for the
 * call). montMul(aR, bR) = a b R is then already the Montgomery form of a * b^-1, so a pair
 * costs one montMul per column ahead of its exponentiation, and one fromMont at the end.
 *
 * Temporaries: work slots 0 (the base) and 1 (the product) of the key; modPowConstTime uses
 * the n^2 context's exponentiation scratch (ctxDigitScratch), which nothing here touches.
 */
export function joinTileBatch(
  pk: usize,
  leftIn: usize,
  rightInvIn: usize,
  rhoIn: usize,
  out: usize,
  rows: i32,
  cols: i32,
  keyCols: i32,
  rhoWords: i32,
): i32 {
  const ctx = load<usize>(pk + PK_CTX_N2);
  const n2Words = load<i32>(pk + PK_N2_WORDS);
  const work = load<usize>(pk + PK_WORK);
  const slotWords = n2Words + 2;
  const base = at(work, slotWords, 0);
  const acc = at(work, slotWords, 1);
  // into Montgomery form once per call (every row is used cols times, every column rows times)
  const leftValues = cols > 0 ? rows * keyCols : 0;
  const rightValues = rows > 0 ? cols * keyCols : 0;
  for (let k = 0; k < leftValues; k++) toMont(ctx, at(leftIn, n2Words, k), at(leftIn, n2Words, k));
  for (let k = 0; k < rightValues; k++) toMont(ctx, at(rightInvIn, n2Words, k), at(rightInvIn, n2Words, k));
  for (let i = 0; i < rows; i++) {
    const left = at(leftIn, keyCols * n2Words, i);
    for (let j = 0; j < cols; j++) {
      const right = at(rightInvIn, keyCols * n2Words, j);
      const rho = at(rhoIn, keyCols * rhoWords, i * cols + j);
      copyWords(acc, ctxOne(ctx), n2Words);
      for (let c = 0; c < keyCols; c++) {
        // (a R)(b^-1 R) R^-1 = (a b^-1) R: the base, already in Montgomery form
        montMul(ctx, base, at(left, n2Words, c), at(right, n2Words, c));
        // rho is secret: every one of its rhoWords * 32 bits is processed, masked look-ups
        modPowConstTime(ctx, base, base, at(rho, rhoWords, c), rhoWords);
        montMul(ctx, acc, acc, base);
      }
      fromMont(ctx, at(out, n2Words, i * cols + j), acc);
    }
  }
  // the temporaries held powers by secret exponents
  zeroWords(base, slotWords);
  zeroWords(acc, slotWords);
  return STATUS_OK;
}

// ---- the join by algorithm (issue 11 item 1): per-row comb tables, one per-pair table ----
// I_ij = (A_i B_j)^rho with A_i = E(a_i), B_j = E(b_j)^-1 and rho uniform in [1, n) (t =
// 32 rhoWords bits). A Lim-Lee comb with h teeth and v blocks: with a = ceil(t / h) and
// b = ceil(a / v), rho = sum over tooth r, block k, column c < b (k b + c < a) of
// bit(r a + k b + c) 2^(r a + k b + c), so
//   x^rho = prod_{c = b-1 .. 0} ( prod_k C_k[d_(c,k)] )^(2^c) with C_k[d] = prod_{r in d} x^(2^(r a + k b)),
// d_(c,k) = sum_r bit(r a + k b + c) << r: b - 1 squarings and v b multiplies.
// Both bases share the exponent, so the pair needs the table of x = A_i B_j, and its basis
// x^(2^p) = A_i^(2^p) B_j^(2^p) is one product of two per-row powers: each row keeps only
// its h v powers (the "row table", built once per row with t - b squarings, used by every pair),
// and the pair builds its v 2^h entries from them (v (2^h - 1) products) before the b steps.
// h = 5, v = 3 at t = 2048 (a = 410, b = 137): 504 multiplies + 136 squarings a pair against
// about 2045 squarings + 441 multiplies for joinTileBatch's 5-bit window over (A_i B_j).
// docs/decisions/kernel.md has the measured geometries, the losers and the sizing rules.

/** Recommended comb geometry for 2048-bit rho (measured, docs/decisions/kernel.md). */
export const JOIN_TEETH: i32 = 5;
export const JOIN_BLOCKS: i32 = 3;
const MAX_TEETH: i32 = 8;

@inline function ceilDiv(x: i32, y: i32): i32 {
  return (x + y - 1) / y;
}
/** Digit vector i of a region of vectors (16-byte aligned, stride S words, pads included). */
@inline function dvec(region: usize, S: i32, i: i32): usize {
  return region + ((<usize>(i * S + DIGIT_PAD)) << 2);
}
@inline function badGeometry(teeth: i32, blocks: i32, rhoWords: i32): bool {
  return teeth < 1 || teeth > MAX_TEETH || blocks < 1 || rhoWords < 1 || blocks > ceilDiv(32 * rhoWords, teeth);
}

/** Bytes of one row table: teeth * blocks digit vectors of the n^2 context. */
export function joinTableBytes(pk: usize, teeth: i32, blocks: i32): usize {
  const ctx = load<usize>(pk + PK_CTX_N2);
  return <usize>(teeth * blocks * ctxDigitStride(ctx)) << 2;
}

/** Bytes of joinPairsBatch's work region: the pair's blocks * 2^teeth entries and 4 vectors. */
export function joinWorkBytes(pk: usize, teeth: i32, blocks: i32): usize {
  const ctx = load<usize>(pk + PK_CTX_N2);
  return <usize>((blocks << teeth) + 4) * (<usize>ctxDigitStride(ctx) << 2);
}

/**
 * Row tables for `count` ciphertexts (n2Words words each, canonical, in [1, n^2)): table i
 * holds x_i^(2^(r a + k b)) for block k and tooth r at vector k * teeth + r, in the n^2
 * context's digit form (x R', below 2N, pads zero). The exponents are public, so this is
 * ordinary variable-base squaring; the same function serves left rows and right inverses.
 * Uses the context's exponentiation scratch (vectors 0..1) and work slot 0.
 */
export function joinTablesBatch(
  pk: usize,
  cIn: usize,
  out: usize,
  count: i32,
  teeth: i32,
  blocks: i32,
  rhoWords: i32,
): i32 {
  if (badGeometry(teeth, blocks, rhoWords)) return STATUS_BAD_MODE;
  const ctx = load<usize>(pk + PK_CTX_N2);
  const n2Words = load<i32>(pk + PK_N2_WORDS);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const bits = ctxDigitBits(ctx);
  const a = ceilDiv(32 * rhoWords, teeth);
  const b = ceilDiv(a, blocks);
  const reg = ctxDigitScratch(ctx);
  const x = dvec(reg, S, 0);
  const K = dvec(reg, S, 1);
  const mont = at(load<usize>(pk + PK_WORK), n2Words + 2, 0);
  memory.fill(reg, 0, <usize>(2 * S) << 2);
  toDigits(K, ctxDigitFactor(ctx), n2Words, M, 0, bits);
  const rowBytes = <usize>(teeth * blocks * S) << 2;
  memory.fill(out, 0, rowBytes * <usize>count); // every pad reads as zero
  for (let i = 0; i < count; i++) {
    // c -> c R (toMont) -> c R' (times K over R')
    toMont(ctx, mont, at(cIn, n2Words, i));
    toDigits(x, mont, n2Words, M, 0, bits);
    trace(1, x, x, K);
    mulCore(ctx, x, K, x);
    const row = out + rowBytes * <usize>i;
    // positions r a + k b rise with (r, k) in that order, since (blocks - 1) b < a
    let pos = 0;
    for (let r = 0; r < teeth; r++) {
      for (let k = 0; k < blocks; k++) {
        const target = r * a + k * b;
        for (; pos < target; pos++) {
          trace(2, x, x, x);
          sqrCore(ctx, x, x);
        }
        memory.copy(dvec(row, S, k * teeth + r), x, <usize>M << 2);
      }
    }
  }
  zeroWords(mont, n2Words + 2);
  return STATUS_OK;
}

/** The comb digit of column c in block k: bit r is rho's bit r a + k b + c (public positions). */
@inline function combDigit(rho: usize, rhoWords: i32, teeth: i32, a: i32, off: i32): u32 {
  let d: u32 = 0;
  // a column past the chunk (k b + c >= a) belongs to no tooth: the branch depends on
  // (k, c, a) only
  if (off < a) for (let r = 0; r < teeth; r++) d |= bitsAt(rho, rhoWords, r * a + off, 1) << r;
  return d;
}

/**
 * out[i * cols + j] = (A_i B_j)^rho_ij mod n^2 for the row tables of `rows` left rows and
 * `cols` right inverses (joinTablesBatch, same teeth, blocks and rhoWords), rho_ij at
 * rhoIn + (i * cols + j) * rhoWords words; out holds canonical n2Words-word values.
 * work: joinWorkBytes(pk, teeth, blocks) bytes, 16-byte aligned; wiped before returning.
 * Constant time in rho: every pair runs the same products on the same addresses (b - 1
 * squarings, v b + h v + v (2^h - 1 - h) + 1 products), and each table read is a masked scan
 * of a whole block (ctSelectDigits).
 */
export function joinPairsBatch(
  pk: usize,
  leftTables: usize,
  rightTables: usize,
  rhoIn: usize,
  out: usize,
  rows: i32,
  cols: i32,
  teeth: i32,
  blocks: i32,
  rhoWords: i32,
  work: usize,
): i32 {
  if (badGeometry(teeth, blocks, rhoWords)) return STATUS_BAD_MODE;
  const ctx = load<usize>(pk + PK_CTX_N2);
  const n2Words = load<i32>(pk + PK_N2_WORDS);
  const M = ctxDigits(ctx);
  const S = ctxDigitStride(ctx);
  const bits = ctxDigitBits(ctx);
  const size = 1 << teeth;
  const a = ceilDiv(32 * rhoWords, teeth);
  const b = ceilDiv(a, blocks);
  const entries = blocks * size;
  const acc = dvec(work, S, entries);
  const sel = dvec(work, S, entries + 1);
  const unit = dvec(work, S, entries + 2);
  const tmp = dvec(work, S, entries + 3);
  const workBytes = <usize>((entries + 4) * S) << 2;
  const rowBytes = <usize>(teeth * blocks * S) << 2;
  const blockBytes = <usize>(size * S) << 2;
  memory.fill(work, 0, workBytes); // every pad reads as zero
  // entry 0 of every block: 1' = R' (R times K over R'); unit: the integer 1, which takes
  // a result out of digit form (x R' * 1 / R' = x)
  toDigits(tmp, ctxOne(ctx), n2Words, M, 0, bits);
  toDigits(unit, ctxDigitFactor(ctx), n2Words, M, 0, bits);
  trace(1, tmp, tmp, unit);
  mulCore(ctx, tmp, unit, tmp);
  for (let k = 0; k < blocks; k++) memory.copy(dvec(work, S, k * size), tmp, <usize>M << 2);
  zeroWords(unit, M);
  store<u32>(unit, 1);
  for (let i = 0; i < rows; i++) {
    const left = leftTables + rowBytes * <usize>i;
    for (let j = 0; j < cols; j++) {
      const right = rightTables + rowBytes * <usize>j;
      const rho = at(rhoIn, rhoWords, i * cols + j);
      // the pair's table: powers of two from the row tables, then every other entry as
      // (entry without its top bit) times (its top bit)
      for (let k = 0; k < blocks; k++) {
        const block = work + blockBytes * <usize>k;
        for (let r = 0; r < teeth; r++) {
          const e = dvec(block, S, 1 << r);
          trace(1, e, dvec(left, S, k * teeth + r), dvec(right, S, k * teeth + r));
          mulCore(ctx, dvec(left, S, k * teeth + r), dvec(right, S, k * teeth + r), e);
        }
        for (let d = 3; d < size; d++) {
          const top = 1 << (31 - clz(d));
          if (top == d) continue; // public: d's shape, not rho
          const e = dvec(block, S, d);
          trace(1, e, dvec(block, S, top), dvec(block, S, d ^ top));
          mulCore(ctx, dvec(block, S, top), dvec(block, S, d ^ top), e);
        }
      }
      // the comb: rho's digits pick entries by masked scans only
      ctSelectDigits(work, S, acc, combDigit(rho, rhoWords, teeth, a, b - 1), size);
      for (let k = 1; k < blocks; k++) {
        ctSelectDigits(work + blockBytes * <usize>k, S, sel, combDigit(rho, rhoWords, teeth, a, k * b + b - 1), size);
        trace(1, acc, acc, sel);
        mulCore(ctx, acc, sel, acc);
      }
      for (let c = b - 2; c >= 0; c--) {
        trace(2, acc, acc, acc);
        sqrCore(ctx, acc, acc);
        for (let k = 0; k < blocks; k++) {
          ctSelectDigits(work + blockBytes * <usize>k, S, sel, combDigit(rho, rhoWords, teeth, a, k * b + c), size);
          trace(1, acc, acc, sel);
          mulCore(ctx, acc, sel, acc);
        }
      }
      trace(1, acc, acc, unit);
      mulCore(ctx, acc, unit, acc);
      finishFrom(ctx, at(out, n2Words, i * cols + j), acc);
    }
  }
  // the accumulator and the selections followed rho: wipe the region
  memory.fill(work, 0, workBytes);
  return STATUS_OK;
}
