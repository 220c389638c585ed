// The Idempotency-Key cache on its own: bounded, expiring, scoped per peer, and never
// dropping an entry whose request is still running (that would let a retry apply twice).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyCache, type StoredReply } from '../../src/http/idempotency.js';

const body = (s: string) => new TextEncoder().encode(s);
const reply = (status: number): StoredReply => ({ status, body: body(String(status)) });

describe('IdempotencyCache', () => {
  afterEach(() => vi.useRealTimers());

  it('keeps at most maxEntries finished replies, dropping the oldest', async () => {
    const cache = new IdempotencyCache({ maxEntries: 2 });
    for (const key of ['k1', 'k2', 'k3']) await cache.run('peer', key, body(key), async () => reply(200));
    expect(cache.size).toBe(2);
    let applied = 0;
    const again = await cache.run('peer', 'k1', body('k1'), async () => {
      applied++;
      return reply(201);
    });
    expect(again.kind).toBe('fresh'); // k1 was evicted, so it runs again
    expect(applied).toBe(1);
  });

  it('never evicts a request still running', async () => {
    const cache = new IdempotencyCache({ maxEntries: 1 });
    let release!: () => void;
    const running = cache.run(
      'peer',
      'slow',
      body('x'),
      () => new Promise<StoredReply>((resolve) => (release = () => resolve(reply(200)))),
    );
    for (const key of ['a', 'b', 'c']) await cache.run('peer', key, body(key), async () => reply(200));
    let applied = 0;
    const retry = cache.run('peer', 'slow', body('x'), async () => {
      applied++;
      return reply(500);
    });
    release();
    expect((await running).kind).toBe('fresh');
    const outcome = await retry;
    expect(outcome).toMatchObject({ kind: 'replayed', reply: { status: 200 } });
    expect(applied).toBe(0);
  });

  it('expires finished replies after ttlMs', async () => {
    vi.useFakeTimers();
    const cache = new IdempotencyCache({ ttlMs: 1000 });
    await cache.run('peer', 'k', body('k'), async () => reply(200));
    vi.advanceTimersByTime(999);
    expect((await cache.run('peer', 'k', body('k'), async () => reply(201))).kind).toBe('replayed');
    vi.advanceTimersByTime(1002);
    expect((await cache.run('peer', 'k', body('k'), async () => reply(201))).kind).toBe('fresh');
  });

  it('scopes keys per peer and refuses a key reused with another body', async () => {
    const cache = new IdempotencyCache();
    await cache.run('server-a', 'k', body('x'), async () => reply(200));
    expect((await cache.run('client', 'k', body('x'), async () => reply(200))).kind).toBe('fresh');
    expect((await cache.run('server-a', 'k', body('y'), async () => reply(200))).kind).toBe('conflict');
    expect(cache.replays).toBe(0);
  });
});
