// The files a deployment passes around besides certificates (issue 6): B's public key as
// `<key>.pub.json` (public: every role may get a copy; version 2 adds B's EC key of the
// hashed join with its own fingerprint, issue 10), the owners' shared join secret K
// (hex, 0600: owners only; A and B must never get it), and the passphrase, which comes
// from $FEDJOIN_PASSPHRASE or a prompt on a terminal and is never written anywhere.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { PublicKey } from 'paillier-bigint';
import { z } from 'zod';
import { JOIN_SECRET_BYTES, MIN_JOIN_SECRET_BYTES } from '../data/join-key.js';
import { ecKeyOf, fingerprint, type ServerBPublicKey, verifiedPublicKey } from '../engine/keys.js';
import { bitLength } from '../engine/limbs.js';
import { InvalidArgumentError, KeystoreError } from '../errors.js';
import { KEYSTORE_FORMAT, PASSPHRASE_ENV, readKeyInfo } from '../keystore/index.js';

export const PUBLIC_KEY_FORMAT = 'fedjoin-public-key';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const publicKeySchema = z.object({
  format: z.literal(PUBLIC_KEY_FORMAT),
  /** 2: with `ec` (null for a key from a version 1 key file); 1: the Paillier key only */
  version: z.union([z.literal(1), z.literal(2)]),
  fingerprint: sha256,
  bits: z.number().int().positive(),
  n: z.string().regex(/^[0-9a-f]+$/),
  g: z.string().regex(/^[0-9a-f]+$/),
  ec: z
    .object({ publicKey: z.string().regex(/^[0-9a-f]{64}$/), fingerprint: sha256 })
    .nullable()
    .optional(),
});

/** The `.pub.json` text (version 2) for `publicKey`, with B's EC key when it carries one. */
export function publicKeyFileText(publicKey: PublicKey): string {
  const ec = ecKeyOf(publicKey);
  const body = {
    format: PUBLIC_KEY_FORMAT,
    version: 2,
    fingerprint: fingerprint(publicKey.n),
    bits: bitLength(publicKey.n),
    n: publicKey.n.toString(16),
    g: publicKey.g.toString(16),
    ec: ec && { publicKey: Buffer.from(ec.publicKey).toString('hex'), fingerprint: ec.fingerprint },
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** B's public keys from a `.pub.json` (either version), or from the clear part of B's key file. */
export async function loadPublicKey(path: string): Promise<ServerBPublicKey> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`public key ${path}: ${code ? `cannot read it (${code})` : 'not JSON'}`);
  }
  if ((raw as { format?: unknown } | null)?.format === KEYSTORE_FORMAT) {
    return (await readKeyInfo(path)).publicKey;
  }
  const parsed = publicKeySchema.safeParse(raw);
  if (!parsed.success || (parsed.data.version === 2) !== (parsed.data.ec !== undefined)) {
    throw new InvalidArgumentError(`public key ${path}: not a fedjoin public key file`);
  }
  const { n, g } = parsed.data;
  return verifiedPublicKey(
    { ...parsed.data, n: BigInt(`0x${n}`), g: BigInt(`0x${g}`) },
    (key) =>
      new InvalidArgumentError(
        key === 'ec'
          ? `public key ${path}: the EC fingerprint does not match the EC key`
          : `public key ${path}: the fingerprint does not match the key`,
      ),
  );
}

/** A fresh join secret as file text (hex). */
export function joinSecretFileText(): string {
  return `${randomBytes(JOIN_SECRET_BYTES).toString('hex')}\n`;
}

/** The owners' join secret K from its file (hex), refused when group or others may read it. */
export function loadJoinSecret(path: string): Promise<Buffer> {
  return loadHexSecret(path, 'join secret', { atLeast: MIN_JOIN_SECRET_BYTES });
}

/** How many bytes a secret file holds: exactly so many, or at least so many. */
export type SecretLength = { exactly: number } | { atLeast: number };

/**
 * A secret from its file (hex), refused when group or others may read it. Errors are
 * KeystoreErrors that name the file after `label` (e.g. 'queue secret'), never its content.
 */
export async function loadHexSecret(path: string, label: string, length: SecretLength): Promise<Buffer> {
  let mode: number;
  try {
    ({ mode } = await stat(path));
  } catch (err) {
    throw new KeystoreError(`${label} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeystoreError(`${label} ${path}: others may read it; expected mode 0600`);
  }
  const text = (await readFile(path, 'utf8')).trim();
  const bytes = text.length / 2;
  const fits = 'exactly' in length ? bytes === length.exactly : bytes >= length.atLeast;
  if (!/^[0-9a-f]+$/i.test(text) || text.length % 2 !== 0 || !fits) {
    const expected = 'exactly' in length ? `${length.exactly}` : `at least ${length.atLeast}`;
    throw new KeystoreError(`${label} ${path}: expected ${expected} bytes as hex`);
  }
  return Buffer.from(text, 'hex');
}

export interface AtomicWriteOptions {
  /** mode 0600 rather than 0644 */
  secret: boolean;
  /** replace an existing file rather than refuse it */
  overwrite: boolean;
}

/**
 * Writes `text` to `path` (mode 0600 for secrets, 0644 otherwise) via a temporary file and a
 * rename, so a reader sees the old file or the new one whole, even after a crash.
 */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: AtomicWriteOptions,
): Promise<void> {
  if (!options.overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) refuseOverwrite(path);
  }
  const { tmp, mode } = atomicTarget(path, options);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(tmp, mode);
  await rename(tmp, path);
}

/** writeFileAtomic for a caller that must not yield between a change and its record (B's state). */
export function writeFileAtomicSync(path: string, text: string, options: AtomicWriteOptions): void {
  if (!options.overwrite && existsSync(path)) refuseOverwrite(path);
  const { tmp, mode } = atomicTarget(path, options);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * The mode of an atomic write and its temporary file beside `path`: unique, so that two
 * writers never share one, and created exclusively ('wx'). The mode is set again after
 * writing because the umask may have narrowed it at creation.
 */
function atomicTarget(path: string, options: AtomicWriteOptions): { tmp: string; mode: number } {
  return { tmp: `${path}.${randomBytes(6).toString('hex')}.tmp`, mode: options.secret ? 0o600 : 0o644 };
}

function refuseOverwrite(path: string): never {
  throw new InvalidArgumentError(`${path}: exists; refusing to overwrite it`);
}

/**
 * The passphrase: $FEDJOIN_PASSPHRASE, else a prompt with echo off when stdin is a
 * terminal (twice when `confirm`), else a KeystoreError.
 */
export async function obtainPassphrase(prompt: string, confirm = false): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new KeystoreError(`passphrase: ${PASSPHRASE_ENV} is not set and stdin is not a terminal`);
  }
  const first = await promptHidden(prompt);
  if (confirm && (await promptHidden('repeat the passphrase: ')) !== first) {
    throw new KeystoreError('passphrase: the two entries differ');
  }
  return first;
}

function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  // echo nothing: the terminal's output goes to a sink while the line is read
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
