// The precomputed randomness pool (DESIGN §2): r^n mod n^2 values made ahead of time, so
// that online encryption is one modular multiplication. Values are kept per key
// fingerprint as packed chunks, capped in count, and removed when handed out: no r^n is
// ever handed out twice.

interface Chunk {
  data: Uint32Array;
  /** index of the next unused value in the chunk */
  next: number;
  count: number;
}

export class RandomnessPool {
  private readonly chunks = new Map<string, Chunk[]>();

  /** @param capacity most values kept per key */
  constructor(readonly capacity: number) {}

  size(fingerprint: string): number {
    let total = 0;
    for (const c of this.chunks.get(fingerprint) ?? []) total += c.count - c.next;
    return total;
  }

  /** Room left for this key. */
  room(fingerprint: string): number {
    return Math.max(0, this.capacity - this.size(fingerprint));
  }

  /** Adds `count` values of `words` words; values beyond the capacity are dropped. */
  add(fingerprint: string, data: Uint32Array, words: number, count: number): void {
    const keep = Math.min(count, this.room(fingerprint));
    if (keep === 0) return;
    const list = this.chunks.get(fingerprint) ?? [];
    list.push({ data: data.slice(0, keep * words), next: 0, count: keep });
    this.chunks.set(fingerprint, list);
  }

  /**
   * Removes up to `count` values and returns them packed; fewer when the pool runs short.
   * The handed-out words are wiped from the pool's own chunk.
   */
  take(fingerprint: string, words: number, count: number): { data: Uint32Array; count: number } {
    const list = this.chunks.get(fingerprint) ?? [];
    const out = new Uint32Array(Math.min(count, this.size(fingerprint)) * words);
    let got = 0;
    while (got * words < out.length && list.length > 0) {
      const chunk = list[0];
      const n = Math.min(chunk.count - chunk.next, out.length / words - got);
      const from = chunk.next * words;
      out.set(chunk.data.subarray(from, from + n * words), got * words);
      chunk.data.fill(0, from, from + n * words);
      chunk.next += n;
      got += n;
      if (chunk.next === chunk.count) list.shift();
    }
    return { data: out, count: got };
  }

  clear(): void {
    for (const list of this.chunks.values()) for (const c of list) c.data.fill(0);
    this.chunks.clear();
  }
}
