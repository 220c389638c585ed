// `fedjoin demo` (issue 4, item 7): the whole pipeline at 1024 bits with a tiny nested
// sample gives the plaintext join's answers in both modes; the plaintext reference and
// its comparisons catch a wrong answer; bad options are refused before anything starts.
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../src/data/table.js';
import { type AnswerRecord, sameAnswer } from '../../src/demo/compare.js';
import { runDemo } from '../../src/demo/in-process.js';
import { checkDemoOptions } from '../../src/demo/options.js';
import {
  plaintextAggregates,
  plaintextJoin,
  plaintextRows,
  sameNumber,
  sameRows,
} from '../../src/demo/plaintext.js';
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
    expect(result.queries.map((q) => [q.mode, q.kind, q.match])).toEqual([
      ['hashed', 'aggregate', true],
      ['hashed', 'features', true],
      ['nested', 'aggregate', true],
      ['nested', 'features', true],
    ]);
    const [hashedAggregate, hashedFeatures, nestedAggregate, nestedFeatures] = result.queries;
    expect(hashedAggregate.rowsJoined).toBe(250);
    expect(hashedAggregate.values?.['COUNT(*)']).toBe(250);
    expect(hashedAggregate.values?.['AVG(h.mean_radius)']).toBeCloseTo(14.308252, 6);
    expect(hashedFeatures.featureSet?.rows).toBe(250);
    // column names as B labels them ('mean_radius' or 'hospital.mean_radius')
    expect(hashedFeatures.featureSet?.columns.map((c) => c.split('.').at(-1))).toEqual([
      'mean_radius',
      'malignant',
      'worst_area',
    ]);
    // 8 x 8 sample, half of the hospital's rows inside the overlap
    expect(result.nestedSample).toMatchObject({ commonIds: 4, indicatorsPerQuery: 64 });
    expect(nestedAggregate).toMatchObject({ rowsJoined: 4, indicators: 64, refused: false });
    expect(nestedFeatures.featureSet?.rows).toBe(4);
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
    const features = parseQuery('SELECT b.y, a.x FROM l a JOIN r b ON a.k = b.k');
    expect(plaintextRows(features, left, right, pairs)[0]).toEqual([0.5, 1.5]);
  });

  it('compares shuffled rows within the fixed-point tolerance, and catches a wrong one', () => {
    const expected: Cell[][] = [
      [1.5, 1n, 'a'],
      [2.25, 0n, 'b'],
      [2.25, 0n, 'b'],
    ];
    const shuffled: Cell[][] = [
      [2.25, 0n, 'b'],
      [1.5 + 2 ** -33, 1n, 'a'],
      [2.25, 0n, 'b'],
    ];
    expect(sameRows(shuffled, expected)).toBe(true);
    expect(sameRows(shuffled.slice(1), expected)).toBe(false);
    expect(sameRows([...shuffled.slice(1), [2.25, 1n, 'b']], expected)).toBe(false);
    expect(sameRows([...shuffled.slice(1), [2.2501, 0n, 'b']], expected)).toBe(false);
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
      sameAnswer(
        'aggregate',
        answer({ refused: true, error: 'POLICY_REFUSED: ...' }),
        answer({ refused: true }),
      ),
    ).toBe(true);
    expect(sameAnswer('aggregate', answer({ refused: true }), answer({}))).toBe(false);
    expect(sameAnswer('aggregate', answer({ values: {} }), answer({ refused: true }))).toBe(false);
    expect(sameAnswer('aggregate', answer({ error: 'TRANSPORT: down' }), answer({}))).toBe(false);
  });

  it('compares aggregates within the tolerance, label by label', () => {
    const want = answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.2728 } });
    expect(
      sameAnswer('aggregate', answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.2728 + 1e-10 } }), want),
    ).toBe(true);
    expect(sameAnswer('aggregate', answer({ values: { 'COUNT(*)': 5, 'AVG(a.x)': 904.273 } }), want)).toBe(
      false,
    );
    expect(sameAnswer('aggregate', answer({ values: { 'COUNT(*)': 5 } }), want)).toBe(false);
    expect(sameAnswer('aggregate', answer({ rowsJoined: 4, values: want.values }), want)).toBe(false);
  });

  it('compares feature sets by row count and digest unless told otherwise', () => {
    const set = (digest: string) => ({ rows: 5, columns: ['x'], digest });
    const want = answer({ featureSet: set('ab') });
    expect(sameAnswer('features', answer({ featureSet: set('ab') }), want)).toBe(true);
    expect(sameAnswer('features', answer({ featureSet: set('cd') }), want)).toBe(false);
    expect(sameAnswer('features', answer({}), want)).toBe(false);
    // the in-process driver compares B's rows with the plaintext ones itself (fixed-point decimals)
    expect(sameAnswer('features', answer({ featureSet: set('cd') }), answer({}), true)).toBe(true);
  });
});
