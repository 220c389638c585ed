// `fedjoin demo [--bits 2048] [--nested-rows N] [--workers N] [--encryption djn] [--json]`:
// the whole secure-join pipeline on the bundled data (src/demo/in-process.ts). Exit code 0
// when every answer matches the plaintext join, 1 otherwise, 2 on a bad option.
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  checkDemoOptions,
  DEMO_DEFAULT_BITS,
  DEMO_DEFAULT_ENCRYPTION,
  DEMO_DEFAULT_NESTED_ROWS,
  DEMO_DEFAULT_TRAINING_ROUNDS,
  DEMO_ENCRYPTIONS,
  type DemoOptions,
} from '../../demo/options.js';
import { InvalidArgumentError as FedjoinArgumentError } from '../../errors.js';
import { EXIT_USAGE } from '../exit-codes.js';

interface DemoFlags {
  bits: number;
  nestedRows: number;
  trainingRounds: number;
  workers?: number;
  encryption: DemoOptions['encryption'];
  json?: boolean;
  processes?: boolean;
  workersRedis?: boolean;
  report: string | false;
}

function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** Integer cells (bigint) as numbers when exact, else as decimal strings. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the secure join on the bundled data: B makes keys, two owners encrypt, the client asks an ' +
        'aggregate and a feature query in hashed and nested mode; answers are checked against a plaintext join; ' +
        'then three owners train a model over the join without and with DP',
    )
    .option('--bits <n>', 'Paillier key size', integer, DEMO_DEFAULT_BITS)
    .option(
      '--nested-rows <n>',
      'rows of each table in the nested-loop sample (n x n indicators per query; 0 skips the nested mode)',
      integer,
      DEMO_DEFAULT_NESTED_ROWS,
    )
    .option(
      '--training-rounds <n>',
      'federated training rounds over the join (0 skips training)',
      integer,
      DEMO_DEFAULT_TRAINING_ROUNDS,
    )
    .option('--workers <n>', 'engine worker threads (default: all cores)', integer)
    .addOption(
      new Option('--encryption <mode>', 'how encryptions make r^n (DESIGN §2)')
        .choices(DEMO_ENCRYPTIONS)
        .default(DEMO_DEFAULT_ENCRYPTION),
    )
    .option('--json', 'print only a machine-readable summary (JSON) on stdout')
    .option(
      '--processes',
      'also run the queries and the training with every role in its own process (fedjoin serve), HTTPS + ' +
        'mutual TLS on loopback, and check the answers and models equal the in-process ones',
    )
    .option(
      '--workers-redis',
      "run A's nested-join tiles on 2 `fedjoin worker` processes through a redis-server the demo starts " +
        '(DESIGN §7; needs redis-server), and check the answers as usual',
    )
    .option(
      '--report <dir>',
      'write report.md and report.html (answers, timings, DP, plots) here',
      './fedjoin-report',
    )
    .option('--no-report', 'write no report')
    .action(async function (this: Command, flags: DemoFlags) {
      const options: DemoOptions = {
        bits: flags.bits,
        nestedRows: flags.nestedRows,
        trainingRounds: flags.trainingRounds,
        encryption: flags.encryption,
        quiet: flags.json === true,
        ...(flags.workers === undefined ? {} : { workers: flags.workers }),
      };
      try {
        checkDemoOptions(options);
      } catch (err) {
        if (err instanceof FedjoinArgumentError)
          this.error(err.message, { exitCode: EXIT_USAGE, code: 'fedjoin.usage' });
        throw err;
      }
      if (flags.workersRedis && flags.processes) {
        this.error('--workers-redis and --processes do not combine', {
          exitCode: EXIT_USAGE,
          code: 'fedjoin.usage',
        });
      }
      // loaded on use: the roles and the engine are only needed here
      const { runDemo } = await import('../../demo/in-process.js');
      const { writeDemoReport } = await import('../../demo/report.js');
      const started = performance.now();
      if (flags.processes) {
        const { runProcessDemo } = await import('../../demo/processes.js');
        const result = await runProcessDemo(options);
        const report =
          flags.report === false ? undefined : await writeDemoReport(flags.report, result.inProcess, result);
        if (flags.json) {
          const { inProcess, ...rest } = result;
          process.stdout.write(
            `${JSON.stringify({ ...rest, inProcess: { ok: inProcess.ok, totalMs: inProcess.totalMs }, report: report ?? null }, jsonSafe, 2)}\n`,
          );
        } else {
          if (report) process.stdout.write(`report: ${report.html} and ${report.markdown}\n`);
          process.stdout.write(
            `demo --processes wall time ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
          );
        }
        if (!result.ok) {
          const reason = !result.queries.every((q) => q.match)
            ? 'some answers over HTTP differ from the in-process answers'
            : !result.training.every((t) => t.match)
              ? 'a training over HTTP disagrees with the in-process one'
              : 'the in-process reference run failed its checks (see its summary)';
          throw new Error(`demo --processes: ${reason}`);
        }
        return;
      }
      const queue = flags.workersRedis ? await startDemoQueue(options, flags.json !== true) : undefined;
      let result: Awaited<ReturnType<typeof runDemo>>;
      try {
        result = await runDemo(queue ? { ...options, queue: queue.settings } : options);
      } finally {
        await queue?.stop();
      }
      const report = flags.report === false ? undefined : await writeDemoReport(flags.report, result);
      if (flags.json)
        process.stdout.write(`${JSON.stringify({ ...result, report: report ?? null }, jsonSafe, 2)}\n`);
      else if (report) process.stdout.write(`report: ${report.html} and ${report.markdown}\n`);
      if (!result.ok) {
        const failed = result.queries.filter((q) => !q.match).length;
        throw new Error(
          `demo: ${failed} of ${result.queries.length} answers do not match the plaintext join`,
        );
      }
    });
}

/**
 * A redis-server and 2 `fedjoin worker --role server-a` processes for the demo's engine,
 * which sends them A's join tiles only (everything else runs on its own pool). stop()
 * prints how many tiles each worker ran.
 */
async function startDemoQueue(options: DemoOptions, print: boolean) {
  const { availableParallelism } = await import('node:os');
  const { startLocalQueue } = await import('../../queue/local.js');
  const threads = Math.max(1, Math.floor((options.workers ?? availableParallelism()) / 2));
  const local = await startLocalQueue('server-a', 2, threads);
  const say = (line: string) => print && process.stdout.write(`${line}\n`);
  say(
    `queue: A's join tiles go to 2 fedjoin worker processes (${threads} thread${threads === 1 ? '' : 's'} each, ` +
      `pids ${local.workers.map((w) => w.process.pid).join(', ')}) through redis-server on port ${local.redis.port}`,
  );
  return {
    settings: { ...local.settings, queuedOps: ['joinTables', 'joinPairs'] as const },
    stop: async () => {
      await local.stop();
      const jobs = local.workers.map((w) => Number(w.lines.find((l) => l.event === 'stopped')?.jobs ?? 0));
      say(`queue: the workers ran ${jobs.join(' and ')} join jobs; redis-server stopped`);
    },
  };
}
