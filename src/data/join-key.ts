// Join keys: one canonical string per (possibly multi-column) key, so equal keys give
// equal bytes. The hashed mode maps it into ristretto255 under the owners' HMAC key
// (src/ec/hash-to-group.ts, DESIGN §3.2); the nested mode folds it (nested-key.ts, §3.1).
// Invariants: integer and string parts never collide (type-tagged), multi-column keys
// are length-prefixed so no concatenation is ambiguous, decimal keys are refused.
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { Table } from './table.js';

export type KeyPart = bigint | string;

export const JOIN_SECRET_BYTES = 32;
/** A shorter secret would make the tags guessable by enumeration. */
export const MIN_JOIN_SECRET_BYTES = 16;

// A lone surrogate becomes U+FFFD in UTF-8, so two different strings would collide.
const LONE_SURROGATE = /\p{Cs}/u;

/** A part as type tag + UTF-8 length + text: 'i2:42', 's5:Alice'. */
export function canonicalKeyPart(value: KeyPart): string {
  let tag: string;
  let text: string;
  if (typeof value === 'bigint') {
    tag = 'i';
    text = value.toString(); // no leading zeros; a bigint has no negative zero
  } else if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) {
      throw new InvalidArgumentError('join key: string contains a lone UTF-16 surrogate');
    }
    tag = 's';
    text = value.normalize('NFC').trim();
  } else {
    throw new InvalidArgumentError(
      `join key: expected a bigint or string, got a ${typeof value}` +
        (typeof value === 'number' ? ' (decimal columns cannot be join keys)' : ''),
    );
  }
  return `${tag}${Buffer.byteLength(text, 'utf8')}:${text}`;
}

/** The canonical form of a whole key: its parts' canonical forms, in column order. */
export function canonicalKey(parts: readonly KeyPart[]): string {
  if (parts.length === 0) throw new InvalidArgumentError('join key: expected at least one part');
  return parts.map(canonicalKeyPart).join('');
}

/** A fresh 256-bit join secret K for the owners to share (never A or B). */
export function generateJoinSecret(): Buffer {
  return randomBytes(JOIN_SECRET_BYTES);
}

/** The key of every row of `table` over `columns` (integer or string columns only). */
export function keyParts(table: Table, columns: readonly string[]): KeyPart[][] {
  if (columns.length === 0) throw new InvalidArgumentError('join key: expected at least one column');
  const cols = columns.map((name) => {
    const column = table.column(name);
    if (column.type === 'decimal') {
      throw new InvalidArgumentError(
        `table ${table.name}, column ${JSON.stringify(name)}: decimal columns cannot be join keys`,
        { column: name },
      );
    }
    return column.values as readonly KeyPart[];
  });
  return Array.from({ length: table.rowCount }, (_, i) => cols.map((values) => values[i]));
}
