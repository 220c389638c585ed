// The replay cache behind Idempotency-Key (issue 6): a request is applied at most once per
// (peer role, key). A retry that arrives while the first attempt still runs waits for that
// attempt's reply; one that arrives later gets the stored reply; the same key with a
// different body is refused. Finished entries expire after `ttlMs` and the oldest are
// dropped past `maxEntries`; entries still running are never dropped (that would let a
// retry apply the request twice), so the cache can exceed maxEntries by the requests in flight.
import { createHash } from 'node:crypto';

export interface StoredReply {
  status: number;
  body: Uint8Array;
}

export interface IdempotencyOptions {
  /** Most finished replies kept (default 1024). */
  maxEntries?: number;
  /** How long a finished reply is kept, ms (default 10 minutes). */
  ttlMs?: number;
}

interface Entry {
  bodyHash: string;
  reply: Promise<StoredReply>;
  /** Date.now() when finished; undefined while running. */
  finishedAt?: number;
}

export type CacheOutcome = { kind: 'fresh' | 'replayed'; reply: StoredReply } | { kind: 'conflict' };

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  readonly maxEntries: number;
  readonly ttlMs: number;
  /** Requests answered from the cache instead of being applied again. */
  replays = 0;

  constructor(options: IdempotencyOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1024;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `apply` once for (scope, key) and body; a repeat with the same body gets the same
   * reply without running it again. `apply` must not throw: it returns the reply to store.
   */
  async run(
    scope: string,
    key: string,
    body: Uint8Array,
    apply: () => Promise<StoredReply>,
  ): Promise<CacheOutcome> {
    this.expire(Date.now());
    const id = `${scope}\u0000${key}`;
    const bodyHash = createHash('sha256').update(body).digest('hex');
    const found = this.entries.get(id);
    if (found) {
      if (found.bodyHash !== bodyHash) return { kind: 'conflict' };
      this.replays++;
      return { kind: 'replayed', reply: await found.reply };
    }
    const entry: Entry = { bodyHash, reply: apply() };
    this.entries.set(id, entry);
    const reply = await entry.reply;
    entry.finishedAt = Date.now();
    this.evict();
    return { kind: 'fresh', reply };
  }

  private expire(now: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.finishedAt !== undefined && now - entry.finishedAt > this.ttlMs) this.entries.delete(id);
    }
  }

  /** Drops the oldest finished entries until at most maxEntries remain (Map keeps insertion order). */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (entry.finishedAt !== undefined) this.entries.delete(id);
    }
  }
}
