// The targets of issues 2 and 11 (single thread, 2048-bit n, ratios from one run of this bench).
// A target holds when its ratio meets the bar at every batch size measured.
import type { Measurement } from './harness.js';
import { ratioOf, ratioOfImpl } from './ratios.js';
import type { Baseline } from './types.js';

export interface Target {
  text: string;
  caseId: string;
  impl: string;
  /** a peer family, or another row of the same case (packed against unpacked) */
  baseline: Baseline | { impl: string };
  /** the ratio (baseline time / impl time) must be at least this, or above it when `strict` */
  atLeast: number;
  strict?: boolean;
}

export const TARGETS: readonly Target[] = [
  {
    text: 'decrypt (CRT) >= 3x paillier-bigint decrypt',
    caseId: 'decrypt.2048',
    impl: 'fedjoin-wasm',
    baseline: 'paillier-bigint',
    atLeast: 3,
  },
  {
    text: 'encrypt standard >= 2x paillier-bigint encrypt',
    caseId: 'encrypt.2048',
    impl: 'fedjoin-wasm standard',
    baseline: 'paillier-bigint',
    atLeast: 2,
  },
  {
    text: 'encrypt DJN >= 20x paillier-bigint encrypt',
    caseId: 'encrypt.2048',
    impl: 'fedjoin-wasm djn',
    baseline: 'paillier-bigint',
    atLeast: 20,
  },
  {
    text: 'encrypt from pool (online part) >= 200x paillier-bigint encrypt',
    caseId: 'encrypt.2048',
    impl: 'fedjoin-wasm pool (online)',
    baseline: 'paillier-bigint',
    atLeast: 200,
  },
  {
    text: 'zero test >= 10x paillier-bigint decrypt',
    caseId: 'zeroTest.2048',
    impl: 'fedjoin-wasm',
    baseline: 'paillier-bigint',
    atLeast: 10,
  },
  {
    text: 'packed decrypt >= 10x more values per second than unpacked (issue 11)',
    caseId: 'decryptPacked.2048',
    impl: 'fedjoin-wasm packed',
    baseline: { impl: 'fedjoin-wasm unpacked' },
    atLeast: 10,
  },
  {
    text: 'modPow (4096, 2048) >= 2x plain BigInt',
    caseId: 'modPow.4096.e2048',
    impl: 'fedjoin-wasm',
    baseline: 'plain-bigint',
    atLeast: 2,
  },
  {
    text: 'modPow (4096, 2048) faster than gmp-wasm',
    caseId: 'modPow.4096.e2048',
    impl: 'fedjoin-wasm',
    baseline: 'gmp-wasm',
    atLeast: 1,
    strict: true,
  },
  {
    text: 'modPow (2048, 1024) >= 2x plain BigInt',
    caseId: 'modPow.2048.e1024',
    impl: 'fedjoin-wasm',
    baseline: 'plain-bigint',
    atLeast: 2,
  },
  {
    text: 'modPow (2048, 1024) faster than gmp-wasm',
    caseId: 'modPow.2048.e1024',
    impl: 'fedjoin-wasm',
    baseline: 'gmp-wasm',
    atLeast: 1,
    strict: true,
  },
];

export type Verdict = 'holds' | 'missed' | 'not measured';

export interface TargetResult {
  text: string;
  /** ratio per batch size measured */
  ratios: { batch: number; ratio: number }[];
  verdict: Verdict;
}

export function evaluateTargets(measurements: readonly Measurement[]): TargetResult[] {
  return TARGETS.map((t) => {
    const ratios: { batch: number; ratio: number }[] = [];
    for (const m of measurements) {
      if (m.caseId !== t.caseId || m.impl !== t.impl) continue;
      const { baseline } = t;
      const ratio =
        typeof baseline === 'string'
          ? ratioOf(measurements, m, baseline)
          : ratioOfImpl(measurements, m, baseline.impl);
      if (ratio !== undefined) ratios.push({ batch: m.batch, ratio });
    }
    const meets = (r: number) => (t.strict ? r > t.atLeast : r >= t.atLeast);
    const verdict: Verdict =
      ratios.length === 0 ? 'not measured' : ratios.every((r) => meets(r.ratio)) ? 'holds' : 'missed';
    return { text: t.text, ratios, verdict };
  });
}
