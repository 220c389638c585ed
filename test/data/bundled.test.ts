import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  BUNDLED_FEATURES,
  BUNDLED_ROWS,
  bundledCsvPath,
  HOSPITAL_FEATURES,
  LAB_FEATURES,
  loadBundled,
  splitBundled,
} from '../../src/data/bundled.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { thrown } from '../helpers/thrown.js';

describe('bundled data', () => {
  test('loads 569 rows: id, 30 decimal features, integer label', () => {
    const t = loadBundled();
    expect(t.rowCount).toBe(BUNDLED_ROWS);
    expect(t.columnNames).toEqual(['id', ...BUNDLED_FEATURES, 'malignant']);
    expect(t.schema.filter((c) => c.type === 'decimal')).toHaveLength(30);
    const labels = t.column('malignant', 'integer').values;
    expect(labels.filter((v) => v === 1n)).toHaveLength(212);
    expect(labels.filter((v) => v === 0n)).toHaveLength(357);
    expect(new Set(t.column('id', 'string').values).size).toBe(BUNDLED_ROWS);
    expect(t.row(0).slice(0, 3)).toEqual(['R00000', 17.99, 10.38]);
  });

  test('keeps its CC BY 4.0 attribution next to it', () => {
    const readme = readFileSync(join(bundledCsvPath(), '..', 'README.md'), 'utf8');
    expect(readme).toContain('CC BY 4.0');
    expect(readme).toContain('doi:10.24432/C5DW2B');
  });

  test('default split: hospital rows 0..399, lab rows 150..568, 250 shared ids', () => {
    const { hospital, lab, overlapIds } = splitBundled();
    expect(hospital.name).toBe('hospital');
    expect(lab.name).toBe('lab');
    expect(hospital.rowCount).toBe(400);
    expect(lab.rowCount).toBe(419);
    expect(hospital.columnNames).toEqual(['id', ...HOSPITAL_FEATURES, 'malignant']);
    expect(lab.columnNames).toEqual(['id', ...LAB_FEATURES]);
    expect(HOSPITAL_FEATURES).toHaveLength(15);
    expect(LAB_FEATURES[0]).toBe('compactness_error');
    const hIds = hospital.column('id', 'string').values;
    const lIds = lab.column('id', 'string').values;
    expect([hIds[0], hIds[399], lIds[0], lIds[418]]).toEqual(['R00000', 'R00399', 'R00150', 'R00568']);
    const shared = hIds.filter((id) => new Set(lIds).has(id));
    expect(shared).toEqual(overlapIds);
    expect(overlapIds).toHaveLength(250);
  });

  test('each party holds the original values of its rows', () => {
    const all = loadBundled();
    const { lab } = splitBundled();
    expect(lab.column('worst_area').values[0]).toBe(all.column('worst_area').values[150]);
  });

  test.each([
    [0, 169],
    [1, 170],
    [400, 569],
  ])('overlap %i gives a lab of %i rows', (overlap, labRows) => {
    const { hospital, lab, overlapIds } = splitBundled({ overlap });
    expect(hospital.rowCount).toBe(400);
    expect(lab.rowCount).toBe(labRows);
    expect(overlapIds).toHaveLength(overlap);
  });

  test('is deterministic', () => {
    expect(splitBundled().lab.rows()).toEqual(splitBundled().lab.rows());
  });

  test.each([-1, 401, 2.5, Number.NaN])('rejects overlap %s', (overlap) => {
    const err = thrown(() => splitBundled({ overlap }));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});
