// `fedjoin demo --processes` (issue 6): the demo's hashed and nested queries with every
// role in its own process on loopback, talking HTTPS with mutual TLS. It first runs the
// in-process demo (the reference, and the training part with its DP statement), then lays
// out a deployment in a temporary directory (deployment.ts), starts server A, server B and
// the client with `node dist/src/cli/main.js serve <role> --config <file>` and the two owners
// the same way (they encrypt and hand their tables to A, then exit), sends the same
// queries through the client process, and checks every answer equals the in-process one:
// aggregates by value, feature queries by the rows B decrypted (a digest B logs; rows never
// leave B). Reports the wall time against the in-process run and the measured throughput
// of moving encrypted tables between processes, including a 10,000-row table. Then the
// training part: the coordinator and the three training owners (hospital-east,
// hospital-west, lab) start as processes too, the client process sends the demo's training
// queries (without DP, and with DP-SGD at B) to the coordinator over HTTP, and the models'
// evaluation is compared with the in-process run's: equal without DP (B trains on the
// joined rows in a canonical order), within the issue's 6 points of the baseline with DP
// (the noise differs from run to run).

import { join } from 'node:path';
import { splitBundled } from '../data/bundled.js';
import type { Table } from '../data/table.js';
import { parseQuery } from '../query/sql.js';
import type { TrainingReport } from '../roles/client.js';
import type { ShareRecord } from '../serve/roles.js';
import { RoleChild } from './children.js';
import { type LoopbackDeployment, prepareDeployment } from './deployment.js';
import {
  DEMO_DEFAULT_BITS,
  DEMO_DEFAULT_ENCRYPTION,
  DEMO_DEFAULT_NESTED_ROWS,
  DEMO_DEFAULT_TRAINING_ROUNDS,
  type DemoOptions,
} from './options.js';
import { sameNumber } from './plaintext.js';
import {
  DEMO_QUERIES,
  type DemoResult,
  neededColumns,
  nestedSamples,
  type QueryRecord,
  runDemo,
} from './run-demo.js';
import { TRAINING_DP, trainingParties, trainingSql } from './training.js';

/** Rows of the table sent once more, after the queries, to measure table throughput. */
export const PROBE_ROWS = 10_000;

export interface ProcessQueryRecord {
  mode: 'hashed' | 'nested';
  kind: 'aggregate' | 'features';
  sql: string;
  rowsJoined: number | null;
  values?: Record<string, number>;
  featureSet?: { rows: number; digest: string };
  error?: string;
  /** The in-process answer it is compared with. */
  inProcess: Pick<QueryRecord, 'rowsJoined' | 'values' | 'refused'> & {
    featureSet?: { rows: number; digest: string };
  };
  match: boolean;
  ms: number;
}

/** One training query run by the client process through the coordinator, next to the in-process run. */
export interface ProcessTrainingRecord {
  label: string;
  dp: boolean;
  sql: string;
  report?: TrainingReport;
  error?: string;
  ms: number;
  inProcess: { report: TrainingReport; ms: number };
  /** Without DP: the same model (evaluation and weights within 1e-9); with DP: within 6 points of the baseline. */
  match: boolean;
  /** Largest difference from the in-process run in accuracy, AUC, log-loss, weights and bias. */
  maxDifference: number;
}

export interface ProcessDemoResult {
  ok: boolean;
  inProcess: DemoResult;
  queries: ProcessQueryRecord[];
  /** The training queries over HTTP (empty with --training-rounds 0). */
  training: ProcessTrainingRecord[];
  /** Wall times of the same pipeline (engine/process start, encryption, the four queries; no key generation, no training). */
  wall: {
    inProcessMs: number;
    processesMs: number;
    ratio: number;
    setupMs: number;
    /** The training queries alone: in-process vs coordinator, owners, A and B as processes. */
    training?: { inProcessMs: number; processesMs: number; ratio: number };
  };
  /** Encrypted tables moved owner -> A between processes, and the 10,000-row probe. */
  tables: ShareRecord[];
  probe: ShareRecord | null;
  phases: { name: string; ms: number }[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const show = (v: number) => String(Number(v.toPrecision(10)));

export async function runProcessDemo(options: DemoOptions = {}): Promise<ProcessDemoResult> {
  const out = options.quiet
    ? () => {}
    : (options.print ?? ((line: string) => void process.stdout.write(`${line}\n`)));
  const bits = options.bits ?? DEMO_DEFAULT_BITS;
  const nestedRows = options.nestedRows ?? DEMO_DEFAULT_NESTED_ROWS;
  const encryption = options.encryption ?? DEMO_DEFAULT_ENCRYPTION;
  const phases: { name: string; ms: number }[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      phases.push({ name, ms: performance.now() - start });
    }
  };

  out('fedjoin demo --processes: every role in its own process, HTTPS with mutual TLS on loopback');
  out('');
  out('[1] the in-process demo first: the reference answers (and the training part, in-process)');
  const inProcess = await timed('in-process demo (reference)', () => runDemo({ ...options, quiet: true }));
  const inPhases = inProcess.phases.filter(
    (p) => p.name !== 'key generation' && p.name !== 'federated training',
  );
  const inProcessMs = inPhases.reduce((s, p) => s + p.ms, 0);
  out(
    `    ${inProcess.queries.filter((q) => q.match).length} of ${inProcess.queries.length} answers match the plaintext ` +
      `join; pipeline (engine start, encryption, 4 queries) ${seconds(inProcessMs)}`,
  );
  out('');

  const overlap = options.overlap ?? 250;
  const { hospital, lab } = splitBundled({ overlap });
  const full = [DEMO_QUERIES.aggregate('hospital', 'lab'), DEMO_QUERIES.features('hospital', 'lab')];
  const owners = ['owner:hospital', 'owner:lab'];
  const trainingRounds = options.trainingRounds ?? DEMO_DEFAULT_TRAINING_ROUNDS;
  const inTraining = inProcess.training;
  const trainers = inTraining ? TRAINING_OWNERS.map((o) => `owner:${o}`) : [];
  const engine = { encryption, ...(options.workers === undefined ? {} : { workers: options.workers }) };
  let deployment: LoopbackDeployment | undefined;
  const children: RoleChild[] = [];
  try {
    const roles = [
      'server-a',
      'server-b',
      'client',
      ...owners,
      ...(inTraining ? ['coordinator', ...trainers.filter((o) => !owners.includes(o))] : []),
    ];
    out('[2] lay out a deployment in a temporary directory (what `fedjoin init` and `fedjoin keygen` make)');
    const setupStart = performance.now();
    const d = await timed('setup: CA, credentials, B key, configs', () =>
      prepareDeployment({ bits, roles, listeners: trainers }),
    );
    deployment = d;
    const tables: Record<string, { table: Table; mode: 'hashed' | 'nested'; sqls: string[] }[]> = {
      'owner:hospital': [{ table: hospital, mode: 'hashed', sqls: full }],
      'owner:lab': [{ table: lab, mode: 'hashed', sqls: full }],
    };
    let sampleSqls: string[] = [];
    if (nestedRows > 0) {
      const { hs, ls } = nestedSamples(hospital, lab, overlap, nestedRows);
      sampleSqls = [
        DEMO_QUERIES.aggregate('hospital_sample', 'lab_sample'),
        DEMO_QUERIES.features('hospital_sample', 'lab_sample'),
      ];
      tables['owner:hospital'].push({ table: hs, mode: 'nested', sqls: sampleSqls });
      tables['owner:lab'].push({ table: ls, mode: 'nested', sqls: sampleSqls });
    }
    const configs: Record<string, string> = {};
    for (const owner of owners) {
      const list = [];
      for (const { table, mode, sqls } of tables[owner]) {
        const csv = await d.writeCsv(table);
        list.push({ ...csv, ...neededColumns(table.name, sqls), joinModes: [mode] });
      }
      configs[owner] = await d.writeConfig(owner, { engine, tables: list });
    }
    configs['server-a'] = await d.writeConfig('server-a', { engine });
    configs['server-b'] = await d.writeConfig('server-b', {
      engine,
      logFeatureSetDigests: true,
      ...(options.minGroupSize ? { policy: { minGroupSize: options.minGroupSize } } : {}),
    });
    // a training query is one request to the coordinator that lasts the whole training
    configs.client = await d.writeConfig('client', { transport: { timeoutMs: 1_800_000 } });
    const training = inTraining ? await writeTrainingConfigs(d, engine) : null;
    const setupMs = performance.now() - setupStart;
    out(
      `    ${d.dir}: role CA + ${roles.length} role certificates, ` +
        `${bits}-bit key sealed (scrypt + AES-256-GCM), configs (${seconds(setupMs)})`,
    );
    out('');

    out(
      '[3] start server B, server A and the client: node dist/src/cli/main.js serve <role> --config <file>',
    );
    const pipelineStart = performance.now();
    const serve = (role: string, stdin = false, config = configs[role]) => {
      const child = new RoleChild(role, ['serve', role, '--config', config], {
        env: role === 'server-b' ? { FEDJOIN_PASSPHRASE: d.passphrase } : { FEDJOIN_PASSPHRASE: '' },
        stdin,
      });
      children.push(child);
      return child;
    };
    const b = serve('server-b');
    const a = serve('server-a');
    const client = serve('client', true);
    await timed('processes: start A, B, client', async () => {
      for (const child of [b, a, client]) {
        const e = await child.listening();
        out(`    ${child.name.padEnd(9)} listening on ${String(e.url)} (pid ${String(e.pid)})`);
      }
    });
    out('');

    out(
      '[4] the owners encrypt the needed columns under B\u2019s key and post them to A (serve owner:<name>)',
    );
    const ownerChildren = owners.map((o) => serve(o));
    const shared = await timed('processes: owners encrypt + send to A', async () => {
      const records: ShareRecord[] = [];
      for (const child of ownerChildren) {
        const code = await child.exited;
        if (code !== 0) throw new Error(`${child.name} exited with ${code}: ${child.stderrTail}`);
        for (const e of child.events.filter((ev) => ev.event === 'shared'))
          records.push(e as unknown as ShareRecord);
      }
      return records;
    });
    for (const r of shared) {
      out(
        `    ${r.owner} ${r.table}: ${r.ciphertexts.toLocaleString('en-US')} ciphertexts in ${seconds(r.encryptMs)}; ` +
          `${(r.bytes / 1e6).toFixed(2)} MB to A in ${seconds(r.sendMs)} (${r.megabytesPerSecond.toFixed(1)} MB/s)`,
      );
    }
    out('');

    out('[5] the client process sends the demo\u2019s queries to A; B answers the aggregates to the client');
    const plan: { mode: 'hashed' | 'nested'; sql: string }[] = [
      ...full.map((sql) => ({ mode: 'hashed' as const, sql })),
      ...sampleSqls.map((sql) => ({ mode: 'nested' as const, sql })),
    ];
    const queries: ProcessQueryRecord[] = [];
    let featureEvents = 0;
    await timed('processes: queries', async () => {
      for (const [k, { mode, sql }] of plan.entries()) {
        const reference = inProcess.queries.find((q) => q.mode === mode && q.sql === sql);
        const kind = parseQuery(sql).select.some((s) => s.kind !== 'column') ? 'aggregate' : 'features';
        const from = client.events.length;
        const start = performance.now();
        client.send({ id: k, sql, mode });
        const reply = await client.waitFor(
          (e) => (e.event === 'answer' || e.event === 'query-error') && e.id === k,
          600_000,
          from,
        );
        const record: ProcessQueryRecord = {
          mode,
          kind,
          sql,
          rowsJoined: null,
          inProcess: {
            rowsJoined: reference?.rowsJoined ?? null,
            ...(reference?.values ? { values: reference.values } : {}),
            refused: reference?.refused ?? false,
            ...(reference?.featureSet
              ? { featureSet: { rows: reference.featureSet.rows, digest: reference.featureSet.digest } }
              : {}),
          },
          match: false,
          ms: performance.now() - start,
        };
        if (reply.event === 'answer') {
          const answer = reply.answer as { rowsJoined: number; values: Record<string, number> };
          record.rowsJoined = answer.rowsJoined;
          if (kind === 'aggregate') record.values = answer.values;
          else {
            const nth = featureEvents;
            const isNth = (ev: { event: string }) =>
              ev.event === 'feature-set' &&
              b.events.filter((x) => x.event === 'feature-set').indexOf(ev as never) === nth;
            const e = await b.waitFor(isNth, 30_000).catch(() => undefined);
            featureEvents++;
            if (e) record.featureSet = { rows: Number(e.rows), digest: String(e.digest) };
          }
        } else {
          const error = reply.error as { code: string; message: string };
          record.error = `${error.code}: ${error.message}`;
        }
        record.match = sameAnswer(record);
        queries.push(record);
        printQuery(out, record);
      }
    });
    const processesMs = performance.now() - pipelineStart;
    out('');

    out(
      `[6] table throughput: owner:hospital sends a ${PROBE_ROWS.toLocaleString('en-US')}-row encrypted table to A`,
    );
    const probeConfig = await d.writeConfig(
      'owner:hospital',
      {
        engine,
        tables: [
          { ...(await d.writeCsv(hospital)), ...neededColumns('hospital', full), joinModes: ['hashed'] },
        ],
        throughputProbeRows: PROBE_ROWS,
      },
      'owner.hospital.probe',
    );
    const prober = new RoleChild('owner:hospital', ['serve', 'owner:hospital', '--config', probeConfig], {
      env: { FEDJOIN_PASSPHRASE: '' },
    });
    children.push(prober);
    const probe = await timed('throughput probe', async () => {
      const code = await prober.exited;
      if (code !== 0) throw new Error(`throughput probe exited with ${code}: ${prober.stderrTail}`);
      const e = prober.events.filter((ev) => ev.event === 'shared').at(-1);
      return (e as unknown as ShareRecord | undefined) ?? null;
    });
    if (probe) {
      out(
        `    ${probe.rows.toLocaleString('en-US')} rows x ${probe.ciphertexts / probe.rows} ciphertexts = ` +
          `${(probe.bytes / 1e6).toFixed(2)} MB in ${seconds(probe.sendMs)}: ${probe.megabytesPerSecond.toFixed(1)} MB/s ` +
          '(encode, TLS, A decodes, validates and stores it, reply)',
      );
    }
    out('');

    const trainingRecords: ProcessTrainingRecord[] = [];
    let trainingWall: { inProcessMs: number; processesMs: number; ratio: number } | undefined;
    if (inTraining && training) {
      out(
        `[7] federated training over HTTP: the coordinator and the training owners (${TRAINING_OWNERS.join(', ')}) ` +
          `as processes too; the client process sends the training queries (${trainingRounds} rounds) to the coordinator`,
      );
      const trainingStart = performance.now();
      const coordinator = serve('coordinator', false, training.configs.coordinator);
      const trainerChildren = trainers.map((o) => serve(o, false, training.configs[o]));
      await timed('processes: coordinator + training owners start, encrypt, send to A', async () => {
        const e = await coordinator.listening();
        out(`    coordinator listening on ${String(e.url)} (pid ${String(e.pid)})`);
        for (const child of trainerChildren) {
          const ready = await child.waitFor((ev) => ev.event === 'ready', 600_000);
          const shares = child.events.filter((ev) => ev.event === 'shared') as unknown as ShareRecord[];
          const listening = child.events.find((ev) => ev.event === 'listening');
          out(
            `    ${child.name.padEnd(19)} ${shares.map((r) => `${r.table} ${r.rows} rows encrypted in ${seconds(r.encryptMs)}, sent in ${seconds(r.sendMs)}`).join('; ')}; ` +
              `Ed25519 key registered with B; listening on ${String(listening?.url)} (pid ${String(ready.pid ?? listening?.pid)})`,
          );
        }
      });
      await timed('processes: training queries', async () => {
        for (const [k, run] of inTraining.runs.entries()) {
          const dp = run.report.epsilon !== null;
          const sql = training.sql(trainingRounds, dp);
          const id = `train-${k}`;
          const from = client.events.length;
          const start = performance.now();
          client.send({ id, sql, evaluation: training.evaluation });
          const reply = await client.waitFor(
            (e) => (e.event === 'trained' || e.event === 'query-error') && e.id === id,
            1_800_000,
            from,
          );
          const record: ProcessTrainingRecord = {
            label: run.label,
            dp,
            sql,
            ms: performance.now() - start,
            inProcess: { report: run.report, ms: run.ms },
            match: false,
            maxDifference: Number.NaN,
          };
          if (reply.event === 'trained') record.report = reply.report as TrainingReport;
          else {
            const error = reply.error as { code: string; message: string };
            record.error = `${error.code}: ${error.message}`;
          }
          compareTraining(record, inTraining.baseline.accuracy);
          trainingRecords.push(record);
          printTraining(out, record, inTraining.baseline.accuracy);
        }
      });
      const processesTrainingMs = performance.now() - trainingStart;
      const inProcessTrainingMs =
        inProcess.phases.find((p) => p.name === 'federated training')?.ms ??
        inTraining.runs.reduce((t, r) => t + r.ms, 0);
      trainingWall = {
        inProcessMs: inProcessTrainingMs,
        processesMs: processesTrainingMs,
        ratio: processesTrainingMs / inProcessTrainingMs,
      };
      out(
        `    plaintext centralised baseline (in-process run): accuracy ${pct(inTraining.baseline.accuracy)}, ` +
          `AUC ${inTraining.baseline.auc.toFixed(3)}`,
      );
      out(
        `    training part: in-process ${seconds(inProcessTrainingMs)} (three owners' encryption, ${inTraining.runs.length} trainings) | ` +
          `processes ${seconds(processesTrainingMs)} (process starts, encryption, ${trainingRecords.length} trainings over HTTPS) | ` +
          `ratio ${trainingWall.ratio.toFixed(2)}x`,
      );
      out('');
    }

    await Promise.all(children.map((c) => c.stop()));
    const trainingOk = !inTraining || (trainingRecords.length > 0 && trainingRecords.every((r) => r.match));
    const ok = queries.length > 0 && queries.every((q) => q.match) && inProcess.ok && trainingOk;
    const ratio = processesMs / inProcessMs;
    out(
      'wall time of the same pipeline (process or engine start, encryption, the queries; no key generation, no training)',
    );
    out(
      `  in-process ${seconds(inProcessMs)} | separate processes over HTTPS ${seconds(processesMs)} | ratio ${ratio.toFixed(2)}x`,
    );
    out(
      `${ok ? 'ok' : 'FAILED'}: ${queries.filter((q) => q.match).length} of ${queries.length} answers over HTTP equal ` +
        `the in-process answers; in-process: ${inProcess.queries.filter((q) => q.match).length} of ` +
        `${inProcess.queries.length} match the plaintext join` +
        (inProcess.training
          ? `, training targets ${inProcess.training.withinTargets ? 'met' : 'MISSED'}; ` +
            `${trainingRecords.filter((r) => r.match).length} of ${trainingRecords.length} trainings over HTTP ` +
            'agree with the in-process ones'
          : ''),
    );
    return {
      ok,
      inProcess,
      queries,
      training: trainingRecords,
      wall: { inProcessMs, processesMs, ratio, setupMs, ...(trainingWall ? { training: trainingWall } : {}) },
      tables: shared,
      probe,
      phases,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGKILL').catch(() => null)));
    await deployment?.cleanup();
  }
}

function sameAnswer(r: ProcessQueryRecord): boolean {
  const ref = r.inProcess;
  if (r.error !== undefined) return ref.refused && /POLICY_REFUSED/.test(r.error);
  if (r.rowsJoined !== ref.rowsJoined) return false;
  if (r.kind === 'aggregate') {
    const got = r.values ?? {};
    const want = ref.values ?? {};
    return (
      Object.keys(got).length === Object.keys(want).length &&
      Object.entries(want).every(([label, v]) => label in got && sameNumber(got[label], v))
    );
  }
  return (
    r.featureSet !== undefined &&
    r.featureSet.rows === ref.featureSet?.rows &&
    r.featureSet.digest === ref.featureSet?.digest
  );
}

function printQuery(out: (line: string) => void, r: ProcessQueryRecord): void {
  const verdict = r.match ? 'equal' : 'DIFFERENT';
  out(`  ${r.mode} ${r.kind} query: ${r.sql}`);
  if (r.error)
    out(`    ${r.error} (in-process: ${r.inProcess.refused ? 'refused too' : 'answered'}): ${verdict}`);
  else if (r.kind === 'aggregate') {
    for (const [label, v] of Object.entries(r.inProcess.values ?? {})) {
      const got = r.values?.[label];
      out(
        `    ${label.padEnd(20)} ${(got === undefined ? '-' : show(got)).padStart(14)}   in-process ${show(v).padStart(14)}`,
      );
    }
  } else if (r.featureSet) {
    out(
      `    B decrypted ${r.featureSet.rows} rows, digest ${r.featureSet.digest.slice(0, 16)}...; in-process ` +
        `${r.inProcess.featureSet?.rows ?? '-'} rows, digest ${r.inProcess.featureSet?.digest.slice(0, 16) ?? '-'}...`,
    );
  }
  out(
    `    rows joined ${r.rowsJoined ?? '-'} (in-process ${r.inProcess.rowsJoined ?? '-'}) | ${seconds(r.ms)} | ${verdict}`,
  );
}

// ---- training

/** The training owners of the demo (src/demo/training.ts), in the coordinator's order. */
export const TRAINING_OWNERS = ['hospital-east', 'hospital-west', 'lab'] as const;
/**
 * A's tables of the training part: the query part's owner:hospital and owner:lab already
 * hold `hospital` and `lab` at A, so the training owners' tables get names of their own.
 */
const TRAINING_TABLES = { hospital: 'hospital_train', lab: 'lab_train' } as const;

interface TrainingSetup {
  configs: Record<string, string>;
  evaluation: { csv: string; schema?: Record<string, 'integer' | 'decimal' | 'string'> };
  sql(rounds: number, dp: boolean): string;
}

/**
 * The training owners' tables exactly as runTrainingDemo builds them (hospital-east and
 * hospital-west: halves of the training rows with the hospital's features and the label;
 * lab: the lab's features for 80% of the training ids), the client's evaluation rows, and
 * the configs of the coordinator and the three owners (each encrypts its table for A,
 * registers its signing key with B and keeps serving the coordinator).
 */
async function writeTrainingConfigs(
  d: LoopbackDeployment,
  engine: Record<string, unknown>,
): Promise<TrainingSetup> {
  const parties = trainingParties(TRAINING_TABLES);
  const configs: Record<string, string> = {};
  for (const [name, table] of parties.owners) {
    const csv = await d.writeCsv(table, `${name}-train.csv`);
    configs[`owner:${name}`] = await d.writeConfig(
      `owner:${name}`,
      {
        engine,
        tables: [{ ...csv, joinKeys: [['id']], joinModes: ['hashed'] }],
        training: { ...csv },
      },
      `owner.${name}.training`,
    );
  }
  configs.coordinator = await d.writeConfig('coordinator', { engine, owners: [...TRAINING_OWNERS] });
  const evaluation = await d.writeCsv(parties.evaluation);
  return {
    configs,
    evaluation: {
      csv: join(d.dir, evaluation.csv),
      ...(evaluation.schema ? { schema: evaluation.schema } : {}),
    },
    sql: (rounds, dp) => trainingSql(rounds, dp, TRAINING_TABLES),
  };
}

/** Without DP: the same model as in-process; with DP: the issue's target, 6 points of the baseline. */
function compareTraining(r: ProcessTrainingRecord, baselineAccuracy: number): void {
  const got = r.report;
  const want = r.inProcess.report;
  if (!got?.evaluation || !want.evaluation) return;
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
    got.evaluation.accuracy >= baselineAccuracy - 0.06;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printTraining(out: (line: string) => void, r: ProcessTrainingRecord, baseline: number): void {
  out(`  training ${r.label}: ${r.sql.replace(/^SELECT .* FROM /, 'SELECT ... FROM ')}`);
  const want = r.inProcess.report;
  if (r.error || !r.report) {
    out(`    ${r.error ?? 'no report'} | DIFFERENT`);
    return;
  }
  const report = r.report;
  const ev = report.evaluation!;
  const wantEv = want.evaluation!;
  const gap = (baseline - ev.accuracy) * 100;
  out(
    `    ${report.rounds} rounds, ${report.rowsJoined} rows joined (in-process ${want.rowsJoined}), ` +
      `${seconds(r.ms)} (in-process ${seconds(r.inProcess.ms)})`,
  );
  out(
    `    accuracy ${pct(ev.accuracy)} (${gap >= 0 ? `${gap.toFixed(1)} points below` : `${(-gap).toFixed(1)} points above`} the baseline), ` +
      `AUC ${ev.auc.toFixed(3)}, log-loss ${ev.logLoss.toFixed(3)} on ${ev.rows} rows | in-process: accuracy ` +
      `${pct(wantEv.accuracy)}, AUC ${wantEv.auc.toFixed(3)}, log-loss ${wantEv.logLoss.toFixed(3)}`,
  );
  const losses = report.lossPerRound.map((l) => (l === null ? '-' : l.toFixed(4))).join(', ');
  out(`    B's loss of each round's global model on the joined rows: ${losses}`);
  if (report.epsilon !== null) {
    out(
      `    privacy: (epsilon ${report.epsilon.toFixed(3)}, delta ${report.delta}) spent by DP-SGD at B over all rounds ` +
        `(in-process ${want.epsilon?.toFixed(3)}); target epsilon ${TRAINING_DP.epsilon}`,
    );
  }
  for (const [phase, t] of Object.entries(report.timingsMs)) {
    const inProc = want.timingsMs[phase];
    out(
      `      ${phase.padEnd(44)} ${(t / 1000).toFixed(2)} s${inProc === undefined ? '' : `   in-process ${(inProc / 1000).toFixed(2)} s`}`,
    );
  }
  const verdict = r.dp
    ? `within 6 points of the baseline, epsilon as in-process: ${r.match ? 'yes' : 'NO'} (DP noise differs run to run)`
    : `the same model as in-process (largest difference ${r.maxDifference.toExponential(1)}): ${r.match ? 'yes' : 'NO'}`;
  out(`    ${verdict}`);
}
