import { describe, expect, test } from 'vitest';
import { Table } from '../../src/data/table.js';
import { QueryError } from '../../src/errors.js';
import {
  declaredJoinKey,
  isAggregateQuery,
  orientJoinKeys,
  parseQuery,
  queryColumns,
  requireAggregateQuery,
  validateQuery,
} from '../../src/query/sql.js';
import { accepted, refused } from '../helpers/sql-examples.js';
import { thrown } from '../helpers/thrown.js';

describe('parseQuery', () => {
  test.each(accepted)('accepts %s', (_, sql, expected) => {
    expect(parseQuery(sql)).toEqual(expected);
  });

  test.each(refused)('refuses %s', (_, sql, fragment) => {
    const err = thrown(() => parseQuery(sql));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.code).toBe('UNSUPPORTED_QUERY');
    expect(err.message).toContain(fragment);
  });

  test('an unknown alias is named', () => {
    const err = thrown(() => parseQuery('SELECT c.x FROM t1 a JOIN t2 b ON a.k = b.k'));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.message).toContain('unknown table or alias "c"');
    // With an alias, SQL hides the table's own name (SQLite refuses it too).
    expect(thrown(() => parseQuery('SELECT t1.x FROM t1 a JOIN t2 b ON a.k = b.k')).message).toContain(
      '"t1"',
    );
  });

  test('a non-string input is a QueryError', () => {
    expect(thrown(() => parseQuery(42 as unknown as string))).toBeInstanceOf(QueryError);
  });

  test('QueryError survives a record round trip', async () => {
    const { fromRecord } = await import('../../src/errors.js');
    const err = thrown(() => parseQuery('SELECT a.x FROM t1 a'));
    const back = fromRecord(JSON.parse(JSON.stringify(err)));
    expect(back).toBeInstanceOf(QueryError);
    expect(back.details.part).toBe('query over one table');
  });

  test('queryColumns lists what each owner must encrypt', () => {
    const q = parseQuery(
      'SELECT SUM(a.x), AVG(a.x), SUM(b.y), COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k AND a.k2 = b.j',
    );
    expect(queryColumns(q, 't1')).toEqual({ keys: ['k', 'k2'], values: ['x'] });
    expect(queryColumns(q, 't2')).toEqual({ keys: ['k', 'j'], values: ['y'] });
    expect(thrown(() => queryColumns(q, 't3'))).toBeInstanceOf(QueryError);
  });

  test('isAggregateQuery', () => {
    expect(isAggregateQuery(parseQuery(accepted[0][1]))).toBe(false);
    expect(isAggregateQuery(parseQuery(accepted[1][1]))).toBe(true);
  });

  test('requireAggregateQuery refuses what isAggregateQuery does not accept, and a plan mixing both', () => {
    for (const [, sql] of accepted) {
      const plan = parseQuery(sql);
      if (isAggregateQuery(plan)) expect(() => requireAggregateQuery(plan)).not.toThrow();
      else {
        const err = thrown(() => requireAggregateQuery(plan));
        expect(err).toBeInstanceOf(QueryError);
        expect(err.message).toBe(
          'a non-aggregate SELECT is only allowed as the feature list of a TRAIN query',
        );
        expect(err.details).toEqual({ part: 'SELECT list' });
      }
    }
    // the parser refuses a mix; a plan from the wire need not
    const plan = parseQuery('SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k');
    const mixed = {
      ...plan,
      select: [...plan.select, { kind: 'column' as const, table: 't1', column: 'x' }],
    };
    expect(thrown(() => requireAggregateQuery(mixed))).toBeInstanceOf(QueryError);
  });
});

describe('declaredJoinKey', () => {
  const plan = parseQuery('SELECT COUNT(*) FROM t1 a JOIN t2 b ON b.h = a.h AND a.g = b.j');

  test('finds the first declared key of each side in any order of the ON clause', () => {
    const left = [['k'], ['g', 'h'], ['h', 'g'], ['g', 'h']];
    const right = [
      ['j', 'h'],
      ['h', 'j'],
      ['j', 'h'],
    ];
    const declared = declaredJoinKey(plan, left, right)!;
    expect([declared.left, declared.right]).toEqual([1, 0]);
    expect(declared.plan.joinKeys.map((k) => [k.left.column, k.right.column])).toEqual([
      ['g', 'j'],
      ['h', 'h'],
    ]);
    expect(orientJoinKeys(plan, left, right)).toEqual(declared.plan);
  });

  test('is undefined when no declared key pairs up through the ON clause', () => {
    expect(declaredJoinKey(plan, [['g', 'h']], [['h', 'j']])).toBeUndefined();
    expect(declaredJoinKey(plan, [['g']], [['j']])).toBeUndefined();
    expect(orientJoinKeys(plan, [['g', 'h']], [['h', 'j']])).toBeUndefined();
  });
});

describe('validateQuery', () => {
  const t1 = new Table('T1', [
    { name: 'K', type: 'integer', values: [] },
    { name: 'name', type: 'string', values: [] },
    { name: 'x', type: 'decimal', values: [] },
  ]);
  const t2 = new Table('t2', [
    { name: 'k', type: 'integer', values: [] },
    { name: 'label', type: 'string', values: [] },
    { name: 'y', type: 'decimal', values: [] },
  ]);

  test('returns the schemas spelling of tables and columns', () => {
    const q = validateQuery(parseQuery('SELECT a.X, b.Label FROM t1 a JOIN T2 b ON a.k = b.K'), [t1, t2]);
    expect(q).toEqual({
      tables: [
        { name: 'T1', alias: 'a' },
        { name: 't2', alias: 'b' },
      ],
      joinKeys: [{ left: { table: 'T1', column: 'K' }, right: { table: 't2', column: 'k' } }],
      select: [
        { kind: 'column', table: 'T1', column: 'x' },
        { kind: 'column', table: 't2', column: 'label' },
      ],
    });
    const agg = validateQuery(parseQuery('SELECT COUNT(*), AVG(b.Y) FROM t1 a JOIN t2 b ON a.k = b.k'), [
      t1,
      t2,
    ]);
    expect(agg.select).toEqual([{ kind: 'count' }, { kind: 'avg', table: 't2', column: 'y' }]);
  });

  test.each([
    ['an unknown table', 'SELECT a.x FROM t1 a JOIN t3 b ON a.k = b.k', 'unknown table "t3"'],
    [
      'an unknown column',
      'SELECT a.nope FROM t1 a JOIN t2 b ON a.k = b.k',
      'table "T1" has no column "nope"',
    ],
    ['an unknown key column', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.kk', 'no column "kk"'],
    ['a decimal join key', 'SELECT a.x FROM t1 a JOIN t2 b ON a.x = b.y', 'decimal join key T1.x'],
    [
      'key columns of two types',
      'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.label',
      'join of integer T1.K with string',
    ],
    ['SUM of a string column', 'SELECT SUM(a.name) FROM t1 a JOIN t2 b ON a.k = b.k', 'SUM of string column'],
    [
      'AVG of a string column',
      'SELECT AVG(b.label) FROM t1 a JOIN t2 b ON a.k = b.k',
      'AVG of string column',
    ],
  ])('refuses %s', (_, sql, fragment) => {
    const err = thrown(() => validateQuery(parseQuery(sql), [t1, t2]));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.code).toBe('UNSUPPORTED_QUERY');
    expect(err.message).toContain(fragment);
  });
});
