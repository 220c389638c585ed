// `fedjoin bench [--quick] [--out dir] [--filter id] [--baseline [--force]]`: the engine
// benchmark of bench/run.ts (fedjoin vs paillier-bigint, plain BigInt and gmp-wasm). Loaded
// on use: it needs the dev dependencies (tinybench, gmp-wasm) that a production install lacks.
import type { Command } from 'commander';
import { EXIT_USAGE } from '../exit-codes.js';

interface BenchFlags {
  quick?: boolean;
  out?: string;
  filter?: string;
  baseline?: boolean;
  force?: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'time the engine against paillier-bigint, plain BigInt and gmp-wasm (one thread, 2048-bit n)',
    )
    .option('--quick', 'short run, about a minute')
    .option('--out <dir>', "results folder for the run's JSON and markdown", 'bench/results')
    .option('--filter <id>', 'only cases whose id contains <id> (e.g. decrypt, modPow.4096)')
    .option(
      '--baseline',
      'also write bench/baselines/engine.{json,md} (a full run; refused while the load average exceeds the cores)',
    )
    .option('--force', 'write the baseline whatever the load average')
    .action(async function (this: Command, flags: BenchFlags) {
      const bench = await loadBench();
      try {
        await bench.runBench({
          quick: flags.quick,
          out: flags.out,
          filter: flags.filter,
          baseline: flags.baseline,
          force: flags.force,
        });
      } catch (err) {
        if (err instanceof bench.BenchUsageError || err instanceof bench.BaselineRefusedError)
          this.error(err.message, { exitCode: EXIT_USAGE, code: 'fedjoin.usage' });
        throw err;
      }
    });
}

/** bench/run.js, or an error that says what is missing. */
async function loadBench(): Promise<typeof import('../../../bench/run.js')> {
  try {
    // dist/src/cli/commands -> dist/bench (src/cli/commands -> bench when type-checking)
    return await import('../../../bench/run.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error(
      `the bench needs a built source checkout with its dev dependencies (npm ci && npm run build): ${(err as Error).message}`,
    );
  }
}
