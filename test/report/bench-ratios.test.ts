// The benchmark ratios a run report shows (src/report/bench-ratios.ts) come from the engine
// bench's committed baseline. The bug this pins: the lookup once took the last file name of
// bench/results/ in sorted order, stream-memory-latest.json, which has no ratios, so every
// report's benchmark section was silently empty.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineBenchRatios, engineBaselinePath } from '../../src/report/bench-ratios.js';

const measurement = (impl: string, batch: number, ratio: number) => ({
  caseId: 'encrypt.2048',
  batch,
  impl,
  family: impl.split(' ')[0],
  ratios: { 'paillier-bigint': ratio },
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-bench-'));
  const files: Record<string, unknown> = {
    'engine.json': {
      suite: 'engine',
      measurements: [
        measurement('fedjoin-wasm djn', 1, 18),
        measurement('fedjoin-wasm djn', 16, 37),
        measurement('paillier-bigint', 16, 1),
      ],
    },
    'stream-memory.json': [{ count: 20000, peakMiB: 139.3 }],
  };
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(data));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('baselineBenchRatios', () => {
  it("takes the WASM rows' ratios over paillier-bigint, the largest batch of each", async () => {
    const found = await baselineBenchRatios(join(dir, 'engine.json'));
    expect(found?.ratios).toEqual([{ label: 'encrypt.2048 x16 djn', ratio: 37 }]);
  });

  it('gives undefined for a file without ratios, or none', async () => {
    expect(await baselineBenchRatios(join(dir, 'stream-memory.json'))).toBeUndefined();
    expect(await baselineBenchRatios(join(dir, 'missing.json'))).toBeUndefined();
  });

  it("finds the repository's engine baseline for the report", async () => {
    const found = await baselineBenchRatios();
    expect(found?.file).toBe(engineBaselinePath());
    expect(engineBaselinePath().endsWith(join('bench', 'baselines', 'engine.json'))).toBe(true);
    expect(found?.ratios.length).toBeGreaterThan(0);
    expect(found?.ratios.every((r) => r.ratio > 0)).toBe(true);
  });
});
