"""Independent reference values for src/fl/rdp-accountant.ts (not run in CI).

Computes the RDP of the Poisson-subsampled Gaussian mechanism from its DEFINITION in
multi-precision arithmetic (mpmath, 60 digits), not from the float log-space series the
TypeScript uses:
  A_alpha = E_{z ~ N(0, s^2)} [ ((1 - q) + q exp((2z - 1) / (2 s^2)))^alpha ]
(Mironov, Talwar, Zhang 2019, sec. 3), by numerical quadrature for every order, plus the exact
binomial sum for integer orders as a cross-check of the quadrature; RDP = log(A) / (alpha - 1).
Epsilon: improved conversion (Balle et al. 2020, Thm. 21) and classic (Mironov 2017, Prop. 3).

Run: python3 test/fl/reference/rdp_reference.py      (needs only mpmath; a few minutes)
Its printed values are the ones quoted in test/fl/rdp-accountant.test.ts.
"""

import math

from mpmath import mp, mpf, binomial, exp, log, quad, sqrt, pi, inf

mp.dps = 60


def a_quad(q, sigma, alpha):
    """A_alpha by quadrature of its definition; breakpoints where the integrand's mass sits."""
    q, sigma, alpha = mpf(q), mpf(sigma), mpf(alpha)

    def f(z):
        mu0 = exp(-z * z / (2 * sigma**2)) / (sigma * sqrt(2 * pi))
        return mu0 * ((1 - q) + q * exp((2 * z - 1) / (2 * sigma**2))) ** alpha

    # Mass near 0 (the N(0, s^2) part) and near z ~ alpha (the q e^{...} part).
    pts = sorted({mpf(-20) * sigma, mpf(0), mpf(20) * sigma, alpha / 2, alpha, 2 * alpha + 20 * sigma})
    return quad(f, [-inf] + pts + [inf], maxdegree=10)


def a_int(q, sigma, alpha):
    """A_alpha for integer alpha by the exact binomial sum (Mironov et al. 2019, sec. 3.3)."""
    q, sigma = mpf(q), mpf(sigma)
    return sum(
        binomial(alpha, i) * (1 - q) ** (alpha - i) * q**i * exp(mpf(i * i - i) / (2 * sigma**2))
        for i in range(alpha + 1)
    )


def rdp(q, sigma, steps, alpha, method="auto"):
    if q == 1:
        return steps * alpha / (2 * sigma**2)
    if method == "auto":
        method = "int" if float(alpha).is_integer() else "quad"
    a = a_int(q, sigma, int(alpha)) if method == "int" else a_quad(q, sigma, alpha)
    return float(steps * log(a) / (mpf(alpha) - 1))


def eps_from_rdp(orders, rdps, delta, conversion):
    best = (math.inf, None)
    for a, r in zip(orders, rdps):
        if conversion == "classic":
            e = r - math.log(delta) / (a - 1)
        elif r <= 0 or delta**2 + math.expm1(-r) > 0:
            e = 0.0
        elif a > 1.01:
            e = r + math.log1p(-1 / a) - math.log(delta * a) / (a - 1)
        else:
            e = math.inf
        if e < best[0]:
            best = (e, a)
    return best


def epsilon(q, sigma, steps, delta, orders, conversion="improved"):
    return eps_from_rdp(orders, [rdp(q, sigma, steps, a) for a in orders], delta, conversion)


# The order grids: fedjoin's default, the 2019 TF Privacy compute_dp_sgd_privacy grid, and
# the one in current TF Privacy compute_dp_sgd_privacy_lib.py.
FEDJOIN = [round(1 + x / 10, 1) for x in range(1, 100)] + list(range(11, 65)) + [80, 96, 128, 192, 256, 512, 1024]
TFP_2019 = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
TFP_LIB = [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5] + list(range(5, 64)) + [128, 256, 512]

if __name__ == "__main__":
    print("quadrature vs exact sum, integer orders:")
    for q, s, a in [(0.01, 4, 2), (0.01, 4, 32), (0.1, 2, 5), (0.004267, 1.1, 12), (0.01, 2.5, 100)]:
        print(f"  q={q} sigma={s} alpha={a}: quad {rdp(q, s, 1, a, 'quad'):.15g} exact {rdp(q, s, 1, a, 'int'):.15g}")

    print("log A (TF Privacy rdp_accountant_test.py test_compute_log_a_equals_mp params):")
    for q, s, a in [(1e-7, 0.1, 1.01), (1e-6, 0.1, 256), (1e-5, 0.1, 256.1), (1e-6, 1, 27), (1e-4, 1.0, 1.5),
                    (1e-3, 1.0, 2), (0.01, 10, 20), (0.1, 100, 20.5), (0.99, 0.1, 256), (0.999, 100, 256.1)]:
        m = "int" if float(a).is_integer() else "quad"
        la = a_int(q, s, int(a)) if m == "int" else a_quad(q, s, a)
        print(f"  q={q} sigma={s} alpha={a}: logA = {float(log(la)):.15g}")

    print("single-step RDP at fractional orders:")
    for q, s, a in [(0.01, 4, 1.5), (0.01, 4, 7.3), (0.1, 1.0, 2.5), (0.3, 0.8, 3.7), (0.004267, 1.1, 10.9)]:
        print(f"  q={q} sigma={s} alpha={a}: rdp = {rdp(q, s, 1, a):.15g}")

    print("TF Privacy rdp_accountant_test.py: compute_rdp(0.1, 2, 10, 5) =", rdp(0.1, 2, 10, 5))
    print("  compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]) =",
          [rdp(0.01, 2.5, 50, a) for a in [1.5, 2.5, 5, 50, 100]])

    print("Abadi et al. 2016 sec. 5.2: q=0.01 sigma=4 T=10000 delta=1e-5")
    for name, orders in [("fedjoin", FEDJOIN), ("alpha 2..33 (lambda<=32)", list(range(2, 34)))]:
        for conv in ["classic", "improved"]:
            print(f"  {name} {conv}: eps, order = {epsilon(0.01, 4, 10000, 1e-5, orders, conv)}")
    print("Abadi et al. 2016 sec. 5.2: 400 epochs (T=40000):",
          epsilon(0.01, 4, 40000, 1e-5, FEDJOIN, "classic"), epsilon(0.01, 4, 40000, 1e-5, FEDJOIN))

    q_tut, t_tut = 256 / 60000, math.ceil(60 * 60000 / 256)
    print(f"TF Privacy tutorial: q={q_tut} sigma=1.1 T={t_tut} delta=1e-5")
    for name, orders in [("TFP 2019 grid", TFP_2019), ("fedjoin", FEDJOIN)]:
        for conv in ["classic", "improved"]:
            print(f"  {name} {conv}: eps, order = {epsilon(q_tut, 1.1, t_tut, 1e-5, orders, conv)}")

    print("TF Privacy compute_dp_sgd_privacy_test.py (improved conversion, TFP_LIB grid):")
    for n, b, s, e, d in [(60000, 150, 1.3, 15, 1e-5), (100000, 100, 1.0, 30, 1e-7)]:
        print(f"  n={n} batch={b} sigma={s} epochs={e} delta={d}:",
              epsilon(b / n, s, math.ceil(e * n / b), d, TFP_LIB))
