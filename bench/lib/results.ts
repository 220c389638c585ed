// Where every bench's results go: each run to <out>/<bench>-<iso-date>-<host>.json + .md
// (default bench/results/, gitignored), and with --baseline also to
// bench/baselines/<bench>.json + .md, the one committed result per bench that the READMEs
// quote. A baseline is refused while the 1-minute load average exceeds the core count
// (other processes then take CPU time from the bench), unless --force.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { busyWarning, describeEnvironment, type Environment, environment } from './environment.js';

export const RESULTS_DIR = 'bench/results';
export const BASELINES_DIR = 'bench/baselines';

export interface OutputOptions {
  /** Results folder (default bench/results under the working directory). */
  out?: string;
  /** Also write bench/baselines/<bench>.json and .md (under the working directory). */
  baseline?: boolean;
  /** Write the baseline whatever the load average. */
  force?: boolean;
}

/** What every bench's JSON starts with; `suite` names the bench. */
export interface BenchRecord {
  schema: 'fedjoin-bench/1';
  suite: string;
  date: Date;
  environment: Environment;
  [field: string]: unknown;
}

export interface ResultFiles {
  json: string;
  markdown: string;
  baseline?: { json: string; markdown: string };
}

/** A baseline asked for on a busy machine (exit code 2, like a bad flag: nothing ran). */
export class BaselineRefusedError extends Error {
  override name = 'BaselineRefusedError';
}

/** For a bench script's entry: a refused baseline prints its message and exits 2; anything else is rethrown. */
export function exitOnRefusal(err: unknown): never {
  if (!(err instanceof BaselineRefusedError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

/** --out DIR, --baseline and --force among a bench's arguments. */
export function outputOptions(argv: readonly string[]): OutputOptions {
  const at = argv.indexOf('--out');
  return {
    ...(at >= 0 && argv[at + 1] ? { out: argv[at + 1] } : {}),
    baseline: argv.includes('--baseline'),
    force: argv.includes('--force'),
  };
}

/** The word after --<name> among a bench's arguments, or `fallback` without the flag. */
export function stringArg(argv: readonly string[], name: string, fallback: string): string {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : fallback;
}

/** The number after --<name> among a bench's arguments, or `fallback` without the flag. */
export function numberArg(argv: readonly string[], name: string, fallback: number): number {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
}

/**
 * Throws BaselineRefusedError when a baseline is asked for while the load average exceeds
 * the core count. Call it with the environment read before the bench starts: a bench that
 * uses every core (pool scaling, the join, streaming) raises the load average itself.
 */
export function checkBaselineLoad(options: OutputOptions, env: Environment): void {
  if (!options.baseline || options.force || env.loadAverage <= env.cores) return;
  throw new BaselineRefusedError(
    `refusing to write a baseline: the 1-minute load average is ${env.loadAverage} on ${env.cores} cores, ` +
      'so other processes compete for the CPU; run it on an idle machine, or pass --force',
  );
}

/** A bench script's run: its output flags, when it started and on what, and the busy warning if any. */
export interface BenchRun {
  output: OutputOptions;
  date: Date;
  environment: Environment;
  warning?: string;
}

/**
 * Starts a bench script's run from its arguments: reads the environment before the bench
 * loads the machine, refuses a baseline on a busy one (BaselineRefusedError) and prints
 * the busy warning on stderr.
 */
export function startRun(argv: readonly string[]): BenchRun {
  const output = outputOptions(argv);
  const env = environment();
  checkBaselineLoad(output, env);
  const warning = busyWarning(env);
  if (warning) process.stderr.write(`${warning}\n`);
  return { output, date: new Date(), environment: env, ...(warning ? { warning } : {}) };
}

/** The markdown lines under a result table's title: when, on what, and the warning. */
export function runHeader(run: BenchRun): string[] {
  return [
    `${run.date.toISOString()}: ${describeEnvironment(run.environment)}.`,
    ...(run.warning ? ['', run.warning] : []),
  ];
}

/** '2026-11-25T164609Z': an ISO 8601 instant without ':' (not allowed in Windows names). */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '');
}

export function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Writes the run's JSON and markdown, and the baseline when asked (checkBaselineLoad has passed). */
export async function writeResults(
  record: BenchRecord,
  markdown: string,
  options: OutputOptions = {},
): Promise<ResultFiles> {
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  const json = `${JSON.stringify(record, null, 2)}\n`;
  const outDir = resolve(options.out ?? RESULTS_DIR);
  await mkdir(outDir, { recursive: true });
  const name = `${record.suite}-${fileStamp(record.date)}-${safeHost(record.environment.host)}`;
  const files: ResultFiles = { json: join(outDir, `${name}.json`), markdown: join(outDir, `${name}.md`) };
  await writeFile(files.json, json);
  await writeFile(files.markdown, text);
  if (options.baseline) {
    const dir = resolve(BASELINES_DIR);
    await mkdir(dir, { recursive: true });
    files.baseline = { json: join(dir, `${record.suite}.json`), markdown: join(dir, `${record.suite}.md`) };
    await writeFile(files.baseline.json, json);
    await writeFile(files.baseline.markdown, text);
  }
  return files;
}
