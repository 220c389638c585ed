// The engine benchmark (issue 2 item 6, STYLE G6): every case side by side in one process
// (fedjoin WASM in each mode, the BigInt backend, paillier-bigint, plain BigInt,
// gmp-wasm), checked for equal results, then timed with tinybench; prints the ratio
// table and the targets and writes bench/results/engine-<iso>-<host>.{json,md}
// (with --baseline also bench/baselines/engine.{json,md}, lib/results.ts).
// `npm run bench [-- --quick] [--out DIR] [--baseline [--force]]`, or `fedjoin bench`.
import { realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cases } from './cases/index.js';
import { busyWarning, describeEnvironment, type Environment, environment } from './lib/environment.js';
import { createFixture, KEY_BITS } from './lib/fixture.js';
import { checkCase, type Measurement, measureBatch, PROFILES, type Profile } from './lib/harness.js';
import { ratios } from './lib/ratios.js';
import { formatMs, markdownReport, textReport } from './lib/report.js';
import {
  BaselineRefusedError,
  type BenchRecord,
  checkBaselineLoad,
  type OutputOptions,
  RESULTS_DIR,
  type ResultFiles,
  writeResults,
} from './lib/results.js';
import { sinkDigest } from './lib/sink.js';
import { evaluateTargets, type TargetResult } from './lib/targets.js';
import { BATCHES, ROTATION } from './lib/types.js';

export interface BenchOptions extends Omit<OutputOptions, 'out'> {
  /** Short run (about a minute): fewer samples, same cases and batch sizes. */
  quick?: boolean;
  /** Results folder (default: bench/results under the working directory); false writes nothing. */
  out?: string | false;
  /** Only cases whose id contains this ('decrypt', 'modPow.4096'). */
  filter?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** The final table (default: stdout). */
  print?: (text: string) => void;
}

export interface BenchReport {
  profile: Profile['name'];
  environment: Environment;
  measurements: Measurement[];
  targets: TargetResult[];
  files?: ResultFiles;
}

export { BaselineRefusedError };

/** A bad option (exit code 2 at the command line). */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const profile = PROFILES[options.quick ? 'quick' : 'full'];
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const filter = options.filter;
  const selected = cases.filter((c) => filter === undefined || c.id.includes(filter));
  if (selected.length === 0) {
    throw new BenchUsageError(`no case id contains '${filter}'; ids: ${cases.map((c) => c.id).join(', ')}`);
  }
  if (options.baseline && options.quick) {
    throw new BenchUsageError('--baseline needs a full run: a quick run only checks that things work');
  }
  const env = environment();
  const output: OutputOptions | undefined =
    options.out === false
      ? undefined
      : { out: options.out ?? RESULTS_DIR, baseline: options.baseline, force: options.force };
  // refuse a baseline, and fail on an unwritable folder, now rather than after minutes of timing
  if (output) {
    checkBaselineLoad(output, env);
    await mkdir(resolve(output.out!), { recursive: true });
  }
  const date = new Date();
  const started = performance.now();
  const warning = busyWarning(env);
  log(`fedjoin bench (${profile.name}): ${describeEnvironment(env)}`);
  if (warning) log(warning);

  const fx = await createFixture();
  if (fx.gmpMissing) log(`${fx.gmpMissing}: the gmp-wasm rows are left out`);
  const measurements: Measurement[] = [];
  try {
    for (const c of selected) {
      const setup = await c.setup(fx);
      const perValueMs = await checkCase(c, setup);
      log(`${c.id}: ${setup.impls.length} implementations agree on ${ROTATION} values`);
      for (const batch of c.batches) {
        for (const m of await measureBatch(c, setup, batch, profile, perValueMs)) {
          measurements.push(m);
          log(
            `  ${m.id} ${m.impl}: ${formatMs(m.p50OpMs)} ms/op CPU, ${formatMs(m.wallP50OpMs)} wall (p50 of ${m.samples} samples)`,
          );
        }
      }
    }
  } finally {
    await fx.close();
  }

  const targets = evaluateTargets(measurements);
  const seconds = (performance.now() - started) / 1000;
  const method =
    (warning ? `${warning}\n\n` : '') +
    `Single thread, n = ${KEY_BITS} bits, ${profile.name} run (${seconds.toFixed(0)} s). ` +
    'ms/op = p50 CPU time of a call / batch size (wall: the same by the wall clock); ' +
    'vs X = X ms/op / row ms/op (higher is faster than X).';
  print(
    `\nfedjoin bench: ${describeEnvironment(env)}\n${method}\n${textReport(selected, measurements, targets)}`,
  );

  const report: BenchReport = { profile: profile.name, environment: env, measurements, targets };
  if (output) {
    const markdown = [
      '# fedjoin engine bench',
      '',
      `${date.toISOString()}: ${describeEnvironment(env)}.`,
      '',
      `${method} See bench/README.md for the method.`,
      '',
      markdownReport(selected, measurements, targets),
    ].join('\n');
    const record: BenchRecord = {
      schema: 'fedjoin-bench/1',
      suite: 'engine',
      date,
      environment: env,
      profile: { ...profile, fixed: Object.fromEntries(BATCHES.map((b) => [`x${b}`, profile.fixed(b)])) },
      keyBits: KEY_BITS,
      rotation: ROTATION,
      seconds,
      gmpMissing: fx.gmpMissing,
      measurements: measurements.map((m) => ({ ...m, ratios: ratios(measurements, m) })),
      targets,
      sink: sinkDigest(),
    };
    report.files = await writeResults(record, markdown, output);
    log(`wrote ${report.files.json} and ${report.files.markdown}`);
    if (report.files.baseline)
      log(`baseline: ${report.files.baseline.json} and ${report.files.baseline.markdown}`);
  }
  return report;
}

const USAGE = `usage: node dist/bench/run.js [--quick] [--out DIR] [--filter ID] [--baseline [--force]]
  --quick       short run (about a minute), same cases and batch sizes
  --out DIR     results folder (default bench/results)
  --filter ID   only cases whose id contains ID (e.g. decrypt, modPow.4096)
  --baseline    also write bench/baselines/engine.{json,md}; refused while the load average exceeds the cores
  --force       write the baseline whatever the load average`;

async function main(argv: string[]): Promise<number> {
  let values: {
    quick?: boolean;
    out?: string;
    filter?: string;
    baseline?: boolean;
    force?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        out: { type: 'string' },
        filter: { type: 'string' },
        baseline: { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    await runBench({
      quick: values.quick,
      out: values.out,
      filter: values.filter,
      baseline: values.baseline,
      force: values.force,
    });
    return 0;
  } catch (err) {
    if (err instanceof BenchUsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof BaselineRefusedError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
