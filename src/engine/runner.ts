// Where kernel tasks run: a TaskRunner takes whole tasks and returns their packed
// results. The engine holds one; this file has the in-thread one, pool.ts the Piscina
// pool. A runner never sees a bigint: tasks are plain, packed data (tasks.ts).
import { AbortedError } from '../errors.js';
import type { KernelBackend, KernelTask } from './tasks.js';

export interface TaskRunner {
  /** Worker threads behind this runner (0: the calling thread). */
  readonly workers: number;
  /** Resolves once nothing is running or queued. */
  whenIdle(): Promise<void>;
  run(task: KernelTask, signal?: AbortSignal): Promise<Uint32Array>;
  close(): Promise<void>;
}

/** Runs tasks synchronously on one backend in this thread. */
export class InThreadRunner implements TaskRunner {
  readonly workers = 0;
  constructor(private readonly backend: KernelBackend) {}
  async whenIdle(): Promise<void> {}
  async run(task: KernelTask, signal?: AbortSignal): Promise<Uint32Array> {
    if (signal?.aborted) throw new AbortedError();
    return this.backend.run(task);
  }
  async close(): Promise<void> {}
}
