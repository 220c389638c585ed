// Fixed-point encoding of numbers as Paillier plaintexts (DESIGN §2): x = round(v * 2^F)
// mod n, a negative v as n - |x|, decoded as negative above n/2. The rounding is exact
// (the double is taken apart into mantissa and exponent, half away from zero, so
// encode(-v) = n - encode(v)), bigints encode without loss at any F, and a value whose
// magnitude times its `terms` budget could pass n/2 is an EncodingOverflowError.
import { EncodingOverflowError, InvalidArgumentError, PlaintextRangeError } from '../errors.js';
import type { CellOf, Column } from './table.js';

export const DEFAULT_FRACTION_BITS = 32;
/** 2^F must stay a finite double for decoding. */
export const MAX_FRACTION_BITS = 1022;

export interface FixedPointOptions {
  /** F: bits after the binary point; default DEFAULT_FRACTION_BITS. */
  fractionBits?: number;
  /** How many values of this magnitude may be summed (or one scaled by this factor); default 1. */
  terms?: number | bigint;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function checkModulus(n: bigint): void {
  if (typeof n !== 'bigint' || n < 3n || n % 2n === 0n) {
    // Paillier's n is odd; an even n would make n/2 decode as both +n/2 and -n/2.
    throw new InvalidArgumentError('n: expected an odd bigint >= 3');
  }
}

function checkFractionBits(fractionBits: number): void {
  if (!Number.isInteger(fractionBits) || fractionBits < 0 || fractionBits > MAX_FRACTION_BITS) {
    throw new InvalidArgumentError(
      `fractionBits: expected an integer in [0, ${MAX_FRACTION_BITS}], got ${fractionBits}`,
    );
  }
}

function checkTerms(terms: number | bigint): bigint {
  const t = typeof terms === 'number' && Number.isSafeInteger(terms) ? BigInt(terms) : terms;
  if (typeof t !== 'bigint' || t < 1n) {
    throw new InvalidArgumentError(`terms: expected a positive integer, got ${String(terms)}`);
  }
  return t;
}

/**
 * The largest |x| that `terms` encoded values may each have so that their sum stays
 * within (-n/2, n/2), where decoding is unambiguous: floor(((n - 1) / 2) / terms).
 */
export function maxEncodedMagnitude(n: bigint, terms: number | bigint = 1): bigint {
  checkModulus(n);
  return (n - 1n) / 2n / checkTerms(terms);
}

/** round(|v| * 2^F), exactly, half away from zero. */
function scaledMagnitude(v: number, fractionBits: number): bigint {
  const a = Math.abs(v);
  if (a === 0) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exponent = -1074; // subnormal: a = mantissa * 2^-1074
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  const shift = exponent + fractionBits;
  if (shift >= 0) return mantissa << BigInt(shift);
  const k = BigInt(-shift);
  const q = mantissa >> k;
  return mantissa - (q << k) >= 1n << (k - 1n) ? q + 1n : q;
}

function encodeOne(
  v: number | bigint,
  n: bigint,
  fractionBits: number,
  terms: bigint,
  label: string,
): bigint {
  let magnitude: bigint;
  let negative: boolean;
  if (typeof v === 'bigint') {
    negative = v < 0n;
    magnitude = (negative ? -v : v) << BigInt(fractionBits);
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      throw new EncodingOverflowError(`${label}: expected a finite number, got ${String(v)}`);
    }
    negative = v < 0;
    magnitude = scaledMagnitude(v, fractionBits);
  } else {
    throw new InvalidArgumentError(`${label}: expected a number or bigint, got a ${typeof v}`);
  }
  if (magnitude * terms > (n - 1n) / 2n) {
    throw new EncodingOverflowError(
      `${label}: encoded magnitude of ${bitLength(magnitude)} bits times ${terms} terms could pass n/2 ` +
        `(n is ${bitLength(n)} bits, F = ${fractionBits})`,
      { bits: bitLength(magnitude), terms: terms.toString(), fractionBits },
    );
  }
  return negative && magnitude !== 0n ? n - magnitude : magnitude;
}

function resolve(n: bigint, options: FixedPointOptions): { fractionBits: number; terms: bigint } {
  checkModulus(n);
  const fractionBits = options.fractionBits ?? DEFAULT_FRACTION_BITS;
  checkFractionBits(fractionBits);
  return { fractionBits, terms: checkTerms(options.terms ?? 1) };
}

/** One value as a plaintext in [0, n). */
export function encodeValue(v: number | bigint, n: bigint, options: FixedPointOptions = {}): bigint {
  const { fractionBits, terms } = resolve(n, options);
  return encodeOne(v, n, fractionBits, terms, 'value');
}

/** Many values under one scale and budget; errors name the index. */
export function encodeValues(
  values: readonly (number | bigint)[],
  n: bigint,
  options: FixedPointOptions = {},
  label = 'values',
): bigint[] {
  const { fractionBits, terms } = resolve(n, options);
  return values.map((v, i) => encodeOne(v, n, fractionBits, terms, `${label}[${i}]`));
}

/** x in [0, n) as a signed integer in (-n/2, n/2). */
export function toSigned(x: bigint, n: bigint): bigint {
  checkModulus(n);
  if (typeof x !== 'bigint' || x < 0n || x >= n) {
    const bits = typeof x === 'bigint' ? `a ${bitLength(x < 0n ? -x : x)}-bit value` : `a ${typeof x}`;
    throw new PlaintextRangeError(`plaintext: expected 0 <= x < n, got ${bits}`);
  }
  return x > n >> 1n ? x - n : x;
}

/** x / 2^F as the nearest double (within one ulp beyond 2^1000). */
export function decodeValue(x: bigint, n: bigint, fractionBits = DEFAULT_FRACTION_BITS): number {
  checkFractionBits(fractionBits);
  return toNumber(toSigned(x, n), fractionBits);
}

/** decodeValue of the plaintext s mod n for a signed s in (-n/2, n/2), as an unpacked slot holds it. */
export function signedToNumber(s: bigint, fractionBits = DEFAULT_FRACTION_BITS): number {
  checkFractionBits(fractionBits);
  return toNumber(s, fractionBits);
}

function toNumber(s: bigint, fractionBits: number): number {
  let m = s < 0n ? -s : s;
  let extra = 0;
  // Number(bigint) overflows to Infinity past 2^1024; shifting first keeps 1000 bits.
  if (m >= 1n << 1000n) {
    extra = bitLength(m) - 1000;
    m >>= BigInt(extra);
  }
  const magnitude = Number(m) * 2 ** (extra - fractionBits);
  return s < 0n ? -magnitude : magnitude;
}

/** x / 2^F as a bigint, exact when 2^F divides it, else rounded half away from zero. */
export function decodeInteger(x: bigint, n: bigint, fractionBits = 0): bigint {
  checkFractionBits(fractionBits);
  const s = toSigned(x, n);
  if (fractionBits === 0) return s;
  const m = s < 0n ? -s : s;
  const k = BigInt(fractionBits);
  const q = m >> k;
  const rounded = m - (q << k) >= 1n << (k - 1n) ? q + 1n : q;
  return s < 0n ? -rounded : rounded;
}

export type NumericType = 'integer' | 'decimal';

/** A column's plaintexts with the scale they were encoded at. */
export interface EncodedColumn {
  readonly name: string;
  readonly type: NumericType;
  readonly fractionBits: number;
  readonly values: bigint[];
}

/** Integers encode exactly at F = 0 (sums stay integers); decimals at DEFAULT_FRACTION_BITS. */
export function defaultFractionBits(type: NumericType): number {
  return type === 'integer' ? 0 : DEFAULT_FRACTION_BITS;
}

/**
 * A numeric column as plaintexts. `fractionBits` defaults per type (defaultFractionBits);
 * pass one F for every column that enters the same linear combination (features, w . x).
 */
export function encodeColumn(column: Column, n: bigint, options: FixedPointOptions = {}): EncodedColumn {
  if (column.type === 'string') {
    throw new InvalidArgumentError(
      `column ${JSON.stringify(column.name)}: string columns have no fixed-point form; encode them as join keys`,
      { column: column.name },
    );
  }
  const fractionBits = options.fractionBits ?? defaultFractionBits(column.type);
  const values = encodeValues(column.values, n, { ...options, fractionBits }, `column ${column.name}`);
  return { name: column.name, type: column.type, fractionBits, values };
}

/** Decodes plaintexts back to cells of `type`: bigints for integer, doubles for decimal. */
export function decodeColumn<T extends NumericType>(
  type: T,
  values: readonly bigint[],
  n: bigint,
  fractionBits = defaultFractionBits(type),
): CellOf[T][] {
  const decode = type === 'integer' ? decodeInteger : decodeValue;
  return values.map((x) => decode(x, n, fractionBits)) as CellOf[T][];
}

/**
 * num / den as the nearest double (den > 0): the quotient is taken to 64 significant bits
 * in integers first, so a ratio of totals far past 2^53 keeps its precision.
 */
export function ratioToNumber(num: bigint, den: bigint): number {
  if (den <= 0n) throw new InvalidArgumentError('ratio: expected a positive denominator');
  if (num < 0n) return -ratioToNumber(-num, den);
  // shift so the integer quotient has at least 64 bits, then scale back exactly by 2^-shift
  const shift = Math.max(0, 64 - (bitLength(num) - bitLength(den)));
  const q = (num << BigInt(shift)) / den;
  return Number(q) / 2 ** shift;
}
