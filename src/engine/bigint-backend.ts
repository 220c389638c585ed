// The reference backend: every kernel task computed with plain BigInt by the textbook
// formula of its op (ops.ts: decryption as L(c^lambda mod n^2) * mu mod n, the zero test
// as D(c) = 0), deliberately independent of the WASM code paths it checks. Not constant
// time: a reference, not a production path.
import { djnGenerator, type KeyMaterial } from './keys.js';
import { writeWords } from './limbs.js';
import { modPowBig } from './modular.js';
import { opOf, type ReferenceCall } from './ops.js';
import type { KernelBackend, KernelTask } from './tasks.js';

export class BigintBackend implements KernelBackend, ReferenceCall {
  private readonly djnBases = new Map<string, bigint>();

  run(task: KernelTask): Uint32Array {
    const op = opOf(task);
    const { outWords } = op.strides(task);
    const out = new Uint32Array(task.count * outWords);
    for (let i = 0; i < task.count; i++) {
      const values = op.reference(task, i, this);
      const words = outWords / values.length;
      for (const [k, x] of values.entries()) writeWords(out, i * outWords + k * words, words, x);
    }
    return out;
  }

  djnBase(key: KeyMaterial): bigint {
    let hn = this.djnBases.get(key.fingerprint);
    if (hn === undefined) {
      hn = modPowBig(djnGenerator(key.n), key.n, key.n * key.n);
      this.djnBases.set(key.fingerprint, hn);
    }
    return hn;
  }
}
