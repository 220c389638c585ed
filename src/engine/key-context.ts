// Per-key state inside one WASM instance: Montgomery contexts (n^2, and p^2, q^2, p, q
// for private keys), the key structs the Paillier kernels read, fixed-base tables (g for
// keys with g != n + 1, h_n for DJN), and a work area. Built once per key (n and g, and p
// for the private struct) and cached; past the cap the whole arena is reset (contexts are
// cheap to rebuild).
import { djnExponentBits, djnGenerator, type KeyMaterial } from './keys.js';
import { bitLength, readWords, toWords, wordsFor } from './limbs.js';
import type { Arena } from './memory.js';
import type { Kernels } from './wasm.js';

/** Window of the DJN table: 7 bits is 147 multiplications and 9.6 MB at 2048 bits. */
export const DJN_WINDOW = 7;
/** Window of the g table (constant-time scan, so narrower): 4 bits. */
export const G_WINDOW = 4;
const MAX_CACHED = 16;

interface KeyState {
  pk: number;
  /** the n^2 context and the key's work area, as `modulus()` gives them for raw moduli */
  n2: { ctx: number; work: number };
  /** private structs by the key's p */
  sk: Map<bigint, number>;
  djn?: boolean;
}

/** Contexts depend on n and g (the g table, hp, hq), not on n alone: two keys may share n. */
const ids = new WeakMap<KeyMaterial, string>();
function publicId(key: KeyMaterial): string {
  let id = ids.get(key);
  if (id === undefined) {
    id = `${key.fingerprint}:${key.g.toString(36)}`;
    ids.set(key, id);
  }
  return id;
}

export class KeyContexts {
  private readonly keys = new Map<string, KeyState>();
  private readonly moduli = new Map<bigint, { ctx: number; work: number }>();

  constructor(
    private readonly kernels: Kernels,
    private readonly arena: Arena,
  ) {}

  private evictIfFull(): void {
    if (this.keys.size + this.moduli.size < MAX_CACHED) return;
    this.keys.clear();
    this.moduli.clear();
    this.arena.reset();
  }

  private montgomeryContext(modulus: bigint): number {
    const words = wordsFor(modulus);
    const ctx = this.arena.alloc(this.kernels.exports.ctxSizeBytes(words));
    const n = this.words(modulus);
    this.kernels.exports.ctxInit(ctx, n, words);
    return ctx;
  }

  /** Copies x into a fresh permanent allocation of `words` words. */
  private words(x: bigint, words = wordsFor(x)): number {
    const ptr = this.arena.alloc(words * 4);
    this.arena.write(ptr, toWords(x, words));
    return ptr;
  }

  /** Context and work area for raw modPow under `modulus`. */
  modulus(modulus: bigint): { ctx: number; work: number } {
    let state = this.moduli.get(modulus);
    if (!state) {
      this.evictIfFull();
      const ctx = this.montgomeryContext(modulus);
      const work = this.arena.alloc((wordsFor(modulus) + 2) * 4);
      state = { ctx, work };
      this.moduli.set(modulus, state);
    }
    return state;
  }

  /** The public-key struct; with `djn`, its DJN table is built first if missing. */
  publicKey(key: KeyMaterial, djn = false): number {
    const id = publicId(key);
    let state = this.keys.get(id);
    if (!state) {
      this.evictIfFull();
      state = this.buildPublic(key);
      this.keys.set(id, state);
    }
    if (djn && !state.djn) {
      this.buildDjnTable(key, state);
      state.djn = true;
    }
    return state.pk;
  }

  /** Context and work area mod n^2 of a key (scalar multiply runs modPow under n^2). */
  n2Modulus(key: KeyMaterial): { ctx: number; work: number } {
    this.publicKey(key);
    return this.keys.get(publicId(key))!.n2;
  }

  /** The private-key struct (requires key.p and key.q). */
  privateKey(key: KeyMaterial): number {
    this.publicKey(key);
    const state = this.keys.get(publicId(key))!;
    // the struct depends on which prime is p (decryptModP answers mod p)
    let sk = state.sk.get(key.p!);
    if (sk === undefined) {
      sk = this.buildPrivate(key);
      state.sk.set(key.p!, sk);
    }
    return sk;
  }

  private field(struct: number, name: string, value: number): void {
    const offset = this.kernels.layout.fields[name];
    if (offset === undefined) throw new Error(`fedjoin.wasm lacks field ${name}`);
    this.arena.setField(struct, offset, value);
  }

  private workArea(n2Words: number): number {
    return this.arena.alloc(this.kernels.layout.WORK_SLOTS * (n2Words + 2) * 4);
  }

  private buildPublic(key: KeyMaterial): KeyState {
    const n2 = key.n * key.n;
    const nWords = wordsFor(key.n);
    const n2Words = wordsFor(n2);
    const n2Ctx = this.montgomeryContext(n2);
    const pk = this.arena.alloc(this.kernels.layout.PK_BYTES);
    this.field(pk, 'PK_CTX_N2', n2Ctx);
    this.field(pk, 'PK_N', this.words(key.n, nWords));
    this.field(pk, 'PK_N_WORDS', nWords);
    this.field(pk, 'PK_N2_WORDS', n2Words);
    const work = this.workArea(n2Words);
    this.field(pk, 'PK_WORK', work);
    this.field(pk, 'PK_G_TABLE', 0);
    this.field(pk, 'PK_H_TABLE', 0);
    if (key.g !== key.n + 1n) {
      const bits = bitLength(key.n);
      this.field(pk, 'PK_G_TABLE', this.fixedBaseTable(n2Ctx, n2, key.g, bits, G_WINDOW));
      this.field(pk, 'PK_G_WINDOW', G_WINDOW);
      this.field(pk, 'PK_G_BITS', bits);
    }
    return { pk, n2: { ctx: n2Ctx, work }, sk: new Map() };
  }

  private buildDjnTable(key: KeyMaterial, state: KeyState): void {
    const n2 = key.n * key.n;
    const bits = djnExponentBits(key.n);
    // h_n = h^n mod n^2, computed once per key by this instance's own kernel
    const hn = this.modPowOnce(n2, djnGenerator(key.n), key.n, false);
    this.field(state.pk, 'PK_H_TABLE', this.fixedBaseTable(state.n2.ctx, n2, hn, bits, DJN_WINDOW));
    this.field(state.pk, 'PK_H_WINDOW', DJN_WINDOW);
    this.field(state.pk, 'PK_H_BITS', bits);
  }

  /** base^e mod modulus through this instance's kernel; secret exponents take the constant-time path. */
  private modPowOnce(modulus: bigint, base: bigint, e: bigint, secret: boolean): bigint {
    const words = wordsFor(modulus);
    const eWords = wordsFor(e);
    // a temporary context above the mark: nothing cached, nothing evicted mid-build
    const mark = this.arena.mark();
    const ctx = this.montgomeryContext(modulus);
    const work = this.arena.alloc((words + 2) * 4);
    const b = this.words(base, words);
    const ep = this.words(e, eWords);
    const out = this.arena.alloc(words * 4);
    this.kernels.exports.modPowBatch(ctx, work, b, ep, out, 1, eWords, eWords, secret ? 1 : 0);
    const result = readWords(this.arena.u32(out, words), 0, words);
    this.arena.zero(mark, this.arena.mark() - mark);
    this.arena.release(mark);
    return result;
  }

  /** Allocates and fills a fixed-base table for `base` mod `modulus` (context ctx). */
  private fixedBaseTable(
    ctx: number,
    modulus: bigint,
    base: bigint,
    expBits: number,
    window: number,
  ): number {
    const words = wordsFor(modulus);
    const table = this.arena.alloc(this.kernels.exports.fixedBaseTableBytes(words, expBits, window));
    const mark = this.arena.mark();
    // the table holds Montgomery representatives: base * R mod modulus, R = 2^(32 words)
    const baseMont = this.words((base << BigInt(32 * words)) % modulus, words);
    this.kernels.exports.fixedBaseInit(ctx, table, baseMont, expBits, window);
    this.arena.release(mark);
    return table;
  }

  private buildPrivate(key: KeyMaterial): number {
    const { n, g } = key;
    const p = key.p!;
    const q = key.q!;
    const pWords = wordsFor(p);
    const qWords = wordsFor(q);
    const sk = this.arena.alloc(this.kernels.layout.SK_BYTES);
    // Secret-dependent set-up runs in the constant-time kernel: x^-1 mod prime = x^(prime-2).
    const inverseModPrime = (x: bigint, prime: bigint) => this.modPowOnce(prime, x % prime, prime - 2n, true);
    const half = (prime: bigint, words: number) => {
      const prime2 = prime * prime;
      // h = L(g^(prime-1) mod prime^2)^-1 mod prime, stored times R so one montMul applies it
      const l = (this.modPowOnce(prime2, g % prime2, prime - 1n, true) - 1n) / prime;
      const h = inverseModPrime(l, prime);
      return {
        ctx2: this.montgomeryContext(prime2),
        ctx: this.montgomeryContext(prime),
        minus1: this.words(prime - 1n, words),
        inv: this.words(inverseMod2k(prime, 32 * words), words),
        hMont: this.words((h << BigInt(32 * words)) % prime, words),
      };
    };
    const hp = half(p, pWords);
    const hq = half(q, qWords);
    this.field(sk, 'SK_CTX_P2', hp.ctx2);
    this.field(sk, 'SK_CTX_Q2', hq.ctx2);
    this.field(sk, 'SK_CTX_P', hp.ctx);
    this.field(sk, 'SK_CTX_Q', hq.ctx);
    this.field(sk, 'SK_P_MINUS_1', hp.minus1);
    this.field(sk, 'SK_Q_MINUS_1', hq.minus1);
    this.field(sk, 'SK_P_INV', hp.inv);
    this.field(sk, 'SK_Q_INV', hq.inv);
    this.field(sk, 'SK_HP_MONT', hp.hMont);
    this.field(sk, 'SK_HQ_MONT', hq.hMont);
    this.field(sk, 'SK_Q_INV_P', this.words(inverseModPrime(q, p), pWords));
    this.field(sk, 'SK_Q', this.words(q, qWords));
    this.field(sk, 'SK_P_WORDS', pWords);
    this.field(sk, 'SK_Q_WORDS', qWords);
    this.field(sk, 'SK_N_WORDS', wordsFor(n));
    this.field(sk, 'SK_N2_WORDS', wordsFor(n * n));
    this.field(sk, 'SK_WORK', this.workArea(wordsFor(n * n)));
    return sk;
  }
}

/** x^-1 mod 2^bits for odd x by Newton iteration (a fixed number of steps). */
function inverseMod2k(x: bigint, bits: number): bigint {
  const mask = (1n << BigInt(bits)) - 1n;
  let inv = x & 7n; // an odd x is its own inverse mod 8
  for (let correct = 3; correct < bits; correct *= 2) inv = (inv * (2n - x * inv)) & mask;
  return inv;
}
