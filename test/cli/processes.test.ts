// The roles as separate processes (issue 6): `node dist/src/cli/main.js serve <role>`
// children on loopback with mutual TLS, driven through the CLI (`encrypt`, `query`,
// `keygen`). End-to-end answers equal the plaintext join; a peer without credentials (or
// with another CA's) is refused; server B killed mid-join and restarted: the query
// completes with no row lost or counted twice (B keeps the authorized query in its state
// file); a wrong passphrase is refused by keygen and serve; a training query from the client process runs through the coordinator and two
// training owners as processes and gives the in-process model. Needs `npm run build` first
// (the children run dist/).
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_AUTH, EXIT_KEY, EXIT_UNREACHABLE, EXIT_USAGE } from '../../src/cli/exit-codes.js';
import { type Cell, type ColumnSchema, Table } from '../../src/data/table.js';
import { cliMainPath, RoleChild } from '../../src/demo/children.js';
import { type LoopbackDeployment, prepareDeployment } from '../../src/demo/deployment.js';
import { createEngine } from '../../src/engine/engine.js';
import { initCa } from '../../src/http/ca.js';
import type { TrainingReport } from '../../src/roles/client.js';
import { createFederation } from '../../src/roles/federation.js';
import { keyedTable } from '../helpers/tables.js';

const ENGINE = { backend: 'wasm', workers: 1, encryption: 'djn' } as const;
// nested mode, 20 x 60 = 1200 indicators: two batches to B (1020 + 180)
const left = keyedTable(
  'lt',
  'x',
  Array.from({ length: 20 }, (_, i) => [BigInt(i % 10), BigInt(i * 7 + 1)]),
);
const right = keyedTable(
  'rt',
  'y',
  Array.from({ length: 60 }, (_, j) => [BigInt(j % 15), BigInt(j * 3 + 2)]),
);
const pairs: [number, number][] = [];
for (let i = 0; i < left.rowCount; i++)
  for (let j = 0; j < right.rowCount; j++)
    if (left.column('k').values[i] === right.column('k').values[j]) pairs.push([i, j]);
const sum = (values: readonly Cell[]) => values.reduce<number>((s, v) => s + Number(v), 0);
// training: a vertical split, ids 0..47 with two features and the label at one owner,
// ids 8..55 with a third feature at the other; 40 rows joined; 24 evaluation rows
const trainingRow = (i: number) => {
  const f1 = ((i * 37) % 23) - 11;
  const f2 = ((i * 53) % 29) - 14;
  const f3 = ((i * 71) % 31) - 15;
  return { f1, f2, f3, y: 2 * f1 - f2 + f3 + ((i * 13) % 7) - 3 > 0 ? 1 : 0 };
};
const integers = (names: string[]): ColumnSchema[] => names.map((name) => ({ name, type: 'integer' }));
const trainingTable = (name: string, ids: number[], columns: ('f1' | 'f2' | 'f3' | 'y')[]) =>
  Table.fromRows(
    name,
    integers(['id', ...columns]),
    ids.map((i) => [BigInt(i), ...columns.map((c) => BigInt(trainingRow(i)[c]))]),
  );
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
const trainLeft = trainingTable('tl', ids(0, 48), ['f1', 'f2', 'y']);
const trainRight = trainingTable('tr', ids(8, 56), ['f3']);
const evaluation = trainingTable('evaluation', ids(100, 124), ['f1', 'f2', 'f3', 'y']);
const TRAIN = 'SELECT a.f1, a.f2, b.f3 FROM tl a JOIN tr b ON a.id = b.id TRAIN LOGISTIC LABEL a.y ROUNDS 2';
const AGGREGATE = 'SELECT COUNT(*), SUM(a.x), SUM(b.y) FROM lt a JOIN rt b ON a.k = b.k';

let d: LoopbackDeployment;
const children: RoleChild[] = [];
const configs: Record<string, string> = {};

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliMainPath(), ...args],
      { env: { ...process.env, FEDJOIN_PASSPHRASE: '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function serve(role: string, env: NodeJS.ProcessEnv = {}, stdin = false, config = configs[role]): RoleChild {
  const child = new RoleChild(role, ['serve', role, '--config', config], {
    env: { FEDJOIN_PASSPHRASE: '', ...env },
    stdin,
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  d = await prepareDeployment({
    bits: 1024,
    roles: [
      'server-a',
      'server-b',
      'client',
      'owner:left',
      'owner:right',
      'coordinator',
      'owner:tl',
      'owner:tr',
    ],
    listeners: ['owner:tl', 'owner:tr'],
    scryptN: 2 ** 14,
  });
  // exact answers to compare with the plaintext join; a 1024-bit key and scrypt 2^14 for speed
  configs['server-b'] = await d.writeConfig('server-b', {
    engine: ENGINE,
    logMessages: true,
    policy: { privacy: false },
    insecureForTests: true,
  });
  // A keeps retrying long enough for B to come back after a crash
  configs['server-a'] = await d.writeConfig('server-a', {
    engine: ENGINE,
    transport: { retries: 12, retryDelayMs: 100, maxRetryDelayMs: 1000 },
  });
  configs.client = await d.writeConfig('client', {});
  configs['owner:left'] = await d.writeConfig('owner:left', {
    engine: ENGINE,
    tables: [{ ...(await d.writeCsv(left)), joinKeys: [['k']] }],
  });
  configs['owner:right'] = await d.writeConfig('owner:right', { engine: ENGINE });
  await d.writeCsv(right);
  const b = serve('server-b', { FEDJOIN_PASSPHRASE: d.passphrase });
  const a = serve('server-a');
  await Promise.all([a.listening(), b.listening()]);
  // one owner as a service that shares its configured table and exits, the other with `fedjoin encrypt`
  const owner = serve('owner:left');
  const [code, encrypted] = await Promise.all([
    owner.exited,
    cli([
      'encrypt',
      '--config',
      configs['owner:right'],
      '--csv',
      join(d.dir, 'rt.csv'),
      '--join-key',
      'k',
      '--json',
    ]),
  ]);
  expect(code, owner.stderrTail).toBe(0);
  expect(encrypted.code, encrypted.stderr).toBe(0);
  expect(JSON.parse(encrypted.stdout).tables[0]).toMatchObject({ table: 'rt', rows: 60 });
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.stop('SIGKILL')));
  await d?.cleanup();
});

describe('fedjoin serve: roles as processes over HTTPS', () => {
  it('answers an aggregate query end to end as the plaintext join does (fedjoin query --json)', async () => {
    const report = join(d.dir, 'report');
    const { code, stdout, stderr } = await cli([
      'query',
      '--config',
      configs.client,
      '--json',
      '--report',
      report,
      AGGREGATE,
    ]);
    expect(code, stderr).toBe(0);
    const { answer } = JSON.parse(stdout);
    expect(answer.rowsJoined).toBe(pairs.length);
    expect(answer.items).toEqual([
      { label: 'COUNT(*)', kind: 'count', value: pairs.length },
      { label: 'SUM(a.x)', kind: 'sum', value: sum(pairs.map(([i]) => left.column('x').values[i])) },
      { label: 'SUM(b.y)', kind: 'sum', value: sum(pairs.map(([, j]) => right.column('y').values[j])) },
    ]);
    expect(await readFile(join(report, 'report.html'), 'utf8')).toContain('SUM(a.x)');
  });

  it('trains over HTTP: client -> coordinator -> training owners, A and B as processes, the in-process model', async () => {
    for (const [owner, table] of [
      ['owner:tl', trainLeft],
      ['owner:tr', trainRight],
    ] as const) {
      const csv = await d.writeCsv(table);
      configs[owner] = await d.writeConfig(owner, {
        engine: ENGINE,
        tables: [{ ...csv, joinKeys: [['id']], joinModes: ['hashed'] }],
        training: csv,
      });
    }
    configs.coordinator = await d.writeConfig('coordinator', { engine: ENGINE, owners: ['tl', 'tr'] });
    const coordinator = serve('coordinator');
    const owners = [serve('owner:tl'), serve('owner:tr')];
    await coordinator.listening();
    for (const owner of owners) await owner.waitFor((e) => e.event === 'ready', 60_000);
    // its own client process, stopped at the end: the next test starts another on the client port
    const client = serve('client', {}, true);
    await client.listening();
    const evaluationCsv = await d.writeCsv(evaluation);
    client.send({ id: 't', sql: TRAIN, evaluation: { csv: join(d.dir, evaluationCsv.csv) } });
    const reply = await client
      .waitFor((e) => e.event === 'trained' || e.event === 'query-error', 90_000)
      .finally(() => client.stop());
    expect(reply.event, JSON.stringify(reply)).toBe('trained');
    const report = reply.report as TrainingReport;
    expect(report).toMatchObject({ rounds: 2, rowsJoined: 40, epsilon: null });
    expect(report.model.features).toEqual(['tl.f1', 'tl.f2', 'tr.f3']);
    expect(report.evaluation?.rows).toBe(24);
    // the coordinator asked each owner for statistics and two local trainings; B trained once
    expect(coordinator.events.some((e) => e.event === 'owners')).toBe(true);
    // the same training in-process (another key: without DP the model does not depend on it)
    const engine = await createEngine(ENGINE);
    try {
      const fed = await createFederation({ engine, bits: 1024 });
      for (const [name, table] of [
        ['tl', trainLeft],
        ['tr', trainRight],
      ] as const) {
        const owner = fed.owner(name);
        await owner.shareTable(table, { joinKeys: [['id']], joinModes: ['hashed'] });
        await owner.joinTraining(table);
        fed.coordinator.addOwner(name);
      }
      const reference = await fed.client.train(TRAIN, { evaluation });
      expect(report.rowsJoined).toBe(reference.rowsJoined);
      expect(report.model.bias).toBeCloseTo(reference.model.bias, 9);
      for (const [k, w] of report.model.weights.entries())
        expect(w).toBeCloseTo(reference.model.weights[k], 9);
      expect(report.evaluation?.accuracy).toBeCloseTo(reference.evaluation!.accuracy, 9);
      expect(report.evaluation?.logLoss).toBeCloseTo(reference.evaluation!.logLoss, 9);
      expect(report.evaluation!.accuracy).toBeGreaterThan(0.7);
    } finally {
      await engine.close();
    }
  }, 90_000);

  it('refuses a peer without credentials, and one with another CA’s certificate', async () => {
    // no client certificate at all: the TLS handshake fails, nothing reaches A's handler
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        `${d.url('server-a')}/v1/message`,
        { method: 'POST', ca: '', rejectUnauthorized: false },
        (res) => resolve(`HTTP ${res.statusCode}`),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end();
    });
    expect(outcome).not.toMatch(/^HTTP 200/);
    // a client certificate from another CA (that trusts ours): refused by the mutual TLS
    const other = join(d.dir, 'other');
    await initCa(other, { roles: ['client'] });
    await cp(join(d.dir, 'ca', 'ca.crt'), join(other, 'ca.crt'));
    const config = JSON.parse(await readFile(configs.client, 'utf8'));
    const foreign = join(d.dir, 'client-foreign.json');
    await writeFile(foreign, JSON.stringify({ ...config, credentials: 'other', transport: { retries: 0 } }));
    const { code, stderr } = await cli(['query', '--config', foreign, '--no-report', AGGREGATE]);
    expect([EXIT_AUTH, EXIT_UNREACHABLE]).toContain(code);
    expect(stderr).toMatch(/PEER_AUTH|TRANSPORT/);
  });

  it('completes a query when server B is killed mid-join and restarted: no row lost or duplicated', async () => {
    const b = children.find((c) => c.name === 'server-b' && c.exitCode === undefined)!;
    const client = serve('client', {}, true);
    await client.listening();
    const seen = b.events.length;
    client.send({ id: 1, sql: AGGREGATE, mode: 'nested' });
    // B receives the first indicator batch of the nested join: kill it there, hard
    await b.waitFor((e) => e.event === 'message' && e.type === 'indicator-batch', 60_000, seen);
    await b.stop('SIGKILL');
    const restarted = serve('server-b', { FEDJOIN_PASSPHRASE: d.passphrase });
    const reply = await client.waitFor((e) => e.event === 'answer' || e.event === 'query-error', 90_000);
    expect(reply.event, JSON.stringify(reply)).toBe('answer');
    // A re-opened the query at the new B, which counted every pair and summed every row once
    expect(restarted.events.some((e) => e.event === 'message' && e.type === 'query-open')).toBe(true);
    const values = (r: Record<string, unknown>) =>
      (r.answer as { items: { value: number }[] }).items.map((i) => i.value);
    const expected = [
      pairs.length,
      sum(pairs.map(([i]) => left.column('x').values[i])),
      sum(pairs.map(([, j]) => right.column('y').values[j])),
    ];
    expect(values(reply)).toEqual(expected);
    // and the restarted B answers aggregates as before
    client.send({ id: 2, sql: AGGREGATE, mode: 'hashed' });
    const second = await client.waitFor((e) => e.event === 'answer' && e.id === 2, 60_000);
    expect(values(second)).toEqual(expected);
  });

  it('serves B only with its safe minimums: the wasm backend, a 2048-bit key, scrypt 2^15 (issue 9 item 8)', async () => {
    const env = { FEDJOIN_PASSPHRASE: d.passphrase };
    const bigint = await d.writeConfig(
      'server-b',
      { engine: { backend: 'bigint' }, insecureForTests: true },
      'b-bigint',
    );
    const refusedBackend = await cli(['serve', 'server-b', '--config', bigint], env);
    expect(refusedBackend.code).toBe(EXIT_USAGE);
    expect(refusedBackend.stderr).toMatch(/wasm backend only/);
    // this deployment's key has 1024 bits and scrypt N = 2^14: refused unless marked for tests
    const plain = await d.writeConfig('server-b', { engine: ENGINE }, 'b-plain');
    const refusedKey = await cli(['serve', 'server-b', '--config', plain], env);
    expect(refusedKey.code).toBe(EXIT_KEY);
    expect(refusedKey.stderr).toMatch(/2048 bits or more .* scrypt N >= 2\^15/);
  });

  it('has DP on by default when served (its start-up policy line says so)', async () => {
    // a second B on its own port, with no policy in its config: aggregate-privacy.test.ts and
    // test/attacks/privacy-budget.test.ts check what the policy does to answers
    const config = await d.writeConfig(
      'server-b',
      { engine: ENGINE, insecureForTests: true, listen: { port: 0 } },
      'b-default',
    );
    const b = serve('server-b', { FEDJOIN_PASSPHRASE: d.passphrase }, false, config);
    const policy = await b.waitFor((e) => e.event === 'policy', 30_000);
    await b.stop();
    expect(policy.privacy).toMatchObject({ epsilonCap: 10, aggregateEpsilon: 1, delta: 1e-6 });
  });

  it('refuses a wrong passphrase in keygen --rotate and in serve server-b, without echoing it', async () => {
    const keyFile = join(d.dir, 'paillier.key');
    const wrong = 'not-the-passphrase-123';
    const rotate = await cli(['keygen', '--rotate', '--out', keyFile], {
      FEDJOIN_PASSPHRASE: wrong,
      FEDJOIN_NEW_PASSPHRASE: 'another-passphrase-456',
    });
    expect(rotate.code).toBe(EXIT_KEY);
    expect(rotate.stderr).toMatch(/wrong passphrase/);
    expect(rotate.stderr).not.toContain(wrong);
    const served = await cli(['serve', 'server-b', '--config', configs['server-b']], {
      FEDJOIN_PASSPHRASE: wrong,
    });
    expect(served.code).toBe(EXIT_KEY);
    expect(served.stderr + served.stdout).not.toContain(wrong);
  });
});
