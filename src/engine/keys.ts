// Keys: fedjoin's own key generation (g = n + 1, equal-size primes, DESIGN §2, and beside
// it B's EC ElGamal key of the hashed join, §3.2), fingerprints (SHA-256 of n), and the
// plain-data form of a paillier-bigint key that the engine and its workers use. Keys made
// by paillier-bigint's generateRandomKeys (random g, |p| = |q| + 1) are accepted as they are.
import { createHash, generatePrime } from 'node:crypto';
import { PrivateKey, PublicKey } from 'paillier-bigint';
import { type EcKeyPair, ecFingerprint, generateEcKey } from '../ec/elgamal.js';
import { InvalidArgumentError, InvalidKeyError, KeyMismatchError } from '../errors.js';
import { bitLength } from './limbs.js';
import { modInverse, modPowBig, randomBelow } from './modular.js';

export const DEFAULT_KEY_BITS = 2048;
/** Smallest modulus the engine accepts; fedjoin itself generates 2048 bits or more. */
export const MIN_KEY_BITS = 512;

/** What a task needs of a key: public parts, and p, q only for private operations. */
export interface KeyMaterial {
  readonly fingerprint: string;
  readonly n: bigint;
  readonly g: bigint;
  readonly p?: bigint;
  readonly q?: bigint;
}

export interface KeyPair {
  /** A ServerBPublicKey when generateKeys or the keystore made the pair. */
  publicKey: PublicKey;
  privateKey: PrivateKey;
  /** B's EC ElGamal key (x, Y) of the hashed join; absent from a Paillier-only pair. */
  ec?: EcKeyPair;
}

/** B's EC public key Y (32 bytes) and its fingerprint (SHA-256 of Y), as published. */
export interface EcPublicKey {
  publicKey: Uint8Array;
  fingerprint: string;
}

/**
 * B's public key as B publishes it: the Paillier key (a paillier-bigint PublicKey, so the
 * engine and paillier-bigint take it as it is) and beside it the EC key of the hashed join,
 * or null for a key from before the EC key existed (a version 1 key file).
 */
export class ServerBPublicKey extends PublicKey {
  constructor(
    n: bigint,
    g: bigint,
    readonly ec: EcPublicKey | null,
  ) {
    super(n, g);
  }
}

/** B's EC public key carried by `publicKey`, or null (a plain paillier-bigint key, or an old one). */
export function ecKeyOf(publicKey: PublicKey): EcPublicKey | null {
  return publicKey instanceof ServerBPublicKey ? publicKey.ec : null;
}

/** SHA-256 of n's big-endian bytes, hex. */
export function fingerprint(n: bigint): string {
  return createHash('sha256')
    .update(Buffer.from(n.toString(16).padStart(2 * Math.ceil(bitLength(n) / 8), '0'), 'hex'))
    .digest('hex');
}

function prime(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) =>
    generatePrime(bits, { bigint: true }, (err, p) => (err ? reject(err) : resolve(p as bigint))),
  );
}

/**
 * A fresh key pair with g = n + 1 and primes of equal size (n exactly `bits` bits),
 * primes from node:crypto, as paillier-bigint objects usable by both; and B's EC key.
 */
export async function generateKeys(bits = DEFAULT_KEY_BITS): Promise<KeyPair> {
  if (!Number.isInteger(bits) || bits < MIN_KEY_BITS || bits % 2 !== 0) {
    throw new InvalidArgumentError(`key bits: expected an even integer >= ${MIN_KEY_BITS}, got ${bits}`);
  }
  for (;;) {
    const [p, q] = await Promise.all([prime(bits / 2), prime(bits / 2)]);
    const n = p * q;
    if (p === q || bitLength(n) !== bits) continue;
    return keyPairFromPrimes(p, q, generateEcKey());
  }
}

/**
 * The paillier-bigint key pair for primes p, q with g = n + 1 (lambda = phi, mu = phi^-1),
 * with B's EC key `ec` when given (the public key is then a ServerBPublicKey carrying Y).
 */
export function keyPairFromPrimes(p: bigint, q: bigint, ec?: EcKeyPair): KeyPair {
  const n = p * q;
  const phi = (p - 1n) * (q - 1n);
  const publicKey = serverBPublicKey(n, n + 1n, ec);
  const privateKey = new PrivateKey(phi, modInverse(phi, n), publicKey, p, q);
  return ec ? { publicKey, privateKey, ec } : { publicKey, privateKey };
}

/** The public key of B's pair: (n, g) and, when there is an EC key, Y and its fingerprint. */
export function serverBPublicKey(
  n: bigint,
  g: bigint,
  ec?: EcKeyPair | EcPublicKey | null,
): ServerBPublicKey {
  return new ServerBPublicKey(
    n,
    g,
    ec ? { publicKey: ec.publicKey.slice(), fingerprint: ec.fingerprint } : null,
  );
}

/** B's public key as it is published: n, g, and Y in hex, each key with its fingerprint. */
export interface PublishedPublicKey {
  n: bigint;
  g: bigint;
  fingerprint: string;
  /** null or absent: a key from before the EC key */
  ec?: { publicKey: string; fingerprint: string } | null;
}

/**
 * B's public key from its published form, once each key matches its fingerprint (so a key
 * swapped in transit or on disk is refused); `mismatch` is the caller's error for the key
 * that does not. ecFingerprint also refuses a Y that is no valid non-identity point.
 */
export function verifiedPublicKey(
  published: PublishedPublicKey,
  mismatch: (key: 'paillier' | 'ec') => Error,
): ServerBPublicKey {
  if (fingerprint(published.n) !== published.fingerprint) throw mismatch('paillier');
  const ec = published.ec
    ? {
        publicKey: Uint8Array.from(Buffer.from(published.ec.publicKey, 'hex')),
        fingerprint: published.ec.fingerprint,
      }
    : null;
  if (ec && ecFingerprint(ec.publicKey) !== ec.fingerprint) throw mismatch('ec');
  return serverBPublicKey(published.n, published.g, ec);
}

/**
 * Checked key material per key object: validating a key (a SHA-256, gcds, a factorisation
 * when p and q are missing) costs up to a few hundred microseconds, which a one-value call
 * should not pay each time. paillier-bigint keys are read-only; the cache is keyed by the
 * object, so a new key object is checked anew.
 */
const publicChecked = new WeakMap<object, KeyMaterial>();
const privateChecked = new WeakMap<object, KeyMaterial>();

export function publicMaterial(publicKey: PublicKey): KeyMaterial {
  const cached = publicKey instanceof Object ? publicChecked.get(publicKey) : undefined;
  if (cached && cached.n === publicKey.n && cached.g === publicKey.g) return cached;
  const material = checkPublic(publicKey);
  publicChecked.set(publicKey, material);
  return material;
}

/** Checks a public key's shape: odd modulus of at least MIN_KEY_BITS, g in Z*_{n^2}. */
function checkPublic(publicKey: PublicKey): KeyMaterial {
  if (!(publicKey instanceof Object) || typeof publicKey.n !== 'bigint' || typeof publicKey.g !== 'bigint') {
    throw new InvalidKeyError('public key: expected a paillier-bigint PublicKey with bigint n and g');
  }
  const { n, g } = publicKey;
  if (n % 2n === 0n) throw new InvalidKeyError(`public key: modulus is even (${bitLength(n)} bits)`);
  if (bitLength(n) < MIN_KEY_BITS) {
    throw new InvalidKeyError(
      `public key: modulus has ${bitLength(n)} bits, at least ${MIN_KEY_BITS} required`,
    );
  }
  if (g <= 0n || g >= n * n) throw new InvalidKeyError('public key: expected 0 < g < n^2');
  return { fingerprint: fingerprint(n), n, g };
}

/**
 * The private parts of a paillier-bigint PrivateKey: p and q from the key, or recovered
 * from lambda when the key was built without them. Rejects a key whose parts do not
 * match its public key.
 */
export function privateMaterial(privateKey: PrivateKey, publicKey?: PublicKey): KeyMaterial {
  const cached = privateKey instanceof Object ? privateChecked.get(privateKey) : undefined;
  if (cached && (!publicKey || publicKey.n === cached.n) && privateKey.publicKey?.n === cached.n)
    return cached;
  const material = checkPrivate(privateKey, publicKey);
  privateChecked.set(privateKey, material);
  return material;
}

function checkPrivate(privateKey: PrivateKey, publicKey?: PublicKey): KeyMaterial {
  if (!(privateKey instanceof Object) || typeof privateKey.lambda !== 'bigint' || !privateKey.publicKey) {
    throw new InvalidKeyError('private key: expected a paillier-bigint PrivateKey');
  }
  const pub = publicMaterial(privateKey.publicKey);
  if (publicKey && publicKey.n !== pub.n) {
    throw new KeyMismatchError('private key does not belong to the given public key', {
      expected: fingerprint(publicKey.n),
      got: pub.fingerprint,
    });
  }
  const hidden = privateKey as unknown as { _p?: bigint; _q?: bigint };
  let p = hidden._p;
  let q = hidden._q;
  if (p === undefined || q === undefined) [p, q] = factorWithLambda(pub.n, privateKey.lambda);
  if (p * q !== pub.n || p <= 1n || q <= 1n) {
    throw new KeyMismatchError('private key: p * q does not equal the public modulus');
  }
  // lambda must be a multiple of the Carmichael function lcm(p-1, q-1), or decryption fails
  const carmichael = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  if (privateKey.lambda % carmichael !== 0n) {
    throw new KeyMismatchError('private key: lambda is not a multiple of lcm(p-1, q-1)');
  }
  return { ...pub, p, q };
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/**
 * Factors n = pq given a multiple of lambda(n): for random a, the sequence a^t, a^2t, ...
 * (lambda = 2^s t) reaches 1; a square root of 1 other than +-1 on the way splits n.
 */
function factorWithLambda(n: bigint, lambda: bigint): [bigint, bigint] {
  // a multiple of lambda(n) is positive; bounding its size bounds the work below
  if (lambda <= 0n || bitLength(lambda) > 4 * bitLength(n)) {
    throw new KeyMismatchError('private key: lambda is not a multiple of lambda(n) for this modulus');
  }
  let t = lambda;
  let s = 0;
  while (t % 2n === 0n) {
    t /= 2n;
    s++;
  }
  for (let attempt = 0; attempt < 64; attempt++) {
    const a = randomBelow(n - 3n) + 2n;
    const d = gcd(a, n);
    if (d > 1n) return order(d, n / d);
    let x = modPowBig(a, t, n);
    for (let i = 0; i < s && x !== 1n && x !== n - 1n; i++) {
      const y = (x * x) % n;
      if (y === 1n) return order(gcd(x - 1n, n), n / gcd(x - 1n, n));
      x = y;
    }
  }
  throw new KeyMismatchError('private key: lambda does not factor the modulus');
}

function order(a: bigint, b: bigint): [bigint, bigint] {
  return a > b ? [a, b] : [b, a];
}

/**
 * DJN's fixed generator for n (Damgard-Jurik-Nielsen, "A generalization of Paillier's
 * public-key system", 2010, sec. 4.2): h = -x^2 mod n with x derived from n by SHA-256
 * expansion, so it is public and every worker builds the same table. Encryption then uses
 * r^n = (h^n)^a for a random exponent a of djnExponentBits(n) bits.
 */
export function djnGenerator(n: bigint): bigint {
  const bytes = Math.ceil((bitLength(n) + 128) / 8);
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < bytes; i++) {
    blocks.push(
      createHash('sha256')
        .update(`fedjoin/djn/${i}/${n.toString(16)}`)
        .digest(),
    );
  }
  const x = BigInt(`0x${Buffer.concat(blocks).subarray(0, bytes).toString('hex')}`) % n;
  return n - ((x * x) % n);
}

/** Bits of the DJN exponent a: |n| / 2 (DESIGN §2). */
export function djnExponentBits(n: bigint): number {
  return Math.ceil(bitLength(n) / 2);
}
