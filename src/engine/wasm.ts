// The only file that touches WebAssembly: loads build/fedjoin.wasm with the
// AssemblyScript loader, checks that the binary's layout constants match the codec,
// and exposes the raw-pointer exports with their types.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { instantiate } from '@assemblyscript/loader';
import { LIMB_BITS } from './limbs.js';
import { JOIN_COMB } from './tasks.js';

export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  ctxSizeBytes(words: number): number;
  ctxInit(ctx: number, n: number, words: number): void;
  fixedBaseTableBytes(words: number, expBits: number, w: number): number;
  fixedBaseInit(ctx: number, table: number, base: number, expBits: number, w: number): void;
  encryptBatch(
    pk: number,
    m: number,
    r: number,
    out: number,
    count: number,
    mode: number,
    rWords: number,
  ): number;
  randomFactorBatch(pk: number, r: number, out: number, count: number, mode: number, rWords: number): number;
  rerandomizeBatch(
    pk: number,
    c: number,
    r: number,
    out: number,
    count: number,
    mode: number,
    rWords: number,
  ): number;
  addBatch(pk: number, a: number, b: number, out: number, count: number): number;
  modPowBatch(
    ctx: number,
    work: number,
    base: number,
    e: number,
    out: number,
    count: number,
    eWords: number,
    eStride: number,
    secret: number,
  ): number;
  /** Horner over rows of `slots` ciphertexts mod the context's N: src/engine/slots.ts's packing. */
  packSlotsBatch(
    ctx: number,
    work: number,
    c: number,
    widths: number,
    out: number,
    count: number,
    slots: number,
  ): number;
  decryptCrtBatch(sk: number, c: number, out: number, count: number): number;
  decryptModPBatch(sk: number, c: number, out: number, count: number): number;
  zeroTestBatch(sk: number, c: number, out: number, count: number): number;
  /** Bytes of one row table of the comb join (per left row or right inverse): teeth x blocks values mod n^2. */
  joinTableBytes(pk: number, teeth: number, blocks: number): number;
  /** Bytes of joinPairsBatch's work region. */
  joinWorkBytes(pk: number, teeth: number, blocks: number): number;
  /** Row tables (count x joinTableBytes, canonical powers) for count canonical ciphertexts mod n^2. */
  joinTablesBatch(
    pk: number,
    c: number,
    out: number,
    count: number,
    teeth: number,
    blocks: number,
    rhoWords: number,
  ): number;
  /** out[i * cols + j] = (left_i * rightInv_j)^rho_ij mod n^2 from row tables, constant time in rho. */
  joinPairsBatch(
    pk: number,
    leftTables: number,
    rightTables: number,
    rho: number,
    out: number,
    rows: number,
    cols: number,
    teeth: number,
    blocks: number,
    rhoWords: number,
    work: number,
  ): number;
  /** bench/kernel.ts only: `iterations` digit-form squarings (kind 0) or products (kind 1). */
  benchCore(ctx: number, kind: number, iterations: number): number;
  traceReset(): void;
  traceHashLow(): number;
  traceOps(): number;
}

/** Layout constants read from the binary (the single source of truth). */
export interface KernelLayout {
  PK_BYTES: number;
  SK_BYTES: number;
  WORK_SLOTS: number;
  RAND_R: number;
  RAND_DJN: number;
  RAND_RN: number;
  /** Recommended comb geometry of joinTablesBatch / joinPairsBatch for 2048-bit rho. */
  JOIN_TEETH: number;
  JOIN_BLOCKS: number;
  fields: Record<string, number>;
}

export interface Kernels {
  exports: KernelExports;
  layout: KernelLayout;
}

/**
 * Path of the compiled module. `build/` sits at the package root, which is two levels
 * above this file in src/engine/ and three in dist/src/engine/.
 */
export function wasmPath(debug = false): string {
  const file = `build/fedjoin${debug ? '.debug' : ''}.wasm`;
  for (const up of ['../../', '../../../']) {
    const candidate = fileURLToPath(new URL(up + file, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${file} not found: run npm run build`);
}

let compiled: WebAssembly.Module | undefined;

/** The compiled module: build/fedjoin.wasm, or another binary (benchmarks compare two builds). */
function module(path?: string): WebAssembly.Module {
  if (path !== undefined) return new WebAssembly.Module(readFileSync(path));
  compiled ??= new WebAssembly.Module(readFileSync(wasmPath()));
  return compiled;
}

function globalValue(exports: Record<string, unknown>, name: string): number {
  const g = exports[name];
  if (!(g instanceof WebAssembly.Global)) throw new Error(`fedjoin.wasm lacks the constant ${name}`);
  return Number((g as WebAssembly.Global).value);
}

/** Instantiates a fresh module instance (its own memory), of `path` when given. */
export async function loadKernels(path?: string): Promise<Kernels> {
  const instance = await instantiate<Record<string, unknown>>(module(path), {});
  const raw = instance.exports as unknown as Record<string, unknown>;
  const limbBits = globalValue(raw, 'LIMB_BITS');
  if (limbBits !== LIMB_BITS)
    throw new Error(`fedjoin.wasm has LIMB_BITS ${limbBits}, codec has ${LIMB_BITS}`);
  // the engine sizes join tasks by JOIN_COMB on threads that never load the binary
  if (path === undefined) {
    const comb = [globalValue(raw, 'JOIN_TEETH'), globalValue(raw, 'JOIN_BLOCKS')];
    if (comb[0] !== JOIN_COMB.teeth || comb[1] !== JOIN_COMB.blocks)
      throw new Error(
        `fedjoin.wasm recommends a ${comb.join(' x ')} join comb, tasks.ts has ${JOIN_COMB.teeth} x ${JOIN_COMB.blocks}`,
      );
  }
  const fields: Record<string, number> = {};
  for (const name of Object.keys(raw)) {
    if (/^(PK|SK)_/.test(name)) fields[name] = globalValue(raw, name);
  }
  return {
    exports: raw as unknown as KernelExports,
    layout: {
      PK_BYTES: globalValue(raw, 'PK_BYTES'),
      SK_BYTES: globalValue(raw, 'SK_BYTES'),
      WORK_SLOTS: globalValue(raw, 'WORK_SLOTS'),
      RAND_R: globalValue(raw, 'RAND_R'),
      RAND_DJN: globalValue(raw, 'RAND_DJN'),
      RAND_RN: globalValue(raw, 'RAND_RN'),
      // an older binary that a benchmark compares (`path`) may lack the join constants: 0
      JOIN_TEETH:
        path !== undefined && !(raw.JOIN_TEETH instanceof WebAssembly.Global)
          ? 0
          : globalValue(raw, 'JOIN_TEETH'),
      JOIN_BLOCKS:
        path !== undefined && !(raw.JOIN_BLOCKS instanceof WebAssembly.Global)
          ? 0
          : globalValue(raw, 'JOIN_BLOCKS'),
      fields,
    },
  };
}
