// CSV -> Table with csv-parse's sync API: a header row, then typed cells, each column's
// type given by a schema or inferred (numeric-looking: integer or decimal, else string).
// Tables are NULL-free: an empty or NULL cell is a NullValueError. Errors name line, row
// and column but never quote a cell, since cells are a data owner's plaintext (STYLE G4).
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { CsvError as CsvParseError, parse } from 'csv-parse/sync';
import { CsvError, InvalidArgumentError, NullValueError } from '../errors.js';
import { type Cell, type Column, type ColumnType, isColumnType, Table } from './table.js';

export interface CsvOptions {
  /** Types of some or all columns by header name; columns not listed are inferred. */
  schema?: Readonly<Record<string, ColumnType>>;
  /** Cells read as NULL (compared trimmed, ignoring ASCII case). Default: '' and 'NULL'. */
  nullValues?: readonly string[];
  /** Field delimiter, default ','. */
  delimiter?: string;
}

export const DEFAULT_NULL_VALUES: readonly string[] = ['', 'NULL'];

const INTEGER = /^-?\d+$/;
// Plain decimal notation only: Number() alone would also take '0x1f', ' ' and 'Infinity'.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function asDecimal(cell: string): number | undefined {
  if (!DECIMAL.test(cell)) return undefined;
  const value = Number(cell);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A column is numeric-looking when more than half of its cells are finite numbers (no cell
 * is empty: NULLs are refused first). Such a column is integer if each of its number cells
 * matches /^-?\d+$/, else decimal, and parseCsv refuses any cell of it that is not a
 * number: a typo must not silently turn a numeric column into text, while a text column
 * with a few number-like cells (codes, 'N/A') stays string. The schema overrides this.
 * An empty column is integer.
 */
export function inferColumnType(cells: readonly string[]): ColumnType {
  const numbers = cells.filter((c) => asDecimal(c) !== undefined);
  if (2 * numbers.length <= cells.length && cells.length > 0) return 'string';
  return numbers.every((c) => INTEGER.test(c)) ? 'integer' : 'decimal';
}

/** One cell as `type`, or undefined when it is not a value of that type. */
export function parseCell(type: ColumnType, cell: string): Cell | undefined {
  switch (type) {
    case 'integer':
      return INTEGER.test(cell) ? BigInt(cell) : undefined;
    case 'decimal':
      return asDecimal(cell);
    default:
      return cell;
  }
}

interface Located {
  record: string[];
  info: { lines: number };
}

function readRecords(text: string | Buffer, delimiter: string): Located[] {
  try {
    // relax_column_count: ragged rows are reported below, with their row and line.
    return parse(text, {
      bom: true,
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as Located[];
  } catch (err) {
    if (err instanceof CsvParseError) {
      const line = typeof err.lines === 'number' ? err.lines : undefined;
      throw new CsvError(`line ${line ?? '?'}: CSV syntax error (${err.code})`, { line, reason: err.code });
    }
    throw err;
  }
}

function checkHeader(header: readonly string[], line: number): void {
  const seen = new Set<string>();
  header.forEach((name, j) => {
    if (name.length === 0) {
      throw new CsvError(`line ${line}: header column ${j + 1} has no name`, { line, reason: 'header' });
    }
    const folded = name.toLowerCase();
    if (seen.has(folded)) {
      throw new CsvError(`line ${line}: header names column ${JSON.stringify(name)} twice`, {
        line,
        column: name,
        reason: 'header',
      });
    }
    seen.add(folded);
  });
}

function describeType(type: ColumnType): string {
  return type === 'integer' ? 'an integer (digits, optional leading -)' : 'a finite decimal number';
}

/** Parses CSV text into a table named `name`. */
export function parseCsv(name: string, text: string | Buffer, options: CsvOptions = {}): Table {
  const records = readRecords(text, options.delimiter ?? ',');
  if (records.length === 0) throw new CsvError('empty CSV: expected a header row', { reason: 'header' });
  const [{ record: header, info: headerInfo }, ...body] = records;
  checkHeader(header, headerInfo.lines);

  const schema = options.schema ?? {};
  for (const [column, type] of Object.entries(schema)) {
    if (!header.includes(column)) {
      throw new CsvError(`schema names column ${JSON.stringify(column)}, which the header lacks`, {
        column,
        reason: 'unknown column',
      });
    }
    if (!isColumnType(type)) {
      throw new InvalidArgumentError(`schema for column ${JSON.stringify(column)}: unknown type`, { column });
    }
  }

  const nulls = new Set((options.nullValues ?? DEFAULT_NULL_VALUES).map((v) => v.trim().toLowerCase()));
  body.forEach(({ record, info }, i) => {
    const where = { line: info.lines, row: i + 1 };
    if (record.length !== header.length) {
      throw new CsvError(
        `line ${where.line} (row ${where.row}): has ${record.length} fields, the header has ${header.length}`,
        { ...where, reason: 'ragged row' },
      );
    }
    record.forEach((cell, j) => {
      if (nulls.has(cell.trim().toLowerCase())) {
        throw new NullValueError(
          `line ${where.line} (row ${where.row}), column ${JSON.stringify(header[j])}: empty or NULL cell`,
          { ...where, column: header[j] },
        );
      }
    });
  });

  const columns = header.map((columnName, j): Column => {
    const cells = body.map((b) => b.record[j]);
    const inferred = schema[columnName] === undefined;
    const type = schema[columnName] ?? inferColumnType(cells);
    const values = cells.map((cell, i) => {
      const value = parseCell(type, cell);
      if (value === undefined) {
        const where = { line: body[i].info.lines, row: i + 1, column: columnName };
        const hint = inferred
          ? `; most of the column's cells are numbers, so it was inferred ${type}: give it type ` +
            'string in the schema if it is text'
          : '';
        throw new CsvError(
          `line ${where.line} (row ${where.row}), column ${JSON.stringify(columnName)}: expected ` +
            `${describeType(type)}, got a ${cell.length}-character value${hint}`,
          { ...where, reason: 'type', inferred },
        );
      }
      return value;
    });
    return { name: columnName, type, values } as Column;
  });
  return new Table(name, columns);
}

/** Reads a CSV file; the table is named after the file (no extension) unless `name` is given. */
export function loadCsv(path: string, options: CsvOptions & { name?: string } = {}): Table {
  const name = options.name ?? basename(path, extname(path));
  return parseCsv(name, readCsvFile(path), options);
}

/** The file's bytes; a file that cannot be read (missing, a folder, no permission) is a CsvError. */
function readCsvFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    throw new CsvError(`${path}: cannot read the CSV file (${code})`, { path, reason: 'unreadable' });
  }
}
