// The worker pool behind createEngine({ backend: 'wasm', workers }): each batch is cut
// into shards (shard.ts) that keep every worker busy, run on Piscina workers
// (src/workers/engine-worker.ts), and reassembled in input order by shard index. A shard
// whose worker dies is retried once on a fresh worker with identical inputs (randomness
// was drawn before dispatch), then the call fails with WorkerCrashedError naming it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AbortedError, type ErrorRecord, fromRecord, WorkerCrashedError } from '../errors.js';
import { opOf } from './ops.js';
import type { TaskRunner } from './runner.js';
import { minShardValues, shardBounds, sliceTask, transferList } from './shard.js';
import type { KernelTask } from './tasks.js';

export interface PoolOptions {
  workers: number;
  /** Worker module (tests wrap the real one); default: the compiled engine worker. */
  filename?: string;
}

/**
 * The compiled worker: Node 20 cannot run a .ts worker, so from src/engine (under vitest)
 * this points into dist/, and from dist/src/engine to its sibling.
 */
export function workerPath(): string {
  for (const rel of ['../workers/engine-worker.js', '../../dist/src/workers/engine-worker.js']) {
    const candidate = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('dist/src/workers/engine-worker.js not found: run npm run build');
}

/** Smallest shard worth a message: about 5e8 bit^2-multiplications (~1 ms at 2048 bits). */
const MIN_SHARD_COST = 5e8;

export class PoolRunner implements TaskRunner {
  private readonly piscina: Piscina;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  readonly workers: number;

  constructor(options: PoolOptions) {
    this.workers = options.workers;
    this.piscina = new Piscina({
      filename: options.filename ?? workerPath(),
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: 30_000,
    });
    // Piscina reports a result that arrives for a task it has already failed (its worker
    // died just after posting it), or a worker error outside any task, as an 'error' event;
    // unhandled, that event is an uncaught exception that ends the process. runShard has
    // already retried or failed the shard, so such an event carries nothing to act on.
    this.piscina.on('error', () => {});
  }

  /** Resolves once no shard is queued or running (at once if none is). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs a task's shards, at most one per worker at a time, so that an abort stops the
   * shards not yet started. Piscina's own abort would terminate a worker mid-task, and a
   * result already posted by that worker then reaches Piscina for a task it has dropped
   * (an uncaught "Unexpected message from Worker"): shards that have started finish, and
   * their results are discarded.
   */
  async run(task: KernelTask, signal?: AbortSignal): Promise<Uint32Array> {
    const { outWords } = opOf(task).strides(task);
    const out = new Uint32Array(task.count * outWords);
    if (task.count === 0) return out;
    if (signal?.aborted) throw new AbortedError();
    const bounds = shardBounds(task.count, this.workers, minShardValues(task, MIN_SHARD_COST));
    let next = 0;
    const lane = async () => {
      while (next < bounds.length - 1) {
        if (signal?.aborted) throw new AbortedError();
        const index = next++;
        const start = bounds[index];
        out.set(await this.runShard(task, start, bounds[index + 1], index), start * outWords);
      }
    };
    const lanes = Promise.all(Array.from({ length: Math.min(this.workers, bounds.length - 1) }, lane));
    if (!signal) {
      await lanes;
      return out;
    }
    lanes.catch(() => {}); // after an abort, started shards may still fail: nobody waits for them
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortedError());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([lanes, aborted]);
      return out;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async runShard(task: KernelTask, start: number, end: number, index: number): Promise<Uint32Array> {
    for (let attempt = 0; ; attempt++) {
      // a fresh copy per attempt: the previous attempt's buffers were transferred away
      const shard = sliceTask(task, start, end);
      let result: Uint32Array | ErrorRecord;
      this.inFlight++;
      try {
        result = await this.piscina.run(shard, { transferList: transferList(shard) });
      } catch (err) {
        if (attempt === 0) continue;
        const reason = err instanceof Error ? err.message : String(err);
        throw new WorkerCrashedError(`shard ${index} (values ${start}..${end - 1}) failed twice: ${reason}`, {
          shard: index,
          start,
          end,
        });
      } finally {
        if (--this.inFlight === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      }
      if (result instanceof Uint32Array) return result;
      throw fromRecord(result);
    }
  }

  async close(): Promise<void> {
    await this.piscina.close();
  }
}
