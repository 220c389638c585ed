// Runs kernel tasks on one WASM instance: reserve -> copy in -> one kernel call for the
// whole batch -> copy out. Used in this thread and, one per worker, by the pool.
import { BatchLengthError, KernelStatusError } from '../errors.js';
import { type KernelBackend, type KernelTask, keyWords, taskStrides } from '../workers/tasks.js';
import { KeyContexts } from './key-context.js';
import { Arena } from './memory.js';
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
    const k = this.kernels.exports;
    const { RAND_R, RAND_DJN, RAND_RN } = this.kernels.layout;
    const mode = (m: string) => (m === 'djn' ? RAND_DJN : m === 'pool' ? RAND_RN : RAND_R);
    const { outWords } = taskStrides(task);
    // key contexts first (they allocate permanently), then the batch above a mark
    let struct = 0;
    let mod = { ctx: 0, work: 0 };
    switch (task.op) {
      case 'modPow':
        mod = this.contexts.modulus(task.modulus);
        break;
      case 'multiply':
        // scalar multiply is modPow under the key's n^2: E(m)^k = E(k m)
        mod = this.contexts.n2Modulus(task.key);
        break;
      case 'decrypt':
      case 'decryptModP':
      case 'zeroTest':
        struct = this.contexts.privateKey(task.key);
        break;
      case 'encrypt':
      case 'rerandomize':
      case 'randomFactor':
        struct = this.contexts.publicKey(task.key, task.mode === 'djn');
        break;
      default:
        struct = this.contexts.publicKey(task.key);
    }
    const mark = this.arena.mark();
    try {
      const input = this.copyIn(task.input);
      const out = this.arena.alloc(task.count * outWords * 4);
      let status: number;
      switch (task.op) {
        case 'encrypt':
          status = k.encryptBatch(
            struct,
            input,
            this.copyIn(task.rand),
            out,
            task.count,
            mode(task.mode),
            task.randWords,
          );
          break;
        case 'randomFactor':
          status = k.randomFactorBatch(struct, input, out, task.count, mode(task.mode), task.randWords);
          break;
        case 'rerandomize':
          status = k.rerandomizeBatch(
            struct,
            input,
            this.copyIn(task.rand),
            out,
            task.count,
            mode(task.mode),
            task.randWords,
          );
          break;
        case 'add':
          status = k.addBatch(struct, input, this.copyIn(task.input2), out, task.count);
          break;
        case 'decrypt':
          status = k.decryptCrtBatch(struct, input, out, task.count);
          break;
        case 'decryptModP':
          status = k.decryptModPBatch(struct, input, out, task.count);
          break;
        case 'zeroTest':
          status = k.zeroTestBatch(struct, input, out, task.count);
          break;
        case 'joinTile': {
          // the kernel turns input and tile into Montgomery form in place: they are this call's copies
          const tile = this.copyIn(task.tile);
          const rho = this.copyIn(task.rand);
          const rhoWords = keyWords(task.key).n;
          checkJoinShape(task, rhoWords);
          status = k.joinTileBatch(
            struct,
            input,
            tile,
            rho,
            out,
            task.count,
            task.cols,
            task.keyCols,
            rhoWords,
          );
          break;
        }
        case 'multiply':
        case 'modPow': {
          const exp = this.copyIn(task.exp);
          const { expWords, expStride } = task;
          const secret = task.secret ? 1 : 0;
          status = k.modPowBatch(mod.ctx, mod.work, input, exp, out, task.count, expWords, expStride, secret);
          break;
        }
      }
      if (status !== 0)
        throw new KernelStatusError(`${task.op} kernel returned status ${status}`, { status });
      return this.arena.read(out, task.count * outWords);
    } finally {
      // batches may hold secrets (plaintexts, exponents): wipe before release
      this.arena.zero(mark, this.arena.mark() - mark);
      this.arena.release(mark);
    }
  }

  private copyIn(data: Uint32Array): number {
    const ptr = this.arena.alloc(Math.max(4, data.length * 4));
    this.arena.write(ptr, data);
    return ptr;
  }
}

/** The kernel reads tile and rho by the task's shape: a short buffer would read past them. */
function checkJoinShape(task: Extract<KernelTask, { op: 'joinTile' }>, rhoWords: number): void {
  const n2Words = keyWords(task.key).n2;
  const pair = task.cols * task.keyCols;
  if (task.tile.length !== pair * n2Words || task.randWords !== pair * rhoWords) {
    throw new BatchLengthError('joinTile: tile or rho does not match cols x keyCols', {
      tileWords: task.tile.length,
      randWords: task.randWords,
    });
  }
  if (
    task.rand.length !== task.count * task.randWords ||
    task.input.length !== task.count * task.keyCols * n2Words
  ) {
    throw new BatchLengthError('joinTile: input or rho does not match the row count', { count: task.count });
  }
}
