// EC ElGamal on ristretto255 for the hashed join's tags (DESIGN §3.2, issue 10): B's key
// Y = xG; the owners' encryption (R, C) = (rG, T + rY); A's per-query blinding and
// re-randomisation (alpha R + r'G, alpha C + r'Y), whose (r'G, r'Y) may be made ahead;
// B's decryption C - xR.
// Flat buffers: points and scalars count x 32 bytes, ciphertexts count x 64 (R || C). Each
// batch is a pure function of its arguments; randomness is drawn before the call.
import { createHash } from 'node:crypto';
import { BatchLengthError } from '../errors.js';
import {
  assertNoIdentity,
  assertPoint,
  assertScalar,
  assertScalars,
  assertSecretKey,
  countOf,
  invalidPoint,
  lib,
  POINT_BYTES,
  randomScalars,
  SCALAR_BYTES,
  withScratch,
} from './ristretto.js';

import { CIPHERTEXT_BYTES } from './sizes.js';

export { CIPHERTEXT_BYTES };

export interface EcKeyPair {
  /** x in [1, L), 32 bytes little-endian; B's alone. Its holder wipes it (fill(0)) when done. */
  secretKey: Uint8Array;
  /** Y = xG, 32 bytes. */
  publicKey: Uint8Array;
  /** ecFingerprint(publicKey). */
  fingerprint: string;
}

/** SHA-256 of Y's 32-byte encoding, hex: what batches and registrations name B's EC key by. */
export function ecFingerprint(publicKey: Uint8Array): string {
  assertPoint('publicKey', publicKey);
  return createHash('sha256').update(publicKey).digest('hex');
}

/** Y = xG, e.g. to check a stored key pair. */
export function ecPublicKey(secretKey: Uint8Array): Uint8Array {
  assertSecretKey('secretKey', secretKey);
  return withScratch(2 * POINT_BYTES, (at) => {
    lib.HEAPU8.set(secretKey, at);
    expectOk(lib._crypto_scalarmult_ristretto255_base(at + POINT_BYTES, at), 'xG');
    return lib.HEAPU8.slice(at + POINT_BYTES, at + 2 * POINT_BYTES);
  });
}

/** B's EC ElGamal key: x from node:crypto (64 bytes reduced mod L), Y = xG. */
export function generateEcKey(): EcKeyPair {
  const secretKey = randomScalars(1);
  const publicKey = ecPublicKey(secretKey);
  return { secretKey, publicKey, fingerprint: ecFingerprint(publicKey) };
}

/** A libsodium status that validated inputs cannot produce: an internal bug, not bad input. */
function expectOk(status: number, what: string): void {
  if (status !== 0) throw new Error(`libsodium: ${what} failed on validated input`);
}

function sameCount(name: string, buffer: Uint8Array, stride: number, count: number, of: string): void {
  const got = countOf(name, buffer, stride);
  if (got !== count) {
    throw new BatchLengthError(`${name}: expected ${count} elements (one per ${of}), got ${got}`, {
      expected: count,
      got,
    });
  }
}

/**
 * §3.2 step 1 (owner): (R, C) = (rG, T + rY) for each point T, r the matching 32 bytes of
 * `rowScalars` (each in [1, L), e.g. from randomScalars(count)). They are one-time secrets
 * (r and C reveal T), so they are zeroed when the call returns or throws.
 * Returns count x 64 bytes.
 */
export function encryptTags(publicKey: Uint8Array, points: Uint8Array, rowScalars: Uint8Array): Uint8Array {
  let zeros: Uint8Array | undefined;
  try {
    const count = countOf('points', points, POINT_BYTES);
    sameCount('rowScalars', rowScalars, SCALAR_BYTES, count, 'point');
    assertNoIdentity('points', points, POINT_BYTES, 0);
    // (rG, rY), then C = T + rY; rY is as secret as r (with C it gives T), so it is wiped
    zeros = encryptIdentities(publicKey, rowScalars, 'rowScalars');
    const z = zeros;
    // layout: T[count] | (rG || rY)[count], C written over rY
    const zAt = count * POINT_BYTES;
    return withScratch(zAt + count * CIPHERTEXT_BYTES, (at) => {
      lib.HEAPU8.set(points, at);
      lib.HEAPU8.set(z, at + zAt);
      for (let i = 0; i < count; i++) {
        const c = at + zAt + i * CIPHERTEXT_BYTES + POINT_BYTES;
        // add decodes T first: a non-canonical T fails here
        if (lib._crypto_core_ristretto255_add(c, at + i * POINT_BYTES, c) !== 0)
          throw invalidPoint('points', i);
      }
      return lib.HEAPU8.slice(at + zAt, at + zAt + count * CIPHERTEXT_BYTES);
    });
  } finally {
    rowScalars.fill(0);
    zeros?.fill(0);
  }
}

/**
 * Encryptions of the identity under Y, (r'G, r'Y) per scalar of `scalars` (each in [1, L)):
 * A's re-randomisers for §3.2 step 2, which depend on no data, so that idle workers can make
 * them ahead of a query (src/join/rerandomizers.ts). The scalars are zeroed when the call
 * returns or throws; the result is as secret (it strips the re-randomisation of a blinded
 * tag) and is used once. Returns count x 64 bytes.
 */
export function encryptIdentities(publicKey: Uint8Array, scalars: Uint8Array, name = 'scalars'): Uint8Array {
  try {
    assertPoint('publicKey', publicKey);
    const count = countOf(name, scalars, SCALAR_BYTES);
    assertScalars(name, scalars, count);
    // layout: Y | r'[count] | out[count]
    const rAt = POINT_BYTES;
    const outAt = rAt + count * SCALAR_BYTES;
    return withScratch(outAt + count * CIPHERTEXT_BYTES, (at) => {
      lib.HEAPU8.set(publicKey, at);
      lib.HEAPU8.set(scalars, at + rAt);
      for (let i = 0; i < count; i++) {
        const r = at + rAt + i * SCALAR_BYTES;
        const out = at + outAt + i * CIPHERTEXT_BYTES;
        expectOk(lib._crypto_scalarmult_ristretto255_base(out, r), "r'G");
        expectOk(lib._crypto_scalarmult_ristretto255(out + POINT_BYTES, r, at), "r'Y");
      }
      return lib.HEAPU8.slice(at + outAt, at + outAt + count * CIPHERTEXT_BYTES);
    });
  } finally {
    scalars.fill(0);
  }
}

/**
 * §3.2 step 2 (server A): (alpha R + Z_R, alpha C + Z_C) per ciphertext (R, C), with
 * (Z_R, Z_C) the matching re-randomiser of `rerandomizers` (encryptIdentities): an
 * encryption of alpha T under fresh randomness. `alpha` is one secret scalar per query,
 * owned (and wiped at the query's end) by the caller; `rerandomizers` are one-time and
 * zeroed when the call returns or throws. Returns count x 64 bytes.
 */
export function blindWith(ciphertexts: Uint8Array, alpha: Uint8Array, rerandomizers: Uint8Array): Uint8Array {
  try {
    const count = countOf('ciphertexts', ciphertexts, CIPHERTEXT_BYTES);
    sameCount('rerandomizers', rerandomizers, CIPHERTEXT_BYTES, count, 'ciphertext');
    assertScalar('alpha', alpha);
    assertNoIdentity('ciphertexts', ciphertexts, CIPHERTEXT_BYTES, 0, 'R');
    assertNoIdentity('ciphertexts', ciphertexts, CIPHERTEXT_BYTES, POINT_BYTES, 'C');
    // layout: alpha | in[count] | Z[count] | out[count] | a temporary
    const inAt = SCALAR_BYTES;
    const zAt = inAt + count * CIPHERTEXT_BYTES;
    const outAt = zAt + count * CIPHERTEXT_BYTES;
    const tmpAt = outAt + count * CIPHERTEXT_BYTES;
    return withScratch(tmpAt + POINT_BYTES, (at) => {
      lib.HEAPU8.set(alpha, at);
      lib.HEAPU8.set(ciphertexts, at + inAt);
      lib.HEAPU8.set(rerandomizers, at + zAt);
      const t = at + tmpAt;
      for (let i = 0; i < count; i++) {
        const ct = at + inAt + i * CIPHERTEXT_BYTES;
        const z = at + zAt + i * CIPHERTEXT_BYTES;
        const out = at + outAt + i * CIPHERTEXT_BYTES;
        for (const part of [0, POINT_BYTES]) {
          // scalarmult decodes its point first; alpha != 0 and the point is not the
          // identity, so a failure can only be a non-canonical R or C
          if (lib._crypto_scalarmult_ristretto255(t, at, ct + part) !== 0) {
            throw invalidPoint('ciphertexts', i, part === 0 ? 'R' : 'C');
          }
          // add decodes Z's part: a non-canonical one fails here
          if (lib._crypto_core_ristretto255_add(out + part, t, z + part) !== 0) {
            throw invalidPoint('rerandomizers', i, part === 0 ? 'R' : 'C');
          }
        }
      }
      return lib.HEAPU8.slice(at + outAt, at + tmpAt);
    });
  } finally {
    rerandomizers.fill(0);
  }
}

/**
 * §3.2 step 2 in one call: blindWith under re-randomisers made now from `freshScalars` (r'
 * per row, one-time, zeroed when the call returns or throws), (alpha R + r'G, alpha C + r'Y).
 * Returns count x 64 bytes.
 */
export function blindAndRerandomize(
  publicKey: Uint8Array,
  ciphertexts: Uint8Array,
  alpha: Uint8Array,
  freshScalars: Uint8Array,
): Uint8Array {
  try {
    const count = countOf('ciphertexts', ciphertexts, CIPHERTEXT_BYTES);
    sameCount('freshScalars', freshScalars, SCALAR_BYTES, count, 'ciphertext');
  } catch (err) {
    freshScalars.fill(0);
    throw err;
  }
  return blindWith(ciphertexts, alpha, encryptIdentities(publicKey, freshScalars, 'freshScalars'));
}

/**
 * §3.2 step 3 (server B): C - xR per ciphertext, as 32-byte encodings; encodings are
 * canonical, so equal points are equal bytes and B can group by byte equality. `secretKey`
 * is x, owned by the caller. Returns count x 32 bytes.
 */
export function decryptPoints(secretKey: Uint8Array, ciphertexts: Uint8Array): Uint8Array {
  assertSecretKey('secretKey', secretKey);
  const count = countOf('ciphertexts', ciphertexts, CIPHERTEXT_BYTES);
  assertNoIdentity('ciphertexts', ciphertexts, CIPHERTEXT_BYTES, 0, 'R');
  assertNoIdentity('ciphertexts', ciphertexts, CIPHERTEXT_BYTES, POINT_BYTES, 'C');
  // layout: x | in[count] | out[count] | xR
  const inAt = SCALAR_BYTES;
  const outAt = inAt + count * CIPHERTEXT_BYTES;
  const xR = outAt + count * POINT_BYTES;
  return withScratch(xR + POINT_BYTES, (at) => {
    lib.HEAPU8.set(secretKey, at);
    lib.HEAPU8.set(ciphertexts, at + inAt);
    for (let i = 0; i < count; i++) {
      const R = at + inAt + i * CIPHERTEXT_BYTES;
      if (lib._crypto_scalarmult_ristretto255(at + xR, at, R) !== 0)
        throw invalidPoint('ciphertexts', i, 'R');
      if (lib._crypto_core_ristretto255_sub(at + outAt + i * POINT_BYTES, R + POINT_BYTES, at + xR) !== 0) {
        throw invalidPoint('ciphertexts', i, 'C');
      }
    }
    return lib.HEAPU8.slice(at + outAt, at + xR);
  });
}
