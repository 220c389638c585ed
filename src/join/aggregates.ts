// Aggregate answers over a join (DESIGN §4 step 7, §2 "Packing"): A sums each SUM / AVG
// column of the joined rows homomorphically and sends B only the totals, packed into as few
// plaintexts as fit (packing.ts, headroom for the join's size); B decrypts totals, never a row,
// and answers the client with its own count of the join (server-b-gate.ts). AVG = SUM / COUNT.
import { QueryError } from '../errors.js';
import { concat, interleave, type PackedBatch, slice, toWire } from '../protocol/batch.js';
import type { ColumnMeta } from '../protocol/messages.js';
import { totalLayouts } from './packing.js';
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
  const totals = await run.engine.sumRows(run.publicKey, rows, items.length);
  // B derives the same layouts from its registrations and its own count of the join
  const layouts = totalLayouts(run.publicKey.n, items.length, items[0]?.values.count ?? 0);
  const packed: PackedBatch[] = [];
  let first = 0;
  for (const layout of layouts) {
    const slots = Array.from({ length: layout.valueBits.length }, (_, i) =>
      slice(totals, first + i, first + i + 1),
    );
    packed.push(await run.engine.packEncryptedPacked(run.publicKey, slots, layout));
    first += layout.valueBits.length;
  }
  run.onProgress?.('aggregate', items.length, items.length);
  await run.send({
    type: 'aggregate-request',
    queryId: run.queryId,
    seq: run.nextSeq(),
    ...toWire(concat(packed, run.words), run.fingerprint),
  });
}
