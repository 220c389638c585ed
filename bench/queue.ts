// The job queue against the in-process pool (issue 13, DESIGN §7) on a redis-server of its
// own: the nested join through the roles, 1 vs 2 worker processes, per-job cost, a SIGKILL
// mid-job, a projection to 10 and 100 machines; to bench/results/queue-*.{json,md}. Flags:
// --rows 100 --role-workers 2 --scale-rows 64 --scale-cols 32 --jobs 300 --bits 2048 --only jobs,...
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { generateJoinSecret } from '../src/data/join-key.js';
import { Table } from '../src/data/table.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { generateKeys, type KeyPair } from '../src/engine/keys.js';
import { pack, wordsFor } from '../src/engine/limbs.js';
import { OPS } from '../src/engine/ops.js';
import { minShardValues } from '../src/engine/shard.js';
import { JOIN_COMB } from '../src/engine/tasks.js';
import { tileShape } from '../src/join/nested.js';
import { saveKey } from '../src/keystore/index.js';
import { concat, slice } from '../src/protocol/batch.js';
import { InProcessTransport } from '../src/protocol/transport.js';
import { QUEUE_DEFAULTS, type QueueRole, type QueueSettings } from '../src/queue/config.js';
import {
  type RedisServer,
  startRedisServer,
  startWorkers,
  stopWorkers,
  type WorkerProcess,
  writeQueueSecret,
} from '../src/queue/local.js';
import { MIN_JOB_COST } from '../src/queue/runner.js';
import { Client } from '../src/roles/client.js';
import { DataOwner } from '../src/roles/data-owner.js';
import { ServerA } from '../src/roles/server-a.js';
import { ServerB } from '../src/roles/server-b.js';
import { loadAverage } from './lib/environment.js';
import { exitOnRefusal, numberArg, runHeader, startRun, stringArg, writeResults } from './lib/results.js';

const PASSPHRASE = 'bench-queue-passphrase';

interface Context {
  bits: number;
  keys: KeyPair;
  dir: string;
  keyFile: string;
  secrets: Record<QueueRole, string>;
  redis: RedisServer;
  stats: Redis;
  owners: Engine;
}

function settings(ctx: Context, role: QueueRole): QueueSettings {
  return { redis: ctx.redis.url, role, secretFile: ctx.secrets[role] };
}

/** `fedjoin worker` processes of one thread each, B's opening the sealed key file. */
async function startRoleWorkers(ctx: Context, role: QueueRole, count: number): Promise<WorkerProcess[]> {
  const config = join(ctx.dir, `${role}.json`);
  await writeFile(config, JSON.stringify({ role, credentials: ctx.dir, keyFile: ctx.keyFile }));
  return startWorkers(count, {
    role,
    redis: ctx.redis.url,
    secretFile: ctx.secrets[role],
    threads: 1,
    args: ['--config', config],
    env: { FEDJOIN_PASSPHRASE: PASSPHRASE },
  });
}

/** Redis's own counters: commands processed and bytes in and out. */
async function redisCounters(stats: Redis) {
  const info = `${await stats.info('stats')}\n${await stats.info('cpu')}`;
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return {
    commands: field('total_commands_processed'),
    inBytes: field('total_net_input_bytes'),
    outBytes: field('total_net_output_bytes'),
    cpuSeconds: field('used_cpu_user') + field('used_cpu_sys'),
  };
}

async function measured<T>(ctx: Context, fn: () => Promise<T>, workers: readonly WorkerProcess[] = []) {
  const before = await redisCounters(ctx.stats);
  const workersBefore = workers.map((w) => cpuSeconds(w.process.pid));
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const after = await redisCounters(ctx.stats);
  return {
    value,
    ms,
    /** CPU of this process (the roles' caller side: sealing, shuffles, protocol), ms. */
    callerCpuMs: (used.user + used.system) / 1000,
    commands: after.commands - before.commands,
    redisBytes: after.inBytes - before.inBytes + (after.outBytes - before.outBytes),
    redisCpuMs: 1000 * (after.cpuSeconds - before.cpuSeconds),
    /** CPU of the given worker processes, ms. */
    workersCpuMs: 1000 * workers.reduce((sum, w, i) => sum + cpuSeconds(w.process.pid) - workersBefore[i], 0),
  };
}

function table(name: string, rows: number): Table {
  return Table.fromRows(
    name,
    [
      { name: 'k', type: 'integer' },
      { name: 'v', type: 'decimal' },
    ],
    Array.from({ length: rows }, (_, i) => [BigInt(i % Math.max(1, Math.floor(rows / 2))), i / 10]),
  );
}

/** The nested join of two `rows`-row tables through the roles, A and B on the given engines. */
async function nestedJoin(ctx: Context, a: Engine, b: Engine, rows: number, workers: WorkerProcess[] = []) {
  const transport = new InProcessTransport(false);
  const { publicKey } = ctx.keys;
  new ServerB({ engine: b, transport, keys: ctx.keys, policy: { minGroupSize: 1 } });
  new ServerA({ engine: a, transport, publicKey });
  const client = new Client({ transport });
  const joinSecret = generateJoinSecret();
  const share = { joinKeys: [['k']], joinModes: ['nested'] as const, columns: [] };
  for (const [owner, name] of [
    ['left', 'lt'],
    ['right', 'rt'],
  ]) {
    await new DataOwner({ name: owner, engine: ctx.owners, transport, publicKey, joinSecret }).shareTable(
      table(name, rows),
      share,
    );
  }
  return measured(
    ctx,
    () => client.query('SELECT COUNT(*) FROM lt a JOIN rt b ON a.k = b.k', { mode: 'nested' }),
    workers,
  );
}

/** The comb tables of `rows` left ciphertexts and of `cols` right inverses, for engine-level joins. */
async function joinInputs(ctx: Context, rows: number, cols: number) {
  const { publicKey } = ctx.keys;
  const values = Array.from({ length: Math.max(rows, cols) }, (_, i) => BigInt(i % 7));
  const cs = await ctx.owners.encrypt(publicKey, values, { mode: 'djn' });
  const words = wordsFor(publicKey.n ** 2n);
  const right = await ctx.owners.inversePacked(publicKey, pack(cs.slice(0, cols), words));
  const tables = await ctx.owners.joinTablesPacked(
    publicKey,
    concat([pack(cs.slice(0, rows), words), right]),
  );
  return { left: slice(tables, 0, rows), right: slice(tables, rows, rows + cols) };
}

async function overhead(ctx: Context, rows: number, perRole: number) {
  const pool = await createEngine({ workers: 2 });
  const poolRun = await nestedJoin(ctx, pool, pool, rows);
  await pool.close();
  const [workersA, workersB] = await Promise.all([
    startRoleWorkers(ctx, 'server-a', perRole),
    startRoleWorkers(ctx, 'server-b', perRole),
  ]);
  const a = await createEngine({ queue: settings(ctx, 'server-a') });
  const b = await createEngine({ queue: settings(ctx, 'server-b') });
  const queueRun = await nestedJoin(ctx, a, b, rows, [...workersA, ...workersB]);
  await Promise.all([a.close(), b.close()]);
  await stopWorkers([...workersA, ...workersB]);
  if (queueRun.value.rowsJoined !== poolRun.value.rowsJoined) throw new Error('queue and pool joins differ');
  const pairs = rows * rows;
  return {
    rows,
    pairs,
    workersPerRole: perRole,
    poolSeconds: poolRun.ms / 1000,
    queueSeconds: queueRun.ms / 1000,
    slowdown: queueRun.ms / poolRun.ms - 1,
    poolPairsPerSecond: pairs / (poolRun.ms / 1000),
    queuePairsPerSecond: pairs / (queueRun.ms / 1000),
    redisCommandsPerPair: queueRun.commands / pairs,
    redisBytesPerPair: queueRun.redisBytes / pairs,
    redisCpuMsPerPair: queueRun.redisCpuMs / pairs,
    callerCpuMsPerPair: queueRun.callerCpuMs / pairs,
    /** All CPU for the join: this process (its pool threads included), and the workers and Redis for the queue. */
    poolCpuSeconds: poolRun.callerCpuMs / 1000,
    queueCpuSeconds: (queueRun.callerCpuMs + queueRun.workersCpuMs + queueRun.redisCpuMs) / 1000,
    cpuOverhead:
      (queueRun.callerCpuMs + queueRun.workersCpuMs + queueRun.redisCpuMs) / poolRun.callerCpuMs - 1,
  };
}

async function scaling(ctx: Context, rows: number, cols: number) {
  const { left, right } = await joinInputs(ctx, rows, cols);
  // the same batch on the in-process pool's 2 threads: A's join alone, queue against pool
  const pool = await createEngine({ workers: 2 });
  await pool.joinPairsPacked(ctx.keys.publicKey, slice(left, 0, 2), right);
  const poolRun = await measured(ctx, () => pool.joinPairsPacked(ctx.keys.publicKey, left, right));
  await pool.close();
  const engine = await createEngine({ queue: settings(ctx, 'server-a') });
  const seconds: number[] = [];
  const workers: WorkerProcess[] = [];
  /** Per run: the workers' CPU seconds, and the share of the wall time they spent inside jobs. */
  const cpu: number[] = [];
  const busy: number[] = [];
  const runnerCpuMs: number[] = [];
  for (const count of [1, 2]) {
    workers.push(...(await startRoleWorkers(ctx, 'server-a', count - workers.length)));
    // the registry is read at most once a second: let it see the new worker
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const cpuBefore = workers.map((w) => cpuSeconds(w.process.pid));
    const linesBefore = workers.map((w) => w.lines.length);
    const run = await measured(ctx, () => engine.joinPairsPacked(ctx.keys.publicKey, left, right));
    seconds.push(run.ms / 1000);
    runnerCpuMs.push(run.callerCpuMs);
    cpu.push(workers.reduce((sum, w, i) => sum + cpuSeconds(w.process.pid) - cpuBefore[i], 0));
    const jobMs = workers.flatMap((w, i) =>
      w.lines
        .slice(linesBefore[i])
        .filter((l) => l.event === 'job')
        .map((l) => Number(l.ms)),
    );
    busy.push(jobMs.reduce((x, y) => x + y, 0) / (run.ms * count));
  }
  await engine.close();
  await stopWorkers(workers);
  const pairs = rows * cols;
  return {
    rows,
    cols,
    pairs,
    workers1Seconds: seconds[0],
    workers2Seconds: seconds[1],
    workers1PairsPerSecond: pairs / seconds[0],
    workers2PairsPerSecond: pairs / seconds[1],
    speedup: seconds[0] / seconds[1],
    pool2Seconds: poolRun.ms / 1000,
    /** 2 worker processes against the pool's 2 threads on the same batch: the queue's cost for A's join. */
    queueVsPool: seconds[1] / (poolRun.ms / 1000) - 1,
    /** Worker CPU per pair: equal in both runs means spreading the work cost nothing extra. */
    workers1CpuMsPerPair: (1000 * cpu[0]) / pairs,
    workers2CpuMsPerPair: (1000 * cpu[1]) / pairs,
    /** Share of each worker's wall time spent in jobs: below 1 the queue left it waiting. */
    workers1Busy: busy[0],
    workers2Busy: busy[1],
    /** CPU the workers got per wall second (cores' worth): below the worker count, others had the rest. */
    workers1Cores: cpu[0] / seconds[0],
    workers2Cores: cpu[1] / seconds[1],
    /**
     * 2 x (worker CPU for the batch with 1 worker / with 2): the speedup on two whole cores
     * if neither worker ever waited for a job (see workers2Busy), whatever share of the CPU
     * other engineers' tests left each run.
     */
    speedupPerCore: (2 * cpu[0]) / cpu[1],
    /** The runner's CPU per pair in this process (slicing, sealing, base64, BullMQ, reassembly): A's side of the queue. */
    runnerCpuMsPerPair: runnerCpuMs[1] / pairs,
  };
}

/** `jobs` one-value adds, one after another (latency) and all at once (throughput). */
async function perJob(ctx: Context, jobs: number) {
  const { publicKey } = ctx.keys;
  const [c] = await ctx.owners.encrypt(publicKey, [1n], { mode: 'djn' });
  const pool = await createEngine({ workers: 1 });
  const poolRun = await measured(ctx, async () => {
    for (let i = 0; i < jobs; i++) await pool.add(publicKey, [c], [c]);
  });
  await pool.close();
  const workers = await startRoleWorkers(ctx, 'server-a', 1);
  const engine = await createEngine({ queue: settings(ctx, 'server-a') });
  await engine.add(publicKey, [c], [c]);
  const serial = await measured(ctx, async () => {
    for (let i = 0; i < jobs; i++) await engine.add(publicKey, [c], [c]);
  });
  const traced = 50;
  const { byCommand } = await roundTrips(ctx, async () => {
    for (let i = 0; i < traced; i++) await engine.add(publicKey, [c], [c]);
  });
  const parallel = await measured(ctx, () =>
    Promise.all(Array.from({ length: jobs }, () => engine.add(publicKey, [c], [c]))),
  );
  await engine.close();
  await stopWorkers(workers);
  return {
    jobs,
    poolMsPerCall: poolRun.ms / jobs,
    queueMsPerJob: serial.ms / jobs,
    overheadMsPerJob: (serial.ms - poolRun.ms) / jobs,
    /** Commands run in Redis per job, those inside BullMQ's Lua scripts included. */
    redisCommandsPerJob: serial.commands / jobs,
    /** Commands sent by clients per job (the runner, the worker, their idle polling), by name. */
    roundTripsPerJob: Object.values(byCommand).reduce((x, y) => x + y, 0) / traced,
    roundTripsByCommand: Object.fromEntries(
      Object.entries(byCommand).map(([name, count]) => [name, Math.round((100 * count) / traced) / 100]),
    ),
    redisBytesPerJob: serial.redisBytes / jobs,
    /** Redis's own CPU per job (its Lua scripts, events, our lists): one instance's job rate limit. */
    redisCpuMsPerJob: parallel.redisCpuMs / jobs,
    jobsPerSecondOneWorker: jobs / (parallel.ms / 1000),
  };
}

/** A worker SIGKILLed holding a join job, a replacement started at once, against no kill. */
async function killCost(ctx: Context, rows: number, cols: number) {
  const { left, right } = await joinInputs(ctx, rows, cols);
  const engine = await createEngine({ queue: settings(ctx, 'server-a') });
  const workers = await startRoleWorkers(ctx, 'server-a', 2);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const baseline = await measured(ctx, () => engine.joinPairsPacked(ctx.keys.publicKey, left, right));
  const victim = workers[0];
  let killedAt = 0;
  const replacement: WorkerProcess[] = [];
  const kill = victim.waitFor('job-start', victim.lines.length).then(async () => {
    // the victim holds its job for a while first, so the kill loses work
    await new Promise((resolve) => setTimeout(resolve, 300));
    victim.process.kill('SIGKILL');
    killedAt = performance.now();
    replacement.push(...(await startRoleWorkers(ctx, 'server-a', 1)));
  });
  const killed = await measured(ctx, () => engine.joinPairsPacked(ctx.keys.publicKey, left, right));
  await kill;
  await engine.close();
  const survivors = [workers[1], ...replacement];
  const retried = survivors.flatMap((w) => w.lines).find((l) => l.event === 'job' && Number(l.stalled) > 0);
  const jobMs = workers[1].lines.filter((l) => l.event === 'job').map((l) => Number(l.ms));
  await stopWorkers([...workers, ...replacement]);
  const retriedStart = retried ? Date.parse(String(retried.time)) - Number(retried.ms) : Number.NaN;
  const killedWall = Date.now() - (performance.now() - killedAt);
  return {
    rows,
    cols,
    baselineSeconds: baseline.ms / 1000,
    killedSeconds: killed.ms / 1000,
    extraSeconds: (killed.ms - baseline.ms) / 1000,
    medianJobSeconds: median(jobMs) / 1000,
    /** From the kill to the retried job's start: lock expiry plus the next stalled check. */
    detectionSeconds: (retriedStart - killedWall) / 1000,
    lockDurationMs: QUEUE_DEFAULTS.lockDurationMs,
    stalledIntervalMs: QUEUE_DEFAULTS.stalledIntervalMs,
  };
}

/** Redis alone: pipelined RPUSH then LPOP of 64 KiB values, bytes in plus out per second. */
async function redisBandwidth(ctx: Context) {
  const client = ctx.stats.duplicate();
  const value = Buffer.alloc(64 * 1024, 7);
  const rounds = 40;
  const perRound = 50;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    const push = client.pipeline();
    for (let j = 0; j < perRound; j++) push.rpush('fedjoin:bench:bandwidth', value);
    await push.exec();
    const pop = client.pipeline();
    for (let j = 0; j < perRound; j++) pop.lpopBuffer('fedjoin:bench:bandwidth');
    await pop.exec();
  }
  const s = (performance.now() - start) / 1000;
  client.disconnect();
  return { valueBytes: value.length, megabytesPerSecond: (2 * rounds * perRound * value.length) / s / 1e6 };
}

/** Commands clients send (round trips, pipelined ones counted each) while `fn` runs, by name. */
async function roundTrips<T>(ctx: Context, fn: () => Promise<T>) {
  const monitor = await ctx.stats.monitor();
  const byCommand: Record<string, number> = {};
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // commands a Lua script runs inside Redis cost no round trip
    if (source === 'lua' || args[0] === 'info') return;
    const name = String(args[0]).toLowerCase();
    byCommand[name] = (byCommand[name] ?? 0) + 1;
  });
  const value = await fn();
  monitor.disconnect();
  return { value, byCommand };
}

/** CPU seconds (user + system) process `pid` has used, from /proc (Linux, 100 ticks a second). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const bits = numberArg(process.argv, 'bits', 2048);
  const rows = numberArg(process.argv, 'rows', 100);
  const scaleRows = numberArg(process.argv, 'scale-rows', 64);
  const scaleCols = numberArg(process.argv, 'scale-cols', 32);
  const jobs = numberArg(process.argv, 'jobs', 300);
  const roleWorkers = numberArg(process.argv, 'role-workers', 2);
  const only = new Set(stringArg(process.argv, 'only', 'jobs,scaling,kill,overhead').split(','));
  const bench = startRun(process.argv);
  console.error(`bench:queue ${bits}-bit; load average ${bench.environment.loadAverage}`);
  const dir = await mkdtemp(join(tmpdir(), 'fedjoin-bench-queue-'));
  const redis = await startRedisServer();
  const keys = await generateKeys(bits);
  const keyFile = join(dir, 'server-b.key');
  await saveKey(keyFile, keys, PASSPHRASE, { scrypt: { N: 2 ** 12, r: 8, p: 1 } });
  const ctx: Context = {
    bits,
    keys,
    dir,
    keyFile,
    secrets: {
      'server-a': await writeQueueSecret(dir, 'a.secret'),
      'server-b': await writeQueueSecret(dir, 'b.secret'),
    },
    redis,
    stats: new Redis({ host: '127.0.0.1', port: redis.port }),
    owners: await createEngine({ workers: 2, encryption: 'djn' }),
  };
  try {
    const jobsResult = only.has('jobs') ? await perJob(ctx, jobs) : null;
    console.error('per job', jobsResult);
    const bandwidth = await redisBandwidth(ctx);
    console.error('redis', bandwidth);
    const scale = only.has('scaling') ? await scaling(ctx, scaleRows, scaleCols) : null;
    console.error('scaling', scale);
    const kill = only.has('kill') ? await killCost(ctx, scaleRows, scaleCols) : null;
    console.error('kill', kill);
    const over = only.has('overhead') && rows > 0 ? await overhead(ctx, rows, roleWorkers) : null;
    console.error('overhead', over);
    const projection = scale && jobsResult ? project(bits, scale, jobsResult, bandwidth) : null;
    const result = {
      loadAtEnd: loadAverage(),
      overhead: over,
      scaling: scale,
      perJob: jobsResult,
      kill,
      bandwidth,
      projection,
    };
    const md = report({ ...result, header: runHeader(bench) });
    const files = await writeResults(
      {
        schema: 'fedjoin-bench/1',
        suite: 'queue',
        date: bench.date,
        environment: bench.environment,
        bits,
        ...result,
      },
      md,
      bench.output,
    );
    console.log(`${md}\nwrote ${files.json}${files.baseline ? ` and ${files.baseline.json}` : ''}`);
  } finally {
    await ctx.owners.close();
    ctx.stats.disconnect();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

type Scale = Awaited<ReturnType<typeof scaling>>;
type PerJob = Awaited<ReturnType<typeof perJob>>;
type Bandwidth = Awaited<ReturnType<typeof redisBandwidth>>;
type Overhead = Awaited<ReturnType<typeof overhead>>;

/**
 * Pairs/s of a 10,000 x 10,000 nested join on 10 and 100 machines of 16 cores, from this
 * run: a core's pair rate (per CPU second, so others' load does not shrink it), Redis's
 * bytes per pair against its bandwidth and its CPU per job against the jobs a pair makes,
 * A's runner CPU per pair (one process reassembles every reply), B's zero tests (B given as
 * many cores as A), and the protocol's tiles (src/join/nested.ts: 32 x 32 pairs, A working
 * on the next tile while B tests this one, a tile's rows spread one job each).
 */
function project(bits: number, scale: Scale, jobs: PerJob, bandwidth: Bandwidth) {
  const perCore = Number.isFinite(scale.workers1CpuMsPerPair)
    ? 1000 / scale.workers1CpuMsPerPair
    : scale.workers1PairsPerSecond;
  // op costs at this size, from the op table: a zero test against a pair
  const key = { fingerprint: '', n: (1n << BigInt(bits)) - 1n, g: 0n, p: (1n << BigInt(bits / 2)) - 1n };
  const input = new Uint32Array(0);
  const pairCost = OPS.joinPairs.cost({
    op: 'joinPairs',
    key,
    ...JOIN_COMB,
    count: 1,
    input,
    tile: input,
    cols: 1,
    randWords: 0,
  });
  const zeroTest = { op: 'zeroTest' as const, key: { ...key, q: key.p }, count: 1, input };
  const zeroTestCost = OPS.zeroTest.cost(zeroTest);
  const { tileRows, tileCols } = tileShape(10_000, 10_000);
  const tilePairs = tileRows * tileCols;
  const n2Bytes = (2 * bits) / 8;
  const tableBytes = JOIN_COMB.teeth * JOIN_COMB.blocks * n2Bytes;
  // per pair, into Redis and out of it: A's job its share of a left table (base64); the
  // tile's right tables once per call in, and out once per worker process that takes a job
  // of it (up to a tile's rows at scale: tableBytes a pair); the indicator back; B's job
  // the indicator again (base64). The measured 100 x 100 join, on 2 workers, moves less.
  const each = (tableBytes * 4) / 3 / tileCols + n2Bytes + (4 / 3) * n2Bytes;
  const redisBytesPerPair = 2 * each + tableBytes / tileRows + tableBytes;
  // jobs per pair: one per left row at A; B's zero tests in shards of MIN_JOB_COST or more
  const jobsPerPair =
    1 / tileCols + Math.ceil(tilePairs / minShardValues(zeroTest, MIN_JOB_COST)) / tilePairs;
  const latency = jobs.queueMsPerJob / 1000;
  return [10, 100].map((machines) => {
    const cores = machines * 16;
    const aTile = (Math.ceil(tileRows / cores) * tileCols) / perCore + latency;
    const bTile = (tilePairs * zeroTestCost) / pairCost / (perCore * cores) + latency;
    const limits: Record<string, number> = {
      compute: cores * perCore,
      redisBandwidth: (bandwidth.megabytesPerSecond * 1e6) / redisBytesPerPair,
      redisCpu: 1000 / (jobs.redisCpuMsPerJob * jobsPerPair),
      aRunner: 1000 / scale.runnerCpuMsPerPair,
      bZeroTests: (cores * perCore * pairCost) / zeroTestCost,
      tilesInFlight: tilePairs / Math.max(aTile, bTile),
    };
    const ranked = Object.entries(limits).sort((x, y) => x[1] - y[1]);
    const [bottleneck, pairsPerSecond] = ranked[0];
    // with more tiles in flight, the next limit
    const [next, nextPairsPerSecond] = ranked.find(([name]) => name !== 'tilesInFlight')!;
    return {
      machines,
      cores,
      perCore,
      redisBytesPerPair,
      jobsPerPair,
      limits,
      pairsPerSecond,
      bottleneck,
      next,
      nextPairsPerSecond,
    };
  });
}

function report(r: {
  header: string[];
  loadAtEnd: number;
  overhead: Overhead | null;
  scaling: Scale | null;
  perJob: PerJob | null;
  kill: Awaited<ReturnType<typeof killCost>> | null;
  bandwidth: Bandwidth;
  projection: ReturnType<typeof project> | null;
}): string {
  const { overhead: o, scaling: s, perJob: j, kill: k } = r;
  const pct = (x: number) => `${(100 * x).toFixed(0)} %`;
  const lines = [
    '# Job queue against the in-process pool',
    '',
    ...r.header,
    '',
    `Load average at the end: ${r.loadAtEnd} (other engineers share these cores).`,
    '',
    '| measure | value |',
    '|---|---|',
    ...(o
      ? [
          `| nested join ${o.rows} x ${o.rows} through the roles, pool (2 threads) | ${o.poolSeconds.toFixed(1)} s, ${o.poolPairsPerSecond.toFixed(1)} pairs/s |`,
          `| same, queue (A and B: ${o.workersPerRole} worker${o.workersPerRole === 1 ? '' : 's'} x 1 thread each) | ${o.queueSeconds.toFixed(1)} s, ${o.queuePairsPerSecond.toFixed(1)} pairs/s |`,
          `| queue slower by | ${(100 * o.slowdown).toFixed(1)} % (target <= 15 %) |`,
          `| CPU for the join, pool / queue (workers, Redis and this process) | ${o.poolCpuSeconds.toFixed(0)} s / ${o.queueCpuSeconds.toFixed(0)} s: ${o.cpuOverhead >= 0 ? '+' : ''}${(100 * o.cpuOverhead).toFixed(1)} % |`,
          `| Redis per pair | ${o.redisCommandsPerPair.toFixed(2)} commands, ${(o.redisBytesPerPair / 1024).toFixed(2)} KiB in + out, ${(o.redisCpuMsPerPair * 1000).toFixed(0)} us of Redis CPU |`,
          `| this process's CPU per pair (A, B and client roles, both runners) | ${(o.callerCpuMsPerPair * 1000).toFixed(0)} us |`,
        ]
      : []),
    ...(s
      ? [
          `| engine join ${s.rows} x ${s.cols}, 1 worker process (1 thread) | ${s.workers1Seconds.toFixed(1)} s, ${s.workers1PairsPerSecond.toFixed(1)} pairs/s |`,
          `| same, 2 worker processes (1 thread each) | ${s.workers2Seconds.toFixed(1)} s, speedup ${s.speedup.toFixed(2)}x (target >= 1.8x) |`,
          `| same batch on the in-process pool, 2 threads | ${s.pool2Seconds.toFixed(1)} s: the queue ${s.queueVsPool >= 0 ? '+' : ''}${(100 * s.queueVsPool).toFixed(1)} % |`,
          `| worker CPU per pair, 1 / 2 workers | ${s.workers1CpuMsPerPair.toFixed(1)} / ${s.workers2CpuMsPerPair.toFixed(1)} ms |`,
          `| workers busy in jobs, 1 / 2 workers | ${pct(s.workers1Busy)} / ${pct(s.workers2Busy)} of their wall time |`,
          `| cores the workers got, 1 / 2 workers | ${s.workers1Cores.toFixed(2)} / ${s.workers2Cores.toFixed(2)}: 2 x CPU ratio ${s.speedupPerCore.toFixed(2)}x |`,
          `| A's runner CPU per pair (slice, seal, base64, BullMQ, reassembly) | ${(s.runnerCpuMsPerPair * 1000).toFixed(0)} us |`,
        ]
      : []),
    ...(j
      ? [
          `| one-value add, pool / queue, per call | ${j.poolMsPerCall.toFixed(2)} ms / ${j.queueMsPerJob.toFixed(2)} ms: ${j.overheadMsPerJob.toFixed(2)} ms per job |`,
          `| Redis per job | ${j.roundTripsPerJob.toFixed(1)} round trips (${Object.entries(
            j.roundTripsByCommand,
          )
            .map(([name, count]) => `${name} ${count}`)
            .join(
              ', ',
            )}); ${j.redisCommandsPerJob.toFixed(1)} commands run, Lua included; ${(j.redisBytesPerJob / 1024).toFixed(1)} KiB |`,
          `| Redis CPU per tiny job | ${j.redisCpuMsPerJob.toFixed(3)} ms |`,
          `| tiny jobs through one worker, all at once | ${j.jobsPerSecondOneWorker.toFixed(0)} jobs/s |`,
        ]
      : []),
    `| Redis alone, pipelined RPUSH + LPOP of 64 KiB values | ${r.bandwidth.megabytesPerSecond.toFixed(0)} MB/s |`,
    ...(k
      ? [
          `| SIGKILL mid-job (2 workers, replacement started at once) | ${k.baselineSeconds.toFixed(1)} s -> ${k.killedSeconds.toFixed(1)} s: ${k.extraSeconds >= 0 ? '+' : ''}${k.extraSeconds.toFixed(1)} s; one job ${k.medianJobSeconds.toFixed(1)} s; kill to retry ${k.detectionSeconds.toFixed(1)} s (lock ${k.lockDurationMs} ms + check every ${k.stalledIntervalMs} ms) |`,
        ]
      : []),
    '',
  ];
  if (r.projection) {
    lines.push(
      `## Projection: a 10,000 x 10,000 nested join (16 cores a machine, ${r.projection[0].perCore.toFixed(1)} pairs/s per core-second)`,
      '',
      '| machines | compute | Redis bytes | Redis CPU | A runner | B zero tests | 2 tiles in flight | pairs/s | first bottleneck | then |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...r.projection.map((p) => {
        const f = (name: string) => (p.limits[name] === undefined ? '-' : p.limits[name].toFixed(0));
        return `| ${p.machines} | ${f('compute')} | ${f('redisBandwidth')} | ${f('redisCpu')} | ${f('aRunner')} | ${f('bZeroTests')} | ${f('tilesInFlight')} | ${p.pairsPerSecond.toFixed(0)} | ${p.bottleneck} | ${p.next} ${p.nextPairsPerSecond.toFixed(0)} |`;
      }),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

await main().catch(exitOnRefusal);
