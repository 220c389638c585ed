// The job-queue runner (DESIGN §7): a TaskRunner that cuts each task into shards as the
// pool does, sends every shard as a sealed BullMQ job to its role's queue, and reassembles
// replies in input order. Replies are keyed by (call, shard) and taken once; a failed
// job's event ends its call with a typed error naming the shard; an abort removes the
// call's waiting jobs. Jobs hold ciphertexts and public key parts only (codec.ts).
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { taskStrides } from '../engine/ops.js';
import type { TaskRunner } from '../engine/runner.js';
import {
  broadcastBuffers,
  minShardValues,
  needsPrivateKey,
  secretBuffers,
  shardBounds,
  sliceTask,
} from '../engine/shard.js';
import type { KernelOp, KernelTask } from '../engine/tasks.js';
import {
  AbortedError,
  EngineClosedError,
  type FedjoinError,
  fromRecord,
  InvalidArgumentError,
  MalformedMessageError,
  QueueJobFailedError,
} from '../errors.js';
import { decodeReply, encodeShared, encodeTask, parseReplyFrame } from './codec.js';
import {
  checkReachable,
  KEY_PREFIX,
  QUEUE_DEFAULTS,
  type QueueSettings,
  queueKeys,
  queueSecret,
  redisOptions,
} from './config.js';
import { Sealer } from './seal.js';

/** What a job holds in Redis: ids in clear, the shard sealed (base64: BullMQ stores JSON). */
export interface JobData {
  call: string;
  shard: number;
  /** The list the worker pushes its reply to. */
  reply: string;
  body: string;
  /** Where the buffers every job of the call shares are (encodeShared), if it has any. */
  shared?: string;
}

/** Ops run on a local runner instead of the queue (the demo sends only A's join tiles out). */
export interface LocalRoute {
  runner: TaskRunner;
  /** The ops that do go to the queue. */
  queued: readonly KernelOp[];
}

/**
 * Smallest shard worth a job: about 1e11 bit^2-multiplications (~200 ms of kernel time at
 * 2048 bits), so a job's ~9 Redis round trips and its sealing (3-4 ms on 2 busy cores,
 * bench/queue.ts) cost at most ~2 %. A join row is always worth one: 100 pairs are ~4e12.
 */
export const MIN_JOB_COST = 1e11;

/** A call's shared part outlives an abandoned call by this much at most. */
const SHARED_TTL_MS = 3_600_000;

/**
 * The broadcast buffers (shard.ts) worth storing once per call instead of once per job;
 * never a secret one: a worker keeps a call's shared part for its later jobs and hands it
 * to each job as is, while it wipes a job's secret buffers once the job ran.
 */
function sharedFields(task: KernelTask): Set<string> {
  const secret = secretBuffers(task);
  return new Set(
    broadcastBuffers(task)
      .filter(([, value]) => value.byteLength >= 4096 && !secret.includes(value))
      .map(([name]) => name),
  );
}

/** Worker threads counted in the registry are trusted for this long before it is read again. */
const REGISTRY_TTL_MS = 1000;

interface Call {
  id: string;
  bounds: number[];
  outWords: number;
  out: Uint32Array;
  /** Shards not yet taken: a second reply for a shard finds it gone and is dropped. */
  pending: Set<number>;
  resolve(): void;
  reject(err: FedjoinError): void;
}

export class QueueRunner implements TaskRunner {
  private readonly calls = new Map<string, Call>();
  private readonly keys;
  private readonly repliesKey: string;
  private threads: number;
  private threadsCheckedAt = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly replyLoop: Promise<void>;

  private constructor(
    private readonly settings: QueueSettings,
    private readonly sealer: Sealer,
    private readonly queue: Queue<JobData>,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly local?: LocalRoute,
  ) {
    this.keys = queueKeys(settings.role);
    this.repliesKey = this.keys.replies(randomUUID());
    this.threads = settings.parallelism ?? QUEUE_DEFAULTS.parallelism;
    events.on('failed', ({ jobId, failedReason }) => this.failed(jobId, failedReason));
    this.replyLoop = this.takeReplies();
  }

  /** Connects to the role's queue; resolves once its failure events are being read. */
  static async open(settings: QueueSettings, local?: LocalRoute): Promise<QueueRunner> {
    const connection = await redisOptions(settings.redis, settings.caFile);
    const sealer = new Sealer(await queueSecret(settings), settings.role);
    const redis = new Redis(connection);
    try {
      await checkReachable(redis, settings.redis);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const { name } = queueKeys(settings.role);
    const queue = new Queue<JobData>(name, { connection, prefix: KEY_PREFIX });
    const events = new QueueEvents(name, { connection, prefix: KEY_PREFIX });
    const blocking = redis.duplicate();
    // later connection errors: ioredis reconnects, and commands waiting on it carry on then
    for (const client of [redis, blocking]) client.on('error', () => {});
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueRunner(settings, sealer, queue, events, redis, blocking, local);
  }

  /** Worker threads serving the queue, as last read from the registry (or the configured guess). */
  get workers(): number {
    return this.threads;
  }

  async whenIdle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.local?.runner.whenIdle();
  }

  async run(task: KernelTask, signal?: AbortSignal): Promise<Uint32Array> {
    if (this.closed) throw new EngineClosedError();
    if (this.local && !this.local.queued.includes(task.op)) return this.local.runner.run(task, signal);
    const { outWords } = taskStrides(task);
    const out = new Uint32Array(task.count * outWords);
    if (task.count === 0) return out;
    if (signal?.aborted) throw new AbortedError();
    if (needsPrivateKey(task) && this.settings.role !== 'server-b') {
      throw new InvalidArgumentError(
        `${task.op}: a private-key task cannot go to ${this.settings.role}'s queue; only server B's workers hold the key`,
      );
    }
    this.inFlight++;
    try {
      return await this.runQueued(task, out, outWords, signal);
    } finally {
      if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async runQueued(
    task: KernelTask,
    out: Uint32Array,
    outWords: number,
    signal?: AbortSignal,
  ): Promise<Uint32Array> {
    const bounds = shardBounds(task.count, await this.parallelism(), minShardValues(task, MIN_JOB_COST));
    const shards = bounds.length - 1;
    const shared = shards > 1 ? sharedFields(task) : new Set<string>();
    let call!: Call;
    const done = new Promise<void>((resolve, reject) => {
      call = {
        id: randomUUID(),
        bounds,
        outWords,
        out,
        pending: new Set(Array.from({ length: shards }, (_, i) => i)),
        resolve,
        reject,
      };
    });
    // a reply may fail the call while the jobs are still being added: awaited below
    done.catch(() => {});
    this.calls.set(call.id, call);
    let onAbort = () => {};
    const sharedKey = this.keys.shared(call.id);
    try {
      if (shared.size > 0) {
        const sealed = this.sealer.seal(
          { direction: 'shared', call: call.id, shard: -1 },
          encodeShared(task, shared),
        );
        await this.redis.set(sharedKey, sealed, 'PX', SHARED_TTL_MS);
      }
      await this.queue.addBulk(
        Array.from({ length: shards }, (_, shard) =>
          this.job(call, task, shard, shared.size > 0 ? shared : undefined),
        ),
      );
      if (signal) {
        if (signal.aborted) throw new AbortedError();
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => reject(new AbortedError());
          signal.addEventListener('abort', onAbort, { once: true });
        });
        await Promise.race([done, aborted]);
      } else {
        await done;
      }
      return out;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.calls.delete(call.id);
      // after an abort or a failed shard nobody wants the rest: drop the jobs not yet taken
      // (a running one finishes and its reply finds no call)
      await Promise.all([
        ...[...call.pending].map((shard) => this.queue.remove(jobId(call.id, shard)).catch(() => 0)),
        ...(shared.size > 0 ? [this.redis.del(sharedKey).catch(() => 0)] : []),
      ]);
    }
  }

  private job(call: Call, task: KernelTask, shard: number, shared?: ReadonlySet<string>) {
    const shardTask = sliceTask(task, call.bounds[shard], call.bounds[shard + 1]);
    const sealed = this.sealer.seal(
      { direction: 'job', call: call.id, shard },
      encodeTask(shardTask, shared),
    );
    // the shard's copies of secrets are sealed now; the caller keeps (and wipes) its own
    for (const buffer of secretBuffers(shardTask)) buffer.fill(0);
    const data: JobData = { call: call.id, shard, reply: this.repliesKey, body: sealed.toString('base64') };
    if (shared) data.shared = this.keys.shared(call.id);
    return {
      // the op stays inside the seal: Redis sees a shard's size, not what it computes
      name: 'shard',
      data,
      opts: {
        // one id per (call, shard): adding it twice makes one job
        jobId: jobId(call.id, shard),
        attempts: this.settings.attempts ?? QUEUE_DEFAULTS.attempts,
        backoff: { type: 'fixed', delay: 100 },
        removeOnComplete: true,
        removeOnFail: { age: 3600, count: 1000 },
      },
    };
  }

  /** Sum of the threads of live registered workers, read at most once a second. */
  private async parallelism(): Promise<number> {
    const now = Date.now();
    if (now - this.threadsCheckedAt < REGISTRY_TTL_MS) return this.threads;
    this.threadsCheckedAt = now;
    const members = await this.redis.zrangebyscore(this.keys.registry, now, '+inf');
    const threads = members.reduce((sum, member) => sum + (Number(member.split('/').pop()) || 0), 0);
    this.threads = threads > 0 ? threads : (this.settings.parallelism ?? QUEUE_DEFAULTS.parallelism);
    return this.threads;
  }

  /** Pops replies until closed; BRPOP's 1 s timeout lets the loop see close(). */
  private async takeReplies(): Promise<void> {
    while (!this.closed) {
      let popped: [Buffer, Buffer] | null;
      try {
        popped = await this.blocking.brpopBuffer(this.repliesKey, 1);
      } catch {
        // closing, or a connection error ioredis reconnects after: try again
        if (!this.closed) await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (popped) this.take(popped[1]);
    }
  }

  private take(frame: Buffer): void {
    const parsed = parseReplyFrame(frame);
    const call = parsed && this.calls.get(parsed.call);
    // a reply for a finished call, or a second reply for a shard (a retried job): dropped
    if (!parsed || !call?.pending.has(parsed.shard)) return;
    const { shard } = parsed;
    const start = call.bounds[shard];
    const end = call.bounds[shard + 1];
    let reply: Uint32Array | ReturnType<typeof fromRecord>;
    try {
      const opened = decodeReply(
        this.sealer.open({ direction: 'reply', call: call.id, shard }, parsed.sealed),
      );
      reply =
        opened instanceof Uint32Array
          ? opened
          : fromRecord({ ...opened, details: { ...opened.details, shard } });
    } catch (err) {
      reply = err as FedjoinError;
    }
    if (reply instanceof Uint32Array && reply.length !== (end - start) * call.outWords) {
      reply = new MalformedMessageError(`queue reply for shard ${shard}: wrong length`, { shard });
    }
    if (!(reply instanceof Uint32Array)) {
      call.reject(reply);
      return;
    }
    call.out.set(reply, start * call.outWords);
    call.pending.delete(shard);
    if (call.pending.size === 0) call.resolve();
  }

  /** A job failed for good (every attempt thrown, or its workers kept dying): its call fails. */
  private failed(id: string, reason: string): void {
    const [callId, shardText] = id.split('.');
    const call = this.calls.get(callId);
    const shard = Number(shardText);
    if (!call?.pending.has(shard)) return;
    const start = call.bounds[shard];
    const end = call.bounds[shard + 1];
    call.reject(
      new QueueJobFailedError(`shard ${shard} (values ${start}..${end - 1}) failed on the queue: ${reason}`, {
        shard,
        start,
        end,
        reason,
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.calls.values()) call.reject(new EngineClosedError());
    // ends the loop's BRPOP at once instead of at its timeout
    this.blocking.disconnect();
    await this.replyLoop;
    await Promise.allSettled([this.queue.close(), this.events.close(), this.local?.runner.close()]);
    await this.redis.del(this.repliesKey).catch(() => 0);
    await this.redis.quit().catch(() => 'OK');
  }
}

function jobId(call: string, shard: number): string {
  // BullMQ job ids may not contain ':'
  return `${call}.${shard}`;
}
