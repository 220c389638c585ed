// Role processes for `fedjoin demo --processes` and the CLI tests: `node dist/src/cli/main.js
// serve <role> --config <file>` children (the same code path as a real deployment), their
// JSON-line logs collected as events, and waits on them. `fedjoin worker` children
// (src/queue/local.ts) are started the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RoleEvent {
  role: string;
  event: string;
  [field: string]: unknown;
}

/** dist/src/cli/main.js of this checkout (from dist/src/demo or from src/demo under a test runner). */
export function cliMainPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const inDist = here.split(sep).includes('dist');
  const path = inDist
    ? join(here, '..', 'cli', 'main.js')
    : join(here, '..', '..', 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return path;
}

export class RoleChild {
  readonly events: RoleEvent[] = [];
  readonly proc: ChildProcess;
  private stderr = '';
  private stdoutRest = '';
  private readonly waiters = new Set<() => void>();
  /** Resolves with the exit code, or the signal's name when a signal ended the child. */
  readonly exited: Promise<number | NodeJS.Signals>;
  exitCode: number | null | undefined = undefined;

  constructor(
    readonly name: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; stdin?: boolean } = {},
  ) {
    this.proc = spawn(process.execPath, [cliMainPath(), ...args], {
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (this.stdoutRest + chunk).split('\n');
      this.stdoutRest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          this.events.push(JSON.parse(line) as RoleEvent);
        } catch {
          this.events.push({ role: name, event: 'text', text: line });
        }
      }
      this.wake();
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : code);
        this.wake();
        resolve(code ?? signal ?? -1);
      });
    });
  }

  get stderrTail(): string {
    return this.stderr.trim().split('\n').slice(-5).join('\n');
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first event (from index `from`) that `pred` accepts; rejects if the child exits first. */
  waitFor(pred: (e: RoleEvent) => boolean, timeoutMs = 120_000, from = 0): Promise<RoleEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.slice(from).find(pred);
        if (found) return finish(() => resolve(found));
        if (this.exitCode !== undefined) {
          return finish(() =>
            reject(
              new Error(
                `${this.name} exited (code ${this.exitCode}) before the awaited event: ${this.stderrTail}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`${this.name}: no awaited event within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const finish = (then: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        then();
      };
      this.waiters.add(check);
      check();
    });
  }

  listening(): Promise<RoleEvent> {
    return this.waitFor((e) => e.event === 'listening');
  }

  send(line: unknown): void {
    this.proc.stdin!.write(`${JSON.stringify(line)}\n`);
  }

  /** SIGTERM (or `signal`), then waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | NodeJS.Signals> {
    if (this.exitCode === undefined) this.proc.kill(signal);
    return this.exited;
  }
}
