// A queue on this machine (DESIGN §7), for the demo, the queue bench and the tests: a
// redis-server of its own on a free loopback port in a temporary directory (no snapshot,
// no append-only file), and `fedjoin worker` processes. Everything started here is
// stopped by the handle's stop(); nothing is left on disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** A free TCP port on loopback (the kernel's pick; released just before redis binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

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

/** The `fedjoin` launcher, from src/queue (tests) or dist/src/queue. */
export function fedjoinBin(): string {
  for (const rel of ['../../bin/fedjoin.js', '../../../bin/fedjoin.js']) {
    const candidate = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('bin/fedjoin.js not found');
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
  /** Script to run instead of bin/fedjoin.js (tests wrap the worker to inject faults). */
  script?: string;
}

/** Starts `fedjoin worker` as a child process, following its JSON log on stdout. */
export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const args = [
    options.script ?? fedjoinBin(),
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
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve(line: Record<string, unknown>): void }[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.event === line.event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    process: child,
    lines,
    exited,
    waitFor: (event, since = 0) => {
      const seen = lines.slice(since).find((line) => line.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ event, resolve });
        void exited.then((code) => reject(new Error(`worker exited (${code}) before "${event}": ${stderr}`)));
      });
    },
  };
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
  const secretFile = await writeQueueSecret(redis.dir);
  const workers = Array.from({ length: count }, () =>
    spawnWorker({ role, redis: redis.url, secretFile, threads }),
  );
  const stop = async () => {
    for (const w of workers)
      if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await redis.stop();
  };
  try {
    await Promise.all(workers.map((w) => w.waitFor('ready')));
  } catch (err) {
    await stop();
    throw err;
  }
  return { redis, settings: { redis: redis.url, role, secretFile }, workers, stop };
}
