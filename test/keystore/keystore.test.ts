// B's key at rest (issue 6): a saved key opens with its passphrase into paillier-bigint
// objects that decrypt what the public key encrypted, and B's EC key beside it (version 2,
// issue 10); a wrong passphrase, an edit to any field, a truncated file, or permissions
// wider than 0600 are KeystoreErrors; rotation re-seals under a new passphrase; a version 1
// file written by the old code still opens, and rotation adds its EC key; and no error,
// detail, stack or console line ever carries p, q, lambda, mu, x or the passphrase.
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRandomKeys } from 'paillier-bigint';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateEcKey } from '../../src/ec/elgamal.js';
import { ecKeyOf, fingerprint, generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { KeystoreError } from '../../src/errors.js';
import {
  DEFAULT_SCRYPT,
  type KeyEnvelope,
  loadKey,
  PASSPHRASE_ENV,
  readKeyInfo,
  rotateKey,
  saveKey,
} from '../../src/keystore/keystore.js';
import { rejection } from '../helpers/thrown.js';

const PASS = 'correct horse battery staple';
const FAST = { scrypt: { N: 2 ** 12 } }; // tests only: the default is N = 2^17
let dir: string;
let keys: KeyPair;
let counter = 0;
const fresh = () => join(dir, `key-${++counter}.json`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-keystore-'));
  keys = await generateKeys(1024);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[PASSPHRASE_ENV];
});

/** Every written form of the secret values: the file and errors must contain none of them. */
function secretsOf(pair: KeyPair, passphrase = PASS): string[] {
  const { lambda, mu } = pair.privateKey;
  const hidden = pair.privateKey as unknown as { _p: bigint; _q: bigint };
  const values = [hidden._p, hidden._q, lambda, mu];
  const x = pair.ec ? Buffer.from(pair.ec.secretKey) : undefined;
  return [
    ...values.flatMap((v) => [
      v.toString(16),
      v.toString(10),
      Buffer.from(v.toString(16), 'hex').toString('base64'),
    ]),
    ...(x ? [x.toString('hex'), x.toString('base64')] : []),
    passphrase,
  ].flatMap((s) => [s, s.slice(-40)]); // the low-order digits: lambda = phi shares its top digits with n
}

function expectNoSecrets(text: string, pair: KeyPair = keys, passphrase = PASS): void {
  for (const secret of secretsOf(pair, passphrase)) expect(text.includes(secret)).toBe(false);
}

describe('saveKey / loadKey', () => {
  it('round-trips a key: the loaded private key decrypts what the public key encrypted', async () => {
    const path = fresh();
    const info = await saveKey(path, keys, PASS, FAST);
    expect(info.fingerprint).toBe(fingerprint(keys.publicKey.n));
    expect(info.bits).toBe(1024);
    const loaded = await loadKey(path, PASS);
    expect(loaded.publicKey.n).toBe(keys.publicKey.n);
    expect(loaded.publicKey.g).toBe(keys.publicKey.g);
    const c = keys.publicKey.encrypt(424242n);
    expect(loaded.privateKey.decrypt(c)).toBe(424242n);
    expect(loaded.privateKey.lambda).toBe(keys.privateKey.lambda);
    // B's EC key, sealed beside it and published with its own fingerprint
    expect(loaded.ec).toEqual(keys.ec);
    expect(ecKeyOf(loaded.publicKey)).toEqual({
      publicKey: keys.ec!.publicKey,
      fingerprint: keys.ec!.fingerprint,
    });
    expect(info.publicKey.ec?.fingerprint).toBe(keys.ec!.fingerprint);
    expect(info.version).toBe(2);
  });

  it('refuses a pair without an EC key, or with one whose public half does not match', async () => {
    const paillierOnly = { publicKey: keys.publicKey, privateKey: keys.privateKey };
    const other = generateEcKey();
    for (const pair of [paillierOnly, { ...paillierOnly, ec: { ...other, publicKey: keys.ec!.publicKey } }]) {
      const error = await rejection(saveKey(fresh(), pair, PASS, FAST));
      expect(error).toBeInstanceOf(KeystoreError);
      expect(error.code).toBe('KEYSTORE');
      expect(error.message).toMatch(/EC/);
    }
  });

  it("keeps paillier-bigint's random-g keys (|p| = |q| + 1) intact", async () => {
    const theirs = { ...(await generateRandomKeys(512)), ec: generateEcKey() };
    const path = fresh();
    await saveKey(path, theirs, PASS, FAST);
    const loaded = await loadKey(path, PASS);
    expect(loaded.publicKey.g).toBe(theirs.publicKey.g);
    expect(loaded.privateKey.decrypt(theirs.publicKey.encrypt(77n))).toBe(77n);
    expect(theirs.privateKey.decrypt(loaded.publicKey.encrypt(78n))).toBe(78n);
  });

  it('writes the file 0600 with the fingerprint, KDF and cipher parameters in clear and no secret', async () => {
    const path = fresh();
    await saveKey(path, keys, PASS, FAST);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    const envelope = JSON.parse(text);
    expect(envelope).toMatchObject({
      format: 'fedjoin-keystore',
      version: 2,
      fingerprint: fingerprint(keys.publicKey.n),
      ec: { publicKey: Buffer.from(keys.ec!.publicKey).toString('hex'), fingerprint: keys.ec!.fingerprint },
      kdf: { name: 'scrypt', N: 2 ** 12, r: 8, p: 1, keyBytes: 32 },
      cipher: { name: 'aes-256-gcm' },
    });
    expect(Buffer.from(envelope.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(envelope.cipher.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(envelope.cipher.tag, 'base64')).toHaveLength(16);
    expectNoSecrets(text);
    expect((await readKeyInfo(path)).fingerprint).toBe(envelope.fingerprint);
  });

  it('uses the OWASP scrypt cost by default', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    const path = fresh();
    await saveKey(path, keys, PASS);
    expect((await readKeyInfo(path)).kdf).toEqual(DEFAULT_SCRYPT);
    expect((await loadKey(path, PASS)).publicKey.n).toBe(keys.publicKey.n);
  });

  it('takes the passphrase from FEDJOIN_PASSPHRASE when none is passed', async () => {
    const path = fresh();
    process.env[PASSPHRASE_ENV] = PASS;
    await saveKey(path, keys, undefined, FAST);
    expect((await loadKey(path)).publicKey.n).toBe(keys.publicKey.n);
  });

  it('refuses to overwrite an existing key file unless asked', async () => {
    const path = fresh();
    await saveKey(path, keys, PASS, FAST);
    const error = await rejection(saveKey(path, keys, PASS, FAST));
    expect(error).toBeInstanceOf(KeystoreError);
    expect(error.message).toMatch(/refusing to overwrite/);
  });
});

describe('refusals are KeystoreErrors that carry no secret', () => {
  let path: string;
  let text: string;
  const logged: string[] = [];
  beforeAll(async () => {
    path = fresh();
    await saveKey(path, keys, PASS, FAST);
    text = await readFile(path, 'utf8');
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(String).join(' '));
      });
    }
  });
  afterAll(() => {
    vi.restoreAllMocks();
    expectNoSecrets(logged.join('\n'));
  });

  /** Writes an edited copy of the key file (0600) and returns its path. */
  async function edited(edit: (envelope: KeyEnvelope) => void): Promise<string> {
    const envelope = JSON.parse(text) as KeyEnvelope;
    edit(envelope);
    const copy = fresh();
    await writeFile(copy, JSON.stringify(envelope), { mode: 0o600 });
    return copy;
  }
  const flipBase64 = (value: string) => {
    const bytes = Buffer.from(value, 'base64');
    bytes[0] ^= 1;
    return bytes.toString('base64');
  };

  const cases: [string, () => Promise<string>, string, RegExp][] = [
    ['a wrong passphrase', async () => path, 'wrong horse battery staple', /wrong passphrase/],
    [
      'an edited ciphertext',
      () => edited((e) => (e.ciphertext = flipBase64(e.ciphertext))),
      PASS,
      /tampered/,
    ],
    ['an edited tag', () => edited((e) => (e.cipher.tag = flipBase64(e.cipher.tag))), PASS, /tampered/],
    ['an edited salt', () => edited((e) => (e.kdf.salt = flipBase64(e.kdf.salt))), PASS, /tampered/],
    ['an edited fingerprint', () => edited((e) => (e.fingerprint = 'ab'.repeat(32))), PASS, /tampered/],
    [
      'a swapped public key',
      () => edited((e) => (e.publicKey.n = (BigInt(`0x${e.publicKey.n}`) + 2n).toString(16))),
      PASS,
      /tampered/,
    ],
    ['a lowered KDF cost', () => edited((e) => (e.kdf.N = 2 ** 11)), PASS, /tampered/],
    ['an absurd KDF cost', () => edited((e) => (e.kdf.N = 2 ** 30)), PASS, /scrypt N=/],
    ['an unknown version', () => edited((e) => ((e as { version: number }).version = 3)), PASS, /version/],
    ['a downgrade to version 1', () => edited((e) => (e.version = 1)), PASS, /version 1/],
    ['a removed EC key', () => edited((e) => delete e.ec), PASS, /version 2/],
    [
      'a swapped EC public key',
      () => edited((e) => (e.ec!.publicKey = Buffer.from(generateEcKey().publicKey).toString('hex'))),
      PASS,
      /tampered/,
    ],
    [
      'a truncated file',
      async () => {
        const copy = fresh();
        await writeFile(copy, text.slice(0, text.length / 2), { mode: 0o600 });
        return copy;
      },
      PASS,
      /not a JSON key file/,
    ],
    [
      'permissions wider than 0600',
      async () => {
        const copy = fresh();
        await writeFile(copy, text, { mode: 0o600 });
        await chmod(copy, 0o644);
        return copy;
      },
      PASS,
      /permissions 0644/,
    ],
    ['a missing file', async () => join(dir, 'missing.json'), PASS, /cannot read/],
  ];

  it.each(cases)('%s', async (_name, file, passphrase, pattern) => {
    const error = await rejection(loadKey(await file(), passphrase));
    expect(error).toBeInstanceOf(KeystoreError);
    expect(error.code).toBe('KEYSTORE');
    expect(error.message).toMatch(pattern);
    expectNoSecrets(
      [error.message, error.stack, JSON.stringify(error), JSON.stringify(error.details)].join('\n'),
    );
  });

  it('refuses when no passphrase is given and FEDJOIN_PASSPHRASE is unset', async () => {
    const error = await rejection(loadKey(path));
    expect(error).toBeInstanceOf(KeystoreError);
    expect(error.message).toMatch(/FEDJOIN_PASSPHRASE/);
  });

  it('refuses a short passphrase on save', async () => {
    const error = await rejection(saveKey(fresh(), keys, 'short', FAST));
    expect(error).toBeInstanceOf(KeystoreError);
    expect(error.message).toMatch(/at least 8/);
  });
});

describe('rotateKey', () => {
  it('re-seals under the new passphrase: the old one stops working, the key is unchanged', async () => {
    const path = fresh();
    await saveKey(path, keys, PASS, FAST);
    const before = JSON.parse(await readFile(path, 'utf8'));
    const info = await rotateKey(path, PASS, 'a brand new passphrase');
    const after = JSON.parse(await readFile(path, 'utf8'));
    expect(info.fingerprint).toBe(before.fingerprint);
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(after.kdf.N).toBe(2 ** 12); // keeps the file's cost unless told otherwise
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const error = await rejection(loadKey(path, PASS));
    expect(error).toBeInstanceOf(KeystoreError);
    const loaded = await loadKey(path, 'a brand new passphrase');
    expect(loaded.privateKey.decrypt(keys.publicKey.encrypt(9n))).toBe(9n);
  });

  it('keeps the EC key across a rotation', async () => {
    const path = fresh();
    await saveKey(path, keys, PASS, FAST);
    await rotateKey(path, PASS, 'a brand new passphrase');
    expect((await loadKey(path, 'a brand new passphrase')).ec).toEqual(keys.ec);
  });

  it('leaves the file untouched when the old passphrase is wrong', async () => {
    const path = fresh();
    await saveKey(path, keys, PASS, FAST);
    const before = await readFile(path, 'utf8');
    const error = await rejection(rotateKey(path, 'not the passphrase', 'a brand new passphrase'));
    expect(error).toBeInstanceOf(KeystoreError);
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});

describe('a version 1 key file (test/fixtures/keystore-v1.json, written by the code before issue 10)', () => {
  const V1_PASS = 'version one passphrase';
  const fixture = new URL('../fixtures/keystore-v1.json', import.meta.url);
  /** A 0600 copy: git keeps no file modes but 0644 and 0755, and a key file must be 0600. */
  async function copy(): Promise<string> {
    const path = fresh();
    await copyFile(fixture, path);
    await chmod(path, 0o600);
    return path;
  }

  it('opens as a Paillier pair without an EC key, and says so in clear', async () => {
    const path = await copy();
    const info = await readKeyInfo(path);
    expect(info.version).toBe(1);
    expect(info.publicKey.ec).toBeNull();
    const loaded = await loadKey(path, V1_PASS);
    expect(loaded.ec).toBeUndefined();
    expect(ecKeyOf(loaded.publicKey)).toBeNull();
    expect(fingerprint(loaded.publicKey.n)).toBe(info.fingerprint);
    expect(loaded.privateKey.decrypt(loaded.publicKey.encrypt(31337n))).toBe(31337n);
  });

  it('gains a fresh EC key on rotation (version 2), its Paillier key unchanged', async () => {
    const path = await copy();
    const before = await loadKey(path, V1_PASS);
    const info = await rotateKey(path, V1_PASS, V1_PASS);
    expect(info.version).toBe(2);
    expect(info.fingerprint).toBe(fingerprint(before.publicKey.n));
    const after = await loadKey(path, V1_PASS);
    expect(after.privateKey.decrypt(before.publicKey.encrypt(5n))).toBe(5n);
    expect(after.ec?.fingerprint).toBe(info.publicKey.ec?.fingerprint);
    expect(after.ec?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
});
