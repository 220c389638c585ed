// Kernel micro-benchmark entry (STYLE G6: kernel micro-benchmarks loop inside WASM, so the
// JS call overhead stays out of the per-core time). Used only by bench/kernel.ts.
// Runs on the context's own exponentiation scratch; the values are public (powers of R).
import { ctxDigitBits, ctxDigitScratch, ctxDigitStride, ctxDigits, ctxOne, ctxWords, DIGIT_PAD, mulCore, mulCore32, mulCoreK, sqrCore, toDigits, ctxModulus } from './montgomery';

/** Runs `iterations` squarings (kind 0) or multiplications (kind 1) of digit vectors in place. */
export function benchCore(ctx: usize, kind: i32, iterations: i32): i32 {
  const reg = ctxDigitScratch(ctx);
  const S = ctxDigitStride(ctx);
  const M = ctxDigits(ctx);
  memory.fill(reg, 0, <usize>(2 * S) << 2);
  const a = reg + (<usize>DIGIT_PAD << 2);
  const x = a + (<usize>S << 2);
  toDigits(a, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  toDigits(x, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  const scratch = (reg + (<usize>(4 * S) << 2) + 15) & ~(<usize>15);
  if (kind == 3) {
    // check: mulCoreK against mulCore over chained products
    const y = a + (<usize>(2 * S) << 2);
    memory.copy(y, a, <usize>M << 2);
    for (let i = 0; i < iterations; i++) {
      mulCore(ctx, a, x, a);
      mulCoreK(ctx, y, x, y, scratch);
      for (let j = 0; j < M; j++) if (load<u32>(a + (<usize>j << 2)) != load<u32>(y + (<usize>j << 2))) return i + 1;
      sqrCore(ctx, x, x);
    }
    return 0;
  }
  for (let i = 0; i < iterations; i++) {
    if (kind == 0) sqrCore(ctx, a, a);
    else if (kind == 1) mulCore(ctx, a, x, a);
    else mulCoreK(ctx, a, x, a, scratch);
  }
  return 0;
}

/** EXPERIMENT: out (L + 1 words) = a b / 2^(32(L+1)) mod N (below 2N) via mulCore32, or `iterations` timed products when iterations > 0. */
export function bench32(ctx: usize, out: usize, a: usize, b: usize, iterations: i32): void {
  const L = ctxWords(ctx);
  const M = L + 1;
  const reg = ctxDigitScratch(ctx);
  const stride = (M + 12) & ~3;
  memory.fill(reg, 0, <usize>(4 * stride + 4 * (2 * M + 8) + 8) << 2);
  const A = reg + 16;
  const B = A + (<usize>stride << 2);
  const NW = B + (<usize>stride << 2);
  const R = NW + (<usize>stride << 2);
  const TL = (R + (<usize>stride << 2) + 15) & ~(<usize>15);
  const TH = TL + (<usize>(2 * M + 8) << 3) + 16;
  memory.copy(A, a, <usize>L << 2);
  memory.copy(B, b, <usize>L << 2);
  memory.copy(NW, ctxModulus(ctx), <usize>L << 2);
  if (iterations == 0) {
    mulCore32(ctx, A, B, R, NW, TL, TH);
    memory.copy(out, R, <usize>M << 2);
    return;
  }
  for (let i = 0; i < iterations; i++) mulCore32(ctx, A, B, A, NW, TL, TH);
}
