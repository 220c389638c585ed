// The report of `fedjoin demo` (issue 6): answers, timings per phase, the DP statement of
// the training part, loss per round and the newest benchmark ratios, via src/report/.
import type { RunReport } from '../report/index.js';
import { baselineBenchRatios, writeReport } from '../report/index.js';

import type { DemoResult } from './in-process.js';
import type { ProcessDemoResult } from './processes.js';

const show = (v: number) => Number(v.toPrecision(10));

export async function demoReport(result: DemoResult, processes?: ProcessDemoResult): Promise<RunReport> {
  const answers: RunReport['answers'] = [];
  for (const q of result.queries) {
    const name = `${q.mode} aggregate (${q.sql.includes('sample') ? 'nested sample' : 'full tables'})`;
    answers.push({ label: `${name}: rows joined`, value: q.rowsJoined ?? '-' });
    for (const [label, v] of Object.entries(q.values ?? {}))
      answers.push({ label: `${name}: ${label}`, value: show(v) });
    if (q.refused) answers.push({ label: `${name}: refused by server B`, value: true });
    answers.push({ label: `${name}: matches the plaintext join`, value: q.match });
  }
  for (const run of result.training?.runs ?? []) {
    const ev = run.report.evaluation;
    if (ev) answers.push({ label: `training ${run.label}: accuracy`, value: show(ev.accuracy) });
  }
  if (result.training) {
    answers.push({
      label: 'plaintext baseline (same objective, same joined rows): accuracy',
      value: show(result.training.baseline.accuracy),
    });
  }
  const timings: RunReport['timings'] = result.phases.map((p) => ({ phase: p.name, ms: p.ms }));
  if (processes) {
    for (const q of processes.queries) {
      answers.push({ label: `over HTTP, ${q.mode} aggregate: equals the in-process answer`, value: q.match });
    }
    for (const t of processes.training) {
      const ev = t.report?.evaluation;
      if (ev) answers.push({ label: `over HTTP, training ${t.label}: accuracy`, value: show(ev.accuracy) });
      answers.push({
        label: `over HTTP, training ${t.label}: ${t.dp ? 'within 3 points of the baseline' : 'the in-process model'}`,
        value: t.match,
      });
    }
    answers.push({ label: 'over HTTP: wall time / in-process', value: show(processes.wall.ratio) });
    if (processes.wall.training) {
      answers.push({
        label: 'over HTTP: training wall time / in-process',
        value: show(processes.wall.training.ratio),
      });
    }
    if (processes.probe) {
      answers.push({
        label: `encrypted table ${processes.probe.rows} rows owner -> A (MB/s)`,
        value: show(processes.probe.megabytesPerSecond),
      });
    }
    for (const p of processes.phases)
      if (!p.name.startsWith('in-process')) timings.push({ phase: p.name, ms: p.ms });
  }
  const dpRun = result.training?.runs.find((r) => r.report.epsilon !== null);
  const lastRun = dpRun ?? result.training?.runs.at(-1);
  const privacy = dpRun
    ? `Training with DP-SGD at server B: (epsilon = ${dpRun.report.epsilon?.toFixed(3)}, delta = ${dpRun.report.delta})` +
      ` spent over ${dpRun.report.rounds} rounds on ${dpRun.report.rowsJoined} joined rows (RDP accountant, ` +
      'Poisson-subsampled Gaussian). Not covered: the standardisation statistics and the owners\u2019 aggregates. ' +
      `Aggregate query answers are exact totals, released by B only for groups of at least ${result.minGroupSize} rows.`
    : `No differentially private training in this run. Aggregate query answers are exact totals, released by B only for groups of at least ${result.minGroupSize} rows.`;
  const bench = await baselineBenchRatios();
  return {
    title: processes ? 'fedjoin demo (roles in separate processes)' : 'fedjoin demo',
    generatedAt: new Date().toISOString(),
    answers,
    timings,
    privacy,
    ...(lastRun ? { lossPerRound: lastRun.report.lossPerRound.filter((l): l is number => l !== null) } : {}),
    ...(bench ? { benchRatios: bench.ratios } : {}),
  };
}

export async function writeDemoReport(
  dir: string,
  result: DemoResult,
  processes?: ProcessDemoResult,
): Promise<{ markdown: string; html: string }> {
  return writeReport(dir, await demoReport(result, processes));
}
