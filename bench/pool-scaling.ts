// Pool scaling (issue 3): throughput of encrypt, decrypt, zero test and modPow at 2048
// bits against the number of workers (1 .. available cores) on the same batch, in one
// run, as speedups over one worker; plus the cost of a one-value batch through the pool
// against the in-thread engine. Writes bench/results/pool-scaling-<date>-<host>.{json,md}
// (with --baseline also bench/baselines/pool-scaling.{json,md}, lib/results.ts).
// Run: npm run bench:pool [-- --batch 64 --max-workers N] [--out DIR] [--baseline [--force]]
import { availableParallelism } from 'node:os';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { generateKeys, type KeyPair } from '../src/engine/keys.js';
import { randomBelow } from '../src/engine/modular.js';
import { exitOnRefusal, numberArg, runHeader, startRun, writeResults } from './lib/results.js';

interface Row {
  op: string;
  workers: number;
  opsPerSecond: number;
  speedup: number;
}

/** Median wall time of `reps` runs of fn, in ms. */
async function medianMs(fn: () => Promise<unknown>, reps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function operations(engine: Engine, keys: KeyPair, ms: bigint[], cs: bigint[]) {
  const n2 = keys.publicKey.n * keys.publicKey.n;
  return {
    'encrypt (standard)': () => engine.encrypt(keys.publicKey, ms),
    'encrypt (djn)': () => engine.encrypt(keys.publicKey, ms, { mode: 'djn' }),
    decrypt: () => engine.decrypt(keys.privateKey, cs),
    'zero test': () => engine.zeroTest(keys.privateKey, cs),
    'modPow 4096/2048': () => engine.modPow(cs, keys.publicKey.n, n2),
  };
}

export async function runPoolScaling(batch: number, maxWorkers: number, reps: number): Promise<Row[]> {
  const keys = await generateKeys(2048);
  const ms = Array.from({ length: batch }, () => randomBelow(keys.publicKey.n));
  const setup = await createEngine({ workers: 0 });
  const cs = await setup.encrypt(keys.publicKey, ms);
  const rows: Row[] = [];
  const base = new Map<string, number>();
  for (let workers = 1; workers <= maxWorkers; workers++) {
    const engine = await createEngine({ workers });
    const ops = operations(engine, keys, ms.slice(0, workers * 2), cs.slice(0, workers * 2));
    for (const warm of Object.values(ops)) await warm(); // instantiate WASM and key contexts everywhere
    for (const [op, fn] of Object.entries(operations(engine, keys, ms, cs))) {
      const ms = await medianMs(fn, reps);
      const opsPerSecond = (batch * 1000) / ms;
      if (workers === 1) base.set(op, opsPerSecond);
      rows.push({ op, workers, opsPerSecond, speedup: opsPerSecond / base.get(op)! });
      console.log(
        `${op.padEnd(20)} workers ${workers}: ${opsPerSecond.toFixed(1)} ops/s, ${(opsPerSecond / base.get(op)!).toFixed(2)}x`,
      );
    }
    await engine.close();
  }
  // one value: pool against in-thread
  const pool = await createEngine({ workers: maxWorkers });
  await pool.encrypt(keys.publicKey, [1n, 2n]);
  await setup.encrypt(keys.publicKey, [1n]);
  const one = ms.slice(0, 1);
  const inThread = await medianMs(() => setup.encrypt(keys.publicKey, one), Math.max(reps, 5));
  const pooled = await medianMs(() => pool.encrypt(keys.publicKey, one), Math.max(reps, 5));
  console.log(
    `one-value encrypt: in-thread ${inThread.toFixed(2)} ms, pool ${pooled.toFixed(2)} ms (${((pooled / inThread - 1) * 100).toFixed(1)}% slower)`,
  );
  rows.push({
    op: 'one-value encrypt, pool / in-thread time',
    workers: maxWorkers,
    opsPerSecond: 1000 / pooled,
    speedup: inThread / pooled,
  });
  await pool.close();
  await setup.close();
  return rows;
}

async function main(): Promise<void> {
  const batch = numberArg(process.argv, 'batch', 64);
  const maxWorkers = numberArg(process.argv, 'max-workers', availableParallelism());
  const reps = numberArg(process.argv, 'reps', 3);
  const run = startRun(process.argv);
  const rows = await runPoolScaling(batch, maxWorkers, reps);
  const md = [
    `# Pool scaling, 2048-bit keys, batch ${batch}`,
    '',
    ...runHeader(run),
    '',
    '| operation | workers | ops/s | speedup vs 1 worker |',
    '|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.op} | ${r.workers} | ${r.opsPerSecond.toFixed(1)} | ${r.speedup.toFixed(2)}x |`,
    ),
  ].join('\n');
  const files = await writeResults(
    {
      schema: 'fedjoin-bench/1',
      suite: 'pool-scaling',
      date: run.date,
      environment: run.environment,
      batch,
      reps,
      rows,
    },
    md,
    run.output,
  );
  console.log(`\nwrote ${files.json}${files.baseline ? ` and ${files.baseline.json}` : ''}`);
}

if (process.argv[1]?.endsWith('pool-scaling.js')) await main().catch(exitOnRefusal);
