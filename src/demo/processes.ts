// `fedjoin demo --processes` (issue 6): the demo's hashed and nested queries with every
// role in its own process on loopback, talking HTTPS with mutual TLS. It first runs the
// in-process demo (the reference, and the training part with its DP statement), then lays
// out a deployment in a temporary directory (deployment.ts), starts server A, server B and
// the client with `node dist/src/cli/main.js serve <role> --config <file>` and the two owners
// the same way (they encrypt and hand their tables to A, then exit), sends the same
// queries through the client process, and checks every answer equals the in-process one:
// aggregates by value, feature queries by the rows B decrypted (a digest B logs; rows never
// leave B). Reports the wall time against the in-process run and the measured throughput
// of moving encrypted tables between processes, including a 10,000-row table.
// Training (and the coordinator) stay in-process: see docs/DECISIONS.md.
import { splitBundled } from '../data/bundled.js';
import type { Table } from '../data/table.js';
import { parseQuery, queryColumns } from '../query/sql.js';
import type { ShareRecord } from '../serve/roles.js';
import { RoleChild } from './children.js';
import { type LoopbackDeployment, prepareDeployment } from './deployment.js';
import {
  DEMO_DEFAULT_BITS,
  DEMO_DEFAULT_ENCRYPTION,
  DEMO_DEFAULT_NESTED_ROWS,
  type DemoOptions,
} from './options.js';
import { sameNumber } from './plaintext.js';
import { DEMO_QUERIES, type DemoResult, type QueryRecord, runDemo } from './run-demo.js';

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

export interface ProcessDemoResult {
  ok: boolean;
  inProcess: DemoResult;
  queries: ProcessQueryRecord[];
  /** Wall times of the same pipeline (engine/process start, encryption, the four queries; no key generation, no training). */
  wall: { inProcessMs: number; processesMs: number; ratio: number; setupMs: number };
  /** Encrypted tables moved owner -> A between processes, and the 10,000-row probe. */
  tables: ShareRecord[];
  probe: ShareRecord | null;
  phases: { name: string; ms: number }[];
}

function neededColumns(table: string, sqls: readonly string[]): { columns: string[]; joinKeys: string[][] } {
  const columns: string[] = [];
  const joinKeys: string[][] = [];
  for (const sql of sqls) {
    const { keys, values } = queryColumns(parseQuery(sql), table);
    for (const c of values) if (!columns.includes(c)) columns.push(c);
    if (!joinKeys.some((k) => k.join('\u0000') === keys.join('\u0000'))) joinKeys.push(keys);
  }
  return { columns, joinKeys };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const show = (v: number) => String(Number(v.toPrecision(10)));

/** The nested samples exactly as runDemo picks them. */
function nestedSamples(hospital: Table, lab: Table, overlap: number, nestedRows: number): [Table, Table] {
  const overlapStart = hospital.rowCount - overlap;
  const hFrom = Math.max(
    0,
    Math.min(overlapStart - Math.floor(nestedRows / 2), hospital.rowCount - nestedRows),
  );
  const hTo = Math.min(hospital.rowCount, hFrom + nestedRows);
  const lTo = Math.min(lab.rowCount, nestedRows);
  return [hospital.takeRows(range(hFrom, hTo), 'hospital_sample'), lab.takeRows(range(0, lTo), 'lab_sample')];
}

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
  const engine = { encryption, ...(options.workers === undefined ? {} : { workers: options.workers }) };
  let deployment: LoopbackDeployment | undefined;
  const children: RoleChild[] = [];
  try {
    out('[2] lay out a deployment in a temporary directory (what `fedjoin init` and `fedjoin keygen` make)');
    const setupStart = performance.now();
    const d = await timed('setup: CA, credentials, B key, configs', () =>
      prepareDeployment({ bits, roles: ['server-a', 'server-b', 'client', ...owners] }),
    );
    deployment = d;
    const tables: Record<string, { table: Table; mode: 'hashed' | 'nested'; sqls: string[] }[]> = {
      'owner:hospital': [{ table: hospital, mode: 'hashed', sqls: full }],
      'owner:lab': [{ table: lab, mode: 'hashed', sqls: full }],
    };
    let sampleSqls: string[] = [];
    if (nestedRows > 0) {
      const [hs, ls] = nestedSamples(hospital, lab, overlap, nestedRows);
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
    configs.client = await d.writeConfig('client', {});
    const setupMs = performance.now() - setupStart;
    out(
      `    ${d.dir}: role CA + 5 role certificates, ${bits}-bit key sealed (scrypt + AES-256-GCM), configs (${seconds(setupMs)})`,
    );
    out('');

    out(
      '[3] start server B, server A and the client: node dist/src/cli/main.js serve <role> --config <file>',
    );
    const pipelineStart = performance.now();
    const serve = (role: string, stdin = false) => {
      const child = new RoleChild(role, ['serve', role, '--config', configs[role]], {
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

    await Promise.all(children.map((c) => c.stop()));
    const ok = queries.length > 0 && queries.every((q) => q.match) && inProcess.ok;
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
          ? `, training targets ${inProcess.training.withinTargets ? 'met' : 'MISSED'}`
          : ''),
    );
    return {
      ok,
      inProcess,
      queries,
      wall: { inProcessMs, processesMs, ratio, setupMs },
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
