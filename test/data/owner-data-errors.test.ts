// An owner's data problems end as exit 7 (issue 14 item 7): a CSV that cannot be read or
// parsed, a NULL or mistyped cell, a column the options name that the table lacks, a string
// cell too long for one plaintext (refused when the owner encrypts, naming column and row).
// Usage mistakes stay exit 2.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exitCodeForError } from '../../src/cli/exit-codes.js';
import { loadCsv, parseCsv } from '../../src/data/csv.js';
import { Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import {
  CsvError,
  EncodingOverflowError,
  type FedjoinError,
  InvalidArgumentError,
  MissingColumnError,
  NullValueError,
} from '../../src/errors.js';
import { createFederation, type Federation } from '../../src/roles/federation.js';
import { rejection, thrown } from '../helpers/thrown.js';

let engine: Engine;
let fed: Federation;

beforeAll(async () => {
  engine = await createEngine({ workers: 1, encryption: 'djn' });
  fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 1 } });
});
afterAll(async () => engine.close());

const visits = () =>
  new Table('visits', [
    { name: 'id', type: 'integer', values: [1n, 2n, 3n] },
    { name: 'note', type: 'string', values: ['ok', `private-${'x'.repeat(200)}`, 'fine'] },
  ]);

describe('when the owner encrypts', () => {
  test('a string cell past the limit names column and row, never the cell, and exits 7', async () => {
    const err = await rejection(fed.owner('o').encryptTable(visits(), { joinKeys: [['id']] }));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.code).toBe('ENCODING_OVERFLOW');
    expect(err.details).toEqual({ column: 'note', row: 2, bytes: 208, limit: 127 });
    expect(err.message).not.toContain('private');
    expect(exitCodeForError(err)).toBe(7);
  });

  test('the same table without that column encrypts', async () => {
    const message = await fed.owner('o').encryptTable(visits(), { joinKeys: [['id']], columns: [] });
    expect(message.rowCount).toBe(3);
  });

  test.each([
    ['a value column', { columns: ['nope'] }],
    ['a join key column', { joinKeys: [['id', 'nope']], columns: [] }],
  ])('%s the table lacks is a MissingColumnError, exit 7', async (_, options) => {
    const err = await rejection(fed.owner('o').encryptTable(visits(), options));
    expect(err).toBeInstanceOf(MissingColumnError);
    expect(err.code).toBe('MISSING_COLUMN');
    expect(err.details).toEqual({ column: 'nope' });
    expect(exitCodeForError(err)).toBe(7);
  });
});

describe('exit codes of data and usage errors', () => {
  const cases: [string, () => unknown, new (...a: never[]) => FedjoinError, number][] = [
    ['an unreadable file', () => loadCsv('/nonexistent/visits.csv'), CsvError, 7],
    ['a ragged row', () => parseCsv('t', 'a,b\n1\n'), CsvError, 7],
    ['a typo in a numeric column', () => parseCsv('t', 'a\n1\n2\nx3\n'), CsvError, 7],
    ['a NULL cell', () => parseCsv('t', 'a\nNULL\n'), NullValueError, 7],
    ['a missing column', () => visits().column('nope'), MissingColumnError, 7],
    [
      'an unknown schema type',
      () => parseCsv('t', 'a\n1\n', { schema: { a: 'float' as 'string' } }),
      InvalidArgumentError,
      2,
    ],
  ];
  test.each(cases)('%s', (_, fn, Class, exit) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(Class);
    expect(exitCodeForError(err)).toBe(exit);
  });
});
