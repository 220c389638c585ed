// Join throughput (issues 4, 11): the nested-loop join's pairs per second (A's row tables and
// indicators plus B's zero tests) for keys of 1, 2 and 3 columns, and the hashed join's rows
// per second (A's masking plus B's tags), at 2048 bits on all cores, through the real roles
// on the in-process transport. Encryption is excluded from the timed part. Writes
// bench/results/join-<date>-<host>.{json,md} (with --baseline also bench/baselines/join.{json,md}).
// Run: npm run bench:join [-- --nested 64 --key-columns 1,2,3 --hashed 10000] [--out DIR] [--baseline [--force]]
import { availableParallelism, loadavg } from 'node:os';
import { Table } from '../src/data/table.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { generateKeys } from '../src/engine/keys.js';
import { pack, wordsFor } from '../src/engine/limbs.js';
import { createFederation } from '../src/roles/federation.js';
import { exitOnRefusal, runHeader, startRun, writeResults } from './lib/results.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A table of `rows` rows whose integer key repeats every `distinct` rows, with one value column. */
function table(name: string, rows: number, distinct: number): Table {
  return Table.fromRows(
    name,
    [
      { name: 'k', type: 'integer' },
      { name: 'v', type: 'decimal' },
    ],
    Array.from({ length: rows }, (_, i) => [BigInt(i % distinct), i / 10]),
  );
}

/**
 * A nested-mode table of `rows` rows keyed on `keyCols` columns (an integer, a string, an
 * integer: the fold of issue 11 makes them one plaintext) that repeat every `distinct` rows.
 */
function nestedTable(name: string, rows: number, distinct: number, keyCols: number): Table {
  const keys = [
    { name: 'k1', type: 'integer' as const, value: (j: number) => BigInt(j) },
    { name: 'k2', type: 'string' as const, value: (j: number) => `site-${j}` },
    { name: 'k3', type: 'integer' as const, value: (j: number) => BigInt(7 * j + 1) },
  ].slice(0, keyCols);
  return Table.fromRows(
    name,
    keys.map(({ name, type }) => ({ name, type })),
    Array.from({ length: rows }, (_, i) => keys.map((k) => k.value(i % distinct))),
  );
}

interface Row {
  mode: string;
  /** nested mode: columns of the join key */
  keyColumns?: number;
  leftRows: number;
  rightRows: number;
  pairsOrRows: number;
  rowsJoined: number;
  seconds: number;
  perSecond: number;
  unit: string;
  /** CPU seconds of this process's threads (main and workers) during the query */
  cpuSeconds?: number;
  /** work per CPU-second: what one idle core would do, whatever else runs on the machine */
  perCpuSecond?: number;
}

/**
 * A's and B's parts of a nested pair, in CPU ms on this machine now, through the engine
 * on the same pool: a row table (A, once per row and query), a pair (A) and a zero test
 * (B), on a 16 x 16 tile under a key of `bits` bits.
 */
async function nestedSplit(engine: Engine, bits: number) {
  const { publicKey, privateKey } = await generateKeys(bits);
  const side = 16;
  const cs = await engine.encrypt(
    publicKey,
    Array.from({ length: 2 * side }, (_, i) => BigInt(i % side)),
  );
  const inverses = await engine.inverse(publicKey, cs.slice(side));
  const cpuMs = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const since = process.cpuUsage();
    const result = await fn();
    const used = process.cpuUsage(since);
    return [result, (used.user + used.system) / 1000];
  };
  const words = wordsFor(publicKey.n * publicKey.n);
  const [tables, tablesMs] = await cpuMs(() =>
    engine.joinTablesPacked(publicKey, pack([...cs.slice(0, side), ...inverses], words)),
  );
  const half = side * tables.words;
  const [indicators, pairsMs] = await cpuMs(() =>
    engine.joinPairsPacked(
      publicKey,
      { words: tables.words, count: side, data: tables.data.subarray(0, half) },
      { words: tables.words, count: side, data: tables.data.subarray(half) },
    ),
  );
  const [bits1, zeroMs] = await cpuMs(() => engine.zeroTestPacked(privateKey, indicators));
  if (bits1.reduce((a, b) => a + b, 0) !== side) throw new Error('split: wrong number of matches');
  return { tableMs: tablesMs / (2 * side), pairMs: pairsMs / side ** 2, zeroTestMs: zeroMs / side ** 2 };
}

/** CPU time of every thread of this process since `since`, and the work done per CPU-second. */
function cpuShare(since: NodeJS.CpuUsage, work: number) {
  const used = process.cpuUsage(since);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return { cpuSeconds, perCpuSecond: work / cpuSeconds };
}

async function main(): Promise<void> {
  const bits = arg('bits', 2048);
  // 64 x 64: the row tables (built once per row and query, ~1.6 pairs' work each) add ~5% there
  const nested = arg('nested', 64);
  const keyColumnsAt = process.argv.indexOf('--key-columns');
  const nestedKeyColumns = (keyColumnsAt >= 0 ? process.argv[keyColumnsAt + 1] : '1,2,3')
    .split(',')
    .map(Number);
  const hashed = arg('hashed', 2000);
  const bench = startRun(process.argv);
  const engine = await createEngine({ encryption: 'djn' });
  const cores = availableParallelism();
  const fed = await createFederation({ engine, bits, policy: { minGroupSize: 1 } });
  const rows: Row[] = [];
  const run = async (mode: 'nested' | 'hashed', n: number) => {
    const left = table(`l${mode}`, n, Math.max(1, Math.floor(n / 2)));
    const right = table(`r${mode}`, n, Math.max(1, Math.floor(n / 2)));
    const share = { joinKeys: [['k']], joinModes: [mode] as const, columns: [] };
    await fed.owner('left').shareTable(left, share);
    await fed.owner('right').shareTable(right, share);
    const start = performance.now();
    const answer = await fed.client.query(`SELECT COUNT(*) FROM l${mode} a JOIN r${mode} b ON a.k = b.k`, {
      mode,
    });
    const seconds = (performance.now() - start) / 1000;
    const work = mode === 'nested' ? n * n : 2 * n;
    const row: Row = {
      mode,
      leftRows: n,
      rightRows: n,
      pairsOrRows: work,
      rowsJoined: Number(answer.rowsJoined),
      seconds,
      perSecond: work / seconds,
      unit: mode === 'nested' ? 'pairs/s' : 'rows/s',
    };
    rows.push(row);
    console.log(
      `${mode} join ${n} x ${n}: ${seconds.toFixed(1)} s, ${row.perSecond.toFixed(1)} ${row.unit}, ${answer.rowsJoined} rows joined`,
    );
  };
  /** The nested join of two n-row tables on a key of `keyCols` columns, client -> A -> B. */
  const runNested = async (n: number, keyCols: number) => {
    const names = [`ln${keyCols}`, `rn${keyCols}`];
    const key = ['k1', 'k2', 'k3'].slice(0, keyCols);
    const share = { joinKeys: [key], joinModes: ['nested'] as const, columns: [] };
    await fed
      .owner('left')
      .shareTable(nestedTable(names[0], n, Math.max(1, Math.floor(n / 2)), keyCols), share);
    await fed
      .owner('right')
      .shareTable(nestedTable(names[1], n, Math.max(1, Math.floor(n / 2)), keyCols), share);
    const on = key.map((k) => `a.${k} = b.${k}`).join(' AND ');
    const cpu = process.cpuUsage();
    const start = performance.now();
    const answer = await fed.client.query(`SELECT COUNT(*) FROM ${names[0]} a JOIN ${names[1]} b ON ${on}`, {
      mode: 'nested',
    });
    const seconds = (performance.now() - start) / 1000;
    const row: Row = {
      mode: 'nested',
      keyColumns: keyCols,
      leftRows: n,
      rightRows: n,
      pairsOrRows: n * n,
      rowsJoined: Number(answer.rowsJoined),
      seconds,
      perSecond: (n * n) / seconds,
      unit: 'pairs/s',
      ...cpuShare(cpu, n * n),
    };
    rows.push(row);
    console.log(
      `nested join ${n} x ${n}, ${keyCols} key column(s): ${seconds.toFixed(1)} s, ${row.perSecond.toFixed(1)} pairs/s, ${answer.rowsJoined} rows joined; CPU ${row.cpuSeconds?.toFixed(1)} s (all threads), ${row.perCpuSecond?.toFixed(1)} pairs per CPU-second (load ${loadavg()[0].toFixed(2)})`,
    );
  };
  if (nested > 0) for (const keyCols of nestedKeyColumns) await runNested(nested, keyCols);
  const split = nested > 0 ? await nestedSplit(engine, bits) : undefined;
  // one pair's CPU at n x n: A's pair + its share of 2n row tables + B's zero test
  const perPair = split ? split.pairMs + split.zeroTestMs + (2 * split.tableMs) / nested : 0;
  const splitLine = split
    ? `Nested split, CPU ms on this machine during the run (load ${loadavg()[0].toFixed(2)}): A ${split.pairMs.toFixed(2)} a pair + ${split.tableMs.toFixed(2)} a row table, B ${split.zeroTestMs.toFixed(2)} a zero test; ${perPair.toFixed(2)} a pair at ${nested} x ${nested}, so ${((1000 * cores) / perPair).toFixed(0)} pairs/s on ${cores} idle cores at these CPU times.`
    : '';
  if (split) console.log(splitLine);
  if (hashed > 0) await run('hashed', hashed);
  await engine.close();

  const md = [
    `# Join throughput, ${bits}-bit keys, encryption excluded`,
    '',
    ...runHeader(bench),
    '',
    '| mode | key columns | tables | work | rows joined | seconds | throughput | per CPU-second |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.keyColumns ?? 1} | ${r.leftRows} x ${r.rightRows} | ${r.pairsOrRows} ${r.mode === 'nested' ? 'pairs' : 'rows'} | ${r.rowsJoined} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(1)} ${r.unit} | ${r.perCpuSecond?.toFixed(1) ?? ''} |`,
    ),
    ...(split ? ['', splitLine] : []),
  ].join('\n');
  const files = await writeResults(
    {
      schema: 'fedjoin-bench/1',
      suite: 'join',
      date: bench.date,
      environment: bench.environment,
      bits,
      rows,
      ...(split ? { nestedSplit: split } : {}),
    },
    md,
    bench.output,
  );
  console.log(`\n${md}\n\nwrote ${files.json}${files.baseline ? ` and ${files.baseline.json}` : ''}`);
}

await main().catch(exitOnRefusal);
