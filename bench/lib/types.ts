// The shapes a benchmark case is written in (STYLE G6): a case names one operation, the
// batch sizes it is timed at, and its implementations side by side; the harness checks
// that they agree before it times any of them. Every input column holds ROTATION values
// and a timed call takes a cyclic window of `batch` of them.
import type { Fixture } from './fixture.js';

/** Values per input column; timed calls rotate over them (fixed inputs, not one). */
export const ROTATION = 16;

/** Batch sizes every case is timed at: one value (latency), and a batch (throughput). */
export const BATCHES: readonly number[] = [1, 16];

/** Input columns of one case, each ROTATION values long (e.g. { m: bigint[] }). */
export type Columns = Record<string, readonly unknown[]>;

/** Who wrote the code a row measures; baselines are the ratio columns. */
export type Family = 'fedjoin-wasm' | 'fedjoin-bigint' | 'paillier-bigint' | 'plain-bigint' | 'gmp-wasm';
export type Baseline = 'paillier-bigint' | 'plain-bigint' | 'gmp-wasm';
export const BASELINES: readonly Baseline[] = ['paillier-bigint', 'plain-bigint', 'gmp-wasm'];

export interface Impl<V extends Columns> {
  /** Row label, unique in its case: 'fedjoin-wasm djn'. */
  label: string;
  family: Family;
  /** Runs WASM code, so it is warmed past V8's baseline (Liftoff) tier before timing. */
  wasm: boolean;
  /** run returns a Promise (awaited inside the timed region). */
  async: boolean;
  /** One result per input value, in order. */
  run(input: V): readonly unknown[] | Promise<readonly unknown[]>;
  /**
   * Work that must stay outside the timed region (the randomness pool's fill), done
   * before each phase for the number of calls it will make. An impl with `prepare` runs
   * a fixed number of calls instead of a time budget.
   */
  prepare?(calls: number, batch: number): Promise<void>;
  /** After a phase: throws if some timed call was not fully served by `prepare`. */
  afterPhase?(): void;
  /** Shown beside the row and kept in the JSON. */
  note?: string;
}

export interface CaseSetup<V extends Columns> {
  values: V;
  impls: Impl<V>[];
  /** Expected result per value, after `canonical`; without it, impls must agree. */
  expected?: readonly unknown[];
  /** Maps one impl's results to comparable values (encrypt: its decryptions). */
  canonical?(results: readonly unknown[]): Promise<readonly unknown[]> | readonly unknown[];
}

export interface BenchCase<V extends Columns = Columns> {
  /** 'encrypt.2048'; a measurement's id adds the batch: 'encrypt.2048.x16'. */
  id: string;
  /** Table heading: 'encrypt, n = 2048 bits'. */
  title: string;
  batches: readonly number[];
  /** Keys, inputs and implementations, made once for all batch sizes. */
  setup(fx: Fixture): Promise<CaseSetup<V>>;
}

/** Lets a case keep its own column types while the list holds BenchCase<Columns>. */
export function defineCase<V extends Columns>(c: BenchCase<V>): BenchCase {
  return c as unknown as BenchCase;
}
