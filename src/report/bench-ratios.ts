// The benchmark ratios a run report shows (report.ts benchRatios): fedjoin's WASM engine over
// paillier-bigint, the largest batch of each case, from the newest engine bench run
// (bench/run.ts, suite 'engine'). Other benches write their results beside it, and none
// of them has ratios, so a run is chosen by its suite and date, never by its file name.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface BenchMeasurement {
  caseId?: string;
  batch?: number;
  impl?: string;
  family?: string;
  ratios?: Record<string, number>;
}

interface EngineRun {
  suite?: unknown;
  date?: unknown;
  measurements?: BenchMeasurement[];
}

/** Ratios of the newest engine run in `dir`, or undefined when there is none (or it has none). */
export async function latestBenchRatios(
  dir = 'bench/results',
  baseline = 'paillier-bigint',
): Promise<{ file: string; ratios: { label: string; ratio: number }[] } | undefined> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch {
    return undefined;
  }
  let newest: { file: string; date: string; run: EngineRun } | undefined;
  for (const name of files) {
    const file = join(dir, name);
    let run: EngineRun;
    try {
      run = JSON.parse(await readFile(file, 'utf8')) as EngineRun;
    } catch {
      continue; // unreadable, or a run still being written: not a result to show
    }
    if (run?.suite !== 'engine' || typeof run.date !== 'string') continue;
    if (!newest || run.date > newest.date) newest = { file, date: run.date, run };
  }
  if (!newest) return undefined;
  const ratios = engineRatios(newest.run, baseline);
  return ratios.length > 0 ? { file: newest.file, ratios } : undefined;
}

/** Per case and implementation, the ratio at the largest batch (at most 16 rows). */
function engineRatios(run: EngineRun, baseline: string): { label: string; ratio: number }[] {
  const wasm = (run.measurements ?? []).filter(
    (m) => m.family === 'fedjoin-wasm' && typeof m.ratios?.[baseline] === 'number' && m.caseId,
  );
  const best = new Map<string, BenchMeasurement>();
  for (const m of wasm) {
    const key = `${m.caseId} ${m.impl}`;
    const seen = best.get(key);
    if (!seen || (m.batch ?? 0) > (seen.batch ?? 0)) best.set(key, m);
  }
  return [...best.values()].slice(0, 16).map((m) => ({
    label: `${m.caseId} x${m.batch} ${m.impl?.replace(/^fedjoin-wasm ?/, '') || 'wasm'}`.trim(),
    ratio: m.ratios![baseline],
  }));
}
