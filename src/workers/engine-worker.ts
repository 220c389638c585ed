// The Piscina worker entry (STYLE G2): instantiates the WASM module (and libsodium, for
// the EC ops) once per worker (its key contexts are cached inside the backend by key
// fingerprint) and runs one shard per call. A result travels back as a transferred
// Uint32Array; a failure as an error record (code, message, details), because Piscina
// would flatten a thrown typed error. The shard's secret buffers are zeroed after it.
import { move } from 'piscina';
import { secretBuffers } from '../engine/shard.js';
import type { KernelTask } from '../engine/tasks.js';
import { WasmBackend } from '../engine/wasm-backend.js';
import { type ErrorRecord, FedjoinError } from '../errors.js';

const backend = await WasmBackend.create();

export default function runShard(task: KernelTask): Uint32Array | ErrorRecord {
  try {
    return move(backend.run(task)) as Uint32Array;
  } catch (err) {
    if (err instanceof FedjoinError) return err.toJSON();
    const message = err instanceof Error ? err.message : String(err);
    return { code: 'KERNEL_STATUS', message: `worker: ${message}`, details: {} };
  } finally {
    // this worker's copies: the caller keeps (and wipes) its own
    for (const buffer of secretBuffers(task)) buffer.fill(0);
  }
}
