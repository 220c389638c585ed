// Homomorphic sums (DESIGN §4 and the join's SUM/AVG): the product of ciphertexts mod n^2
// is E(sum of plaintexts). Rows of a row-major batch are summed coordinate-wise, pairwise
// in rounds, each round one packed `add` over every coordinate: log2(rows) engine calls
// whatever the row width, instead of one reduction per coordinate.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from './engine.js';
import type { PackedBatch } from './limbs.js';

/** The coordinate-wise homomorphic sum of the `width`-value rows of `rows` (row-major). */
export async function sumRows(
  engine: Engine,
  publicKey: PublicKey,
  rows: PackedBatch,
  width: number,
): Promise<PackedBatch> {
  const { words } = rows;
  const view = (data: Uint32Array, from: number, to: number): PackedBatch => ({
    words,
    count: (to - from) * width,
    data: data.subarray(from * width * words, to * width * words),
  });
  let level = rows;
  let count = width === 0 ? 0 : rows.count / width;
  // E(0) with r = 1 is the product's identity: 1 mod n^2
  if (count === 0) return ones(width, words);
  while (count > 1) {
    const half = Math.floor(count / 2);
    const sums = await engine.addPacked(
      publicKey,
      view(level.data, 0, half),
      view(level.data, half, 2 * half),
    );
    if (count % 2 === 0) level = sums;
    else {
      const data = new Uint32Array((half + 1) * width * words);
      data.set(sums.data);
      data.set(view(level.data, count - 1, count).data, half * width * words);
      level = { words, count: (half + 1) * width, data };
    }
    count = Math.ceil(count / 2);
  }
  return level;
}

function ones(count: number, words: number): PackedBatch {
  const data = new Uint32Array(count * words);
  for (let i = 0; i < count; i++) data[i * words] = 1;
  return { words, count, data };
}
