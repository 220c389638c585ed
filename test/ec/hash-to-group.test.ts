// src/ec/hash-to-group.ts (DESIGN §3.2 step 1): T = from_hash(HMAC_K(LABEL || 0 || key) ||
// HMAC_K(LABEL || 1 || key)) over canonical join keys, recomputed here with node:crypto
// and @noble/curves' element derivation; equal keys give equal tags, others do not.
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalKey, generateJoinSecret } from '../../src/data/join-key.js';
import { hashToGroup, hashToGroupBatch, JOIN_TAG_LABEL } from '../../src/ec/hash-to-group.js';
import { assertPoints } from '../../src/ec/ristretto.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { at, hex, ref } from '../helpers/ristretto-reference.js';

/** The documented derivation, independently: node's HMAC, noble's map. */
function reference(key: string, secret: Uint8Array): string {
  const half = (counter: number) =>
    createHmac('sha256', secret)
      .update(
        Buffer.concat([Buffer.from('fedjoin/join-tag/v1'), Buffer.of(counter), Buffer.from(key, 'utf8')]),
      )
      .digest();
  return hex(ref.fromHash(Buffer.concat([half(0), half(1)])));
}

const secret = generateJoinSecret();

describe('hashToGroup', () => {
  it('matchesReference: the documented HMAC expansion and RFC 9496 map, on random Unicode keys', () => {
    expect(JOIN_TAG_LABEL).toBe('fedjoin/join-tag/v1');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        const key = canonicalKey([text]);
        expect(hex(hashToGroup(key, secret))).toBe(reference(key, secret));
      }),
      { numRuns: 40 },
    );
  });

  it('is deterministic, and separates keys, key types and secrets', () => {
    const k = canonicalKey([42n, 'Zoë']);
    const t = hex(hashToGroup(k, secret));
    expect(hex(hashToGroup(canonicalKey([42n, 'Zoe\u0308']), secret))).toBe(t); // NFC: same key
    const others = [
      hashToGroup(canonicalKey([42n, 'Zoe']), secret),
      hashToGroup(canonicalKey(['42', 'Zoë']), secret),
      hashToGroup(canonicalKey([42n]), secret),
      hashToGroup(k, generateJoinSecret()),
    ].map(hex);
    expect(new Set([t, ...others]).size).toBe(5);
  });

  it('gives valid non-identity points', () => {
    const keys = Array.from({ length: 50 }, (_, i) => canonicalKey([BigInt(i)]));
    expect(() => assertPoints('tags', hashToGroupBatch(keys, secret))).not.toThrow();
  });
});

describe('hashToGroupBatch', () => {
  it('equals one call per key, in order, for batch sizes 0, 1 and many', () => {
    expect(hashToGroupBatch([], secret)).toHaveLength(0);
    for (const count of [1, 33]) {
      const keys = Array.from({ length: count }, (_, i) => canonicalKey([`row ${i % 7}`]));
      const out = hashToGroupBatch(keys, secret);
      expect(out).toHaveLength(count * 32);
      keys.forEach((key, i) => {
        expect(hex(at(out, i)), `row ${i}`).toBe(hex(hashToGroup(key, secret)));
      });
      if (count > 7) expect(hex(at(out, 7))).toBe(hex(at(out, 0)));
    }
  });

  it('refuses a join secret under 16 bytes and a key that is not a string', () => {
    const short = (() => {
      try {
        hashToGroupBatch(['s1:a'], randomBytes(15));
      } catch (e) {
        return e as InvalidArgumentError;
      }
    })();
    expect(short).toBeInstanceOf(InvalidArgumentError);
    expect(short?.code).toBe('INVALID_ARGUMENT');
    expect(short?.message).not.toContain('s1:a');
    const notString = (() => {
      try {
        hashToGroupBatch(['s1:a', 7 as unknown as string], secret);
      } catch (e) {
        return e as InvalidArgumentError;
      }
    })();
    expect(notString).toBeInstanceOf(InvalidArgumentError);
    expect(notString?.code).toBe('INVALID_ARGUMENT');
    expect(notString?.details.index).toBe(1);
  });
});
