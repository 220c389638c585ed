// The tables: each row's p50 CPU time per value and its ratios (ratios.ts) against the
// paillier-bigint, plain BigInt and gmp-wasm rows of the same case and batch size, printed
// as text and as markdown.
import type { Measurement } from './harness.js';
import { ratios } from './ratios.js';
import type { TargetResult } from './targets.js';
import { BASELINES } from './types.js';

export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(3);
}

export function formatRate(perSec: number): string {
  return perSec >= 100 ? perSec.toFixed(0) : perSec.toPrecision(3);
}

export function formatRatio(r: number | undefined): string {
  if (r === undefined) return '-';
  if (r >= 100) return `${r.toFixed(0)}x`;
  if (r >= 10) return `${r.toFixed(1)}x`;
  return `${r.toFixed(2)}x`;
}

const HEAD = [
  'batch',
  'implementation',
  'ms/op',
  'wall ms/op',
  'ops/s',
  ...BASELINES.map((b) => `vs ${b}`),
  'samples',
];

function rowCells(all: readonly Measurement[], m: Measurement): string[] {
  const r = ratios(all, m);
  return [
    `x${m.batch}`,
    m.impl,
    formatMs(m.p50OpMs),
    formatMs(m.wallP50OpMs),
    formatRate(m.opsPerSec),
    ...BASELINES.map((b) => formatRatio(r[b])),
    m.callsPerSample > 1 ? `${m.samples}x${m.callsPerSample}` : String(m.samples),
  ];
}

export interface CaseInfo {
  id: string;
  title: string;
}

function groups(cases: readonly CaseInfo[], all: readonly Measurement[]) {
  return cases
    .map((c) => ({ c, rows: all.filter((m) => m.caseId === c.id) }))
    .filter((g) => g.rows.length > 0)
    .map(({ c, rows }) => {
      const notes = new Map<string, string>();
      for (const m of rows) if (m.note) notes.set(m.impl, m.note);
      return { c, rows, notes };
    });
}

/** A target's ratios with 4 significant digits, so that 1.996x is not shown as a passing 2.00x. */
function targetRatios(t: TargetResult): string {
  return (
    t.ratios
      .map((r) => `x${r.batch} ${r.ratio >= 1000 ? r.ratio.toFixed(0) : r.ratio.toPrecision(4)}x`)
      .join(', ') || '-'
  );
}

function targetLine(t: TargetResult): string {
  return `${t.text}: ${targetRatios(t)}: ${t.verdict}`;
}

/** Aligned plain-text tables, one per case, then one line per target. */
export function textReport(
  cases: readonly CaseInfo[],
  all: readonly Measurement[],
  targets: TargetResult[],
): string {
  const lines: string[] = [];
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  for (const { c, rows, notes } of groups(cases, all)) {
    const table = [HEAD, ...rows.map((m) => rowCells(all, m))];
    const widths = HEAD.map((_, j) => Math.max(...table.map((r) => r[j].length)));
    lines.push('', c.title);
    for (const r of table) {
      lines.push(
        `  ${r.map((cell, j) => (right.has(j) ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  ')}`,
      );
    }
    for (const [impl, note] of notes) lines.push(`  * ${impl}: ${note}`);
  }
  lines.push(
    '',
    'Targets (issues 2 and 11; ratio = paillier-bigint / plain BigInt / gmp-wasm / unpacked time over fedjoin time):',
  );
  for (const t of targets) lines.push(`  target ${targetLine(t)}`);
  return lines.join('\n');
}

export function markdownReport(
  cases: readonly CaseInfo[],
  all: readonly Measurement[],
  targets: TargetResult[],
): string {
  const lines: string[] = [];
  const align = HEAD.map((_, j) => (j < 2 ? '---' : '---:'));
  for (const { c, rows, notes } of groups(cases, all)) {
    lines.push(`### ${c.title}`, '', `| ${HEAD.join(' | ')} |`, `| ${align.join(' | ')} |`);
    for (const m of rows) lines.push(`| ${rowCells(all, m).join(' | ')} |`);
    if (notes.size > 0) lines.push('');
    for (const [impl, note] of notes) lines.push(`- ${impl}: ${note}`);
    lines.push('');
  }
  lines.push('### Targets (issues 2 and 11)', '', '| target | measured | verdict |', '| --- | --- | --- |');
  for (const t of targets) lines.push(`| ${t.text} | ${targetRatios(t)} | ${t.verdict} |`);
  return lines.join('\n');
}
