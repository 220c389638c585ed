// fedjoin's public API: the engine (DESIGN §6), keys, typed errors.
export {
  createEngine,
  Engine,
  type BackendName,
  type EncryptOptions,
  type EngineOptions,
  type ExponentOptions,
} from './engine/engine.js';
export { DEFAULT_KEY_BITS, fingerprint, generateKeys, keyPairFromPrimes, type KeyPair } from './engine/keys.js';
export { pack, unpack, type PackedBatch } from './engine/limbs.js';
export type { RandomMode } from './workers/tasks.js';
export * from './errors.js';
