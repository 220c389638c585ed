// Kernel micro-benchmark entry (STYLE G6: kernel micro-benchmarks loop inside WASM, so the
// JS call overhead stays out of the per-core time). Used only by bench/kernel.ts.
// Runs on the context's own exponentiation scratch; the values are public (powers of R).
import { ctxDigitBits, ctxDigitScratch, ctxDigitStride, ctxDigits, ctxOne, ctxWords, DIGIT_PAD, mulCore, sqrCore, toDigits } from './montgomery';

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
  for (let i = 0; i < iterations; i++) {
    if (kind == 0) sqrCore(ctx, a, a);
    else mulCore(ctx, a, x, a);
  }
  return 0;
}
