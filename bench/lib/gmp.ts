// gmp-wasm (GMP compiled to WASM, the fastest WASM peer) behind bigint in, bigint out,
// so it is timed the way a caller holding BigInts would use it: convert in, mpz_powm,
// convert out. Low-level mpz calls (no Integer wrapper objects), moduli kept as
// persistent mpz values like a key context; mpz_powm, not the constant-time mpz_powm_sec.
import { type GMPFunctions, init } from 'gmp-wasm';

export class Gmp {
  private readonly moduli = new Map<bigint, number>();
  private readonly a: number;
  private readonly b: number;
  private readonly out: number;

  private constructor(private readonly g: GMPFunctions) {
    this.a = this.fresh();
    this.b = this.fresh();
    this.out = this.fresh();
  }

  static async load(): Promise<Gmp> {
    return new Gmp((await init()).binding);
  }

  /** base^e mod m. */
  powm(base: bigint, e: bigint, m: bigint): bigint {
    this.set(this.a, base);
    this.set(this.b, e);
    this.g.mpz_powm(this.out, this.a, this.b, this.modulus(m));
    return this.get(this.out);
  }

  /** a * b mod m. */
  mulmod(a: bigint, b: bigint, m: bigint): bigint {
    this.set(this.a, a);
    this.set(this.b, b);
    this.g.mpz_mul(this.out, this.a, this.b);
    this.g.mpz_mod(this.out, this.out, this.modulus(m));
    return this.get(this.out);
  }

  private modulus(m: bigint): number {
    let ptr = this.moduli.get(m);
    if (ptr === undefined) {
      ptr = this.fresh();
      this.set(ptr, m);
      this.moduli.set(m, ptr);
    }
    return ptr;
  }

  private fresh(): number {
    const ptr = this.g.mpz_t();
    this.g.mpz_init(ptr);
    return ptr;
  }

  private set(ptr: number, x: bigint): void {
    if (this.g.mpz_set_string(ptr, x.toString(16), 16) !== 0) throw new Error('gmp-wasm: mpz_set_str failed');
  }

  private get(ptr: number): bigint {
    return BigInt(`0x${this.g.mpz_to_string(ptr, 16)}`);
  }
}
