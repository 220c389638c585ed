// Aggregate answers over a join (DESIGN §4 step 7): A sums each SUM/AVG column of the
// joined rows homomorphically and sends B only the totals; B decrypts totals, never a
// row, only for groups at least the policy's minimum, and answers the client directly.
// COUNT is the group size; AVG = SUM / COUNT at the client.
import type { PrivateKey } from 'paillier-bigint';
import { decodeCell } from '../data/cell-codec.js';
import type { Cell } from '../data/table.js';
import { sumRows } from '../engine/aggregate.js';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError, QueryError } from '../errors.js';
import { interleave, type PackedBatch, toWire, unpack } from '../protocol/batch.js';
import type { ColumnMeta, MessageOf } from '../protocol/messages.js';
import type { QueryRun } from './query-run.js';

export interface JoinedColumn {
  meta: ColumnMeta;
  /** one ciphertext per joined row */
  values: PackedBatch;
}

/**
 * §4 step 7 at A: the totals of `items` (select index and joined column) over the
 * `groupSize` joined rows, all summed in the same rounds, sent to B to decrypt.
 */
export async function sendTotals(
  run: QueryRun,
  items: readonly { index: number; column: JoinedColumn }[],
  groupSize: number,
): Promise<void> {
  for (const { column } of items) {
    if (column.meta.type === 'string') {
      throw new QueryError(`SUM/AVG(${column.meta.name}): a string column cannot be summed`, {
        part: 'aggregate',
      });
    }
  }
  // row r of the join is the vector of its items' values
  const rows = interleave(
    items.map((i) => i.column.values),
    run.words,
  );
  const totals = await sumRows(run.engine, run.publicKey, rows, items.length);
  run.onProgress?.('aggregate', items.length, items.length);
  await run.send({
    type: 'aggregate-request',
    queryId: run.queryId,
    groupSize,
    items: items.map(({ index, column }) => ({ label: String(index), column: column.meta })),
    ...toWire(totals, run.fingerprint),
  });
}

/**
 * At B: the decrypted totals of an aggregate request, one per item, decoded with the
 * item's column encoding. Integer totals stay exact bigints.
 */
export async function decryptTotals(
  engine: Engine,
  privateKey: PrivateKey,
  n: bigint,
  message: MessageOf<'aggregate-request'>,
  totals: PackedBatch,
): Promise<{ label: string; value: Cell; column: string }[]> {
  if (message.items.length !== totals.count)
    throw new MalformedMessageError('aggregate-request: one total per item');
  const plain = unpack(await engine.decryptPacked(privateKey, totals));
  return message.items.map((item, k) => ({
    label: item.label,
    value: decodeCell(plain[k], item.column, n),
    column: item.column.name,
  }));
}
