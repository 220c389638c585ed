// SQL the parser accepts (with the Query it must return) and refuses (with a fragment of
// the message), shared by the parser tests and the SQLite parity tests.
import type { Query } from '../../src/query/sql.js';

const T: Query['tables'] = [
  { name: 't1', alias: 'a' },
  { name: 't2', alias: 'b' },
];
const K = [{ left: { table: 't1', column: 'k' }, right: { table: 't2', column: 'k' } }];

export const accepted: [string, string, Query][] = [
  [
    'columns, AS and bare aliases',
    'SELECT a.x, b.y FROM t1 AS a JOIN t2 b ON a.k = b.k',
    {
      tables: T,
      joinKeys: K,
      select: [
        { kind: 'column', table: 't1', column: 'x' },
        { kind: 'column', table: 't2', column: 'y' },
      ],
    },
  ],
  [
    'aggregates in any case',
    'select count(*), Sum(a.x), AVG(b.y) from t1 a inner join t2 b on a.k = b.k',
    {
      tables: T,
      joinKeys: K,
      select: [
        { kind: 'count' },
        { kind: 'sum', table: 't1', column: 'x' },
        { kind: 'avg', table: 't2', column: 'y' },
      ],
    },
  ],
  [
    'two key columns, the second written right to left',
    'SELECT COUNT(*) FROM t1 a JOIN t2 b ON (a.k = b.k AND (b.k2 = a.k2))',
    {
      tables: T,
      joinKeys: [...K, { left: { table: 't1', column: 'k2' }, right: { table: 't2', column: 'k2' } }],
      select: [{ kind: 'count' }],
    },
  ],
  [
    'no aliases: the table names',
    'SELECT t2.y FROM t1 JOIN t2 ON t2.k = t1.k;',
    {
      tables: [
        { name: 't1', alias: 't1' },
        { name: 't2', alias: 't2' },
      ],
      joinKeys: K,
      select: [{ kind: 'column', table: 't2', column: 'y' }],
    },
  ],
  [
    'aliases ignore case; quoted identifiers; comments',
    'SELECT "A"."x" -- the feature\nFROM t1 a JOIN t2 B ON A.k = b.k',
    {
      tables: [
        { name: 't1', alias: 'a' },
        { name: 't2', alias: 'B' },
      ],
      joinKeys: K,
      select: [{ kind: 'column', table: 't1', column: 'x' }],
    },
  ],
];

// [what, sql, a fragment the message must contain]
export const refused: [string, string, string][] = [
  ['WHERE', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x > 1', 'WHERE'],
  ['GROUP BY', 'SELECT COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.x', 'GROUP BY'],
  ['HAVING', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k GROUP BY a.x HAVING COUNT(*) > 1', 'GROUP BY'],
  ['ORDER BY', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k ORDER BY a.x', 'ORDER BY'],
  ['LIMIT', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k LIMIT 3', 'LIMIT'],
  ['DISTINCT', 'SELECT DISTINCT a.x FROM t1 a JOIN t2 b ON a.k = b.k', 'DISTINCT'],
  [
    'UNION',
    'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k UNION SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k',
    'UNION',
  ],
  ['WITH', 'WITH c AS (SELECT 1) SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k', 'WITH'],
  ['OR in ON', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k OR a.k2 = b.k2', 'OR in ON'],
  ['NOT in ON', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k AND NOT a.x = b.x', 'NOT in ON'],
  ['a non-equality join', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k < b.k', 'operator < in ON'],
  ['<>', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k <> b.k', 'operator <> in ON'],
  ['a literal in ON', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k AND a.x = 3', 'literal "3" in ON'],
  ['arithmetic in ON', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k + 1', 'expression with + in ON'],
  ['one table on both sides of ON', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = a.k2', 'two columns of "t1"'],
  [
    'a repeated condition',
    'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k AND b.k = a.k',
    'repeated join condition t1.k = t2.k',
  ],
  ['three tables', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k JOIN t3 c ON a.k = c.k', 'join of 3 tables'],
  ['one table', 'SELECT a.x FROM t1 a', 'one table'],
  ['no FROM', 'SELECT 1', 'without FROM'],
  ['a comma join', 'SELECT a.x FROM t1 a, t2 b', 'comma join'],
  ['LEFT JOIN', 'SELECT a.x FROM t1 a LEFT JOIN t2 b ON a.k = b.k', 'LEFT JOIN'],
  ['USING', 'SELECT a.x FROM t1 a JOIN t2 b USING (k)', 'USING'],
  ['a subquery in FROM', 'SELECT a.x FROM (SELECT * FROM t1) a JOIN t2 b ON a.k = b.k', 'subquery in FROM'],
  ['a subquery in WHERE', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k WHERE a.x IN (SELECT 1)', 'WHERE'],
  ['a self-join', 'SELECT a.x FROM t1 a JOIN t1 b ON a.k = b.k', 'self-join'],
  ['a duplicate alias', 'SELECT a.x FROM t1 a JOIN t2 A ON a.k = A.k', 'duplicate alias'],
  ['a database-qualified table', 'SELECT a.x FROM main.t1 a JOIN t2 b ON a.k = b.k', 'database-qualified'],
  ['SELECT *', 'SELECT * FROM t1 a JOIN t2 b ON a.k = b.k', '* in SELECT'],
  ['SELECT a.*', 'SELECT a.* FROM t1 a JOIN t2 b ON a.k = b.k', 'a.* in SELECT'],
  [
    'aggregates mixed with columns',
    'SELECT a.x, COUNT(*) FROM t1 a JOIN t2 b ON a.k = b.k',
    'mix of aggregates',
  ],
  ['an unqualified column', 'SELECT x FROM t1 a JOIN t2 b ON a.k = b.k', 'unqualified column "x"'],
  ['a column alias', 'SELECT a.x AS y FROM t1 a JOIN t2 b ON a.k = b.k', 'column alias'],
  ['MAX', 'SELECT MAX(a.x) FROM t1 a JOIN t2 b ON a.k = b.k', 'aggregate MAX'],
  ['COUNT(column)', 'SELECT COUNT(a.x) FROM t1 a JOIN t2 b ON a.k = b.k', 'COUNT of an expression'],
  ['COUNT(DISTINCT)', 'SELECT COUNT(DISTINCT a.x) FROM t1 a JOIN t2 b ON a.k = b.k', 'COUNT(DISTINCT'],
  ['SUM of an expression', 'SELECT SUM(a.x + 1) FROM t1 a JOIN t2 b ON a.k = b.k', 'SUM of an expression'],
  ['a function', 'SELECT abs(a.x) FROM t1 a JOIN t2 b ON a.k = b.k', 'function abs()'],
  [
    'arithmetic in SELECT',
    'SELECT a.x + b.y FROM t1 a JOIN t2 b ON a.k = b.k',
    'expression with + in SELECT',
  ],
  ['a literal in SELECT', "SELECT 'x' FROM t1 a JOIN t2 b ON a.k = b.k", 'literal "x" in SELECT'],
  ['two statements', 'SELECT a.x FROM t1 a JOIN t2 b ON a.k = b.k; SELECT 1', '2 statements'],
  ['DELETE', 'DELETE FROM t1', 'DELETE statement'],
  ['a syntax error', 'SELEC a.x FROM t1', 'SQL syntax error at line 1, column'],
];
