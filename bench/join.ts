// Join throughput (issue 4): the nested-loop join's pairs per second (A's indicators plus
// B's zero tests) and the hashed join's rows per second (A's masking plus B's tags), at
// 2048 bits on all cores, through the real roles on the in-process transport. Encryption
// is excluded from the timed part. Writes bench/results/join-<date>-<host>.{json,md}
// (with --baseline also bench/baselines/join.{json,md}, lib/results.ts).
// Run: npm run bench:join [-- --nested 100 --hashed 10000] [--out DIR] [--baseline [--force]]
import { Table } from '../src/data/table.js';
import { createEngine } from '../src/engine/engine.js';
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

interface Row {
  mode: string;
  leftRows: number;
  rightRows: number;
  pairsOrRows: number;
  rowsJoined: number;
  seconds: number;
  perSecond: number;
  unit: string;
}

async function main(): Promise<void> {
  const bits = arg('bits', 2048);
  const nested = arg('nested', 24);
  const hashed = arg('hashed', 2000);
  const bench = startRun(process.argv);
  const engine = await createEngine({ encryption: 'djn' });
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
  if (nested > 0) await run('nested', nested);
  if (hashed > 0) await run('hashed', hashed);
  await engine.close();

  const md = [
    `# Join throughput, ${bits}-bit keys, encryption excluded`,
    '',
    ...runHeader(bench),
    '',
    '| mode | tables | work | rows joined | seconds | throughput |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.leftRows} x ${r.rightRows} | ${r.pairsOrRows} ${r.mode === 'nested' ? 'pairs' : 'rows'} | ${r.rowsJoined} | ${r.seconds.toFixed(1)} | ${r.perSecond.toFixed(1)} ${r.unit} |`,
    ),
  ].join('\n');
  const files = await writeResults(
    {
      schema: 'fedjoin-bench/1',
      suite: 'join',
      date: bench.date,
      environment: bench.environment,
      bits,
      rows,
    },
    md,
    bench.output,
  );
  console.log(`\n${md}\n\nwrote ${files.json}${files.baseline ? ` and ${files.baseline.json}` : ''}`);
}

await main().catch(exitOnRefusal);
