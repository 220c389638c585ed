// Paillier batch kernels (DESIGN §2). One call processes a whole batch; values are
// canonical little-endian u32 limbs at a fixed stride per role: plaintexts nWords,
// ciphertexts n2Words, randomness rWords. JS fills the key structs below (pointers into
// this memory), validates every input range first, and draws all randomness.
import {
  addSmall,
  addWords,
  copyWords,
  equalWords,
  mulLowWords,
  mulWords,
  setWord,
  subSmall,
  zeroWords,
} from './limbs';
import { fixedBasePowConstTime } from './fixed-base';
import { modPowConstTime, modPowWindow } from './modpow';
import {
  ctxOne,
  ctxR2,
  ctxWords,
  fromMont,
  montMul,
  reduceToMont,
  subMod,
  toMont,
} from './montgomery';

// Public-key struct (u32 fields, byte offsets).
export const PK_CTX_N2: usize = 0; // Montgomery context for n^2
export const PK_N: usize = 4; // n, nWords words
export const PK_N_WORDS: usize = 8;
export const PK_N2_WORDS: usize = 12;
export const PK_G_TABLE: usize = 16; // 0 when g = n + 1, else fixed-base table of g
export const PK_G_WINDOW: usize = 20;
export const PK_G_BITS: usize = 24; // exponent bits the g table covers (bits of n)
export const PK_H_TABLE: usize = 28; // DJN table of h_n = h^n mod n^2, or 0
export const PK_H_WINDOW: usize = 32;
export const PK_H_BITS: usize = 36; // DJN exponent bits
export const PK_WORK: usize = 40; // WORK_SLOTS slots of (n2Words + 2) words
export const PK_BYTES: usize = 48;

// Private-key struct (u32 fields, byte offsets). Values are canonical, not Montgomery,
// except HP_MONT / HQ_MONT (hp * R_p mod p) so that one montMul gives u * hp mod p.
export const SK_CTX_P2: usize = 0;
export const SK_CTX_Q2: usize = 4;
export const SK_CTX_P: usize = 8;
export const SK_CTX_Q: usize = 12;
export const SK_P_MINUS_1: usize = 16; // pWords words (secret exponent)
export const SK_Q_MINUS_1: usize = 20; // qWords words (secret exponent)
export const SK_P_INV: usize = 24; // p^-1 mod 2^(32 pWords)
export const SK_Q_INV: usize = 28; // q^-1 mod 2^(32 qWords)
export const SK_HP_MONT: usize = 32;
export const SK_HQ_MONT: usize = 36;
export const SK_Q_INV_P: usize = 40; // q^-1 mod p, pWords words
export const SK_Q: usize = 44; // q, qWords words
export const SK_P_WORDS: usize = 48;
export const SK_Q_WORDS: usize = 52;
export const SK_N_WORDS: usize = 56;
export const SK_N2_WORDS: usize = 60;
export const SK_WORK: usize = 64; // WORK_SLOTS slots of (n2Words + 2) words
export const SK_BYTES: usize = 68;

export const WORK_SLOTS: i32 = 8;

// How encrypt and re-randomise obtain the factor r^n mod n^2.
export const RAND_R: i32 = 0; // input is r in Z*_n: r^n by windowed exponentiation
export const RAND_DJN: i32 = 1; // input is a short exponent a: h_n^a from the fixed-base table
export const RAND_RN: i32 = 2; // input is r^n mod n^2 itself (precomputed pool)

// Status codes returned by every batch entry; failing index goes to the status word.
export const STATUS_OK: i32 = 0;
export const STATUS_BAD_MODE: i32 = 1;
export const STATUS_NO_TABLE: i32 = 2;

@inline function u32At(p: usize, off: usize): i32 {
  return load<i32>(p + off);
}
@inline function ptrAt(p: usize, off: usize): usize {
  return load<usize>(p + off);
}
@inline function slot(work: usize, n2Words: i32, i: i32): usize {
  return work + ((<usize>i * <usize>(n2Words + 2)) << 2);
}
@inline function at(base: usize, stride: i32, i: i32): usize {
  return base + ((<usize>i * <usize>stride) << 2);
}

/** outM = (r^n mod n^2) * R in Montgomery form, from the randomness input per `mode`. */
function randomFactorMont(pk: usize, outM: usize, r: usize, rWords: i32, mode: i32): i32 {
  const ctx = ptrAt(pk, PK_CTX_N2);
  const nWords = u32At(pk, PK_N_WORDS);
  const n2Words = u32At(pk, PK_N2_WORDS);
  const tmp = slot(ptrAt(pk, PK_WORK), n2Words, 0);
  if (mode == RAND_R) {
    zeroWords(tmp, n2Words);
    copyWords(tmp, r, rWords);
    toMont(ctx, tmp, tmp);
    // the exponent n is public, so the faster sliding window applies
    modPowWindow(ctx, outM, tmp, ptrAt(pk, PK_N), nWords);
  } else if (mode == RAND_DJN) {
    const table = ptrAt(pk, PK_H_TABLE);
    if (table == 0) return STATUS_NO_TABLE;
    // the exponent a is as secret as the plaintext (a gives r^n, hence m): constant time
    const sel = slot(ptrAt(pk, PK_WORK), u32At(pk, PK_N2_WORDS), 5);
    fixedBasePowConstTime(ctx, table, outM, r, rWords, u32At(pk, PK_H_BITS), u32At(pk, PK_H_WINDOW), sel);
  } else if (mode == RAND_RN) {
    zeroWords(tmp, n2Words);
    copyWords(tmp, r, rWords);
    toMont(ctx, outM, tmp);
  } else {
    return STATUS_BAD_MODE;
  }
  return STATUS_OK;
}

/** c_i = g^m_i * r_i^n mod n^2; with g = n + 1, g^m = 1 + m n (no exponentiation). */
export function encryptBatch(pk: usize, mIn: usize, rIn: usize, out: usize, count: i32, mode: i32, rWords: i32): i32 {
  const ctx = ptrAt(pk, PK_CTX_N2);
  const nWords = u32At(pk, PK_N_WORDS);
  const n2Words = u32At(pk, PK_N2_WORDS);
  const work = ptrAt(pk, PK_WORK);
  const rnM = slot(work, n2Words, 1);
  const gm = slot(work, n2Words, 2); // 2 slots: m * n may take 2 nWords = n2Words + 1 words
  const sel = slot(work, n2Words, 4);
  const gTable = ptrAt(pk, PK_G_TABLE);
  for (let i = 0; i < count; i++) {
    const status = randomFactorMont(pk, rnM, at(rIn, rWords, i), rWords, mode);
    if (status != STATUS_OK) return status;
    const m = at(mIn, nWords, i);
    const c = at(out, n2Words, i);
    if (gTable == 0) {
      // (1 + m n) * (r^n R) * R^-1 = (1 + m n) r^n: one montMul, no conversions
      mulWords(gm, m, nWords, ptrAt(pk, PK_N), nWords);
      setWord(gm, 2 * nWords, 0);
      addSmall(gm, 1, n2Words);
      montMul(ctx, c, gm, rnM);
    } else {
      // the plaintext is secret: constant-time fixed-base g^m
      fixedBasePowConstTime(ctx, gTable, gm, m, nWords, u32At(pk, PK_G_BITS), u32At(pk, PK_G_WINDOW), sel);
      montMul(ctx, gm, gm, rnM);
      fromMont(ctx, c, gm);
    }
  }
  return STATUS_OK;
}

/** out_i = r_i^n mod n^2 (plain): fills the precomputed randomness pool. */
export function randomFactorBatch(pk: usize, rIn: usize, out: usize, count: i32, mode: i32, rWords: i32): i32 {
  const ctx = ptrAt(pk, PK_CTX_N2);
  const n2Words = u32At(pk, PK_N2_WORDS);
  const rnM = slot(ptrAt(pk, PK_WORK), n2Words, 1);
  for (let i = 0; i < count; i++) {
    const status = randomFactorMont(pk, rnM, at(rIn, rWords, i), rWords, mode);
    if (status != STATUS_OK) return status;
    fromMont(ctx, at(out, n2Words, i), rnM);
  }
  return STATUS_OK;
}

/** c'_i = c_i * r_i^n mod n^2: same plaintext, fresh randomness. */
export function rerandomizeBatch(pk: usize, cIn: usize, rIn: usize, out: usize, count: i32, mode: i32, rWords: i32): i32 {
  const ctx = ptrAt(pk, PK_CTX_N2);
  const n2Words = u32At(pk, PK_N2_WORDS);
  const rnM = slot(ptrAt(pk, PK_WORK), n2Words, 1);
  for (let i = 0; i < count; i++) {
    const status = randomFactorMont(pk, rnM, at(rIn, rWords, i), rWords, mode);
    if (status != STATUS_OK) return status;
    montMul(ctx, at(out, n2Words, i), at(cIn, n2Words, i), rnM);
  }
  return STATUS_OK;
}

/** out_i = a_i * b_i mod n^2 = E(m_a + m_b). */
export function addBatch(pk: usize, aIn: usize, bIn: usize, out: usize, count: i32): i32 {
  const ctx = ptrAt(pk, PK_CTX_N2);
  const n2Words = u32At(pk, PK_N2_WORDS);
  const t = slot(ptrAt(pk, PK_WORK), n2Words, 1);
  for (let i = 0; i < count; i++) {
    montMul(ctx, t, at(aIn, n2Words, i), at(bIn, n2Words, i));
    montMul(ctx, at(out, n2Words, i), t, ctxR2(ctx));
  }
  return STATUS_OK;
}

/**
 * out_i = base_i^e_i mod N for the context's modulus N: the general kernel behind
 * scalar multiply (E(m)^k = E(k m)) and raw modPow. eStride 0 broadcasts one exponent.
 * secret != 0 selects the constant-time path (join randomisers, private exponents).
 */
export function modPowBatch(
  ctx: usize,
  work: usize,
  baseIn: usize,
  eIn: usize,
  out: usize,
  count: i32,
  eWords: i32,
  eStride: i32,
  secret: i32,
): i32 {
  const L = ctxWords(ctx);
  const b = slot(work, L, 0);
  for (let i = 0; i < count; i++) {
    toMont(ctx, b, at(baseIn, L, i));
    const e = at(eIn, eStride, i);
    if (secret != 0) modPowConstTime(ctx, b, b, e, eWords);
    else modPowWindow(ctx, b, b, e, eWords);
    fromMont(ctx, at(out, L, i), b);
  }
  return STATUS_OK;
}

/**
 * One CRT half: x = c^(p-1) mod p^2 (constant time), u = (x - 1) / p by exact division
 * (u = (x - 1) * p^-1 mod 2^(32 pWords), since p divides x - 1 and u < p), then
 * m_p = u * hp mod p. With g = n + 1 this is m mod p; it is also the hashed-join tag.
 */
function crtHalf(
  ctxP2: usize,
  ctxP: usize,
  pMinus1: usize,
  pInv: usize,
  hpMont: usize,
  pWords: i32,
  c: usize,
  n2Words: i32,
  x: usize,
  u: usize,
  out: usize,
): void {
  const p2Words = ctxWords(ctxP2);
  reduceToMont(ctxP2, x, c, n2Words, 0);
  modPowConstTime(ctxP2, x, x, pMinus1, pWords);
  fromMont(ctxP2, x, x);
  subSmall(x, 1, p2Words); // x >= 1 because x = 1 mod p
  mulLowWords(u, x, pInv, pWords);
  montMul(ctxP, out, u, hpMont);
}

/** m_i = D(c_i) by CRT: halves mod p and q, recombined m = m_q + q ((m_p - m_q) q^-1 mod p). */
export function decryptCrtBatch(sk: usize, cIn: usize, out: usize, count: i32): i32 {
  const ctxP2 = ptrAt(sk, SK_CTX_P2);
  const ctxQ2 = ptrAt(sk, SK_CTX_Q2);
  const ctxP = ptrAt(sk, SK_CTX_P);
  const ctxQ = ptrAt(sk, SK_CTX_Q);
  const pWords = u32At(sk, SK_P_WORDS);
  const qWords = u32At(sk, SK_Q_WORDS);
  const nWords = u32At(sk, SK_N_WORDS);
  const n2Words = u32At(sk, SK_N2_WORDS);
  const work = ptrAt(sk, SK_WORK);
  const x = slot(work, n2Words, 0);
  const u = slot(work, n2Words, 1);
  const mp = slot(work, n2Words, 2);
  const mq = slot(work, n2Words, 3);
  const prod = slot(work, n2Words, 4); // 2 slots
  for (let i = 0; i < count; i++) {
    const c = at(cIn, n2Words, i);
    crtHalf(ctxP2, ctxP, ptrAt(sk, SK_P_MINUS_1), ptrAt(sk, SK_P_INV), ptrAt(sk, SK_HP_MONT), pWords, c, n2Words, x, u, mp);
    crtHalf(ctxQ2, ctxQ, ptrAt(sk, SK_Q_MINUS_1), ptrAt(sk, SK_Q_INV), ptrAt(sk, SK_HQ_MONT), qWords, c, n2Words, x, u, mq);
    // h = (m_p - m_q) q^-1 mod p, in Montgomery form mod p: reduce m_q (< q, maybe > p)
    reduceToMont(ctxP, u, mq, qWords, 0);
    toMont(ctxP, x, mp);
    subMod(ctxP, x, x, u);
    montMul(ctxP, x, x, ptrAt(sk, SK_Q_INV_P));
    // m = m_q + q h < n
    mulWords(prod, ptrAt(sk, SK_Q), qWords, x, pWords);
    zeroWords(mq + (<usize>qWords << 2), pWords);
    addWords(prod, prod, mq, qWords + pWords);
    copyWords(at(out, nWords, i), prod, nWords);
  }
  zeroWords(work, WORK_SLOTS * (n2Words + 2));
  return STATUS_OK;
}

/** out_i = m_i mod p (pWords words): the p half alone; B's tag in the hashed join (§3.2). */
export function decryptModPBatch(sk: usize, cIn: usize, out: usize, count: i32): i32 {
  const pWords = u32At(sk, SK_P_WORDS);
  const n2Words = u32At(sk, SK_N2_WORDS);
  const work = ptrAt(sk, SK_WORK);
  const x = slot(work, n2Words, 0);
  const u = slot(work, n2Words, 1);
  for (let i = 0; i < count; i++) {
    crtHalf(
      ptrAt(sk, SK_CTX_P2),
      ptrAt(sk, SK_CTX_P),
      ptrAt(sk, SK_P_MINUS_1),
      ptrAt(sk, SK_P_INV),
      ptrAt(sk, SK_HP_MONT),
      pWords,
      at(cIn, n2Words, i),
      n2Words,
      x,
      u,
      at(out, pWords, i),
    );
  }
  zeroWords(work, WORK_SLOTS * (n2Words + 2));
  return STATUS_OK;
}

/** out_i = 1 if D(c_i) = 0 mod p, i.e. c_i^(p-1) mod p^2 = 1 (error about 1/p), else 0. */
export function zeroTestBatch(sk: usize, cIn: usize, out: usize, count: i32): i32 {
  const ctxP2 = ptrAt(sk, SK_CTX_P2);
  const pWords = u32At(sk, SK_P_WORDS);
  const n2Words = u32At(sk, SK_N2_WORDS);
  const x = slot(ptrAt(sk, SK_WORK), n2Words, 0);
  for (let i = 0; i < count; i++) {
    reduceToMont(ctxP2, x, at(cIn, n2Words, i), n2Words, 0);
    modPowConstTime(ctxP2, x, x, ptrAt(sk, SK_P_MINUS_1), pWords);
    // compare in Montgomery form: x = 1 exactly when its representative equals R mod p^2
    store<u32>(out + (<usize>i << 2), equalWords(x, ctxOne(ctxP2), ctxWords(ctxP2)));
  }
  zeroWords(x, n2Words);
  return STATUS_OK;
}
