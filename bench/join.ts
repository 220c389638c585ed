// Join throughput (issues 4, 11): the nested-loop join's pairs per second (A's row tables and
// indicators plus B's zero tests) for keys of 1, 2 and 3 columns, and the hashed join's rows
// per second (issue 10: A's blinding, B's EC decryption and grouping, and the transfer, against
// the Paillier-tag join of bench/baselines/join.json; the owners' tagging timed on its own),
// at 2048 bits on all cores, through the real roles on the in-process transport. Encryption
// is excluded from the timed part. Writes
// bench/results/join-<date>-<host>.{json,md} (with --baseline also bench/baselines/join.{json,md}).
// Run: npm run bench:join [-- --nested 64 --key-columns 1,2,3 --hashed 10000] [--out DIR] [--baseline [--force]]
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { PublicKey } from 'paillier-bigint';
import { Table } from '../src/data/table.js';
import { generateEcKey } from '../src/ec/elgamal.js';
import { createEngine, type Engine } from '../src/engine/engine.js';
import { ecKeyOf, generateKeys } from '../src/engine/keys.js';
import { pack, wordsFor } from '../src/engine/limbs.js';
import { createFederation } from '../src/roles/federation.js';
import { loadAverage } from './lib/environment.js';
import {
  BASELINES_DIR,
  exitOnRefusal,
  numberArg,
  runHeader,
  startRun,
  stringArg,
  writeResults,
} from './lib/results.js';
import { SplitTransport } from './lib/split-transport.js';

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
  /** hashed: where the time went, and the owners' tagging */
  split?: HashedSplit;
}

/** Seconds of one part of the hashed join: wall clock, and CPU time of every thread. */
interface Part {
  seconds: number;
  cpuSeconds: number;
}

/** The hashed join's time by part (SplitTransport), and the owners' tag encryption. */
interface HashedSplit {
  serverA: Part;
  serverB: Part;
  transfer: Part;
  /** submitting, opening and closing the run, the count's request and answer */
  rest: Part;
  total: Part;
  tagBatches: number;
  /**
   * A's re-randomisers for the run (2n), made ahead by idle workers once the tables are
   * stored (engine.prepareRerandomizers): timed on their own, under a fresh EC key
   */
  ahead: Part;
  /** both owners' tables: rows per second with `workers` workers, and per CPU-second */
  taggingRowsPerSecond: number;
  taggingRowsPerCpuSecond: number;
  /** the hashed join of bench/baselines/join.json at the same size, if there is one */
  baseline: { seconds: number; perSecond: number; commit: string } | null;
  loadAtEnd: number;
}

/** Resolves once the engine holds `count` re-randomisers under Y. */
async function rerandomizersReady(engine: Engine, Y: Uint8Array, count: number): Promise<void> {
  while (engine.rerandomizerPoolSize(Y) < count) await new Promise((resolve) => setTimeout(resolve, 2));
}

/**
 * Waits until A's re-randomisers for `count` rows under B's EC key are ready, then times
 * making as many again under a fresh EC key, as idle workers make them: the offline part.
 */
async function rerandomizersAhead(engine: Engine, publicKey: PublicKey, count: number): Promise<Part> {
  await rerandomizersReady(engine, ecKeyOf(publicKey)!.publicKey, count);
  const fresh = generateEcKey().publicKey;
  const cpu = process.cpuUsage();
  const start = performance.now();
  engine.prepareRerandomizers(fresh, count);
  await rerandomizersReady(engine, fresh, count);
  const part = { seconds: (performance.now() - start) / 1000, cpuSeconds: cpuShare(cpu, 1).cpuSeconds };
  engine.prepareRerandomizers(fresh, 0);
  return part;
}

/** The hashed row of the committed baseline, and the commit it ran. */
function hashedBaseline(rows: number): HashedSplit['baseline'] {
  try {
    const baseline = JSON.parse(readFileSync(`${BASELINES_DIR}/join.json`, 'utf8')) as {
      rows: Row[];
      environment?: { git?: { commit?: string } };
    };
    const row = baseline.rows.find((r) => r.mode === 'hashed' && r.leftRows === rows);
    const commit = baseline.environment?.git?.commit?.slice(0, 7) ?? 'commit not recorded';
    return row ? { seconds: row.seconds, perSecond: row.perSecond, commit } : null;
  } catch {
    return null;
  }
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
  const bits = numberArg(process.argv, 'bits', 2048);
  // 64 x 64: the row tables (built once per row and query, ~1.6 pairs' work each) add ~5% there
  const nested = numberArg(process.argv, 'nested', 64);
  const nestedKeyColumns = stringArg(process.argv, 'key-columns', '1,2,3').split(',').map(Number);
  const hashed = numberArg(process.argv, 'hashed', 2000);
  const bench = startRun(process.argv);
  const engine = await createEngine({ encryption: 'djn' });
  const cores = availableParallelism();
  const transport = new SplitTransport('tag-batch');
  const fed = await createFederation({ engine, bits, policy: { minGroupSize: 1 }, transport });
  const rows: Row[] = [];
  const run = async (mode: 'nested' | 'hashed', n: number) => {
    const left = table(`l${mode}`, n, Math.max(1, Math.floor(n / 2)));
    const right = table(`r${mode}`, n, Math.max(1, Math.floor(n / 2)));
    const share = { joinKeys: [['k']], joinModes: [mode] as const, columns: [] };
    // each owner's tagging timed on its own: once a table is stored A's idle workers make
    // re-randomisers, which would otherwise count as the next owner's CPU time
    let taggingSeconds = 0;
    let taggingCpuSeconds = 0;
    for (const [owner, t] of [
      ['left', left],
      ['right', right],
    ] as const) {
      const tagging = performance.now();
      const taggingCpu = process.cpuUsage();
      await fed.owner(owner).shareTable(t, share);
      taggingSeconds += (performance.now() - tagging) / 1000;
      taggingCpuSeconds += cpuShare(taggingCpu, 1).cpuSeconds;
      if (mode === 'hashed')
        await rerandomizersReady(engine, ecKeyOf(fed.publicKey)!.publicKey, t === left ? n : 2 * n);
    }
    // A's idle workers make the run's re-randomisers once its tables are stored: the join
    // below starts with them ready, as a served A's does when queries do not follow uploads
    // at once; their cost is timed on its own (`ahead`)
    const ahead = mode === 'hashed' ? await rerandomizersAhead(engine, fed.publicKey, 2 * n) : undefined;
    transport.reset();
    const cpu = process.cpuUsage();
    const start = performance.now();
    const answer = await fed.client.query(`SELECT COUNT(*) FROM l${mode} a JOIN r${mode} b ON a.k = b.k`, {
      mode,
    });
    const seconds = (performance.now() - start) / 1000;
    const work = mode === 'nested' ? n * n : 2 * n;
    const usage = cpuShare(cpu, work);
    const { cpuSeconds } = usage;
    const row: Row = {
      mode,
      leftRows: n,
      rightRows: n,
      pairsOrRows: work,
      rowsJoined: Number(answer.rowsJoined),
      seconds,
      perSecond: work / seconds,
      unit: mode === 'nested' ? 'pairs/s' : 'rows/s',
      ...usage,
    };
    if (mode === 'hashed') {
      // with columns: [] an owner encrypts its tags only (and registers and uploads them)
      const join = answer.timingsMs['join (hashed)'] / 1000;
      const t = transport;
      const roundTrips = { seconds: t.roundTripMs / 1000, cpuSeconds: t.roundTripCpuMs / 1000 };
      const serverB = { seconds: t.serverBMs / 1000, cpuSeconds: t.serverBCpuMs / 1000 };
      // outside the join the run is a few small messages: its CPU time is left to A's part
      row.split = {
        serverA: { seconds: join - roundTrips.seconds, cpuSeconds: cpuSeconds - roundTrips.cpuSeconds },
        serverB,
        transfer: {
          seconds: roundTrips.seconds - serverB.seconds,
          cpuSeconds: roundTrips.cpuSeconds - serverB.cpuSeconds,
        },
        rest: { seconds: seconds - join, cpuSeconds: 0 },
        total: { seconds, cpuSeconds },
        tagBatches: t.messages,
        ahead: ahead!,
        taggingRowsPerSecond: (2 * n) / taggingSeconds,
        taggingRowsPerCpuSecond: (2 * n) / taggingCpuSeconds,
        baseline: hashedBaseline(n),
        loadAtEnd: loadAverage(),
      };
    }
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
      `nested join ${n} x ${n}, ${keyCols} key column(s): ${seconds.toFixed(1)} s, ${row.perSecond.toFixed(1)} pairs/s, ${answer.rowsJoined} rows joined; CPU ${row.cpuSeconds?.toFixed(1)} s (all threads), ${row.perCpuSecond?.toFixed(1)} pairs per CPU-second (load ${loadAverage().toFixed(2)})`,
    );
  };
  if (nested > 0) for (const keyCols of nestedKeyColumns) await runNested(nested, keyCols);
  const split = nested > 0 ? await nestedSplit(engine, bits) : undefined;
  // one pair's CPU at n x n: A's pair + its share of 2n row tables + B's zero test
  const perPair = split ? split.pairMs + split.zeroTestMs + (2 * split.tableMs) / nested : 0;
  const splitLine = split
    ? `Nested split, CPU ms on this machine during the run (load ${loadAverage().toFixed(2)}): A ${split.pairMs.toFixed(2)} a pair + ${split.tableMs.toFixed(2)} a row table, B ${split.zeroTestMs.toFixed(2)} a zero test; ${perPair.toFixed(2)} a pair at ${nested} x ${nested}, so ${((1000 * cores) / perPair).toFixed(0)} pairs/s on ${cores} idle cores at these CPU times.`
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
    ...rows.flatMap((r) => (r.split ? hashedSplitTable(r, r.split, engine.workers) : [])),
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

/** The hashed join's split, per row and against the committed baseline (issue 10 item 8). */
function hashedSplitTable(row: Row, split: HashedSplit, workers: number): string[] {
  const rows = row.pairsOrRows;
  const part = (name: string, p: Part) =>
    `| ${name} | ${p.seconds.toFixed(2)} | ${((p.seconds / row.seconds) * 100).toFixed(0)}% | ${p.cpuSeconds.toFixed(2)} | ${((p.cpuSeconds * 1e6) / rows).toFixed(0)} |`;
  const old = split.baseline;
  // on a loaded machine the wall clock also counts the time other processes held the cores
  const idle = split.total.cpuSeconds / workers;
  return [
    '',
    `### Hashed join on ristretto255, ${row.leftRows} x ${row.rightRows} rows (${split.tagBatches} tag batches, ${workers} workers)`,
    '',
    '| part | seconds | share | CPU seconds (all threads) | CPU us per row |',
    '|---|---|---|---|---|',
    part("A, outside B's replies: the first batch's blinding, shuffles, pairs", split.serverA),
    part(
      'B: EC decryption, grouping, the gate (A blinds the next batch meanwhile, so its CPU counts here)',
      split.serverB,
    ),
    part('transfer: encode, decode, schema checks (in-process)', split.transfer),
    part('rest: submit, open, count, answer, close', split.rest),
    part('total', split.total),
    part("A, ahead of the query: the run's re-randomisers, by idle workers", split.ahead),
    '',
    old
      ? `Against the committed baseline (bench/baselines/join.json, ${old.commit}): ${old.seconds.toFixed(1)} s, ${old.perSecond.toFixed(0)} rows/s; now ${row.seconds.toFixed(1)} s, ${row.perSecond.toFixed(0)} rows/s: ${(old.seconds / row.seconds).toFixed(2)}x. Target: under 6 s for 10,000 x 10,000.`
      : 'No hashed baseline at this size in bench/baselines/join.json.',
    `CPU time over ${workers} cores: ${idle.toFixed(1)} s, the wall time of this join with nothing else running; ${((split.total.cpuSeconds + split.ahead.cpuSeconds) / workers).toFixed(1)} s with the re-randomisers made during the query instead of ahead. Load average at the end: ${split.loadAtEnd}.`,
    `Owner tagging (hash to group, ElGamal encryption; registration and upload included): ${split.taggingRowsPerSecond.toFixed(0)} rows/s on ${workers} workers; ${split.taggingRowsPerCpuSecond.toFixed(0)} rows per CPU-second, per core (target 5,000).`,
  ];
}

await main().catch(exitOnRefusal);
