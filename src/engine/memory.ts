// A bump arena over the WASM instance's linear memory, starting at heapBase(). Key
// contexts are allocated below a mark and stay; a batch allocates above it and is
// released when the call ends. Memory grows to the high-water mark and never shrinks.
// Views are made fresh from memory.buffer after every allocation: growing detaches the
// old ones.
import { EngineMemoryError } from '../errors.js';

const PAGE_BYTES = 65536;
/** The module's declared maximum (asconfig.json maximumMemory, pages). */
const MAX_PAGES = 16384;

export class Arena {
  private top: number;
  private readonly base: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    heapBase: number,
  ) {
    this.base = align(heapBase);
    this.top = this.base;
  }

  /** Reserves `bytes` (16-byte aligned) and returns the address. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = align(ptr + bytes);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      const current = have / PAGE_BYTES;
      if (current + pages > MAX_PAGES) {
        throw new EngineMemoryError(
          `WASM memory: requested ${mib(end)} MiB, available ${mib(MAX_PAGES * PAGE_BYTES)} MiB`,
          { requestedMiB: mib(end), availableMiB: mib(MAX_PAGES * PAGE_BYTES) },
        );
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return ptr;
  }

  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    this.top = mark;
  }

  /** Frees everything: all key contexts become invalid. */
  reset(): void {
    this.top = this.base;
  }

  get usedBytes(): number {
    return this.top - this.base;
  }

  u32(ptr: number, words: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, words);
  }

  write(ptr: number, data: Uint32Array): void {
    new Uint32Array(this.memory.buffer, ptr, data.length).set(data);
  }

  /** A copy of `words` words at ptr (the view itself would be detached by a later grow). */
  read(ptr: number, words: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, words).slice();
  }

  setField(structPtr: number, offset: number, value: number): void {
    new DataView(this.memory.buffer).setUint32(structPtr + offset, value, true);
  }

  zero(ptr: number, bytes: number): void {
    new Uint8Array(this.memory.buffer, ptr, bytes).fill(0);
  }
}

function align(x: number): number {
  return (x + 15) & ~15;
}

function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}
