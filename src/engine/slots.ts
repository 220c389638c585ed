// Slot packing (DESIGN §2 "Packing", issue 11 item 2): several signed integers (fixed-point
// plaintexts) in one Paillier plaintext. Slot i spans bits [o_i, o_i + w_i) and holds x_i + 2^v_i
// with |x_i| < 2^v_i; w_i = v_i + 1 + h, h = ceil(log2(terms)), so up to `terms` packed plaintexts
// add without a carry out of any slot, and W = sum w_i <= bits(n) - 2 keeps each sum below n/2.
import { BatchLengthError, EncodingOverflowError, InvalidArgumentError } from '../errors.js';
import { bitLength } from './limbs.js';

/**
 * Where each value of a packed plaintext lives. Slot 0 is the least significant. A value x
 * with |x| < 2^valueBits[i] is stored as x + 2^valueBits[i] (the offset makes a signed value,
 * n - |x| as a plaintext, non-negative in its slot), in widths[i] = valueBits[i] + 1 +
 * headroomBits bits starting at bit offsets[i].
 */
export interface SlotLayout {
  /** |x| < 2^valueBits[i] for every value slot i receives */
  readonly valueBits: readonly number[];
  /** bit position of each slot */
  readonly offsets: readonly number[];
  /** bits of each slot */
  readonly widths: readonly number[];
  /** how many packed plaintexts may be summed homomorphically and still unpack (1: no sums) */
  readonly terms: number;
  /** ceil(log2(terms)): the bits each slot reserves for those sums */
  readonly headroomBits: number;
  /** W: every packed plaintext, and every sum of up to `terms` of them, is below 2^W <= n/2 */
  readonly bits: number;
}

export interface SlotOptions {
  /** packed plaintexts that may be added together before unpacking; default 1 */
  terms?: number;
}

/** Bits a packed plaintext may use under n: 2^(bits(n) - 2) <= n/2, so sums never wrap or turn negative. */
export function slotCapacityBits(n: bigint): number {
  if (typeof n !== 'bigint' || n < 3n) throw new InvalidArgumentError('n: expected a bigint >= 3');
  return bitLength(n) - 2;
}

function headroomFor(terms: number): number {
  if (!Number.isSafeInteger(terms) || terms < 1) {
    throw new InvalidArgumentError(`terms: expected a positive integer, got ${terms}`);
  }
  return terms === 1 ? 0 : bitLength(BigInt(terms - 1));
}

function checkValueBits(valueBits: readonly number[]): void {
  if (!Array.isArray(valueBits)) throw new InvalidArgumentError('valueBits: expected an array of numbers');
  valueBits.forEach((v, i) => {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(`valueBits[${i}]: expected a non-negative integer, got ${v}`, {
        slot: i,
      });
    }
  });
}

function layoutOf(valueBits: readonly number[], terms: number, headroomBits: number): SlotLayout {
  const widths = valueBits.map((v) => v + 1 + headroomBits);
  const offsets: number[] = [];
  let bits = 0;
  for (const w of widths) {
    offsets.push(bits);
    bits += w;
  }
  return { valueBits: [...valueBits], offsets, widths, terms, headroomBits, bits };
}

/**
 * One plaintext's layout for values of the given magnitudes, in order. EncodingOverflowError
 * when the slots do not fit below n/2 (see planSlots to spread them over several plaintexts).
 */
export function slotLayout(n: bigint, valueBits: readonly number[], options: SlotOptions = {}): SlotLayout {
  const capacity = slotCapacityBits(n);
  checkValueBits(valueBits);
  const terms = options.terms ?? 1;
  const layout = layoutOf(valueBits, terms, headroomFor(terms));
  if (layout.bits > capacity) {
    throw new EncodingOverflowError(
      `${valueBits.length} slots need ${layout.bits} bits; a plaintext under a ${capacity + 2}-bit n holds ${capacity}`,
      { bits: layout.bits, capacity },
    );
  }
  return layout;
}

/**
 * The values, in order, spread over as few plaintexts as fit: each layout takes the next
 * values while they fit (for slots kept in order, filling each plaintext is optimal). A
 * deterministic function of its arguments, so two parties derive the same layouts.
 */
export function planSlots(n: bigint, valueBits: readonly number[], options: SlotOptions = {}): SlotLayout[] {
  const capacity = slotCapacityBits(n);
  checkValueBits(valueBits);
  const terms = options.terms ?? 1;
  const headroomBits = headroomFor(terms);
  const layouts: SlotLayout[] = [];
  let start = 0;
  let used = 0;
  for (let i = 0; i <= valueBits.length; i++) {
    const width = i < valueBits.length ? valueBits[i] + 1 + headroomBits : 0;
    if (i < valueBits.length && width > capacity) {
      throw new EncodingOverflowError(
        `valueBits[${i}]: a slot of ${width} bits does not fit a plaintext of ${capacity} bits`,
        { slot: i, bits: width, capacity },
      );
    }
    if (i === valueBits.length || used + width > capacity) {
      if (i > start) layouts.push(layoutOf(valueBits.slice(start, i), terms, headroomBits));
      start = i;
      used = 0;
    }
    used += width;
  }
  return layouts;
}

/** sum_i 2^valueBits[i] 2^offsets[i]: what packing adds to make every slot non-negative. */
export function slotBias(layout: SlotLayout): bigint {
  let bias = 0n;
  for (const [i, v] of layout.valueBits.entries()) bias += 1n << BigInt(v + layout.offsets[i]);
  return bias;
}

/**
 * The plaintext holding `values` (signed, |x_i| < 2^valueBits[i]) in `layout`: the BigInt
 * reference for Engine.packEncrypted. EncodingOverflowError names a value that does not fit.
 */
export function packSlots(values: readonly bigint[], layout: SlotLayout): bigint {
  if (!Array.isArray(values) || values.length !== layout.valueBits.length) {
    throw new BatchLengthError(
      `values: expected ${layout.valueBits.length} values for the layout's slots, got ${Array.isArray(values) ? values.length : typeof values}`,
    );
  }
  let packed = 0n;
  for (const [i, x] of values.entries()) {
    if (typeof x !== 'bigint') throw new InvalidArgumentError(`values[${i}]: expected a bigint`, { slot: i });
    const v = layout.valueBits[i];
    const magnitude = x < 0n ? -x : x;
    if (magnitude >> BigInt(v) !== 0n) {
      throw new EncodingOverflowError(
        `values[${i}]: a ${bitLength(magnitude)}-bit magnitude does not fit a slot for magnitudes below 2^${v}`,
        { slot: i, bits: bitLength(magnitude), valueBits: v },
      );
    }
    packed += (x + (1n << BigInt(v))) << BigInt(layout.offsets[i]);
  }
  return packed;
}

/**
 * The signed values of a plaintext that is the sum of `summed` packed plaintexts (default 1).
 * Any plaintext unpacks to numbers: a slot is read modulo 2^width and bits above the layout
 * are ignored, so a value tampered with becomes some other number, never an error.
 * EncodingOverflowError when `summed` passes the layout's `terms` (its headroom).
 */
export function unpackSlots(plaintext: bigint, layout: SlotLayout, summed = 1): bigint[] {
  if (typeof plaintext !== 'bigint' || plaintext < 0n) {
    throw new InvalidArgumentError('plaintext: expected a non-negative bigint');
  }
  if (!Number.isSafeInteger(summed) || summed < 1) {
    throw new InvalidArgumentError(`summed: expected a positive integer, got ${summed}`);
  }
  if (summed > layout.terms) {
    throw new EncodingOverflowError(
      `${summed} packed plaintexts summed, but the layout's headroom allows ${layout.terms}`,
      { summed, terms: layout.terms },
    );
  }
  return layout.valueBits.map((v, i) => {
    const mask = (1n << BigInt(layout.widths[i])) - 1n;
    return ((plaintext >> BigInt(layout.offsets[i])) & mask) - (BigInt(summed) << BigInt(v));
  });
}
