// `fedjoin keygen [--bits 2048] [--out .fedjoin/paillier.key] [--json]`: server B's Paillier
// key pair and its EC key of the hashed join (DESIGN §3.2), both private keys sealed at
// rest in one file (scrypt + AES-256-GCM, 0600, src/keystore/), the public keys beside it
// as <stem>.pub.json for every other role. Prints the fingerprints, never a key. `--rotate`
// re-seals an existing key file under a new passphrase ($FEDJOIN_NEW_PASSPHRASE or a
// prompt); a version 1 file gains an EC key then, and its .pub.json is written again.
// `--join-secret` makes the owners' shared join secret K instead (0600; owners only).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { generateKeys } from '../../engine/keys.js';
import { KeystoreError } from '../../errors.js';
import { readKeyInfo, rotateKey, saveKey } from '../../keystore/index.js';
import {
  joinSecretFileText,
  obtainPassphrase,
  publicKeyFileText,
  writeFileAtomic,
} from '../../serve/files.js';
import { guarded, integerOption, toJson } from './util.js';

export const NEW_PASSPHRASE_ENV = 'FEDJOIN_NEW_PASSPHRASE';

interface KeygenFlags {
  bits: number;
  out?: string;
  force?: boolean;
  json?: boolean;
  scryptN?: number;
  rotate?: boolean;
  joinSecret?: boolean;
}

/** b.key -> b.pub.json; other names get .pub.json appended. */
export function publicKeyPath(keyPath: string): string {
  return keyPath.endsWith('.key') ? `${keyPath.slice(0, -4)}.pub.json` : `${keyPath}.pub.json`;
}

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description(
      "make server B's Paillier key pair and EC key, sealed at rest under a passphrase ($FEDJOIN_PASSPHRASE or a prompt); " +
        'writes <out> (0600) and <stem>.pub.json and prints the fingerprints',
    )
    .option('--bits <n>', 'Paillier modulus size', integerOption, 2048)
    .option('--out <path>', 'key file (default .fedjoin/paillier.key; join.secret with --join-secret)')
    .option('--force', 'replace existing files')
    .option('--scrypt-n <N>', 'scrypt cost N, a power of two (default 2^17)', integerOption)
    .option(
      '--rotate',
      `re-seal the existing key file under a new passphrase ($${NEW_PASSPHRASE_ENV} or a prompt); ` +
        'a key file from before the EC key gains one, and <stem>.pub.json is rewritten',
    )
    .option('--join-secret', "make the data owners' shared join secret K instead (owners only)")
    .option('--json', 'print the result as JSON')
    .action(async function (this: Command, flags: KeygenFlags) {
      await guarded(this, async () => {
        if (flags.out === undefined) await mkdir('.fedjoin', { recursive: true, mode: 0o700 });
        else await mkdir(dirname(flags.out), { recursive: true });
        const print = (human: string, data: unknown) =>
          process.stdout.write(flags.json ? `${toJson(data)}\n` : `${human}\n`);
        if (flags.joinSecret) {
          const out = flags.out ?? '.fedjoin/join.secret';
          await writeFileAtomic(out, joinSecretFileText(), { secret: true, overwrite: flags.force === true });
          print(
            `wrote the owners' join secret to ${out} (0600): copy it to every data owner, never to A or B`,
            {
              joinSecret: out,
            },
          );
          return;
        }
        const out = flags.out ?? '.fedjoin/paillier.key';
        const scrypt = flags.scryptN ? { scrypt: { N: flags.scryptN } } : {};
        if (flags.rotate) {
          const old = await obtainPassphrase(`current passphrase for ${out}: `);
          const fresh = process.env[NEW_PASSPHRASE_ENV] ?? (await promptNew(out));
          const hadEc = (await readKeyInfo(out)).publicKey.ec !== null;
          const info = await rotateKey(out, old, fresh, scrypt);
          const ecFingerprint = info.publicKey.ec!.fingerprint;
          // a new EC key is of no use until A and the owners have it
          const pub = hadEc ? undefined : publicKeyPath(out);
          if (pub)
            await writeFileAtomic(pub, publicKeyFileText(info.publicKey), { secret: false, overwrite: true });
          print(
            `re-sealed ${out} under the new passphrase; fingerprint ${info.fingerprint} (unchanged)` +
              (pub
                ? `\nadded an EC key for hashed joins, fingerprint ${ecFingerprint}: wrote ${pub}, give it to server A and the owners again`
                : `, EC fingerprint ${ecFingerprint} (unchanged)`),
            {
              keyFile: out,
              fingerprint: info.fingerprint,
              ecFingerprint,
              bits: info.bits,
              rotated: true,
              ...(pub ? { ecKeyAdded: true, publicKeyFile: pub } : {}),
            },
          );
          return;
        }
        const passphrase = await obtainPassphrase(`passphrase for ${out}: `, true);
        const keys = await generateKeys(flags.bits);
        const info = await saveKey(out, keys, passphrase, { overwrite: flags.force === true, ...scrypt });
        keys.ec?.secretKey.fill(0); // sealed now: this process has no further use for x
        const pub = publicKeyPath(out);
        await writeFileAtomic(pub, publicKeyFileText(keys.publicKey), {
          secret: false,
          overwrite: flags.force === true,
        });
        const ecFingerprint = info.publicKey.ec!.fingerprint;
        print(
          `wrote ${out} (private keys, sealed, 0600; server B only) and ${pub} (public keys, for every role)\n` +
            `fingerprint ${info.fingerprint} (${info.bits} bits), EC fingerprint ${ecFingerprint} (ristretto255)`,
          { keyFile: out, publicKeyFile: pub, fingerprint: info.fingerprint, ecFingerprint, bits: info.bits },
        );
      });
    });
}

async function promptNew(out: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new KeystoreError(`new passphrase: ${NEW_PASSPHRASE_ENV} is not set and stdin is not a terminal`);
  }
  // obtainPassphrase reads $FEDJOIN_PASSPHRASE first: prompt with it cleared
  const saved = process.env.FEDJOIN_PASSPHRASE;
  delete process.env.FEDJOIN_PASSPHRASE;
  try {
    return await obtainPassphrase(`new passphrase for ${out}: `, true);
  } finally {
    if (saved !== undefined) process.env.FEDJOIN_PASSPHRASE = saved;
  }
}
