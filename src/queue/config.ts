// Where a role's job queue lives (DESIGN §7): the Redis connection (redis:// or rediss://
// with a CA file; ACL user and password from the URL), one queue per role, the queue
// secret that seals payloads, and the timings that decide how soon a dead worker's job is
// retried. B's queue carries the private-key jobs; only B's workers, which hold B's key, serve it.
import { readFile } from 'node:fs/promises';
import type { RedisOptions } from 'bullmq';

export type { RedisOptions };

import { InvalidArgumentError, KeystoreError, PeerAuthError, TransportError } from '../errors.js';
import { loadHexSecret } from '../serve/files.js';

export type QueueRole = 'server-a' | 'server-b';

/** Prefix of every key fedjoin keeps in Redis: an ACL user needs `~fedjoin:*` only. */
export const KEY_PREFIX = 'fedjoin';

/** Bytes of the queue secret (hex in its file, like the owners' join secret). */
export const QUEUE_SECRET_BYTES = 32;

export interface QueueSettings {
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  redis: string;
  /** Whose queue this is: the role's engine sends to it and that role's workers serve it. */
  role: QueueRole;
  /** PEM bundle of the CA that signed the Redis server's certificate (rediss://). */
  caFile?: string;
  /** Hex file (0600) of the secret the role shares with its workers; or `secret` itself. */
  secretFile?: string;
  secret?: Uint8Array;
  /** Shards per call are sized for this many worker threads when none is registered (default 2). */
  parallelism?: number;
  /** A job is tried this many times before its call fails (default 3). */
  attempts?: number;
  /** A worker's lock on a job; a worker that stops renewing it loses the job after this (default 4000 ms). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired (default 2000 ms). */
  stalledIntervalMs?: number;
}

/** Defaults for the timings above: a SIGKILLed worker's job is retried within lock + interval, about 6 s. */
export const QUEUE_DEFAULTS = {
  parallelism: 2,
  attempts: 3,
  lockDurationMs: 4000,
  stalledIntervalMs: 2000,
  /** Times a job may lose its worker before it fails (each loss is one retry). */
  maxStalledCount: 2,
} as const;

/** The Redis keys of a role's queue beside BullMQ's own (`fedjoin:<role>:wait`, ...). */
export function queueKeys(role: QueueRole) {
  return {
    /** BullMQ queue name (keys fedjoin:<role>:*). */
    name: role,
    /** Sorted set of live workers: member "<id>/<threads>", score the time its entry lapses. */
    registry: `${KEY_PREFIX}:${role}:registry`,
    /** A runner's reply list: workers push each result there. */
    replies: (runnerId: string) => `${KEY_PREFIX}:${role}:replies:${runnerId}`,
    /** What every job of a call shares (the join's right tables), stored once for the call. */
    shared: (call: string) => `${KEY_PREFIX}:${role}:shared:${call}`,
  };
}

/**
 * ioredis options for `url`: host, port, db, ACL user and password from the URL, TLS for
 * rediss:// (verifying the server against `caFile` when given, else the system CAs).
 * Errors name the URL without its password.
 */
export async function redisOptions(url: string, caFile?: string): Promise<RedisOptions> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError('redis: expected redis://[user:password@]host:port[/db] or rediss://...');
  }
  const shown = redactedUrl(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError(`redis ${shown}: expected the redis:// or rediss:// scheme`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new InvalidArgumentError(`redis ${shown}: bad database number`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
    // BullMQ's blocking reads need commands that wait through a reconnect rather than fail
    maxRetriesPerRequest: null,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
  if (parsed.protocol === 'rediss:') {
    const ca = caFile ? await readPem(caFile) : undefined;
    options.tls = { servername: host, ...(ca ? { ca } : {}) };
  } else if (caFile) {
    // a CA for a plain connection means the operator expected TLS: refuse rather than send in clear
    throw new InvalidArgumentError(`redis ${shown}: a CA file was given, so use rediss:// (TLS)`);
  }
  return options;
}

async function readPem(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InvalidArgumentError(
      `redis CA ${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

/** `url` with its password replaced by ***, for logs and messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The queue secret from its file (hex), refused when group or others may read it. */
export function loadQueueSecret(path: string): Promise<Buffer> {
  return loadHexSecret(path, 'queue secret', { exactly: QUEUE_SECRET_BYTES });
}

/** The secret of `settings`: given inline, or read from its file. */
export async function queueSecret(settings: QueueSettings): Promise<Buffer> {
  if (settings.secret) {
    if (settings.secret.length !== QUEUE_SECRET_BYTES) {
      throw new KeystoreError(`queue secret: expected ${QUEUE_SECRET_BYTES} bytes`);
    }
    return Buffer.from(settings.secret);
  }
  if (!settings.secretFile) {
    throw new KeystoreError(
      `queue secret: the ${settings.role} queue needs the secret its workers share (secretFile, ` +
        '--queue-secret or FEDJOIN_QUEUE_SECRET_FILE)',
    );
  }
  return loadQueueSecret(settings.secretFile);
}

/**
 * Resolves once `client` answers PING. ioredis retries a lost connection forever (BullMQ
 * needs that later), so at start a Redis that is down or refuses our password fails here
 * at its first error, as a TransportError or PeerAuthError naming the URL without its password.
 */
export async function checkReachable(
  client: {
    ping(): Promise<string>;
    on(event: 'error', listener: (err: Error) => void): unknown;
    off(event: 'error', listener: (err: Error) => void): unknown;
  },
  url: string,
  timeoutMs = 10_000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onError = (_err: Error) => {};
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        onError = reject;
        client.on('error', onError);
        timer = setTimeout(() => reject(new Error('no answer in time')), timeoutMs);
      }),
    ]);
  } catch (err) {
    const reason = (err as Error).message ?? String(err);
    if (/WRONGPASS|NOAUTH|NOPERM/.test(reason)) {
      throw new PeerAuthError(`redis ${redactedUrl(url)}: refused our credentials (${reason.split(' ')[0]})`);
    }
    throw new TransportError(`redis ${redactedUrl(url)}: unreachable (${reason.slice(0, 120)})`);
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}
