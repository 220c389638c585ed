// Packed decrypt (issue 11 items 2 and 4): the same 31 signed 64-bit values, as one 2048-bit
// plaintext of 65-bit slots (src/engine/slots.ts) or as 31 ciphertexts, decrypted under the
// same key. One "op" is a vector of 31 values, so the ratio of two rows is their ratio of
// values per second; the CRT decrypt in plain BigInt, value by value, is the baseline.
import { toSigned } from '../../src/data/fixed-point.js';
import { packSlots, planSlots, unpackSlots } from '../../src/engine/slots.js';
import { type Fixture, KEY_BITS, uniform } from '../lib/fixture.js';
import { type BenchCase, defineCase, ROTATION } from '../lib/types.js';

type Vectors = { packed: readonly bigint[]; cells: readonly (readonly bigint[])[] };

/** A vector per op, as comparable text (the harness compares results with ===). */
const text = (vectors: readonly (readonly bigint[])[]) => vectors.map((v) => v.join(','));

const decryptPacked = defineCase<Vectors>({
  id: `decryptPacked.${KEY_BITS}`,
  title: `decrypt 31 signed 64-bit values, n = ${KEY_BITS} bits: one plaintext of 65-bit slots or 31 ciphertexts (ms/op per 31 values)`,
  // a vector decrypted value by value takes 31 decryptions: x16 would take minutes in plain BigInt
  batches: [1, 4],
  async setup(fx: Fixture) {
    const { publicKey: pk, privateKey: sk } = fx.keys;
    const n = pk.n;
    const [layout] = planSlots(n, new Array<number>(31).fill(64));
    const width = layout.valueBits.length;
    const half = 1n << 63n;
    const vectors = Array.from({ length: ROTATION }, () => uniform(2n * half, width).map((x) => x - half));
    const plain = (x: bigint) => (x < 0n ? n + x : x);
    const packed = await fx.wasm.encrypt(
      pk,
      vectors.map((v) => packSlots(v, layout)),
      { mode: 'djn' },
    );
    const cells = await Promise.all(vectors.map((v) => fx.wasm.encrypt(pk, v.map(plain), { mode: 'djn' })));
    const rows = (flat: readonly bigint[]) =>
      Array.from({ length: flat.length / width }, (_, r) =>
        flat.slice(r * width, (r + 1) * width).map((x) => toSigned(x, n)),
      );
    return {
      values: { packed, cells },
      impls: [
        {
          label: 'fedjoin-wasm packed',
          family: 'fedjoin-wasm',
          wasm: true,
          async: true,
          run: async (input: Vectors) =>
            (await fx.wasm.decrypt(sk, input.packed)).map((p) => unpackSlots(p, layout)),
          note: 'one CRT decryption and unpackSlots per 31 values',
        },
        {
          label: 'fedjoin-wasm unpacked',
          family: 'fedjoin-wasm',
          wasm: true,
          async: true,
          run: async (input: Vectors) => rows(await fx.wasm.decrypt(sk, input.cells.flat())),
          note: 'one CRT decryption per value',
        },
        {
          label: 'plain-bigint',
          family: 'plain-bigint',
          wasm: false,
          async: false,
          run: (input: Vectors) => input.cells.map((v) => v.map((c) => toSigned(fx.plain.decrypt(c), n))),
          note: 'CRT in plain BigInt, one decryption per value',
        },
      ],
      expected: text(vectors),
      canonical: (results) => text(results as bigint[][]),
    };
  },
});

export const cases: BenchCase[] = [decryptPacked];
