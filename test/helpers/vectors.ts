// Loads the known-answer vectors of test/vectors/ (made by generate.py with Python's
// pow(), outside the project) as bigints, and builds paillier-bigint keys from them.
import { readFileSync } from 'node:fs';
import { PrivateKey, PublicKey } from 'paillier-bigint';

const dir = new URL('../vectors/', import.meta.url);

function read(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
}

const big = (hex: string): bigint => BigInt(hex);

export interface ModPowGroup {
  label: string;
  bits: number;
  modulus: bigint;
  bases: bigint[];
  exponentLabels: string[];
  exponents: bigint[];
  /** results[i][j] = bases[i]^exponents[j] mod modulus */
  results: bigint[][];
}

interface RawModPow {
  source: string;
  groups: {
    label: string;
    bits: number;
    modulus: string;
    bases: string[];
    exponentLabels: string[];
    exponents: string[];
    results: string[][];
  }[];
}

export function modPowVectors(): { source: string; groups: ModPowGroup[] } {
  const raw = read('modpow.json') as RawModPow;
  return {
    source: raw.source,
    groups: raw.groups.map((g) => ({
      label: g.label,
      bits: g.bits,
      modulus: big(g.modulus),
      bases: g.bases.map(big),
      exponentLabels: g.exponentLabels,
      exponents: g.exponents.map(big),
      results: g.results.map((row) => row.map(big)),
    })),
  };
}

export interface PaillierCase {
  label: string;
  m: bigint;
  r: bigint;
  c: bigint;
}

export interface PaillierVectorKey {
  variant: 'g=n+1' | 'random g';
  bits: number;
  p: bigint;
  q: bigint;
  n: bigint;
  g: bigint;
  lambda: bigint;
  mu: bigint;
  cases: PaillierCase[];
  publicKey: PublicKey;
  privateKey: PrivateKey;
}

interface RawPaillier {
  source: string;
  bits: number;
  keys: {
    variant: 'g=n+1' | 'random g';
    p: string;
    q: string;
    n: string;
    g: string;
    lambda: string;
    mu: string;
    cases: { label: string; m: string; r: string; c: string }[];
  }[];
}

export function paillierVectors(bits: 1024 | 2048 | 3072 | 4096): {
  source: string;
  keys: PaillierVectorKey[];
} {
  const raw = read(`paillier-${bits}.json`) as RawPaillier;
  return {
    source: raw.source,
    keys: raw.keys.map((k) => {
      const n = big(k.n);
      const g = big(k.g);
      const p = big(k.p);
      const q = big(k.q);
      const lambda = big(k.lambda);
      const mu = big(k.mu);
      const publicKey = new PublicKey(n, g);
      return {
        variant: k.variant,
        bits: raw.bits,
        p,
        q,
        n,
        g,
        lambda,
        mu,
        cases: k.cases.map((c) => ({ label: c.label, m: big(c.m), r: big(c.r), c: big(c.c) })),
        publicKey,
        privateKey: new PrivateKey(lambda, mu, publicKey, p, q),
      };
    }),
  };
}
