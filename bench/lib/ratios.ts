// Ratios: a row's p50 CPU time per value against a baseline implementation's row of the same
// case and batch size (baseline time / row time, so 3.0x means three times as fast). Used by
// the tables (report.ts) and the targets (targets.ts).
import type { Measurement } from './harness.js';
import { BASELINES, type Baseline } from './types.js';

/** baseline p50 / m's p50 for the same case and batch; undefined when that baseline was not run. */
export function ratioOf(all: readonly Measurement[], m: Measurement, baseline: Baseline): number | undefined {
  const base = all.find((x) => x.id === m.id && x.family === baseline);
  return base && base.p50OpMs / m.p50OpMs;
}

/** The same against another implementation's row of the same case and batch (by label). */
export function ratioOfImpl(all: readonly Measurement[], m: Measurement, impl: string): number | undefined {
  const base = all.find((x) => x.id === m.id && x.impl === impl);
  return base && base.p50OpMs / m.p50OpMs;
}

export function ratios(all: readonly Measurement[], m: Measurement): Partial<Record<Baseline, number>> {
  const out: Partial<Record<Baseline, number>> = {};
  for (const b of BASELINES) {
    const r = ratioOf(all, m, b);
    if (r !== undefined) out[b] = r;
  }
  return out;
}
