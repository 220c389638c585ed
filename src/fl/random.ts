// Two kinds of randomness for the learning code. A seeded PRNG (mulberry32, T. Ettinger
// 2017) for what must be reproducible: shuffling mini-batches, the train/test split. And a
// CSPRNG (node:crypto randomBytes) for what must be unpredictable: DP-SGD's Poisson sampling
// and Gaussian noise (Box-Muller, Box & Muller 1958), whose privacy proof assumes fresh randomness.
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

/** A source of uniform numbers in [0, 1). */
export interface Rng {
  next(): number;
}

/** mulberry32: 32-bit state, period 2^32, good enough to shuffle a few thousand rows. Not for secrets. */
export function seededRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new InvalidArgumentError(`seed: expected a finite number, got ${seed}`);
  let state = Math.trunc(seed) >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An integer in [0, n) from rng. The modulo bias of floor(u n) is < n / 2^32, negligible here. */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** Fisher-Yates shuffle in place (Knuth, TAOCP vol. 2, Algorithm P). */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

const POOL_BYTES = 64 * 1024;
const TWO_POW_52 = 2 ** 52;

/**
 * Uniforms and standard normals from node:crypto. Bytes are drawn in 64 KiB pools so that a
 * DP-SGD step (one uniform per example, one normal per coordinate) is not one syscall per draw.
 */
export class SecureRandom {
  private pool = Buffer.alloc(0);
  private offset = 0;
  private spare: number | undefined;

  /**
   * Uniform in the open interval (0, 1): a 52-bit integer k, returned as (k + 1/2) / 2^52, which
   * is exact in a double (k + 1/2 < 2^52), so never 0 or 1 (Box-Muller takes a log).
   */
  uniform(): number {
    if (this.offset + 8 > this.pool.length) {
      this.pool = randomBytes(POOL_BYTES);
      this.offset = 0;
    }
    const hi = this.pool.readUInt32BE(this.offset) >>> 12; // 20 bits
    const lo = this.pool.readUInt32BE(this.offset + 4); // 32 bits
    this.offset += 8;
    return (hi * 2 ** 32 + lo + 0.5) / TWO_POW_52;
  }

  /** Standard normal by Box-Muller; the second value of each pair is kept for the next call. */
  gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
