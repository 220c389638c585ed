// Hand-drawn inline SVG plots for the run report (issue 6): a line plot (loss per round)
// and a bar chart (benchmark ratios). No dependency and no script: the markup is the
// picture, so the HTML page stays self-contained. Each point is a <circle class="point">
// and each bar a <rect class="bar">, with a <title> a browser shows on hover; the root
// <svg> carries data-plot and data-count so tests (and people) can find them.

export interface PlotSize {
  width: number;
  height: number;
}

const MARGIN = { top: 16, right: 20, bottom: 44, left: 64 };

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Rounds for display without trailing noise: 4 significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

/** About `count` round tick values covering [min, max] (1, 2, 5 x 10^k steps). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/**
 * A line plot of `values` against 1..N (rounds). Non-finite values are left out (a gap
 * in the line, noted in the caption); the y axis spans the finite values' nice range.
 */
export function linePlot(
  values: readonly number[],
  options: { id: string; xLabel: string; yLabel: string; title: string; size?: PlotSize },
): string {
  const { width, height } = options.size ?? { width: 640, height: 300 };
  const points = values.map((v, i) => ({ x: i + 1, y: v })).filter((p) => Number.isFinite(p.y));
  const ys = points.map((p) => p.y);
  const ticks = niceTicks(Math.min(...ys, Infinity), Math.max(...ys, -Infinity));
  const [y0, y1] = ys.length > 0 ? [ticks[0], ticks[ticks.length - 1]] : [0, 1];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const n = values.length;
  const sx = (x: number) => MARGIN.left + (n <= 1 ? plotW / 2 : ((x - 1) / (n - 1)) * plotW);
  const sy = (y: number) => MARGIN.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;

  const parts: string[] = [];
  for (const t of ys.length > 0 ? ticks : []) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(t))}</text>`,
    );
  }
  for (const x of xTicks(n)) {
    parts.push(
      `<text class="tick" x="${sx(x).toFixed(1)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${x}</text>`,
    );
  }
  parts.push(axes(width, height), axisLabels(width, height, options.xLabel, options.yLabel));
  // consecutive finite points form segments; a non-finite value breaks the line
  let segment: string[] = [];
  const flush = () => {
    if (segment.length > 1) parts.push(`<polyline class="line" points="${segment.join(' ')}"/>`);
    segment = [];
  };
  values.forEach((v, i) => {
    if (Number.isFinite(v)) segment.push(`${sx(i + 1).toFixed(1)},${sy(v).toFixed(1)}`);
    else flush();
  });
  flush();
  for (const p of points) {
    parts.push(
      `<circle class="point" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5"><title>round ${p.x}: ${escapeXml(formatNumber(p.y))}</title></circle>`,
    );
  }
  return svg(options.id, options.title, width, height, points.length, parts);
}

/** A bar chart of labelled ratios from 0, with a dashed reference line at 1x. */
export function barChart(
  items: readonly { label: string; value: number }[],
  options: { id: string; yLabel: string; title: string; size?: PlotSize; unit?: string },
): string {
  const width = options.size?.width ?? 640;
  const height = options.size?.height ?? 320;
  const unit = options.unit ?? '';
  const finite = items.filter((item) => Number.isFinite(item.value) && item.value >= 0);
  const ticks = niceTicks(0, Math.max(1, ...finite.map((b) => b.value)));
  const yMax = ticks[ticks.length - 1];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const sy = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const slot = plotW / Math.max(1, finite.length);
  const barW = Math.min(80, slot * 0.7);

  const parts: string[] = [];
  for (const t of ticks) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(t))}${unit}</text>`,
    );
  }
  finite.forEach((item, i) => {
    const x = MARGIN.left + slot * i + (slot - barW) / 2;
    const y = sy(item.value);
    const label = escapeXml(item.label);
    const value = `${escapeXml(formatNumber(item.value))}${unit}`;
    parts.push(
      `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${(MARGIN.top + plotH - y).toFixed(1)}"><title>${label}: ${value}</title></rect>`,
      `<text class="value" x="${(x + barW / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${value}</text>`,
      `<text class="tick" x="${(x + barW / 2).toFixed(1)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${escapeXml(truncate(item.label, Math.floor(slot / 6.5)))}</text>`,
    );
  });
  const one = sy(1).toFixed(1);
  parts.push(
    `<line class="reference" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${one}" y2="${one}"/>`,
    axes(width, height),
    axisLabels(width, height, '', options.yLabel),
  );
  return svg(options.id, options.title, width, height, finite.length, parts);
}

function svg(
  id: string,
  title: string,
  width: number,
  height: number,
  count: number,
  parts: string[],
): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${escapeXml(id)}" data-plot="${escapeXml(id)}" data-count="${count}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

function axes(width: number, height: number): string {
  const bottom = height - MARGIN.bottom;
  return `<path class="axis" d="M${MARGIN.left},${MARGIN.top} V${bottom} H${width - MARGIN.right}"/>`;
}

function axisLabels(width: number, height: number, xLabel: string, yLabel: string): string {
  const midY = MARGIN.top + (height - MARGIN.top - MARGIN.bottom) / 2;
  const x = xLabel
    ? `<text class="label" x="${MARGIN.left + (width - MARGIN.left - MARGIN.right) / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(xLabel)}</text>`
    : '';
  return `${x}<text class="label" transform="translate(14 ${midY}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`;
}

/** At most ~10 integer x ticks over 1..n. */
function xTicks(n: number): number[] {
  if (n < 1) return [];
  const step = Math.max(1, Math.ceil(n / 10));
  const ticks: number[] = [];
  for (let x = 1; x <= n; x += step) ticks.push(x);
  if (ticks[ticks.length - 1] !== n) ticks.push(n);
  return ticks;
}

/** Shortens a label to about `chars` characters (the full label stays in the bar's <title>). */
function truncate(text: string, chars: number): string {
  const room = Math.max(4, chars);
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}
