// Bad input (STYLE G4, G5): one table of input -> expected class and `code`, run against
// the Engine API on the WASM backend. Every row also checks that no secret value (p, q,
// lambda, mu, the offending plaintext or exponent) appears in the error's message or
// details, and that the error survives a thread boundary (toJSON -> fromRecord).
import { Worker } from 'node:worker_threads';
import { PrivateKey, PublicKey } from 'paillier-bigint';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, Engine } from '../../src/engine/engine.js';
import { generateKeys, type KeyPair } from '../../src/engine/keys.js';
import { pack, wordsFor } from '../../src/engine/limbs.js';
import { JOIN_COMB } from '../../src/engine/tasks.js';
import {
  BatchLengthError,
  CiphertextRangeError,
  EngineClosedError,
  type ErrorCode,
  type FedjoinError,
  fromRecord,
  InvalidArgumentError,
  InvalidKeyError,
  KeyMismatchError,
  PlaintextRangeError,
} from '../../src/errors.js';
import { rejection } from '../helpers/thrown.js';

interface Ctx {
  engine: Engine;
  closed: Engine;
  key: KeyPair;
  other: KeyPair;
  /** an encryption of 42 under key */
  c: bigint;
}

/** A plaintext, scalar or exponent a caller would keep secret: must never be printed. */
const SECRET = 0x5ec2e7_5ec2e7_5ec2e7_5ec2e7n;

type ErrorClass = abstract new (...args: never[]) => FedjoinError;

interface Row {
  input: string;
  run: (x: Ctx) => Promise<unknown> | unknown;
  cls: ErrorClass;
  code: ErrorCode;
  /** details.index, where the error names an element */
  index?: number;
  /** values besides the key's secrets that must not appear */
  secrets?: (x: Ctx) => bigint[];
}

const asBigint = (x: unknown) => x as bigint;
const n = (x: Ctx) => x.key.publicKey.n;
const pk = (x: Ctx) => x.key.publicKey;
const sk = (x: Ctx) => x.key.privateKey;
const pOf = (k: KeyPair) => (k.privateKey as unknown as { _p: bigint })._p;
const qOf = (k: KeyPair) => (k.privateKey as unknown as { _q: bigint })._q;

const TABLE: Row[] = [
  // plaintexts
  {
    input: 'plaintext negative',
    run: (x) => x.engine.encrypt(pk(x), [1n, -SECRET]),
    cls: PlaintextRangeError,
    code: 'PLAINTEXT_RANGE',
    index: 1,
    secrets: () => [SECRET],
  },
  {
    input: 'plaintext = n',
    run: (x) => x.engine.encrypt(pk(x), [n(x)]),
    cls: PlaintextRangeError,
    code: 'PLAINTEXT_RANGE',
    index: 0,
  },
  {
    input: 'plaintext > n',
    run: (x) => x.engine.encrypt(pk(x), [0n, 1n, n(x) + SECRET]),
    cls: PlaintextRangeError,
    code: 'PLAINTEXT_RANGE',
    index: 2,
    secrets: (x) => [n(x) + SECRET],
  },
  {
    input: 'plaintext >= n in the packed form',
    run: (x) => x.engine.encryptPacked(pk(x), pack([n(x) - 1n, n(x) + SECRET], wordsFor(n(x)))),
    cls: PlaintextRangeError,
    code: 'PLAINTEXT_RANGE',
    index: 1,
    secrets: (x) => [n(x) + SECRET],
  },
  {
    input: 'plaintext not a bigint (number)',
    run: (x) => x.engine.encrypt(pk(x), [asBigint(42)]),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'plaintext not a bigint (NaN)',
    run: (x) => x.engine.encrypt(pk(x), [1n, asBigint(Number.NaN)]),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'plaintext not a bigint (string)',
    run: (x) => x.engine.encrypt(pk(x), [asBigint(SECRET.toString())]),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
    secrets: () => [SECRET],
  },
  {
    input: 'plaintexts not an array',
    run: (x) => x.engine.encrypt(pk(x), SECRET as unknown as bigint[]),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
    secrets: () => [SECRET],
  },
  {
    input: 'packed plaintexts of the wrong stride',
    run: (x) => x.engine.encryptPacked(pk(x), pack([1n, 2n], wordsFor(n(x)) + 1)),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'packed ciphertext of n^2 (decryptPacked)',
    run: (x) => x.engine.decryptPacked(sk(x), pack([x.c, n(x) ** 2n], wordsFor(n(x) ** 2n))),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 1,
  },
  {
    input: 'packed ciphertext 0 (zeroTestPacked)',
    run: (x) => x.engine.zeroTestPacked(sk(x), pack([0n], wordsFor(n(x) ** 2n))),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'packed ciphertext sharing a factor with n (addPacked)',
    run: (x) =>
      x.engine.addPacked(
        pk(x),
        pack([x.c, x.c], wordsFor(n(x) ** 2n)),
        pack([x.c, n(x)], wordsFor(n(x) ** 2n)),
      ),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 1,
  },
  {
    input: 'packed batches of different lengths (addPacked)',
    run: (x) =>
      x.engine.addPacked(pk(x), pack([x.c], wordsFor(n(x) ** 2n)), pack([x.c, x.c], wordsFor(n(x) ** 2n))),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'packed ciphertexts at the wrong stride (rerandomizePacked)',
    run: (x) => x.engine.rerandomizePacked(pk(x), pack([x.c], wordsFor(n(x) ** 2n) + 1)),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'join tables at the stride of a ciphertext (joinPairsPacked)',
    run: (x) =>
      x.engine.joinPairsPacked(pk(x), pack([x.c], wordsFor(n(x) ** 2n)), pack([x.c], wordsFor(n(x) ** 2n))),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'a join table holding a power = n^2 (joinPairsPacked)',
    run: (x) => {
      const words = wordsFor(n(x) ** 2n);
      const powers = JOIN_COMB.teeth * JOIN_COMB.blocks;
      const table = (bad: number) => ({
        words: powers * words,
        count: 1,
        data: pack(
          Array.from({ length: powers }, (_, i) => (i === bad ? n(x) ** 2n : x.c)),
          words,
        ).data,
      });
      return x.engine.joinPairsPacked(pk(x), table(-1), table(3));
    },
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 3,
  },

  // ciphertexts
  {
    input: 'ciphertext 0',
    run: (x) => x.engine.decrypt(sk(x), [x.c, 0n]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 1,
  },
  {
    input: 'ciphertext negative',
    run: (x) => x.engine.decrypt(sk(x), [-SECRET]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext = n^2',
    run: (x) => x.engine.decrypt(sk(x), [n(x) * n(x)]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext > n^2 (add, second operand)',
    run: (x) => x.engine.add(pk(x), [x.c], [n(x) * n(x) + SECRET]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext sharing the factor p with n (decrypt)',
    run: (x) => x.engine.decrypt(sk(x), [x.c, x.c, pOf(x.key) * 12345n]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 2,
    secrets: (x) => [pOf(x.key) * 12345n],
  },
  {
    input: 'ciphertext sharing the factor q with n (multiply)',
    run: (x) => x.engine.multiply(pk(x), [qOf(x.key)], 3n),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext = n (zeroTest)',
    run: (x) => x.engine.zeroTest(sk(x), [n(x)]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext sharing p (decryptModP)',
    run: (x) => x.engine.decryptModP(sk(x), [pOf(x.key)]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext out of range (rerandomize)',
    run: (x) => x.engine.rerandomize(pk(x), [0n]),
    cls: CiphertextRangeError,
    code: 'CIPHERTEXT_RANGE',
    index: 0,
  },
  {
    input: 'ciphertext not a bigint',
    run: (x) => x.engine.decrypt(sk(x), [asBigint(7)]),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  // moduli, bases, exponents
  {
    input: 'even modulus (modPow)',
    run: (x) => x.engine.modPow([3n], 5n, 1n << 100n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'modulus 1 (modPow)',
    run: (x) => x.engine.modPow([0n], 5n, 1n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'modulus negative (modPow)',
    run: (x) => x.engine.modPow([0n], 5n, -SECRET),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'modulus over 8192 bits (modPow)',
    run: (x) => x.engine.modPow([3n], 5n, (1n << 8192n) + 1n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'modulus not a bigint',
    run: (x) => x.engine.modPow([3n], 5n, asBigint(101)),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'base >= modulus',
    run: (x) => x.engine.modPow([1n, 101n + SECRET], 5n, 101n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
    index: 1,
    secrets: () => [101n + SECRET],
  },
  {
    input: 'negative exponent (modPow)',
    run: (x) => x.engine.modPow([3n, 4n], [5n, -SECRET], 101n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
    index: 1,
    secrets: () => [SECRET],
  },
  {
    input: 'negative scalar (multiply)',
    run: (x) => x.engine.multiply(pk(x), [x.c], -SECRET, { secret: true }),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
    index: 0,
    secrets: () => [SECRET],
  },
  {
    input: 'exponent not a bigint',
    run: (x) => x.engine.modPow([3n], asBigint(5), 101n),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  // batch lengths
  {
    input: 'mismatched batch lengths (add)',
    run: (x) => x.engine.add(pk(x), [x.c, x.c], [x.c]),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'mismatched batch lengths (multiply scalars)',
    run: (x) => x.engine.multiply(pk(x), [x.c, x.c, x.c], [2n, 3n]),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
  },
  {
    input: 'mismatched batch lengths (modPow exponents)',
    run: (x) => x.engine.modPow([3n], [5n, SECRET], 101n),
    cls: BatchLengthError,
    code: 'BATCH_LENGTH',
    secrets: () => [SECRET],
  },
  // keys
  {
    input: 'public key with an even modulus',
    run: (x) => x.engine.encrypt(new PublicKey(n(x) + 1n, n(x) + 2n), [1n]),
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'public key modulus too small for a key (256 bits)',
    run: (x) => {
      const small = (1n << 255n) + 0x1d1n;
      return x.engine.encrypt(new PublicKey(small, small + 1n), [1n]);
    },
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'public key with g = 0',
    run: (x) => x.engine.encrypt(new PublicKey(n(x), 0n), [1n]),
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'public key with g >= n^2',
    run: (x) => x.engine.encrypt(new PublicKey(n(x), n(x) * n(x) + 1n), [1n]),
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'not a public key',
    run: (x) => x.engine.encrypt({ n: 15 } as unknown as PublicKey, [1n]),
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'not a private key',
    run: (x) => x.engine.decrypt({ lambda: 1 } as unknown as PrivateKey, [x.c]),
    cls: InvalidKeyError,
    code: 'INVALID_KEY',
  },
  {
    input: 'private key (its p, q, lambda) on another public key',
    run: (x) => {
      const { lambda, mu } = sk(x);
      return x.engine.decrypt(new PrivateKey(lambda, mu, x.other.publicKey, pOf(x.key), qOf(x.key)), [x.c]);
    },
    cls: KeyMismatchError,
    code: 'KEY_MISMATCH',
  },
  {
    input: "private key with another key's p, q",
    run: (x) => {
      const { lambda, mu } = sk(x);
      return x.engine.decrypt(new PrivateKey(lambda, mu, pk(x), pOf(x.other), qOf(x.other)), [x.c]);
    },
    cls: KeyMismatchError,
    code: 'KEY_MISMATCH',
  },
  {
    input: 'private key whose lambda is not a multiple of lcm(p-1, q-1)',
    run: (x) => {
      const { lambda, mu } = sk(x);
      return x.engine.decrypt(new PrivateKey(lambda + 2n, mu, pk(x), pOf(x.key), qOf(x.key)), [x.c]);
    },
    cls: KeyMismatchError,
    code: 'KEY_MISMATCH',
    secrets: (x) => [sk(x).lambda + 2n],
  },
  {
    input: "private key without p, q carrying another key's lambda",
    run: (x) => {
      const { lambda, mu } = x.other.privateKey;
      return x.engine.decrypt(new PrivateKey(lambda, mu, pk(x)), [x.c]);
    },
    cls: KeyMismatchError,
    code: 'KEY_MISMATCH',
  },
  {
    input: 'batch under another key (requireSameKey)',
    run: () => Engine.requireSameKey('a'.repeat(64), 'b'.repeat(64)),
    cls: KeyMismatchError,
    code: 'KEY_MISMATCH',
  },
  // key generation and engine options
  {
    input: 'generateKeys with an odd bit length',
    run: () => generateKeys(1025),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'generateKeys below the minimum size',
    run: () => generateKeys(256),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  {
    input: 'createEngine with a negative worker count',
    run: () => createEngine({ backend: 'wasm', workers: -1 }),
    cls: InvalidArgumentError,
    code: 'INVALID_ARGUMENT',
  },
  // the engine after close()
  ...(
    [
      ['encrypt', (x: Ctx) => x.closed.encrypt(pk(x), [1n])],
      ['encrypt, pool mode', (x: Ctx) => x.closed.encrypt(pk(x), [1n], { mode: 'pool' })],
      ['encrypt, empty batch', (x: Ctx) => x.closed.encrypt(pk(x), [])],
      ['decrypt', (x: Ctx) => x.closed.decrypt(sk(x), [x.c])],
      ['decryptModP', (x: Ctx) => x.closed.decryptModP(sk(x), [x.c])],
      ['zeroTest', (x: Ctx) => x.closed.zeroTest(sk(x), [x.c])],
      ['add', (x: Ctx) => x.closed.add(pk(x), [x.c], [x.c])],
      ['multiply', (x: Ctx) => x.closed.multiply(pk(x), [x.c], 2n)],
      ['rerandomize', (x: Ctx) => x.closed.rerandomize(pk(x), [x.c])],
      ['modPow', (x: Ctx) => x.closed.modPow([2n], 3n, 101n)],
      ['fillRandomnessPool', (x: Ctx) => x.closed.fillRandomnessPool(pk(x), 2)],
      ['joinTablesPacked', (x: Ctx) => x.closed.joinTablesPacked(pk(x), pack([x.c], wordsFor(n(x) ** 2n)))],
    ] as const
  ).map(
    ([op, run]): Row => ({
      input: `engine used after close: ${op}`,
      run,
      cls: EngineClosedError,
      code: 'ENGINE_CLOSED',
    }),
  ),
];

/** Decimal and hex spellings of a value, for a leak search. */
function spellings(x: bigint): string[] {
  const a = x < 0n ? -x : x;
  return [a.toString(10), a.toString(16), a.toString(16).toUpperCase()];
}

let ctx: Ctx;
beforeAll(async () => {
  const [key, other] = await Promise.all([generateKeys(1024), generateKeys(1024)]);
  const engine = await createEngine({ backend: 'wasm', workers: 0 });
  const closed = await createEngine({ backend: 'wasm', workers: 0 });
  await closed.close();
  const [c] = await engine.encrypt(key.publicKey, [42n]);
  ctx = { engine, closed, key, other, c };
});

describe('bad input: one table of input -> class and code', () => {
  for (const row of TABLE) {
    it(`${row.input} -> ${row.cls.name} ${row.code}`, async () => {
      const err = await rejection(() => row.run(ctx));
      expect(err, `${row.input}: threw`).toBeInstanceOf(row.cls);
      const e = err as FedjoinError;
      expect(e.code, `${row.input}: code`).toBe(row.code);
      expect(e.name, `${row.input}: name`).toBe(row.cls.name);
      if (row.index !== undefined) expect(e.details.index, `${row.input}: details.index`).toBe(row.index);

      // no secret in the message, the details, or the record that crosses threads
      const text = [e.message, JSON.stringify(e.details), JSON.stringify(e.toJSON())].join('\n');
      const keys = [ctx.key, ctx.other];
      const secrets = [
        ...keys.flatMap((k) => [pOf(k), qOf(k), k.privateKey.lambda, k.privateKey.mu]),
        ...(row.secrets?.(ctx) ?? []),
      ];
      for (const s of secrets) {
        for (const spelled of spellings(s)) {
          expect(
            text.includes(spelled),
            `${row.input}: message leaks a ${s.toString(2).length}-bit secret`,
          ).toBe(false);
        }
      }

      // the record rebuilds the same class and code on the other side of a thread
      const rebuilt = fromRecord(e.toJSON());
      expect(rebuilt, `${row.input}: fromRecord class`).toBeInstanceOf(row.cls);
      expect(rebuilt.code).toBe(row.code);
      expect(rebuilt.message).toBe(e.message);
    });
  }
});

describe('valid input right at the edges is accepted', () => {
  it('plaintexts 0 and n - 1, ciphertexts 1 and n^2 - 1, exponent 0', async () => {
    const { engine, key } = ctx;
    const N = key.publicKey.n;
    const cs = await engine.encrypt(key.publicKey, [0n, N - 1n]);
    expect(await engine.decrypt(key.privateKey, cs)).toEqual([0n, N - 1n]);
    expect(await engine.decrypt(key.privateKey, [1n, N * N - 1n])).toEqual([0n, 0n]);
    expect(await engine.multiply(key.publicKey, cs, 0n)).toEqual([1n, 1n]);
    expect(await engine.modPow([0n, 100n], 0n, 101n)).toEqual([1n, 1n]);
  });
});

/** privateMaterial({ lambda, publicKey: key's }) in a worker thread, ended after 5 s. */
async function privateMaterialInWorker(lambda: bigint, n: bigint): Promise<unknown> {
  // on the built dist/, as the worker pool does: a worker cannot load the .ts sources
  const keysUrl = new URL('../../dist/src/engine/keys.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.keysUrl).then(({ privateMaterial }) => {
      const n = BigInt(workerData.n);
      try {
        privateMaterial({ lambda: BigInt(workerData.lambda), mu: 1n, publicKey: { n, g: n + 1n } });
        parentPort.postMessage({ outcome: 'accepted' });
      } catch (err) {
        parentPort.postMessage({ outcome: 'threw', name: err.name, code: err.code });
      }
    });`;
  const workerData = { keysUrl, n: n.toString(), lambda: lambda.toString() };
  const worker = new Worker(code, { eval: true, workerData });
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    new Promise((resolve) => worker.once('message', resolve)),
    new Promise((resolve) =>
      worker.once('error', (err) => resolve({ outcome: `worker error: ${err.message}` })),
    ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'hung: no answer within 5 s' }), 5000);
    }),
  ]);
  clearTimeout(timer);
  await worker.terminate();
  return result;
}

describe('a private key without p, q whose lambda is 0', () => {
  // privateMaterial recovers p, q from lambda = 2^s t by halving t while it is even: with
  // lambda = 0 that loop never ends and blocks the thread. It runs synchronously, so it is
  // tried in a worker that is ended when it does not answer.
  it('control: the worker harness answers (a typed error) for a wrong lambda of 2', async () => {
    expect(await privateMaterialInWorker(2n, ctx.key.publicKey.n)).toMatchObject({
      outcome: 'threw',
      name: expect.stringMatching(/^(InvalidKeyError|KeyMismatchError)$/),
    });
  });

  it('is rejected with KeyMismatchError instead of hanging the thread', async () => {
    expect(await privateMaterialInWorker(0n, ctx.key.publicKey.n)).toEqual({
      outcome: 'threw',
      name: 'KeyMismatchError',
      code: 'KEY_MISMATCH',
    });
  });
});
