// `fedjoin demo --processes` (issue 6): the scenario (scenario.ts) with every role in its
// own `fedjoin serve` process on loopback, over HTTPS with mutual TLS. The in-process run
// (in-process.ts) goes first as the reference; every answer over HTTP must equal it
// (compare.ts), trainings give the same model without DP, and stay within the in-process
// target with DP (the noise differs from run to run). B's DP is turned off in this
// deployment (as in-process) so answers compare exactly; a deployment leaves it on. Also
// reports wall times against the in-process run and the throughput of a 10,000-row
// encrypted table to A.
import { join } from 'node:path';
import type { TrainingReport } from '../roles/client.js';
import type { ShareRecord } from '../serve/start-role.js';
import { RoleChild } from './children.js';
import {
  compareTraining,
  type Out,
  pct,
  printQuery,
  printTraining,
  type QueryRecord,
  sameAnswer,
  seconds,
  type TrainingRecord,
} from './compare.js';
import { type LoopbackDeployment, prepareDeployment } from './deployment.js';
import { type DemoResult, runDemo } from './in-process.js';
import { type DemoOptions, demoSettings } from './options.js';
import {
  DEMO_BOUNDS,
  DEMO_OWNERS,
  type DemoScenario,
  demoScenario,
  type JoinPart,
  neededColumns,
  TRAINING_OWNERS,
  TRAINING_TABLES_BESIDE_QUERIES,
  trainingParties,
  trainingSql,
} from './scenario.js';

/** Rows of the table sent once more, after the queries, to measure table throughput. */
export const PROBE_ROWS = 10_000;

export interface ProcessDemoResult {
  ok: boolean;
  inProcess: DemoResult;
  /** The same records as the in-process run's, each checked against its in-process answer. */
  queries: QueryRecord[];
  /** The training queries over HTTP (empty with --training-rounds 0). */
  training: TrainingRecord[];
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

const OWNER_ROLES = Object.values(DEMO_OWNERS).map((o) => `owner:${o}`);

export async function runProcessDemo(options: DemoOptions = {}): Promise<ProcessDemoResult> {
  const run = new ProcessRun(options);
  try {
    run.out('fedjoin demo --processes: every role in its own process, HTTPS with mutual TLS on loopback');
    run.out('');
    const inProcess = await run.reference(); // [1]
    const setupMs = await run.deploy(inProcess); // [2]
    const pipelineStart = performance.now();
    await run.startServers(); // [3]
    const tables = await run.shareTables(); // [4]
    const queries = await run.askQueries(inProcess); // [5]
    const processesMs = performance.now() - pipelineStart;
    const probe = await run.probeThroughput(); // [6]
    const training = await run.train(inProcess); // [7]
    await Promise.all(run.children.map((c) => c.stop()));
    return run.summarise({ inProcess, setupMs, processesMs, tables, queries, probe, training });
  } finally {
    await Promise.all(run.children.map((c) => c.stop('SIGKILL').catch(() => null)));
    await run.deployment?.cleanup();
  }
}

/** Training configs: the coordinator's and each training owner's, the client's evaluation rows, the SQL. */
interface TrainingSetup {
  configs: Record<string, string>;
  evaluation: { csv: string; schema?: Record<string, 'integer' | 'decimal' | 'string'> };
  sql(rounds: number, dp: boolean): string;
}

interface TrainingOutcome {
  records: TrainingRecord[];
  wall?: { inProcessMs: number; processesMs: number; ratio: number };
}

/** One run's state: the deployment, its configs and the role processes, filled in step by step. */
class ProcessRun {
  readonly out: Out;
  readonly bits: number;
  readonly trainingRounds: number;
  readonly engine: Record<string, unknown>;
  readonly scenario: DemoScenario;
  readonly phases: { name: string; ms: number }[] = [];
  readonly children: RoleChild[] = [];
  readonly configs: Record<string, string> = {};
  deployment?: LoopbackDeployment;
  trainingSetup: TrainingSetup | null = null;
  inProcessMs = 0;
  private client?: RoleChild;
  private serverB?: RoleChild;
  /** The client's request ids (its answers carry them back). */
  private nextId = 0;

  constructor(readonly options: DemoOptions) {
    const { bits, nestedRows, trainingRounds, encryption, out } = demoSettings(options);
    this.out = out;
    this.bits = bits;
    this.trainingRounds = trainingRounds;
    this.engine = { encryption, ...(options.workers === undefined ? {} : { workers: options.workers }) };
    this.scenario = demoScenario({ overlap: options.overlap, nestedRows });
  }

  async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.phases.push({ name, ms: performance.now() - start });
    }
  }

  /** `fedjoin serve <role>` as a child; only server B gets the passphrase of its sealed key. */
  serve(role: string, options: { stdin?: boolean; config?: string } = {}): RoleChild {
    const config = options.config ?? this.configs[role];
    const passphrase = role === 'server-b' ? this.deployment!.passphrase : '';
    const child = new RoleChild(role, ['serve', role, '--config', config], {
      env: { FEDJOIN_PASSPHRASE: passphrase },
      stdin: options.stdin ?? false,
    });
    this.children.push(child);
    return child;
  }

  /** [1] The in-process run: the reference answers, and its pipeline's wall time. */
  async reference(): Promise<DemoResult> {
    this.out('[1] the in-process demo first: the reference answers (and the training part, in-process)');
    const inProcess = await this.timed('in-process demo (reference)', () =>
      runDemo({ ...this.options, quiet: true }),
    );
    this.inProcessMs = inProcess.phases
      .filter((p) => p.name !== 'key generation' && p.name !== 'federated training')
      .reduce((s, p) => s + p.ms, 0);
    this.out(
      `    ${inProcess.queries.filter((q) => q.match).length} of ${inProcess.queries.length} answers match the plaintext ` +
        `join; pipeline (engine start, encryption, 4 queries) ${seconds(this.inProcessMs)}`,
    );
    this.out('');
    return inProcess;
  }

  /** [2] Lays out the deployment: CA, credentials, B's sealed key, each role's config and CSVs. */
  async deploy(inProcess: DemoResult): Promise<number> {
    const trainers = inProcess.training ? TRAINING_OWNERS.map((o) => `owner:${o}`) : [];
    const roles = [
      'server-a',
      'server-b',
      'client',
      ...OWNER_ROLES,
      ...(inProcess.training ? ['coordinator', ...trainers.filter((o) => !OWNER_ROLES.includes(o))] : []),
    ];
    this.out(
      '[2] lay out a deployment in a temporary directory (what `fedjoin init` and `fedjoin keygen` make)',
    );
    const setupStart = performance.now();
    const d = await this.timed('setup: CA, credentials, B key, configs', () =>
      prepareDeployment({ bits: this.bits, roles, listeners: trainers }),
    );
    this.deployment = d;
    const { hashed, nested } = this.scenario;
    const parts = nested ? [hashed, nested] : [hashed];
    for (const role of OWNER_ROLES) {
      const tables = [];
      for (const part of parts) {
        const { table } = part.shares.find((s) => `owner:${s.owner}` === role)!;
        tables.push({
          ...(await d.writeCsv(table)),
          ...neededColumns(table.name, part.sqls),
          joinModes: [part.mode],
          bounds: { ...DEMO_BOUNDS },
        });
      }
      this.configs[role] = await d.writeConfig(role, { engine: this.engine, tables });
    }
    this.configs['server-a'] = await d.writeConfig('server-a', { engine: this.engine });
    // exact answers, to compare with the in-process run (a deployment leaves DP on); a demo
    // key under 2048 bits is accepted only with insecureForTests
    this.configs['server-b'] = await d.writeConfig('server-b', {
      engine: this.engine,
      policy: {
        privacy: false,
        ...(this.options.minGroupSize ? { minGroupSize: this.options.minGroupSize } : {}),
      },
      insecureForTests: this.bits < 2048,
    });
    // a training query is one request to the coordinator that lasts the whole training
    this.configs.client = await d.writeConfig('client', { transport: { timeoutMs: 1_800_000 } });
    if (inProcess.training) this.trainingSetup = await this.writeTrainingConfigs(d);
    const setupMs = performance.now() - setupStart;
    this.out(
      `    ${d.dir}: role CA + ${roles.length} role certificates, ` +
        `${this.bits}-bit key sealed (scrypt + AES-256-GCM), configs (${seconds(setupMs)})`,
    );
    this.out('');
    return setupMs;
  }

  /**
   * The training owners' tables exactly as the in-process run builds them, under names of
   * their own at A (A already holds the query part's), the client's evaluation rows, and the
   * configs of the coordinator and the three owners (each encrypts its table for A, registers
   * its signing key with B and keeps serving the coordinator).
   */
  private async writeTrainingConfigs(d: LoopbackDeployment): Promise<TrainingSetup> {
    const parties = trainingParties(TRAINING_TABLES_BESIDE_QUERIES);
    const configs: Record<string, string> = {};
    for (const [name, table] of parties.owners) {
      const csv = await d.writeCsv(table, `${name}-train.csv`);
      configs[`owner:${name}`] = await d.writeConfig(
        `owner:${name}`,
        {
          engine: this.engine,
          tables: [{ ...csv, joinKeys: [['id']], joinModes: ['hashed'], coOwners: [...TRAINING_OWNERS] }],
          training: { ...csv },
        },
        `owner.${name}.training`,
      );
    }
    configs.coordinator = await d.writeConfig('coordinator', {
      engine: this.engine,
      owners: [...TRAINING_OWNERS],
    });
    const evaluation = await d.writeCsv(parties.evaluation);
    return {
      configs,
      evaluation: {
        csv: join(d.dir, evaluation.csv),
        ...(evaluation.schema ? { schema: evaluation.schema } : {}),
      },
      sql: (rounds, dp) => trainingSql(rounds, dp, TRAINING_TABLES_BESIDE_QUERIES),
    };
  }

  /** [3] Server B, server A and the client, each listening once this resolves. */
  async startServers(): Promise<void> {
    this.out(
      '[3] start server B, server A and the client: node dist/src/cli/main.js serve <role> --config <file>',
    );
    this.serverB = this.serve('server-b');
    const a = this.serve('server-a');
    this.client = this.serve('client', { stdin: true });
    await this.timed('processes: start A, B, client', async () => {
      for (const child of [this.serverB!, a, this.client!]) {
        const e = await child.listening();
        this.out(`    ${child.name.padEnd(9)} listening on ${String(e.url)} (pid ${String(e.pid)})`);
      }
    });
    this.out('');
  }

  /** [4] The owners encrypt their tables, post them to A and exit. */
  async shareTables(): Promise<ShareRecord[]> {
    this.out(
      '[4] the owners encrypt the needed columns under B\u2019s key and post them to A (serve owner:<name>)',
    );
    const owners = OWNER_ROLES.map((o) => this.serve(o));
    const shared = await this.timed('processes: owners encrypt + send to A', async () => {
      const records: ShareRecord[] = [];
      for (const child of owners) {
        const code = await child.exited;
        if (code !== 0) throw new Error(`${child.name} exited with ${code}: ${child.stderrTail}`);
        for (const e of child.events.filter((ev) => ev.event === 'shared'))
          records.push(e as unknown as ShareRecord);
      }
      return records;
    });
    for (const r of shared) {
      this.out(
        `    ${r.owner} ${r.table}: ${r.ciphertexts.toLocaleString('en-US')} ciphertexts in ${seconds(r.encryptMs)}; ` +
          `${(r.bytes / 1e6).toFixed(2)} MB to A in ${seconds(r.sendMs)} (${r.megabytesPerSecond.toFixed(1)} MB/s)`,
      );
    }
    this.out('');
    return shared;
  }

  /** [5] Each part's queries through the client process, each checked against its in-process answer. */
  async askQueries(inProcess: DemoResult): Promise<QueryRecord[]> {
    this.out(
      '[5] the client process sends the demo\u2019s queries to A; B answers the aggregates to the client',
    );
    const { hashed, nested } = this.scenario;
    const parts = nested ? [hashed, nested] : [hashed];
    const queries: QueryRecord[] = [];
    await this.timed('processes: queries', async () => {
      for (const part of parts) {
        for (const sql of part.sqls) {
          const reference = inProcess.queries.find((q) => q.mode === part.mode && q.sql === sql);
          queries.push(await this.query(part, sql, reference));
        }
      }
    });
    this.out('');
    return queries;
  }

  /** One query through the client's stdin, checked against its in-process answer. */
  private async query(part: JoinPart, sql: string, reference: QueryRecord | undefined): Promise<QueryRecord> {
    const client = this.client!;
    const { mode, left, right } = part;
    const id = this.nextId++;
    this.out(`  ${mode} aggregate query: ${sql}`);
    const from = client.events.length;
    const start = performance.now();
    client.send({ id, sql, mode });
    const reply = await client.waitFor(
      (e) => (e.event === 'answer' || e.event === 'query-error') && e.id === id,
      600_000,
      from,
    );
    const record: QueryRecord = {
      mode,
      sql,
      leftRows: left.rowCount,
      rightRows: right.rowCount,
      ...(mode === 'nested' ? { indicators: left.rowCount * right.rowCount } : {}),
      rowsJoined: null,
      refused: false,
      expected: {
        source: 'in-process',
        rowsJoined: reference?.rowsJoined ?? null,
        refused: reference?.refused ?? false,
        ...(reference?.values ? { values: reference.values } : {}),
      },
      match: false,
      timingsMs: {},
      totalMs: performance.now() - start,
    };
    if (reply.event === 'answer') {
      // the client logs its answer as JSON: bigints (COUNT, integer SUM) as exact integers
      const answer = reply.answer as {
        rowsJoined: number;
        items: { label: string; value: number }[];
        timingsMs?: Record<string, number>;
      };
      record.rowsJoined = Number(answer.rowsJoined);
      record.timingsMs = answer.timingsMs ?? {};
      record.values = Object.fromEntries(answer.items.map((i) => [i.label, Number(i.value)]));
    } else {
      const error = reply.error as { code: string; message: string };
      record.error = `${error.code}: ${error.message}`;
      record.refused = error.code === 'POLICY_REFUSED';
    }
    record.match = sameAnswer(record, record.expected);
    printQuery(this.out, record);
    return record;
  }

  /** [6] owner:hospital sends its table again, grown to PROBE_ROWS rows, and times the post. */
  async probeThroughput(): Promise<ShareRecord | null> {
    const d = this.deployment!;
    const { hashed } = this.scenario;
    this.out(
      `[6] table throughput: owner:hospital sends a ${PROBE_ROWS.toLocaleString('en-US')}-row encrypted table to A`,
    );
    const config = await d.writeConfig(
      'owner:hospital',
      {
        engine: this.engine,
        tables: [
          {
            ...(await d.writeCsv(hashed.left)),
            ...neededColumns(hashed.left.name, hashed.sqls),
            joinModes: ['hashed'],
            bounds: { ...DEMO_BOUNDS },
          },
        ],
        throughputProbeRows: PROBE_ROWS,
      },
      'owner.hospital.probe',
    );
    const prober = this.serve('owner:hospital', { config });
    const probe = await this.timed('throughput probe', async () => {
      const code = await prober.exited;
      if (code !== 0) throw new Error(`throughput probe exited with ${code}: ${prober.stderrTail}`);
      const e = prober.events.filter((ev) => ev.event === 'shared').at(-1);
      return (e as unknown as ShareRecord | undefined) ?? null;
    });
    if (probe) {
      this.out(
        `    ${probe.rows.toLocaleString('en-US')} rows x ${probe.ciphertexts / probe.rows} ciphertexts = ` +
          `${(probe.bytes / 1e6).toFixed(2)} MB in ${seconds(probe.sendMs)}: ${probe.megabytesPerSecond.toFixed(1)} MB/s ` +
          '(encode, TLS, A decodes, validates and stores it, reply)',
      );
    }
    this.out('');
    return probe;
  }

  /** [7] The coordinator and training owners as processes; the client sends the in-process run's trainings. */
  async train(inProcess: DemoResult): Promise<TrainingOutcome> {
    const setup = this.trainingSetup;
    const inTraining = inProcess.training;
    if (!inTraining || !setup) return { records: [] };
    this.out(
      `[7] federated training over HTTP: the coordinator and the training owners (${TRAINING_OWNERS.join(', ')}) ` +
        `as processes too; the client process sends the training queries (${this.trainingRounds} rounds) to the coordinator`,
    );
    const trainingStart = performance.now();
    const coordinator = this.serve('coordinator', { config: setup.configs.coordinator });
    const trainers = TRAINING_OWNERS.map((o) =>
      this.serve(`owner:${o}`, { config: setup.configs[`owner:${o}`] }),
    );
    await this.timed('processes: coordinator + training owners start, encrypt, send to A', async () => {
      const e = await coordinator.listening();
      this.out(`    coordinator listening on ${String(e.url)} (pid ${String(e.pid)})`);
      for (const child of trainers) {
        const ready = await child.waitFor((ev) => ev.event === 'ready', 600_000);
        const shares = child.events.filter((ev) => ev.event === 'shared') as unknown as ShareRecord[];
        const listening = child.events.find((ev) => ev.event === 'listening');
        this.out(
          `    ${child.name.padEnd(19)} ${shares.map((r) => `${r.table} ${r.rows} rows encrypted in ${seconds(r.encryptMs)}, sent in ${seconds(r.sendMs)}`).join('; ')}; ` +
            `Ed25519 key registered with B; listening on ${String(listening?.url)} (pid ${String(ready.pid ?? listening?.pid)})`,
        );
      }
    });
    const records: TrainingRecord[] = [];
    await this.timed('processes: training queries', async () => {
      for (const run of inTraining.runs) {
        records.push(await this.trainOnce(run, setup, inTraining.baseline.accuracy));
      }
    });
    const processesMs = performance.now() - trainingStart;
    const inProcessMs =
      inProcess.phases.find((p) => p.name === 'federated training')?.ms ??
      inTraining.runs.reduce((t, r) => t + r.ms, 0);
    const wall = { inProcessMs, processesMs, ratio: processesMs / inProcessMs };
    this.out(
      `    plaintext baseline (in-process run): accuracy ${pct(inTraining.baseline.accuracy)}, ` +
        `AUC ${inTraining.baseline.auc.toFixed(3)}`,
    );
    this.out(
      `    training part: in-process ${seconds(inProcessMs)} (three owners' encryption, ${inTraining.runs.length} trainings) | ` +
        `processes ${seconds(processesMs)} (process starts, encryption, ${records.length} trainings over HTTPS) | ` +
        `ratio ${wall.ratio.toFixed(2)}x`,
    );
    this.out('');
    return { records, wall };
  }

  /** One training query through the client process, compared with the in-process `run`. */
  private async trainOnce(
    run: { label: string; dp: boolean; report: TrainingReport; ms: number },
    setup: TrainingSetup,
    baselineAccuracy: number,
  ): Promise<TrainingRecord> {
    const client = this.client!;
    const sql = setup.sql(this.trainingRounds, run.dp);
    const id = `train-${this.nextId++}`;
    const from = client.events.length;
    const start = performance.now();
    client.send({ id, sql, evaluation: setup.evaluation });
    const reply = await client.waitFor(
      (e) => (e.event === 'trained' || e.event === 'query-error') && e.id === id,
      1_800_000,
      from,
    );
    const record: TrainingRecord = {
      label: run.label,
      dp: run.dp,
      sql,
      ms: performance.now() - start,
      expected: { report: run.report, ms: run.ms },
      match: false,
      maxDifference: Number.NaN,
    };
    if (reply.event === 'trained') record.report = reply.report as TrainingReport;
    else {
      const error = reply.error as { code: string; message: string };
      record.error = `${error.code}: ${error.message}`;
    }
    compareTraining(record, baselineAccuracy);
    printTraining(this.out, record, baselineAccuracy);
    return record;
  }

  /** The closing lines and the result. */
  summarise(r: {
    inProcess: DemoResult;
    setupMs: number;
    processesMs: number;
    tables: ShareRecord[];
    queries: QueryRecord[];
    probe: ShareRecord | null;
    training: TrainingOutcome;
  }): ProcessDemoResult {
    const { inProcess, queries } = r;
    const trainings = r.training.records;
    const trainingOk = !inProcess.training || (trainings.length > 0 && trainings.every((t) => t.match));
    const ok = queries.length > 0 && queries.every((q) => q.match) && inProcess.ok && trainingOk;
    const ratio = r.processesMs / this.inProcessMs;
    this.out(
      'wall time of the same pipeline (process or engine start, encryption, the queries; no key generation, no training)',
    );
    this.out(
      `  in-process ${seconds(this.inProcessMs)} | separate processes over HTTPS ${seconds(r.processesMs)} | ratio ${ratio.toFixed(2)}x`,
    );
    this.out(
      `${ok ? 'ok' : 'FAILED'}: ${queries.filter((q) => q.match).length} of ${queries.length} answers over HTTP equal ` +
        `the in-process answers; in-process: ${inProcess.queries.filter((q) => q.match).length} of ` +
        `${inProcess.queries.length} match the plaintext join` +
        (inProcess.training
          ? `, training targets ${inProcess.training.withinTargets ? 'met' : 'MISSED'}; ` +
            `${trainings.filter((t) => t.match).length} of ${trainings.length} trainings over HTTP ` +
            'agree with the in-process ones'
          : ''),
    );
    return {
      ok,
      inProcess,
      queries,
      training: trainings,
      wall: {
        inProcessMs: this.inProcessMs,
        processesMs: r.processesMs,
        ratio,
        setupMs: r.setupMs,
        ...(r.training.wall ? { training: r.training.wall } : {}),
      },
      tables: r.tables,
      probe: r.probe,
      phases: this.phases,
    };
  }
}
