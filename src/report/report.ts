// The run report of `fedjoin demo` and `fedjoin query` (issue 6): the answers, timings
// per phase, the differential-privacy statement and, when present, the loss per round
// and the benchmark ratios, as markdown and as one self-contained HTML page whose plots
// are inline SVG (svg.ts). The page loads nothing: no script, no stylesheet, no font, no
// image, and its Content-Security-Policy forbids any fetch. All text is escaped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { barChart, escapeXml, formatNumber, linePlot } from './svg.js';

export interface RunReport {
  title: string;
  answers: { label: string; value: string | number | bigint | boolean }[];
  timings: { phase: string; ms: number }[];
  /** The DP statement, e.g. "(epsilon = 1.2, delta = 1e-5)-DP over 3 rounds". */
  privacy?: string;
  /** Training loss after each round. */
  lossPerRound?: number[];
  /** Speed-ups of the engine over a baseline (ratio > 1: faster). */
  benchRatios?: { label: string; ratio: number }[];
  /** ISO time stamp shown under the title (default: none, so output is reproducible). */
  generatedAt?: string;
}

export interface RenderedReport {
  markdown: string;
  html: string;
}

/** The report as markdown and as a self-contained HTML page. */
export function renderReport(report: RunReport): RenderedReport {
  return { markdown: renderMarkdown(report), html: renderHtml(report) };
}

/** Writes <dir>/<name>.md and <dir>/<name>.html; returns their paths. */
export async function writeReport(
  dir: string,
  report: RunReport,
  name = 'report',
): Promise<{ markdown: string; html: string }> {
  const rendered = renderReport(report);
  await mkdir(dir, { recursive: true });
  const paths = { markdown: join(dir, `${name}.md`), html: join(dir, `${name}.html`) };
  await writeFile(paths.markdown, rendered.markdown);
  await writeFile(paths.html, rendered.html);
  return paths;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(1)} s`;
}

function formatValue(value: RunReport['answers'][number]['value']): string {
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

function totalMs(report: RunReport): number {
  return report.timings.reduce((sum, t) => sum + (Number.isFinite(t.ms) ? t.ms : 0), 0);
}

function share(ms: number, total: number): string {
  return total > 0 && Number.isFinite(ms) ? `${((100 * ms) / total).toFixed(1)}%` : '';
}

// ---- markdown

/** A markdown table cell: pipes escaped, line breaks flattened. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function renderMarkdown(report: RunReport): string {
  const out: string[] = [`# ${report.title.replace(/\r?\n/g, ' ')}`, ''];
  if (report.generatedAt) out.push(`_Generated ${report.generatedAt}_`, '');
  out.push(
    '## Answers',
    '',
    report.answers.length > 0
      ? table(
          ['answer', 'value'],
          report.answers.map((a) => [a.label, formatValue(a.value)]),
        )
      : '_No answers._',
    '',
  );
  const total = totalMs(report);
  out.push(
    '## Timings',
    '',
    table(
      ['phase', 'time', 'share'],
      [
        ...report.timings.map((t) => [t.phase, formatMs(t.ms), share(t.ms, total)]),
        ['**total**', `**${formatMs(total)}**`, ''],
      ],
    ),
    '',
  );
  if (report.privacy) out.push('## Privacy', '', report.privacy, '');
  if (report.lossPerRound && report.lossPerRound.length > 0) {
    out.push(
      '## Loss per round',
      '',
      table(
        ['round', 'loss'],
        report.lossPerRound.map((loss, i) => [String(i + 1), formatNumber(loss)]),
      ),
      '',
      '_Plotted in the HTML report._',
      '',
    );
  }
  if (report.benchRatios && report.benchRatios.length > 0) {
    out.push(
      '## Benchmark ratios',
      '',
      table(
        ['case', 'speed-up'],
        report.benchRatios.map((b) => [b.label, `${formatNumber(b.ratio)}×`]),
      ),
      '',
      '_Plotted in the HTML report._',
      '',
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---- HTML

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d8dce4; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .25rem .8rem; border-bottom: 1px solid #e6e9ef; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } tfoot td { font-weight: 600; }
.meta { color: #5b6475; } .privacy { background: #f3f6fb; border-left: 4px solid #4a78c2; padding: .6rem 1rem; }
figure { margin: 1rem 0; } figcaption { color: #5b6475; font-size: .9rem; }
svg .grid { stroke: #e6e9ef; } svg .axis { stroke: #5b6475; fill: none; } svg .tick, svg .value { font-size: 11px; fill: #5b6475; }
svg .label { font-size: 12px; fill: #1d2330; } svg .line { stroke: #4a78c2; stroke-width: 2; fill: none; }
svg .point { fill: #4a78c2; } svg .bar { fill: #4a9c7a; } svg .reference { stroke: #c2554a; stroke-dasharray: 4 3; }
`;

/** Nothing may be fetched: inline styles only, and images only as data: URLs. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

function renderHtml(report: RunReport): string {
  const total = totalMs(report);
  const body: string[] = [`<h1>${escapeXml(report.title)}</h1>`];
  if (report.generatedAt) body.push(`<p class="meta">Generated ${escapeXml(report.generatedAt)}</p>`);

  body.push('<h2>Answers</h2>');
  body.push(
    report.answers.length > 0
      ? htmlTable(
          ['answer', 'value'],
          report.answers.map((a) => [a.label, formatValue(a.value)]),
          'answers',
        )
      : '<p class="meta">No answers.</p>',
  );

  body.push('<h2>Timings</h2>');
  body.push(
    htmlTable(
      ['phase', 'time', 'share'],
      report.timings.map((t) => [t.phase, formatMs(t.ms), share(t.ms, total)]),
      'timings',
      ['total', formatMs(total), ''],
    ),
  );

  if (report.privacy) {
    body.push('<h2>Privacy</h2>', `<p class="privacy">${escapeXml(report.privacy)}</p>`);
  }
  const loss = report.lossPerRound ?? [];
  if (loss.length > 0) {
    const omitted = loss.filter((v) => !Number.isFinite(v)).length;
    body.push(
      '<h2>Loss per round</h2>',
      '<figure>',
      linePlot(loss, { id: 'loss-plot', title: 'Training loss per round', xLabel: 'round', yLabel: 'loss' }),
      `<figcaption>Training loss after each of ${loss.length} rounds${
        omitted > 0 ? `; ${omitted} non-finite value(s) left out` : ''
      }.</figcaption>`,
      '</figure>',
    );
  }
  const ratios = report.benchRatios ?? [];
  if (ratios.length > 0) {
    body.push(
      '<h2>Benchmark ratios</h2>',
      '<figure>',
      barChart(
        ratios.map((b) => ({ label: b.label, value: b.ratio })),
        { id: 'bench-plot', title: 'Speed-up over the baseline', yLabel: 'speed-up (×)', unit: '×' },
      ),
      '<figcaption>Speed-up of each case over its baseline; the dashed line marks 1× (as fast).</figcaption>',
      '</figure>',
      htmlTable(
        ['case', 'speed-up'],
        ratios.map((b) => [b.label, `${formatNumber(b.ratio)}×`]),
        'bench',
      ),
    );
  }

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A table; every column after the first is numeric (right-aligned). */
function htmlTable(header: string[], rows: string[][], id: string, footer?: string[]): string {
  const cells = (r: string[], tag: 'td' | 'th') =>
    r.map((c, i) => `<${tag}${i > 0 ? ' class="num"' : ''}>${escapeXml(c)}</${tag}>`).join('');
  return [
    `<table id="${id}">`,
    `<thead><tr>${cells(header, 'th')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('\n')}</tbody>`,
    footer ? `<tfoot><tr>${cells(footer, 'td')}</tr></tfoot>` : '',
    '</table>',
  ].join('\n');
}
