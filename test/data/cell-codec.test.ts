// The cell codec's limits (issue 14 item 7): a string cell takes one plaintext, so it holds
// at most maxStringBytes(bits of n) UTF-8 bytes (255 at 2048 bits); one byte more, or a
// number past the fixed-point budget, is an EncodingOverflowError naming column and row,
// never the cell. Only bitLength(n) matters for strings, so any odd n of that size serves.
import { describe, expect, test } from 'vitest';
import {
  type CellEncoding,
  decodeCell,
  decodeSignedCell,
  encodeCell,
  encodeCells,
  encodingFor,
  maxStringBytes,
} from '../../src/data/cell-codec.js';
import type { Column } from '../../src/data/table.js';
import { EncodingOverflowError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

const modulus = (bits: number) => (1n << BigInt(bits - 1)) + 2n * 1234567n + 1n;
const STRING = encodingFor('string');

test.each([
  [1024, 127],
  [2048, 255],
  [3072, 383],
  [4096, 511],
])('maxStringBytes(%i) is %i', (bits, bytes) => {
  expect(maxStringBytes(bits)).toBe(bytes);
});

describe.each([1024, 2048])('string cells under a %i-bit n', (bits) => {
  const n = modulus(bits);
  const limit = maxStringBytes(bits);

  test('a cell of exactly the limit round-trips, leading zero bytes and UTF-8 included', () => {
    for (const cell of ['\u0000'.repeat(limit), `${'é'.repeat((limit - 1) / 2)}a`]) {
      expect(Buffer.byteLength(cell, 'utf8')).toBe(limit);
      const x = encodeCell(cell, STRING, n);
      expect(x < n / 2n).toBe(true);
      expect(decodeCell(x, STRING, n)).toBe(cell);
    }
  });

  test('one byte more is refused, counting UTF-8 bytes rather than characters', () => {
    for (const cell of ['x'.repeat(limit + 1), 'é'.repeat((limit + 1) / 2)]) {
      const err = thrown(() => encodeCell(cell, STRING, n));
      expect(err).toBeInstanceOf(EncodingOverflowError);
      expect(err.code).toBe('ENCODING_OVERFLOW');
      expect(err.details).toEqual({ bytes: limit + 1, limit });
    }
  });
});

describe('encodeCells', () => {
  const n = modulus(2048);

  test('encodes a column cell by cell', () => {
    const column: Column = { name: 'k', type: 'integer', values: [0n, -7n, (1n << 63n) - 1n] };
    const encoded = encodeCells(column, encodingFor('integer'), n);
    expect(encoded.map((x) => decodeCell(x, encodingFor('integer'), n))).toEqual(column.values);
  });

  test('a string cell past the limit names the column and 1-based row, never the cell', () => {
    const secret = `s3cr3t-${'z'.repeat(300)}`;
    const column: Column = { name: 'note', type: 'string', values: ['short', secret, 'ok'] };
    const err = thrown(() => encodeCells(column, STRING, n));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.code).toBe('ENCODING_OVERFLOW');
    expect(err.details).toEqual({ column: 'note', row: 2, bytes: 307, limit: 255 });
    expect(err.message).toMatch(/^column "note", row 2: string cell of 307 UTF-8 bytes: at most 255/);
    expect(err.message).not.toContain('s3cr3t');
  });

  test('a number past the fixed-point budget names its row too', () => {
    const column: Column = { name: 'x', type: 'integer', values: [1n, 2n, 1n << 2100n] };
    const err = thrown(() => encodeCells(column, encodingFor('integer'), n));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.details).toMatchObject({ column: 'x', row: 3 });
  });
});

describe('decodeSignedCell', () => {
  const n = modulus(2048);

  test('is decodeCell of the signed value mod n, for every column type', () => {
    const cases: [CellEncoding, bigint[]][] = [
      [encodingFor('integer'), [0n, 1n, -1n, (1n << 63n) - 1n, -(1n << 63n), (n - 1n) / 2n, -(n - 1n) / 2n]],
      [encodingFor('decimal'), [0n, 3n, -3n, (1n << 95n) + 12345n, -(1n << 95n) - 12345n, (n - 1n) / 2n]],
      [{ type: 'decimal', fractionBits: 0 }, [5n, -5n]],
      [STRING, [encodeCell('zé', STRING, n)]],
    ];
    for (const [encoding, values] of cases) {
      for (const s of values) {
        expect(decodeSignedCell(s, encoding, n)).toStrictEqual(decodeCell(s < 0n ? n + s : s, encoding, n));
      }
    }
  });
});
