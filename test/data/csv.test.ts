import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { inferColumnType, loadCsv, parseCell, parseCsv } from '../../src/data/csv.js';
import { CsvError, type FedjoinError, InvalidArgumentError, NullValueError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

describe('inferColumnType', () => {
  test.each([
    [['1', '-2', '007'], 'integer'],
    [['1', '2.5'], 'decimal'],
    [['-1e3', '.5', '+4', '3.'], 'decimal'],
    [['1', 'x'], 'string'],
    [['1', '2', 'x'], 'integer'],
    [['1', '2.5', 'n/a'], 'decimal'],
    [['a', 'b', '3'], 'string'],
    [['0x1F'], 'string'],
    [['Infinity'], 'string'],
    [['NaN'], 'string'],
    [['1e400'], 'string'],
    [['1 2'], 'string'],
    [[], 'integer'],
  ])('%j is %s', (cells, type) => {
    expect(inferColumnType(cells)).toBe(type);
  });
});

describe('parseCell', () => {
  test('parses each type or returns undefined', () => {
    expect(parseCell('integer', '-12345678901234567890')).toBe(-12345678901234567890n);
    expect(parseCell('integer', '1.0')).toBeUndefined();
    expect(parseCell('decimal', '1.5e2')).toBe(150);
    expect(parseCell('decimal', 'abc')).toBeUndefined();
    expect(parseCell('string', '007')).toBe('007');
  });
});

describe('parseCsv', () => {
  test('infers integer, decimal and string columns', () => {
    const t = parseCsv('t', 'id,x,name\n1,0.5,ann\n18446744073709551617,-2,"b, c"\n');
    expect(t.schema).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'x', type: 'decimal' },
      { name: 'name', type: 'string' },
    ]);
    expect(t.column('id').values).toEqual([1n, 18446744073709551617n]);
    expect(t.column('x').values).toEqual([0.5, -2]);
    expect(t.column('name').values).toEqual(['ann', 'b, c']);
  });

  test('takes CRLF, a BOM, quoted newlines, blank lines and spaces around fields', () => {
    const t = parseCsv('t', '\uFEFFk , s\r\n 1 ,"two\nlines"\r\n\r\n2,"  kept  "\r\n');
    expect(t.columnNames).toEqual(['k', 's']);
    expect(t.column('k').values).toEqual([1n, 2n]);
    expect(t.column('s').values).toEqual(['two\nlines', '  kept  ']);
  });

  test('an explicit schema overrides inference for the columns it names', () => {
    const t = parseCsv('t', 'zip,n,m\n007,1,2\n', { schema: { zip: 'string', n: 'decimal' } });
    expect(t.schema.map((c) => c.type)).toEqual(['string', 'decimal', 'integer']);
    expect(t.column('zip').values).toEqual(['007']);
    expect(t.column('n').values).toEqual([1]);
  });

  test('a header-only file is an empty table; another delimiter works', () => {
    expect(parseCsv('t', 'a,b\n', { schema: { a: 'string' } }).rowCount).toBe(0);
    expect(parseCsv('t', 'a;b\n1;2\n', { delimiter: ';' }).row(0)).toEqual([1n, 2n]);
  });

  test('integers lose leading zeros and the sign of zero', () => {
    expect(parseCsv('t', 'k\n007\n-0\n-12\n').column('k').values).toEqual([7n, 0n, -12n]);
  });

  test('a quoted all-space cell is NULL', () => {
    expect(thrown(() => parseCsv('t', 'a,b\n1,"   "\n'))).toBeInstanceOf(NullValueError);
  });

  test('custom null values', () => {
    expect(parseCsv('t', 'a\nNULL\n', { nullValues: ['-'] }).column('a').values).toEqual(['NULL']);
    expect(thrown(() => parseCsv('t', 'a\n-\n', { nullValues: ['-'] }))).toBeInstanceOf(NullValueError);
  });

  const bad: [string, string, object, new (...a: never[]) => FedjoinError, string, object][] = [
    ['ragged row', 'a,b\n1,2\n3\n', {}, CsvError, 'MALFORMED_CSV', { line: 3, row: 2, reason: 'ragged row' }],
    ['too many fields', 'a,b\n1,2,3\n', {}, CsvError, 'MALFORMED_CSV', { row: 1 }],
    [
      'schema names an unknown column',
      'a\n1\n',
      { schema: { b: 'integer' } },
      CsvError,
      'MALFORMED_CSV',
      { column: 'b' },
    ],
    [
      '"abc" in a decimal column',
      'a,x\n1,2\n2,abc\n',
      { schema: { x: 'decimal' } },
      CsvError,
      'MALFORMED_CSV',
      { line: 3, row: 2, column: 'x' },
    ],
    [
      '1.5 in an integer column',
      'a\n1.5\n',
      { schema: { a: 'integer' } },
      CsvError,
      'MALFORMED_CSV',
      { row: 1, column: 'a' },
    ],
    ['an empty cell', 'a,b\n1,\n', {}, NullValueError, 'NULL_VALUE', { row: 1, column: 'b' }],
    ['a quoted empty cell', 'a,b\n1,""\n', {}, NullValueError, 'NULL_VALUE', { column: 'b' }],
    ['a NULL cell', 'a,b\nnull,2\n', {}, NullValueError, 'NULL_VALUE', { column: 'a' }],
    ['an unclosed quote', 'a\n"x\n', {}, CsvError, 'MALFORMED_CSV', { reason: 'CSV_QUOTE_NOT_CLOSED' }],
    ['an empty file', '', {}, CsvError, 'MALFORMED_CSV', { reason: 'header' }],
    ['a duplicate header name', 'a,A\n1,2\n', {}, CsvError, 'MALFORMED_CSV', { column: 'A' }],
    ['an empty header name', 'a,\n1,2\n', {}, CsvError, 'MALFORMED_CSV', { reason: 'header' }],
    [
      'an unknown type in the schema',
      'a\n1\n',
      { schema: { a: 'float' } },
      InvalidArgumentError,
      'INVALID_ARGUMENT',
      { column: 'a' },
    ],
  ];
  test.each(bad)('rejects %s', (_, text, options, Class, code, details) => {
    const err = thrown(() => parseCsv('t', text, options));
    expect(err).toBeInstanceOf(Class);
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject(details);
  });

  describe('a numeric-looking column with a bad cell (issue 14 item 7)', () => {
    const text = 'id,dose,note\n1,10,a\n2,12,b\n3,1O,c\n4,9,5\n';

    test('is an error naming line, row and column, never the cell', () => {
      const err = thrown(() => parseCsv('t', text));
      expect(err).toBeInstanceOf(CsvError);
      expect(err.code).toBe('MALFORMED_CSV');
      expect(err.details).toEqual({ line: 4, row: 3, column: 'dose', reason: 'type', inferred: true });
      expect(err.message).toContain('line 4 (row 3), column "dose"');
      expect(err.message).toContain('give it type string in the schema');
      expect(err.message).not.toContain('1O');
    });

    test('a decimal-looking column names its bad cell too', () => {
      const err = thrown(() => parseCsv('t', 'x\n1.5\n2,5\n-3\n', { delimiter: ';' }));
      expect(err).toBeInstanceOf(CsvError);
      expect(err.details).toMatchObject({ line: 3, row: 2, column: 'x', inferred: true });
    });

    test('is read as text when the schema says string', () => {
      const t = parseCsv('t', text, { schema: { dose: 'string' } });
      expect(t.column('dose').values).toEqual(['10', '12', '1O', '9']);
      // a text column with a minority of number-like cells stays text without a schema
      expect(t.column('note', 'string').values).toEqual(['a', 'b', 'c', '5']);
    });
  });

  test('messages name row and column but never quote the cell', () => {
    const err = thrown(() => parseCsv('t', 'a,secret\n1,2\n2,hunter2\n', { schema: { secret: 'decimal' } }));
    expect(err.message).toContain('row 2');
    expect(err.message).toContain('"secret"');
    expect(err.message).not.toContain('hunter2');
  });
});

test('loadCsv refuses a file it cannot read with a CsvError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedjoin-csv-'));
  for (const path of [join(dir, 'missing.csv'), dir]) {
    const err = thrown(() => loadCsv(path));
    expect(err).toBeInstanceOf(CsvError);
    expect(err.details).toMatchObject({ path, reason: 'unreadable' });
  }
});

test('loadCsv names the table after the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fedjoin-csv-'));
  const path = join(dir, 'visits.csv');
  writeFileSync(path, 'id,v\n1,2.5\n');
  expect(loadCsv(path).name).toBe('visits');
  expect(loadCsv(path, { name: 'other' }).name).toBe('other');
});
