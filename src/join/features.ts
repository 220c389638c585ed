// Feature delivery (DESIGN §4 steps 4-5, §2 "Packing"): A packs each joined row's
// encrypted cells into as few plaintexts as fit (packing.ts), re-randomised by the packing,
// rows in a secret random order, in bounded batches; B decrypts one plaintext per packed
// ciphertext, unpacks with its own layouts and decodes with the registered encodings.
import type { PrivateKey } from 'paillier-bigint';
import { decodeCell } from '../data/cell-codec.js';
import type { Engine } from '../engine/engine.js';
import { type SlotLayout, unpackSlots } from '../engine/slots.js';
import { gather, interleave, type PackedBatch, toWire, unpack } from '../protocol/batch.js';
import type { FeatureSet } from '../protocol/feature-set.js';
import type { ColumnMeta } from '../protocol/messages.js';
import type { JoinedColumn } from './aggregates.js';
import { featureLayouts } from './packing.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation } from './shuffle.js';

/** Joined rows per feature batch sent to B. */
const FEATURE_ROWS_PER_BATCH = 512;

/**
 * §4 step 4 at A: the joined columns, each row packed into featureLayouts' plaintexts
 * (row-major: row r's packed ciphertexts are r P ... r P + P - 1), shuffled, to B in batches.
 */
export async function sendFeatures(run: QueryRun, columns: readonly JoinedColumn[]): Promise<void> {
  const rowCount = columns[0]?.values.count ?? 0;
  const layouts = featureLayouts(
    run.publicKey.n,
    columns.map((c) => c.meta),
  );
  const perm = randomPermutation(rowCount);
  for (let start = 0; start < rowCount; start += FEATURE_ROWS_PER_BATCH) {
    const rows = perm.subarray(start, start + FEATURE_ROWS_PER_BATCH);
    const packed: PackedBatch[] = [];
    let first = 0;
    for (const layout of layouts) {
      const slots = columns.slice(first, first + layout.valueBits.length).map((c) => gather(c.values, rows));
      packed.push(await run.engine.packEncryptedPacked(run.publicKey, slots, layout));
      first += layout.valueBits.length;
    }
    await run.send({
      type: 'feature-batch',
      queryId: run.queryId,
      seq: run.nextSeq(),
      columns: columns.map((c) => c.meta.name),
      ...toWire(interleave(packed), run.fingerprint),
    });
    run.onProgress?.('features', start + rows.length, rowCount);
  }
}

/**
 * §4 step 5 at B: decrypts one feature batch of `layouts.length` packed ciphertexts per row
 * and decodes it with `columns` (the owners' registered encodings, never A's say) into `set`
 * (made on the first batch). Any plaintext unpacks to numbers, so a slot A tampered with
 * decodes to some number, never to an error A could see.
 */
export async function decodeFeatures(
  engine: Engine,
  privateKey: PrivateKey,
  n: bigint,
  columns: readonly ColumnMeta[],
  layouts: readonly SlotLayout[],
  values: PackedBatch,
  set: FeatureSet | undefined,
): Promise<FeatureSet> {
  const plain = unpack(await engine.decryptPacked(privateKey, values));
  const out = set ?? { columns: [...columns], rows: [] };
  for (let r = 0; r < values.count / layouts.length; r++) {
    const signed = layouts.flatMap((layout, j) => unpackSlots(plain[r * layouts.length + j], layout));
    out.rows.push(
      columns.map((column, c) => decodeCell(signed[c] < 0n ? n + signed[c] : signed[c], column, n)),
    );
  }
  return out;
}
