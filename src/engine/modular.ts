// Plain BigInt modular arithmetic: the obviously-correct reference the WASM kernels are
// checked against, and the one-off key set-up computations (inverses, constants).
// Randomness comes only from node:crypto.
import { randomBytes } from 'node:crypto';
import { bitLength } from './limbs.js';

/** base^e mod m by left-to-right square-and-multiply. */
export function modPowBig(base: bigint, e: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  let result = 1n;
  let b = base % m;
  if (b < 0n) b += m;
  for (let i = bitLength(e) - 1; i >= 0; i--) {
    result = (result * result) % m;
    if ((e >> BigInt(i)) & 1n) result = (result * b) % m;
  }
  return result;
}

/** a^-1 mod m (extended Euclid); throws if not invertible. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new RangeError('value is not invertible');
  return ((oldS % m) + m) % m;
}

/** Uniform in [0, bound) by rejection sampling over node:crypto bytes. */
export function randomBelow(bound: bigint): bigint {
  if (bound <= 0n) throw new RangeError('bound must be positive');
  const bits = bitLength(bound);
  const bytes = Math.ceil(bits / 8);
  const excess = BigInt(bytes * 8 - bits);
  for (;;) {
    const x = BigInt(`0x${randomBytes(bytes).toString('hex')}`) >> excess;
    if (x < bound) return x;
  }
}

/** Uniform with exactly `bits` random bits (top bit may be 0). */
export function randomBits(bits: number): bigint {
  const bytes = Math.ceil(bits / 8);
  return BigInt(`0x${randomBytes(bytes).toString('hex')}`) >> BigInt(bytes * 8 - bits);
}
