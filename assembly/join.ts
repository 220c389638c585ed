// The nested-loop indicator join over a tile of rows (DESIGN §3.1). For left row i and
// right column j, with keyCols key columns,
//   I_ij = prod_c ( E(a_ic) * E(b_jc)^-1 )^(rho_ijc) mod n^2 = E(sum_c rho_ijc (a_ic - b_jc)),
// which decrypts to 0 exactly when every column matches (but with probability about 1/n).
// JS passes the inverses E(b)^-1 (computed once per right row), and draws every rho
// uniformly in [1, n): rho is secret, so the exponentiation is the constant-time one.
import { copyWords, zeroWords } from './limbs';
import { modPowConstTime } from './modpow';
import { ctxOne, fromMont, montMul, toMont } from './montgomery';
import { PK_CTX_N2, PK_N2_WORDS, PK_WORK, STATUS_OK } from './paillier';

@inline function at(base: usize, stride: i32, i: i32): usize {
  return base + ((<usize>i * <usize>stride) << 2);
}

/**
 * out[i * cols + j] = prod_c (leftIn[i][c] * rightInvIn[j][c])^(rho[i][j][c]) mod n^2.
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
