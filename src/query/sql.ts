// fedjoin's SQL subset, parsed by node-sql-parser (SQLite dialect, the engine the results
// are checked against): SELECT <a.col, ... | COUNT(*) | SUM(a.col) | AVG(a.col), ...>
// FROM t1 [AS] a JOIN t2 [AS] b ON a.k = b.k [AND a.k2 = b.k2 ...]. Anything else is a
// QueryError naming the unsupported part. Aliases resolve (ignoring ASCII case, as SQL
// does) to table names; every join key's `left` is the first table's column.
import sqlite from 'node-sql-parser/build/sqlite.js';
import type { ColumnType, TableSchema } from '../data/table.js';
import { QueryError } from '../errors.js';
import type { ColumnRef, JoinKey, Query, SelectItem, TableRef } from './plan.js';

export type { ColumnRef, JoinKey, Query, SelectItem, TableRef } from './plan.js';

const GRAMMAR =
  'SELECT <a.col, ... | COUNT(*), SUM(a.col), AVG(a.col), ...> FROM t1 [AS] a JOIN t2 [AS] b ON a.k = b.k [AND a.k2 = b.k2]';

function refuse(part: string, hint?: string): never {
  throw new QueryError(`unsupported ${part}${hint ? `: ${hint}` : ''}; fedjoin supports ${GRAMMAR}`, {
    part,
  });
}

// node-sql-parser's AST types are loose (any); these are the fields read here.
interface Node {
  type?: string;
  [field: string]: unknown;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null;
}

/** A reader's name for an AST node a refusal points at. */
function describeNode(node: unknown): string {
  if (!isNode(node)) return 'expression';
  switch (node.type) {
    case 'binary_expr':
      return `expression with ${String(node.operator)}`;
    case 'unary_expr':
      return `${String(node.operator)} expression`;
    case 'aggr_func':
      return `aggregate ${String(node.name)}`;
    case 'function':
      return 'function call';
    case 'case':
      return 'CASE expression';
    case 'cast':
      return 'CAST';
    default:
      return 'value' in node
        ? `literal ${JSON.stringify(String(node.value))}`
        : `${String(node.type)} expression`;
  }
}

const parser = new sqlite.Parser();

function astify(sql: string): Node {
  if (typeof sql !== 'string') throw new QueryError('query: expected an SQL string', { part: 'input' });
  let ast: unknown;
  try {
    ast = parser.astify(sql, { database: 'sqlite' });
  } catch (err) {
    const start = (err as { location?: { start?: { line: number; column: number } } }).location?.start;
    const at = start ? ` at line ${start.line}, column ${start.column}` : '';
    throw new QueryError(`SQL syntax error${at}: ${(err as Error).message}`, { part: 'syntax' });
  }
  const statements = Array.isArray(ast) ? ast : [ast];
  if (statements.length !== 1) refuse(`${statements.length} statements`, 'send exactly one SELECT');
  const stmt = statements[0] as Node;
  if (stmt.type !== 'select') refuse(`${String(stmt.type).toUpperCase()} statement`, 'only SELECT is read');
  return stmt;
}

function present(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isNode(value) && 'columns' in value && !('type' in value)) return present(value.columns); // GROUP BY
  if (isNode(value) && Array.isArray(value.value) && !('type' in value)) return value.value.length > 0; // LIMIT
  return true;
}

function checkClauses(stmt: Node): void {
  const clauses: [string, string][] = [
    ['with', 'WITH'],
    ['distinct', 'SELECT DISTINCT'],
    ['where', 'WHERE'],
    ['groupby', 'GROUP BY'],
    ['having', 'HAVING'],
    ['orderby', 'ORDER BY'],
    ['limit', 'LIMIT'],
    ['window', 'WINDOW'],
    ['qualify', 'QUALIFY'],
  ];
  for (const [field, part] of clauses) if (present(stmt[field])) refuse(part);
  if (present(stmt._next) || present(stmt.set_op)) refuse(String(stmt.set_op ?? 'UNION').toUpperCase());
  if (present(stmt.options)) refuse('SELECT options');
}

type Aliases = ReadonlyMap<string, TableRef>;

function tableRef(from: unknown): TableRef {
  if (!isNode(from) || 'expr' in from) refuse('subquery in FROM');
  if (from.type === 'dual') refuse('FROM DUAL');
  if (present(from.db) || present(from.schema)) refuse('database-qualified table name');
  if (typeof from.table !== 'string') refuse('table expression in FROM');
  if (present(from.as) && typeof from.as !== 'string') refuse('table alias expression');
  return { name: from.table, alias: typeof from.as === 'string' ? from.as : from.table };
}

function resolveFrom(from: unknown): { tables: [TableRef, TableRef]; aliases: Aliases; on: unknown } {
  if (from === null || from === undefined) refuse('SELECT without FROM');
  if (!Array.isArray(from)) refuse('subquery in FROM');
  if (from.length < 2) refuse('query over one table', 'a query joins exactly two tables');
  if (from.length > 2) refuse(`join of ${from.length} tables`, 'a query joins exactly two tables');
  const second = from[1] as Node;
  if (!('join' in second)) refuse('comma join (FROM a, b)', 'write FROM a JOIN b ON ...');
  if (second.join !== 'INNER JOIN') refuse(String(second.join), 'only inner JOIN');
  if (present(second.using)) refuse('JOIN ... USING', 'write ON a.k = b.k');
  if (!present(second.on)) refuse('JOIN without ON');
  const tables: [TableRef, TableRef] = [tableRef(from[0]), tableRef(second)];
  if (tables[0].name.toLowerCase() === tables[1].name.toLowerCase()) {
    refuse(`self-join of table "${tables[0].name}"`, 'join two different tables');
  }
  const aliases = new Map<string, TableRef>();
  for (const t of tables) {
    const key = t.alias.toLowerCase();
    if (aliases.has(key)) refuse(`duplicate alias "${t.alias}"`);
    aliases.set(key, t);
  }
  return { tables, aliases, on: second.on };
}

function columnRef(expr: unknown, aliases: Aliases, where: string): ColumnRef {
  if (!isNode(expr) || expr.type !== 'column_ref')
    refuse(`${describeNode(expr)} in ${where}`, 'only table.column');
  const column =
    typeof expr.column === 'string'
      ? expr.column
      : isNode(expr.column) && isNode(expr.column.expr)
        ? String(expr.column.expr.value)
        : undefined;
  if (column === undefined) refuse(`column expression in ${where}`);
  if (column === '*')
    refuse(expr.table ? `${String(expr.table)}.* in ${where}` : `* in ${where}`, 'name the columns');
  if (typeof expr.table !== 'string') {
    refuse(`unqualified column "${column}" in ${where}`, 'qualify it with its table alias, as a.col');
  }
  const table = aliases.get(expr.table.toLowerCase());
  if (!table) {
    throw new QueryError(
      `unknown table or alias "${expr.table}" in ${where}; the query names ${[...aliases.values()].map((t) => t.alias).join(', ')}`,
      { part: 'alias' },
    );
  }
  return { table: table.name, column };
}

function joinKeys(on: unknown, tables: readonly [TableRef, TableRef], aliases: Aliases): JoinKey[] {
  const conditions: Node[] = [];
  const flatten = (node: unknown): void => {
    if (isNode(node) && node.type === 'binary_expr' && String(node.operator).toUpperCase() === 'AND') {
      flatten(node.left);
      flatten(node.right);
    } else if (isNode(node)) {
      conditions.push(node);
    } else {
      refuse('ON condition');
    }
  };
  flatten(on);
  const keys: JoinKey[] = [];
  const seen = new Set<string>();
  for (const c of conditions) {
    if (c.type === 'binary_expr' && String(c.operator).toUpperCase() === 'OR')
      refuse('OR in ON', 'only AND of equalities');
    if (c.type === 'unary_expr')
      refuse(`${String(c.operator).toUpperCase()} in ON`, 'only AND of equalities');
    if (c.type !== 'binary_expr') refuse(`${String(c.type)} in ON`, 'only AND of equalities');
    if (c.operator !== '=') refuse(`operator ${String(c.operator)} in ON`, 'only equality joins');
    const a = columnRef(c.left, aliases, 'ON');
    const b = columnRef(c.right, aliases, 'ON');
    if (a.table === b.table) {
      refuse(`condition between two columns of "${a.table}" in ON`, 'each equality compares the two tables');
    }
    const key = a.table === tables[0].name ? { left: a, right: b } : { left: b, right: a };
    const id = `${key.left.column.toLowerCase()}\u0000${key.right.column.toLowerCase()}`;
    if (seen.has(id)) {
      refuse(
        `repeated join condition ${key.left.table}.${key.left.column} = ${key.right.table}.${key.right.column}`,
      );
    }
    seen.add(id);
    keys.push(key);
  }
  return keys;
}

function selectItem(item: unknown, aliases: Aliases): SelectItem {
  if (!isNode(item)) refuse('SELECT item');
  if (present(item.as)) refuse('column alias (AS) in SELECT');
  const expr = item.expr;
  if (isNode(expr) && expr.type === 'column_ref')
    return { kind: 'column', ...columnRef(expr, aliases, 'SELECT') };
  if (isNode(expr) && expr.type === 'aggr_func') {
    const name = String(expr.name).toUpperCase();
    const args = isNode(expr.args) ? expr.args : {};
    if (present(expr.over)) refuse(`window function ${name}(...) OVER`);
    if (present(args.distinct)) refuse(`${name}(DISTINCT ...)`);
    if (name === 'COUNT') {
      if (isNode(args.expr) && args.expr.type === 'star') return { kind: 'count' };
      refuse('COUNT of an expression', 'use COUNT(*); tables are NULL-free');
    }
    if (name === 'SUM' || name === 'AVG') {
      const kind = name === 'SUM' ? 'sum' : 'avg';
      if (!isNode(args.expr) || args.expr.type !== 'column_ref')
        refuse(`${name} of an expression`, `use ${name}(a.col)`);
      return { kind, ...columnRef(args.expr, aliases, `${name}()`) };
    }
    refuse(`aggregate ${name}`, 'only COUNT(*), SUM and AVG');
  }
  if (isNode(expr) && expr.type === 'function') {
    const parts = isNode(expr.name) && Array.isArray(expr.name.name) ? expr.name.name : [];
    refuse(`function ${parts.map((p: { value?: unknown }) => String(p.value)).join('.') || '?'}() in SELECT`);
  }
  refuse(`${describeNode(expr)} in SELECT`, 'only table.column or an aggregate');
}

/** Parses one query of the subset; any other SQL is a QueryError naming what it used. */
export function parseQuery(sql: string): Query {
  const stmt = astify(sql);
  checkClauses(stmt);
  const { tables, aliases, on } = resolveFrom(stmt.from);
  const keys = joinKeys(on, tables, aliases);
  if (!Array.isArray(stmt.columns) || stmt.columns.length === 0) refuse('SELECT list');
  const select = stmt.columns.map((item) => selectItem(item, aliases));
  const aggregates = select.filter((s) => s.kind !== 'column').length;
  if (aggregates > 0 && aggregates < select.length) {
    refuse('mix of aggregates and plain columns', 'GROUP BY is not supported; ask for one or the other');
  }
  return { tables, joinKeys: keys, select };
}

/**
 * The columns of `table` a query needs: its join key columns (in joinKeys order) and the
 * columns it selects or aggregates (first use order, no repeats): what its owner encrypts.
 */
export function queryColumns(query: Query, table: string): { keys: string[]; values: string[] } {
  const side = query.tables.findIndex((t) => t.name === table);
  if (side < 0) throw new QueryError(`table "${table}" is not in the query`, { part: 'table', table });
  const keys = query.joinKeys.map((k) => (side === 0 ? k.left : k.right).column);
  const values: string[] = [];
  for (const s of query.select) {
    if (s.kind !== 'count' && s.table === table && !values.includes(s.column)) values.push(s.column);
  }
  return { keys, values };
}

/** True when the query asks for aggregates (COUNT, SUM, AVG) rather than rows. */
export function isAggregateQuery(query: Query): boolean {
  return query.select.some((s) => s.kind !== 'column');
}

/**
 * Refuses a query that selects a plain column: only a training may. For a parsed query this
 * is !isAggregateQuery (the parser refuses a mix); a plan from the wire may mix them.
 */
export function requireAggregateQuery(query: Query): void {
  if (query.select.some((s) => s.kind === 'column')) {
    throw new QueryError('a non-aggregate SELECT is only allowed as the feature list of a TRAIN query', {
      part: 'SELECT list',
    });
  }
}

/**
 * Checks `query` against the tables' schemas and returns it with the schemas' spelling
 * of every table and column name. Refused with QueryError: an unknown table or column, a
 * decimal join key or two key columns of different types (equality would not be exact),
 * SUM or AVG of a string column.
 */
export function validateQuery(query: Query, schemas: readonly TableSchema[]): Query {
  const findTable = (name: string): TableSchema => {
    const t = schemas.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!t) throw new QueryError(`unknown table "${name}"`, { part: 'table', table: name });
    return t;
  };
  const resolved = new Map(query.tables.map((t) => [t.name, findTable(t.name)]));
  const lookup = (ref: ColumnRef): { ref: ColumnRef; type: ColumnType } => {
    const table = resolved.get(ref.table);
    if (!table)
      throw new QueryError(`column ${ref.table}.${ref.column}: table not in FROM`, { part: 'table' });
    const column = table.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
    if (!column) {
      throw new QueryError(`table "${table.name}" has no column "${ref.column}"`, {
        part: 'column',
        table: table.name,
        column: ref.column,
      });
    }
    return { ref: { table: table.name, column: column.name }, type: column.type };
  };
  const joinKeys = query.joinKeys.map(({ left, right }) => {
    const l = lookup(left);
    const r = lookup(right);
    for (const side of [l, r]) {
      if (side.type === 'decimal') {
        refuse(`decimal join key ${side.ref.table}.${side.ref.column}`, 'join on integer or string columns');
      }
    }
    if (l.type !== r.type) {
      refuse(
        `join of ${l.type} ${l.ref.table}.${l.ref.column} with ${r.type} ${r.ref.table}.${r.ref.column}`,
        'join key columns must have the same type',
      );
    }
    return { left: l.ref, right: r.ref };
  });
  const select = query.select.map((item): SelectItem => {
    if (item.kind === 'count') return item;
    const { ref, type } = lookup(item);
    if (item.kind !== 'column' && type === 'string') {
      refuse(`${item.kind.toUpperCase()} of string column ${ref.table}.${ref.column}`);
    }
    return { kind: item.kind, ...ref };
  });
  const tables = query.tables.map((t) => ({ name: resolved.get(t.name)!.name, alias: t.alias })) as [
    TableRef,
    TableRef,
  ];
  return { tables, joinKeys, select };
}

/**
 * The plan with its join-key pairs in the order of a key both owners declared: an AND of
 * equalities is the same join in any order, but a hashed tag (and a folded nested key) is
 * made over one ordered column list. Returns the plan unchanged when its order is already
 * a declared key, and undefined when no declared key of the left table, paired through
 * the ON clause, is a declared key of the right table.
 */
export function orientJoinKeys(
  plan: Query,
  leftKeys: readonly (readonly string[])[],
  rightKeys: readonly (readonly string[])[],
): Query | undefined {
  return declaredJoinKey(plan, leftKeys, rightKeys)?.plan;
}

/** The declared keys a join matched: their indices in each table's list, and the oriented plan. */
export interface DeclaredJoinKey {
  plan: Query;
  left: number;
  right: number;
}

/**
 * orientJoinKeys with the first declared key of each table it matched, so that the key's
 * data is taken by index, not looked up by its columns again.
 */
export function declaredJoinKey(
  plan: Query,
  leftKeys: readonly (readonly string[])[],
  rightKeys: readonly (readonly string[])[],
): DeclaredJoinKey | undefined {
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  for (const [left, key] of leftKeys.entries()) {
    if (key.length !== plan.joinKeys.length) continue;
    const ordered = key.map((column) => plan.joinKeys.find((k) => k.left.column === column));
    if (ordered.some((k) => k === undefined)) continue;
    const pairs = ordered as JoinKey[];
    const right = rightKeys.findIndex((r) =>
      same(
        r,
        pairs.map((k) => k.right.column),
      ),
    );
    if (right >= 0) return { plan: { ...plan, joinKeys: pairs }, left, right };
  }
  return undefined;
}
