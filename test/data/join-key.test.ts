import { describe, expect, test } from 'vitest';
import { canonicalKey, canonicalKeyPart, generateJoinSecret, keyParts } from '../../src/data/join-key.js';
import { Table } from '../../src/data/table.js';
import { InvalidArgumentError, MissingColumnError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

const visits = () =>
  new Table('visits', [
    { name: 'pid', type: 'integer', values: [7n, -3n, 7n] },
    { name: 'site', type: 'string', values: ['Zürich', ' Basel', 'Zu\u0308rich '] },
    { name: 'w', type: 'decimal', values: [1, 2, 3] },
  ]);

describe('canonical keys', () => {
  test.each([
    ['an integer', 42n, 'i2:42'],
    ['-0', -0n, 'i1:0'],
    ['a negative integer', -120n, 'i4:-120'],
    ['a string', 'Alice', 's5:Alice'],
    ['a padded string (trimmed)', '  Alice \n', 's5:Alice'],
    ['a composed accent (2 UTF-8 bytes)', '\u00e9', 's2:\u00e9'],
    ['a decomposed accent (NFC)', 'e\u0301', 's2:\u00e9'],
    ['an empty string', '', 's0:'],
  ])('%s', (_, value, canonical) => {
    expect(canonicalKeyPart(value)).toBe(canonical);
  });

  test('multi-column keys are unambiguous and type-tagged', () => {
    expect(canonicalKey(['ab', 'c'])).not.toBe(canonicalKey(['a', 'bc']));
    expect(canonicalKey(['s1:', 'x'])).not.toBe(canonicalKey(['s1:x']));
    expect(canonicalKey([5n])).not.toBe(canonicalKey(['5']));
    expect(canonicalKey([1n, '2'])).toBe('i1:1s1:2');
  });

  const bad: [string, () => unknown][] = [
    ['no parts', () => canonicalKey([])],
    ['a number (decimal key)', () => canonicalKeyPart(1.5 as unknown as bigint)],
    ['a lone surrogate', () => canonicalKeyPart('a\uD800b')],
    ['a decimal key column', () => keyParts(visits(), ['w'])],
    ['no key columns', () => keyParts(visits(), [])],
  ];
  test.each(bad)('rejects %s with InvalidArgumentError', (_, fn) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
  });

  test('rejects an unknown key column with MissingColumnError', () => {
    const err = thrown(() => keyParts(visits(), ['nope']));
    expect(err).toBeInstanceOf(MissingColumnError);
    expect(err.code).toBe('MISSING_COLUMN');
  });
});

describe('keys of a table', () => {
  test('equal keys give equal canonical keys (the hashed tags and nested keys are of these)', () => {
    const keys = keyParts(visits(), ['pid', 'site']).map(canonicalKey);
    expect(keys[0]).toBe(keys[2]);
    expect(keys[0]).not.toBe(keys[1]);
  });

  test('generateJoinSecret gives 32 fresh bytes', () => {
    const a = generateJoinSecret();
    expect(a).toHaveLength(32);
    expect(a.equals(generateJoinSecret())).toBe(false);
  });

  test('keyParts reads rows in order', () => {
    expect(keyParts(visits(), ['site', 'pid'])[1]).toEqual([' Basel', -3n]);
  });
});
