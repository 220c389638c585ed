// CSV -> Table with csv-parse's sync API: a header row, then typed cells, each column's
// type given by a schema or inferred (integer, else decimal, else string). Tables are
// NULL-free: an empty or NULL cell is a NullValueError. Errors name line, row and
// column but never quote a cell, since cells are a data owner's plaintext (STYLE G4).
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

/** integer if every cell matches /^-?\d+$/, decimal if every cell is a finite number, else string. */
export function inferColumnType(cells: readonly string[]): ColumnType {
  if (cells.every((c) => INTEGER.test(c))) return 'integer';
  if (cells.every((c) => asDecimal(c) !== undefined)) return 'decimal';
  return 'string';
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
    const type = schema[columnName] ?? inferColumnType(cells);
    const values = cells.map((cell, i) => {
      const value = parseCell(type, cell);
      if (value === undefined) {
        const where = { line: body[i].info.lines, row: i + 1, column: columnName };
        throw new CsvError(
          `line ${where.line} (row ${where.row}), column ${JSON.stringify(columnName)}: expected ` +
            `${describeType(type)}, got a ${cell.length}-character value`,
          { ...where, reason: 'type' },
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
  return parseCsv(name, readFileSync(path), options);
}
