// The hashed join's tag T of a canonical join key (DESIGN §3.2 step 1, issue 10): 64
// bytes of HMAC-SHA256 under the owners' join secret K, mapped into ristretto255 with
// libsodium's from-hash map (RFC 9496 §4.3.4, element derivation). Only the owners know K,
// so neither A nor B can compute T for a guessed key.
//   wide = HMAC-SHA256_K(LABEL || 0x00 || key) || HMAC-SHA256_K(LABEL || 0x01 || key)
//   T    = ristretto255_from_hash(wide)
// LABEL is fixed-length, so LABEL || counter || key is unambiguous; key is the UTF-8 of
// src/data/join-key.ts canonicalKey(parts).
import { createHmac } from 'node:crypto';
import { MIN_JOIN_SECRET_BYTES } from '../data/join-key.js';
import { InvalidArgumentError } from '../errors.js';
import { fromHashBatch, WIDE_BYTES } from './ristretto.js';

/** Domain separation: these tags are for nothing else, and v2 may change the derivation. */
export const JOIN_TAG_LABEL = 'fedjoin/join-tag/v1';

const PREFIXES = [0, 1].map((counter) =>
  Buffer.concat([Buffer.from(JOIN_TAG_LABEL, 'utf8'), Buffer.of(counter)]),
);

function assertSecret(joinSecret: Uint8Array): void {
  if (!(joinSecret instanceof Uint8Array) || joinSecret.length < MIN_JOIN_SECRET_BYTES) {
    throw new InvalidArgumentError(`join secret: expected at least ${MIN_JOIN_SECRET_BYTES} bytes`);
  }
}

/** The 64 HMAC bytes the map takes for keys[i], written at `wide[64 i..64 i + 64)`. */
function expand(keys: readonly string[], i: number, joinSecret: Uint8Array, wide: Uint8Array): void {
  const key = keys[i];
  if (typeof key !== 'string') {
    throw new InvalidArgumentError(`canonicalKeys[${i}]: expected a string, got a ${typeof key}`, {
      index: i,
    });
  }
  const offset = i * WIDE_BYTES;
  for (let half = 0; half < 2; half++) {
    const digest = createHmac('sha256', joinSecret).update(PREFIXES[half]).update(key, 'utf8').digest();
    wide.set(digest, offset + half * 32);
  }
}

/**
 * The from-hash inputs of the canonical keys, in order: keys.length x 64 bytes (the
 * owner's engine maps and encrypts them in its workers, Engine.ecEncryptTags). They are
 * keyed by K and link rows across tables for whoever sees them: the caller zeroes them.
 */
export function tagHashes(canonicalKeys: readonly string[], joinSecret: Uint8Array): Uint8Array {
  assertSecret(joinSecret);
  const wide = new Uint8Array(canonicalKeys.length * WIDE_BYTES);
  try {
    for (let i = 0; i < canonicalKeys.length; i++) expand(canonicalKeys, i, joinSecret, wide);
  } catch (err) {
    wide.fill(0);
    throw err;
  }
  return wide;
}

/** T for each canonical key, in order: keys.length x 32 bytes. The HMAC outputs are zeroed. */
export function hashToGroupBatch(canonicalKeys: readonly string[], joinSecret: Uint8Array): Uint8Array {
  const wide = tagHashes(canonicalKeys, joinSecret);
  try {
    return fromHashBatch(wide);
  } finally {
    wide.fill(0);
  }
}

/** T for one canonical key: 32 bytes. */
export function hashToGroup(canonicalKey: string, joinSecret: Uint8Array): Uint8Array {
  return hashToGroupBatch([canonicalKey], joinSecret);
}
