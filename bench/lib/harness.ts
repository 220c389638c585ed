// Check-then-time (STYLE G6, noble's checkCases): every implementation of a case first
// runs on all ROTATION values and must return the expected (or the first impl's) result;
// only then is each one timed with tinybench, one Bench per row so that rows with
// precomputed state run a fixed number of calls. A timed call takes the next cyclic window
// of `batch` values and puts its result in the sink. Each sample records both the process
// CPU time (the statistic reported: on a shared machine it leaves out the time spent
// waiting for a core) and the wall time.
import { Bench } from 'tinybench';
import { keep } from './sink.js';
import { type BenchCase, type CaseSetup, type Columns, type Family, type Impl, ROTATION } from './types.js';

interface Phase {
  /** tinybench time budget, ms: the phase runs until this and the minimum are both met */
  time: number;
  /** minimum calls */
  iterations: number;
}

export interface Profile {
  name: 'quick' | 'full';
  /**
   * Each batch size is timed in `rounds` rounds, every impl once per round, and the
   * samples of all rounds are pooled: on a shared machine a burst of load then lands on
   * every row rather than on whichever row ran during it.
   */
  rounds: number;
  /** One impl in one round. */
  timed: Phase;
  /** Warm-up of WASM rows before their first round: V8 runs WASM in Liftoff first and
   * tiers hot functions up to TurboFan; the check call has already run each once. */
  warmWasm: Phase;
  /** Warm-up of BigInt rows before their first round. */
  warmJs: Phase;
  /** Calls per round (and warm-up calls) of rows with `prepare`, by batch size. */
  fixed(batch: number): { calls: number; warmupCalls: number };
}

export const PROFILES: Record<Profile['name'], Profile> = {
  // a smoke run, under a minute on 2 idle cores: one sample of each slow x16 row
  quick: {
    name: 'quick',
    rounds: 1,
    timed: { time: 150, iterations: 1 },
    warmWasm: { time: 100, iterations: 1 },
    warmJs: { time: 0, iterations: 0 },
    fixed: (batch) => ({ calls: Math.max(2, 16 / batch), warmupCalls: Math.max(1, 4 / batch) }),
  },
  full: {
    name: 'full',
    rounds: 3,
    timed: { time: 300, iterations: 3 },
    warmWasm: { time: 300, iterations: 2 },
    warmJs: { time: 100, iterations: 1 },
    fixed: (batch) => ({ calls: Math.max(3, 24 / batch), warmupCalls: Math.max(2, 8 / batch) }),
  },
};

export interface Measurement {
  /** 'encrypt.2048.x16' */
  id: string;
  caseId: string;
  batch: number;
  impl: string;
  family: Family;
  note?: string;
  samples: number;
  /** calls timed together in one sample (short calls are looped) */
  callsPerSample: number;
  /** CPU time of one call (one batch), ms: the reported statistic */
  p50CallMs: number;
  meanCallMs: number;
  /** relative margin of error of the CPU-time mean, % */
  rme: number;
  /** per value: call time / batch */
  p50OpMs: number;
  meanOpMs: number;
  /** values per CPU second at the p50 */
  opsPerSec: number;
  /** the same from the wall clock */
  wallP50CallMs: number;
  wallMeanCallMs: number;
  wallP50OpMs: number;
}

/** Values i, i+1, ..., i+count-1 (mod ROTATION) of every column. */
export function window<V extends Columns>(values: V, start: number, count: number): V {
  const out: Record<string, unknown[]> = {};
  for (const [name, column] of Object.entries(values)) {
    out[name] = Array.from({ length: count }, (_, j) => column[(start + j) % column.length]);
  }
  return out as unknown as V;
}

export class CheckError extends Error {
  override name = 'CheckError';
}

/**
 * Runs every impl on all ROTATION values; throws naming the impl and the index that
 * differs. Returns each impl's wall time per value in that (cold) call, a first estimate.
 */
export async function checkCase(c: BenchCase, setup: CaseSetup<Columns>): Promise<number[]> {
  for (const [name, column] of Object.entries(setup.values)) {
    if (column.length !== ROTATION)
      throw new CheckError(`${c.id}: column ${name} has ${column.length} values`);
  }
  let reference = setup.expected && { label: 'expected', values: setup.expected };
  const perValueMs: number[] = [];
  for (const impl of setup.impls) {
    await impl.prepare?.(1, ROTATION);
    const start = performance.now();
    const raw = await impl.run(setup.values);
    perValueMs.push((performance.now() - start) / ROTATION);
    impl.afterPhase?.();
    if (raw.length !== ROTATION) {
      throw new CheckError(`${c.id}: ${impl.label} returned ${raw.length} results for ${ROTATION} values`);
    }
    const got = setup.canonical ? await setup.canonical(raw) : raw;
    if (!reference) {
      reference = { label: impl.label, values: got };
      continue;
    }
    for (let i = 0; i < ROTATION; i++) {
      if (got[i] !== reference.values[i]) {
        throw new CheckError(
          `${c.id}: ${impl.label} result[${i}] (${describe(got[i])}) differs from ${reference.label} (${describe(reference.values[i])})`,
        );
      }
    }
  }
  return perValueMs;
}

function describe(x: unknown): string {
  if (typeof x === 'bigint') return x === 0n ? '0' : `a ${x.toString(2).length}-bit value`;
  return String(x);
}

/**
 * Calls shorter than this are looped inside one sample (callsPerSample), so that the CPU
 * clock's 1 us resolution and ~1.5 us read cost stay well under 1% of a sample.
 */
const SAMPLE_MS = 2;

/** Per-call times, ms, one entry per sample (a sample's time / its calls). */
interface Samples {
  cpu: number[];
  wall: number[];
}

/**
 * Times every impl of a case at one batch size, interleaved over the profile's rounds.
 * `perValueMs`: checkCase's estimates, used to size samples of rows with no warm-up.
 */
export async function measureBatch(
  c: BenchCase,
  setup: CaseSetup<Columns>,
  batch: number,
  profile: Profile,
  perValueMs: readonly number[],
): Promise<Measurement[]> {
  const inputs = Array.from({ length: ROTATION }, (_, i) => window(setup.values, i, batch));
  const states = setup.impls.map((impl, k) => ({
    calls: impl.prepare ? 1 : callsPerSample(perValueMs[k] * batch),
    first: true,
    samples: { cpu: [], wall: [] } as Samples,
  }));
  for (let round = 0; round < profile.rounds; round++) {
    for (const [k, impl] of setup.impls.entries()) {
      await timeRound(`${c.id}.x${batch}`, impl, inputs, batch, profile, states[k]);
      states[k].first = false;
    }
  }
  return setup.impls.map((impl, k) => summarize(c, impl, batch, states[k].calls, states[k].samples));
}

function callsPerSample(callMs: number): number {
  return Math.min(100_000, Math.max(1, Math.ceil(SAMPLE_MS / Math.max(callMs, 1e-4))));
}

/** One tinybench run of one impl; appends to state.samples. */
async function timeRound(
  id: string,
  impl: Impl<Columns>,
  inputs: Columns[],
  batch: number,
  profile: Profile,
  state: { calls: number; first: boolean; samples: Samples },
): Promise<void> {
  const fixed = impl.prepare && profile.fixed(batch);
  const warm = state.first ? (impl.wasm ? profile.warmWasm : profile.warmJs) : { time: 0, iterations: 0 };
  const warmupCalls = fixed ? (state.first ? fixed.warmupCalls : 0) : warm.iterations;
  const bench = new Bench({
    name: `${id} ${impl.label}`,
    time: fixed ? 0 : profile.timed.time,
    iterations: fixed ? fixed.calls : profile.timed.iterations,
    warmup: warmupCalls > 0 || (!fixed && warm.time > 0),
    warmupTime: fixed ? 0 : warm.time,
    warmupIterations: warmupCalls,
    throws: true,
  });
  let phase: 'warmup' | 'run' = 'warmup';
  const warmWall: number[] = [];
  const record = (cpuUs: number, wallMs: number, calls: number) => {
    if (phase === 'warmup') {
      warmWall.push(wallMs / calls);
      return;
    }
    state.samples.cpu.push(cpuUs / 1000 / calls);
    state.samples.wall.push(wallMs / calls);
  };
  let next = 0;
  const fn = impl.async
    ? async () => {
        const calls = phase === 'warmup' ? 1 : state.calls;
        const cpu0 = process.cpuUsage();
        const wall0 = performance.now();
        for (let j = 0; j < calls; j++) keep(await impl.run(inputs[next++ % ROTATION]));
        const wall = performance.now() - wall0;
        const cpu = process.cpuUsage(cpu0);
        record(cpu.user + cpu.system, wall, calls);
      }
    : () => {
        const calls = phase === 'warmup' ? 1 : state.calls;
        const cpu0 = process.cpuUsage();
        const wall0 = performance.now();
        for (let j = 0; j < calls; j++) keep(impl.run(inputs[next++ % ROTATION]));
        const wall = performance.now() - wall0;
        const cpu = process.cpuUsage(cpu0);
        record(cpu.user + cpu.system, wall, calls);
      };
  bench.add(impl.label, fn, {
    async: impl.async,
    beforeAll: async (mode) => {
      phase = mode ?? 'run';
      // a warmed-up row sizes its samples from its warm calls, the better estimate
      if (phase === 'run' && !fixed && warmWall.length > 0)
        state.calls = callsPerSample(quantile(sorted(warmWall), 0.5));
      if (fixed) await impl.prepare!(phase === 'warmup' ? fixed.warmupCalls : fixed.calls, batch);
    },
    afterAll: impl.afterPhase && (() => impl.afterPhase!()),
  });
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`${id} ${impl.label}: task ${result.state}`);
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function summarize(c: BenchCase, impl: Impl<Columns>, batch: number, calls: number, s: Samples): Measurement {
  const cpu = sorted(s.cpu);
  const count = cpu.length;
  const cpuMean = mean(cpu);
  const sd = count > 1 ? Math.sqrt(cpu.reduce((a, x) => a + (x - cpuMean) ** 2, 0) / (count - 1)) : 0;
  const p50 = quantile(cpu, 0.5);
  const wallP50 = quantile(sorted(s.wall), 0.5);
  return {
    id: `${c.id}.x${batch}`,
    caseId: c.id,
    batch,
    impl: impl.label,
    family: impl.family,
    note: impl.note,
    samples: count,
    callsPerSample: calls,
    p50CallMs: p50,
    meanCallMs: cpuMean,
    // 95% margin of the mean with a normal approximation, in % of the mean
    rme: count > 1 ? (100 * 1.96 * sd) / Math.sqrt(count) / cpuMean : Number.NaN,
    p50OpMs: p50 / batch,
    meanOpMs: cpuMean / batch,
    opsPerSec: (1000 * batch) / p50,
    wallP50CallMs: wallP50,
    wallMeanCallMs: mean(s.wall),
    wallP50OpMs: wallP50 / batch,
  };
}

/** Linear interpolation between closest ranks (as tinybench's p50). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
