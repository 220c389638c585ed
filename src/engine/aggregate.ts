// Homomorphic sums (DESIGN §4 and the join's SUM/AVG): the product of ciphertexts mod n^2
// is E(sum of plaintexts). Rows of a row-major batch are summed coordinate-wise, pairwise
// in rounds, each round one packed `add` over every coordinate: log2(rows) engine calls
// whatever the row width, instead of one reduction per coordinate.
import { concat, type PackedBatch, repeat, slice } from './limbs.js';

/**
 * The coordinate-wise sum of the `width`-value rows of `rows` (row-major) by `add`, the
 * engine's add on batches it has already checked (Engine.sumRows): each round adds its
 * first half of rows to its second.
 */
export async function sumRowsWith(
  add: (a: PackedBatch, b: PackedBatch) => Promise<PackedBatch>,
  rows: PackedBatch,
  width: number,
): Promise<PackedBatch> {
  let count = width === 0 ? 0 : rows.count / width;
  // E(0) with r = 1 is the product's identity: 1 mod n^2
  if (count === 0) return repeat(1n, width, rows.words);
  const range = (batch: PackedBatch, from: number, to: number) => slice(batch, from * width, to * width);
  let level = rows;
  while (count > 1) {
    const half = Math.floor(count / 2);
    const sums = await add(range(level, 0, half), range(level, half, 2 * half));
    level = count % 2 === 0 ? sums : concat([sums, range(level, count - 1, count)]);
    count = Math.ceil(count / 2);
  }
  return level;
}
