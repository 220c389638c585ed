// The job queue on a real redis-server (issue 13, DESIGN §7): the nested-loop join and a
// large decrypt batch through `fedjoin worker` processes, one SIGKILLed mid-job, give what
// SQLite and the in-process engine give; a call waits for workers that start later; a shard
// that keeps failing ends its call with a typed error; refusals, aborts, duplicate replies,
// what Redis holds, an ACL user over TLS, and one check at 2048 bits.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJoinSecret } from '../../src/data/join-key.js';
import { type Cell, type ColumnSchema, Table } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { ecKeyOf, generateKeys, type KeyPair, privateMaterial } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { PoolRunner } from '../../src/engine/pool.js';
import type { TaskRunner } from '../../src/engine/runner.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import {
  AbortedError,
  InvalidArgumentError,
  KeyMismatchError,
  PeerAuthError,
  QueueJobFailedError,
} from '../../src/errors.js';
import { initCa } from '../../src/http/ca.js';
import { saveKey } from '../../src/keystore/index.js';
import { concat, slice } from '../../src/protocol/batch.js';
import { InProcessTransport } from '../../src/protocol/transport.js';
import { decodeTask, encodeResult, replyFrame } from '../../src/queue/codec.js';
import { KEY_PREFIX, type QueueRole, type QueueSettings, queueSecret } from '../../src/queue/config.js';
import { startWorkers, stopWorkers, type WorkerProcess, writeQueueSecret } from '../../src/queue/local.js';
import type { JobData } from '../../src/queue/runner.js';
import { Sealer } from '../../src/queue/seal.js';
import { QueueWorker } from '../../src/queue/worker.js';
import { Client } from '../../src/roles/client.js';
import { DataOwner } from '../../src/roles/data-owner.js';
import { createFederation } from '../../src/roles/federation.js';
import { ServerA } from '../../src/roles/server-a.js';
import { ServerB } from '../../src/roles/server-b.js';
import { expectSqliteAnswer, valuesOf } from '../helpers/answers.js';
import { haveRedis, withRedis } from '../helpers/redis.js';
import { runSqlite } from '../helpers/sqlite.js';
import { lcg } from '../helpers/tables.js';

const PASSPHRASE = 'queue-test-passphrase';
/** Short locks so a SIGKILLed worker's job is retried within ~3 s. */
const FAST_LOCKS = { lockDurationMs: 2000, stalledIntervalMs: 1000 };
const AGGREGATE = 'SELECT COUNT(*), SUM(a.x), AVG(b.y) FROM lt a JOIN rt b ON a.k = b.k';
const SUMS = 'SELECT SUM(b.y), AVG(a.x), COUNT(*) FROM lt a JOIN rt b ON a.k = b.k';

let dir: string;
let keys: KeyPair;
let keyFile: string;
const secrets = {} as Record<QueueRole, string>;
let local: Engine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-queue-test-'));
  keys = await generateKeys(1024);
  keyFile = join(dir, 'server-b.key');
  await saveKey(keyFile, keys, PASSPHRASE, { scrypt: { N: 2 ** 10, r: 8, p: 1 } });
  secrets['server-a'] = await writeQueueSecret(dir, 'server-a.secret');
  secrets['server-b'] = await writeQueueSecret(dir, 'server-b.secret');
  local = await createEngine({ workers: 1 });
});
afterAll(async () => {
  await local?.close();
  await rm(dir, { recursive: true, force: true });
});

function settings(redis: string, role: QueueRole): QueueSettings {
  return { redis, role, secretFile: secrets[role], ...FAST_LOCKS };
}

/** `fedjoin worker` processes of one thread each, configured as the role's config file says. */
async function startRoleWorkers(redis: string, role: QueueRole, count: number): Promise<WorkerProcess[]> {
  const config = join(dir, `${role}-${count}-${Date.now()}.json`);
  const queue = settings(redis, role);
  await writeFile(config, JSON.stringify({ role, credentials: dir, keyFile, engine: { queue } }));
  return startWorkers(count, {
    role,
    redis,
    secretFile: secrets[role],
    threads: 1,
    args: ['--config', config],
    env: { FEDJOIN_PASSPHRASE: PASSPHRASE },
  });
}

function randomTable(name: string, rows: number, seed: number, extra: ColumnSchema): Table {
  const rand = lcg(seed);
  const schema: ColumnSchema[] = [{ name: 'k', type: 'integer' }, extra];
  const data: Cell[][] = Array.from({ length: rows }, () => [
    BigInt(Math.floor(rand() * 5)),
    extra.type === 'decimal' ? Math.round(rand() * 100_000) / 1000 : BigInt(Math.floor(rand() * 1000)),
  ]);
  return Table.fromRows(name, schema, data);
}

const left = randomTable('lt', 16, 3, { name: 'x', type: 'decimal' });
const right = randomTable('rt', 14, 5, { name: 'y', type: 'integer' });

/** Plaintexts 0..count-1 scaled, and their ciphertexts (DJN randomness: quick to make). */
async function ciphertexts(count: number, pair: KeyPair = keys) {
  const ms = Array.from({ length: count }, (_, i) => (BigInt(i) * 1_000_003n) % pair.publicKey.n);
  return { ms, cs: await local.encrypt(pair.publicKey, ms, { mode: 'djn' }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!haveRedis)('the job queue on a real redis-server', () => {
  it('joins and decrypts through 3 worker processes per role, one SIGKILLed mid-job, as SQLite and the in-process engine do', async () => {
    await withRedis(async (redis) => {
      const [workersA, workersB] = await Promise.all([
        startRoleWorkers(redis.url, 'server-a', 3),
        startRoleWorkers(redis.url, 'server-b', 3),
      ]);
      const engineA = await createEngine({ queue: settings(redis.url, 'server-a') });
      const engineB = await createEngine({ queue: settings(redis.url, 'server-b') });
      const reference = await createFederation({ engine: local, bits: 1024, policy: { minGroupSize: 3 } });
      try {
        // A and B each on its own queue; the owners encrypt on their own (local) engine
        const transport = new InProcessTransport(false);
        new ServerB({ engine: engineB, transport, keys, policy: { minGroupSize: 3 } });
        new ServerA({ engine: engineA, transport, publicKey: keys.publicKey });
        const client = new Client({ transport });
        const joinSecret = generateJoinSecret();
        const owner = (name: string) =>
          new DataOwner({ name, engine: local, transport, publicKey: keys.publicKey, joinSecret });
        for (const fed of [
          { owner, client },
          { owner: reference.owner, client: reference.client },
        ]) {
          await fed
            .owner('left-owner')
            .shareTable(left, { joinKeys: [['k']], joinModes: ['nested', 'hashed'] });
          await fed
            .owner('right-owner')
            .shareTable(right, { joinKeys: [['k']], joinModes: ['nested', 'hashed'] });
        }

        // A's workers make the hashed join's re-randomisers once the tables are stored:
        // wait for them, so that the worker killed next holds a join tile
        const Y = ecKeyOf(keys.publicKey)!.publicKey;
        while (engineA.rerandomizerPoolSize(Y) < left.rowCount + right.rowCount) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        // one of A's workers dies holding a join tile (not a re-randomiser job it ran before)
        const victimA = workersA[0];
        const killedA = victimA
          .waitFor('job-start', victimA.lines.length)
          .then(() => victimA.process.kill('SIGKILL'));
        const answer = await client.query(AGGREGATE, { mode: 'nested' });
        await killedA;
        const [row] = runSqlite([left, right], AGGREGATE);
        expect(answer.rowsJoined).toBe(row[0]);
        expectSqliteAnswer(answer, row, 7);
        const inProcess = await reference.client.query(AGGREGATE, { mode: 'nested' });
        expect(valuesOf(answer)).toEqual(valuesOf(inProcess));

        const second = await client.query(SUMS, { mode: 'nested' });
        expectSqliteAnswer(second, runSqlite([left, right], SUMS)[0], 7);
        // hashed: A's blinding on A's workers, the EC decryption on B's, which add B's x themselves
        expectSqliteAnswer(
          await client.query(SUMS, { mode: 'hashed' }),
          runSqlite([left, right], SUMS)[0],
          7,
        );

        // a large decrypt batch; one of B's workers dies holding a shard of it
        const { ms, cs } = await ciphertexts(1500);
        const victimB = workersB[0];
        const killedB = victimB
          .waitFor('job-start', victimB.lines.length)
          .then(() => victimB.process.kill('SIGKILL'));
        const decrypted = await engineB.decrypt(keys.privateKey, cs);
        await killedB;
        expect(decrypted).toEqual(ms);
        expect(decrypted).toEqual(await local.decrypt(keys.privateKey, cs));

        // the join's shared parts (its right tables, once per call) are gone with their calls
        const inspect = new Redis({ host: '127.0.0.1', port: redis.port });
        expect(await inspect.keys(`${KEY_PREFIX}:server-a:shared:*`)).toEqual([]);
        inspect.disconnect();

        // each killed worker's job was taken again by a survivor after its lock lapsed
        for (const [victim, workers] of [
          [victimA, workersA],
          [victimB, workersB],
        ] as const) {
          expect(await victim.exited).toBe('SIGKILL');
          const retried = workers
            .filter((w) => w !== victim)
            .flatMap((w) => w.lines)
            .filter((line) => line.event === 'job' && Number(line.stalled) > 0);
          expect(retried.length).toBeGreaterThan(0);
        }
      } finally {
        await Promise.all([engineA.close(), engineB.close()]);
        await stopWorkers([...workersA, ...workersB]);
      }
      // SIGTERM: each surviving worker finished and logged its totals
      for (const w of [...workersA, ...workersB].filter((w) => w.process.signalCode !== 'SIGKILL')) {
        expect(await w.exited).toBe(0);
        expect(w.lines.at(-1)?.event).toBe('stopped');
      }
    });
  });

  it('runs a call started before any worker exists once workers start; Redis holds sealed bytes only', async () => {
    await withRedis(async (redis) => {
      const engine = await createEngine({ queue: settings(redis.url, 'server-b') });
      const queue = new Queue<JobData>('server-b', {
        connection: { host: '127.0.0.1', port: redis.port },
        prefix: KEY_PREFIX,
      });
      const workers: QueueWorker[] = [];
      try {
        const { ms, cs } = await ciphertexts(120);
        let settled = false;
        const pending = engine.decrypt(keys.privateKey, cs).finally(() => {
          settled = true;
        });
        await sleep(500);
        expect(settled).toBe(false);
        const waiting = await queue.getWaiting();
        expect(waiting.length).toBeGreaterThan(0);
        // no ciphertext, no prime, no op name in what Redis holds: sizes and timings only
        const needles = [
          Buffer.from(pack([cs[0]], wordsFor(keys.publicKey.n ** 2n)).data.buffer).subarray(0, 32),
          Buffer.from(privateMaterial(keys.privateKey).p!.toString(16), 'utf8'),
          Buffer.from('decrypt', 'utf8'),
        ];
        for (const job of waiting) {
          const held = [Buffer.from(JSON.stringify(job.asJSON())), Buffer.from(job.data.body, 'base64')];
          for (const needle of needles) for (const bytes of held) expect(bytes.includes(needle)).toBe(false);
        }
        for (let i = 0; i < 2; i++) {
          workers.push(
            await QueueWorker.start({ settings: settings(redis.url, 'server-b'), threads: 1, keys }),
          );
        }
        expect(await pending).toEqual(ms);
      } finally {
        await engine.close();
        await Promise.all(workers.map((w) => w.close()));
        await queue.close();
      }
    });
  });

  it("sends A's join jobs without rho: A's workers draw the randomisers themselves", async () => {
    await withRedis(async (redis) => {
      const engine = await createEngine({ queue: settings(redis.url, 'server-a') });
      const queue = new Queue<JobData>('server-a', {
        connection: { host: '127.0.0.1', port: redis.port },
        prefix: KEY_PREFIX,
      });
      let worker: QueueWorker | undefined;
      try {
        const { cs } = await ciphertexts(3);
        const words = wordsFor(keys.publicKey.n ** 2n);
        const right = await local.inversePacked(keys.publicKey, pack([cs[2], cs[0]], words));
        const tables = await local.joinTablesPacked(keys.publicKey, concat([pack(cs, words), right]));
        const pending = engine.joinPairsPacked(keys.publicKey, slice(tables, 0, 3), slice(tables, 3, 5));
        while ((await queue.getWaitingCount()) === 0) await sleep(20);
        const sealer = new Sealer(await queueSecret(settings(redis.url, 'server-a')), 'server-a');
        for (const job of await queue.getWaiting()) {
          const { call, shard, body } = job.data;
          const { task } = decodeTask(
            sealer.open({ direction: 'job', call, shard }, Buffer.from(body, 'base64')),
          );
          expect(task.op).toBe('joinPairs');
          expect('rand' in task).toBe(false);
        }
        worker = await QueueWorker.start({ settings: settings(redis.url, 'server-a'), threads: 1 });
        const bits = Array.from(await local.zeroTestPacked(keys.privateKey, await pending), (b) => b === 1);
        expect(bits).toEqual([false, true, false, false, true, false]);
      } finally {
        await engine.close();
        await worker?.close();
        await queue.close();
      }
    });
  });

  it("runs every job of a call on the one shared part its worker fetched: the join's right tables", async () => {
    await withRedis(async (redis) => {
      const worker = await QueueWorker.start({ settings: settings(redis.url, 'server-a'), threads: 1 });
      const engine = await createEngine({ queue: settings(redis.url, 'server-a') });
      try {
        // 24 x 16 pairs: enough work for a few jobs, each pairing its rows with all 16 right tables
        const { cs } = await ciphertexts(24);
        const words = wordsFor(keys.publicKey.n ** 2n);
        const right = await local.inversePacked(keys.publicKey, pack(cs.slice(4, 20), words));
        const tables = await local.joinTablesPacked(keys.publicKey, concat([pack(cs, words), right]));
        const [left, rightTables] = [slice(tables, 0, 24), slice(tables, 24, 40)];
        const queued = await engine.joinPairsPacked(keys.publicKey, left, rightTables);
        const inProcess = await local.joinPairsPacked(keys.publicKey, left, rightTables);
        expect(worker.stats.jobs).toBeGreaterThan(1);
        expect(await local.zeroTestPacked(keys.privateKey, queued)).toEqual(
          await local.zeroTestPacked(keys.privateKey, inProcess),
        );
        const inspect = new Redis({ host: '127.0.0.1', port: redis.port });
        expect(await inspect.keys(`${KEY_PREFIX}:server-a:shared:*`)).toEqual([]);
        inspect.disconnect();
      } finally {
        await engine.close();
        await worker.close();
      }
    });
  });

  it('ends a call whose shard keeps failing with QueueJobFailedError naming the shard', async () => {
    await withRedis(async (redis) => {
      const { cs } = await ciphertexts(200);
      const target = 137;
      const needle = pack([cs[target]], wordsFor(keys.publicKey.n ** 2n)).data;
      const pool = new PoolRunner({ workers: 1 });
      // a worker whose runner throws on any job holding value 137: every attempt fails
      const faulty: TaskRunner = {
        workers: 1,
        whenIdle: () => pool.whenIdle(),
        close: () => pool.close(),
        run: (task, signal) =>
          holds(task.input, needle) ? Promise.reject(new Error('injected fault')) : pool.run(task, signal),
      };
      const worker = await QueueWorker.start({
        settings: settings(redis.url, 'server-b'),
        threads: 1,
        keys,
        runner: faulty,
      });
      const engine = await createEngine({ queue: settings(redis.url, 'server-b') });
      try {
        const err = await engine.decrypt(keys.privateKey, cs).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(QueueJobFailedError);
        const failed = err as QueueJobFailedError;
        expect(failed.code).toBe('QUEUE_JOB_FAILED');
        expect(failed.details.start as number).toBeLessThanOrEqual(target);
        expect(failed.details.end as number).toBeGreaterThan(target);
        expect(failed.message).toMatch(
          /^shard \d+ \(values \d+\.\.\d+\) failed on the queue: injected fault/,
        );
      } finally {
        await engine.close();
        await worker.close();
      }
    });
  });

  it("returns refusals as typed errors: a job under another key, a private job on A's queue", async () => {
    await withRedis(async (redis) => {
      const other = await generateKeys(1024);
      const worker = await QueueWorker.start({ settings: settings(redis.url, 'server-b'), threads: 1, keys });
      const engineA = await createEngine({ queue: settings(redis.url, 'server-a') });
      const engineB = await createEngine({ queue: settings(redis.url, 'server-b') });
      try {
        const { cs } = await ciphertexts(30, other);
        const err = await engineB.decrypt(other.privateKey, cs).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KeyMismatchError);
        expect((err as KeyMismatchError).code).toBe('KEY_MISMATCH');
        expect((err as KeyMismatchError).details.shard).toBe(0);
        const { cs: ours } = await ciphertexts(1);
        const misrouted = await engineA.decrypt(keys.privateKey, ours).catch((e: unknown) => e);
        expect(misrouted).toBeInstanceOf(InvalidArgumentError);
        expect((misrouted as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
      } finally {
        await Promise.all([engineA.close(), engineB.close(), worker.close()]);
      }
    });
  });

  it('aborting a call removes its waiting jobs; a reply that arrives twice is taken once', async () => {
    await withRedis(async (redis) => {
      const engine = await createEngine({ queue: settings(redis.url, 'server-b') });
      const queue = new Queue<JobData>('server-b', {
        connection: { host: '127.0.0.1', port: redis.port },
        prefix: KEY_PREFIX,
      });
      const redisClient = new Redis({ host: '127.0.0.1', port: redis.port });
      let worker: QueueWorker | undefined;
      try {
        const { ms, cs } = await ciphertexts(120);
        const controller = new AbortController();
        const aborted = engine
          .decrypt(keys.privateKey, cs, { signal: controller.signal })
          .catch((e: unknown) => e);
        while ((await queue.getWaitingCount()) === 0) await sleep(20);
        controller.abort();
        const err = await aborted;
        expect(err).toBeInstanceOf(AbortedError);
        expect((err as AbortedError).code).toBe('ABORTED');
        expect(await queue.getWaitingCount()).toBe(0);

        // act as a worker for shard 0 by hand: its true reply, then a second one of zeros
        const pending = engine.decrypt(keys.privateKey, cs);
        while ((await queue.getWaitingCount()) === 0) await sleep(20);
        const [first] = (await queue.getWaiting()).filter((job) => job.data.shard === 0);
        const { call, reply, body } = first.data;
        const sealer = new Sealer(await queueSecret(settings(redis.url, 'server-b')), 'server-b');
        const opened = decodeTask(
          sealer.open({ direction: 'job', call, shard: 0 }, Buffer.from(body, 'base64')),
        );
        const task = { ...opened.task, key: privateMaterial(keys.privateKey) };
        const truth = (await WasmBackend.create()).run(task);
        for (const words of [truth, new Uint32Array(truth.length)]) {
          const sealed = sealer.seal({ direction: 'reply', call, shard: 0 }, encodeResult(words));
          await redisClient.rpush(reply, replyFrame(call, 0, sealed));
        }
        // a real worker does every shard, shard 0 included: its reply for shard 0 is dropped too
        worker = await QueueWorker.start({ settings: settings(redis.url, 'server-b'), threads: 1, keys });
        expect(await pending).toEqual(ms);
      } finally {
        await engine.close();
        await worker?.close();
        await queue.close();
        redisClient.disconnect();
      }
    });
  });

  it('connects as an ACL user over TLS (rediss:// and a CA file); a wrong password is PeerAuthError', async () => {
    const ca = await initCa(join(dir, 'ca'), { roles: ['server-a'], keyBits: 2048 });
    const { cert, key } = ca.roles['server-a'];
    const password = 'redis-acl-password';
    await withRedis(
      async (redis) => {
        expect(redis.url.startsWith('rediss://fedjoin:')).toBe(true);
        const tls = { ...settings(redis.url, 'server-b'), caFile: ca.caCert };
        const worker = await QueueWorker.start({ settings: tls, threads: 1, keys });
        const engine = await createEngine({ queue: tls });
        try {
          const { ms, cs } = await ciphertexts(40);
          expect(await engine.decrypt(keys.privateKey, cs)).toEqual(ms);
        } finally {
          await Promise.all([engine.close(), worker.close()]);
        }
        // this role's user cannot reach the other role's queue, nor run a dangerous command
        const raw = new Redis({
          port: redis.port,
          username: 'fedjoin',
          password,
          tls: { ca: await readFile(ca.caCert), servername: 'localhost' },
        });
        for (const attempt of [() => raw.get('fedjoin:server-a:wait'), () => raw.flushall()]) {
          await expect(attempt()).rejects.toThrow(/NOPERM/);
        }
        raw.disconnect();
        const wrong = { ...tls, redis: redis.url.replace(password, 'not-the-password') };
        const err = await createEngine({ queue: wrong }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PeerAuthError);
        expect((err as PeerAuthError).code).toBe('PEER_AUTH');
        expect((err as PeerAuthError).message).not.toContain('not-the-password');
      },
      {
        user: { name: 'fedjoin', password, keys: 'fedjoin:server-b:*' },
        tls: { certFile: cert, keyFile: key, caFile: ca.caCert },
      },
    );
  });

  it('at 2048 bits, join indicators, zero tests and decryptions through the queue match the in-process engine', async () => {
    const big = await generateKeys(2048);
    await withRedis(async (redis) => {
      const workers = await Promise.all([
        QueueWorker.start({ settings: settings(redis.url, 'server-a'), threads: 1 }),
        QueueWorker.start({ settings: settings(redis.url, 'server-b'), threads: 1, keys: big }),
      ]);
      const engineA = await createEngine({ queue: settings(redis.url, 'server-a') });
      const engineB = await createEngine({ queue: settings(redis.url, 'server-b') });
      try {
        const { ms, cs } = await ciphertexts(3, big);
        const right = await engineA.inverse(big.publicKey, [cs[1], cs[0]]);
        const indicators = await engineA.joinIndicators(
          big.publicKey,
          cs.map((c) => [c]),
          right.map((c) => [c]),
        );
        const bits = await engineB.zeroTest(big.privateKey, indicators);
        expect(bits).toEqual([false, true, true, false, false, false]);
        expect(bits).toEqual(await local.zeroTest(big.privateKey, indicators));
        expect(await engineB.decrypt(big.privateKey, cs)).toEqual(ms);
      } finally {
        await Promise.all([engineA.close(), engineB.close()]);
        await Promise.all(workers.map((w) => w.close()));
      }
    });
  });
});

/** Whether `words` holds `needle` at a multiple of its length. */
function holds(words: Uint32Array, needle: Uint32Array): boolean {
  for (let at = 0; at + needle.length <= words.length; at += needle.length) {
    if (needle.every((w, i) => words[at + i] === w)) return true;
  }
  return false;
}
