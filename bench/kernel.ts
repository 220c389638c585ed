// Kernel micro-benchmarks (issue 11 item 3, DESIGN §5): raw WASM calls through
// loadKernels() with no engine, pool or validation, beside plain BigInt in the same
// process, so the ratios hold on a loaded machine. Prints CPU ms per value and ratios.
// Run: npm run build && node dist/bench/kernel.js [--only core|modpow|join|zerotest] [--reps 5]
//   [--baseline other.wasm,...] [--bits 2048] [--tile 4x4] [--geometries 6x2,5x3]
import { loadavg } from 'node:os';
import { KeyContexts } from '../src/engine/key-context.js';
import { generateKeys, privateMaterial, publicMaterial } from '../src/engine/keys.js';
import { readWords, toWords, wordsFor } from '../src/engine/limbs.js';
import { Arena } from '../src/engine/memory.js';
import { modPowBig, randomBelow, randomBits } from '../src/engine/modular.js';
import { type Kernels, loadKernels } from '../src/engine/wasm.js';
import { numberArg, stringArg } from './lib/results.js';

const only = stringArg(process.argv, 'only', '');
const reps = numberArg(process.argv, 'reps', 5);

/** CPU milliseconds of one call of fn. */
function cpuOnce(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Times every row once per round, `reps` rounds after one warm-up round, so a burst of
 * load lands on all rows alike; returns each row's median CPU ms.
 */
function interleaved(rows: (() => void)[]): number[] {
  for (const fn of rows) fn();
  const samples = rows.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) rows.forEach((fn, i) => void samples[i].push(cpuOnce(fn)));
  return samples.map(median);
}

interface Build {
  label: string;
  kernels: Kernels;
  arena: Arena;
  contexts: KeyContexts;
}

async function builds(): Promise<Build[]> {
  const paths: [string, string | undefined][] = [['this build', undefined]];
  // --baseline a.wasm[,b.wasm...]: other builds, labelled by file name
  for (const path of stringArg(process.argv, 'baseline', '').split(',').filter(Boolean))
    paths.push([
      path
        .replace(/\/build\/fedjoin\.wasm$/, '')
        .replace(/^.*\//, '')
        .replace(/\.wasm$/, ''),
      path,
    ]);
  return Promise.all(
    paths.map(async ([label, path]) => {
      const kernels = await loadKernels(path);
      const arena = new Arena(kernels.exports.memory, kernels.exports.heapBase());
      return { label, kernels, arena, contexts: new KeyContexts(kernels, arena) };
    }),
  );
}

async function modPowRows(all: Build[]): Promise<void> {
  for (const [modBits, expBits, count] of [
    [4096, 2048, 2],
    [2048, 1024, 4],
  ]) {
    const modulus = randomBits(modBits) | (1n << BigInt(modBits - 1)) | 1n;
    const words = wordsFor(modulus);
    const eWords = Math.ceil(expBits / 32);
    const bases = Array.from({ length: count }, () => randomBelow(modulus));
    const es = Array.from({ length: count }, () => randomBits(expBits) | (1n << BigInt(expBits - 1)));
    const want = toWords(modPowBig(bases[0], es[0], modulus), words);
    const labels = ['BigInt'];
    const rows: (() => void)[] = [
      () => {
        for (let i = 0; i < count; i++) modPowBig(bases[i], es[i], modulus);
      },
    ];
    for (const build of all) {
      const k = build.kernels.exports;
      const { ctx, work } = build.contexts.modulus(modulus);
      const b = build.arena.alloc(count * words * 4);
      const e = build.arena.alloc(count * eWords * 4);
      const out = build.arena.alloc(count * words * 4);
      bases.forEach((x, i) => void build.arena.write(b + i * words * 4, toWords(x, words)));
      es.forEach((x, i) => void build.arena.write(e + i * eWords * 4, toWords(x, eWords)));
      for (const secret of [0, 1]) {
        k.modPowBatch(ctx, work, b, e, out, count, eWords, eWords, secret);
        if (want.some((w, i) => w !== build.arena.read(out, words)[i]))
          throw new Error(`${build.label}: modPow mismatch`);
        labels.push(`${build.label} ${secret ? 'secret' : 'public'}`);
        rows.push(() => k.modPowBatch(ctx, work, b, e, out, count, eWords, eWords, secret));
      }
    }
    const ms = interleaved(rows);
    console.log(
      `modPow ${modBits}-bit modulus, ${expBits}-bit exponent (ms per value, ratio = BigInt / row):`,
    );
    labels.forEach(
      (label, i) =>
        void console.log(
          `  ${label.padEnd(22)} ${(ms[i] / count).toFixed(2).padStart(7)}  ${(ms[0] / ms[i]).toFixed(2)}x`,
        ),
    );
  }
}

/** us per sqrCore / mulCore at each size, looped inside WASM (benchCore). */
async function coreRows(all: Build[]): Promise<void> {
  const iters = numberArg(process.argv, 'iters', 2000);
  for (const bits of [2048, 4096]) {
    const modulus = randomBits(bits) | (1n << BigInt(bits - 1)) | 1n;
    const labels: string[] = [];
    const rows: (() => void)[] = [];
    for (const build of all) {
      const k = build.kernels.exports;
      // older builds lack the loop
      if (!('benchCore' in k)) continue;
      const { ctx } = build.contexts.modulus(modulus);
      for (const kind of [0, 1]) {
        labels.push(`${build.label} ${kind ? 'mulCore' : 'sqrCore'}`);
        rows.push(() => k.benchCore(ctx, kind, iters));
      }
    }
    const ms = interleaved(rows);
    console.log(`cores at ${bits} bits (us per call):`);
    labels.forEach(
      (label, i) => void console.log(`  ${label.padEnd(22)} ${((ms[i] * 1000) / iters).toFixed(3)}`),
    );
  }
}

/**
 * The nested-loop join's kernels at `--bits` (default 2048): pairs per second of one core
 * for joinTileBatch (one constant-time modPow per pair) and joinPairsBatch (comb from row
 * tables) at several geometries, on the same rows x cols tile and rho; the row tables'
 * cost per row beside them.
 */
async function joinRows(all: Build[]): Promise<void> {
  const bits = numberArg(process.argv, 'bits', 2048);
  const [rows, cols] = stringArg(process.argv, 'tile', '4x4').split('x').map(Number);
  const geometries = stringArg(process.argv, 'geometries', '5x3,6x2,5x2,5x4,6x1,6x3,7x2,4x4')
    .split(',')
    .map((g) => g.split('x').map(Number));
  const { publicKey } = await generateKeys(bits);
  const key = publicMaterial(publicKey);
  const n2 = key.n * key.n;
  const n2Words = wordsFor(n2);
  const rhoWords = wordsFor(key.n);
  const pairs = rows * cols;
  const left = Array.from({ length: rows }, () => randomBelow(n2 - 2n) + 2n);
  const right = Array.from({ length: cols }, () => randomBelow(n2 - 2n) + 2n);
  const rho = Array.from({ length: pairs }, () => randomBelow(key.n - 1n) + 1n);
  const want = left.flatMap((a, i) => right.map((b, j) => modPowBig((a * b) % n2, rho[i * cols + j], n2)));
  const labels: string[] = [];
  const perCall: number[] = [];
  const rowsFns: (() => void)[] = [];
  const check = (build: Build, out: number, what: string) => {
    const words = build.arena.read(out, pairs * n2Words);
    want.forEach((w, i) => {
      if (readWords(words, i * n2Words, n2Words) !== w)
        throw new Error(`${build.label} ${what}: pair ${i} wrong`);
    });
  };
  const put = (build: Build, values: readonly bigint[], words: number) => {
    const ptr = build.arena.alloc(Math.max(1, values.length) * words * 4);
    values.forEach((v, i) => void build.arena.write(ptr + i * words * 4, toWords(v, words)));
    return ptr;
  };
  for (const build of all) {
    const k = build.kernels.exports;
    const pk = build.contexts.publicKey(key);
    const rhoPtr = put(build, rho, rhoWords);
    const out = build.arena.alloc(pairs * n2Words * 4);
    const l = build.arena.alloc(rows * n2Words * 4);
    const r = build.arena.alloc(cols * n2Words * 4);
    // joinTileBatch (one constant-time modPow per pair) is gone from this build: a baseline
    // build that still has it (--baseline) gets its row; it converts its inputs in place,
    // so copy them in before every call
    const legacy = (k as unknown as Partial<Record<'joinTileBatch', (...args: number[]) => number>>)
      .joinTileBatch;
    if (legacy) {
      const tile = () => {
        left.forEach((v, i) => void build.arena.write(l + i * n2Words * 4, toWords(v, n2Words)));
        right.forEach((v, i) => void build.arena.write(r + i * n2Words * 4, toWords(v, n2Words)));
        legacy(pk, l, r, rhoPtr, out, rows, cols, 1, rhoWords);
      };
      tile();
      check(build, out, 'joinTileBatch');
      labels.push(`${build.label} joinTileBatch`);
      perCall.push(pairs);
      rowsFns.push(tile);
    }
    if (!('joinPairsBatch' in k)) continue;
    for (const [teeth, blocks] of geometries) {
      const inL = put(build, left, n2Words);
      const inR = put(build, right, n2Words);
      const tableBytes = k.joinTableBytes(pk, teeth, blocks);
      const tabL = build.arena.alloc(rows * tableBytes);
      const tabR = build.arena.alloc(cols * tableBytes);
      const work = build.arena.alloc(k.joinWorkBytes(pk, teeth, blocks));
      const tables = () => {
        k.joinTablesBatch(pk, inL, tabL, rows, teeth, blocks, rhoWords);
        k.joinTablesBatch(pk, inR, tabR, cols, teeth, blocks, rhoWords);
      };
      tables();
      const run = () =>
        k.joinPairsBatch(pk, tabL, tabR, rhoPtr, out, rows, cols, teeth, blocks, rhoWords, work);
      run();
      check(build, out, `joinPairsBatch ${teeth}x${blocks}`);
      const kb = Math.round(((rows + cols) * tableBytes) / 1024 / (rows + cols));
      const wk = Math.round(k.joinWorkBytes(pk, teeth, blocks) / 1024);
      labels.push(`${build.label} pairs ${teeth}x${blocks} (${kb} KB/row, work ${wk} KB)`);
      perCall.push(pairs);
      rowsFns.push(run);
      labels.push(`${build.label} tables ${teeth}x${blocks} (per row)`);
      perCall.push(rows + cols);
      rowsFns.push(tables);
    }
  }
  const ms = interleaved(rowsFns);
  console.log(
    `join kernels, ${bits}-bit n, ${rows}x${cols} tile, one core (ms per pair or row; pairs/s; vs the first pairs row):`,
  );
  labels.forEach((label, i) => {
    const each = ms[i] / perCall[i];
    const ratio = label.includes('tables') ? '' : `  ${(ms[0] / pairs / each).toFixed(2)}x`;
    console.log(
      `  ${label.padEnd(52)} ${each.toFixed(2).padStart(8)} ms  ${(1000 / each).toFixed(1).padStart(7)}/s${ratio}`,
    );
  });
}

/** B's side of a pair: zeroTestBatch (c^(p-1) mod p^2) per ciphertext at `--bits`, each build. */
async function zeroTestRows(all: Build[]): Promise<void> {
  const bits = numberArg(process.argv, 'bits', 2048);
  const { publicKey, privateKey } = await generateKeys(bits);
  const key = privateMaterial(privateKey, publicKey);
  const n2 = key.n * key.n;
  const n2Words = wordsFor(n2);
  const count = 8;
  const cs = Array.from({ length: count }, (_, i) => publicKey.encrypt(BigInt(i % 2)));
  const labels: string[] = [];
  const rows: (() => void)[] = [];
  for (const build of all) {
    const k = build.kernels.exports;
    const sk = build.contexts.privateKey(key);
    const c = build.arena.alloc(count * n2Words * 4);
    cs.forEach((v, i) => void build.arena.write(c + i * n2Words * 4, toWords(v, n2Words)));
    const out = build.arena.alloc(count * 4);
    k.zeroTestBatch(sk, c, out, count);
    if (build.arena.read(out, count).some((z, i) => z !== (i % 2 === 0 ? 1 : 0)))
      throw new Error(`${build.label}: zero test wrong`);
    labels.push(`${build.label} zeroTestBatch`);
    rows.push(() => k.zeroTestBatch(sk, c, out, count));
  }
  const ms = interleaved(rows);
  console.log(`zero test, ${bits}-bit n, one core (ms per ciphertext):`);
  labels.forEach((label, i) => {
    console.log(
      `  ${label.padEnd(30)} ${(ms[i] / count).toFixed(2).padStart(7)}  ${(ms[0] / ms[i]).toFixed(2)}x`,
    );
  });
}

async function main(): Promise<void> {
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, reps ${reps}`,
  );
  const all = await builds();
  if (!only || only === 'core') await coreRows(all);
  if (!only || only === 'modpow') await modPowRows(all);
  if (!only || only === 'join') await joinRows(all);
  if (!only || only === 'zerotest') await zeroTestRows(all);
}

await main();
