// The `fedjoin` command line (DESIGN §6) as a commander program. Each subcommand lives in
// one file under commands/ that adds one program.command(...) block; list it in COMMANDS.
// Exit codes: 0 ok, 1 failure, 2 usage error (unknown command or option, bad value).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerDemo } from './commands/demo.js';
import { registerEncrypt } from './commands/encrypt.js';
import { registerInit } from './commands/init.js';
import { registerKeygen } from './commands/keygen.js';
import { registerQuery } from './commands/query.js';
import { registerServe } from './commands/serve.js';
import { registerWorker } from './commands/worker.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** Subcommands in help order: one registration function per file under commands/. */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  registerDemo,
  registerBench,
  registerInit,
  registerKeygen,
  registerServe,
  registerWorker,
  registerEncrypt,
  registerQuery,
];

/** fedjoin's own package.json version, found by walking up from this file (src/ or dist/src/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'fedjoin' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}

export function buildProgram(): Command {
  const program = new Command()
    .name('fedjoin')
    .description('Secure two-server join and federated learning over Paillier, with a WebAssembly engine.')
    .version(packageVersion())
    // throw CommanderError instead of exiting, so run() owns the exit code; set before the
    // subcommands are added so they inherit it
    .exitOverride()
    .showHelpAfterError('(run fedjoin --help for usage)');
  for (const register of COMMANDS) register(program);
  return program;
}

/** Exit code for an error that reached the top. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    // help printed because no subcommand was given is a usage error; `fedjoin help` is not
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err.code.startsWith('commander.')) return EXIT_USAGE;
    return err.exitCode;
  }
  return EXIT_FAILURE;
}

/** Runs the command line on `args` (process.argv without node and the script); returns the exit code. */
export async function run(args: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // commander has already printed its own errors and help
    if (!(err instanceof CommanderError))
      process.stderr.write(`fedjoin: ${(err as Error)?.message ?? err}\n`);
    return exitCodeFor(err);
  }
}
