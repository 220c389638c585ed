// What a job and a reply carry (issue 13, DESIGN §7): every task field survives the trip,
// p and q never leave the caller (the private flag says a worker must add its own), and a
// sealed payload opens only under its own queue secret, queue, call, shard and direction.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateEcKey } from '../../src/ec/elgamal.js';
import { generateKeys, type KeyMaterial, privateMaterial, publicMaterial } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { drawBelow } from '../../src/engine/randomness.js';
import type { KernelTask } from '../../src/engine/tasks.js';
import { MalformedMessageError } from '../../src/errors.js';
import {
  decodeReply,
  decodeShared,
  decodeTask,
  encodeFailure,
  encodeResult,
  encodeShared,
  encodeTask,
  parseReplyFrame,
  replyFrame,
} from '../../src/queue/codec.js';
import { Sealer } from '../../src/queue/seal.js';

let pub: KeyMaterial;
let priv: KeyMaterial;

beforeAll(async () => {
  const keys = await generateKeys(512);
  pub = publicMaterial(keys.publicKey);
  priv = privateMaterial(keys.privateKey);
});

function tasks(): KernelTask[] {
  const n2 = wordsFor(pub.n * pub.n);
  const cs = pack([5n, 7n, 11n], n2).data;
  const rho = drawBelow(pub.n, 3 * 2);
  const comb = { teeth: 1, blocks: 1 };
  return [
    { op: 'decrypt', key: priv, count: 3, input: cs },
    {
      op: 'joinPairs',
      key: pub,
      ...comb,
      count: 3,
      input: cs,
      tile: cs.slice(0, 2 * n2),
      cols: 2,
      randWords: 2 * rho.words,
    },
    // rho pinned (tests only): it travels like any buffer
    {
      op: 'joinPairs',
      key: pub,
      ...comb,
      count: 3,
      input: cs,
      tile: cs.slice(0, 2 * n2),
      cols: 2,
      rand: rho.data,
      randWords: 2 * rho.words,
    },
    {
      op: 'modPow',
      modulus: (1n << 127n) - 1n,
      count: 1,
      input: Uint32Array.of(3, 0, 0, 0),
      exp: Uint32Array.of(65537),
      expWords: 1,
      expStride: 0,
      secret: true,
    },
  ];
}

const bytes = (parts: Uint8Array[]) => Buffer.concat(parts);

describe('task codec', () => {
  it('round-trips every field of each task, keeping of the key only fingerprint, n and g', () => {
    for (const task of tasks()) {
      const encoded = bytes(encodeTask(task));
      const { task: decoded, private: isPrivate } = decodeTask(encoded);
      expect(isPrivate, task.op).toBe('key' in task && task.key.p !== undefined);
      if ('key' in task) {
        expect((decoded as typeof task).key).toEqual({ fingerprint: pub.fingerprint, n: pub.n, g: pub.g });
        expect(decoded).toEqual({ ...task, key: { fingerprint: pub.fingerprint, n: pub.n, g: pub.g } });
      } else {
        expect(decoded).toEqual(task);
      }
      // neither prime, in any form, is in the bytes
      for (const secret of [priv.p!, priv.q!]) {
        expect(encoded.includes(Buffer.from(secret.toString(16)))).toBe(false);
        expect(encoded.includes(Buffer.from(pack([secret], wordsFor(secret)).data.buffer))).toBe(false);
      }
    }
  });

  it("leaves a call's shared buffers out of each job, for its shared part to carry once", () => {
    const join = tasks()[1] as Extract<KernelTask, { op: 'joinPairs' }>;
    const shared = new Set(['tile']);
    const job = decodeTask(bytes(encodeTask(join, shared)));
    expect(job.shared).toEqual(['tile']);
    expect('tile' in job.task).toBe(false);
    expect(decodeShared(bytes(encodeShared(join, shared)))).toEqual({ tile: join.tile });
    expect({ ...job.task, tile: join.tile }).toEqual({
      ...join,
      key: { fingerprint: pub.fingerprint, n: pub.n, g: pub.g },
    });
  });

  it("leaves B's EC secret x out of a decryption job, naming its public key instead, and marks the job private", () => {
    const ec = generateEcKey();
    const x = new Uint32Array(ec.secretKey.slice().buffer);
    const task: KernelTask = {
      op: 'ecDecrypt',
      ecKey: x,
      count: 1,
      input: new Uint32Array(16).fill(7),
      first: 0,
    };
    const encoded = bytes(encodeTask(task));
    expect(encoded.includes(Buffer.from(ec.secretKey))).toBe(false);
    const job = decodeTask(encoded);
    expect(job.private).toBe(true);
    expect('ecKey' in job.task).toBe(false);
    expect(job.task).toMatchObject({ op: 'ecDecrypt', ecFingerprint: ec.fingerprint, count: 1, first: 0 });
  });

  it('refuses bytes that are not a task', () => {
    for (const junk of [
      Buffer.alloc(0),
      Buffer.from('garbage!'),
      Buffer.concat([bytes(encodeTask(tasks()[0])), Buffer.alloc(4)]),
    ]) {
      expect(() => decodeTask(junk)).toThrow(MalformedMessageError);
    }
  });

  it('round-trips results, error records and reply frames', () => {
    const words = Uint32Array.of(1, 2, 0xffffffff);
    expect(decodeReply(bytes(encodeResult(words)))).toEqual(words);
    const record = {
      code: 'CIPHERTEXT_RANGE' as const,
      message: 'ciphertexts[3]: out of range',
      details: { index: 3 },
    };
    expect(decodeReply(bytes(encodeFailure(record)))).toEqual(record);
    expect(parseReplyFrame(replyFrame('call-1', 4, Buffer.from('sealed')))).toEqual({
      call: 'call-1',
      shard: 4,
      sealed: Buffer.from('sealed'),
    });
    expect(parseReplyFrame(Buffer.from('xx'))).toBeNull();
  });
});

describe('sealing', () => {
  const secret = Buffer.alloc(32, 9);
  const label = { direction: 'job' as const, call: 'c1', shard: 2 };

  it('opens what it sealed, and nothing relabelled, altered or sealed under another secret or queue', () => {
    const sealer = new Sealer(secret, 'server-a');
    const sealed = sealer.seal(label, [Buffer.from('hello '), Buffer.from('world')]);
    expect(sealer.open(label, sealed).toString()).toBe('hello world');
    expect(sealed.includes(Buffer.from('hello'))).toBe(false);
    const altered = Buffer.from(sealed);
    altered[14] ^= 1;
    const attempts: [Sealer, typeof label, Buffer][] = [
      [sealer, { ...label, shard: 3 }, sealed],
      [sealer, { ...label, call: 'c2' }, sealed],
      [sealer, { ...label, direction: 'reply' } as unknown as typeof label, sealed],
      [sealer, label, altered],
      [sealer, label, sealed.subarray(0, 10)],
      [new Sealer(Buffer.alloc(32, 8), 'server-a'), label, sealed],
      [new Sealer(secret, 'server-b'), label, sealed],
    ];
    for (const [opener, as, payload] of attempts) {
      const err = (() => {
        try {
          opener.open(as, payload);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(MalformedMessageError);
      expect((err as MalformedMessageError).code).toBe('MALFORMED_MESSAGE');
    }
  });
});
