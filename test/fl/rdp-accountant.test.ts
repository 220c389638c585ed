// The accountant against published values and an independent multi-precision reference.
// "ref.py" below is test/fl/reference/rdp_reference.py (mpmath, 60 digits, quadrature of the
// definition of A_alpha; not run in CI); its output reproduced every published value quoted here.
import { describe, expect, test } from 'vitest';
import { fromRecord, PrivacyBudgetError } from '../../src/errors.js';
import {
  assertWithinBudget,
  computeRdp,
  DEFAULT_ORDERS,
  epsilon,
  logAFrac,
  logAInt,
  privacySpent,
  RdpAccountant,
  rdpStep,
  rdpToEpsilon,
  sigmaForEpsilon,
} from '../../src/fl/rdp-accountant.js';

/** Relative closeness. */
function expectRel(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected));
}

// Order grids of the sources: TF Privacy's compute_dp_sgd_privacy.py (2019, the grid behind
// the tutorial's 3.01) and its current compute_dp_sgd_privacy_lib.py.
const TFP_2019 = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
];
const TFP_LIB = [
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128,
  256,
  512,
];

describe('RDP of the sampled Gaussian mechanism', () => {
  test('degenerate cases: q = 0 is free, q = 1 is the Gaussian mechanism alpha / (2 sigma^2)', () => {
    // TF Privacy rdp_accountant_test.py test_compute_rdp_no_data / _no_sampling.
    expect(computeRdp(0, 10, 1, [20])).toEqual([0]);
    expect(computeRdp(1, 10, 1, [20])[0]).toBeCloseTo(0.1, 15);
    expect(rdpStep(0.5, 0, 3)).toBe(Number.POSITIVE_INFINITY);
  });

  test('TF Privacy rdp_accountant_test.py published RDP values', () => {
    // test_compute_rdp_scalar: compute_rdp(q=0.1, sigma=2, steps=10, order=5) ~= 0.07737 (5 places).
    expect(computeRdp(0.1, 2, 10, [5])[0]).toBeCloseTo(0.07737, 5);
    // test_compute_rdp_sequence: q=0.01, sigma=2.5, 50 steps, orders [1.5, 2.5, 5, 50, 100]
    // -> [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307], tolerance 1e-5 (fractional orders included).
    const got = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
    [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307].forEach((v, i) => {
      expect(Math.abs(got[i] - v)).toBeLessThan(1e-5);
    });
    // ref.py (mpmath) for the same: 0.0006500708971880398, 0.0010854180569181244,
    // 0.0021807565623078807, 0.02384603753870617, 167.41630754841825.
    const mp = [
      0.0006500708971880398, 0.0010854180569181244, 0.0021807565623078807, 0.02384603753870617,
      167.41630754841825,
    ];
    for (const [i, v] of mp.entries()) expectRel(got[i], v, 1e-9);
  });

  test('log A_alpha equals the multi-precision quadrature on TF Privacy test_compute_log_a_equals_mp params', () => {
    // Parameters from TF Privacy rdp_accountant_test.py (which checks rtol 1e-4 against mpmath);
    // values from ref.py. Includes extreme q, sigma 0.1 (log A ~ 3e6) and fractional orders.
    const cases: [number, number, number, number][] = [
      [1e-7, 0.1, 1.01, 4.0034123225264e-8],
      [1e-6, 0.1, 256, 3260463.22929716],
      [1e-5, 0.1, 256.1, 3263607.03978842],
      [1e-6, 1, 27, 8.7695113048485e-10],
      [1e-4, 1, 1.5, 6.44268695383665e-9],
      [1e-3, 1, 2, 1.71828035221452e-6],
      [0.01, 10, 20, 0.00019129699912843],
      [0.1, 100, 20.5, 0.000199918184580683],
      [0.99, 0.1, 256, 3263997.42711402],
      [0.999, 100, 256.1, 3.26010803797311],
    ];
    for (const [q, sigma, alpha, ref] of cases) {
      const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
      expectRel(logA, ref, 1e-5);
    }
  });

  test('fractional orders equal the quadrature (ref.py)', () => {
    const cases: [number, number, number, number][] = [
      [0.01, 4, 1.5, 4.83549317563319e-6],
      [0.01, 4, 7.3, 2.3622101691411e-5],
      [0.1, 1, 2.5, 0.0235037272610031],
      [0.3, 0.8, 3.7, 1.3000943333864],
      [0.004267, 1.1, 10.9, 0.000137820935842132],
    ];
    for (const [q, sigma, alpha, ref] of cases) expectRel(rdpStep(q, sigma, alpha), ref, 1e-9);
  });

  test('RDP increases with the order and decreases with sigma', () => {
    const r = computeRdp(0.05, 1.2, 1, DEFAULT_ORDERS);
    for (let i = 1; i < r.length; i++) expect(r[i]).toBeGreaterThanOrEqual(r[i - 1]);
    expect(rdpStep(0.05, 2, 8)).toBeLessThan(rdpStep(0.05, 1, 8));
  });
});

describe('epsilon at delta', () => {
  test('Abadi et al. 2016 sec. 5.2: q = 0.01, sigma = 4, delta = 1e-5, T = 10,000 gives ~1.26', () => {
    // Abadi et al., "Deep Learning with Differential Privacy", CCS 2016, sec. 5.2: the moments
    // accountant gives epsilon ~ 1.26 (strong composition: 9.34); the moments accountant is RDP
    // with integer orders and the classic conversion. ref.py: classic 1.2585747412527875 at
    // order 20; improved conversion 1.0354900660362967 at order 17.
    const classic = privacySpent(0.01, 4, 10_000, 1e-5, { conversion: 'classic' });
    expect(classic.epsilon).toBeCloseTo(1.26, 2);
    expectRel(classic.epsilon, 1.2585747412527875, 1e-9);
    expect(classic.order).toBe(20);
    const improved = privacySpent(0.01, 4, 10_000, 1e-5);
    expectRel(improved.epsilon, 1.0354900660362967, 1e-9);
    expect(improved.order).toBe(17);
    expect(epsilon(0.01, 4, 10_000, 1e-5)).toBe(improved.epsilon);
    // Same section, 400 epochs (T = 40,000): 2.55 published; classic RDP over our grid: 2.5737 (ref.py).
    expectRel(epsilon(0.01, 4, 40_000, 1e-5, { conversion: 'classic' }), 2.5736590661768837, 1e-9);
  });

  test('TF Privacy tutorial: N = 60000, batch 256, sigma 1.1, 60 epochs, delta 1e-5 gives eps = 3.01', () => {
    // tensorflow/privacy tutorials/README.md: "compute_dp_sgd_privacy.py --N=60000
    // --batch_size=256 --noise_multiplier=1.1 --epochs=60 --delta=1e-5 ... satisfies
    // differential privacy with eps = 3.01". That script (2019) used the grid TFP_2019, steps
    // ceil(epochs N / batch) = 14063, and the classic conversion. ref.py: 3.0083810468337937
    // (order 8.8); improved conversion 2.596655528680917 (order 8.1).
    const q = 256 / 60000;
    const steps = Math.ceil((60 * 60000) / 256);
    const classic = privacySpent(q, 1.1, steps, 1e-5, { orders: TFP_2019, conversion: 'classic' });
    expect(classic.epsilon.toFixed(2)).toBe('3.01');
    expectRel(classic.epsilon, 3.0083810468337937, 1e-9);
    expect(classic.order).toBeCloseTo(8.8, 12);
    const improved = privacySpent(q, 1.1, steps, 1e-5);
    expectRel(improved.epsilon, 2.596655528680917, 1e-9);
  });

  test('TF Privacy compute_dp_sgd_privacy_test.py (dp_accounting, improved conversion)', () => {
    // ('Test0', 60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 19.0)
    // ('Test1', 100000, 100, 1.0, 30, 1e-7, 1.4154988495444842, 13.0)
    // with orders TFP_LIB and steps ceil(epochs n / batch).
    const t0 = privacySpent(150 / 60000, 1.3, Math.ceil((15 * 60000) / 150), 1e-5, { orders: TFP_LIB });
    expectRel(t0.epsilon, 0.7242234026109595, 1e-9);
    expect(t0.order).toBe(19);
    const t1 = privacySpent(100 / 100000, 1.0, Math.ceil((30 * 100000) / 100), 1e-7, { orders: TFP_LIB });
    expectRel(t1.epsilon, 1.4154988495444842, 1e-9);
    expect(t1.order).toBe(13);
  });

  test('conversions on hand-checkable RDP curves (TF Privacy test_get_privacy_spent_check_target_delta)', () => {
    // Constant RDP 1.1 over orders 2..32 (pure DP): both conversions pick the largest order.
    // The test's value eps = 1.32783806176 is the improved conversion at order 32:
    // 1.1 + log1p(-1/32) - log(32e-5)/31. Classic: 1.1 - log(1e-5)/31.
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const flat = orders.map(() => 1.1);
    const improved = rdpToEpsilon(orders, flat, 1e-5);
    expect(improved.order).toBe(32);
    expect(improved.epsilon).toBeCloseTo(1.32783806176, 10);
    const classic = rdpToEpsilon(orders, flat, 1e-5, 'classic');
    expect(classic.order).toBe(32);
    expect(classic.epsilon).toBeCloseTo(1.1 - Math.log(1e-5) / 31, 14);
    // KL shortcut: delta^2 >= 1 - e^-rdp means epsilon 0.
    expect(rdpToEpsilon([2], [1e-12], 1e-5).epsilon).toBe(0);
    // Gaussian mechanism (q = 1) with sigma 4.530877117: "Scale is chosen to obtain exactly
    // (1,1e-6)-DP" over orders 1.001..99.999 by 0.001 (same TF test; assertAlmostEqual(eps, 1)).
    const fine = Array.from({ length: 98_999 }, (_, i) => (1001 + i) / 1000);
    const gauss = rdpToEpsilon(fine, computeRdp(1, 4.530877117, 1, fine), 1e-6);
    expect(gauss.epsilon).toBeCloseTo(1, 7);
  });

  test('RdpAccountant composes heterogeneous rounds additively', () => {
    const acc = new RdpAccountant().compose(0.01, 4, 6000).compose(0.01, 4, 4000);
    expectRel(acc.spent(1e-5).epsilon, epsilon(0.01, 4, 10_000, 1e-5), 1e-12);
    const mixed = new RdpAccountant().compose(0.1, 2, 100).compose(0.05, 1.5, 200);
    const second = computeRdp(0.05, 1.5, 200);
    const sum = computeRdp(0.1, 2, 100).map((r, i) => r + second[i]);
    expect(mixed.rdp).toEqual(sum);
    // withPlan leaves the original untouched.
    const before = mixed.rdp;
    mixed.withPlan(0.1, 2, 100);
    expect(mixed.rdp).toEqual(before);
  });
});

describe('budget cap and sigma search', () => {
  test('assertWithinBudget passes under the cap and throws a typed PRIVACY_BUDGET error over it', () => {
    const plan = { sampleRate: 0.01, noiseMultiplier: 4, steps: 10_000, delta: 1e-5 };
    expectRel(assertWithinBudget(plan, 1.1), 1.0354900660362967, 1e-9);
    let caught: unknown;
    try {
      assertWithinBudget(plan, 1.0);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PrivacyBudgetError);
    const err = caught as PrivacyBudgetError;
    expect(err.code).toBe('PRIVACY_BUDGET');
    expect(err.details.maxEpsilon).toBe(1);
    expect(err.details.epsilon as number).toBeCloseTo(1.0355, 4);
    const rebuilt = fromRecord(err.toJSON());
    expect(rebuilt).toBeInstanceOf(PrivacyBudgetError);
    expect(rebuilt.message).toBe(err.message);
  });

  test('the cap counts what earlier rounds already spent', () => {
    const spent = new RdpAccountant().compose(0.01, 4, 6000);
    const plan = { sampleRate: 0.01, noiseMultiplier: 4, steps: 4000, delta: 1e-5 };
    // Alone the plan is well under 1.0; on top of 6000 earlier steps it reaches 1.0355.
    expect(assertWithinBudget(plan, 1.0)).toBeLessThan(1.0);
    expect(() => assertWithinBudget(plan, 1.0, spent)).toThrow(PrivacyBudgetError);
    expect(spent.rdp).toEqual(computeRdp(0.01, 4, 6000)); // the check spends nothing
  });

  test('a sigma solved for the whole plan is not refused on a later round, and one more round is', () => {
    const sigma = sigmaForEpsilon(0.2, 100, 1e-5, 3);
    const plan = { sampleRate: 0.2, noiseMultiplier: sigma, steps: 25, delta: 1e-5 };
    const acc = new RdpAccountant();
    for (let round = 0; round < 4; round++) {
      assertWithinBudget(plan, 3, acc);
      acc.compose(0.2, sigma, 25);
    }
    expect(acc.spent(1e-5).epsilon).toBeLessThanOrEqual(3 * (1 + 1e-9));
    expect(() => assertWithinBudget(plan, 3, acc)).toThrow(PrivacyBudgetError);
  });

  test('sigmaForEpsilon inverts epsilon: recovers sigma = 4 from the Abadi setting', () => {
    const sigma = sigmaForEpsilon(0.01, 10_000, 1e-5, 1.0354900660362967);
    expect(sigma).toBeGreaterThanOrEqual(4);
    expect(sigma).toBeLessThan(4 * (1 + 2e-4));
    expect(epsilon(0.01, sigma, 10_000, 1e-5)).toBeLessThanOrEqual(1.0354900660362967);
  });

  test('sigmaForEpsilon returns a sigma meeting the target for the DP-SGD setting used at B', () => {
    for (const [q, steps, target] of [
      [0.2, 100, 3],
      [0.05, 400, 1],
      [1, 20, 3],
      [0.5, 10, 50],
    ] as const) {
      const sigma = sigmaForEpsilon(q, steps, 1e-5, target);
      const eps = epsilon(q, sigma, steps, 1e-5);
      expect(eps).toBeLessThanOrEqual(target);
      expect(eps).toBeGreaterThan(target * 0.995);
    }
  });
});
