// Streaming memory (issue 3 target): encrypts N values (DJN mode, 2048-bit key) through
// encryptStream on all cores and reports the process's peak resident memory, so a
// 10x longer stream can be checked to stay flat. Each count runs in its own process.
// Run: npm run bench:memory [-- 20000 200000]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/engine/engine.js';
import { generateKeys } from '../src/engine/keys.js';

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
  const counts = process.argv.slice(2).map(Number).filter(Boolean);
  const self = fileURLToPath(import.meta.url);
  const results = (counts.length ? counts : [20_000, 200_000]).map((count) => {
    const out = execFileSync(process.execPath, [self, '--child', String(count)], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(`${count} values: peak RSS ${result.peakMiB.toFixed(0)} MiB, ${result.seconds.toFixed(1)} s`);
    return result;
  });
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/stream-memory-latest.json', JSON.stringify(results, null, 2));
}

if (process.argv.includes('--child')) await child(Number(process.argv[process.argv.indexOf('--child') + 1]));
else await main();
