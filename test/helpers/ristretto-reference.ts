// The independent reference for src/ec (as the BigInt engine is for the Paillier kernels):
// @noble/curves' ristretto255, pure JS, sharing no code with libsodium. Inputs and outputs
// are the same 32-byte encodings and little-endian scalars src/ec uses.
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';

const Point = ristretto255.Point;

const scalar = (bytes: Uint8Array): bigint => bytesToNumberLE(bytes);

export const ref = {
  base: (k: Uint8Array): Uint8Array => Point.BASE.multiply(scalar(k)).toBytes(),
  mul: (k: Uint8Array, p: Uint8Array): Uint8Array => Point.fromBytes(p).multiply(scalar(k)).toBytes(),
  add: (p: Uint8Array, q: Uint8Array): Uint8Array => Point.fromBytes(p).add(Point.fromBytes(q)).toBytes(),
  sub: (p: Uint8Array, q: Uint8Array): Uint8Array =>
    Point.fromBytes(p).subtract(Point.fromBytes(q)).toBytes(),
  fromHash: (wide: Uint8Array): Uint8Array => ristretto255_hasher.deriveToCurve!(wide).toBytes(),
  /** (a * b) mod L, little-endian 32 bytes. */
  mulScalars(a: Uint8Array, b: Uint8Array): Uint8Array {
    let v = Point.Fn.create(scalar(a) * scalar(b));
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  },
};

/** Element i (of `stride` bytes) of a flat buffer. */
export function at(buffer: Uint8Array, i: number, stride = 32, offset = 0): Uint8Array {
  return buffer.subarray(i * stride + offset, i * stride + offset + 32);
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
