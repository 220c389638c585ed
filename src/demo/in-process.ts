// `fedjoin demo` (issue 4, item 7): the scenario (scenario.ts) with every role in this
// process. Server B makes the key pair; the two owners encrypt only the columns the
// queries need and hand them to server A; the client asks each part's queries, hashed
// (DESIGN §3.2) then nested (§3.1); every answer is checked against the same query answered
// in plaintext on the same tables (compare.ts); then the training part (DESIGN §4).
import { BUNDLED_ROWS } from '../data/bundled.js';
import type { Table } from '../data/table.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { djnExponentBits } from '../engine/keys.js';
import type { RandomMode } from '../engine/tasks.js';
import { PolicyRefusedError, QueryError } from '../errors.js';
import { logit, sigmoid } from '../fl/logistic.js';
import { accuracy, auc } from '../fl/metrics.js';
import { l2ForC, solveLogistic } from '../fl/newton.js';
import { parseQuery } from '../query/sql.js';
import type { JoinMode } from '../roles/client.js';
import { createFederation, type Federation } from '../roles/federation.js';
import {
  type CompletedTraining,
  megabytes,
  type Out,
  pct,
  printQuery,
  printTraining,
  type QueryRecord,
  sameAnswer,
  seconds,
  withinTarget,
} from './compare.js';
import { checkDemoOptions, type DemoOptions, demoSettings } from './options.js';
import { plaintextAggregates, plaintextJoin, TOLERANCE } from './plaintext.js';
import { type Bar, Progress } from './progress.js';
import {
  DEMO_BOUNDS,
  demoScenario,
  type NestedSample,
  neededColumns,
  REFUSED_SELECT,
  TRAINING_DP,
  TRAINING_FEATURES,
  TRAINING_OWNERS,
  trainingParties,
  trainingSql,
} from './scenario.js';

export type { DemoOptions } from './options.js';

export interface PhaseRecord {
  name: string;
  ms: number;
  /** Bytes that crossed the transport during the phase. */
  bytes: number;
  /** A query's phases at server A (join, aggregates or features), in ms. */
  steps?: Record<string, number>;
}

export interface EncryptionRecord {
  owner: string;
  table: string;
  rows: number;
  /** Data columns encrypted. */
  columns: string[];
  /** Join keys tagged (a hashed tag and nested key columns each). */
  joinKeys: string[][];
  ciphertexts: number;
  ms: number;
  bytes: number;
}

export interface TrainingDemoResult {
  baseline: { accuracy: number; auc: number };
  trainRows: number;
  testRows: number;
  runs: CompletedTraining[];
  /** Every run within its target of the baseline (compare.ts withinTarget). */
  withinTargets: boolean;
}

export interface DemoResult {
  /** Every answer matches the plaintext expectation. */
  ok: boolean;
  bits: number;
  workers: number;
  encryption: RandomMode;
  minGroupSize: number;
  keyFingerprint: string;
  data: { hospitalRows: number; labRows: number; commonIds: number };
  encrypted: EncryptionRecord[];
  nestedSample: NestedSample | null;
  queries: QueryRecord[];
  training: TrainingDemoResult | null;
  phases: PhaseRecord[];
  totalMs: number;
  bytesSent: number;
}

class DemoRun {
  readonly phases: PhaseRecord[] = [];
  readonly queries: QueryRecord[] = [];
  readonly encrypted: EncryptionRecord[] = [];

  /** Server B's, once it exists. */
  minGroupSize = 0;

  constructor(
    readonly out: Out,
    readonly progress: Progress,
  ) {}

  /** Runs `fn` as a named phase: its time and the bytes it moved. */
  async phase<T>(name: string, fed: Federation | undefined, fn: () => Promise<T>): Promise<T> {
    const bytes = fed?.transport.bytesSent ?? 0;
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.progress.stopActive();
      this.phases.push({
        name,
        ms: performance.now() - start,
        bytes: (fed?.transport.bytesSent ?? 0) - bytes,
      });
    }
  }

  async share(
    fed: Federation,
    owner: string,
    table: Table,
    sqls: readonly string[],
    mode: 'hashed' | 'nested',
  ): Promise<void> {
    const { columns, joinKeys } = neededColumns(table.name, sqls);
    const bytes = fed.transport.bytesSent;
    const start = performance.now();
    let bar: Bar | undefined;
    const message = await this.phase(`encryption: ${owner} (${table.name})`, fed, () =>
      fed.owner(owner).shareTable(table, {
        columns,
        joinKeys,
        joinModes: [mode],
        bounds: DEMO_BOUNDS,
        onProgress: (done, total) => {
          bar ??= this.progress.start(`${owner} encrypts`, total, `columns of ${table.rowCount} rows`);
          bar.update(done, total);
        },
      }),
    );
    const record: EncryptionRecord = {
      owner,
      table: table.name,
      rows: table.rowCount,
      columns,
      joinKeys,
      ciphertexts:
        table.rowCount * (message.columns.length + message.tags.length + message.nestedKeys.length),
      ms: performance.now() - start,
      bytes: fed.transport.bytesSent - bytes,
    };
    this.encrypted.push(record);
    const keys = joinKeys.map((k) => `(${k.join(', ')})`).join(', ');
    this.out(
      `    ${owner} encrypts ${table.name} (${table.rowCount} rows): columns ${columns.join(', ')}; join key ` +
        `${keys} as ${mode === 'hashed' ? 'an ElGamal tag on ristretto255 (§3.2)' : 'a canonical nested-loop key (§3.1)'}`,
    );
    this.out(
      `      ${record.ciphertexts.toLocaleString('en-US')} ciphertexts in ${seconds(record.ms)}, ` +
        `${megabytes(record.bytes)} to server A; the table's shape (row count, column types, keys) ` +
        'registered with B, signed',
    );
  }

  async query(fed: Federation, mode: JoinMode, sql: string, left: Table, right: Table): Promise<QueryRecord> {
    const plan = parseQuery(sql);
    const pairs = plaintextJoin(plan, left, right);
    const record: QueryRecord = {
      mode,
      sql,
      leftRows: left.rowCount,
      rightRows: right.rowCount,
      rowsJoined: null,
      refused: false,
      expected: {
        source: 'plaintext',
        rowsJoined: pairs.length,
        refused: pairs.length < this.minGroupSize,
        values: plaintextAggregates(plan, left, right, pairs),
      },
      match: false,
      timingsMs: {},
      totalMs: 0,
      bytes: 0,
    };
    if (mode === 'nested') record.indicators = left.rowCount * right.rowCount;
    this.out(`  aggregate query: ${sql}`);
    const bytes = fed.transport.bytesSent;
    const start = performance.now();
    const joinBar =
      mode === 'nested' ? this.progress.start('nested join', record.indicators!, 'indicators') : undefined;
    fed.serverA.onProgress = (phase, done, total) => {
      if (phase === 'join') joinBar?.update(done, total);
    };
    try {
      const answer = await this.phase(`${mode} aggregate query`, fed, () => fed.client.query(sql, { mode }));
      record.rowsJoined = Number(answer.rowsJoined);
      record.timingsMs = answer.timingsMs;
      record.values = Object.fromEntries(answer.items.map((i) => [i.label, Number(i.value)]));
    } catch (err) {
      if (err instanceof PolicyRefusedError) record.refused = true;
      else record.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    } finally {
      fed.serverA.onProgress = undefined;
      this.phases.at(-1)!.steps = record.timingsMs;
      record.totalMs = performance.now() - start;
      record.bytes = fed.transport.bytesSent - bytes;
    }
    record.match = sameAnswer(record, record.expected);
    printQuery(this.out, record, this.minGroupSize);
    this.queries.push(record);
    return record;
  }

  /** A plain SELECT of joined rows, which B refuses: rows reach B only as a training's features. */
  async refusedSelect(fed: Federation, sql: string): Promise<boolean> {
    const refused = await fed.client.query(sql).then(
      () => false,
      (err: unknown) => err instanceof QueryError,
    );
    this.out(`  plain SELECT: ${sql}`);
    this.out(
      `    ${refused ? 'refused' : 'ANSWERED'}: no role receives rows; joined rows reach B only as a training's features (below)`,
    );
    return refused;
  }
}

/** Runs the demo; resolves to its summary whatever the answers (`ok` says if all matched). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  checkDemoOptions(options);
  const started = performance.now();
  const { bits, nestedRows, trainingRounds, encryption, out } = demoSettings(options);
  const progress = new Progress(options.progress ?? (!options.quiet && process.stderr.isTTY === true));

  const scenario = demoScenario({ overlap: options.overlap, nestedRows });
  const { hospital, lab, overlapIds } = scenario;
  let engine: Engine | undefined;
  let fed: Federation | undefined;
  try {
    out('fedjoin demo: two owners join their Paillier-encrypted tables at two servers (US 10,929,402)');
    out(
      `  data: the bundled WDBC breast-cancer set (${BUNDLED_ROWS} rows, CC BY 4.0, see data/README.md), split into`,
    );
    out(
      `        hospital ${hospital.rowCount} rows (id, 15 features, malignant) and lab ${lab.rowCount} rows ` +
        `(id, 15 other features), ${overlapIds.length} ids in common`,
    );
    const startEngine = performance.now();
    const run = new DemoRun(out, progress);
    engine = await run.phase('engine start', undefined, () =>
      createEngine({
        encryption,
        ...(options.workers === undefined ? {} : { workers: options.workers }),
        ...(options.queue ? { queue: options.queue } : {}),
      }),
    );
    const workers = engine.workers;
    out(
      `  engine: WebAssembly kernels on ${workers === 0 ? 'the main thread' : `${workers} worker thread${workers === 1 ? '' : 's'}`}` +
        ` (started in ${seconds(performance.now() - startEngine)})`,
    );
    out(`  encryption: ${encryptionNote(encryption, bits)}`);
    out('');

    out(`[1] server B generates a ${bits}-bit Paillier key pair`);
    const eng = engine;
    fed = await run.phase('key generation', undefined, () =>
      createFederation({
        engine: eng,
        bits,
        ...(options.minGroupSize === undefined ? {} : { policy: { minGroupSize: options.minGroupSize } }),
      }),
    );
    const minGroupSize = fed.serverB.policy.minGroupSize;
    run.minGroupSize = minGroupSize;
    const keyFingerprint = fed.serverB.publicKeyMessage().fingerprint;
    out(
      `    in ${seconds(run.phases.at(-1)!.ms)}; fingerprint ${keyFingerprint.slice(0, 16)}...; only B holds ` +
        `the private key; B refuses aggregates over fewer than ${minGroupSize} joined rows`,
    );
    out(
      '    B answers exactly here (its DP is off) so that every answer can be checked against the plaintext; ' +
        'a served B adds discrete Gaussian noise and keeps a privacy budget per client (docs/DEPLOYMENT.md)',
    );
    out('');

    const { hashed, nested } = scenario;
    out("[2] the owners encrypt only the columns the demo's queries need, under B's key, and hand them to A");
    for (const { owner, table } of hashed.shares) await run.share(fed, owner, table, hashed.sqls, 'hashed');
    out('');

    out(
      `[3] hashed join (DESIGN §3.2, linear time) on the full tables: ${hospital.rowCount} x ${lab.rowCount} rows`,
    );
    for (const sql of hashed.sqls) await run.query(fed, 'hashed', sql, hashed.left, hashed.right);
    const selectRefused = await run.refusedSelect(fed, REFUSED_SELECT(hashed.left.name, hashed.right.name));
    out('');

    if (nested === null) {
      out('[4] nested-loop join skipped (--nested-rows 0)');
    } else {
      const { sample, left: hs, right: ls } = nested;
      const [hFrom, hTo] = sample.hospitalRows;
      const lTo = sample.labRows[1];
      const [fileFrom, fileTo] = sample.labFileRows;
      out(
        `[4] nested-loop join (DESIGN §3.1, the patent's protocol) on a sample (--nested-rows ${nestedRows}):`,
      );
      out(
        `    hospital_sample = hospital rows ${hFrom}..${hTo - 1} (${hs.rowCount} rows), lab_sample = lab rows ` +
          `0..${lTo - 1} (${ls.rowCount} rows, file rows ${fileFrom}..${fileTo - 1}): ` +
          `${sample.commonIds} ids in common`,
      );
      out(
        `    ${hs.rowCount} x ${ls.rowCount} = ${sample.indicatorsPerQuery.toLocaleString('en-US')} indicators ` +
          `per query, each a ${bits}-bit secret exponent at A (a comb over per-row tables, mod n^2) and a zero test at B; the full tables ` +
          `would need ${sample.fullTableIndicators.toLocaleString('en-US')}`,
      );
      for (const { owner, table } of nested.shares) await run.share(fed, owner, table, nested.sqls, 'nested');
      for (const sql of nested.sqls) await run.query(fed, 'nested', sql, hs, ls);
    }
    out('');

    let training: TrainingDemoResult | null = null;
    if (trainingRounds > 0) {
      out(
        `[5] federated training over the join (DESIGN §4): owners' signed, encrypted local models, ` +
          `B's DP-SGD on the joined rows, ${trainingRounds} rounds`,
      );
      const fedEngine = engine;
      training = await run.phase('federated training', undefined, () =>
        runTraining(fedEngine, bits, trainingRounds, out),
      );
      out('');
    }

    const totalMs = performance.now() - started;
    const result: DemoResult = {
      ok:
        run.queries.length > 0 &&
        run.queries.every((q) => q.match) &&
        selectRefused &&
        (training?.withinTargets ?? true),
      bits,
      workers,
      encryption,
      minGroupSize,
      keyFingerprint,
      data: { hospitalRows: hospital.rowCount, labRows: lab.rowCount, commonIds: overlapIds.length },
      encrypted: run.encrypted,
      nestedSample: nested?.sample ?? null,
      queries: run.queries,
      training,
      phases: run.phases,
      totalMs,
      bytesSent: fed.transport.bytesSent,
    };
    summarise(out, result);
    return result;
  } finally {
    progress.stopActive();
    await engine?.close();
  }
}

/**
 * The training part: the training parties (scenario.ts) on a federation of their own train
 * without and with DP-SGD at B; the client evaluates each model on the 30% it holds, next
 * to the plaintext optimum of the same objective, solved here on the same joined rows.
 */
async function runTraining(
  engine: Engine,
  bits: number,
  rounds: number,
  out: Out,
): Promise<TrainingDemoResult> {
  const { all, labels, trainRows, testRows, labRows, owners, evaluation } = trainingParties();
  // the baseline: the client's objective (L2 logistic regression, lambda = 1 / n) solved to
  // tolerance on the same joined rows, standardised as the coordinator pools its statistics:
  // each feature over the rows of the owners holding it, sample standard deviation
  const standardized = standardizer(all, [
    ...TRAINING_FEATURES.hospital.map((name) => ({ name, rows: trainRows })),
    ...TRAINING_FEATURES.lab.map((name) => ({ name, rows: labRows })),
  ]);
  const central = solveLogistic(
    standardized(labRows),
    labRows.map((i) => labels[i]),
    { l2: l2ForC(1, labRows.length) },
  );
  const p = standardized(testRows).map((row) => sigmoid(logit(central.weights, central.bias, row)));
  const yTest = testRows.map((i) => labels[i]);
  const baseline = { accuracy: accuracy(yTest, p), auc: auc(yTest, p) };

  const fed = await createFederation({ engine, bits });
  out(
    `    split: ${trainRows.length} training rows (hospital-east ${owners[0][1].rowCount}, hospital-west ` +
      `${owners[1][1].rowCount}: a horizontal split with the label; lab ${owners[2][1].rowCount}: a vertical part), ` +
      `${testRows.length} evaluation rows at the client`,
  );
  for (const [name, table] of owners) {
    const owner = fed.owner(name);
    await owner.shareTable(table, {
      joinKeys: [['id']],
      joinModes: ['hashed'],
      coOwners: [...TRAINING_OWNERS],
    });
    await owner.joinTraining(table);
    fed.coordinator.addOwner(name);
  }
  const runs: CompletedTraining[] = [];
  for (const dp of [false, true]) {
    const label = dp
      ? `DP-SGD at B, epsilon ${TRAINING_DP.epsilon}, delta ${TRAINING_DP.delta}`
      : 'without DP';
    const sql = trainingSql(rounds, dp);
    const start = performance.now();
    const report = await fed.client.train(sql, { evaluation });
    const run: CompletedTraining = {
      label,
      dp,
      sql,
      report,
      ms: performance.now() - start,
      match: withinTarget(dp, report.evaluation!, baseline),
    };
    runs.push(run);
    printTraining(out, run, baseline.accuracy);
    // issue 11: A's extraction rate, over the plaintext join's rows (each lab row joins once):
    // every feature, the label and A's global score per row
    const cells = labRows.length * (report.model.features.length + 2);
    const ms = report.timingsMs['A: join + feature extraction'] ?? 0;
    out(
      `      ${'A: cells extracted per second'.padEnd(44)} ${Math.round((1000 * cells) / ms).toLocaleString('en-US')} ` +
        `(${labRows.length} rows x ${report.model.features.length + 2} cells)`,
    );
  }
  const withinTargets = runs.every((r) => r.match);
  out(
    `    plaintext baseline (L2 logistic regression, lambda 1/${labRows.length}, solved to tolerance on the same ` +
      `${labRows.length} joined rows and standardisation): accuracy ${pct(baseline.accuracy)}, AUC ${baseline.auc.toFixed(3)}` +
      ` | targets (within 1 point and 0.01 AUC without DP, 3 points with): ${withinTargets ? 'met' : 'MISSED'}`,
  );
  return { baseline, trainRows: trainRows.length, testRows: testRows.length, runs, withinTargets };
}

/** Standardised rows of `features` (mean and sample std of each over its `rows`), by row index. */
function standardizer(all: Table, features: { name: string; rows: readonly number[] }[]) {
  const columns = features.map(({ name, rows }) => {
    const values = all.column(name).values.map(Number);
    const mean = rows.reduce((a, i) => a + values[i], 0) / rows.length;
    const std = Math.sqrt(rows.reduce((a, i) => a + (values[i] - mean) ** 2, 0) / (rows.length - 1));
    return { values, mean, std };
  });
  return (rows: readonly number[]) => rows.map((i) => columns.map((c) => (c.values[i] - c.mean) / c.std));
}

function encryptionNote(encryption: RandomMode, bits: number): string {
  switch (encryption) {
    case 'djn':
      return (
        `DJN fixed-base randomness, r^n = h_n^a with a of ${djnExponentBits(1n << BigInt(bits - 1))} bits (DESIGN §2): fast, and secure ` +
        'under the DJN short-exponent assumption (--encryption standard does without it)'
      );
    case 'pool':
      return 'r^n from a pool precomputed by idle workers (full-size exponents; DESIGN §2)';
    default:
      return `standard, a full ${bits}-bit exponent r^n per value (DESIGN §2)`;
  }
}

function summarise(out: Out, r: DemoResult): void {
  out('phases');
  const width = Math.max(...r.phases.map((p) => p.name.length));
  const line = (name: string, ms: number, bytes: number) =>
    out(
      `  ${name.padEnd(width)}  ${seconds(ms).padStart(9)}  ${bytes > 0 ? megabytes(bytes) : ''}`.trimEnd(),
    );
  for (const p of r.phases) {
    line(p.name, p.ms, p.bytes);
    for (const [step, ms] of Object.entries(p.steps ?? {})) line(`  ${step}`, ms, 0);
  }
  const matched = r.queries.filter((q) => q.match).length;
  out('');
  out(
    `${r.ok ? 'ok' : 'FAILED'}: ${matched} of ${r.queries.length} answers match the plaintext join ` +
      `(numbers within ${TOLERANCE} relative, the fixed-point rounding) | total ${seconds(r.totalMs)} | ` +
      `${megabytes(r.bytesSent)} moved between the roles`,
  );
}
