// Streaming memory (issue 3 target): encrypts N values (DJN mode, 2048-bit key) through
// encryptStream on all cores and reports the process's peak resident memory, so a
// 10x longer stream can be checked to stay flat. Each count runs in its own process.
// Writes bench/results/stream-memory-<date>-<host>.{json,md} (with --baseline also
// bench/baselines/stream-memory.{json,md}, lib/results.ts).
// Run: npm run bench:memory [-- 20000 200000] [--out DIR] [--baseline [--force]]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/engine/engine.js';
import { generateKeys } from '../src/engine/keys.js';
import { exitOnRefusal, runHeader, startRun, writeResults } from './lib/results.js';

async function child(count: number): Promise<void> {
  const { publicKey } = await generateKeys(2048);
  const engine = await createEngine({ encryption: 'djn' });
  function* plaintexts() {
    for (let i = 0; i < count; i++) yield BigInt(i);
  }
  const start = performance.now();
  let checksum = 0n;
  for await (const c of engine.encryptStream(publicKey, plaintexts(), { chunkSize: 256 })) checksum ^= c;
  const seconds = (performance.now() - start) / 1000;
  await engine.close();
  // maxRSS is in KiB and includes the worker threads (one process)
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ count, seconds, peakMiB, checksumBits: checksum.toString(2).length }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const counts = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--out').map(Number);
  const run = startRun(args);
  const self = fileURLToPath(import.meta.url);
  const results = (counts.length ? counts : [20_000, 200_000]).map((count) => {
    const out = execFileSync(process.execPath, [self, '--child', String(count)], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(`${count} values: peak RSS ${result.peakMiB.toFixed(0)} MiB, ${result.seconds.toFixed(1)} s`);
    return result;
  });
  const md = [
    '# Streaming memory, DJN encryption, 2048-bit key, all cores',
    '',
    ...runHeader(run),
    '',
    '| values | seconds | peak RSS (MiB) |',
    '|---|---|---|',
    ...results.map(
      (r: { count: number; seconds: number; peakMiB: number }) =>
        `| ${r.count} | ${r.seconds.toFixed(1)} | ${r.peakMiB.toFixed(0)} |`,
    ),
  ].join('\n');
  const files = await writeResults(
    {
      schema: 'fedjoin-bench/1',
      suite: 'stream-memory',
      date: run.date,
      environment: run.environment,
      results,
    },
    md,
    run.output,
  );
  console.log(`wrote ${files.json}${files.baseline ? ` and ${files.baseline.json}` : ''}`);
}

if (process.argv.includes('--child')) await child(Number(process.argv[process.argv.indexOf('--child') + 1]));
else await main().catch(exitOnRefusal);
