// Input validation before any arithmetic (DESIGN §2): types, ranges, batch lengths and
// coprimality, each failure a typed error that names the element and its bit length,
// never its value.
import {
  BatchLengthError,
  CiphertextRangeError,
  InvalidArgumentError,
  PlaintextRangeError,
} from '../errors.js';
import { gcd } from './keys.js';
import { bitLength, lessThanWords, type PackedBatch, readWords, toWords } from './limbs.js';

function describe(x: bigint): string {
  return x < 0n ? 'a negative value' : `a ${bitLength(x)}-bit value`;
}

function requireArray(values: unknown, name: string): asserts values is readonly unknown[] {
  if (!Array.isArray(values)) throw new InvalidArgumentError(`${name}: expected an array of bigint`);
}

function requireBigint(x: unknown, name: string, i: number): asserts x is bigint {
  if (typeof x !== 'bigint')
    throw new InvalidArgumentError(`${name}[${i}]: expected a bigint, got ${typeof x}`);
}

export function checkSameLength(a: readonly unknown[], b: readonly unknown[], names: [string, string]): void {
  if (a.length !== b.length) {
    throw new BatchLengthError(`${names[0]} has ${a.length} values but ${names[1]} has ${b.length}`, {
      [names[0]]: a.length,
      [names[1]]: b.length,
    });
  }
}

/** Every m in [0, n). */
export function checkPlaintexts(values: unknown, n: bigint, name = 'plaintexts'): readonly bigint[] {
  requireArray(values, name);
  for (let i = 0; i < values.length; i++) {
    const m = values[i];
    requireBigint(m, name, i);
    if (m < 0n || m >= n) {
      throw new PlaintextRangeError(
        `${name}[${i}]: expected 0 <= m < n (${bitLength(n)} bits), got ${describe(m)}`,
        {
          index: i,
        },
      );
    }
  }
  return values as readonly bigint[];
}

/**
 * Every c in [1, n^2) and coprime to n. With the private key's primes that is c mod p != 0
 * and c mod q != 0 per value (two cheap remainders); without them, one gcd of the batch's
 * product mod n (n = pq, so the product is coprime iff every factor is), and only when that
 * fails is the offending index located.
 */
export function checkCiphertexts(
  values: unknown,
  n: bigint,
  name = 'ciphertexts',
  primes?: { p: bigint; q: bigint },
): readonly bigint[] {
  requireArray(values, name);
  const n2 = n * n;
  for (let i = 0; i < values.length; i++) {
    const c = values[i];
    requireBigint(c, name, i);
    if (c < 1n || c >= n2) throw ciphertextRange(name, i, n2, c);
  }
  const cs = values as readonly bigint[];
  checkCoprime(cs.length, (i) => cs[i], n, name, primes);
  return cs;
}

/** checkCiphertexts for a packed batch: the range word by word, coprimality as there. */
export function checkPackedCiphertexts(
  batch: PackedBatch,
  n: bigint,
  name = 'ciphertexts',
  primes?: { p: bigint; q: bigint },
): void {
  const n2 = n * n;
  const n2Words = toWords(n2, batch.words);
  const value = (i: number) => batch.data.subarray(i * batch.words, (i + 1) * batch.words);
  for (let i = 0; i < batch.count; i++) {
    const c = value(i);
    if (!c.some((w) => w !== 0) || !lessThanWords(c, n2Words)) {
      throw ciphertextRange(name, i, n2, readWords(c, 0, batch.words));
    }
  }
  checkCoprime(batch.count, (i) => readWords(batch.data, i * batch.words, batch.words), n, name, primes);
}

function ciphertextRange(name: string, i: number, n2: bigint, c: bigint): CiphertextRangeError {
  return new CiphertextRangeError(
    `${name}[${i}]: expected 1 <= c < n^2 (${bitLength(n2)} bits), got ${describe(c)}`,
    { index: i },
  );
}

function checkCoprime(
  count: number,
  value: (i: number) => bigint,
  n: bigint,
  name: string,
  primes?: { p: bigint; q: bigint },
): void {
  const shared = (i: number) =>
    new CiphertextRangeError(`${name}[${i}]: shares a factor with n`, { index: i });
  if (primes) {
    for (let i = 0; i < count; i++) {
      const c = value(i);
      if (c % primes.p === 0n || c % primes.q === 0n) throw shared(i);
    }
    return;
  }
  let product = 1n;
  for (let i = 0; i < count; i++) product = (product * value(i)) % n;
  if (count > 0 && gcd(product, n) !== 1n) {
    for (let i = 0; i < count; i++) if (gcd(value(i), n) !== 1n) throw shared(i);
  }
}

/**
 * Every packed plaintext below n, compared word by word: the packed form exists so that
 * callers need not convert to bigint, and neither does its validation.
 */
export function checkPackedPlaintexts(batch: PackedBatch, n: bigint, name = 'plaintexts'): void {
  const nWords = toWords(n, batch.words);
  for (let i = 0; i < batch.count; i++) {
    const value = batch.data.subarray(i * batch.words, (i + 1) * batch.words);
    if (!lessThanWords(value, nWords)) {
      const m = readWords(value, 0, batch.words);
      throw new PlaintextRangeError(
        `${name}[${i}]: expected 0 <= m < n (${bitLength(n)} bits), got ${describe(m)}`,
        {
          index: i,
        },
      );
    }
  }
}

/** Non-negative bigint exponents: one, or one per value. */
export function checkExponents(values: unknown, count: number, name = 'exponents'): readonly bigint[] {
  const list = typeof values === 'bigint' ? [values] : values;
  requireArray(list, name);
  if (typeof values !== 'bigint' && list.length !== count) {
    throw new BatchLengthError(`${name} has ${list.length} values but the batch has ${count}`, {
      [name]: list.length,
      count,
    });
  }
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    requireBigint(e, name, i);
    if (e < 0n)
      throw new InvalidArgumentError(`${name}[${i}]: expected a non-negative exponent`, { index: i });
  }
  return list as readonly bigint[];
}

/** An odd modulus of 2 to 8192 bits (the kernels' Montgomery range). */
export function checkModulus(modulus: unknown): bigint {
  if (typeof modulus !== 'bigint') throw new InvalidArgumentError('modulus: expected a bigint');
  if (modulus < 3n || modulus % 2n === 0n) {
    throw new InvalidArgumentError(`modulus: expected an odd integer >= 3, got ${describe(modulus)}`);
  }
  if (bitLength(modulus) > 8192)
    throw new InvalidArgumentError(`modulus: ${bitLength(modulus)} bits, at most 8192 supported`);
  return modulus;
}

/** Bases for modPow: bigints in [0, modulus). */
export function checkBases(values: unknown, modulus: bigint): readonly bigint[] {
  requireArray(values, 'bases');
  for (let i = 0; i < values.length; i++) {
    const b = values[i];
    requireBigint(b, 'bases', i);
    if (b < 0n || b >= modulus) {
      throw new InvalidArgumentError(`bases[${i}]: expected 0 <= b < modulus, got ${describe(b)}`, {
        index: i,
      });
    }
  }
  return values as readonly bigint[];
}
