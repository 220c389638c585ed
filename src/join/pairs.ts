// Turning B's answers into the join result at A (DESIGN §3): matching pairs (i, j) of
// left and right rows, in left-then-right row order, duplicates on both sides included,
// exactly the rows a plaintext SQL engine joins.
import { NO_GROUP } from '../protocol/messages.js';

export type Pair = readonly [left: number, right: number];

/**
 * §3.2: pairs from one group number per left row and per right row (equal group = equal
 * key); a row answered NO_GROUP matches nothing.
 */
export function pairsFromGroups(leftGroups: readonly number[], rightGroups: readonly number[]): Pair[] {
  const rightByGroup = new Map<number, number[]>();
  rightGroups.forEach((g, j) => {
    if (g === NO_GROUP) return;
    const rows = rightByGroup.get(g);
    if (rows) rows.push(j);
    else rightByGroup.set(g, [j]);
  });
  const pairs: Pair[] = [];
  leftGroups.forEach((g, i) => {
    if (g === NO_GROUP) return;
    for (const j of rightByGroup.get(g) ?? []) pairs.push([i, j]);
  });
  return pairs;
}

/**
 * §3.1: pairs from the row-major indicator bits of one tile: left rows from rowStart,
 * right rows [colStart, colStart + cols).
 */
export function pairsFromBits(
  bits: readonly boolean[],
  rowStart: number,
  colStart: number,
  cols: number,
): Pair[] {
  const pairs: Pair[] = [];
  bits.forEach((match, k) => {
    if (match) pairs.push([rowStart + Math.floor(k / cols), colStart + (k % cols)]);
  });
  return pairs;
}
