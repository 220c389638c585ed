// A `fedjoin worker` (DESIGN §7): takes its role's jobs from Redis and runs each on the
// Piscina pool on this host's cores. A job runs only if it opens under the role's queue
// secret; A's workers refuse private-key jobs, B's add their own p and q and refuse any job
// under another key. Refusals and kernel errors are replies (the caller rethrows their
// class); a thrown error (a crashed pool thread) makes BullMQ retry the job.
import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { fingerprint, type KeyMaterial, type KeyPair, privateMaterial } from '../engine/keys.js';
import { PoolRunner } from '../engine/pool.js';
import type { TaskRunner } from '../engine/runner.js';
import { secretBuffers } from '../engine/shard.js';
import type { KernelTask } from '../engine/tasks.js';
import {
  FedjoinError,
  InvalidArgumentError,
  KeyMismatchError,
  MalformedMessageError,
  WorkerCrashedError,
} from '../errors.js';
import { type Log, silentLog } from '../serve/log.js';
import { decodeShared, decodeTask, encodeFailure, encodeResult, replyFrame } from './codec.js';
import {
  checkReachable,
  KEY_PREFIX,
  QUEUE_DEFAULTS,
  type QueueSettings,
  queueKeys,
  queueSecret,
  type RedisOptions,
  redisOptions,
} from './config.js';
import type { JobData } from './runner.js';
import { Sealer } from './seal.js';

export interface QueueWorkerOptions {
  settings: QueueSettings;
  /** Pool threads, and jobs taken at once. */
  threads: number;
  /** server-b: B's key pair, opened from its sealed file by the caller. */
  keys?: KeyPair;
  /** Where jobs run (default: a Piscina pool of `threads`; tests wrap it to inject faults). */
  runner?: TaskRunner;
  log?: Log;
}

/** A reply list nobody reads (its runner died) lapses after this. */
const REPLY_TTL_MS = 3_600_000;
/** Calls whose shared part a worker keeps: more than run at once on one queue. */
const SHARED_CALLS_KEPT = 8;

export interface WorkerStats {
  jobs: number;
  values: number;
  refused: number;
  /** Summed job run time (kernel, sealing and reply), ms. */
  busyMs: number;
}

export class QueueWorker {
  readonly stats: WorkerStats = { jobs: 0, values: 0, refused: 0, busyMs: 0 };
  readonly id = `${hostname()}/${process.pid}`;
  private readonly keys;
  private readonly key?: KeyMaterial;
  private readonly log: Log;
  private heartbeat?: NodeJS.Timeout;
  private readonly sharedParts = new Map<string, Promise<Record<string, Uint32Array>>>();
  private worker?: Worker<JobData>;

  private constructor(
    private readonly options: QueueWorkerOptions,
    private readonly sealer: Sealer,
    private readonly pool: TaskRunner,
    private readonly redis: Redis,
  ) {
    this.keys = queueKeys(options.settings.role);
    this.log = options.log ?? silentLog;
    if (options.keys) this.key = privateMaterial(options.keys.privateKey);
  }

  /** Connects, registers this worker's threads and starts taking jobs. */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const { settings } = options;
    if ((settings.role === 'server-b') !== (options.keys !== undefined)) {
      throw new InvalidArgumentError("worker: server-b's workers, and only they, take B's key pair");
    }
    const connection = await redisOptions(settings.redis, settings.caFile);
    const sealer = new Sealer(await queueSecret(settings), settings.role);
    const redis = new Redis(connection);
    try {
      await checkReachable(redis, settings.redis);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const pool = options.runner ?? new PoolRunner({ workers: options.threads });
    const worker = new QueueWorker(options, sealer, pool, redis);
    try {
      await worker.begin(connection);
    } catch (err) {
      await worker.close(true).catch(() => {});
      throw err;
    }
    return worker;
  }

  private async begin(connection: RedisOptions): Promise<void> {
    const { settings, threads } = this.options;
    await this.register();
    const every = settings.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledIntervalMs;
    this.heartbeat = setInterval(() => void this.register().catch(() => {}), every);
    this.worker = new Worker<JobData>(this.keys.name, (job) => this.process(job), {
      connection,
      prefix: KEY_PREFIX,
      name: this.id,
      concurrency: threads,
      lockDuration: settings.lockDurationMs ?? QUEUE_DEFAULTS.lockDurationMs,
      stalledInterval: every,
      maxStalledCount: QUEUE_DEFAULTS.maxStalledCount,
    });
    this.worker.on('failed', (job, err) =>
      this.log('job-failed', { job: job?.id, attempt: job?.attemptsMade, reason: err.message }),
    );
    this.worker.on('stalled', (job) => this.log('job-stalled', { job }));
    this.worker.on('error', (err) => this.log('queue-error', { message: err.message }));
    this.redis.on('error', (err) => this.log('queue-error', { message: err.message }));
    await this.worker.waitUntilReady();
  }

  /** This worker's entry in the registry, lapsing after three missed heartbeats. */
  private async register(): Promise<void> {
    const every = this.options.settings.stalledIntervalMs ?? QUEUE_DEFAULTS.stalledIntervalMs;
    const now = Date.now();
    await checked(
      this.redis
        .pipeline()
        .zremrangebyscore(this.keys.registry, '-inf', now)
        .zadd(this.keys.registry, now + 3 * every, `${this.id}/${this.options.threads}`)
        .exec(),
    );
  }

  private async process(job: Job<JobData>): Promise<void> {
    const { call, shard, reply, body, shared } = job.data;
    if (typeof reply !== 'string' || !reply.startsWith(this.keys.replies(''))) {
      throw new MalformedMessageError('queue job: reply list outside this queue');
    }
    if (shared !== undefined && (typeof shared !== 'string' || !shared.startsWith(this.keys.shared('')))) {
      throw new MalformedMessageError('queue job: shared part outside this queue');
    }
    const started = performance.now();
    // stalled > 0: a worker died holding this job, which is now retried here
    const attempt = { attempt: job.attemptsStarted, stalled: job.stalledCounter };
    this.log('job-start', { job: job.id, ...attempt });
    let parts: Uint8Array[];
    let op = 'unknown';
    let values = 0;
    let task: KernelTask | undefined;
    try {
      const opened = decodeTask(
        this.sealer.open({ direction: 'job', call, shard }, Buffer.from(body, 'base64')),
      );
      task = this.admit(await this.withShared(opened.task, opened.shared, call, shared), opened.private);
      op = task.op;
      values = task.count;
      parts = encodeResult(await this.pool.run(task));
    } catch (err) {
      // a pool thread that died twice may be this host's trouble: let BullMQ retry elsewhere
      if (!(err instanceof FedjoinError) || err instanceof WorkerCrashedError) throw err;
      this.stats.refused++;
      parts = encodeFailure(err.toJSON());
    } finally {
      // this job's copies of r, alpha, x...: the pool's threads wipe their own
      if (task) for (const buffer of secretBuffers(task)) buffer.fill(0);
    }
    const sealed = this.sealer.seal({ direction: 'reply', call, shard }, parts);
    // one round trip; no MULTI: a reply pushed without its expiry is only kept longer
    await this.redis
      .pipeline()
      .rpush(reply, replyFrame(call, shard, sealed))
      .pexpire(reply, REPLY_TTL_MS)
      .exec();
    const ms = performance.now() - started;
    this.stats.jobs++;
    this.stats.values += values;
    this.stats.busyMs += ms;
    this.log('job', { job: job.id, op, values, ...attempt, ms: Math.round(ms) });
  }

  /**
   * The task with the buffers its call shares, fetched once per call. Every job of the call
   * gets the same buffers: the runner copies what it transfers to a thread (sliceTask) and
   * writes to none, and none is secret (runner.ts), so the wipe after a job leaves them be.
   */
  private async withShared(
    task: KernelTask,
    names: readonly string[],
    call: string,
    key: string | undefined,
  ): Promise<KernelTask> {
    if (names.length === 0) return task;
    if (!key) throw new MalformedMessageError('queue job: shared buffers but no shared part');
    let part = this.sharedParts.get(call);
    if (!part) {
      part = this.redis.getBuffer(key).then((sealed) => {
        if (!sealed) throw new MalformedMessageError("queue job: its call's shared part is gone from Redis");
        return decodeShared(this.sealer.open({ direction: 'shared', call, shard: -1 }, sealed));
      });
      part.catch(() => this.sharedParts.delete(call));
      this.sharedParts.set(call, part);
      // the few calls in flight at a time; the oldest goes first
      const oldest = this.sharedParts.keys().next().value;
      if (this.sharedParts.size > SHARED_CALLS_KEPT && oldest !== undefined) this.sharedParts.delete(oldest);
    }
    const fields = await part;
    const merged: Record<string, unknown> = { ...task };
    for (const name of names) {
      if (!(fields[name] instanceof Uint32Array))
        throw new MalformedMessageError(`queue job: shared ${name} missing`);
      merged[name] = fields[name];
    }
    return merged as unknown as KernelTask;
  }

  /** The task if this worker may run it, with B's p and q (or EC secret x) added for a private-key job. */
  private admit(task: KernelTask, needsPrivateKey: boolean): KernelTask {
    if (task.op === 'ecDecrypt') {
      const ec = this.options.keys?.ec;
      const { ecFingerprint: got, ...rest } = task as KernelTask & { ecFingerprint?: unknown };
      if (!needsPrivateKey || !ec) {
        throw new KeyMismatchError(
          "ecDecrypt: only server B's workers hold B's EC key; this job belongs on B's queue",
        );
      }
      if (got !== ec.fingerprint) {
        throw new KeyMismatchError("ecDecrypt: job under another EC key than this worker's", {
          expected: ec.fingerprint,
          got: String(got),
        });
      }
      // a copy per job: the worker wipes the task's secret buffers once it ran
      return { ...rest, ecKey: new Uint32Array(ec.secretKey.slice().buffer) } as KernelTask;
    }
    if (!('key' in task)) {
      if (needsPrivateKey) throw new MalformedMessageError('queue job: private flag on a task without a key');
      return task;
    }
    const got = task.key.fingerprint;
    if (fingerprint(task.key.n) !== got)
      throw new KeyMismatchError('queue job: key fingerprint does not match n');
    if (!this.key) {
      if (needsPrivateKey) {
        throw new KeyMismatchError(
          `${task.op}: server-a workers hold no private key; this job belongs on B's queue`,
        );
      }
      return task;
    }
    if (got !== this.key.fingerprint) {
      throw new KeyMismatchError(`${task.op}: job under another key than this worker's`, {
        expected: this.key.fingerprint,
        got,
      });
    }
    return needsPrivateKey ? { ...task, key: this.key } : task;
  }

  /**
   * Stops taking jobs and finishes the running ones (`force`: releases them instead; their
   * locks lapse and other workers retry them), then leaves the registry.
   */
  async close(force = false): Promise<void> {
    clearInterval(this.heartbeat);
    await this.worker?.close(force);
    await this.redis.zrem(this.keys.registry, `${this.id}/${this.options.threads}`).catch(() => 0);
    await this.pool.close();
    await this.redis.quit().catch(() => 'OK');
  }
}

/** A pipeline's replies carry their errors instead of rejecting: the first one is thrown. */
async function checked(replies: Promise<[Error | null, unknown][] | null>): Promise<void> {
  const failed = (await replies)?.find(([err]) => err);
  if (failed) throw failed[0];
}
