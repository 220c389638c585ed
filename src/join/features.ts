// Feature delivery (DESIGN §4 steps 4-5): A sends B the joined rows' encrypted feature
// columns, row by row in a secret random order, re-randomised so B cannot link a
// ciphertext to A's stored one, in bounded batches; B decrypts and decodes them into a
// feature set that stays at B.
import type { PrivateKey } from 'paillier-bigint';
import { decodeCell } from '../data/cell-codec.js';
import type { Engine } from '../engine/engine.js';
import { gather, interleave, type PackedBatch, toWire, unpack } from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { ColumnMeta } from '../protocol/messages.js';
import type { JoinedColumn } from './aggregates.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation } from './shuffle.js';

/** Joined rows per feature batch sent to B. */
const FEATURE_ROWS_PER_BATCH = 512;

/** §4 step 4 at A: the joined columns, row-major, re-randomised and shuffled, to B in batches. */
export async function sendFeatures(run: QueryRun, columns: readonly JoinedColumn[]): Promise<void> {
  const rowCount = columns[0]?.values.count ?? 0;
  const perm = randomPermutation(rowCount);
  for (let start = 0; start < rowCount; start += FEATURE_ROWS_PER_BATCH) {
    const rows = perm.subarray(start, start + FEATURE_ROWS_PER_BATCH);
    const batch = interleave(columns.map((c) => gather(c.values, rows)));
    const fresh = await run.engine.rerandomizePacked(run.publicKey, batch);
    await run.send({
      type: 'feature-batch',
      queryId: run.queryId,
      seq: run.nextSeq(),
      columns: columns.map((c) => c.meta.name),
      ...toWire(fresh, run.fingerprint),
    });
    run.onProgress?.('features', start + rows.length, rowCount);
  }
}

/**
 * §4 step 5 at B: decrypts one feature batch and decodes it with `columns` (the owners'
 * registered encodings, never A's say) into `set` (made on the first batch).
 */
export async function decodeFeatures(
  engine: Engine,
  privateKey: PrivateKey,
  n: bigint,
  columns: readonly ColumnMeta[],
  values: PackedBatch,
  set: FeatureSet | undefined,
): Promise<FeatureSet> {
  const width = columns.length;
  const plain = unpack(await engine.decryptPacked(privateKey, values));
  const out = set ?? { columns: [...columns], rows: [] };
  for (let r = 0; r < values.count / width; r++) {
    out.rows.push(columns.map((column, c) => decodeCell(plain[r * width + c], column, n)));
  }
  return out;
}
