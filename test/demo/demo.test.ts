// `fedjoin demo` (issue 4, item 7): the whole pipeline at 1024 bits with a tiny nested
// sample gives the plaintext join's answers in both modes; the plaintext reference and
// its comparisons catch a wrong answer; bad options are refused before anything starts.
import { describe, expect, it } from 'vitest';
import { type AnswerRecord, sameAnswer } from '../../src/demo/compare.js';
import { runDemo } from '../../src/demo/in-process.js';
import { checkDemoOptions } from '../../src/demo/options.js';
import { plaintextAggregates, plaintextJoin, sameNumber } from '../../src/demo/plaintext.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseQuery } from '../../src/query/sql.js';
import { keyedTable } from '../helpers/tables.js';

describe('runDemo', () => {
  // ~25 s on 2 idle cores, most of it the training part; 60 s ran out under a load average of 6
  it('answers every query in both modes as the plaintext join does', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      bits: 1024,
      nestedRows: 8,
      minGroupSize: 2,
      workers: 2,
      progress: false,
      print: (line) => lines.push(line),
    });
    expect(result.ok).toBe(true);
    expect(result.queries.map((q) => [q.mode, q.match])).toEqual([
      ['hashed', true],
      ['hashed', true],
      ['nested', true],
      ['nested', true],
    ]);
    const [hashedAverages, hashedTotals, nestedAverages] = result.queries;
    expect(hashedAverages.rowsJoined).toBe(250);
    expect(hashedAverages.values?.['COUNT(*)']).toBe(250);
    expect(hashedAverages.values?.['AVG(h.mean_radius)']).toBeCloseTo(14.308252, 6);
    expect(hashedTotals.values?.['SUM(h.malignant)']).toBe(
      Number(hashedTotals.expected.values?.['SUM(h.malignant)']),
    );
    // 8 x 8 sample, half of the hospital's rows inside the overlap
    expect(result.nestedSample).toMatchObject({ commonIds: 4, indicatorsPerQuery: 64 });
    expect(nestedAverages).toMatchObject({ rowsJoined: 4, indicators: 64, refused: false });
    // only the queried columns were encrypted, and the join key once, as a hashed tag
    expect(result.encrypted[0]).toMatchObject({
      owner: 'hospital',
      columns: ['mean_radius', 'malignant'],
      joinKeys: [['id']],
      ciphertexts: 400 * 3,
    });
    const text = lines.join('\n');
    expect(text).toContain('DJN short-exponent assumption');
    expect(text).toContain('ok: 4 of 4 answers match');
    expect(text).toMatch(/plain SELECT: .*\n\s+refused/);
    expect(text).not.toContain('MISMATCH');
    expect(result.bytesSent).toBeGreaterThan(0);
  }, 180_000);

  it('refuses bad options before starting', async () => {
    for (const options of [
      { bits: 1023 },
      { bits: 256 },
      { nestedRows: -1 },
      { nestedRows: 1.5 },
      { workers: -2 },
    ]) {
      expect(() => checkDemoOptions(options)).toThrow(InvalidArgumentError);
    }
    await expect(runDemo({ nestedRows: 10_000, quiet: true })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('the plaintext reference', () => {
  const left = keyedTable('l', { name: 'x', type: 'decimal' }, [
    [1n, 1.5],
    [2n, 2.25],
    [2n, -3],
    [5n, 4],
  ]);
  const right = keyedTable('r', { name: 'y', type: 'decimal' }, [
    [2n, 10],
    [2n, 20],
    [1n, 0.5],
    [7n, 1],
  ]);

  it('joins with duplicates on both sides, as SQL does', () => {
    const query = parseQuery('SELECT COUNT(*), SUM(a.x), AVG(b.y) FROM l a JOIN r b ON a.k = b.k');
    const pairs = plaintextJoin(query, left, right);
    expect(pairs).toEqual([
      [0, 2],
      [1, 0],
      [1, 1],
      [2, 0],
      [2, 1],
    ]);
    expect(plaintextAggregates(query, left, right, pairs)).toEqual({
      'COUNT(*)': 5,
      'SUM(a.x)': 1.5 + 2 * 2.25 - 2 * 3,
      'AVG(b.y)': (0.5 + 10 + 20 + 10 + 20) / 5,
    });
  });

  it('compares numbers within the fixed-point tolerance', () => {
    expect(sameNumber(904.2728 + 1e-10, 904.2728)).toBe(true);
    expect(sameNumber(904.273, 904.2728)).toBe(false);
  });
});

describe('sameAnswer (both drivers check with it)', () => {
  const answer = (fields: Partial<AnswerRecord>): AnswerRecord => ({
    rowsJoined: 5,
    refused: false,
    ...fields,
  });

  it('agrees on refusals, and never on an error', () => {
    expect(
      sameAnswer(answer({ refused: true, error: 'POLICY_REFUSED: ...' }), answer({ refused: true })),
    ).toBe(true);
    expect(sameAnswer(answer({ refused: true }), answer({}))).toBe(false);
    expect(sameAnswer(answer({ values: {} }), answer({ refused: true }))).toBe(false);
    expect(sameAnswer(answer({ error: 'TRANSPORT: down' }), answer({}))).toBe(false);
  });

  it('compares aggregates within the tolerance, label by label', () => {
    const want = answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.2728 } });
    expect(sameAnswer(answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.2728 + 1e-10 } }), want)).toBe(true);
    expect(sameAnswer(answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.273 } }), want)).toBe(false);
    expect(sameAnswer(answer({ values: { 'COUNT(*)': 5 } }), want)).toBe(false);
    expect(sameAnswer(answer({ rowsJoined: 4, values: want.values }), want)).toBe(false);
  });
});
