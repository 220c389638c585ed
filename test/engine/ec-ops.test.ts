// The engine's ristretto255 ops (src/engine/ec-ops.ts, DESIGN §3.2): each op through the
// Piscina pool equals the in-thread libsodium result and the @noble/curves reference, at
// batch sizes around the shard count; a bad point is named by the caller's index from any
// shard; the Engine methods draw their own scalars and compose into alpha * T.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEcKey } from '../../src/ec/elgamal.js';
import { randomScalars } from '../../src/ec/ristretto.js';
import { BigintBackend } from '../../src/engine/bigint-backend.js';
import { EC_CIPHERTEXT_WORDS, EC_HASH_WORDS, EC_POINT_WORDS } from '../../src/engine/ec-ops.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { PoolRunner } from '../../src/engine/pool.js';
import { secretBuffers, sliceTask, transferList } from '../../src/engine/shard.js';
import type { KernelTask } from '../../src/engine/tasks.js';
import { WasmBackend } from '../../src/engine/wasm-backend.js';
import {
  BatchLengthError,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidPointError,
} from '../../src/errors.js';
import { TAG_WORDS } from '../../src/protocol/messages.js';
import { at, hex, ref } from '../helpers/ristretto-reference.js';
import { rejection } from '../helpers/thrown.js';

const key = generateEcKey();
let local: WasmBackend;
const reference = new BigintBackend();
let pool: PoolRunner;

beforeAll(async () => {
  local = await WasmBackend.create();
  pool = new PoolRunner({ workers: 2 });
});
afterAll(async () => pool.close());

const words = (bytes: Uint8Array) => new Uint32Array(bytes.slice().buffer);
const bytes = (w: Uint32Array) => new Uint8Array(w.buffer, w.byteOffset, w.byteLength);

/** `count` 64-byte from-hash inputs, as an owner's HMAC expansion makes them. */
function hashes(count: number): Uint32Array {
  const out = new Uint8Array(count * 64);
  for (let i = 0; i < count; i++) {
    for (let half = 0; half < 2; half++) {
      out.set(
        createHmac('sha256', 'k')
          .update(`${half}:${i % 5}`)
          .digest(),
        i * 64 + half * 32,
      );
    }
  }
  return words(out);
}

/** `count` ciphertexts under the key, made by noble: (rG, kG + rY). */
function ciphertexts(count: number): Uint32Array {
  const k = randomScalars(count);
  const r = randomScalars(count);
  const out = new Uint8Array(count * 64);
  for (let i = 0; i < count; i++) {
    out.set(ref.base(at(r, i)), i * 64);
    out.set(ref.add(ref.base(at(k, i)), ref.mul(at(r, i), key.publicKey)), i * 64 + 32);
  }
  return words(out);
}

/** `count` re-randomisers (r'G, r'Y) under the key, made by noble. */
function rerandomizers(count: number): Uint32Array {
  const r = randomScalars(count);
  const out = new Uint8Array(count * 64);
  for (let i = 0; i < count; i++) {
    out.set(ref.base(at(r, i)), i * 64);
    out.set(ref.mul(at(r, i), key.publicKey), i * 64 + 32);
  }
  return words(out);
}

/** One task per EC op, randomness pinned, `count` values. */
function tasks(count: number): KernelTask[] {
  const Y = words(key.publicKey);
  const first = 0;
  return [
    {
      op: 'ecEncryptTags',
      ecKey: Y,
      count,
      input: hashes(count),
      rand: words(randomScalars(count)),
      randWords: 8,
      first,
    },
    {
      op: 'ecRerandomizers',
      ecKey: Y,
      count,
      input: new Uint32Array(0),
      rand: words(randomScalars(count)),
      randWords: 8,
      first,
    },
    {
      op: 'ecBlind',
      ecKey: Y,
      alpha: words(randomScalars(1)),
      count,
      input: ciphertexts(count),
      rand: rerandomizers(count),
      randWords: 16,
      first,
    },
    { op: 'ecDecrypt', ecKey: words(key.secretKey), count, input: ciphertexts(count), first },
  ];
}

/** A task with copies of its buffers: libsodium's ops zero the scalars they consume. */
function copy(task: KernelTask): KernelTask {
  const out = { ...task } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (v instanceof Uint32Array) out[k] = v.slice();
  return out as unknown as KernelTask;
}

describe('EC ops: pool = in-thread libsodium = noble reference', () => {
  // batch sizes 0, 1, and around the shard count (2 workers x 4 shards)
  for (const count of [0, 1, 7, 8, 9, 20]) {
    it(`every op, ${count} values`, async () => {
      for (const task of tasks(count)) {
        const expected = reference.run(copy(task));
        expect(local.run(copy(task)), `${task.op} x${count} in-thread`).toEqual(expected);
        expect(await pool.run(copy(task)), `${task.op} x${count} pool`).toEqual(expected);
      }
    });
  }

  it('strides: 16 words out (tags, re-randomisers, blinding); 8 out (decryption)', () => {
    const [tag, zeros, blind, dec] = tasks(3).map((t) => reference.run(t));
    expect([tag.length, zeros.length, blind.length, dec.length]).toEqual([
      3 * EC_CIPHERTEXT_WORDS,
      3 * EC_CIPHERTEXT_WORDS,
      3 * EC_CIPHERTEXT_WORDS,
      3 * EC_POINT_WORDS,
    ]);
    expect(EC_HASH_WORDS).toBe(16);
    // the tag-batch schema's stride is the engine's ciphertext stride
    expect(TAG_WORDS).toBe(EC_CIPHERTEXT_WORDS);
  });

  it('cuts shards with copies of the key and alpha (transferred, so none stays behind) and their first index', () => {
    const task = tasks(10)[2] as KernelTask & { op: 'ecBlind' };
    const shard = sliceTask(task, 4, 9) as typeof task;
    expect([shard.count, shard.first]).toEqual([5, 4]);
    expect(shard.rand).toEqual(task.rand.subarray(4 * 16, 9 * 16));
    for (const name of ['ecKey', 'alpha'] as const) {
      expect(shard[name]).toEqual(task[name]);
      expect(shard[name].buffer).not.toBe(task[name].buffer);
      expect(transferList(shard)).toContain(shard[name].buffer);
    }
    expect(secretBuffers(shard)).toEqual([shard.rand, shard.alpha]);
    const dec = tasks(3)[3];
    expect(secretBuffers(dec)).toEqual([(dec as { ecKey: Uint32Array }).ecKey]);
  });

  it("names a bad point by the caller's index, from whichever shard holds it, in every backend", async () => {
    for (const bad of [0, 13, 19]) {
      const [, , blind, dec] = tasks(20);
      for (const task of [blind, dec]) {
        // a non-canonical encoding (2^255 - 1 is no field element) at C of ciphertext `bad`
        task.input.fill(0xffffffff, bad * 16 + 8, bad * 16 + 16);
        for (const run of [
          () => reference.run(copy(task)),
          () => local.run(copy(task)),
          () => pool.run(copy(task)),
        ]) {
          const error = await rejection(run);
          expect(error, `${task.op} at ${bad}`).toBeInstanceOf(InvalidPointError);
          expect(error.code).toBe('INVALID_POINT');
          expect(error.details).toMatchObject({ index: bad, component: 'C' });
        }
      }
    }
  });

  it("names a bad re-randomiser by the caller's index, in every backend", async () => {
    for (const bad of [0, 13, 19]) {
      const task = tasks(20)[2];
      // a non-canonical encoding at R of re-randomiser `bad`
      (task as { rand: Uint32Array }).rand.fill(0xffffffff, bad * 16, bad * 16 + 8);
      for (const run of [
        () => reference.run(copy(task)),
        () => local.run(copy(task)),
        () => pool.run(copy(task)),
      ]) {
        const error = await rejection(run);
        expect(error, `at ${bad}`).toBeInstanceOf(InvalidPointError);
        expect(error.details).toMatchObject({ name: 'rerandomizers', index: bad, component: 'R' });
      }
    }
  });
});

describe('Engine EC methods', () => {
  let engines: Engine[];
  beforeAll(async () => {
    engines = [
      await createEngine({ workers: 2 }),
      await createEngine({ workers: 0 }),
      await createEngine({ backend: 'bigint' }),
    ];
  });
  afterAll(async () => {
    for (const e of engines) await e.close();
  });

  it('decrypt(blind(encrypt(h))) = alpha * from_hash(h), on every backend, and the equality pattern survives', async () => {
    const count = 12;
    const h = hashes(count); // rows i and i + 5 share a key
    const expectedT = Array.from({ length: count }, (_, i) =>
      ref.fromHash(bytes(h.subarray(i * 16, (i + 1) * 16))),
    );
    for (const engine of engines) {
      const alpha = randomScalars(1);
      const alphaCopy = alpha.slice();
      const x = key.secretKey.slice();
      const tags = await engine.ecEncryptTags(key.publicKey, { words: 16, count, data: h });
      const blinded = await engine.ecBlind(key.publicKey, tags, alpha);
      const points = await engine.ecDecrypt(key.secretKey, blinded);
      expect(points.words).toBe(8);
      const got = Array.from({ length: count }, (_, i) =>
        hex(bytes(points.data.subarray(i * 8, (i + 1) * 8))),
      );
      expect(got, engine.backend).toEqual(expectedT.map((T) => hex(ref.mul(alpha, T))));
      expect(got[0]).toBe(got[5]);
      expect(got[0]).not.toBe(got[1]);
      // fresh randomness: no ciphertext repeats, although keys do
      const seen = new Set(
        Array.from({ length: count }, (_, i) => hex(bytes(blinded.data.subarray(i * 16, i * 16 + 16)))),
      );
      expect(seen.size).toBe(count);
      // the caller's alpha and x are its own: read, never changed
      expect(alpha).toEqual(alphaCopy);
      expect(key.secretKey).toEqual(x);
    }
  });

  it('makes re-randomisers ahead with idle workers, up to the asked count, and hands each out once', async () => {
    const engine = await createEngine({ workers: 2 });
    try {
      const Y = key.publicKey;
      expect(engine.rerandomizerPoolSize(Y)).toBe(0);
      engine.prepareRerandomizers(Y, 40);
      for (let i = 0; i < 400 && engine.rerandomizerPoolSize(Y) < 40; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(engine.rerandomizerPoolSize(Y)).toBe(40);
      // one ciphertext 60 times: outputs differ only by their re-randomisers (40 from the
      // pool, 20 made on the spot), so 60 distinct outputs mean none was used twice
      const one = ciphertexts(1);
      const same = new Uint32Array(60 * 16);
      for (let i = 0; i < 60; i++) same.set(one, i * 16);
      const alpha = randomScalars(1);
      const blinded = await engine.ecBlind(Y, { words: 16, count: 60, data: same }, alpha);
      const rows = Array.from({ length: 60 }, (_, i) =>
        hex(bytes(blinded.data.subarray(i * 16, i * 16 + 16))),
      );
      expect(new Set(rows).size).toBe(60);
      const points = await engine.ecDecrypt(key.secretKey, blinded);
      const first = hex(bytes(points.data.subarray(0, 8)));
      for (let i = 1; i < 60; i++) expect(hex(bytes(points.data.subarray(i * 8, i * 8 + 8)))).toBe(first);
      // used ones are gone; the pool then refills to the count asked for, never past it
      for (let i = 0; i < 400 && engine.rerandomizerPoolSize(Y) < 40; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(engine.rerandomizerPoolSize(Y)).toBe(40);
    } finally {
      await engine.close();
    }
  });

  it('refuses a bad EC key, alpha or batch shape with typed errors', async () => {
    const [engine] = engines;
    const one = { words: 16, count: 1, data: ciphertexts(1) };
    const cases: [string, () => Promise<unknown>, new (...args: never[]) => Error, string][] = [
      [
        'identity as Y',
        () => engine.ecBlind(new Uint8Array(32), one, randomScalars(1)),
        InvalidPointError,
        'INVALID_POINT',
      ],
      [
        'zero alpha',
        () => engine.ecBlind(key.publicKey, one, new Uint8Array(32)),
        InvalidArgumentError,
        'INVALID_ARGUMENT',
      ],
      ['zero x', () => engine.ecDecrypt(new Uint8Array(32), one), InvalidKeyError, 'INVALID_KEY'],
      [
        'Paillier-sized stride',
        () => engine.ecDecrypt(key.secretKey, { words: 64, count: 1, data: new Uint32Array(64) }),
        BatchLengthError,
        'BATCH_LENGTH',
      ],
    ];
    for (const [what, run, type, code] of cases) {
      const error = await rejection(run);
      expect(error, what).toBeInstanceOf(type);
      expect(error.code, what).toBe(code);
    }
  });
});
