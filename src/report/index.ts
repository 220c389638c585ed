// Run reports (issue 6): markdown plus a self-contained HTML page with inline SVG plots.

export { answerRows } from './answer-rows.js';
export { baselineBenchRatios } from './bench-ratios.js';
export { formatMs, type RenderedReport, type RunReport, renderReport, writeReport } from './report.js';
export { barChart, escapeXml, linePlot, niceTicks } from './svg.js';
