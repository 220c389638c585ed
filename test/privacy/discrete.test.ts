// The exact discrete samplers (CKS 2020) against their definitions: Bernoulli(exp(-gamma))
// frequencies, the discrete Laplace and Gaussian pmfs (chi-square over the central
// support), symmetry and variance; the integer square root; rational conversion.
import { describe, expect, it } from 'vitest';
import {
  bernoulliExp,
  discreteGaussian,
  discreteLaplace,
  isqrt,
  rationalOf,
} from '../../src/privacy/discrete.js';
import { rhoFor } from '../../src/privacy/release.js';

/** chi-square statistic of observed counts against expected probabilities (tail lumped). */
function chiSquare(
  samples: bigint[],
  pmf: (y: number) => number,
  radius: number,
): { stat: number; df: number } {
  const counts = new Map<number, number>();
  for (const s of samples) {
    const y = Math.max(-radius - 1, Math.min(radius + 1, Number(s)));
    counts.set(y, (counts.get(y) ?? 0) + 1);
  }
  let z = 0;
  for (let y = -1000; y <= 1000; y++) z += pmf(y);
  let stat = 0;
  let inside = 0;
  for (let y = -radius; y <= radius; y++) {
    const p = pmf(y) / z;
    inside += p;
    const expected = p * samples.length;
    stat += ((counts.get(y) ?? 0) - expected) ** 2 / expected;
  }
  const tail = (1 - inside) * samples.length;
  const observedTail = (counts.get(-radius - 1) ?? 0) + (counts.get(radius + 1) ?? 0);
  if (tail > 5) stat += (observedTail - tail) ** 2 / tail;
  return { stat, df: 2 * radius + (tail > 5 ? 1 : 0) };
}

describe('Bernoulli(exp(-gamma))', () => {
  it.each([
    [0n, 1n],
    [1n, 3n],
    [1n, 1n],
    [5n, 2n],
  ])('has frequency exp(-%i/%i)', (num, den) => {
    const n = 20000;
    let hits = 0;
    for (let i = 0; i < n; i++) if (bernoulliExp({ num, den })) hits++;
    const p = Math.exp(-Number(num) / Number(den));
    // 5 standard deviations of a binomial proportion
    expect(Math.abs(hits / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
  });
});

describe('the discrete Laplace', () => {
  it('follows exp(-|y| / t) (chi-square, 11 cells)', () => {
    const t = 2n;
    const samples = Array.from({ length: 20000 }, () => discreteLaplace(t));
    const { stat, df } = chiSquare(samples, (y) => Math.exp(-Math.abs(y) / 2), 5);
    // the 0.999 quantile of chi-square with 12 degrees of freedom is 32.9
    expect(df).toBeLessThanOrEqual(12);
    expect(stat).toBeLessThan(32.9);
  });
});

describe('the discrete Gaussian', () => {
  it('follows exp(-y^2 / (2 sigma^2)) for sigma^2 = 9/2 (chi-square)', () => {
    const samples = Array.from({ length: 20000 }, () => discreteGaussian({ num: 9n, den: 2n }));
    const { stat, df } = chiSquare(samples, (y) => Math.exp(-(y * y) / 9), 6);
    // the 0.999 quantile of chi-square with 14 degrees of freedom is 36.1
    expect(df).toBeLessThanOrEqual(14);
    expect(stat).toBeLessThan(36.1);
  });

  it('is symmetric with variance close to sigma^2 for a large sigma', () => {
    const sigma2 = { num: 10n ** 12n, den: 1n }; // sigma = 1e6
    const samples = Array.from({ length: 4000 }, () => Number(discreteGaussian(sigma2)));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(5 * (1e6 / Math.sqrt(4000)));
    expect(variance / 1e12).toBeGreaterThan(0.9);
    expect(variance / 1e12).toBeLessThan(1.1);
  });

  it('returns exactly 0 for sigma = 0 and samples integers only', () => {
    expect(discreteGaussian({ num: 0n, den: 1n })).toBe(0n);
    expect(typeof discreteGaussian({ num: 1n, den: 3n })).toBe('bigint');
  });
});

describe('helpers', () => {
  it('isqrt is floor(sqrt(x)) on edges and large values', () => {
    for (const x of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 40n, 10n ** 40n - 1n, 2n ** 2049n + 12345n]) {
      const r = isqrt(x);
      expect(r * r <= x && (r + 1n) * (r + 1n) > x, String(x)).toBe(true);
    }
  });

  it('rationalOf is exact for doubles', () => {
    for (const x of [0, 0.5, 0.1, 1e-6, 3, 123456.789]) {
      const { num, den } = rationalOf(x);
      expect(Number(num) / Number(den)).toBe(x);
    }
  });

  it('rhoFor inverts rho + 2 sqrt(rho ln(1/delta)) = epsilon', () => {
    for (const [eps, delta] of [
      [1, 1e-6],
      [3, 1e-5],
      [0.1, 1e-9],
    ]) {
      const rho = rhoFor(eps, delta);
      expect(rho + 2 * Math.sqrt(rho * Math.log(1 / delta))).toBeCloseTo(eps, 9);
    }
  });
});
