// src/ec/ristretto.ts (DESIGN §3.2): RFC 9496 Appendix A known answers (multiples of the
// generator, invalid encodings, element derivation from 64 bytes), point and scalar
// validation, and randomScalars, with libsodium cross-checked against @noble/curves.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ecPublicKey } from '../../src/ec/elgamal.js';
import {
  assertPoint,
  assertPoints,
  assertScalar,
  assertScalars,
  fromHashBatch,
  randomScalars,
} from '../../src/ec/ristretto.js';
import { InvalidArgumentError, InvalidPointError } from '../../src/errors.js';
import { at, hex, ref } from '../helpers/ristretto-reference.js';

interface Vectors {
  source: string;
  multiplesOfGenerator: { encodings: string[] };
  invalidEncodings: { reason: string; encodings: string[] }[];
  fromHash: { vectors: { input: string; output: string }[] };
}

const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../vectors/ristretto255-rfc9496.json', import.meta.url), 'utf8'),
);
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** The scalar k < 256 as 32 little-endian bytes. */
function small(k: number): Uint8Array {
  const s = new Uint8Array(32);
  s[0] = k;
  return s;
}

/** A copy of `base` with byte `index` set to `value`. */
function withByte(base: Uint8Array, index: number, value: number): Uint8Array {
  const out = base.slice();
  out[index] = value;
  return out;
}

// L - 1 and L, little-endian
const L_MINUS_1 = bytes('ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
const L = bytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');

describe('RFC 9496 Appendix A', () => {
  it('A.1: k*G for k = 1..15 has the listed encoding; k = 0 (the identity) is refused', () => {
    const encodings = vectors.multiplesOfGenerator.encodings;
    for (let k = 1; k < encodings.length; k++) {
      expect(hex(ecPublicKey(small(k))), `k = ${k}`).toBe(encodings[k]);
      assertPoint(`${k}G`, bytes(encodings[k]));
    }
    expect(() => assertPoint('identity', bytes(encodings[0]))).toThrow(InvalidPointError);
  });

  it('A.2: every invalid encoding is refused with InvalidPointError, naming its index', () => {
    const all = vectors.invalidEncodings.flatMap((group) => group.encodings);
    expect(all).toHaveLength(29);
    for (const [i, encoding] of all.entries()) {
      const batch = new Uint8Array(3 * 32);
      batch.set(bytes(vectors.multiplesOfGenerator.encodings[1]), 0);
      batch.set(bytes(encoding), 32);
      batch.set(bytes(vectors.multiplesOfGenerator.encodings[2]), 64);
      try {
        assertPoints('points', batch);
        expect.unreachable(`invalid encoding ${i} accepted`);
      } catch (e) {
        expect(e, `encoding ${i}`).toBeInstanceOf(InvalidPointError);
        expect((e as InvalidPointError).code).toBe('INVALID_POINT');
        expect((e as InvalidPointError).details.index).toBe(1);
        expect((e as InvalidPointError).message).toBe(
          'points[1]: not a canonical ristretto255 encoding of a non-identity element',
        );
      }
    }
  });

  it('A.3: element derivation of 64 uniform bytes gives the listed points, in one batch', () => {
    const list = vectors.fromHash.vectors;
    const wide = Buffer.concat(list.map((v) => bytes(v.input)));
    const out = fromHashBatch(wide);
    expect(out).toHaveLength(32 * list.length);
    list.forEach((v, i) => {
      expect(hex(at(out, i)), `vector ${i}`).toBe(v.output);
    });
  });
});

describe('fromHashBatch', () => {
  it('matchesNoble: libsodium from_hash equals noble deriveToCurve on random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (wide) => {
        expect(hex(fromHashBatch(wide))).toBe(hex(ref.fromHash(wide)));
      }),
      { numRuns: 50 },
    );
  });

  it('takes batches of 0, 1 and many, and refuses a ragged buffer', () => {
    expect(fromHashBatch(new Uint8Array(0))).toHaveLength(0);
    const wide = randomBytes(64 * 17);
    const out = fromHashBatch(wide);
    for (const i of [0, 16])
      expect(hex(at(out, i))).toBe(hex(ref.fromHash(wide.subarray(64 * i, 64 * i + 64))));
    expect(hex(fromHashBatch(wide.subarray(0, 64)))).toBe(hex(at(out, 0)));
    expect(() => fromHashBatch(new Uint8Array(65))).toThrow(InvalidArgumentError);
  });
});

describe('scalar validation', () => {
  const table: [string, Uint8Array, boolean][] = [
    ['0', new Uint8Array(32), false],
    ['1', small(1), true],
    ['L - 1', L_MINUS_1, true],
    ['L', L, false],
    ['L + 1', withByte(L, 0, L[0] + 1), false],
    ['2^255 - 1', withByte(new Uint8Array(32).fill(0xff), 31, 0x7f), false],
    ['2^256 - 1', new Uint8Array(32).fill(0xff), false],
    ['2^252 (top byte as L, lower bytes 0)', withByte(new Uint8Array(32), 31, 0x10), true],
  ];
  for (const [label, scalar, valid] of table) {
    it(`${label} is ${valid ? 'accepted' : 'refused'}`, () => {
      if (valid) {
        expect(() => assertScalar('alpha', scalar)).not.toThrow();
      } else {
        expect(() => assertScalar('alpha', scalar)).toThrow(InvalidArgumentError);
        const batch = new Uint8Array(64);
        batch.set(small(1), 0);
        batch.set(scalar, 32);
        try {
          assertScalars('freshScalars', batch, 2);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidArgumentError);
          expect((e as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
          expect((e as InvalidArgumentError).details.index).toBe(1);
        }
      }
    });
  }

  it('refuses a scalar of the wrong length', () => {
    expect(() => assertScalar('alpha', new Uint8Array(31).fill(1))).toThrow(InvalidArgumentError);
  });
});

describe('randomScalars', () => {
  it('gives count canonical, distinct, non-zero scalars (count 0, 1, many)', () => {
    expect(randomScalars(0)).toHaveLength(0);
    expect(randomScalars(1)).toHaveLength(32);
    const many = randomScalars(64);
    expect(many).toHaveLength(64 * 32);
    assertScalars('many', many, 64);
    const distinct = new Set(Array.from({ length: 64 }, (_, i) => hex(at(many, i))));
    expect(distinct.size).toBe(64);
  });

  it('refuses a negative or fractional count', () => {
    for (const count of [-1, 1.5, Number.NaN]) {
      expect(() => randomScalars(count), String(count)).toThrow(InvalidArgumentError);
    }
  });
});

describe('point validation', () => {
  it('accepts random points and refuses a wrong length, naming the value', () => {
    const points = Buffer.concat(Array.from({ length: 5 }, () => ref.base(randomScalars(1))));
    expect(() => assertPoints('points', points)).not.toThrow();
    expect(() => assertPoint('publicKey', points.subarray(0, 31))).toThrow(InvalidArgumentError);
    expect(() => assertPoints('points', points.subarray(0, 33))).toThrow(InvalidArgumentError);
  });

  it('refuses the identity inside a batch, naming its index', () => {
    const points = new Uint8Array(3 * 32);
    points.set(ref.base(small(1)), 0);
    points.set(ref.base(small(2)), 64);
    try {
      assertPoints('points', points);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidPointError);
      expect((e as InvalidPointError).code).toBe('INVALID_POINT');
      expect((e as InvalidPointError).details).toEqual({ name: 'points', index: 1, component: undefined });
    }
  });
});
