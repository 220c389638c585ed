// The worker pool (issue 3): results identical to the in-thread engine for every
// operation, order under uneven shards, crashed workers, cancellation, streaming with
// bounded memory, errors crossing threads as typed classes, and the randomness pool.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import {
  djnExponentBits,
  generateKeys,
  type KeyMaterial,
  type KeyPair,
  privateMaterial,
} from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { PoolRunner } from '../../src/engine/pool.js';
import { drawBelow, drawBits } from '../../src/engine/randomness.js';
import type { KernelTask } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import { AbortedError, CiphertextRangeError, WorkerCrashedError } from '../../src/errors.js';

const faultyWorker = fileURLToPath(new URL('../fixtures/faulty-worker.mjs', import.meta.url));

let keys: KeyPair;
let key: KeyMaterial;
let local: WasmBackend;
let pool: PoolRunner;

beforeAll(async () => {
  keys = await generateKeys(1024);
  key = privateMaterial(keys.privateKey);
  local = await WasmBackend.create();
  pool = new PoolRunner({ workers: 2 });
});
afterAll(async () => {
  await pool.close();
});

function ciphertexts(count: number): Uint32Array {
  const cs = Array.from({ length: count }, (_, i) => keys.publicKey.encrypt(BigInt(i) * 1_000_003n));
  return pack(cs, wordsFor(key.n * key.n)).data;
}

/** One task per kernel operation, randomness pinned, `count` values. */
function tasks(count: number): KernelTask[] {
  const r = drawBelow(key.n, count);
  const a = drawBits(djnExponentBits(key.n), count);
  const ms = pack(
    Array.from({ length: count }, (_, i) => (BigInt(i) * 0x1234567n) % key.n),
    wordsFor(key.n),
  ).data;
  const cs = ciphertexts(count);
  const exps = pack(
    Array.from({ length: count }, (_, i) => BigInt(i + 1) ** 20n),
    wordsFor(BigInt(count) ** 20n),
  );
  return [
    { op: 'encrypt', key, mode: 'standard', count, input: ms, rand: r.data, randWords: r.words },
    { op: 'encrypt', key, mode: 'djn', count, input: ms, rand: a.data, randWords: a.words },
    { op: 'randomFactor', key, mode: 'standard', count, input: r.data, randWords: r.words },
    { op: 'rerandomize', key, mode: 'djn', count, input: cs, rand: a.data, randWords: a.words },
    { op: 'add', key, count, input: cs, input2: cs },
    { op: 'decrypt', key, count, input: cs },
    { op: 'decryptModP', key, count, input: cs },
    { op: 'zeroTest', key, count, input: cs },
    {
      op: 'multiply',
      key,
      count,
      input: cs,
      exp: exps.data,
      expWords: exps.words,
      expStride: exps.words,
      secret: true,
    },
    {
      op: 'modPow',
      modulus: key.n,
      count,
      input: pack(
        Array.from({ length: count }, (_, i) => BigInt(i)),
        wordsFor(key.n),
      ).data,
      exp: exps.data,
      expWords: exps.words,
      expStride: exps.words,
      secret: false,
    },
  ];
}

describe('pool results equal the in-thread engine', () => {
  // batch sizes 0, 1, and around the shard count (2 workers x 4 shards)
  for (const count of [0, 1, 7, 8, 9, 20]) {
    it(`every operation, ${count} values`, async () => {
      for (const task of tasks(count)) {
        const expected = local.run(task);
        const got = await pool.run(task);
        expect(got, `${task.op} x${count}`).toEqual(expected);
      }
    });
  }

  it('keeps input order when shards take very different times', async () => {
    // the first values get 2048-bit exponents, the last ones tiny: early shards finish last
    const count = 24;
    const es = Array.from({ length: count }, (_, i) => (i < 6 ? (1n << 2047n) - 1n - BigInt(i) : BigInt(i)));
    const exps = pack(es, 64);
    const task: KernelTask = {
      op: 'modPow',
      modulus: key.n,
      count,
      input: pack(
        Array.from({ length: count }, (_, i) => BigInt(i + 2)),
        wordsFor(key.n),
      ).data,
      exp: exps.data,
      expWords: 64,
      expStride: 64,
      secret: false,
    };
    expect(await pool.run(task)).toEqual(local.run(task));
  });

  it('matches at 2048 bits through the public engine API', async () => {
    const big = await generateKeys(2048);
    const engine = await createEngine({ workers: 2 });
    const ms = [0n, 1n, 42n, big.publicKey.n - 1n];
    const cs = await engine.encrypt(big.publicKey, ms);
    expect(await engine.decrypt(big.privateKey, cs)).toEqual(ms);
    expect(cs.map((c) => big.privateKey.decrypt(c))).toEqual(ms);
    await engine.close();
  });
});

describe('faults', () => {
  function faultDir(crashes: number): string {
    const dir = mkdtempSync(join(tmpdir(), 'fedjoin-fault-'));
    for (let i = 0; i < crashes; i++) writeFileSync(join(dir, `crash-${i}`), '');
    return dir;
  }

  it('retries a shard whose worker exits mid-task: nothing lost or duplicated', async () => {
    const dir = faultDir(1);
    process.env.FEDJOIN_FAULT_DIR = dir;
    const runner = new PoolRunner({ workers: 2, filename: faultyWorker });
    try {
      const task = tasks(12)[5]; // decrypt
      expect(await runner.run(task)).toEqual(local.run(task));
      expect(readdirSync(dir), 'a worker really exited').toEqual(['used-crash-0']);
    } finally {
      delete process.env.FEDJOIN_FAULT_DIR;
      await runner.close();
    }
  });

  it('fails with WorkerCrashedError naming the shard when the retry dies too', async () => {
    process.env.FEDJOIN_FAULT_DIR = faultDir(100);
    const runner = new PoolRunner({ workers: 2, filename: faultyWorker });
    try {
      const error = await runner.run(tasks(3)[4]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as WorkerCrashedError).code).toBe('WORKER_CRASHED');
      expect((error as WorkerCrashedError).details.shard).toBeTypeOf('number');
      expect((error as Error).message).toMatch(/^shard \d+ \(values \d+\.\.\d+\) failed twice/);
    } finally {
      delete process.env.FEDJOIN_FAULT_DIR;
      await runner.close();
    }
  });

  it("survives Piscina's stray-result event (a worker's reply to a task it already failed)", async () => {
    const runner = new PoolRunner({ workers: 1 });
    try {
      const piscina = (runner as unknown as { piscina: import('node:events').EventEmitter }).piscina;
      // unhandled, an 'error' event throws here, as it would crash a served role
      expect(() =>
        piscina.emit('error', new Error('Unexpected message from Worker: { taskId: 1 }')),
      ).not.toThrow();
      const task = tasks(3)[5];
      expect(await runner.run(task)).toEqual(local.run(task));
    } finally {
      await runner.close();
    }
  });

  it("rebuilds a worker's error record as the typed error class", async () => {
    process.env.FEDJOIN_FAULT_RECORD = '1';
    const runner = new PoolRunner({ workers: 1, filename: faultyWorker });
    try {
      const error = await runner.run(tasks(7)[4]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CiphertextRangeError);
      expect((error as CiphertextRangeError).code).toBe('CIPHERTEXT_RANGE');
      expect((error as CiphertextRangeError).details.index).toBe(3);
    } finally {
      delete process.env.FEDJOIN_FAULT_RECORD;
      await runner.close();
    }
  });

  it('cancels with an AbortSignal, and the engine stays usable', async () => {
    const engine = await createEngine({ workers: 2 });
    const controller = new AbortController();
    const ms = Array.from({ length: 64 }, (_, i) => BigInt(i));
    const pending = engine.encrypt(keys.publicKey, ms, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).code).toBe('ABORTED');
    const cs = await engine.encrypt(keys.publicKey, [5n, 6n]);
    expect(await engine.decrypt(keys.privateKey, cs)).toEqual([5n, 6n]);
    await engine.close();
  });
});

describe('streaming', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ workers: 2 });
  });
  afterAll(async () => engine.close());

  it('streams more values than it holds, in order, with bounded look-ahead', async () => {
    const total = 600;
    const chunkSize = 16;
    const inFlight = 2;
    let pulled = 0;
    let yielded = 0;
    let maxAhead = 0;
    function* source() {
      for (let i = 0; i < total; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - yielded);
        yield BigInt(i);
      }
    }
    const progress: number[] = [];
    const out: bigint[] = [];
    for await (const c of engine.encryptStream(keys.publicKey, source(), {
      mode: 'djn',
      chunkSize,
      inFlight,
      total,
      onProgress: (done) => progress.push(done),
    })) {
      out.push(c);
      yielded++;
    }
    expect(out).toHaveLength(total);
    expect(maxAhead).toBeLessThanOrEqual(chunkSize * (inFlight + 1));
    expect(progress.at(-1)).toBe(total);
    const back: bigint[] = [];
    for await (const m of engine.decryptStream(keys.privateKey, out, { chunkSize: 64 })) back.push(m);
    expect(back).toEqual(Array.from({ length: total }, (_, i) => BigInt(i)));
  });

  it('stops a stream when its signal aborts', async () => {
    const controller = new AbortController();
    const out: bigint[] = [];
    const run = async () => {
      for await (const c of engine.encryptStream(
        keys.publicKey,
        Array.from({ length: 400 }, () => 1n),
        {
          mode: 'djn',
          chunkSize: 8,
          signal: controller.signal,
        },
      )) {
        out.push(c);
        if (out.length === 16) controller.abort();
      }
    };
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(out.length).toBeLessThan(400);
  });
});

describe('randomness pool', () => {
  it('never hands out the same r^n twice, also when a call outruns the pool', async () => {
    const engine = await createEngine({ workers: 2, encryption: 'pool', randomnessPoolCapacity: 12 });
    await engine.fillRandomnessPool(keys.publicKey, 12);
    // with g = n + 1, E(0) = r^n exactly: equal ciphertexts would mean a reused factor
    const seen = new Set<bigint>();
    for (let call = 0; call < 3; call++) {
      for (const c of await engine.encrypt(
        keys.publicKey,
        Array.from({ length: 10 }, () => 0n),
      ))
        seen.add(c);
    }
    expect(seen.size).toBe(30);
    await engine.close();
  });

  it('is refilled in the background by idle workers, up to its cap', async () => {
    const engine = await createEngine({ workers: 2, encryption: 'pool', randomnessPoolCapacity: 6 });
    expect(engine.randomnessPoolSize(keys.publicKey)).toBe(0);
    await engine.encrypt(keys.publicKey, [1n]);
    for (let i = 0; i < 200 && engine.randomnessPoolSize(keys.publicKey) < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(engine.randomnessPoolSize(keys.publicKey)).toBe(6);
    const cs = await engine.encrypt(keys.publicKey, [7n, 8n, 9n]);
    expect(await engine.decrypt(keys.privateKey, cs)).toEqual([7n, 8n, 9n]);
    await engine.close();
  });
});
