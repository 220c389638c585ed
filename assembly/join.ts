// The nested-loop indicator join by algorithm (DESIGN §3.1, issue 11 item 1): per-row comb
// tables (joinTablesBatch, canonical powers of a public ciphertext, built once per row and
// query) and the pair kernel (joinPairsBatch, one tile of indicators from those tables).
// JS passes the inverses E(b)^-1 and rho uniform in [1, n); rho is secret, so every read of
// it is constant time.
import { bitsAt, zeroWords } from './limbs';
import { ctSelectDigits } from './modpow';
import {
  ctxDigitBits,
  ctxDigitFactor,
  ctxDigitScratch,
  ctxDigitStride,
  ctxDigits,
  ctxOne,
  ctxR2,
  DIGIT_PAD,
  finishFrom,
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
// about 2045 squarings + 441 multiplies for one constant-time 5-bit window over (A_i B_j).
// Row tables cross the boundary as canonical values mod n^2 (the BigInt reference computes
// the same words; docs/DECISIONS.md, "Nested-loop join by algorithm", has the measurements,
// the losers and the sizing rules).

/** Recommended comb geometry for 2048-bit rho (measured; src/engine/tasks.ts JOIN_COMB matches it). */
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

/** Bytes of one row table: teeth * blocks canonical values of n2Words words. */
export function joinTableBytes(pk: usize, teeth: i32, blocks: i32): usize {
  return <usize>(teeth * blocks * load<i32>(pk + PK_N2_WORDS)) << 2;
}

/**
 * Bytes of joinPairsBatch's work region, in digit vectors: the pair's blocks * 2^teeth
 * entries, the left row's teeth * blocks powers in digit form, and 6 more (accumulator,
 * selection, the integer 1, a temporary, R'^3 and the right power being read).
 */
export function joinWorkBytes(pk: usize, teeth: i32, blocks: i32): usize {
  const ctx = load<usize>(pk + PK_CTX_N2);
  return <usize>((blocks << teeth) + teeth * blocks + 6) * (<usize>ctxDigitStride(ctx) << 2);
}

/**
 * Row tables for `count` ciphertexts (n2Words words each, canonical, in [1, n^2)): table i
 * holds x_i^(2^(r a + k b)) mod n^2 for block k and tooth r at value k * teeth + r, canonical
 * n2Words-word values (value 0 is x_i itself). The exponents are public, so this is ordinary
 * variable-base squaring; the same function serves left rows and right inverses.
 * Uses the context's exponentiation scratch (vectors 0..3) and work slot 0.
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
  const unit = dvec(reg, S, 2);
  const tmp = dvec(reg, S, 3);
  const mont = at(load<usize>(pk + PK_WORK), n2Words + 2, 0);
  memory.fill(reg, 0, <usize>(4 * S) << 2);
  toDigits(K, ctxDigitFactor(ctx), n2Words, M, 0, bits);
  // the integer 1: x R' times 1 over R' is x, out of digit form
  store<u32>(unit, 1);
  const rowBytes = joinTableBytes(pk, teeth, blocks);
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
        trace(1, tmp, x, unit);
        mulCore(ctx, x, unit, tmp);
        finishFrom(ctx, at(row, n2Words, k * teeth + r), tmp);
      }
    }
  }
  memory.fill(reg, 0, <usize>(4 * S) << 2);
  memory.fill(mont, 0, <usize>(n2Words + 2) << 2);
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
 * Tables come in canonical (below n^2): a left row's powers go into digit form once per row
 * as L R'^2 (one product by R'^3 each), a right power is read as its plain digits, so one
 * product L R'^2 * R / R' = (L R) R' gives the pair's basis in digit form with no
 * conversion product per pair.
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
  const powers = teeth * blocks;
  const a = ceilDiv(32 * rhoWords, teeth);
  const b = ceilDiv(a, blocks);
  const entries = blocks * size;
  const acc = dvec(work, S, entries);
  const sel = dvec(work, S, entries + 1);
  const unit = dvec(work, S, entries + 2);
  const tmp = dvec(work, S, entries + 3);
  const cube = dvec(work, S, entries + 4);
  const rightPower = dvec(work, S, entries + 5);
  const leftPowers = work + (<usize>((entries + 6) * S) << 2);
  const workBytes = joinWorkBytes(pk, teeth, blocks);
  const rowBytes = joinTableBytes(pk, teeth, blocks);
  const blockBytes = <usize>(size * S) << 2;
  memory.fill(work, 0, workBytes); // every pad reads as zero
  // entry 0 of every block: 1' = R' (R times K over R'); unit: the integer 1, which takes
  // a result out of digit form (x R' * 1 / R' = x)
  toDigits(tmp, ctxOne(ctx), n2Words, M, 0, bits);
  toDigits(unit, ctxDigitFactor(ctx), n2Words, M, 0, bits);
  trace(1, tmp, tmp, unit);
  mulCore(ctx, tmp, unit, tmp);
  for (let k = 0; k < blocks; k++) memory.copy(dvec(work, S, k * size), tmp, <usize>M << 2);
  // cube = R'^3: K R^2 / R = R'^2 (canonical, in work slot 0), squared over R'
  const mont = at(load<usize>(pk + PK_WORK), n2Words + 2, 0);
  montMul(ctx, mont, ctxDigitFactor(ctx), ctxR2(ctx));
  toDigits(cube, mont, n2Words, M, 0, bits);
  trace(1, cube, cube, cube);
  mulCore(ctx, cube, cube, cube);
  memory.fill(mont, 0, <usize>(n2Words + 2) << 2);
  zeroWords(unit, M);
  store<u32>(unit, 1);
  for (let i = 0; i < rows; i++) {
    // left row i's powers into digit form, L R'^3 / R' = L R'^2, once for all its pairs
    const left = leftTables + rowBytes * <usize>i;
    for (let p = 0; p < powers; p++) {
      const power = dvec(leftPowers, S, p);
      toDigits(power, at(left, n2Words, p), n2Words, M, 0, bits);
      trace(1, power, power, cube);
      mulCore(ctx, power, cube, power);
    }
    for (let j = 0; j < cols; j++) {
      const right = rightTables + rowBytes * <usize>j;
      const rho = at(rhoIn, rhoWords, i * cols + j);
      // the pair's table: powers of two as L R'^2 * R / R' = (L R) R', then every other
      // entry as (entry without its top bit) times (its top bit)
      for (let k = 0; k < blocks; k++) {
        const block = work + blockBytes * <usize>k;
        for (let r = 0; r < teeth; r++) {
          const e = dvec(block, S, 1 << r);
          toDigits(rightPower, at(right, n2Words, k * teeth + r), n2Words, M, 0, bits);
          trace(1, e, dvec(leftPowers, S, k * teeth + r), rightPower);
          mulCore(ctx, dvec(leftPowers, S, k * teeth + r), rightPower, e);
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
