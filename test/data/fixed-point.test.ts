import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_FRACTION_BITS,
  decodeColumn,
  decodeInteger,
  decodeValue,
  encodeColumn,
  encodeValue,
  encodeValues,
  maxEncodedMagnitude,
  toSigned,
} from '../../src/data/fixed-point.js';
import { generateKeys } from '../../src/engine/keys.js';
import { EncodingOverflowError, InvalidArgumentError, PlaintextRangeError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

// The encoding needs only an odd n of the right size; these are fixed, so failures reproduce.
const N1024 = (1n << 1023n) + (1n << 600n) + 12345n * 2n + 1n;
const N2048 = (1n << 2047n) + (1n << 1500n) + 98765n * 2n + 1n;

describe.each([
  [1024, N1024],
  [2048, N2048],
])('fixed point at %i bits', (bits, n) => {
  const F = DEFAULT_FRACTION_BITS;
  const half = (n - 1n) / 2n;

  test('0 and -0 encode to 0', () => {
    expect(encodeValue(0, n)).toBe(0n);
    expect(encodeValue(-0, n)).toBe(0n);
    expect(encodeValue(0n, n)).toBe(0n);
    expect(decodeValue(0n, n)).toBe(0);
  });

  test('negatives are n - |x| and decode below zero', () => {
    expect(encodeValue(-1.5, n)).toBe(n - 3n * (1n << BigInt(F - 1)));
    expect(decodeValue(encodeValue(-1.5, n), n)).toBe(-1.5);
    expect(encodeValue(-1n, n, { fractionBits: 0 })).toBe(n - 1n);
    expect(toSigned(n - 1n, n)).toBe(-1n);
  });

  test('tiny values round half away from zero at 2^-F', () => {
    expect(encodeValue(2 ** -(F + 1), n)).toBe(1n);
    expect(encodeValue(-(2 ** -(F + 1)), n)).toBe(n - 1n);
    expect(encodeValue(2 ** -(F + 2), n)).toBe(0n);
    expect(encodeValue(Number.MIN_VALUE, n)).toBe(0n);
    expect(encodeValue(-Number.MIN_VALUE, n)).toBe(0n);
    expect(decodeValue(1n, n)).toBe(2 ** -F);
    expect(encodeValue(2.5, n, { fractionBits: 0 })).toBe(3n);
    expect(encodeValue(-2.5, n, { fractionBits: 0 })).toBe(n - 3n);
    expect(encodeValue(2.4999999, n, { fractionBits: 0 })).toBe(2n);
  });

  test('decodeInvertsEncode within half a unit of 2^-F', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), (v) => {
        const back = decodeValue(encodeValue(v, n), n);
        return Math.abs(back - v) <= 2 ** -(F + 1) * (1 + Math.abs(v) * 2 ** -40);
      }),
      { numRuns: 200 },
    );
  });

  test('encodeIsOddSymmetric: encode(-v) = n - encode(v)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e15, max: 1e15, noNaN: true }), (v) => {
        const a = encodeValue(v, n);
        const b = encodeValue(-v, n);
        return a === 0n ? b === 0n : b === n - a;
      }),
      { numRuns: 200 },
    );
  });

  test('integers are exact at any F', () => {
    const big = (1n << BigInt(bits - 100)) + 12345n;
    for (const f of [0, F]) {
      expect(decodeInteger(encodeValue(big, n, { fractionBits: f }), n, f)).toBe(big);
      expect(decodeInteger(encodeValue(-big, n, { fractionBits: f }), n, f)).toBe(-big);
    }
    expect(encodeValue(2 ** 53, n, { fractionBits: 0 })).toBe(1n << 53n);
    expect(decodeValue(encodeValue(123456789, n), n)).toBe(123456789);
  });

  test('decodeInteger rounds a non-multiple of 2^F half away from zero', () => {
    const x = 5n * (1n << BigInt(F)) + (1n << BigInt(F - 1));
    expect(decodeInteger(x, n, F)).toBe(6n);
    expect(decodeInteger(n - x, n, F)).toBe(-6n);
    expect(decodeInteger(x - 1n, n, F)).toBe(5n);
  });

  test('decodeValue is finite for magnitudes past 2^1024 when F brings them back', () => {
    if (bits < 2048) return;
    expect(decodeValue(1n << 1100n, n, 100)).toBe(2 ** 1000);
    expect(decodeValue(n - (3n << 1100n), n, 110)).toBe(-3 * 2 ** 990);
    expect(decodeValue(encodeValue(-(1n << 1100n), n, { fractionBits: 0 }), n, 0)).toBe(-Infinity);
  });

  test('the budget boundary: |x| * terms <= (n - 1) / 2', () => {
    expect(maxEncodedMagnitude(n)).toBe(half);
    expect(encodeValue(half, n, { fractionBits: 0 })).toBe(half);
    expect(encodeValue(-half, n, { fractionBits: 0 })).toBe(half + 1n);
    expect(decodeInteger(half + 1n, n)).toBe(-half);
    expect(thrown(() => encodeValue(half + 1n, n, { fractionBits: 0 }))).toBeInstanceOf(
      EncodingOverflowError,
    );
    expect(thrown(() => encodeValue(-(half + 1n), n, { fractionBits: 0 }))).toBeInstanceOf(
      EncodingOverflowError,
    );
    for (const terms of [2, 3n, 1000]) {
      const max = maxEncodedMagnitude(n, terms);
      expect(max * BigInt(terms) <= half).toBe(true);
      expect((max + 1n) * BigInt(terms) > half).toBe(true);
      expect(encodeValue(max, n, { fractionBits: 0, terms })).toBe(max);
      const err = thrown(() => encodeValue(max + 1n, n, { fractionBits: 0, terms }));
      expect(err).toBeInstanceOf(EncodingOverflowError);
      expect(err.code).toBe('ENCODING_OVERFLOW');
    }
    // A double of 2^1000 with 2^(bits - 1002) terms fills 2^(bits - 2) <= half; three times that does not.
    const terms = 1n << BigInt(bits - 1002);
    expect(encodeValue(2 ** 1000, n, { fractionBits: 0, terms })).toBe(1n << 1000n);
    expect(thrown(() => encodeValue(2 ** 1000, n, { fractionBits: 0, terms: terms * 3n }))).toBeInstanceOf(
      EncodingOverflowError,
    );
  });

  test('NaN and infinities are EncodingOverflowError', () => {
    for (const v of [Number.NaN, Infinity, -Infinity]) {
      const err = thrown(() => encodeValue(v, n));
      expect(err).toBeInstanceOf(EncodingOverflowError);
      expect(err.code).toBe('ENCODING_OVERFLOW');
    }
  });

  test('overflow messages give bit sizes, not the value', () => {
    const secret = (half + 1n) * 7n;
    const err = thrown(() => encodeValues([1n, 2n, secret], n, { fractionBits: 0 }));
    expect(err.message).toMatch(/^values\[2\]: encoded magnitude of \d+ bits/);
    expect(err.message).not.toContain(secret.toString());
  });

  test('decode rejects plaintexts outside [0, n)', () => {
    for (const x of [n, -1n, n * 2n]) {
      const err = thrown(() => decodeValue(x, n));
      expect(err).toBeInstanceOf(PlaintextRangeError);
      expect(err.code).toBe('PLAINTEXT_RANGE');
    }
  });

  test('columns: integers at F = 0, decimals at F = 32, both round-trip', () => {
    const ints = encodeColumn({ name: 'k', type: 'integer', values: [0n, -7n, 1n << 80n] }, n);
    expect(ints.fractionBits).toBe(0);
    expect(ints.values[1]).toBe(n - 7n);
    expect(decodeColumn('integer', ints.values, n)).toEqual([0n, -7n, 1n << 80n]);
    const decs = encodeColumn({ name: 'x', type: 'decimal', values: [0.25, -3.5] }, n);
    expect(decs.fractionBits).toBe(F);
    expect(decodeColumn('decimal', decs.values, n)).toEqual([0.25, -3.5]);
    const scaled = encodeColumn({ name: 'k', type: 'integer', values: [3n] }, n, { fractionBits: 16 });
    expect(scaled.values).toEqual([3n << 16n]);
    expect(decodeColumn('integer', scaled.values, n, 16)).toEqual([3n]);
  });
});

describe('fixed point argument checks', () => {
  const bad: [string, () => unknown][] = [
    ['an even n', () => encodeValue(1, 1n << 1024n)],
    ['n below 3', () => encodeValue(0, 1n)],
    ['a number n', () => encodeValue(1, 1001 as unknown as bigint)],
    ['negative fractionBits', () => encodeValue(1, N1024, { fractionBits: -1 })],
    ['fractional fractionBits', () => encodeValue(1, N1024, { fractionBits: 1.5 })],
    ['fractionBits past 1022', () => decodeValue(1n, N1024, 1023)],
    ['zero terms', () => encodeValue(1, N1024, { terms: 0 })],
    ['negative terms', () => maxEncodedMagnitude(N1024, -2n)],
    ['fractional terms', () => encodeValue(1, N1024, { terms: 1.5 })],
    ['a string value', () => encodeValue('1' as unknown as number, N1024)],
    ['a string column', () => encodeColumn({ name: 's', type: 'string', values: ['a'] }, N1024)],
  ];
  test.each(bad)('rejects %s with InvalidArgumentError', (_, fn) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  test('a column overflow names the column and index', () => {
    const err = thrown(() => encodeColumn({ name: 'big', type: 'integer', values: [1n, N1024] }, N1024));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.message).toMatch(/^column big\[1\]:/);
  });
});

describe('with a generated key', () => {
  let n: bigint;
  beforeAll(async () => {
    n = (await generateKeys(1024)).publicKey.n;
  });
  test('round-trips under a real Paillier modulus', () => {
    for (const v of [0, -0.125, 3.75, -1e9, 2 ** -32]) expect(decodeValue(encodeValue(v, n), n)).toBe(v);
  });
});
