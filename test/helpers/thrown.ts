// What a call threw, for tests that assert an error's class *and* its code (STYLE G4,
// G5: never a bare toThrow()). Both forms fail the test when nothing is thrown.
import type { FedjoinError } from '../../src/errors.js';

/** The error `fn` throws, typed for its `code` and `details` (assert its class as well). */
export function thrown(fn: () => unknown): FedjoinError {
  try {
    fn();
  } catch (err) {
    return err as FedjoinError;
  }
  throw new Error('expected a throw');
}

/** The error `run` (a promise, or a function to call) throws or rejects with. */
export async function rejection(run: Promise<unknown> | (() => unknown)): Promise<FedjoinError> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (err) {
    return err as FedjoinError;
  }
  throw new Error('expected a throw or a rejection');
}
