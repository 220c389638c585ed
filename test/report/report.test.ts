// The run report's text (issue 6): markdown tables with every answer, timing, the DP
// statement and the plotted series; an HTML page that is self-contained (no script, no
// external URL, a CSP that forbids fetching) and escapes every string; one SVG point per
// round and one bar per ratio. The browser check is chromium.test.ts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMs, renderReport, writeReport } from '../../src/report/report.js';
import { niceTicks } from '../../src/report/svg.js';
import { sampleReport } from '../helpers/sample-report.js';

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe('markdown', () => {
  const { markdown } = renderReport(sampleReport);

  it('has the answers, timings with a total, the privacy statement and both series', () => {
    expect(markdown).toMatch(/^# fedjoin demo: breast-cancer join <hospital & lab>\n/);
    expect(markdown).toContain('| rows joined | 569 |');
    expect(markdown).toContain('| AVG(h.mean_radius) | 14.13 |');
    expect(markdown).toContain('| COUNT(*) | 569 |');
    expect(markdown).toContain('| encrypt tables | 8.12 s | 74.9% |');
    expect(markdown).toContain('| **total** | **10.84 s** |  |');
    expect(markdown).toContain('## Privacy\n\n(epsilon = 1.84, delta = 1e-5)');
    expect(markdown).toContain('| 5 | 0.281 |');
    expect(markdown).toContain('| join tile 64x64 | 11.8× |');
  });

  it('escapes pipes so a label cannot break its table', () => {
    expect(markdown).toContain('| accuracy \\| held-out | 0.947 |');
  });

  it('leaves out the optional sections when absent', () => {
    const bare = renderReport({ title: 't', answers: [], timings: [{ phase: 'p', ms: 1 }] }).markdown;
    expect(bare).not.toMatch(/Privacy|Loss per round|Benchmark/);
    expect(bare).toContain('_No answers._');
  });
});

describe('HTML', () => {
  const { html } = renderReport(sampleReport);

  it('is self-contained: no script, no external URL, a CSP that forbids fetching', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)=/i);
    // the only URL is the SVG namespace, which is an identifier, never fetched
    expect(html.match(/https?:\/\/[^\s"']+/g)?.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes every string', () => {
    expect(html).toContain('<h1>fedjoin demo: breast-cancer join &#60;hospital &#38; lab&#62;</h1>');
    const hostile = renderReport({
      title: '</title><script>alert(1)</script>',
      answers: [{ label: '<img src=x onerror=alert(1)>', value: '"quoted"' }],
      timings: [],
      benchRatios: [{ label: '<b onclick="x">', ratio: 2 }],
    }).html;
    expect(hostile).not.toMatch(/<script|<img|<b /);
  });

  it('draws one point per round and one bar per ratio', () => {
    expect(count(html, /<circle class="point"/g)).toBe(5);
    expect(count(html, /<rect class="bar"/g)).toBe(3);
    expect(html).toContain('data-plot="loss-plot" data-count="5"');
    expect(html).toContain('data-plot="bench-plot" data-count="3"');
  });

  it('leaves non-finite losses out of the plot and says so', () => {
    const { html: gappy } = renderReport({ ...sampleReport, lossPerRound: [0.7, Number.NaN, 0.4, 0.3] });
    expect(count(gappy, /<circle class="point"/g)).toBe(3);
    expect(gappy).toContain('1 non-finite value(s) left out');
  });

  it('plots a single round and a single bar', () => {
    const { html: one } = renderReport({
      ...sampleReport,
      lossPerRound: [0.5],
      benchRatios: [{ label: 'x', ratio: 0.5 }],
    });
    expect(count(one, /<circle class="point"/g)).toBe(1);
    expect(count(one, /<rect class="bar"/g)).toBe(1);
    expect(one).not.toMatch(/NaN|Infinity/);
  });
});

describe('helpers', () => {
  it('formats durations', () => {
    expect([0.25, 12.34, 4321, 125_000].map(formatMs)).toEqual([
      '0.250 ms',
      '12.3 ms',
      '4.32 s',
      '2 min 5.0 s',
    ]);
  });

  it('picks round ticks that cover the range', () => {
    expect(niceTicks(0, 11.8)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0.281, 0.69)).toEqual([0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    const flat = niceTicks(3, 3);
    expect(flat[0]).toBeLessThan(3);
    expect(flat.at(-1)).toBeGreaterThan(3);
  });

  it('writes report.md and report.html', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedjoin-report-'));
    try {
      const paths = await writeReport(dir, sampleReport);
      expect(await readFile(paths.markdown, 'utf8')).toBe(renderReport(sampleReport).markdown);
      expect(await readFile(paths.html, 'utf8')).toBe(renderReport(sampleReport).html);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
