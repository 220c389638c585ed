import { describe, expect, test } from 'vitest';
import { type Column, isCellOf, Table } from '../../src/data/table.js';
import { InvalidArgumentError, MissingColumnError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

const people = () =>
  new Table('people', [
    { name: 'id', type: 'integer', values: [1n, 2n, 3n] },
    { name: 'score', type: 'decimal', values: [0.5, -1.25, 3] },
    { name: 'name', type: 'string', values: ['ann', 'bob', 'cy'] },
  ]);

describe('Table', () => {
  test('exposes schema, columns and rows', () => {
    const t = people();
    expect(t.name).toBe('people');
    expect(t.rowCount).toBe(3);
    expect(t.columnNames).toEqual(['id', 'score', 'name']);
    expect(t.schema).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'score', type: 'decimal' },
      { name: 'name', type: 'string' },
    ]);
    expect(t.row(1)).toEqual([2n, -1.25, 'bob']);
    expect(t.rows()).toHaveLength(3);
    expect(t.has('score')).toBe(true);
    expect(t.has('SCORE')).toBe(false);
    const ids: readonly bigint[] = t.column('id', 'integer').values;
    expect(ids).toEqual([1n, 2n, 3n]);
  });

  test('project, takeRows (with repeats) and renamed make new tables', () => {
    const t = people();
    const p = t.project(['name', 'id'], 'p');
    expect(p.name).toBe('p');
    expect(p.columnNames).toEqual(['name', 'id']);
    const r = t.takeRows([2, 0, 2]);
    expect(r.column('name').values).toEqual(['cy', 'ann', 'cy']);
    expect(r.name).toBe('people');
    expect(t.renamed('q').name).toBe('q');
    expect(t.takeRows([]).rowCount).toBe(0);
  });

  test('fromRows builds the same table as columns', () => {
    const t = Table.fromRows('people', people().schema, people().rows());
    expect(t.rows()).toEqual(people().rows());
  });

  test('copies and freezes its input', () => {
    const values = [1n, 2n];
    const t = new Table('t', [{ name: 'k', type: 'integer', values }]);
    values[0] = 99n;
    expect(t.column('k').values[0]).toBe(1n);
    expect(Object.isFrozen(t.column('k').values)).toBe(true);
    expect(Object.isFrozen(t.columns)).toBe(true);
  });

  test('isCellOf checks each type', () => {
    expect(isCellOf('integer', 1n)).toBe(true);
    expect(isCellOf('integer', 1)).toBe(false);
    expect(isCellOf('decimal', 1)).toBe(true);
    expect(isCellOf('decimal', Number.NaN)).toBe(false);
    expect(isCellOf('string', '')).toBe(true);
    expect(isCellOf('string', null)).toBe(false);
  });

  const bad: [string, () => unknown][] = [
    ['empty table name', () => new Table('', [{ name: 'k', type: 'integer', values: [] }])],
    ['no columns', () => new Table('t', [])],
    ['empty column name', () => new Table('t', [{ name: '', type: 'integer', values: [] }])],
    [
      'duplicate column name ignoring case',
      () =>
        new Table('t', [
          { name: 'k', type: 'integer', values: [] },
          { name: 'K', type: 'string', values: [] },
        ]),
    ],
    [
      'unknown column type',
      () => new Table('t', [{ name: 'k', type: 'float', values: [] } as unknown as Column]),
    ],
    [
      'columns of different lengths',
      () =>
        new Table('t', [
          { name: 'a', type: 'integer', values: [1n] },
          { name: 'b', type: 'integer', values: [1n, 2n] },
        ]),
    ],
    [
      'number in an integer column',
      () => new Table('t', [{ name: 'k', type: 'integer', values: [1] as unknown as bigint[] }]),
    ],
    ['NaN in a decimal column', () => new Table('t', [{ name: 'x', type: 'decimal', values: [Number.NaN] }])],
    [
      'Infinity in a decimal column',
      () => new Table('t', [{ name: 'x', type: 'decimal', values: [Infinity] }]),
    ],
    [
      'null in a string column',
      () => new Table('t', [{ name: 's', type: 'string', values: [null] as unknown as string[] }]),
    ],
    ['row out of range', () => people().row(3)],
    ['negative row', () => people().takeRows([-1])],
    ['column of another type', () => people().column('id', 'string')],
    ['fromRows with a short row', () => Table.fromRows('t', people().schema, [[1n, 2]])],
  ];
  test.each(bad)('rejects %s with InvalidArgumentError', (_, fn) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('an unknown column is a MissingColumnError that names it', () => {
    const err = thrown(() => people().column('nope'));
    expect(err).toBeInstanceOf(MissingColumnError);
    expect(err).toMatchObject({ code: 'MISSING_COLUMN', details: { column: 'nope' } });
  });
});
