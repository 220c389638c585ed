// Key fixtures for the engine tests: fedjoin keys (g = n + 1, equal-size primes) and
// paillier-bigint's generateRandomKeys keys (random g, |p| = |q| + 1), each with the
// KeyMaterial the kernel tasks take.
import { generateRandomKeys, PrivateKey, PublicKey } from 'paillier-bigint';
import { generateKeys, type KeyMaterial, privateMaterial, publicMaterial } from '../../src/engine/keys.js';
import { modInverse, modPowBig, randomBelow } from '../../src/engine/modular.js';

export interface KeyFixture {
  /** e.g. '1024-bit g=n+1' */
  label: string;
  bits: number;
  publicKey: PublicKey;
  privateKey: PrivateKey;
  /** public material (n, g) */
  pub: KeyMaterial;
  /** private material (n, g, p, q) */
  priv: KeyMaterial;
}

export function fixture(label: string, publicKey: PublicKey, privateKey: PrivateKey): KeyFixture {
  return {
    label,
    bits: publicKey.n.toString(2).length,
    publicKey,
    privateKey,
    pub: publicMaterial(publicKey),
    priv: privateMaterial(privateKey),
  };
}

/** fedjoin's own key: g = n + 1. */
export async function fedjoinKey(bits: number): Promise<KeyFixture> {
  const { publicKey, privateKey } = await generateKeys(bits);
  return fixture(`${bits}-bit g=n+1`, publicKey, privateKey);
}

/** paillier-bigint's default key: random g, |p| = |q| + 1. */
export async function randomGKey(bits: number): Promise<KeyFixture> {
  const { publicKey, privateKey } = await generateRandomKeys(bits);
  return fixture(`${bits}-bit random g`, publicKey, privateKey);
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/**
 * A second key on the same primes with another generator g = (a n + 1) b^n mod n^2
 * (paillier-bigint's construction); lambda = lcm(p-1, q-1), mu = L(g^lambda)^-1.
 */
export function sameModulusOtherG(p: bigint, q: bigint): { publicKey: PublicKey; privateKey: PrivateKey } {
  const n = p * q;
  const n2 = n * n;
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  for (;;) {
    const a = randomBelow(n - 1n) + 1n;
    const b = randomBelow(n - 2n) + 2n;
    if (gcd(b, n) !== 1n) continue;
    const g = ((a * n + 1n) * modPowBig(b, n, n2)) % n2;
    const l = (modPowBig(g, lambda, n2) - 1n) / n;
    if (gcd(l, n) !== 1n) continue;
    const publicKey = new PublicKey(n, g);
    return { publicKey, privateKey: new PrivateKey(lambda, modInverse(l, n), publicKey, p, q) };
  }
}
