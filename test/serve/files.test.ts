// B's published key file, <key>.pub.json (issue 6; version 2, issue 10): it carries the
// Paillier key and B's EC key of the hashed join, each with its own fingerprint; a version
// 1 file (Paillier only) still loads, without an EC key; a fingerprint that does not match
// its key is refused.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEcKey } from '../../src/ec/elgamal.js';
import { ecKeyOf, fingerprint, generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { loadPublicKey, publicKeyFileText } from '../../src/serve/files.js';
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
