// The nested-loop join's key plaintexts (DESIGN §3.1, issue 11 item 1): one plaintext per row
// and declared key, however many columns the key has, so a pair costs one exponentiation.
// Invariants: the key is the hashed join's canonical key (join-key.ts canonicalKey); a
// one-column integer key is encoded exactly, any other key is HMAC-SHA256 under the owners'
// join secret, all 256 bits, below n/2 (collision bound: docs/DECISIONS.md, "Join keys").
import { createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { encodeValue } from './fixed-point.js';
import { canonicalKey, type KeyPart, keyParts, MIN_JOIN_SECRET_BYTES } from './join-key.js';
import type { Table } from './table.js';

/** Bits of a folded key: the whole HMAC-SHA256 output. */
export const NESTED_KEY_BITS = 256;

// The hashed tags HMAC the same canonical keys under the same secret: a label of its own
// keeps the two modes' values unrelated (neither is ever seen in the clear by A or B).
const FOLD_LABEL = 'fedjoin/nested-key/v1\u0000';

/**
 * §3.1: one key (its parts in the declared column order) as a plaintext < n/2 whose equality
 * is the canonical key's equality: a lone integer exactly (F = 0; |k| < n/2, else
 * EncodingOverflowError), anything else HMAC-SHA256_K(label || canonical key) as a 256-bit
 * integer (n must exceed 2^257).
 */
export function foldKey(parts: readonly KeyPart[], n: bigint, secret: Uint8Array): bigint {
  checkFolding(n, secret);
  return fold(parts, n, secret);
}

/** §3.1: the nested-mode plaintext of every row of `table` for the key over `columns`. */
export function nestedKeyPlaintexts(
  table: Table,
  columns: readonly string[],
  n: bigint,
  secret: Uint8Array,
): bigint[] {
  const keys = keyParts(table, columns);
  // the same secret and n for every row: checked once, and (as per row) not for no rows
  if (keys.length > 0) checkFolding(n, secret);
  return keys.map((parts) => fold(parts, n, secret));
}

function checkFolding(n: bigint, secret: Uint8Array): void {
  if (!(secret instanceof Uint8Array) || secret.length < MIN_JOIN_SECRET_BYTES) {
    throw new InvalidArgumentError(`join secret: expected at least ${MIN_JOIN_SECRET_BYTES} bytes`);
  }
  if (n <= 1n << BigInt(NESTED_KEY_BITS + 1)) {
    throw new InvalidArgumentError(`n: must exceed 2^${NESTED_KEY_BITS + 1} to hold folded join keys`);
  }
}

function fold(parts: readonly KeyPart[], n: bigint, secret: Uint8Array): bigint {
  if (parts.length === 1 && typeof parts[0] === 'bigint')
    return encodeValue(parts[0], n, { fractionBits: 0 });
  const digest = createHmac('sha256', secret)
    .update(FOLD_LABEL, 'utf8')
    .update(canonicalKey(parts), 'utf8')
    .digest();
  return BigInt(`0x${digest.toString('hex')}`);
}
