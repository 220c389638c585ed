// Homomorphic sums over many ciphertexts (DESIGN §4 and the join's SUM/AVG): the product
// of all ciphertexts mod n^2 = E(sum of plaintexts), reduced pairwise with the engine's
// batch `add`, so log2(count) batch calls instead of count single ones.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from './engine.js';

export async function sumCiphertexts(
  engine: Engine,
  publicKey: PublicKey,
  ciphertexts: readonly bigint[],
): Promise<bigint> {
  // E(0) with r = 1 is the product's identity: 1 mod n^2
  if (ciphertexts.length === 0) return 1n;
  let level = [...ciphertexts];
  while (level.length > 1) {
    const half = Math.floor(level.length / 2);
    const sums = await engine.add(publicKey, level.slice(0, half), level.slice(half, 2 * half));
    level = level.length % 2 === 1 ? [...sums, level[level.length - 1]] : sums;
  }
  return level[0];
}
