// The module's exports: batch entries, context set-up and layout constants only (raw
// pointer ABI: usize pointers, i32 counts, i32 status). JS owns every allocation.
export { LIMB_BITS } from './limbs';
export { CTX_HEADER_BYTES, ctxInit, ctxSizeBytes, traceHashLow, traceOps, traceReset } from './montgomery';
export { fixedBaseInit, fixedBaseTableBytes } from './fixed-base';
export * from './paillier';
export {
  JOIN_BLOCKS,
  JOIN_TEETH,
  joinPairsBatch,
  joinTableBytes,
  joinTablesBatch,
  joinWorkBytes,
} from './join';
export { packSlotsBatch } from './slots';
// bench/kernel.ts's micro-benchmark loop (STYLE G6)
export { benchCore } from './bench';

/** First free byte after the module's static data: JS's arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}
