// Aggregate answers over a join (DESIGN §4 step 7): A sums each SUM / AVG column of the
// joined rows homomorphically and sends B only the totals, one per item in select order;
// B decrypts totals, never a row, and answers the client directly with its own count of
// the join (server-b-gate.ts). AVG = SUM / COUNT at the client.
import { sumRows } from '../engine/aggregate.js';
import { QueryError } from '../errors.js';
import { interleave, type PackedBatch, toWire } from '../protocol/batch.js';
import type { ColumnMeta } from '../protocol/messages.js';
import type { QueryRun } from './query-run.js';

export interface JoinedColumn {
  meta: ColumnMeta;
  /** one ciphertext per joined row */
  values: PackedBatch;
}

/** §4 step 7 at A: the totals of `items` over the joined rows, summed in the same rounds, to B. */
export async function sendTotals(run: QueryRun, items: readonly JoinedColumn[]): Promise<void> {
  for (const column of items) {
    if (column.meta.type === 'string') {
      throw new QueryError(`SUM/AVG(${column.meta.name}): a string column cannot be summed`, {
        part: 'aggregate',
      });
    }
  }
  // row r of the join is the vector of its items' values
  const rows = interleave(
    items.map((c) => c.values),
    run.words,
  );
  const totals = await sumRows(run.engine, run.publicKey, rows, items.length);
  run.onProgress?.('aggregate', items.length, items.length);
  await run.send({
    type: 'aggregate-request',
    queryId: run.queryId,
    seq: run.nextSeq(),
    ...toWire(totals, run.fingerprint),
  });
}
