// What the run reports (src/report/) take from elsewhere: the benchmark ratios of the
// newest bench/results/*.json (fedjoin's WASM engine over paillier-bigint, largest batch
// of each case) and a client answer as report rows.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunReport } from '../report/index.js';
import type { Answer } from '../roles/client.js';

interface BenchMeasurement {
  caseId?: string;
  batch?: number;
  impl?: string;
  family?: string;
  ratios?: Record<string, number>;
}

/** Ratios of the newest results file in `dir`, or undefined when there is none (or it is unreadable). */
export async function latestBenchRatios(
  dir = 'bench/results',
  baseline = 'paillier-bigint',
): Promise<{ file: string; ratios: { label: string; ratio: number }[] } | undefined> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return undefined;
  }
  const newest = files.at(-1);
  if (!newest) return undefined;
  try {
    const data = JSON.parse(await readFile(join(dir, newest), 'utf8')) as {
      measurements?: BenchMeasurement[];
    };
    const wasm = (data.measurements ?? []).filter(
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
    return ratios.length > 0 ? { file: join(dir, newest), ratios } : undefined;
  } catch {
    return undefined;
  }
}

/** A client answer as report rows. */
export function answerRows(answer: Answer, prefix = ''): RunReport['answers'] {
  const rows: RunReport['answers'] = [{ label: `${prefix}rows joined`, value: answer.rowsJoined }];
  for (const { label, value } of answer.items) rows.push({ label: `${prefix}${label}`, value });
  return rows;
}
