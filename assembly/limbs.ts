// Multi-word integer helpers over little-endian u32 limbs (word 0 least significant).
// LIMB_BITS is the codec's contract with src/engine/limbs.ts. Every loop here runs a
// number of iterations fixed by the word counts, never by the values.

export const LIMB_BITS: i32 = 32;

@inline export function word(p: usize, i: i32): u32 {
  return load<u32>(p + (<usize>i << 2));
}
@inline export function setWord(p: usize, i: i32, v: u32): void {
  store<u32>(p + (<usize>i << 2), v);
}

/** Bits [pos, pos + width) of e (width <= 31), zero beyond the top word. */
@inline export function bitsAt(e: usize, words: i32, pos: i32, width: i32): u32 {
  const wi = pos >> 5;
  const sh = pos & 31;
  let v: u64 = wi < words ? <u64>word(e, wi) : 0;
  if (wi + 1 < words) v |= <u64>word(e, wi + 1) << 32;
  return <u32>(v >> sh) & ((<u32>1 << width) - 1);
}

/** Bit length of e (variable time: public values only). */
export function bitLength(e: usize, words: i32): i32 {
  for (let i = words - 1; i >= 0; i--) {
    const w = word(e, i);
    if (w != 0) return i * 32 + 32 - clz(w);
  }
  return 0;
}

export function copyWords(dst: usize, src: usize, words: i32): void {
  memory.copy(dst, src, <usize>words << 2);
}
export function zeroWords(dst: usize, words: i32): void {
  memory.fill(dst, 0, <usize>words << 2);
}

/** dst = a - b over `words` words; returns the borrow (0 or 1). dst may alias a or b. */
export function subWords(dst: usize, a: usize, b: usize, words: i32): u32 {
  let borrow: u64 = 0;
  for (let j = 0; j < words; j++) {
    const d = <u64>word(a, j) - <u64>word(b, j) - borrow;
    setWord(dst, j, <u32>d);
    borrow = (d >> 63) & 1;
  }
  return <u32>borrow;
}

/** dst = a + b over `words` words; returns the carry. dst may alias a or b. */
export function addWords(dst: usize, a: usize, b: usize, words: i32): u32 {
  let carry: u64 = 0;
  for (let j = 0; j < words; j++) {
    const s = <u64>word(a, j) + <u64>word(b, j) + carry;
    setWord(dst, j, <u32>s);
    carry = s >> 32;
  }
  return <u32>carry;
}

/** dst (aWords + bWords words) = a * b, schoolbook. dst must not alias a or b. */
export function mulWords(dst: usize, a: usize, aWords: i32, b: usize, bWords: i32): void {
  zeroWords(dst, aWords + bWords);
  for (let i = 0; i < bWords; i++) {
    const bi = <u64>word(b, i);
    let carry: u64 = 0;
    const row = dst + (<usize>i << 2);
    for (let j = 0; j < aWords; j++) {
      const s = <u64>word(row, j) + <u64>word(a, j) * bi + carry;
      setWord(row, j, <u32>s);
      carry = s >> 32;
    }
    setWord(row, aWords, <u32>carry);
  }
}

/** 1 if a == b over `words` words, else 0, without an early exit. */
export function equalWords(a: usize, b: usize, words: i32): u32 {
  let diff: u32 = 0;
  for (let j = 0; j < words; j++) diff |= word(a, j) ^ word(b, j);
  return <u32>(((<u64>diff) - 1) >> 63);
}

/** dst (words words) = low words of a * b: the product modulo 2^(32 words). No aliasing. */
export function mulLowWords(dst: usize, a: usize, b: usize, words: i32): void {
  zeroWords(dst, words);
  for (let i = 0; i < words; i++) {
    const bi = <u64>word(b, i);
    let carry: u64 = 0;
    const row = dst + (<usize>i << 2);
    for (let j = 0; j < words - i; j++) {
      const s = <u64>word(row, j) + <u64>word(a, j) * bi + carry;
      setWord(row, j, <u32>s);
      carry = s >> 32;
    }
  }
}

/** Adds the small value v into the multi-word dst, propagating the carry through all words. */
export function addSmall(dst: usize, v: u32, words: i32): void {
  let carry: u64 = <u64>v;
  for (let j = 0; j < words; j++) {
    const s = <u64>word(dst, j) + carry;
    setWord(dst, j, <u32>s);
    carry = s >> 32;
  }
}

/** Subtracts the small value v from dst, propagating the borrow through all words. */
export function subSmall(dst: usize, v: u32, words: i32): void {
  let borrow: u64 = <u64>v;
  for (let j = 0; j < words; j++) {
    const d = <u64>word(dst, j) - borrow;
    setWord(dst, j, <u32>d);
    borrow = (d >> 63) & 1;
  }
}
