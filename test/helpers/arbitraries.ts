// fast-check bigint arbitraries biased to edges (STYLE G5): about a quarter of the draws
// are 0, 1, the range ends (n - 1, n^2 - 1), 2^k and 2^k +- 1 at limb boundaries, or
// values whose top word, at the range's word stride, is 0 or 0xffffffff (clamped into the
// range). The rest are uniform in the range.
import fc from 'fast-check';

const WORD = 32n;
const ALL_ONES = 0xffffffffn;

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function wordsOf(x: bigint): number {
  return Math.max(1, Math.ceil(bitLength(x) / 32));
}

/** Edge values in [min, max]: the ends, 0, 1, 2, and 2^k - 1, 2^k, 2^k + 1 at limb boundaries. */
export function edgeValues(min: bigint, max: bigint): bigint[] {
  const top = bitLength(max);
  const candidates: bigint[] = [min, min + 1n, min + 2n, max, max - 1n, max - 2n, 0n, 1n, 2n];
  const positions = new Set<number>([1, 2, top - 1, top, top + 1]);
  for (let k = 32; k <= top + 32; k += 32) positions.add(k);
  for (const k of positions) {
    if (k < 0) continue;
    const p = 1n << BigInt(k);
    candidates.push(p - 1n, p, p + 1n);
  }
  const words = wordsOf(max);
  // top word 0 at the stride: every lower word 0xffffffff
  if (words > 1) candidates.push((1n << (WORD * BigInt(words - 1))) - 1n);
  // top word 0xffffffff at the stride, lower words 0 (fits only when max's top word is all ones)
  candidates.push(ALL_ONES << (WORD * BigInt(words - 1)));
  const unique = new Set(candidates.filter((x) => x >= min && x <= max));
  return [...unique].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Values built word by word at max's word stride: each word 0, 0xffffffff or random, the
 * top word 0, 0xffffffff or random; values above max are clamped to max, below min to min.
 */
export function limbShaped(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  const words = wordsOf(max);
  const word = fc.oneof(fc.constant(0n), fc.constant(ALL_ONES), fc.bigInt(0n, ALL_ONES));
  return fc.array(word, { minLength: words, maxLength: words }).map((ws) => {
    let x = 0n;
    for (let j = words - 1; j >= 0; j--) x = (x << WORD) | ws[j];
    return x > max ? max : x < min ? min : x;
  });
}

/** A bigint in [min, max], edge-biased about a quarter of the time. */
export function bigIntIn(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  if (max < min) throw new RangeError(`bigIntIn: empty range [${min}, ${max}]`);
  const edges = edgeValues(min, max);
  return fc.oneof(
    { weight: 3, arbitrary: fc.bigInt(min, max) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...edges), limbShaped(min, max)) },
  );
}

/** A Paillier plaintext in [0, n). */
export function plaintext(n: bigint): fc.Arbitrary<bigint> {
  return bigIntIn(0n, n - 1n);
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** A ciphertext-shaped value in [1, n^2) coprime to n (edges: 1, n + 1, n^2 - 1, limb shapes). */
export function ciphertext(n: bigint): fc.Arbitrary<bigint> {
  const n2 = n * n;
  return fc
    .oneof({ weight: 7, arbitrary: bigIntIn(1n, n2 - 1n) }, { weight: 1, arbitrary: fc.constant(n + 1n) })
    .filter((c) => gcd(c, n) === 1n);
}

/** A unit r in [1, n), the standard encryption randomness. */
export function unitBelow(n: bigint): fc.Arbitrary<bigint> {
  return bigIntIn(1n, n - 1n).filter((r) => gcd(r, n) === 1n);
}

/** An exponent of at most maxBits bits (edges: 0, 1, all ones, 2^k +- 1). */
export function exponent(maxBits: number): fc.Arbitrary<bigint> {
  return bigIntIn(0n, (1n << BigInt(maxBits)) - 1n);
}

/** An odd modulus of exactly `bits` bits (edges: 2^bits - 1, 2^(bits-1) + 1, all-ones words). */
export function oddModulus(bits: number): fc.Arbitrary<bigint> {
  const lo = 1n << BigInt(bits - 1);
  return bigIntIn(lo, (lo << 1n) - 1n).map((x) => x | 1n);
}

/** A base in [0, modulus). */
export function base(modulus: bigint): fc.Arbitrary<bigint> {
  return bigIntIn(0n, modulus - 1n);
}
