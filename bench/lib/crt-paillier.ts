// Paillier with the same formulas as fedjoin's kernels (DESIGN §2: g = n + 1 encryption,
// CRT decryption, zero test c^(p-1) mod p^2 = 1), over a pluggable modPow: plain BigInt
// (modPowBig) for the "plain BigInt" rows, GMP for the gmp-wasm rows. So those rows
// differ from fedjoin-wasm only in the arithmetic underneath.

import { modInverse, modPowBig, randomBelow } from '../../src/engine/modular.js';
import type { KeyPair } from '../../src/index.js';

export interface Arithmetic {
  powm(base: bigint, e: bigint, m: bigint): bigint;
  mulmod(a: bigint, b: bigint, m: bigint): bigint;
}

/** fedjoin's BigInt reference modPow (left-to-right square-and-multiply). */
export const plainArithmetic: Arithmetic = {
  powm: modPowBig,
  mulmod: (a, b, m) => (a * b) % m,
};

export class CrtPaillier {
  private readonly n: bigint;
  private readonly n2: bigint;
  private readonly p: bigint;
  private readonly q: bigint;
  private readonly p2: bigint;
  private readonly q2: bigint;
  private readonly hp: bigint;
  private readonly hq: bigint;
  private readonly qInvP: bigint;

  constructor(
    keys: KeyPair,
    private readonly arith: Arithmetic,
  ) {
    const hidden = keys.privateKey as unknown as { _p?: bigint; _q?: bigint };
    if (hidden._p === undefined || hidden._q === undefined) throw new Error('CrtPaillier needs p and q');
    this.n = keys.publicKey.n;
    if (keys.publicKey.g !== this.n + 1n) throw new Error('CrtPaillier expects g = n + 1');
    this.n2 = this.n * this.n;
    this.p = hidden._p;
    this.q = hidden._q;
    this.p2 = this.p * this.p;
    this.q2 = this.q * this.q;
    // h_p = L_p(g^(p-1) mod p^2)^-1 mod p (Paillier 1999, section 7)
    const g = keys.publicKey.g;
    this.hp = modInverse((arith.powm(g, this.p - 1n, this.p2) - 1n) / this.p, this.p);
    this.hq = modInverse((arith.powm(g, this.q - 1n, this.q2) - 1n) / this.q, this.q);
    this.qInvP = modInverse(this.q, this.p);
  }

  /** (1 + m n) r^n mod n^2, r uniform in [1, n) from node:crypto. */
  encrypt(m: bigint): bigint {
    let r = 0n;
    while (r === 0n) r = randomBelow(this.n);
    const gm = (1n + m * this.n) % this.n2;
    return this.arith.mulmod(gm, this.arith.powm(r, this.n, this.n2), this.n2);
  }

  /** m from m mod p and m mod q. */
  decrypt(c: bigint): bigint {
    const mp = (((this.arith.powm(c, this.p - 1n, this.p2) - 1n) / this.p) * this.hp) % this.p;
    const mq = (((this.arith.powm(c, this.q - 1n, this.q2) - 1n) / this.q) * this.hq) % this.q;
    let d = ((mp - mq) * this.qInvP) % this.p;
    if (d < 0n) d += this.p;
    return mq + this.q * d;
  }

  /** D(c) = 0 iff c^(p-1) mod p^2 = 1 (error probability about 1/p). */
  isZero(c: bigint): boolean {
    return this.arith.powm(c, this.p - 1n, this.p2) === 1n;
  }

  add(a: bigint, b: bigint): bigint {
    return this.arith.mulmod(a, b, this.n2);
  }

  multiply(c: bigint, k: bigint): bigint {
    return this.arith.powm(c, k, this.n2);
  }
}
