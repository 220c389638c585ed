// A queue on this machine (DESIGN §7), for the demo, the queue bench and the tests: a
// redis-server of its own on a free loopback port in a temporary directory (no snapshot,
// no append-only file), and `fedjoin worker` processes. Everything started here is
// stopped by the handle's stop(); nothing is left on disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { RoleChild } from '../demo/children.js';
import { freePort } from '../demo/free-port.js';
import { QUEUE_SECRET_BYTES, type QueueRole, type QueueSettings } from './config.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port> (or rediss:// with TLS), with user and password when set. */
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /**
   * An ACL user allowed only keys matching `keys` (default `fedjoin:*`) and no dangerous
   * command, as docs/DEPLOYMENT.md §7 sets one up; the default user is then off.
   */
  user?: { name: string; password: string; keys?: string };
  /** Serve TLS only, with these PEM files. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** The redis-server binary on PATH (or Debian's /usr/bin), or null. */
export function findRedisServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

// the queue config tests take a free port from here

/** Starts a redis-server of its own; resolves once it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = findRedisServer();
  if (!binary) throw new Error('redis-server not found: install it (Debian: apt-get install redis-server)');
  const dir = await mkdtemp(join(tmpdir(), 'fedjoin-redis-'));
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.tls) {
    const { certFile, keyFile, caFile } = options.tls;
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', certFile);
    args.push('--tls-key-file', keyFile, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  if (options.user) {
    // an ACL file: the user may touch its keys and the commands BullMQ needs, nothing else
    const acl = join(dir, 'users.acl');
    await writeFile(
      acl,
      `user default off\nuser ${options.user.name} on >${options.user.password} ~${options.user.keys ?? 'fedjoin:*'} ` +
        '+@all -@dangerous +info +client|setname +client|getname\n',
      { mode: 0o600 },
    );
    args.push('--aclfile', acl);
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`redis-server did not start in 10 s: ${output.slice(-400)}`)),
      10_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', fail);
      resolve();
    };
    const onExit = (code: number | null) =>
      fail(new Error(`redis-server exited (${code}): ${output.slice(-400)}`));
    child.once('error', fail);
    child.once('exit', onExit);
    child.stdout?.on('data', onData);
  }).catch(async (err) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  child.stdout?.resume();
  child.stderr?.resume();
  const auth = options.user
    ? `${encodeURIComponent(options.user.name)}:${encodeURIComponent(options.user.password)}@`
    : '';
  return {
    url: `${options.tls ? 'rediss' : 'redis'}://${auth}${options.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    port,
    dir,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh queue secret in a 0600 file under `dir`. */
export async function writeQueueSecret(dir: string, name = 'queue.secret'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${randomBytes(QUEUE_SECRET_BYTES).toString('hex')}\n`, { mode: 0o600 });
  return path;
}

export interface WorkerProcess {
  process: ChildProcess;
  /** The worker's JSON log lines so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves at the first log line with this event, from line `since` on (default 0). */
  waitFor(event: string, since?: number): Promise<Record<string, unknown>>;
}

export interface SpawnWorkerOptions {
  role: QueueRole;
  redis: string;
  secretFile: string;
  threads: number;
  /** Extra arguments (e.g. --config) and environment (e.g. FEDJOIN_PASSPHRASE). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Starts `fedjoin worker` as a child process, following its JSON log on stdout. */
function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const child = new RoleChild(
    `worker:${options.role}`,
    [
      'worker',
      '--role',
      options.role,
      '--redis',
      options.redis,
      '--queue-secret',
      options.secretFile,
      '--workers',
      String(options.threads),
      ...(options.args ?? []),
    ],
    { env: options.env },
  );
  return {
    process: child.proc,
    lines: child.events,
    exited: child.exited,
    waitFor: (event, since = 0) => child.waitFor((line) => line.event === event, undefined, since),
  };
}

/** `count` workers as `options` says, once all are ready; if one fails first, none is left running. */
export async function startWorkers(count: number, options: SpawnWorkerOptions): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => spawnWorker(options));
  try {
    await Promise.all(workers.map((w) => w.waitFor('ready')));
  } catch (err) {
    await stopWorkers(workers);
    throw err;
  }
  return workers;
}

/** SIGTERM to those still running (they finish their jobs); resolves once all have exited. */
export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  for (const w of workers)
    if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

export interface LocalQueue {
  redis: RedisServer;
  /** What the role's engine needs to send to these workers. */
  settings: QueueSettings;
  workers: WorkerProcess[];
  /** Stops the workers (SIGTERM: they finish their jobs), then Redis; removes the secret. */
  stop(): Promise<void>;
}

/** A redis-server, a fresh queue secret and `count` workers of `threads` threads for `role`. */
export async function startLocalQueue(role: QueueRole, count: number, threads: number): Promise<LocalQueue> {
  const redis = await startRedisServer();
  let secretFile: string;
  let workers: WorkerProcess[];
  try {
    secretFile = await writeQueueSecret(redis.dir);
    workers = await startWorkers(count, { role, redis: redis.url, secretFile, threads });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return {
    redis,
    settings: { redis: redis.url, role, secretFile },
    workers,
    stop: async () => {
      await stopWorkers(workers);
      await redis.stop();
    },
  };
}
