// The demo's options and their defaults, apart from the pipeline so the command line can
// describe and check them without loading the roles and the engine.

import type { EngineOptions } from '../engine/engine.js';
import type { RandomMode } from '../engine/tasks.js';
import { InvalidArgumentError } from '../errors.js';

export const DEMO_DEFAULT_BITS = 2048;
/**
 * Rows of each table in the nested-loop sample: 40 x 40 = 1,600 indicators per query, half
 * the rows sharing an id (20 joined rows, above B's default minimum group size of 10).
 */
export const DEMO_DEFAULT_NESTED_ROWS = 40;
/** More would take far longer than the demo's minute (each indicator costs ~5-20 ms of a core). */
export const DEMO_MAX_NESTED_ROWS = 400;
export const DEMO_DEFAULT_ENCRYPTION: RandomMode = 'djn';
/** Training rounds over the join (round 0: owners only; then B refines with DP-SGD). */
export const DEMO_DEFAULT_TRAINING_ROUNDS = 3;
export const DEMO_ENCRYPTIONS: readonly RandomMode[] = ['standard', 'djn', 'pool'];

export interface DemoOptions {
  /** Paillier key size (default 2048). */
  bits?: number;
  /** Rows of each table in the nested-loop sample; 0 skips the nested mode (default 24). */
  nestedRows?: number;
  /** Federated training rounds; 0 skips training (default 2). */
  trainingRounds?: number;
  /** Engine worker threads (default: all cores). */
  workers?: number;
  /** How encryptions make r^n (default 'djn', DESIGN §2). */
  encryption?: RandomMode;
  /** Server B's minimum group size for aggregates (default: B's policy, 10). */
  minGroupSize?: number;
  /** Ids both owners hold in the bundled split (default 250). */
  overlap?: number;
  /** No report lines and no progress bars. */
  quiet?: boolean;
  /** Where report lines go (default: stdout). */
  print?: (line: string) => void;
  /** Progress bars on stderr (default: when not quiet and stderr is a terminal). */
  progress?: boolean;
  /** Send the engine's tasks to a job queue (DESIGN §7; `demo --workers-redis`). */
  queue?: EngineOptions['queue'];
}

/** The options both drivers run with: defaults filled in, and where report lines go (none when quiet). */
export function demoSettings(options: DemoOptions) {
  return {
    bits: options.bits ?? DEMO_DEFAULT_BITS,
    nestedRows: options.nestedRows ?? DEMO_DEFAULT_NESTED_ROWS,
    trainingRounds: options.trainingRounds ?? DEMO_DEFAULT_TRAINING_ROUNDS,
    encryption: options.encryption ?? DEMO_DEFAULT_ENCRYPTION,
    out: options.quiet
      ? () => {}
      : (options.print ?? ((line: string) => void process.stdout.write(`${line}\n`))),
  };
}

function checkInteger(name: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InvalidArgumentError(`${name}: expected an integer ${range}, got ${value}`);
  }
}

/** Refuses options the demo cannot run with, before anything starts. */
export function checkDemoOptions(options: DemoOptions): void {
  checkInteger('bits', options.bits, 1024, 8192);
  if (options.bits !== undefined && options.bits % 2 !== 0) {
    throw new InvalidArgumentError(`bits: expected an even key size, got ${options.bits}`);
  }
  checkInteger('nested rows', options.nestedRows, 0, DEMO_MAX_NESTED_ROWS);
  checkInteger('workers', options.workers, 0, 256);
  checkInteger('training rounds', options.trainingRounds, 0, 20);
  checkInteger('minimum group size', options.minGroupSize, 1);
  checkInteger('overlap', options.overlap, 0, 400);
  if (options.encryption !== undefined && !DEMO_ENCRYPTIONS.includes(options.encryption)) {
    throw new InvalidArgumentError(
      `encryption: expected one of ${DEMO_ENCRYPTIONS.join(', ')}, got ${options.encryption}`,
    );
  }
}
