// The HTML report in a real browser (issue 6): headless Chromium renders the page with
// nothing but its own bytes and we check what a person would see: the loss plot with one
// visible point per round, the bar chart with one visible bar per ratio, every bar drawn
// upward from the axis with a height that grows with its ratio, and no request made.
// Needs a Chromium binary (Debian package `chromium`); without one the test is skipped
// with a message, so machines without a browser still pass (CI installs it).
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/report.js';
import { sampleReport } from '../helpers/sample-report.js';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
const executablePath = candidates.find((path): path is string => !!path && existsSync(path));
if (!executablePath) {
  console.warn(
    'test/report/chromium.test.ts: skipped: no Chromium binary at /usr/bin/chromium (apt-get install -y chromium) or $CHROMIUM_PATH',
  );
}

describe.skipIf(!executablePath)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => browser?.close());

  it('shows the loss plot and the ratio bars, and loads nothing', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(renderReport(sampleReport).html, { waitUntil: 'load' });

    expect(await page.title()).toBe(sampleReport.title);
    const plots = await page.evaluate(() => {
      const box = (e: Element) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height, bottom: r.bottom };
      };
      const loss = document.querySelector('svg[data-plot="loss-plot"]');
      const bench = document.querySelector('svg[data-plot="bench-plot"]');
      return {
        loss: loss && {
          box: box(loss),
          points: Array.from(loss.querySelectorAll('circle.point'), box),
          lines: loss.querySelectorAll('polyline.line').length,
        },
        bench: bench && { box: box(bench), bars: Array.from(bench.querySelectorAll('rect.bar'), box) },
      };
    });

    expect(plots.loss).not.toBeNull();
    expect(plots.loss!.box.width).toBeGreaterThan(200);
    expect(plots.loss!.points).toHaveLength(sampleReport.lossPerRound!.length);
    expect(plots.loss!.lines).toBe(1);
    for (const p of plots.loss!.points) expect(p.width).toBeGreaterThan(0);
    // rounds run left to right, and the loss falls: each point lower on screen is a larger y
    const xs = plots.loss!.points.map((p) => p.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    const ys = plots.loss!.points.map((p) => p.y);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));

    expect(plots.bench).not.toBeNull();
    expect(plots.bench!.bars).toHaveLength(sampleReport.benchRatios!.length);
    const bottoms = plots.bench!.bars.map((b) => Math.round(b.bottom));
    expect(new Set(bottoms).size).toBe(1); // all bars stand on the axis
    const heights = plots.bench!.bars.map((b) => b.height);
    const ratios = sampleReport.benchRatios!.map((b) => b.ratio);
    for (let i = 0; i < ratios.length; i++) {
      expect(heights[i] / heights[0]).toBeCloseTo(ratios[i] / ratios[0], 1);
    }

    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    await page.close();
  });
});
