// ristretto255 sizes, apart from the libsodium module (which loads with a top-level await),
// so that message schemas and other light modules can name them.

export const POINT_BYTES = 32;
export const SCALAR_BYTES = 32;
/** Input of the from-hash map (RFC 9496 §4.3.4) and of scalar reduction. */
export const WIDE_BYTES = 64;
/** One ElGamal ciphertext: R (32 bytes) then C (32 bytes). */
export const CIPHERTEXT_BYTES = 2 * POINT_BYTES;

/** In the engine's u32 words: a point or scalar, a ciphertext R || C, a from-hash input. */
export const EC_POINT_WORDS = POINT_BYTES / 4;
export const EC_CIPHERTEXT_WORDS = CIPHERTEXT_BYTES / 4;
export const EC_HASH_WORDS = WIDE_BYTES / 4;
