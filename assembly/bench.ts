// Kernel micro-benchmark entry (STYLE G6: kernel micro-benchmarks loop inside WASM, so the
// JS call overhead stays out of the per-core time). Used only by bench/kernel.ts.
// Runs on the context's own exponentiation scratch; the values are public (powers of R).
import { ctxDigitBits, ctxDigitScratch, ctxDigitStride, ctxDigits, ctxOne, ctxWords, DIGIT_PAD, mulCore, mulCore4, sqrCore, toDigits } from './montgomery';

/** Runs `iterations` squarings (kind 0) or multiplications (kind 1) of digit vectors in place. */
export function benchCore(ctx: usize, kind: i32, iterations: i32): i32 {
  const reg = ctxDigitScratch(ctx);
  const S = ctxDigitStride(ctx);
  const M = ctxDigits(ctx);
  memory.fill(reg, 0, <usize>(3 * S) << 2);
  const a = reg + (<usize>DIGIT_PAD << 2);
  const x = a + (<usize>S << 2);
  toDigits(a, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  toDigits(x, ctxOne(ctx), ctxWords(ctx), M, 0, ctxDigitBits(ctx));
  if (kind == 3) {
    const y = a + (<usize>(2 * S) << 2);
    memory.copy(y, a, <usize>M << 2);
    for (let i = 0; i < iterations; i++) {
      mulCore(ctx, a, x, a);
      mulCore4(ctx, y, x, y);
      for (let j = 0; j < M; j++) if (load<u32>(a + (<usize>j << 2)) != load<u32>(y + (<usize>j << 2))) return i + 1;
      sqrCore(ctx, x, x);
    }
    return 0;
  }
  for (let i = 0; i < iterations; i++) {
    if (kind == 0) sqrCore(ctx, a, a);
    else if (kind == 1) mulCore(ctx, a, x, a);
    else mulCore4(ctx, a, x, a);
  }
  return 0;
}
