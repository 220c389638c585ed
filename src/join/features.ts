// Feature delivery (DESIGN §4 steps 4-5, §2 "Packing"): A packs the joined rows' encrypted
// cells into blocks of rows per plaintext, or a row over as few plaintexts as fit (packing.ts),
// re-randomised by the packing, rows in a secret random order, in bounded batches; B decrypts
// one plaintext per packed ciphertext, unpacks with its own layouts and decodes with the
// registered encodings.
import type { PrivateKey } from 'paillier-bigint';
import { decodeSignedCell } from '../data/cell-codec.js';
import type { Engine } from '../engine/engine.js';
import { unpackSlots } from '../engine/slots.js';
import { interleave, type PackedBatch, toWire, unpack } from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { ColumnMeta } from '../protocol/messages.js';
import type { JoinedColumn } from './aggregates.js';
import { type FeaturePacking, featurePacking } from './packing.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation } from './shuffle.js';

/** Joined rows per feature batch sent to B, at most (a whole number of blocks). */
const FEATURE_ROWS_PER_BATCH = 512;

/**
 * §4 step 4 at A: the joined columns in shuffled order, block by block (packing.ts): slot s
 * of layout j of block b holds cells[j][s]'s column at the block's row; the last block's
 * missing rows are E(0) = 1, hidden by the packing's fresh randomness. Block-major batches.
 */
export async function sendFeatures(run: QueryRun, columns: readonly JoinedColumn[]): Promise<void> {
  const rowCount = columns[0]?.values.count ?? 0;
  const packing = featurePacking(
    run.publicKey.n,
    columns.map((c) => c.meta),
  );
  const batchRows =
    Math.max(1, Math.floor(FEATURE_ROWS_PER_BATCH / packing.rowsPerBlock)) * packing.rowsPerBlock;
  const perm = randomPermutation(rowCount);
  for (let start = 0; start < rowCount; start += batchRows) {
    const rows = perm.subarray(start, start + batchRows);
    const blocks = Math.ceil(rows.length / packing.rowsPerBlock);
    const packed: PackedBatch[] = [];
    for (const [j, layout] of packing.layouts.entries()) {
      const slots = packing.cells[j].map(({ row, column }) =>
        gatherBlocks(columns[column].values, rows, blocks, packing.rowsPerBlock, row),
      );
      packed.push(await run.engine.packEncryptedPacked(run.publicKey, slots, layout));
    }
    await run.send({
      type: 'feature-batch',
      queryId: run.queryId,
      seq: run.nextSeq(),
      columns: columns.map((c) => c.meta.name),
      rowCount: rows.length,
      ...toWire(interleave(packed), run.fingerprint),
    });
    run.onProgress?.('features', start + rows.length, rowCount);
  }
}

/** Row `row` of every block: values[rows[b r + row]], or the trivial E(0) = 1 past the batch's end. */
function gatherBlocks(
  values: PackedBatch,
  rows: Uint32Array,
  blocks: number,
  perBlock: number,
  row: number,
): PackedBatch {
  const { words } = values;
  const data = new Uint32Array(blocks * words);
  for (let b = 0; b < blocks; b++) {
    const k = b * perBlock + row;
    if (k < rows.length) data.set(values.data.subarray(rows[k] * words, (rows[k] + 1) * words), b * words);
    else data[b * words] = 1;
  }
  return { words, count: blocks, data };
}

/**
 * §4 step 5 at B: decrypts one feature batch of `rowCount` rows packed as `packing` says
 * (B's own derivation) and decodes it with `columns` (the owners' registered encodings,
 * never A's say) into `set` (made on the first batch). Any plaintext unpacks to numbers,
 * so a slot A tampered with decodes to some number, never to an error A could see.
 */
export async function decodeFeatures(
  engine: Engine,
  privateKey: PrivateKey,
  n: bigint,
  columns: readonly ColumnMeta[],
  packing: FeaturePacking,
  rowCount: number,
  values: PackedBatch,
  set: FeatureSet | undefined,
): Promise<FeatureSet> {
  const plain = unpack(await engine.decryptPacked(privateKey, values));
  const out = set ?? { columns: [...columns], rows: [] };
  const { layouts, cells, rowsPerBlock } = packing;
  for (let b = 0; b * rowsPerBlock < rowCount; b++) {
    const block = Array.from({ length: Math.min(rowsPerBlock, rowCount - b * rowsPerBlock) }, () =>
      new Array<bigint>(columns.length).fill(0n),
    );
    for (const [j, layout] of layouts.entries()) {
      unpackSlots(plain[b * layouts.length + j], layout).forEach((x, s) => {
        const { row, column } = cells[j][s];
        if (row < block.length) block[row][column] = x;
      });
    }
    for (const row of block) out.rows.push(columns.map((column, c) => decodeSignedCell(row[c], column, n)));
  }
  return out;
}
