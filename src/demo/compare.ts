// What both demo drivers return, how each answer is checked against its reference, and
// how it is printed. The in-process run (in-process.ts) checks against the plaintext join
// (plaintext.ts), the process run (processes.ts) against the in-process run. Numbers agree
// within TOLERANCE (the fixed-point rounding).
import type { JoinMode, TrainingReport } from '../roles/client.js';
import { sameNumber } from './plaintext.js';
import { TRAINING_DP } from './scenario.js';

/** One query's answer: what the secure join gave, or the reference it is checked against. */
export interface AnswerRecord {
  rowsJoined: number | null;
  /** Aggregates by label. */
  values?: Record<string, number>;
  /** Server B refused the aggregate (the group is below its minimum). */
  refused: boolean;
  error?: string;
}

export interface QueryRecord extends AnswerRecord {
  mode: JoinMode;
  sql: string;
  leftRows: number;
  rightRows: number;
  /** Nested mode: the indicators A computes and B zero-tests. */
  indicators?: number;
  /** The plaintext join's answer (in-process run) or the in-process answer (process run). */
  expected: AnswerRecord & { source: 'plaintext' | 'in-process' };
  match: boolean;
  /** Server A's phases: join, aggregates. */
  timingsMs: Record<string, number>;
  totalMs: number;
  /** Bytes the in-process transport moved for it (the process run does not count them). */
  bytes?: number;
}

/** One training query, without or with DP. */
export interface TrainingRecord {
  label: string;
  dp: boolean;
  sql: string;
  /** Absent when the training failed (`error` says why). */
  report?: TrainingReport;
  error?: string;
  ms: number;
  /** The process run: the in-process training it is compared with. */
  expected?: { report: TrainingReport; ms: number };
  /** In-process: within its target of the baseline; process run: agrees with `expected` (compareTraining). */
  match: boolean;
  /** The process run: largest difference from `expected` in accuracy, AUC, log-loss, weights and bias. */
  maxDifference?: number;
}

/** An in-process training: it throws when it fails, so it always has a report. */
export type CompletedTraining = TrainingRecord & { report: TrainingReport };

/** A model trained with DP is within this much accuracy of the plaintext baseline. */
const DP_ACCURACY_MARGIN = 0.03;

/**
 * In-process targets (issue 14): without DP within 1 point of accuracy and 0.01 of AUC of
 * the plaintext optimum of the same objective on the same rows, with DP within 3 points.
 */
export function withinTarget(
  dp: boolean,
  got: { accuracy: number; auc: number },
  baseline: { accuracy: number; auc: number },
): boolean {
  if (dp) return got.accuracy >= baseline.accuracy - DP_ACCURACY_MARGIN;
  return Math.abs(got.accuracy - baseline.accuracy) <= 0.01 && Math.abs(got.auc - baseline.auc) <= 0.01;
}

/**
 * Whether `got` answers as `want` does: refusals agree, else no error, the same rows
 * joined, and the same aggregates (within the tolerance).
 */
export function sameAnswer(got: AnswerRecord, want: AnswerRecord): boolean {
  if (got.refused || want.refused) return got.refused === want.refused;
  if (got.error !== undefined || got.rowsJoined !== want.rowsJoined) return false;
  const values = got.values ?? {};
  const expected = want.values ?? {};
  return (
    Object.keys(values).length === Object.keys(expected).length &&
    Object.entries(expected).every(([label, v]) => label in values && sameNumber(values[label], v))
  );
}

/** Without DP: the same model as `expected` (within 1e-9); with DP: the in-process target of 6 points. */
export function compareTraining(r: TrainingRecord, baselineAccuracy: number): void {
  const got = r.report;
  const want = r.expected?.report;
  if (!got?.evaluation || !want?.evaluation) return;
  const diffs = [
    got.evaluation.accuracy - want.evaluation.accuracy,
    got.evaluation.auc - want.evaluation.auc,
    got.evaluation.logLoss - want.evaluation.logLoss,
    got.model.bias - want.model.bias,
    ...want.model.weights.map((w, k) => (got.model.weights[k] ?? Number.NaN) - w),
  ].map(Math.abs);
  r.maxDifference = diffs.some(Number.isNaN) ? Number.NaN : Math.max(...diffs);
  const same =
    got.rounds === want.rounds &&
    got.rowsJoined === want.rowsJoined &&
    got.model.weights.length === want.model.weights.length &&
    got.evaluation.rows === want.evaluation.rows;
  if (!r.dp) {
    r.match = same && r.maxDifference <= 1e-9;
    return;
  }
  r.match =
    same &&
    got.epsilon !== null &&
    want.epsilon !== null &&
    Math.abs(got.epsilon - want.epsilon) <= 1e-9 &&
    got.delta === want.delta &&
    got.evaluation.accuracy >= baselineAccuracy - DP_ACCURACY_MARGIN;
}

// ---- printing

export type Out = (line: string) => void;

export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const megabytes = (bytes: number) =>
  bytes >= 1e5 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const show = (v: number) => String(Number(v.toPrecision(10)));

/**
 * A query's verdict lines, under the header its driver printed when it sent the query:
 * against the plaintext join (`minGroupSize`: B's, named when it refused) or the in-process run.
 */
export function printQuery(out: Out, r: QueryRecord, minGroupSize?: number): void {
  if (r.expected.source === 'plaintext') printAgainstPlaintext(out, r, minGroupSize);
  else printAgainstInProcess(out, r);
}

function printAgainstPlaintext(out: Out, r: QueryRecord, minGroupSize: number | undefined): void {
  const verdict = (ok: boolean) => (ok ? 'match' : 'MISMATCH');
  const want = r.expected;
  if (r.error !== undefined) out(`    error: ${r.error}`);
  if (r.refused || want.refused) {
    out(
      `    server B ${r.refused ? 'refused' : 'answered'} the aggregate over ${want.rowsJoined} joined rows ` +
        `(its minimum group size is ${minGroupSize}; refusal ${want.refused ? '' : 'not '}expected): ` +
        verdict(r.match),
    );
  } else if (r.values) {
    const width = Math.max(...Object.keys(want.values ?? {}).map((l) => l.length));
    for (const [label, expected] of Object.entries(want.values ?? {})) {
      const got = r.values[label];
      const ok = got !== undefined && sameNumber(got, expected);
      out(
        `    ${label.padEnd(width)}  ${(got === undefined ? '-' : show(got)).padStart(14)}` +
          `   plaintext ${show(expected).padStart(14)}   ${verdict(ok)}`,
      );
    }
  }
  const timings = Object.entries(r.timingsMs)
    .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
    .join(', ');
  const indicators = r.indicators === undefined ? '' : `, ${r.indicators.toLocaleString('en-US')} indicators`;
  out(
    `    rows joined ${r.rowsJoined ?? '-'} (plaintext ${want.rowsJoined})${indicators} | ` +
      `${timings ? `${timings}, ` : ''}total ${seconds(r.totalMs)} | ${megabytes(r.bytes ?? 0)} moved`,
  );
}

function printAgainstInProcess(out: Out, r: QueryRecord): void {
  const verdict = r.match ? 'equal' : 'DIFFERENT';
  const want = r.expected;
  if (r.error) out(`    ${r.error} (in-process: ${want.refused ? 'refused too' : 'answered'}): ${verdict}`);
  else {
    for (const [label, v] of Object.entries(want.values ?? {})) {
      const got = r.values?.[label];
      out(
        `    ${label.padEnd(20)} ${(got === undefined ? '-' : show(got)).padStart(14)}   in-process ${show(v).padStart(14)}`,
      );
    }
  }
  out(
    `    rows joined ${r.rowsJoined ?? '-'} (in-process ${want.rowsJoined ?? '-'}) | ${seconds(r.totalMs)} | ${verdict}`,
  );
}

/** A training's lines, with the reference run's figures beside them when it has one. */
export function printTraining(out: Out, r: TrainingRecord, baselineAccuracy: number): void {
  const ref = r.expected?.report;
  const report = r.report;
  if (ref) {
    out(`  training ${r.label}: ${r.sql.replace(/^SELECT .* FROM /, 'SELECT ... FROM ')}`);
    if (r.error || !report) {
      out(`    ${r.error ?? 'no report'} | DIFFERENT`);
      return;
    }
  }
  // an in-process training that fails throws, so it always has a report
  if (!report) return;
  const run = `${report.rounds} rounds, ${report.rowsJoined === null ? 'rows joined not released (DP)' : `${report.rowsJoined} rows joined`}`;
  if (ref) {
    out(
      `    ${run} (in-process ${ref.rowsJoined}), ${seconds(r.ms)} (in-process ${seconds(r.expected!.ms)})`,
    );
  } else out(`  training ${r.label}: ${run}, ${seconds(r.ms)}`);
  const ev = report.evaluation!;
  const gap = (baselineAccuracy - ev.accuracy) * 100;
  const scores = (e: NonNullable<TrainingReport['evaluation']>) =>
    `AUC ${e.auc.toFixed(3)}, log-loss ${e.logLoss.toFixed(3)}`;
  out(
    `    accuracy ${pct(ev.accuracy)} (${gap >= 0 ? `${gap.toFixed(1)} points below` : `${(-gap).toFixed(1)} points above`} the baseline), ` +
      `${scores(ev)} on ${ev.rows} rows` +
      (ref?.evaluation
        ? ` | in-process: accuracy ${pct(ref.evaluation.accuracy)}, ${scores(ref.evaluation)}`
        : ''),
  );
  const fit = report.fit;
  if (fit) {
    const how =
      fit.method === 'newton'
        ? `Newton to a gradient max-norm of ${fit.gradientNorm?.toExponential(1)} (tolerance ${fit.tolerance}; ${fit.iterations} steps in the last round)`
        : `DP-SGD, ${fit.iterations} steps a round`;
    out(
      `    B's fit of the final model: ${how}, L2 lambda ${fit.l2.toExponential(3)} (scikit-learn's C = 1)`,
    );
  }
  const withheld = [...new Set(report.withheldPerRound.flat())];
  if (withheld.length > 0)
    out(`    withheld in some round (too few owners trained them): ${withheld.join(', ')}`);
  const losses = report.lossPerRound.map((l) => (l === null ? '-' : l.toFixed(4))).join(', ');
  out(`    B's loss of each round's global model on the joined rows: ${losses}`);
  if (report.epsilon !== null) {
    out(
      `    privacy: (epsilon ${report.epsilon.toFixed(3)}, delta ${report.delta}) spent by DP-SGD at B over all rounds ` +
        (ref
          ? `(in-process ${ref.epsilon?.toFixed(3)}); target epsilon ${TRAINING_DP.epsilon}`
          : '(RDP accountant, Poisson-subsampled Gaussian); standardisation statistics and the owners\u2019 aggregates are not covered'),
    );
  }
  for (const [phase, ms] of Object.entries(report.timingsMs)) {
    const inProcess = ref?.timingsMs[phase];
    out(
      `      ${phase.padEnd(44)} ${seconds(ms)}${inProcess === undefined ? '' : `   in-process ${seconds(inProcess)}`}`,
    );
  }
  if (!ref) return;
  out(
    r.dp
      ? `    within 3 points of the baseline, epsilon as in-process: ${r.match ? 'yes' : 'NO'} (DP noise differs run to run)`
      : `    the same model as in-process (largest difference ${(r.maxDifference ?? Number.NaN).toExponential(1)}): ${r.match ? 'yes' : 'NO'}`,
  );
}
