// Runs kernel tasks on one WASM instance: key context -> reserve -> copy in -> one kernel
// call for the whole batch (the op's descriptor in ops.ts) -> copy out. Used in this
// thread and, one per worker, by the pool. The ristretto255 ops run on libsodium's own
// WASM instance instead (src/ec, loaded once per thread when this module is imported).
import { KernelStatusError } from '../errors.js';
import { KeyContexts } from './key-context.js';
import { Arena } from './memory.js';
import { opOf, type WasmCall } from './ops.js';
import type { KernelBackend, KernelTask } from './tasks.js';
import { type Kernels, loadKernels } from './wasm.js';

export class WasmBackend implements KernelBackend {
  private readonly contexts: KeyContexts;

  private constructor(
    readonly kernels: Kernels,
    private readonly arena: Arena,
  ) {
    this.contexts = new KeyContexts(kernels, arena);
  }

  static async create(): Promise<WasmBackend> {
    const kernels = await loadKernels();
    return new WasmBackend(kernels, new Arena(kernels.exports.memory, kernels.exports.heapBase()));
  }

  run(task: KernelTask): Uint32Array {
    const op = opOf(task);
    if ('sodium' in op) return op.sodium(task);
    const outWords = task.count * op.strides(task).outWords;
    // key contexts allocate for good below the mark; the batch lives above it
    let mark: number | undefined;
    let out = 0;
    const call: WasmCall = {
      exports: this.kernels.exports,
      layout: this.kernels.layout,
      contexts: this.contexts,
      batch: () => {
        mark = this.arena.mark();
        const input = this.copyIn(task.input);
        out = this.arena.alloc(outWords * 4);
        return { input, out };
      },
      copyIn: (data) => this.copyIn(data),
      reserve: (bytes) => this.arena.alloc(bytes),
    };
    try {
      const status = op.wasm(task, call);
      if (status !== 0)
        throw new KernelStatusError(`${task.op} kernel returned status ${status}`, { status });
      return this.arena.read(out, outWords);
    } finally {
      if (mark !== undefined) {
        // batches may hold secrets (plaintexts, exponents): wipe before release
        this.arena.zero(mark, this.arena.mark() - mark);
        this.arena.release(mark);
      }
    }
  }

  private copyIn(data: Uint32Array): number {
    const ptr = this.arena.alloc(Math.max(4, data.length * 4));
    this.arena.write(ptr, data);
    return ptr;
  }
}
