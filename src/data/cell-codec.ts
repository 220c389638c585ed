// One cell <-> one plaintext in Z_n, for every column type: integers exactly and decimals
// in fixed point (fixed-point.ts, DESIGN §2), strings as their UTF-8 bytes behind a 0x01
// marker byte (so leading zero bytes survive), below n/2 like every other encoding, hence
// at most maxStringBytes(bits of n) bytes. Equal cells give equal plaintexts. A numeric
// cell's encoded magnitude is below 2^CELL_MAGNITUDE_BITS, the slot every packed feature
// and total is sized from (DESIGN §2). A cell that does not fit is an EncodingOverflowError
// naming its column and row, never its value.

import { bitLength } from '../engine/limbs.js';
import { EncodingOverflowError, MalformedMessageError } from '../errors.js';
import { decodeInteger, decodeValue, encodeValue, signedToNumber } from './fixed-point.js';
import type { Cell, Column, ColumnType } from './table.js';

export interface CellEncoding {
  type: ColumnType;
  /** 0 for integers and strings. */
  fractionBits: number;
}

/** Fraction bits used for decimals when the owner does not choose (DESIGN §2: F = 32). */
export const DECIMAL_FRACTION_BITS = 32;
/** How many times a value may be summed or scaled: the encoding's overflow budget. */
export const DEFAULT_TERMS = 2 ** 32;
/**
 * |round(v 2^F)| < 2^64 for every numeric cell: 64-bit integers, decimals below 2^32 at the
 * default F = 32 (Q32.32). A and B size packed slots from it (src/join/packing.ts), so the
 * owner refuses a cell past it at encryption rather than let it carry into a neighbour.
 */
export const CELL_MAGNITUDE_BITS = 64;

export function encodingFor(type: ColumnType): CellEncoding {
  return { type, fractionBits: type === 'decimal' ? DECIMAL_FRACTION_BITS : 0 };
}

/**
 * The longest string cell, in UTF-8 bytes, under a modulus of `nBits` bits: marker and
 * bytes (8 * bytes + 1 bits) must stay below n/2 (nBits - 2 bits). 255 at 2048 bits, 383 at
 * 3072, 511 at 4096. Strings are only ever stored at A (B never decrypts one: they are
 * neither summed nor features), so one plaintext per cell is all they need.
 */
export function maxStringBytes(nBits: number): number {
  return Math.floor((nBits - 3) / 8);
}

export function encodeCell(value: Cell, encoding: CellEncoding, n: bigint, terms = DEFAULT_TERMS): bigint {
  if (encoding.type === 'string') return encodeString(value as string, n);
  const x = encodeValue(value as number | bigint, n, { fractionBits: encoding.fractionBits, terms });
  const magnitude = x > n >> 1n ? n - x : x;
  if (bitLength(magnitude) > CELL_MAGNITUDE_BITS) {
    throw new EncodingOverflowError(
      `${encoding.type} cell: an encoded magnitude of ${bitLength(magnitude)} bits passes the ` +
        `${CELL_MAGNITUDE_BITS} bits of a numeric cell (F = ${encoding.fractionBits})`,
      { bits: bitLength(magnitude), valueBits: CELL_MAGNITUDE_BITS },
    );
  }
  return x;
}

/** Every cell of `column`; a cell that does not fit names the column and its 1-based row. */
export function encodeCells(
  column: Column,
  encoding: CellEncoding,
  n: bigint,
  terms = DEFAULT_TERMS,
): bigint[] {
  return column.values.map((value, i) => {
    try {
      return encodeCell(value, encoding, n, terms);
    } catch (err) {
      if (!(err instanceof EncodingOverflowError)) throw err;
      const where = { column: column.name, row: i + 1 };
      throw new EncodingOverflowError(
        `column ${JSON.stringify(column.name)}, row ${where.row}: ${err.message}`,
        {
          ...err.details,
          ...where,
        },
      );
    }
  });
}

/** The cell a plaintext decodes to: bigint for integers, number for decimals, string. */
export function decodeCell(x: bigint, encoding: CellEncoding, n: bigint): Cell {
  if (encoding.type === 'string') return decodeString(x);
  if (encoding.type === 'integer') return decodeInteger(x, n, 0);
  return decodeValue(x, n, encoding.fractionBits);
}

/**
 * decodeCell of the plaintext s mod n for a signed s in (-n/2, n/2), as an unpacked slot
 * holds it: a numeric cell is read from s itself, not mapped into [0, n) and back.
 */
export function decodeSignedCell(s: bigint, encoding: CellEncoding, n: bigint): Cell {
  if (encoding.type === 'string') return decodeString(s < 0n ? n + s : s);
  if (encoding.type === 'integer') return s;
  return signedToNumber(s, encoding.fractionBits);
}

function encodeString(value: string, n: bigint): bigint {
  const bytes = Buffer.from(value, 'utf8');
  const limit = maxStringBytes(bitLength(n));
  if (bytes.length > limit) {
    throw new EncodingOverflowError(
      `string cell of ${bytes.length} UTF-8 bytes: at most ${limit} fit one plaintext under a ` +
        `${bitLength(n)}-bit key (shorten the cells, or leave the column out of the shared columns)`,
      { bytes: bytes.length, limit },
    );
  }
  return BigInt(`0x01${bytes.toString('hex')}`);
}

function decodeString(x: bigint): string {
  const hex = x.toString(16);
  if (hex.length % 2 !== 1 || !hex.startsWith('1'))
    throw new MalformedMessageError('plaintext is not an encoded string');
  return Buffer.from(hex.slice(1), 'hex').toString('utf8');
}
