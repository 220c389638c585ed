// The benchmark ratios a run report shows (report.ts benchRatios): fedjoin's WASM engine over
// paillier-bigint, the largest batch of each case, from the engine bench's committed
// baseline (bench/baselines/engine.json, bench/README.md), found beside this checkout's
// src/ or dist/ so that the report does not depend on the working directory.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface BenchMeasurement {
  caseId?: string;
  batch?: number;
  impl?: string;
  family?: string;
  ratios?: Record<string, number>;
}

/** bench/baselines/engine.json of this checkout, from src/report/ or dist/src/report/ (an installed package has none). */
export function engineBaselinePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const above = resolve(here, '..', '..');
  const root = basename(above) === 'dist' ? dirname(above) : above;
  return join(root, 'bench', 'baselines', 'engine.json');
}

/** The engine bench's ratios in `file`, or undefined when it is missing, unreadable or has none. */
export async function baselineBenchRatios(
  file = engineBaselinePath(),
  baseline = 'paillier-bigint',
): Promise<{ file: string; ratios: { label: string; ratio: number }[] } | undefined> {
  let run: { measurements?: BenchMeasurement[] };
  try {
    run = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const wasm = (run?.measurements ?? []).filter(
    (m) => m.family === 'fedjoin-wasm' && typeof m.ratios?.[baseline] === 'number' && m.caseId,
  );
  // per case and implementation, the largest batch
  const best = new Map<string, BenchMeasurement>();
  for (const m of wasm) {
    const key = `${m.caseId} ${m.impl}`;
    const seen = best.get(key);
    if (!seen || (m.batch ?? 0) > (seen.batch ?? 0)) best.set(key, m);
  }
  const ratios = [...best.values()].slice(0, 16).map((m) => ({
    label: `${m.caseId} x${m.batch} ${m.impl?.replace(/^fedjoin-wasm ?/, '') || 'wasm'}`.trim(),
    ratio: m.ratios![baseline],
  }));
  return ratios.length > 0 ? { file, ratios } : undefined;
}
