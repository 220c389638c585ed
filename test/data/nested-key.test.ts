// The nested join's folded keys (DESIGN §3.1, issue 11 item 1): a one-column integer key
// exactly, any other key as HMAC-SHA256_K(label || canonical key), 256 bits below n/2;
// equal canonical keys fold equal (the hashed tags' canonical form), others apart.
import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { canonicalKey } from '../../src/data/join-key.js';
import { foldKey, NESTED_KEY_BITS, nestedKeyPlaintexts } from '../../src/data/nested-key.js';
import { Table } from '../../src/data/table.js';
import { tagHashes } from '../../src/ec/hash-to-group.js';
import { EncodingOverflowError, InvalidArgumentError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

const N = (1n << 1023n) + 2n * 77777n + 1n;
const SECRET = Buffer.alloc(32, 7);

const visits = () =>
  new Table('visits', [
    { name: 'pid', type: 'integer', values: [7n, -3n, 7n, 7n] },
    { name: 'site', type: 'string', values: ['Zürich', ' Basel', 'Zu\u0308rich ', 'Basel'] },
    { name: 'w', type: 'decimal', values: [1, 2, 3, 4] },
  ]);

const hmac = (message: string) =>
  BigInt(`0x${createHmac('sha256', SECRET).update(`fedjoin/nested-key/v1\u0000${message}`).digest('hex')}`);

describe('folded nested-mode keys', () => {
  test('a one-column integer key is encoded exactly, negatives as n - |k|', () => {
    expect(foldKey([42n], N, SECRET)).toBe(42n);
    expect(foldKey([-3n], N, SECRET)).toBe(N - 3n);
  });

  test('a string or multi-column key is HMAC-SHA256_K(label || canonical key), all 256 bits', () => {
    expect(foldKey([' Alice'], N, SECRET)).toBe(hmac('s5:Alice'));
    expect(foldKey([7n, 'Zürich'], N, SECRET)).toBe(hmac(canonicalKey([7n, 'Zürich'])));
    expect(foldKey([7n, 'x', 2n], N, SECRET)).toBe(hmac('i1:7s1:xi1:2'));
    expect(foldKey(['z'], N, SECRET) < 1n << BigInt(NESTED_KEY_BITS)).toBe(true);
    // the hashed tag's HMAC of the same key under the same secret is another value
    const tagHash = tagHashes([canonicalKey(['Alice'])], SECRET).subarray(0, 32);
    expect(foldKey(['Alice'], N, SECRET)).not.toBe(BigInt(`0x${Buffer.from(tagHash).toString('hex')}`));
  });

  test('folds equal canonical keys equal and others apart', () => {
    const folded = nestedKeyPlaintexts(visits(), ['pid', 'site'], N, SECRET);
    expect(folded[0]).toBe(folded[2]); // NFC and trimming: the hashed mode's canonical key
    expect(new Set([folded[0], folded[1], folded[3]]).size).toBe(3);
    expect(foldKey(['ab', 'c'], N, SECRET)).not.toBe(foldKey(['a', 'bc'], N, SECRET));
    expect(foldKey([5n, 5n], N, SECRET)).not.toBe(foldKey(['5', 5n], N, SECRET));
    expect(foldKey([7n, 'x'], N, Buffer.alloc(32, 8))).not.toBe(foldKey([7n, 'x'], N, SECRET));
    expect(nestedKeyPlaintexts(visits(), ['pid'], N, SECRET)).toEqual([7n, N - 3n, 7n, 7n]);
  });

  test('an integer key past n/2 is EncodingOverflowError', () => {
    const err = thrown(() => foldKey([N], N, SECRET));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.code).toBe('ENCODING_OVERFLOW');
  });

  test.each([
    ['a short secret', () => foldKey(['a'], N, Buffer.alloc(15))],
    ['an n too small for 256-bit keys', () => foldKey(['a'], 1n << 257n, SECRET)],
    ['a decimal key column', () => nestedKeyPlaintexts(visits(), ['pid', 'w'], N, SECRET)],
    ["a table's short secret", () => nestedKeyPlaintexts(visits(), ['pid'], N, Buffer.alloc(15))],
    ["a table's n too small", () => nestedKeyPlaintexts(visits(), ['site'], 1n << 257n, SECRET)],
  ])('rejects %s with InvalidArgumentError', (_, fn) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});
