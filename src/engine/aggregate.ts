// Homomorphic sums (DESIGN §4 and the join's SUM/AVG): the product of ciphertexts mod n^2
// is E(sum of plaintexts). Vectors are summed coordinate-wise, pairwise in rounds, each
// round one batch `add` over every coordinate: log2(count) engine calls whatever the
// vectors' length, instead of one reduction per coordinate.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from './engine.js';

/** The coordinate-wise homomorphic sum of equal-length ciphertext vectors. */
export async function sumVectors(
  engine: Engine,
  publicKey: PublicKey,
  vectors: readonly (readonly bigint[])[],
  length = vectors[0]?.length ?? 0,
): Promise<bigint[]> {
  // E(0) with r = 1 is the product's identity: 1 mod n^2
  if (vectors.length === 0 || length === 0) return new Array<bigint>(length).fill(1n);
  let level = vectors.map((v) => [...v]);
  while (level.length > 1) {
    const half = Math.floor(level.length / 2);
    const sums = await engine.add(publicKey, level.slice(0, half).flat(), level.slice(half, 2 * half).flat());
    const next = Array.from({ length: half }, (_, i) => sums.slice(i * length, (i + 1) * length));
    level = level.length % 2 === 1 ? [...next, level[level.length - 1]] : next;
  }
  return level[0];
}
