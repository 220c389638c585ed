// B's private key at rest (DESIGN §1, issue 6): the primes p, q and (version 2, issue 10)
// the EC ElGamal secret x of the hashed join, sealed with AES-256-GCM under a key derived
// from a passphrase by scrypt (node:crypto), in a JSON envelope that keeps the version, KDF
// parameters, salt, IV, tag and both public keys and their fingerprints in clear. Every
// clear field is bound to the ciphertext as GCM additional data, so an edit anywhere fails
// authentication. Files are 0600, written atomically, and refused on load when group or
// others may read them. A version 1 file (p, q only) still opens, as a pair without an EC
// key; rotateKey re-seals it as version 2 with a fresh EC key. No message, detail or log
// line carries key material or the passphrase: failures say what was wrong, never with
// which value.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { PrivateKey } from 'paillier-bigint';
import { z } from 'zod';
import { type EcKeyPair, ecFingerprint, ecPublicKey, generateEcKey } from '../ec/elgamal.js';
import {
  fingerprint,
  gcd,
  type KeyPair,
  keyPairFromPrimes,
  privateMaterial,
  type ServerBPublicKey,
  serverBPublicKey,
} from '../engine/keys.js';
import { bitLength } from '../engine/limbs.js';
import { modInverse, modPowBig } from '../engine/modular.js';
import { FedjoinError, KeystoreError } from '../errors.js';

export const KEYSTORE_FORMAT = 'fedjoin-keystore';
/** 2: adds B's EC key (issue 10). Version 1 files still open. */
export const KEYSTORE_VERSION = 2;
/** The environment variable a passphrase is read from when none is passed. */
export const PASSPHRASE_ENV = 'FEDJOIN_PASSPHRASE';
export const MIN_PASSPHRASE_LENGTH = 8;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/** OWASP's scrypt setting (N = 2^17, r = 8, p = 1): 128 MiB and ~0.3 s per derivation here. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/** What a file may ask for on load: up to 1 GiB of scrypt memory, so a crafted file cannot exhaust RAM. */
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
const MAX_FILE_BYTES = 1024 * 1024;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const SALT_BYTES = 16;
const TAG_BYTES = 16;

const hex = z.string().regex(/^[0-9a-f]+$/);
const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const envelopeSchema = z.object({
  format: z.literal(KEYSTORE_FORMAT),
  version: z.union([z.literal(1), z.literal(KEYSTORE_VERSION)]),
  fingerprint: sha256,
  bits: z.number().int().positive(),
  publicKey: z.object({ n: hex, g: hex }),
  /** version 2: B's EC public key Y (32 bytes, hex) and its fingerprint; absent in version 1 */
  ec: z.object({ publicKey: z.string().regex(/^[0-9a-f]{64}$/), fingerprint: sha256 }).optional(),
  createdAt: z.string().max(64),
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z.number().int(),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    keyBytes: z.literal(KEY_BYTES),
    salt: b64,
  }),
  cipher: z.object({ name: z.literal('aes-256-gcm'), iv: b64, tag: b64 }),
  ciphertext: b64,
});
export type KeyEnvelope = z.infer<typeof envelopeSchema>;

/** What a key file says in clear: no passphrase needed. */
export interface KeyInfo {
  version: number;
  fingerprint: string;
  bits: number;
  /** with B's EC key beside the Paillier key (null in a version 1 file) */
  publicKey: ServerBPublicKey;
  createdAt: string;
  kdf: ScryptParams;
}

export interface SaveOptions {
  /** scrypt cost (default DEFAULT_SCRYPT); tests lower N to stay fast. */
  scrypt?: Partial<ScryptParams>;
  /** Replace an existing file (default false: refuse). */
  overwrite?: boolean;
}

/**
 * Seals `keyPair`'s private keys (Paillier and EC; a pair without an EC key is refused)
 * under `passphrase` (default: $FEDJOIN_PASSPHRASE) into `path`, mode 0600, as version 2.
 * Returns what the file says in clear (print the fingerprints).
 */
export async function saveKey(
  path: string,
  keyPair: KeyPair,
  passphrase?: string,
  options: SaveOptions = {},
): Promise<KeyInfo> {
  const secret = resolvePassphrase(passphrase);
  if (secret.length < MIN_PASSPHRASE_LENGTH) {
    throw new KeystoreError(`passphrase: at least ${MIN_PASSPHRASE_LENGTH} characters required`);
  }
  let material: { n: bigint; g: bigint; p?: bigint; q?: bigint };
  try {
    material = privateMaterial(keyPair.privateKey, keyPair.publicKey);
  } catch (err) {
    // privateMaterial's errors carry no key material; keep the class visible as a keystore failure
    throw new KeystoreError(
      `key pair: ${err instanceof FedjoinError ? err.message : 'not a Paillier key pair'}`,
    );
  }
  const ec = checkedEc(keyPair.ec);
  const kdf = { ...DEFAULT_SCRYPT, ...options.scrypt };
  checkScrypt(kdf);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header = {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    fingerprint: fingerprint(material.n),
    bits: bitLength(material.n),
    publicKey: { n: material.n.toString(16), g: material.g.toString(16) },
    ec: { publicKey: Buffer.from(ec.publicKey).toString('hex'), fingerprint: ec.fingerprint },
    createdAt: new Date().toISOString(),
    kdf: { name: 'scrypt', ...kdf, keyBytes: KEY_BYTES, salt: salt.toString('base64') },
  } as const;
  const key = await deriveKey(secret, salt, kdf);
  const x = Buffer.from(ec.secretKey);
  const plaintext = Buffer.from(
    JSON.stringify({ p: material.p!.toString(16), q: material.q!.toString(16), x: x.toString('hex') }),
  );
  x.fill(0);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData({ ...header, cipher: { name: 'aes-256-gcm', iv: iv.toString('base64') } }));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const envelope: KeyEnvelope = {
      ...header,
      cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
      ciphertext: ciphertext.toString('base64'),
    };
    await writePrivateFile(path, `${JSON.stringify(envelope, null, 2)}\n`, options.overwrite ?? false);
    return info(envelope);
  } finally {
    key.fill(0);
    plaintext.fill(0);
  }
}

/**
 * Opens the key file at `path` with `passphrase` (default: $FEDJOIN_PASSPHRASE). A version 1
 * file gives a pair without an EC key: B then serves nested joins only, until rotateKey.
 */
export async function loadKey(path: string, passphrase?: string): Promise<KeyPair> {
  const secret = resolvePassphrase(passphrase);
  const envelope = await readEnvelope(path);
  const salt = Buffer.from(envelope.kdf.salt, 'base64');
  const iv = Buffer.from(envelope.cipher.iv, 'base64');
  const tag = Buffer.from(envelope.cipher.tag, 'base64');
  if (salt.length !== SALT_BYTES || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new KeystoreError(`${path}: salt, iv or tag has the wrong length (tampered file)`);
  }
  const key = await deriveKey(secret, salt, envelope.kdf);
  let plaintext: Buffer | undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(envelope));
    decipher.setAuthTag(tag);
    try {
      plaintext = Buffer.concat([
        decipher.update(Buffer.from(envelope.ciphertext, 'base64')),
        decipher.final(),
      ]);
    } catch {
      // GCM cannot tell a wrong key from an edited file; neither can we, on purpose
      throw new KeystoreError(`${path}: wrong passphrase, or the file was tampered with`);
    }
    return rebuild(path, envelope, plaintext);
  } finally {
    key.fill(0);
    plaintext?.fill(0);
  }
}

/**
 * Re-seals the key at `path` under `newPassphrase` (fresh salt and IV), atomically, as
 * version 2: a version 1 file gains a fresh EC key (its Paillier key is unchanged), so
 * its public key must then be published again.
 */
export async function rotateKey(
  path: string,
  oldPassphrase: string | undefined,
  newPassphrase: string,
  options: Omit<SaveOptions, 'overwrite'> = {},
): Promise<KeyInfo> {
  const keyPair = await loadKey(path, oldPassphrase);
  const current = await readEnvelope(path);
  const scryptParams = options.scrypt ?? { N: current.kdf.N, r: current.kdf.r, p: current.kdf.p };
  const ec = keyPair.ec ?? generateEcKey();
  try {
    return await saveKey(path, { ...keyPair, ec }, newPassphrase, { scrypt: scryptParams, overwrite: true });
  } finally {
    ec.secretKey.fill(0);
  }
}

/** The clear part of a key file: fingerprint, size, public key, KDF cost. */
export async function readKeyInfo(path: string): Promise<KeyInfo> {
  return info(await readEnvelope(path));
}

/** The passphrase given, else $FEDJOIN_PASSPHRASE, else a KeystoreError. */
export function resolvePassphrase(given?: string): string {
  const secret = given ?? process.env[PASSPHRASE_ENV];
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new KeystoreError(`passphrase: none given and ${PASSPHRASE_ENV} is not set`);
  }
  return secret;
}

async function readEnvelope(path: string): Promise<KeyEnvelope> {
  let mode: number;
  let size: number;
  try {
    ({ mode, size } = await stat(path));
  } catch (err) {
    throw new KeystoreError(`${path}: cannot read the key file (${(err as NodeJS.ErrnoException).code})`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeystoreError(
      `${path}: permissions ${(mode & 0o777).toString(8).padStart(4, '0')} let others read the key; expected 0600`,
      { mode: mode & 0o777 },
    );
  }
  if (size > MAX_FILE_BYTES) throw new KeystoreError(`${path}: ${size} bytes is too large for a key file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new KeystoreError(`${path}: not a JSON key file (truncated or tampered)`);
  }
  const result = envelopeSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new KeystoreError(
      `${path}: not a fedjoin key file: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  // the EC fields are authenticated in version 2 only: in a version 1 file they would be a forgery
  if ((result.data.version === 1) !== (result.data.ec === undefined)) {
    throw new KeystoreError(
      `${path}: not a fedjoin key file: the EC key does not fit version ${result.data.version}`,
    );
  }
  checkScrypt(result.data.kdf);
  return result.data;
}

/** The key pair from the decrypted primes (and x), checked against the clear public keys. */
function rebuild(path: string, envelope: KeyEnvelope, plaintext: Buffer): KeyPair {
  let p: bigint;
  let q: bigint;
  let x: Uint8Array | undefined;
  try {
    const sealed = JSON.parse(plaintext.toString('utf8')) as { p: unknown; q: unknown; x?: unknown };
    if (typeof sealed.p !== 'string' || typeof sealed.q !== 'string') throw new Error();
    p = BigInt(`0x${sealed.p}`);
    q = BigInt(`0x${sealed.q}`);
    if (envelope.version >= 2) {
      if (typeof sealed.x !== 'string' || !/^[0-9a-f]{64}$/.test(sealed.x)) throw new Error();
      x = Uint8Array.from(Buffer.from(sealed.x, 'hex'));
    }
  } catch {
    throw new KeystoreError(`${path}: the sealed key is not in the expected form`);
  }
  const n = BigInt(`0x${envelope.publicKey.n}`);
  const g = BigInt(`0x${envelope.publicKey.g}`);
  if (p * q !== n || fingerprint(n) !== envelope.fingerprint) {
    throw new KeystoreError(`${path}: the sealed key does not match its public key and fingerprint`);
  }
  const ec = x && rebuildEc(path, envelope, x);
  if (g === n + 1n) return keyPairFromPrimes(p, q, ec);
  // paillier-bigint's random-g keys: lambda = lcm(p-1, q-1), mu = L(g^lambda mod n^2)^-1 mod n
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const n2 = n * n;
  const publicKey = serverBPublicKey(n, g, ec);
  try {
    const mu = modInverse((modPowBig(g, lambda, n2) - 1n) / n, n);
    const privateKey = new PrivateKey(lambda, mu, publicKey, p, q);
    return ec ? { publicKey, privateKey, ec } : { publicKey, privateKey };
  } catch {
    throw new KeystoreError(`${path}: the public generator g is not valid for the sealed key`);
  }
}

/** B's EC key from the sealed x, checked: xG must be the clear Y, under its fingerprint. */
function rebuildEc(path: string, envelope: KeyEnvelope, x: Uint8Array): EcKeyPair {
  let publicKey: Uint8Array;
  try {
    publicKey = ecPublicKey(x);
  } catch {
    x.fill(0);
    throw new KeystoreError(`${path}: the sealed EC key is not in the expected form`);
  }
  const clear = envelope.ec;
  if (!clear || Buffer.from(publicKey).toString('hex') !== clear.publicKey) {
    x.fill(0);
    throw new KeystoreError(`${path}: the sealed EC key does not match its public key`);
  }
  if (ecFingerprint(publicKey) !== clear.fingerprint) {
    x.fill(0);
    throw new KeystoreError(`${path}: the EC public key does not match its fingerprint`);
  }
  return { secretKey: x, publicKey, fingerprint: clear.fingerprint };
}

/** The pair's EC key, checked before sealing: x in [1, L) and Y = xG. */
function checkedEc(ec: EcKeyPair | undefined): EcKeyPair {
  if (!ec) throw new KeystoreError('key pair: no EC key (generateKeys makes both keys of server B)');
  let y: Uint8Array;
  try {
    y = ecPublicKey(ec.secretKey);
  } catch {
    throw new KeystoreError('key pair: the EC secret key is not a scalar in [1, L)');
  }
  if (Buffer.compare(y, ec.publicKey) !== 0 || ecFingerprint(y) !== ec.fingerprint) {
    throw new KeystoreError('key pair: the EC public key or its fingerprint does not match the secret key');
  }
  return ec;
}

function info(envelope: KeyEnvelope): KeyInfo {
  const ec = envelope.ec
    ? {
        publicKey: Uint8Array.from(Buffer.from(envelope.ec.publicKey, 'hex')),
        fingerprint: envelope.ec.fingerprint,
      }
    : null;
  return {
    version: envelope.version,
    fingerprint: envelope.fingerprint,
    bits: envelope.bits,
    publicKey: serverBPublicKey(BigInt(`0x${envelope.publicKey.n}`), BigInt(`0x${envelope.publicKey.g}`), ec),
    createdAt: envelope.createdAt,
    kdf: { N: envelope.kdf.N, r: envelope.kdf.r, p: envelope.kdf.p },
  };
}

/** Every clear field, in a fixed order, as GCM additional data (version 1: without the EC key). */
function additionalData(
  e: Omit<KeyEnvelope, 'cipher' | 'ciphertext'> & { cipher: { name: string; iv: string } },
): Buffer {
  const fields: (string | number | null)[] = [
    e.format,
    e.version,
    e.fingerprint,
    e.bits,
    e.publicKey.n,
    e.publicKey.g,
    e.createdAt,
    e.kdf.name,
    e.kdf.N,
    e.kdf.r,
    e.kdf.p,
    e.kdf.keyBytes,
    e.kdf.salt,
    e.cipher.name,
    e.cipher.iv,
  ];
  // a version 2 file without its EC fields fails here, as any other edit does
  if (e.version >= 2) fields.push(e.ec?.publicKey ?? null, e.ec?.fingerprint ?? null);
  return Buffer.from(JSON.stringify(fields));
}

function checkScrypt({ N, r, p }: ScryptParams): void {
  const powerOfTwo = Number.isInteger(N) && N >= 2 ** 10 && N <= 2 ** 22 && (N & (N - 1)) === 0;
  if (!powerOfTwo || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new KeystoreError(`kdf: scrypt N=${N} r=${r} p=${p} outside N = 2^10..2^22, r <= 32, p <= 16`);
  }
  if (128 * N * r > MAX_SCRYPT_MEMORY) {
    throw new KeystoreError(`kdf: scrypt N=${N} r=${r} needs over ${MAX_SCRYPT_MEMORY >> 20} MiB`);
  }
}

function deriveKey(passphrase: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFC'),
      salt,
      KEY_BYTES,
      { N, r, p, maxmem: 128 * N * r + 1024 * 1024 },
      (err, key) =>
        err
          ? reject(
              new KeystoreError(`kdf: scrypt failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`),
            )
          : resolve(key),
    ),
  );
}

/** Writes `text` to `path` with mode 0600 via a temporary file, fsync and rename. */
async function writePrivateFile(path: string, text: string, overwrite: boolean): Promise<void> {
  if (!overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new KeystoreError(`${path}: exists; refusing to overwrite a key file`);
  }
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
