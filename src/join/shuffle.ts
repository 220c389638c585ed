// Secret permutations (DESIGN §3): A shuffles every batch it sends to B and undoes the
// shuffle on the reply, so B's view carries no row order. Fisher-Yates over node:crypto.
import { randomInt } from 'node:crypto';

/** A uniformly random permutation of [0, size): position k of the shuffled batch holds item perm[k]. */
export function randomPermutation(size: number): Uint32Array {
  const perm = new Uint32Array(size);
  for (let i = 0; i < size; i++) perm[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/** The reply to a shuffled batch put back in the original order: out[perm[k]] = reply[k]. */
export function undoPermutation<T>(reply: ArrayLike<T>, perm: Uint32Array): T[] {
  const out = new Array<T>(perm.length);
  for (let k = 0; k < perm.length; k++) out[perm[k]] = reply[k];
  return out;
}
