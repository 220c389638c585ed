// Slot packing (src/engine/slots.ts, Engine.packEncrypted; DESIGN §2 "Packing"): the layout
// and its headroom rule, packSlots / unpackSlots as the BigInt reference on edge-biased signed
// values, and the homomorphic packing on the WASM and BigInt engines checked against it
// (pack in the clear = decrypt of the packed ciphertext). Properties at 1024 bits, one at 2048.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { pack, unpack, wordsFor } from '../../src/engine/limbs.js';
import {
  packSlots,
  planSlots,
  type SlotLayout,
  slotBias,
  slotLayout,
  unpackSlots,
} from '../../src/engine/slots.js';
import { keyWords } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { BatchLengthError, EncodingOverflowError, InvalidArgumentError } from '../../src/errors.js';
import { bigIntIn, ciphertext } from '../helpers/arbitraries.js';
import { fedjoinKey, type KeyFixture, randomGKey } from '../helpers/keys.js';
import { expectBackendsAgree } from '../helpers/tasks.js';
import { rejection, thrown } from '../helpers/thrown.js';

let small: KeyFixture;
let randomG: KeyFixture;
let large: KeyFixture;
let wasm: Engine;
let reference: Engine;

beforeAll(async () => {
  [small, randomG, large] = await Promise.all([fedjoinKey(1024), randomGKey(1024), fedjoinKey(2048)]);
  wasm = await createEngine({ backend: 'wasm', workers: 0 });
  reference = await createEngine({ backend: 'bigint' });
});
afterAll(async () => {
  await wasm.close();
  await reference.close();
});

/** Signed values for `layout`: |x| < 2^v, edge-biased (0, +-1, +-(2^v - 1), limb boundaries). */
function valuesFor(layout: SlotLayout): fc.Arbitrary<bigint[]> {
  return fc.tuple(
    ...layout.valueBits.map((v) => {
      const max = (1n << BigInt(v)) - 1n;
      return fc.tuple(bigIntIn(0n, max), fc.boolean()).map(([m, negative]) => (negative ? -m : m));
    }),
  );
}

/** A signed value as a Paillier plaintext: n - |x| when negative. */
const toPlaintext = (x: bigint, n: bigint) => (x < 0n ? n + x : x);

describe('slot layout', () => {
  it('places slot i at the sum of the widths below it, each valueBits + 1 + headroom bits', () => {
    const layout = slotLayout(small.publicKey.n, [64, 0, 96], { terms: 5 });
    expect(layout.headroomBits).toBe(3);
    expect(layout.widths).toEqual([68, 4, 100]);
    expect(layout.offsets).toEqual([0, 68, 72]);
    expect(layout.bits).toBe(172);
    expect(slotBias(layout)).toBe((1n << 64n) + (1n << 68n) + (1n << (72n + 96n)));
    expect(slotLayout(small.publicKey.n, [8], { terms: 4 }).headroomBits).toBe(2);
    expect(slotLayout(small.publicKey.n, [8]).headroomBits).toBe(0);
  });

  it('fits every slot below n/2: bits(n) - 2 bits at most, an EncodingOverflowError past that', () => {
    const n = small.publicKey.n; // 1024 bits: 1022 for slots
    expect(slotLayout(n, [1021]).bits).toBe(1022);
    const err = thrown(() => slotLayout(n, [1020, 1]));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.code).toBe('ENCODING_OVERFLOW');
    expect(err.details).toMatchObject({ bits: 1023, capacity: 1022 });
    // the headroom counts: the same slot no longer fits with room for two terms
    expect(thrown(() => slotLayout(n, [1021], { terms: 2 }))).toBeInstanceOf(EncodingOverflowError);
  });

  it('planSlots fills each plaintext in order and is the same for both parties', () => {
    const n = small.publicKey.n;
    const layouts = planSlots(n, Array(20).fill(64));
    // 15 slots of 65 bits fill 975 of 1022 bits
    expect(layouts.map((l) => l.valueBits.length)).toEqual([15, 5]);
    expect(planSlots(n, Array(20).fill(64))).toEqual(layouts);
    expect(planSlots(n, [])).toEqual([]);
    expect(planSlots(n, [1000, 10, 1000]).map((l) => l.valueBits)).toEqual([[1000, 10], [1000]]);
    const err = thrown(() => planSlots(n, [10, 1022]));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.details).toMatchObject({ slot: 1 });
  });

  it.each([
    ['a negative valueBits', () => slotLayout(small.publicKey.n, [-1])],
    ['a fractional valueBits', () => planSlots(small.publicKey.n, [1.5])],
    ['zero terms', () => slotLayout(small.publicKey.n, [8], { terms: 0 })],
    ['an n below 3', () => slotLayout(1n, [8])],
  ])('%s is an InvalidArgumentError', (_what, fn) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});

describe('packSlots / unpackSlots (the BigInt reference)', () => {
  const layout = () => slotLayout(small.publicKey.n, [64, 1, 96, 0, 32, 200], { terms: 8 });

  it('unpackInvertsPack on signed values, edges included', () => {
    fc.assert(
      fc.property(valuesFor(layout()), (values) => {
        const packed = packSlots(values, layout());
        expect(packed >= 0n && packed < 1n << BigInt(layout().bits)).toBe(true);
        expect(unpackSlots(packed, layout())).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('sumsOfPackedUnpackToSums: up to `terms` packed plaintexts add slot by slot, no carry', () => {
    fc.assert(
      fc.property(fc.array(valuesFor(layout()), { minLength: 1, maxLength: 8 }), (vectors) => {
        const sum = vectors.reduce((acc, v) => acc + packSlots(v, layout()), 0n);
        const expected = layout().valueBits.map((_, i) => vectors.reduce((acc, v) => acc + v[i], 0n));
        expect(sum < small.publicKey.n / 2n).toBe(true);
        expect(unpackSlots(sum, layout(), vectors.length)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('a value past its slot is an EncodingOverflowError naming the slot, never a carry', () => {
    const l = slotLayout(small.publicKey.n, [8, 8]);
    for (const x of [256n, -256n, 1n << 100n]) {
      const err = thrown(() => packSlots([0n, x], l));
      expect(err).toBeInstanceOf(EncodingOverflowError);
      expect(err.code).toBe('ENCODING_OVERFLOW');
      expect(err.details).toMatchObject({ slot: 1, valueBits: 8 });
    }
    expect(unpackSlots(packSlots([255n, -255n], l), l)).toEqual([255n, -255n]);
  });

  it('more sums than the headroom allows is an EncodingOverflowError', () => {
    const err = thrown(() => unpackSlots(0n, layout(), 9));
    expect(err).toBeInstanceOf(EncodingOverflowError);
    expect(err.details).toMatchObject({ summed: 9, terms: 8 });
  });

  it('the wrong number of values is a BatchLengthError', () => {
    const err = thrown(() => packSlots([1n], layout()));
    expect(err).toBeInstanceOf(BatchLengthError);
    expect(err.code).toBe('BATCH_LENGTH');
  });

  it('anyPlaintextUnpacks: a tampered plaintext in [0, n) decodes to numbers in each slot range', () => {
    const n = small.publicKey.n;
    fc.assert(
      fc.property(bigIntIn(0n, n - 1n), (x) => {
        const values = unpackSlots(x, layout());
        values.forEach((v, i) => {
          const bias = 1n << BigInt(layout().valueBits[i]);
          expect(v >= -bias && v < (1n << BigInt(layout().widths[i])) - bias).toBe(true);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('the packSlots kernel (assembly/slots.ts) against its BigInt formula', () => {
  it('hornerMatchesReference: rows of arbitrary ciphertexts, 1 to 6 slots, widths 0 to 200 bits', async () => {
    const wasmBackend = await WasmBackend.create();
    const ref = new BigintBackend();
    for (const key of [small, randomG]) {
      const n = key.publicKey.n;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }).chain((slots) =>
            fc.tuple(
              fc.array(fc.array(ciphertext(n), { minLength: slots, maxLength: slots }), {
                minLength: 1,
                maxLength: 3,
              }),
              fc.array(fc.integer({ min: 0, max: 200 }), { minLength: slots - 1, maxLength: slots - 1 }),
            ),
          ),
          ([rows, widths]) => {
            const task = {
              op: 'packSlots',
              key: key.pub,
              count: rows.length,
              input: pack(rows.flat(), keyWords(key.pub).n2).data,
              slots: rows[0].length,
              widths: Uint32Array.from(widths),
            } as const;
            expectBackendsAgree(`packSlots ${key.label}`, wasmBackend, ref, task);
          },
        ),
        { numRuns: 20 },
      );
    }
  });
});

describe('Engine.packEncrypted against the BigInt reference', () => {
  const cases = () =>
    [
      ['wasm', wasm, small],
      ['wasm, random g', wasm, randomG],
      ['bigint', reference, small],
    ] as const;

  it('decryptOfPackedEqualsPackInTheClear, rows of signed values (1024 bits)', async () => {
    for (const [name, engine, key] of cases()) {
      const n = key.publicKey.n;
      const layout = slotLayout(n, [64, 0, 96, 33]);
      const rows = fc.sample(valuesFor(layout), 6);
      const encrypted = await Promise.all(
        rows.map((row) =>
          engine.encrypt(
            key.publicKey,
            row.map((x) => toPlaintext(x, n)),
            { mode: 'djn' },
          ),
        ),
      );
      const packed = await engine.packEncrypted(key.publicKey, encrypted, layout);
      expect(packed, name).toHaveLength(rows.length);
      const plain = await engine.decrypt(key.privateKey, packed);
      expect(plain, name).toEqual(rows.map((row) => packSlots(row, layout)));
      expect(
        plain.map((p) => unpackSlots(p, layout)),
        name,
      ).toEqual(rows);
    }
  });

  it('re-randomises: packing the same row twice gives different ciphertexts of the same plaintext', async () => {
    const n = small.publicKey.n;
    const layout = slotLayout(n, [16, 16]);
    const row = await wasm.encrypt(small.publicKey, [5n, n - 7n]);
    const [a, b] = await Promise.all([
      wasm.packEncrypted(small.publicKey, [row], layout),
      wasm.packEncrypted(small.publicKey, [row], layout, { mode: 'standard' }),
    ]);
    expect(a[0]).not.toBe(b[0]);
    const plain = await wasm.decrypt(small.privateKey, [a[0], b[0]]);
    expect(plain.map((p) => unpackSlots(p, layout))).toEqual([
      [5n, -7n],
      [5n, -7n],
    ]);
  });

  it('packed ciphertexts add homomorphically within the headroom (terms = 4)', async () => {
    const n = small.publicKey.n;
    const layout = slotLayout(n, [40, 40, 40], { terms: 4 });
    const rows = [
      [1n, -2n, (1n << 40n) - 1n],
      [-(1n << 40n) + 1n, 3n, (1n << 40n) - 1n],
      [0n, -5n, (1n << 40n) - 1n],
    ];
    const encrypted = await Promise.all(
      rows.map((row) =>
        wasm.encrypt(
          small.publicKey,
          row.map((x) => toPlaintext(x, n)),
        ),
      ),
    );
    const packed = await wasm.packEncrypted(small.publicKey, encrypted, layout);
    const sum = await wasm.add(small.publicKey, await wasm.add(small.publicKey, [packed[0]], [packed[1]]), [
      packed[2],
    ]);
    const [plain] = await wasm.decrypt(small.privateKey, sum);
    expect(unpackSlots(plain, layout, 3)).toEqual([-(1n << 40n) + 2n, -4n, 3n * ((1n << 40n) - 1n)]);
  });

  it('a full 2048-bit plaintext: 31 slots of 65 bits, slot-major packed form', async () => {
    const n = large.publicKey.n;
    const [layout] = planSlots(n, Array(31).fill(64));
    expect(layout.valueBits).toHaveLength(31);
    const rows = fc.sample(valuesFor(layout), 3);
    const words = wordsFor(n);
    const slots = await Promise.all(
      layout.valueBits.map((_, i) =>
        wasm.encryptPacked(
          large.publicKey,
          pack(
            rows.map((row) => toPlaintext(row[i], n)),
            words,
          ),
          { mode: 'djn' },
        ),
      ),
    );
    const packed = await wasm.packEncryptedPacked(large.publicKey, slots, layout);
    expect(packed.count).toBe(3);
    const plain = unpack(await wasm.decryptPacked(large.privateKey, packed));
    expect(plain).toEqual(rows.map((row) => packSlots(row, layout)));
  });

  it('no rows pack to none', async () => {
    const layout = slotLayout(small.publicKey.n, [8]);
    expect(await wasm.packEncrypted(small.publicKey, [], layout)).toEqual([]);
  });

  it.each([
    [
      'a layout made for a larger key',
      () => wasm.packEncrypted(small.publicKey, [[2n]], slotLayout(large.publicKey.n, [1500])),
      EncodingOverflowError,
      'ENCODING_OVERFLOW',
    ],
    [
      'a row with the wrong number of slots',
      () => wasm.packEncrypted(small.publicKey, [[2n, 2n]], slotLayout(small.publicKey.n, [8])),
      BatchLengthError,
      'BATCH_LENGTH',
    ],
    [
      'slot batches of different lengths',
      async () => {
        const words = wordsFor(small.publicKey.n);
        const one = await wasm.encryptPacked(small.publicKey, pack([1n], words));
        const two = await wasm.encryptPacked(small.publicKey, pack([1n, 2n], words));
        return wasm.packEncryptedPacked(small.publicKey, [one, two], slotLayout(small.publicKey.n, [8, 8]));
      },
      BatchLengthError,
      'BATCH_LENGTH',
    ],
    [
      'a layout with no slots',
      () => wasm.packEncrypted(small.publicKey, [[]], slotLayout(small.publicKey.n, [])),
      InvalidArgumentError,
      'INVALID_ARGUMENT',
    ],
  ])('%s is refused (class and code)', async (_what, run, type, code) => {
    const err = await rejection(run);
    expect(err).toBeInstanceOf(type);
    expect(err.code).toBe(code);
  });
});
