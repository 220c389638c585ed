// A typed, column-major plaintext table: what a data owner holds before encoding and
// encryption (DESIGN §1). Invariants: every column has the same length, column names are
// unique ignoring ASCII case (SQL identifiers are), values match their column's type
// (integer: bigint, decimal: finite number, string: string), there is no NULL, and a
// Table never changes after construction (its arrays are frozen copies).
import { InvalidArgumentError, MissingColumnError } from '../errors.js';

export type ColumnType = 'integer' | 'decimal' | 'string';

/** The JavaScript type of one cell of each column type. */
export interface CellOf {
  integer: bigint;
  decimal: number;
  string: string;
}
export type Cell = CellOf[ColumnType];

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
}

/** One column; `Column<'integer'>` narrows `values` to `readonly bigint[]`. */
export type Column<T extends ColumnType = ColumnType> = {
  [K in T]: { readonly name: string; readonly type: K; readonly values: readonly CellOf[K][] };
}[T];

/** What query validation needs of a table; a Table satisfies it structurally. */
export interface TableSchema {
  readonly name: string;
  readonly columns: readonly ColumnSchema[];
}

const COLUMN_TYPES: readonly ColumnType[] = ['integer', 'decimal', 'string'];

export function isColumnType(value: unknown): value is ColumnType {
  return COLUMN_TYPES.includes(value as ColumnType);
}

/** Whether `value` is a valid cell of `type` (decimals must be finite). */
export function isCellOf<T extends ColumnType>(type: T, value: unknown): value is CellOf[T] {
  switch (type) {
    case 'integer':
      return typeof value === 'bigint';
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === 'string';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a non-finite number';
  return `a ${typeof value}`;
}

export class Table {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly rowCount: number;
  private readonly byName: ReadonlyMap<string, Column>;

  constructor(name: string, columns: readonly Column[]) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('table name: expected a non-empty string');
    }
    if (columns.length === 0) throw new InvalidArgumentError(`table ${name}: expected at least one column`);
    const rowCount = columns[0].values.length;
    const seen = new Set<string>();
    const frozen: Column[] = [];
    for (const column of columns) {
      const label = `table ${name}, column ${JSON.stringify(column.name)}`;
      if (typeof column.name !== 'string' || column.name.length === 0) {
        throw new InvalidArgumentError(`table ${name}: column names must be non-empty strings`);
      }
      const folded = column.name.toLowerCase();
      if (seen.has(folded)) throw new InvalidArgumentError(`${label}: duplicate column name`);
      seen.add(folded);
      if (!isColumnType(column.type)) throw new InvalidArgumentError(`${label}: unknown column type`);
      if (column.values.length !== rowCount) {
        throw new InvalidArgumentError(
          `${label}: has ${column.values.length} values, expected ${rowCount} like the first column`,
        );
      }
      column.values.forEach((value, row) => {
        if (!isCellOf(column.type, value)) {
          throw new InvalidArgumentError(
            `${label}, row ${row}: expected ${column.type}, got ${describe(value)}`,
            {
              row,
              column: column.name,
            },
          );
        }
      });
      frozen.push(Object.freeze({ ...column, values: Object.freeze([...column.values]) }) as Column);
    }
    this.name = name;
    this.columns = Object.freeze(frozen);
    this.rowCount = rowCount;
    this.byName = new Map(frozen.map((c) => [c.name, c]));
  }

  /** Builds a table from row-major cells, checked against `schema`. */
  static fromRows(name: string, schema: readonly ColumnSchema[], rows: readonly (readonly Cell[])[]): Table {
    const columns = schema.map((s, j) => {
      const values = rows.map((row, i) => {
        if (row.length !== schema.length) {
          throw new InvalidArgumentError(
            `table ${name}, row ${i}: has ${row.length} cells, expected ${schema.length}`,
          );
        }
        return row[j];
      });
      return { name: s.name, type: s.type, values } as Column;
    });
    return new Table(name, columns);
  }

  get schema(): ColumnSchema[] {
    return this.columns.map(({ name, type }) => ({ name, type }));
  }

  get columnNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The column named exactly `name`, optionally checked to be of `type`. */
  column(name: string): Column;
  column<T extends ColumnType>(name: string, type: T): Column<T>;
  column(name: string, type?: ColumnType): Column {
    const column = this.byName.get(name);
    if (!column) {
      throw new MissingColumnError(`table ${this.name}: no column ${JSON.stringify(name)}`, {
        column: name,
      });
    }
    if (type !== undefined && column.type !== type) {
      throw new InvalidArgumentError(
        `table ${this.name}, column ${JSON.stringify(name)}: expected ${type}, is ${column.type}`,
        { column: name },
      );
    }
    return column;
  }

  row(index: number): Cell[] {
    this.checkRow(index);
    return this.columns.map((c) => c.values[index]);
  }

  rows(): Cell[][] {
    return Array.from({ length: this.rowCount }, (_, i) => this.row(i));
  }

  /** A table with only `names`, in that order. */
  project(names: readonly string[], name = this.name): Table {
    return new Table(
      name,
      names.map((n) => this.column(n)),
    );
  }

  /** A table with the rows at `indices`, in that order (repeats allowed). */
  takeRows(indices: readonly number[], name = this.name): Table {
    for (const i of indices) this.checkRow(i);
    return new Table(
      name,
      this.columns.map((c) => ({ ...c, values: indices.map((i) => c.values[i]) }) as Column),
    );
  }

  private checkRow(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.rowCount) {
      throw new InvalidArgumentError(`table ${this.name}: row ${index} outside [0, ${this.rowCount})`);
    }
  }

  /** The same columns under another table name. */
  renamed(name: string): Table {
    return new Table(name, this.columns);
  }
}
