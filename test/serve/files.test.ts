// B's published key file, <key>.pub.json (issue 6; version 2, issue 10): it carries the
// Paillier key and B's EC key of the hashed join, each with its own fingerprint; a version
// 1 file (Paillier only) still loads, without an EC key; a fingerprint that does not match
// its key is refused. The owners' join secret and the state B keeps are files of their own:
// a secret file group or others may read is refused, and a file is replaced whole or not at all.
import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEcKey } from '../../src/ec/elgamal.js';
import { ecKeyOf, fingerprint, generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { InvalidArgumentError, KeystoreError } from '../../src/errors.js';
import {
  loadJoinSecret,
  loadPublicKey,
  publicKeyFileText,
  writeFileAtomicSync,
} from '../../src/serve/files.js';
import { rejection } from '../helpers/thrown.js';

let dir: string;
let keys: KeyPair;
let counter = 0;
async function written(text: string): Promise<string> {
  const path = join(dir, `key-${++counter}.pub.json`);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-pub-'));
  keys = await generateKeys(1024);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('<key>.pub.json', () => {
  it('publishes both public keys with their fingerprints (version 2) and loads them back', async () => {
    const path = await written(publicKeyFileText(keys.publicKey));
    const body = JSON.parse(await readFile(path, 'utf8'));
    expect(body).toMatchObject({
      version: 2,
      fingerprint: fingerprint(keys.publicKey.n),
      ec: { publicKey: Buffer.from(keys.ec!.publicKey).toString('hex'), fingerprint: keys.ec!.fingerprint },
    });
    const loaded = await loadPublicKey(path);
    expect([loaded.n, loaded.g]).toEqual([keys.publicKey.n, keys.publicKey.g]);
    expect(ecKeyOf(loaded)).toEqual({ publicKey: keys.ec!.publicKey, fingerprint: keys.ec!.fingerprint });
  });

  it('loads a version 1 file without an EC key', async () => {
    const body = JSON.parse(publicKeyFileText(keys.publicKey));
    delete body.ec;
    const loaded = await loadPublicKey(await written(JSON.stringify({ ...body, version: 1 })));
    expect(loaded.n).toBe(keys.publicKey.n);
    expect(ecKeyOf(loaded)).toBeNull();
  });

  it('refuses an EC key under another fingerprint, and a version 2 file without its EC field', async () => {
    const body = JSON.parse(publicKeyFileText(keys.publicKey));
    const swapped = {
      ...body,
      ec: { ...body.ec, publicKey: Buffer.from(generateEcKey().publicKey).toString('hex') },
    };
    const { ec: _, ...missing } = body;
    for (const edited of [swapped, missing]) {
      const error = await rejection(loadPublicKey(await written(JSON.stringify(edited))));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('the join secret file', () => {
  it('loads at least 16 hex bytes from a 0600 file and refuses a readable, short, odd or missing one', async () => {
    const good = join(dir, 'good.secret');
    await writeFile(good, `${'ab'.repeat(16)}\n`, { mode: 0o600 });
    expect(await loadJoinSecret(good)).toEqual(Buffer.alloc(16, 0xab));
    const loose = join(dir, 'loose.secret');
    await writeFile(loose, `${'ab'.repeat(32)}\n`);
    await chmod(loose, 0o644);
    const short = join(dir, 'short.secret');
    await writeFile(short, `${'ab'.repeat(15)}\n`, { mode: 0o600 });
    const odd = join(dir, 'odd.secret');
    await writeFile(odd, `${'ab'.repeat(16)}a\n`, { mode: 0o600 });
    const missing = join(dir, 'missing.secret');
    for (const [path, message] of [
      [loose, `join secret ${loose}: others may read it; expected mode 0600`],
      [short, `join secret ${short}: expected at least 16 bytes as hex`],
      [odd, `join secret ${odd}: expected at least 16 bytes as hex`],
      [missing, `join secret ${missing}: cannot read it (ENOENT)`],
    ]) {
      const error = await rejection(loadJoinSecret(path));
      expect(error).toBeInstanceOf(KeystoreError);
      expect(error.toJSON()).toEqual({ code: 'KEYSTORE', message, details: {} });
    }
  });
});

describe('writeFileAtomicSync', () => {
  it('replaces a file whole with the given mode and leaves no temporary file', async () => {
    const sub = join(dir, 'atomic');
    await mkdir(sub);
    const path = join(sub, 'state.json');
    writeFileAtomicSync(path, 'first', { secret: true, overwrite: true });
    writeFileAtomicSync(path, 'second', { secret: true, overwrite: true });
    expect(readFileSync(path, 'utf8')).toBe('second');
    if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await readdir(sub)).toEqual(['state.json']);
    const error = await rejection(() =>
      writeFileAtomicSync(path, 'third', { secret: false, overwrite: false }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(readFileSync(path, 'utf8')).toBe('second');
  });
});
