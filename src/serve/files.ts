// The files a deployment passes around besides certificates (issue 6): B's public key as
// `<key>.pub.json` (public: every role may get a copy; version 2 adds B's EC key of the
// hashed join with its own fingerprint, issue 10), the owners' shared join secret K
// (hex, 0600: owners only; A and B must never get it), and the passphrase, which comes
// from $FEDJOIN_PASSPHRASE or a prompt on a terminal and is never written anywhere.
import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { PublicKey } from 'paillier-bigint';
import { z } from 'zod';
import { JOIN_SECRET_BYTES, MIN_JOIN_SECRET_BYTES } from '../data/join-key.js';
import { ecFingerprint } from '../ec/elgamal.js';
import { ecKeyOf, fingerprint, type ServerBPublicKey, serverBPublicKey } from '../engine/keys.js';
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
  const n = BigInt(`0x${parsed.data.n}`);
  if (fingerprint(n) !== parsed.data.fingerprint) {
    throw new InvalidArgumentError(`public key ${path}: the fingerprint does not match the key`);
  }
  const ec = parsed.data.ec ? Uint8Array.from(Buffer.from(parsed.data.ec.publicKey, 'hex')) : null;
  // ecFingerprint also checks Y is a valid non-identity point
  if (ec && ecFingerprint(ec) !== parsed.data.ec!.fingerprint) {
    throw new InvalidArgumentError(`public key ${path}: the EC fingerprint does not match the EC key`);
  }
  return serverBPublicKey(
    n,
    BigInt(`0x${parsed.data.g}`),
    ec && { publicKey: ec, fingerprint: parsed.data.ec!.fingerprint },
  );
}

/** A fresh join secret as file text (hex). */
export function joinSecretFileText(): string {
  return `${randomBytes(JOIN_SECRET_BYTES).toString('hex')}\n`;
}

/** The owners' join secret K from its file (hex), refused when group or others may read it. */
export async function loadJoinSecret(path: string): Promise<Buffer> {
  let mode: number;
  try {
    ({ mode } = await stat(path));
  } catch (err) {
    throw new KeystoreError(`join secret ${path}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeystoreError(`join secret ${path}: others may read it; expected mode 0600`);
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]+$/i.test(text) || text.length % 2 !== 0 || text.length / 2 < MIN_JOIN_SECRET_BYTES) {
    throw new KeystoreError(`join secret ${path}: expected at least ${MIN_JOIN_SECRET_BYTES} bytes as hex`);
  }
  return Buffer.from(text, 'hex');
}

/** Writes `text` to `path` (mode 0600 for secrets, 0644 otherwise) via a temporary file and a rename. */
export async function writeFileAtomic(
  path: string,
  text: string,
  options: { secret: boolean; overwrite: boolean },
): Promise<void> {
  if (!options.overwrite) {
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new InvalidArgumentError(`${path}: exists; refusing to overwrite it`);
  }
  const mode = options.secret ? 0o600 : 0o644;
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
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
