// ristretto255 (RFC 9496) over libsodium's WASM build, for the EC ElGamal join tags of
// DESIGN §3.2: the only file that imports libsodium. A batch runs inside libsodium's own
// linear memory: one allocation, inputs copied in once, a loop of raw calls, outputs copied
// out, the region zeroed and freed. Points are 32-byte canonical encodings; scalars are
// 32-byte little-endian integers in [1, L).
import { randomBytes } from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';
import { EngineMemoryError, InvalidArgumentError, InvalidKeyError, InvalidPointError } from '../errors.js';

import { POINT_BYTES, SCALAR_BYTES, WIDE_BYTES } from './sizes.js';

export { POINT_BYTES, SCALAR_BYTES, WIDE_BYTES } from './sizes.js';

/**
 * The raw exports of libsodium's Emscripten module that this file calls. The wrapper API
 * copies every argument into a fresh allocation and frees it without zeroing, so secret
 * scalars (x, alpha, r) would linger in the WASM heap; it also throws plain Errors. Raw
 * calls let a batch use one allocation that it zeroes, and report the failing index
 * (docs/DECISIONS.md, "Hashed join on ristretto255"). Every function returns 0 on success
 * and -1 when an input is not a canonical encoding or a scalar multiple is the identity.
 */
export interface SodiumModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _crypto_scalarmult_ristretto255(out: number, scalar: number, point: number): number;
  _crypto_scalarmult_ristretto255_base(out: number, scalar: number): number;
  _crypto_core_ristretto255_add(out: number, p: number, q: number): number;
  _crypto_core_ristretto255_sub(out: number, p: number, q: number): number;
  _crypto_core_ristretto255_from_hash(out: number, wide: number): number;
  _crypto_core_ristretto255_is_valid_point(point: number): number;
  _crypto_core_ristretto255_scalar_reduce(out: number, wide: number): void;
}

const REQUIRED = [
  '_malloc',
  '_free',
  '_crypto_scalarmult_ristretto255',
  '_crypto_scalarmult_ristretto255_base',
  '_crypto_core_ristretto255_add',
  '_crypto_core_ristretto255_sub',
  '_crypto_core_ristretto255_from_hash',
  '_crypto_core_ristretto255_is_valid_point',
  '_crypto_core_ristretto255_scalar_reduce',
] as const;

async function loadSodium(): Promise<SodiumModule> {
  await sodium.ready;
  // libsodium-wrappers publishes its Emscripten module as `libsodium` (not in its typings):
  // check the surface once at load, so a library update that drops it fails here.
  const raw = (sodium as unknown as { libsodium?: Record<string, unknown> }).libsodium;
  const missing = REQUIRED.filter((name) => typeof raw?.[name] !== 'function');
  if (raw === undefined || missing.length > 0 || !(raw.HEAPU8 instanceof Uint8Array)) {
    throw new Error(`libsodium-wrappers-sumo: raw module lacks ${missing.join(', ') || 'HEAPU8'}`);
  }
  return raw as unknown as SodiumModule;
}

/** Loaded once per thread (each Piscina worker gets its own instance and memory). */
export const lib: SodiumModule = await loadSodium();

/** The version of the libsodium C library inside the WASM build, for benchmark records. */
export const libsodiumVersion: string = sodium.sodium_version_string();

/**
 * Runs `body` with `bytes` of libsodium memory at address `at`, then zeroes and frees it,
 * so secrets copied in never outlive the call. Read `lib.HEAPU8` afresh inside `body`: the
 * view is replaced whenever the memory grows.
 */
export function withScratch<T>(bytes: number, body: (at: number) => T): T {
  const at = lib._malloc(Math.max(bytes, 1));
  if (at === 0) {
    throw new EngineMemoryError(
      `libsodium: cannot allocate ${(bytes / 2 ** 20).toFixed(1)} MiB for a batch`,
      {
        requestedBytes: bytes,
      },
    );
  }
  try {
    return body(at);
  } finally {
    lib.HEAPU8.fill(0, at, at + bytes);
    lib._free(at);
  }
}

/** Elements in a flat buffer of `stride`-byte elements; a ragged length is a caller bug. */
export function countOf(name: string, buffer: Uint8Array, stride: number): number {
  if (!(buffer instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${name}: expected a Uint8Array`);
  }
  if (buffer.length % stride !== 0) {
    throw new InvalidArgumentError(`${name}: expected a multiple of ${stride} bytes, got ${buffer.length}`, {
      bytes: buffer.length,
    });
  }
  return buffer.length / stride;
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ORDER = Uint8Array.from(
  Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'),
);

function isZero(bytes: Uint8Array, at: number, length: number): boolean {
  let acc = 0;
  for (let i = 0; i < length; i++) acc |= bytes[at + i];
  return acc === 0;
}

/**
 * Whether the scalar at `at` is in [1, L): the borrow of s - L over all 32 bytes, and an
 * OR of all bytes, with no branch on a byte, since the scalar may be a secret (x, alpha).
 */
function isCanonicalScalar(bytes: Uint8Array, at: number): boolean {
  let borrow = 0;
  let acc = 0;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    const b = bytes[at + i];
    borrow = ((b - ORDER[i] - borrow) >>> 8) & 1;
    acc |= b;
  }
  return (borrow & (acc === 0 ? 0 : 1)) === 1;
}

/**
 * Throws unless every 32-byte element of `scalars` lies in [1, L): a zero or unreduced
 * scalar would make libsodium fail or compute a multiple the protocol did not intend.
 * The message names the element, never its value.
 */
export function assertScalars(name: string, scalars: Uint8Array, count: number): void {
  for (let i = 0; i < count; i++) {
    if (!isCanonicalScalar(scalars, i * SCALAR_BYTES)) {
      throw new InvalidArgumentError(`${name}[${i}]: expected a scalar in [1, L), 32 bytes little-endian`, {
        index: i,
      });
    }
  }
}

/** Whether `scalar` is one scalar in [1, L): 32 bytes, little-endian. */
export function isScalar(scalar: Uint8Array): boolean {
  return scalar instanceof Uint8Array && scalar.length === SCALAR_BYTES && isCanonicalScalar(scalar, 0);
}

/** assertScalars for one scalar (alpha), named without an index. */
export function assertScalar(name: string, scalar: Uint8Array): void {
  if (!isScalar(scalar)) {
    throw new InvalidArgumentError(`${name}: expected a scalar in [1, L), 32 bytes little-endian`);
  }
}

/** A secret key x (B's EC key) must be a scalar in [1, L): else InvalidKeyError, naming only `name`. */
export function assertSecretKey(name: string, scalar: Uint8Array): void {
  if (!isScalar(scalar)) {
    throw new InvalidKeyError(`${name}: expected a scalar in [1, L), 32 bytes little-endian`);
  }
}

/** Index of the first element that is the identity or not a canonical encoding, else -1. */
function firstInvalidPoint(points: Uint8Array, count: number): number {
  return withScratch(count * POINT_BYTES, (at) => {
    lib.HEAPU8.set(points.subarray(0, count * POINT_BYTES), at);
    for (let i = 0; i < count; i++) {
      const p = at + i * POINT_BYTES;
      if (isZero(lib.HEAPU8, p, POINT_BYTES) || lib._crypto_core_ristretto255_is_valid_point(p) !== 1)
        return i;
    }
    return -1;
  });
}

/**
 * Throws InvalidPointError unless every 32-byte element of `points` is a canonical
 * ristretto255 encoding of a non-identity element. The identity's only encoding is 32
 * zero bytes (RFC 9496 §4.3.2), so that test needs no decoding.
 */
export function assertPoints(name: string, points: Uint8Array): void {
  const bad = firstInvalidPoint(points, countOf(name, points, POINT_BYTES));
  if (bad >= 0) throw invalidPoint(name, bad);
}

/** assertPoints for one point (a public key), named without an index. */
export function assertPoint(name: string, point: Uint8Array): void {
  if (!(point instanceof Uint8Array) || point.length !== POINT_BYTES) {
    throw new InvalidArgumentError(`${name}: expected a ${POINT_BYTES}-byte point encoding`);
  }
  if (firstInvalidPoint(point, 1) >= 0) throw invalidPoint(name);
}

/**
 * The error for a point: `name`, or element `index` of `name`, or one component of a
 * ciphertext ('ciphertexts[3].R'). Never the bytes themselves.
 */
export function invalidPoint(name: string, index?: number, component?: 'R' | 'C'): InvalidPointError {
  const what = `${name}${index === undefined ? '' : `[${index}]`}${component === undefined ? '' : `.${component}`}`;
  return new InvalidPointError(`${what}: not a canonical ristretto255 encoding of a non-identity element`, {
    name,
    index,
    component,
  });
}

/**
 * Throws InvalidPointError if some element's point (at byte i * stride + offset) is the
 * identity. libsodium decodes the identity as a valid point, so batches check it here and
 * leave the rest of validation to the decoding that every libsodium op does first.
 */
export function assertNoIdentity(
  name: string,
  buffer: Uint8Array,
  stride: number,
  offset: number,
  component?: 'R' | 'C',
): void {
  const count = buffer.length / stride;
  for (let i = 0; i < count; i++) {
    if (isZero(buffer, i * stride + offset, POINT_BYTES)) throw invalidPoint(name, i, component);
  }
}

/**
 * `count` uniform scalars in [1, L), 32 bytes each: 64 bytes from node:crypto per scalar,
 * reduced mod L (statistically uniform, RFC 9496 §4.4). libsodium's own RNG is never used.
 */
export function randomScalars(count: number): Uint8Array {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidArgumentError(`count: expected a non-negative integer, got ${count}`);
  }
  const wideBytes = count * WIDE_BYTES;
  return withScratch(wideBytes + count * SCALAR_BYTES, (at) => {
    const wide = randomBytes(wideBytes);
    lib.HEAPU8.set(wide, at);
    wide.fill(0);
    const out = at + wideBytes;
    for (let i = 0; i < count; i++) {
      const slot = out + i * SCALAR_BYTES;
      lib._crypto_core_ristretto255_scalar_reduce(slot, at + i * WIDE_BYTES);
      // zero after reduction has probability about 2^-252: draw that one again
      while (isZero(lib.HEAPU8, slot, SCALAR_BYTES)) {
        const again = randomBytes(WIDE_BYTES);
        lib.HEAPU8.set(again, at + i * WIDE_BYTES);
        again.fill(0);
        lib._crypto_core_ristretto255_scalar_reduce(slot, at + i * WIDE_BYTES);
      }
    }
    return lib.HEAPU8.slice(out, out + count * SCALAR_BYTES);
  });
}

/**
 * RFC 9496 §4.3.4 element derivation ("from hash") over each 64-byte element of `wide`:
 * count x 32 bytes. Every 64-byte string maps to a point, so this cannot fail.
 */
export function fromHashBatch(wide: Uint8Array): Uint8Array {
  const count = countOf('wide', wide, WIDE_BYTES);
  const outAt = count * WIDE_BYTES;
  return withScratch(outAt + count * POINT_BYTES, (at) => {
    lib.HEAPU8.set(wide, at);
    for (let i = 0; i < count; i++) {
      lib._crypto_core_ristretto255_from_hash(at + outAt + i * POINT_BYTES, at + i * WIDE_BYTES);
    }
    return lib.HEAPU8.slice(at + outAt, at + outAt + count * POINT_BYTES);
  });
}
