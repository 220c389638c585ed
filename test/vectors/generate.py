#!/usr/bin/env python3
"""Known-answer vectors for fedjoin, computed outside the project.

Every answer comes from Python's built-in three-argument pow() and plain integer
arithmetic, so none of fedjoin's code (TypeScript, AssemblyScript or paillier-bigint) is
involved. Primes come from a seeded Miller-Rabin search below, so the files are
reproducible: `python3 test/vectors/generate.py` rewrites them byte for byte (Python 3.11).
Not run in CI; the JSON files are committed.

Outputs (values as 0x-prefixed lowercase hex strings):
  modpow.json          pow(base, e, N) for odd N of 64..8192 bits, bases {0, 1, N-1, random},
                       exponents {0, 1, all ones, random}
  paillier-<bits>.json Paillier keys from fixed primes and c = g^m r^n mod n^2;
                       1024 and 2048 bits with g = n + 1 (|p| = |q|) and a random g
                       (|p| = |q| + 1, as paillier-bigint's generateRandomKeys makes them);
                       3072 and 4096 bits with g = n + 1 only
"""

import json
import math
import os
import random
import subprocess

SEED = 20240917
OUT_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE = (
    "test/vectors/generate.py (seed %d): Python 3 built-in pow() and integer arithmetic, "
    "primes by seeded Miller-Rabin; independent of fedjoin and paillier-bigint" % SEED
)

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def hx(x):
    return "0x%x" % x


def is_probable_prime(n, rng, rounds=40):
    if n < 2:
        return False
    for sp in SMALL_PRIMES:
        if n % sp == 0:
            return n == sp
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def random_prime(bits, rng, top_two=False):
    """A prime of exactly `bits` bits (top two bits set when top_two, so p*q keeps 2*bits)."""
    while True:
        x = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if top_two:
            x |= 1 << (bits - 2)
        if is_probable_prime(x, rng):
            return x


def lcm(a, b):
    return a // math.gcd(a, b) * b


def modpow_vectors(rng):
    # (label, modulus): a random odd modulus of each size class with its top bit set,
    # plus moduli whose words are all 0xffffffff (2^64 - 1, 2^1024 - 1) and the
    # Mersenne prime 2^127 - 1
    moduli = []
    for bits in (64, 127, 1024, 2048, 4096, 8192):
        moduli.append(("random", rng.getrandbits(bits) | (1 << (bits - 1)) | 1))
    moduli.insert(1, ("2^64-1", (1 << 64) - 1))
    moduli.insert(3, ("2^127-1", (1 << 127) - 1))
    moduli.insert(5, ("2^1024-1", (1 << 1024) - 1))
    groups = []
    for label, n in moduli:
        bits = n.bit_length()
        bases = [0, 1, n - 1, rng.randrange(2, n - 1)]
        exponents = [
            ("zero", 0),
            ("one", 1),
            ("ones64", (1 << 64) - 1),
            ("ones", (1 << bits) - 1),
            ("random", rng.getrandbits(bits) | (1 << (bits - 1))),
        ]
        groups.append(
            {
                "label": label,
                "bits": bits,
                "modulus": hx(n),
                "bases": [hx(b) for b in bases],
                "exponentLabels": [name for name, _ in exponents],
                "exponents": [hx(e) for _, e in exponents],
                # results[i][j] = pow(bases[i], exponents[j], modulus)
                "results": [[hx(pow(b, e, n)) for _, e in exponents] for b in bases],
            }
        )
    return {"source": SOURCE, "groups": groups}


def random_unit(n, rng):
    while True:
        r = rng.randrange(2, n - 1)
        if math.gcd(r, n) == 1:
            return r


def paillier_key(bits, variant, rng):
    if variant == "g=n+1":
        # fedjoin's own keys: equal-size primes, n exactly `bits` bits
        while True:
            p = random_prime(bits // 2, rng, top_two=True)
            q = random_prime(bits // 2, rng, top_two=True)
            if p != q and (p * q).bit_length() == bits:
                break
        n = p * q
        g = n + 1
        lam = (p - 1) * (q - 1)
        mu = pow(lam, -1, n)
        return p, q, n, g, lam, mu
    # paillier-bigint's generateRandomKeys: |p| = bits/2 + 1, |q| = bits/2, retried until
    # n has exactly `bits` bits; g = (a n + 1) b^n mod n^2 for random a, b
    while True:
        p = random_prime(bits // 2 + 1, rng)
        q = random_prime(bits // 2, rng)
        if p != q and (p * q).bit_length() == bits:
            break
    n = p * q
    n2 = n * n
    lam = lcm(p - 1, q - 1)
    while True:
        a = rng.randrange(1, n)
        b = random_unit(n, rng)
        g = (a * n + 1) * pow(b, n, n2) % n2
        lg = (pow(g, lam, n2) - 1) // n
        if math.gcd(lg, n) == 1:
            break
    mu = pow(lg, -1, n)
    return p, q, n, g, lam, mu


def paillier_vectors(bits, variants, rng):
    keys = []
    for variant in variants:
        p, q, n, g, lam, mu = paillier_key(bits, variant, rng)
        n2 = n * n
        plaintexts = [
            ("zero", 0, random_unit(n, rng)),
            ("one", 1, random_unit(n, rng)),
            ("n-1", n - 1, random_unit(n, rng)),
            ("random", rng.randrange(2, n - 1), random_unit(n, rng)),
            ("2^32k", 1 << (32 * ((bits // 2) // 32)), random_unit(n, rng)),
            # a multiple of p: D(c) mod p = 0, so the zero test's 1/p error case
            ("p", p, random_unit(n, rng)),
            ("r=1", rng.randrange(2, n - 1), 1),
            ("r=n-1", rng.randrange(2, n - 1), n - 1),
        ]
        if bits > 2048:
            plaintexts = plaintexts[:3]
        cases = []
        for label, m, r in plaintexts:
            c = pow(g, m, n2) * pow(r, n, n2) % n2
            cases.append({"label": label, "m": hx(m), "r": hx(r), "c": hx(c)})
        keys.append(
            {
                "variant": variant,
                "p": hx(p),
                "q": hx(q),
                "n": hx(n),
                "g": hx(g),
                "lambda": hx(lam),
                "mu": hx(mu),
                "cases": cases,
            }
        )
    return {"source": SOURCE, "bits": bits, "keys": keys}


def write(name, data):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    print("%s: %d bytes" % (name, os.path.getsize(path)))


def main():
    rng = random.Random(SEED)
    names = ["modpow.json"]
    write("modpow.json", modpow_vectors(rng))
    for bits, variants in ((1024, ("g=n+1", "random g")), (2048, ("g=n+1", "random g")),
                           (3072, ("g=n+1",)), (4096, ("g=n+1",))):
        names.append("paillier-%d.json" % bits)
        write(names[-1], paillier_vectors(bits, variants, rng))
    # layout only (the values are fixed above): the project's formatter, so lint passes
    root = os.path.dirname(os.path.dirname(OUT_DIR))
    paths = [os.path.join("test", "vectors", name) for name in names]
    try:
        subprocess.run(["npx", "biome", "format", "--write", *paths], cwd=root, check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        print("biome format failed (%s): run `npx biome format --write test/vectors`" % err)


if __name__ == "__main__":
    main()
