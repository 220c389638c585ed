// The benchmark ratios a run report shows (src/report/bench-ratios.ts): they come from the
// engine bench's results, whatever other benches wrote beside them. The bug this pins: the
// lookup took the last file name in sorted order, stream-memory-latest.json, which has no
// ratios, so every report's benchmark section was silently empty.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestBenchRatios } from '../../src/report/bench-ratios.js';

const measurement = (impl: string, batch: number, ratio: number) => ({
  caseId: 'encrypt.2048',
  batch,
  impl,
  family: impl.split(' ')[0],
  ratios: { 'paillier-bigint': ratio },
});
const engineRun = (date: string, ratio: number) => ({
  suite: 'engine',
  date,
  measurements: [
    measurement('fedjoin-wasm djn', 1, ratio / 2),
    measurement('fedjoin-wasm djn', 16, ratio),
    measurement('paillier-bigint', 16, 1),
  ],
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-bench-'));
  const files: Record<string, unknown> = {
    '2026-11-25T171646Z-vm.json': engineRun('2026-11-25T17:16:46.046Z', 30),
    '2026-11-25T175903Z-vm.json': engineRun('2026-11-25T17:59:03.176Z', 37),
    'join-2026-11-25T17-58-33-356Z-vm.json': { meta: {}, rows: [{ mode: 'nested', perSecond: 115.7 }] },
    'pool-scaling-2026-11-25T17-56-24-663Z-vm.json': { meta: {}, rows: [{ op: 'decrypt', speedup: 1.95 }] },
    'stream-memory-latest.json': [{ count: 20000, peakMiB: 139.3 }],
  };
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(data));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('latestBenchRatios', () => {
  it("takes the newest engine run's ratios, not the file that sorts last", async () => {
    const found = await latestBenchRatios(dir);
    expect(found?.file).toBe(join(dir, '2026-11-25T175903Z-vm.json'));
    // per case and implementation, the largest batch
    expect(found?.ratios).toEqual([{ label: 'encrypt.2048 x16 djn', ratio: 37 }]);
  });

  it("finds the repository's engine results for the report", async () => {
    const found = await latestBenchRatios();
    expect(found?.ratios.length).toBeGreaterThan(0);
    expect(found?.ratios.every((r) => r.ratio > 0)).toBe(true);
  });
});
