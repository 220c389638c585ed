// Helpers shared by the deployment commands (init, keygen, serve, worker, encrypt, query):
// option parsers, the one way they turn an error into a message and an exit code, and the
// wait of a long-running command for its stop signal.

import { type Command, CommanderError, InvalidArgumentError } from 'commander';
import { exactJson } from '../../data/exact-json.js';
import { FedjoinError } from '../../errors.js';
import { exitCodeForError } from '../exit-codes.js';

export function integerOption(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

export function listOption(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

/** Runs `fn`; a failure becomes "fedjoin <command>: CODE: message" and a meaningful exit code. */
export async function guarded(command: Command, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    // written here rather than with command.error(), which would add the usage hint to a runtime failure
    process.stderr.write(`fedjoin ${command.name()}: ${errorLine(err)}\n`);
    throw new CommanderError(exitCodeForError(err), 'fedjoin.failed', errorLine(err));
  }
}

/** One line for the user: the message only (fedjoin's messages carry no key material or cell). */
function errorLine(err: unknown): string {
  if (err instanceof FedjoinError) return `${err.code}: ${err.message}`;
  return (err as Error)?.message ?? String(err);
}

/** Indented JSON with exact bigints (src/data/exact-json.ts). */
export function toJson(value: unknown): string {
  return exactJson(value, 2);
}

/** Resolves on the first SIGINT or SIGTERM: a served role or worker then closes cleanly. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
