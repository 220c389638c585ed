// fedjoin's public API: the engine (DESIGN §6), keys, typed errors.
export {
  type BackendName,
  createEngine,
  type EncryptOptions,
  Engine,
  type EngineOptions,
  type ExponentOptions,
} from './engine/engine.js';
export {
  DEFAULT_KEY_BITS,
  fingerprint,
  generateKeys,
  type KeyPair,
  keyPairFromPrimes,
} from './engine/keys.js';
export { type PackedBatch, pack, unpack } from './engine/limbs.js';
export {
  packSlots,
  planSlots,
  type SlotLayout,
  type SlotOptions,
  slotBias,
  slotCapacityBits,
  slotLayout,
  unpackSlots,
} from './engine/slots.js';
export type { RandomMode } from './engine/tasks.js';
export * from './errors.js';
