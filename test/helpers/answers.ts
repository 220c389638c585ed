// Reading a client's answer in tests: its items by label, and the check that each item
// equals SQLite's value for the same query, exactly for COUNT and integer SUM (bigints),
// to `digits` significant digits for AVG and decimal SUM (fixed point with F = 32).
import { expect } from 'vitest';
import type { Answer } from '../../src/roles/client.js';
import type { SqlValue } from './sqlite.js';

/** label -> value; a label asked twice keeps the last. */
export function valuesOf(answer: Answer): Record<string, bigint | number> {
  return Object.fromEntries(answer.items.map((i) => [i.label, i.value]));
}

/** Each item of `answer` against SQLite's row for the same SELECT list, in order. */
export function expectSqliteAnswer(answer: Answer, row: readonly SqlValue[], digits = 9): void {
  expect(answer.items.length, 'one answer per select item').toBe(row.length);
  answer.items.forEach((item, k) => {
    const want = row[k];
    if (typeof item.value === 'bigint') {
      expect(item.value, `${item.label} (exact)`).toBe(BigInt(want as bigint | number));
    } else {
      expect(Number(item.value.toPrecision(digits)), item.label).toBe(
        Number(Number(want).toPrecision(digits)),
      );
    }
  });
}
