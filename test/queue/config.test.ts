// Configuring the job queue (issue 13, DESIGN §7): Redis URLs (ACL user, password, TLS
// with a CA), the queue secret file, a role config's engine.queue with its environment
// overrides, and `fedjoin worker`'s exit codes for a bad flag, a loose secret and a Redis
// that is not there. None of these needs a redis-server.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMainPath } from '../../src/demo/children.js';
import { freePort } from '../../src/demo/free-port.js';
import { InvalidArgumentError, KeystoreError } from '../../src/errors.js';
import { loadQueueSecret, redactedUrl, redisOptions } from '../../src/queue/config.js';
import { writeQueueSecret } from '../../src/queue/local.js';
import { loadRoleConfig } from '../../src/serve/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-queue-config-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function fails(fn: () => Promise<unknown>): Promise<unknown> {
  return fn().then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('redisOptions', () => {
  it('takes host, port, database, ACL user and password from the URL', async () => {
    const options = await redisOptions('redis://queue%40a:p%3Ass@10.0.0.7:6390/2');
    expect(options).toMatchObject({
      host: '10.0.0.7',
      port: 6390,
      db: 2,
      username: 'queue@a',
      password: 'p:ss',
    });
    expect(options.tls).toBeUndefined();
  });

  it('uses TLS for rediss://, verifying against the CA file when given', async () => {
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
    expect((await redisOptions('rediss://redis.internal')).tls).toEqual({ servername: 'redis.internal' });
    const options = await redisOptions('rediss://redis.internal:6380', ca);
    expect(options.port).toBe(6380);
    expect(Buffer.isBuffer(options.tls.ca)).toBe(true);
  });

  it('refuses a CA with a plain redis:// URL, other schemes and bad databases, never echoing the password', async () => {
    for (const [url, ca] of [
      ['redis://u:secret-pw@h:1', join(dir, 'ca.pem')],
      ['http://u:secret-pw@h:1', undefined],
      ['redis://u:secret-pw@h:1/x', undefined],
      ['not a url', undefined],
    ] as const) {
      const err = await fails(() => redisOptions(url, ca));
      expect(err, url).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).not.toContain('secret-pw');
    }
    expect(redactedUrl('rediss://u:secret-pw@h:1')).toBe('rediss://u:***@h:1');
  });
});

describe('queue secret', () => {
  it('loads 32 hex bytes from a 0600 file and refuses a readable or malformed one', async () => {
    const good = await writeQueueSecret(dir, 'good.secret');
    expect((await loadQueueSecret(good)).length).toBe(32);
    const loose = join(dir, 'loose.secret');
    await writeFile(loose, `${'ab'.repeat(32)}\n`);
    await chmod(loose, 0o644);
    const short = join(dir, 'short.secret');
    await writeFile(short, 'abcd\n', { mode: 0o600 });
    for (const path of [loose, short, join(dir, 'missing.secret')]) {
      const err = await fails(() => loadQueueSecret(path));
      expect(err, path).toBeInstanceOf(KeystoreError);
      expect((err as KeystoreError).code).toBe('KEYSTORE');
    }
  });

  it('says which rule a refused file breaks, naming the file', async () => {
    const loose = join(dir, 'loose-msg.secret');
    await writeFile(loose, `${'ab'.repeat(32)}\n`);
    await chmod(loose, 0o644);
    const long = join(dir, 'long.secret');
    await writeFile(long, `${'ab'.repeat(33)}\n`, { mode: 0o600 });
    const missing = join(dir, 'missing-msg.secret');
    for (const [path, message] of [
      [loose, `queue secret ${loose}: others may read it; expected mode 0600`],
      [long, `queue secret ${long}: expected 32 bytes as hex`],
      [missing, `queue secret ${missing}: cannot read it (ENOENT)`],
    ]) {
      const err = await fails(() => loadQueueSecret(path));
      expect(err, path).toBeInstanceOf(KeystoreError);
      expect((err as KeystoreError).message).toBe(message);
    }
  });
});

describe('engine.queue in a role config', () => {
  it('resolves paths against the file, takes the role from the config, and lets FEDJOIN_REDIS_URL win', async () => {
    const file = join(dir, 'a.json');
    await writeFile(
      file,
      JSON.stringify({
        role: 'server-a',
        credentials: 'creds',
        engine: {
          queue: { redis: 'redis://file-host:6379', secretFile: 'queue-a.secret', caFile: 'ca.pem' },
        },
      }),
    );
    const { config } = await loadRoleConfig(file, {});
    expect(config.engine.queue).toEqual({
      redis: 'redis://file-host:6379',
      role: 'server-a',
      secretFile: join(dir, 'queue-a.secret'),
      caFile: join(dir, 'ca.pem'),
    });
    const env = { FEDJOIN_REDIS_URL: 'rediss://env-host:6380', FEDJOIN_QUEUE_SECRET_FILE: '/etc/q.secret' };
    const overridden = (await loadRoleConfig(file, env)).config.engine.queue;
    expect(overridden).toMatchObject({ redis: 'rediss://env-host:6380', secretFile: '/etc/q.secret' });

    const bare = join(dir, 'bare.json');
    await writeFile(bare, JSON.stringify({ role: 'server-b', credentials: 'creds' }));
    expect((await loadRoleConfig(bare, {})).config.engine.queue).toBeUndefined();
    expect((await loadRoleConfig(bare, env)).config.engine.queue).toMatchObject({
      redis: 'rediss://env-host:6380',
      role: 'server-b',
    });
  });
});

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliMainPath(), ...args],
      { env: { ...process.env, FEDJOIN_REDIS_URL: '', FEDJOIN_PASSPHRASE: '' }, timeout: 30_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('fedjoin worker', () => {
  it('exits 2 on a bad role or no URL, 3 on a loose secret, 5 when Redis is not there', async () => {
    const secret = await writeQueueSecret(dir, 'cli.secret');
    const loose = join(dir, 'cli-loose.secret');
    await writeFile(loose, `${'cd'.repeat(32)}\n`, { mode: 0o644 });
    await chmod(loose, 0o644);
    const url = `redis://127.0.0.1:${await freePort()}`;
    const cases: [string[], number, RegExp][] = [
      [['worker', '--role', 'client', '--redis', url], 2, /--role/],
      [['worker', '--role', 'server-a', '--queue-secret', secret], 2, /--redis/],
      [['worker', '--role', 'server-a', '--redis', url, '--queue-secret', loose], 3, /KEYSTORE/],
      [
        ['worker', '--role', 'server-a', '--redis', url, '--queue-secret', secret],
        5,
        /TRANSPORT: redis .* unreachable/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach(({ code, stderr }, i) => {
      expect(code, cases[i][0].join(' ')).toBe(cases[i][1]);
      expect(stderr).toMatch(cases[i][2]);
    });
  });
});
