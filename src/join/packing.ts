// The slot layouts of the join's packed ciphertexts (DESIGN §2 "Packing", §1.1): A packs and B
// unpacks with layouts both derive by this fixed rule from what each already holds (column
// encodings: B's from the owners' registrations, the key, the join's size), so B never takes
// a layout from A. Every numeric cell's encoded magnitude is below 2^CELL_MAGNITUDE_BITS.
import { CELL_MAGNITUDE_BITS } from '../data/cell-codec.js';
import { bitLength } from '../engine/limbs.js';
import { planSlots, type SlotLayout, slotCapacityBits, slotLayout } from '../engine/slots.js';
import { EncodingOverflowError } from '../errors.js';
import { GLOBAL_SCORE } from '../fl/refine.js';
import type { ColumnMeta } from '../protocol/messages.js';

/**
 * |E(sum_k v_k x_k)| < 2^SCORE_MAGNITUDE_BITS: A checks that its scales keep the global score
 * there (checkScoreScales) before it packs, so an oversized model fails at A, not as a carry.
 */
export const SCORE_MAGNITUDE_BITS = 160;

/** How a batch of joined rows is packed: blocks of `rowsPerBlock` rows in `layouts.length` plaintexts each. */
export interface FeaturePacking {
  rowsPerBlock: number;
  layouts: SlotLayout[];
  /** cells[j][s]: the row of the block and the column that slot s of layout j holds */
  cells: { row: number; column: number }[][];
}

/**
 * A joined row's values (features, label, A's global score, in the batch's column order),
 * one slot per cell, the score's wider. A row that fits one plaintext shares it with as many
 * further rows as fit (a block): one decryption then serves several rows; a wider row is one
 * block over as few plaintexts as fit.
 */
export function featurePacking(n: bigint, columns: readonly ColumnMeta[]): FeaturePacking {
  const bits = columns.map((c) => (c.name === GLOBAL_SCORE ? SCORE_MAGNITUDE_BITS : CELL_MAGNITUDE_BITS));
  const perRow = planSlots(n, bits);
  if (perRow.length !== 1) {
    let first = 0;
    const cells = perRow.map((layout) => {
      const slots = layout.valueBits.map((_, s) => ({ row: 0, column: first + s }));
      first += layout.valueBits.length;
      return slots;
    });
    return { rowsPerBlock: 1, layouts: perRow, cells };
  }
  const rowsPerBlock = Math.floor(slotCapacityBits(n) / perRow[0].bits);
  const layout = slotLayout(n, new Array<number[]>(rowsPerBlock).fill(bits).flat());
  const cells = layout.valueBits.map((_, s) => ({
    row: Math.floor(s / bits.length),
    column: s % bits.length,
  }));
  return { rowsPerBlock, layouts: [layout], cells: [cells] };
}

/** The packed ciphertexts of a batch of `rows` joined rows: whole blocks, the last one padded. */
export function featureCiphertexts(packing: FeaturePacking, rows: number): number {
  return Math.ceil(rows / packing.rowsPerBlock) * packing.layouts.length;
}

/** One total per SUM / AVG item, each the sum of `joined` cells: below 2^(64 + bits(joined)). */
export function totalLayouts(n: bigint, items: number, joined: number): SlotLayout[] {
  return planSlots(n, new Array<number>(items).fill(CELL_MAGNITUDE_BITS + bitLength(BigInt(joined))));
}

/**
 * The score's scales (round(|v_k| 2^(48 - F_k)), k over the features) against its slot: each
 * term is below scale_k 2^CELL_MAGNITUDE_BITS, so the sum of the scales bounds the score.
 */
export function checkScoreScales(scales: readonly bigint[]): void {
  const bits = bitLength(scales.reduce((a, s) => a + s, 0n)) + CELL_MAGNITUDE_BITS;
  if (bits > SCORE_MAGNITUDE_BITS) {
    throw new EncodingOverflowError(
      `the global model's scores could need ${bits} bits; their slot holds ${SCORE_MAGNITUDE_BITS}`,
      { bits, valueBits: SCORE_MAGNITUDE_BITS },
    );
  }
}
