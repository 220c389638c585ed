// Kernel micro-benchmarks (issue 11 item 3, DESIGN §5): raw WASM calls through
// loadKernels() with no engine, pool or validation, beside plain BigInt in the same
// process, so the ratios hold on a loaded machine. Prints CPU ms per value and ratios.
// Run: npm run build && node dist/bench/kernel.js [--only modpow] [--reps 5]
import { loadavg } from 'node:os';
import { KeyContexts } from '../src/engine/key-context.js';
import { toWords, wordsFor } from '../src/engine/limbs.js';
import { Arena } from '../src/engine/memory.js';
import { modPowBig, randomBelow, randomBits } from '../src/engine/modular.js';
import { type Kernels, loadKernels } from '../src/engine/wasm.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const only = arg('only', '');
const reps = Number(arg('reps', '5'));

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
  for (const path of arg('baseline', '').split(',').filter(Boolean))
    paths.push([path.replace(/^.*\//, '').replace(/\.wasm$/, ''), path]);
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
  const iters = Number(arg('iters', '2000'));
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

async function main(): Promise<void> {
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, reps ${reps}`,
  );
  const all = await builds();
  if (!only || only === 'core') await coreRows(all);
  if (!only || only === 'modpow') await modPowRows(all);
}

await main();
