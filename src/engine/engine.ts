// The Engine API (DESIGN §6): batch Paillier operations on paillier-bigint keys, the
// same for every backend. A call validates its inputs (validate.ts), draws randomness
// (randomness.ts), packs values (limbs.ts) into one kernel task and hands it to a
// runner: the WASM backend in this thread, a worker pool, or the BigInt reference.
// The hashed join's ristretto255 ElGamal ops (DESIGN §3.2, ec-ops.ts) take the same path.

import { availableParallelism } from 'node:os';
import type { PrivateKey, PublicKey } from 'paillier-bigint';
import { assertPoint, assertScalar, assertSecretKey, randomScalars } from '../ec/ristretto.js';
import {
  BatchLengthError,
  EncodingOverflowError,
  EngineClosedError,
  InvalidArgumentError,
  KeyMismatchError,
} from '../errors.js';
import type { QueueSettings } from '../queue/config.js';
import { sumRowsWith } from './aggregate.js';
import { BigintBackend } from './bigint-backend.js';
import { EC_CIPHERTEXT_WORDS, EC_HASH_WORDS, EC_POINT_WORDS } from './ec-ops.js';
import { djnExponentBits, type KeyMaterial, privateMaterial, publicMaterial } from './keys.js';
import { interleave, type PackedBatch, pack, repeat, slice, unpack, wordsFor } from './limbs.js';
import { modInverse } from './modular.js';
import { joinTableWords } from './ops.js';
import { PoolRunner } from './pool.js';
import { drawBelow, drawBits } from './randomness.js';
import { RandomnessPool } from './randomness-pool.js';
import { InThreadRunner, type TaskRunner } from './runner.js';
import { type SlotLayout, slotBias, slotCapacityBits } from './slots.js';
import { mapInChunks, type StreamOptions } from './stream.js';
import { JOIN_COMB, type KernelOp, type KernelTask, keyWords, type RandomMode } from './tasks.js';
import {
  checkBases,
  checkCiphertexts,
  checkExponents,
  checkModulus,
  checkPackedCiphertexts,
  checkPackedPlaintexts,
  checkPlaintexts,
  checkSameLength,
} from './validate.js';
import { WasmBackend } from './wasm-backend.js';

export type BackendName = 'wasm' | 'bigint';

export interface EngineOptions {
  /** 'wasm' (default) or the BigInt reference. */
  backend?: BackendName;
  /** Worker threads for the WASM backend; 0 runs in this thread; default: available parallelism. */
  workers?: number;
  /** How encrypt and rerandomize make r^n (DESIGN §2); default 'standard'. */
  encryption?: RandomMode;
  /** Most precomputed r^n values kept per key for the 'pool' mode; default 4096. */
  randomnessPoolCapacity?: number;
  /** Worker module for the pool (tests wrap the real one to inject faults). */
  workerFilename?: string;
  /**
   * Send tasks to a role's job queue on Redis instead of the local pool (DESIGN §7); with
   * `queuedOps`, only those ops go there and the rest run on the local pool.
   */
  queue?: QueueSettings & { queuedOps?: readonly KernelOp[] };
}

export interface CallOptions {
  /** Cancels the call: queued shards are dropped and the call rejects with AbortedError. */
  signal?: AbortSignal;
}

export interface EncryptOptions extends CallOptions {
  mode?: RandomMode;
}

export interface ExponentOptions extends CallOptions {
  /** The exponent is secret (a join randomiser, a private value): constant-time path. */
  secret?: boolean;
}

/** Most re-randomisers kept per EC key: 64 bytes each, so 4 MiB; a 32,768 x 32,768-row join's worth. */
const RERANDOMIZER_POOL_CAPACITY = 1 << 16;
/** Re-randomisers a worker makes per background step (~11 ms of work at ~170 us each). */
const RERANDOMIZER_FILL_STEP = 64;

/** The re-randomiser pool's id for Y: its encoding in hex (its own namespace, apart from Paillier fingerprints). */
const rerandomizerPoolId = (ecPublicKey: Uint8Array) => `ec:${Buffer.from(ecPublicKey).toString('hex')}`;

export class Engine {
  private closed = false;
  private readonly pool: RandomnessPool;
  /** A's re-randomisers per B's EC key (prepareRerandomizers), 16 words each. */
  private readonly rerandomizers = new RandomnessPool(RERANDOMIZER_POOL_CAPACITY);
  /** How many re-randomisers to keep ready per pool id. */
  private readonly rerandomizerTargets = new Map<string, number>();
  /** Pool ids a background fill is running for, and those fills. */
  private readonly filling = new Set<string>();
  private readonly fills = new Set<Promise<void>>();

  constructor(
    readonly backend: BackendName,
    private readonly runner: TaskRunner,
    readonly encryption: RandomMode = 'standard',
    randomnessPoolCapacity = 4096,
    /** Refill the randomness pool with idle workers after 'pool' encryptions. */
    private readonly backgroundFill = runner.workers > 0,
  ) {
    this.pool = new RandomnessPool(randomnessPoolCapacity);
  }

  private async run(task: KernelTask, signal?: AbortSignal): Promise<Uint32Array> {
    if (this.closed) throw new EngineClosedError();
    return this.runner.run(task, signal);
  }

  /** Worker threads behind this engine (0: it computes in the calling thread). */
  get workers(): number {
    return this.runner.workers;
  }

  /** E(m) for each m in [0, n). */
  async encrypt(
    publicKey: PublicKey,
    plaintexts: readonly bigint[],
    options: EncryptOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    const ms = checkPlaintexts(plaintexts, key.n);
    return unpack(await this.encryptUnder(key, pack(ms, wordsFor(key.n)), options));
  }

  /** Packed form: plaintexts as n-word values in, n^2-word ciphertexts out. */
  async encryptPacked(
    publicKey: PublicKey,
    plaintexts: PackedBatch,
    options: EncryptOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    checkPacked(plaintexts, wordsFor(key.n), 'plaintexts');
    checkPackedPlaintexts(plaintexts, key.n);
    return this.encryptUnder(key, plaintexts, options);
  }

  private async encryptUnder(
    key: KeyMaterial,
    plaintexts: PackedBatch,
    options: EncryptOptions,
  ): Promise<PackedBatch> {
    const mode = options.mode ?? this.encryption;
    const { rand, randWords } = await this.randomness(key, mode, plaintexts.count);
    const task = {
      op: 'encrypt',
      key,
      mode,
      count: plaintexts.count,
      input: plaintexts.data,
      rand,
      randWords,
    } as const;
    const data = await this.run(task, options.signal);
    if (mode === 'pool') this.keepPoolFull(key);
    return { words: keyWords(key).n2, count: plaintexts.count, data };
  }

  /** Randomness for `count` values in `mode`, drawn before the task is made. */
  private async randomness(key: KeyMaterial, mode: RandomMode, count: number) {
    if (mode === 'standard') {
      const r = drawBelow(key.n, count);
      return { rand: r.data, randWords: r.words };
    }
    if (mode === 'djn') {
      const a = drawBits(djnExponentBits(key.n), count);
      return { rand: a.data, randWords: a.words };
    }
    const randWords = keyWords(key).n2;
    const rand = await this.fromPool(this.pool, key.fingerprint, randWords, count, (n) =>
      this.randomFactors(key, n),
    );
    return { rand, randWords };
  }

  /**
   * `count` values of `pool` for `id`: precomputed ones first, a shortfall made now by
   * `make`. A pool hands each value out once and wipes its copy, so none is ever reused.
   */
  private async fromPool(
    pool: RandomnessPool,
    id: string,
    words: number,
    count: number,
    make: (count: number) => Promise<Uint32Array>,
  ): Promise<Uint32Array> {
    const taken = pool.take(id, words, count);
    if (taken.count === count) return taken.data;
    const out = new Uint32Array(count * words);
    out.set(taken.data);
    taken.data.fill(0);
    out.set(await make(count - taken.count), taken.count * words);
    return out;
  }

  /** `count` fresh values r^n mod n^2 with r uniform in Z*_n. */
  private randomFactors(key: KeyMaterial, count: number): Promise<Uint32Array> {
    const r = drawBelow(key.n, count);
    return this.run({ op: 'randomFactor', key, mode: 'standard', count, input: r.data, randWords: r.words });
  }

  /** Precomputes up to `count` values of r^n for the 'pool' mode; returns the pool's size. */
  async fillRandomnessPool(publicKey: PublicKey, count: number): Promise<number> {
    const key = publicMaterial(publicKey);
    const want = Math.min(count, this.pool.room(key.fingerprint));
    if (want > 0) this.pool.add(key.fingerprint, await this.randomFactors(key, want), keyWords(key).n2, want);
    return this.pool.size(key.fingerprint);
  }

  randomnessPoolSize(publicKey: PublicKey): number {
    return this.pool.size(publicMaterial(publicKey).fingerprint);
  }

  /** D(c) by CRT. */
  async decrypt(
    privateKey: PrivateKey,
    ciphertexts: readonly bigint[],
    options: CallOptions = {},
  ): Promise<bigint[]> {
    const key = privateMaterial(privateKey);
    return unpack(await this.privateOp('decrypt', key, this.packCiphertexts(key, ciphertexts), options));
  }

  /** Packed form of decrypt: n^2-word ciphertexts in, n-word plaintexts out. */
  async decryptPacked(
    privateKey: PrivateKey,
    ciphertexts: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    const key = privateMaterial(privateKey);
    return this.privateOp('decrypt', key, this.checkedPacked(key, ciphertexts), options);
  }

  /** D(c) mod p: half a decryption. */
  async decryptModP(
    privateKey: PrivateKey,
    ciphertexts: readonly bigint[],
    options: CallOptions = {},
  ): Promise<bigint[]> {
    const key = privateMaterial(privateKey);
    return unpack(await this.privateOp('decryptModP', key, this.packCiphertexts(key, ciphertexts), options));
  }

  /** Whether D(c) = 0, by c^(p-1) mod p^2 = 1 (error probability about 1/p). */
  async zeroTest(
    privateKey: PrivateKey,
    ciphertexts: readonly bigint[],
    options: CallOptions = {},
  ): Promise<boolean[]> {
    const key = privateMaterial(privateKey);
    const bits = await this.privateOp('zeroTest', key, this.packCiphertexts(key, ciphertexts), options);
    return Array.from(bits.data, (bit) => bit === 1);
  }

  /** Packed form of zeroTest: one word per ciphertext, 1 where it decrypts to zero. */
  async zeroTestPacked(
    privateKey: PrivateKey,
    ciphertexts: PackedBatch,
    options: CallOptions = {},
  ): Promise<Uint32Array> {
    const key = privateMaterial(privateKey);
    return (await this.privateOp('zeroTest', key, this.checkedPacked(key, ciphertexts), options)).data;
  }

  private async privateOp(
    op: 'decrypt' | 'decryptModP' | 'zeroTest',
    key: KeyMaterial,
    ciphertexts: PackedBatch,
    options: CallOptions,
  ): Promise<PackedBatch> {
    const task = { op, key, count: ciphertexts.count, input: ciphertexts.data } as const;
    const data = await this.run(task, options.signal);
    const words = keyWords(key);
    return {
      words: op === 'decrypt' ? words.n : op === 'decryptModP' ? words.p : 1,
      count: task.count,
      data,
    };
  }

  /** E(a + b) = E(a) * E(b) mod n^2, pairwise. */
  async add(
    publicKey: PublicKey,
    a: readonly bigint[],
    b: readonly bigint[],
    options: CallOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    checkSameLength(a, b, ['a', 'b']);
    const sums = await this.addUnder(
      key,
      this.packCiphertexts(key, a, 'a'),
      this.packCiphertexts(key, b, 'b'),
      options,
    );
    return unpack(sums);
  }

  /** Packed form of add. */
  async addPacked(
    publicKey: PublicKey,
    a: PackedBatch,
    b: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    if (a.count !== b.count) {
      throw new BatchLengthError(`a has ${a.count} values but b has ${b.count}`, { a: a.count, b: b.count });
    }
    return this.addUnder(key, this.checkedPacked(key, a, 'a'), this.checkedPacked(key, b, 'b'), options);
  }

  /**
   * The coordinate-wise homomorphic sum of the `width`-value rows of `rows` (row-major), in
   * log2(rows) rounds of one packed add each (aggregate.ts). The rows are checked once: every
   * later round adds this call's own sums.
   */
  async sumRows(
    publicKey: PublicKey,
    rows: PackedBatch,
    width: number,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    const checked = this.checkedPacked(key, rows, 'rows');
    if (width > 0 && rows.count % width !== 0) {
      throw new BatchLengthError(`rows: ${rows.count} values are not rows of ${width}`, {
        count: rows.count,
        width,
      });
    }
    return sumRowsWith((a, b) => this.addUnder(key, a, b, options), checked, width);
  }

  private async addUnder(
    key: KeyMaterial,
    a: PackedBatch,
    b: PackedBatch,
    options: CallOptions,
  ): Promise<PackedBatch> {
    const data = await this.run(
      { op: 'add', key, count: a.count, input: a.data, input2: b.data },
      options.signal,
    );
    return { words: a.words, count: a.count, data };
  }

  /** E(k m) = E(m)^k mod n^2, one scalar for all or one per ciphertext. */
  async multiply(
    publicKey: PublicKey,
    ciphertexts: readonly bigint[],
    scalars: bigint | readonly bigint[],
    options: ExponentOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    return unpack(await this.multiplyUnder(key, this.packCiphertexts(key, ciphertexts), scalars, options));
  }

  /** Packed form of multiply. */
  async multiplyPacked(
    publicKey: PublicKey,
    ciphertexts: PackedBatch,
    scalars: bigint | readonly bigint[],
    options: ExponentOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    return this.multiplyUnder(key, this.checkedPacked(key, ciphertexts), scalars, options);
  }

  private async multiplyUnder(
    key: KeyMaterial,
    cs: PackedBatch,
    scalars: bigint | readonly bigint[],
    options: ExponentOptions,
  ): Promise<PackedBatch> {
    const exp = packExponents(checkExponents(scalars, cs.count, 'scalars'));
    const secret = options.secret ?? false;
    const task = { op: 'multiply', key, count: cs.count, input: cs.data, ...exp, secret } as const;
    return { words: cs.words, count: cs.count, data: await this.run(task, options.signal) };
  }

  /** c * r^n mod n^2: the same plaintext under fresh randomness. */
  async rerandomize(
    publicKey: PublicKey,
    ciphertexts: readonly bigint[],
    options: EncryptOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    return unpack(await this.rerandomizeUnder(key, this.packCiphertexts(key, ciphertexts), options));
  }

  /** Packed form of rerandomize. */
  async rerandomizePacked(
    publicKey: PublicKey,
    ciphertexts: PackedBatch,
    options: EncryptOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    return this.rerandomizeUnder(key, this.checkedPacked(key, ciphertexts), options);
  }

  private async rerandomizeUnder(
    key: KeyMaterial,
    cs: PackedBatch,
    options: EncryptOptions,
  ): Promise<PackedBatch> {
    const mode = options.mode ?? this.encryption;
    const { rand, randWords } = await this.randomness(key, mode, cs.count);
    const task = { op: 'rerandomize', key, mode, count: cs.count, input: cs.data, rand, randWords } as const;
    const data = await this.run(task, options.signal);
    if (mode === 'pool') this.keepPoolFull(key);
    return { words: cs.words, count: cs.count, data };
  }

  /**
   * Packs each row's ciphertexts into one (DESIGN §2 "Packing"; layout in slots.ts):
   * E(sum_i (x_i + 2^v_i) 2^o_i) under fresh randomness, where row r holds E(x_0) ... E(x_k-1),
   * x_i a signed plaintext (n - |x| when negative) that the caller guarantees is below
   * 2^valueBits[i] in magnitude (the engine cannot see it). Decrypt and unpackSlots to read it.
   */
  async packEncrypted(
    publicKey: PublicKey,
    rows: readonly (readonly bigint[])[],
    layout: SlotLayout,
    options: EncryptOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    if (!Array.isArray(rows)) throw new InvalidArgumentError('rows: expected an array of rows');
    const width = layout.valueBits.length;
    const cells = rows.flatMap((row, r) => {
      if (!Array.isArray(row) || row.length !== width) {
        throw new BatchLengthError(`rows[${r}]: expected ${width} ciphertexts, one per slot`, { index: r });
      }
      return row;
    });
    return unpack(await this.packUnder(key, this.packCiphertexts(key, cells, 'rows'), layout, options));
  }

  /** Packed form of packEncrypted, slot-major: slots[i] holds slot i's ciphertext of every row. */
  async packEncryptedPacked(
    publicKey: PublicKey,
    slots: readonly PackedBatch[],
    layout: SlotLayout,
    options: EncryptOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    if (!Array.isArray(slots) || slots.length !== layout.valueBits.length) {
      throw new BatchLengthError(`slots: expected ${layout.valueBits.length} batches, one per slot`);
    }
    const rows = slots[0]?.count ?? 0;
    for (const [i, batch] of slots.entries()) {
      if (batch.count !== rows) {
        throw new BatchLengthError(`slots[${i}] has ${batch.count} values, slots[0] ${rows}`, { index: i });
      }
      this.checkedPacked(key, batch, `slots[${i}]`);
    }
    // row-major for the kernel: row r's slot i at r * slots + i
    return this.packUnder(key, interleave(slots, keyWords(key).n2), layout, options);
  }

  /**
   * One kernel pass per row (assembly/slots.ts): Horner from the top slot, acc = acc^(2^w_i)
   * * E(x_i), about W squarings mod n^2 for a plaintext of W bits; then one product with
   * E(bias) under fresh randomness: the bias makes every slot non-negative and its
   * randomness re-randomises the whole vector for the price of one encryption.
   */
  private async packUnder(
    key: KeyMaterial,
    cells: PackedBatch,
    layout: SlotLayout,
    options: EncryptOptions,
  ): Promise<PackedBatch> {
    const capacity = slotCapacityBits(key.n);
    if (layout.bits > capacity) {
      throw new EncodingOverflowError(
        `the layout needs ${layout.bits} bits; a plaintext under this key holds ${capacity}`,
        { bits: layout.bits, capacity },
      );
    }
    const slots = layout.valueBits.length;
    if (slots === 0) throw new InvalidArgumentError('layout: expected at least one slot');
    const words = keyWords(key);
    const rows = cells.count / slots;
    if (this.closed) throw new EngineClosedError();
    if (rows === 0) return { words: words.n2, count: 0, data: new Uint32Array(0) };
    const widths = Uint32Array.from(layout.widths.slice(0, slots - 1));
    const task = { op: 'packSlots', key, count: rows, input: cells.data, slots, widths } as const;
    const packed = { words: words.n2, count: rows, data: await this.run(task, options.signal) };
    const bias = repeat(slotBias(layout), rows, words.n);
    return this.addUnder(key, packed, await this.encryptUnder(key, bias, options), options);
  }

  /**
   * E(m)^-1 mod n^2 = E(-m) for each ciphertext: the right-hand side of the nested-loop
   * join (DESIGN §3.1), computed once per right row.
   */
  async inverse(publicKey: PublicKey, ciphertexts: readonly bigint[]): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    return inverses(key, checkCiphertexts(ciphertexts, key.n), this.closed);
  }

  /** Packed form of inverse. */
  async inversePacked(publicKey: PublicKey, ciphertexts: PackedBatch): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    const cs = this.checkedPacked(key, ciphertexts);
    return pack(inverses(key, unpack(cs), this.closed), cs.words);
  }

  /**
   * The nested-loop join's indicators (DESIGN §3.1): for left row i and right row j,
   * prod_c (E(a_ic) * E(b_jc)^-1)^rho_ijc mod n^2 = E(sum_c rho_ijc (a_ic - b_jc)), which
   * decrypts to 0 exactly where every key column matches (a mismatch passes the zero test
   * with probability about 1/p). `left` holds the ciphertexts of each left row's key columns, `rightInverse`
   * the inverses (see inverse()) of each right row's; every row has the same keyCols >= 1.
   * Returns rows x cols indicators, row-major. Built on joinTablesPacked and joinPairsPacked,
   * one pass per key column (the protocol folds a key into one column: src/data/nested-key.ts).
   */
  async joinIndicators(
    publicKey: PublicKey,
    left: readonly (readonly bigint[])[],
    rightInverse: readonly (readonly bigint[])[],
    options: CallOptions = {},
  ): Promise<bigint[]> {
    const key = publicMaterial(publicKey);
    const keyCols = checkKeyRows(left, rightInverse);
    const words = keyWords(key).n2;
    checkRows(left, key.n, 'left');
    checkRows(rightInverse, key.n, 'rightInverse');
    const rows = left.length;
    const cols = rightInverse.length;
    if (rows * cols === 0) {
      if (this.closed) throw new EngineClosedError();
      return [];
    }
    // column c's tables and indicators; the product of the columns' indicators adds the exponents up
    let product: PackedBatch | undefined;
    for (let c = 0; c < keyCols; c++) {
      const both = pack([...left.map((row) => row[c]), ...rightInverse.map((row) => row[c])], words);
      const tables = await this.tablesUnder(key, both, options);
      const indicators = await this.pairsUnder(
        key,
        slice(tables, 0, rows),
        slice(tables, rows, rows + cols),
        options,
      );
      product = product === undefined ? indicators : await this.addUnder(key, product, indicators, options);
    }
    return unpack(product!);
  }

  /**
   * The nested-loop join's row tables (DESIGN §3.1), packed: for each ciphertext x (a left
   * row's E(a) or a right row's inverse E(b)^-1), the comb's powers x^(2^p) mod n^2 at the
   * JOIN_COMB positions, `joinTableWords` words a row, x itself first. They are powers of
   * public ciphertexts, so a row's table is built once per query and shipped with every tile.
   */
  async joinTablesPacked(
    publicKey: PublicKey,
    ciphertexts: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    return this.tablesUnder(key, this.checkedPacked(key, ciphertexts), options);
  }

  private async tablesUnder(key: KeyMaterial, cs: PackedBatch, options: CallOptions): Promise<PackedBatch> {
    const task = { op: 'joinTables', key, ...JOIN_COMB, count: cs.count, input: cs.data } as const;
    return { words: joinTableWords(task), count: cs.count, data: await this.run(task, options.signal) };
  }

  /**
   * One tile of the nested-loop join (DESIGN §3.1), packed: (x_i * y_j)^rho_ij mod n^2 for
   * the row tables x_i of `left` and y_j of `right` (joinTablesPacked of E(a_i) and of
   * E(b_j)^-1), rows x cols indicators, row-major. Each rho_ij is drawn uniform in [1, n)
   * from node:crypto by the thread that runs the kernel, goes only into its constant-time
   * pair kernel, and is wiped there; no caller ever holds it.
   */
  async joinPairsPacked(
    publicKey: PublicKey,
    left: PackedBatch,
    right: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    const key = publicMaterial(publicKey);
    for (const [name, tables] of [
      ['left', left],
      ['right', right],
    ] as const) {
      checkPacked(tables, joinTableWords({ key, ...JOIN_COMB }), name);
      // every power of every table is a ciphertext-sized value: range (and coprimality) first
      this.checkedPacked(
        key,
        { words: keyWords(key).n2, count: tables.count * JOIN_POWERS, data: tables.data },
        name,
      );
    }
    return this.pairsUnder(key, left, right, options);
  }

  private async pairsUnder(
    key: KeyMaterial,
    left: PackedBatch,
    right: PackedBatch,
    options: CallOptions,
  ): Promise<PackedBatch> {
    const words = keyWords(key);
    const task = {
      op: 'joinPairs',
      key,
      ...JOIN_COMB,
      count: left.count,
      input: left.data,
      tile: right.data,
      cols: right.count,
      randWords: right.count * words.n,
    } as const;
    if (task.count * task.cols === 0) {
      if (this.closed) throw new EngineClosedError();
      return { words: words.n2, count: 0, data: new Uint32Array(0) };
    }
    return { words: words.n2, count: left.count * right.count, data: await this.run(task, options.signal) };
  }

  /**
   * §3.2 step 1 (owner): each 64-byte value of `hashes` (16 words: HMAC-SHA256_K output,
   * src/ec/hash-to-group.ts) maps to T = from_hash(value), encrypted under B's EC key Y as
   * (rG, T + rY) with r fresh from node:crypto: 16-word ciphertexts.
   */
  async ecEncryptTags(
    ecPublicKey: Uint8Array,
    hashes: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    assertPoint('ecPublicKey', ecPublicKey);
    checkPacked(hashes, EC_HASH_WORDS, 'hashes');
    const ecKey = wordsOf(ecPublicKey);
    const { count, data: input } = hashes;
    return this.ecRandomized(count, EC_CIPHERTEXT_WORDS, options, (rand) => ({
      op: 'ecEncryptTags',
      ecKey,
      count,
      input,
      rand,
      randWords: EC_POINT_WORDS,
      first: 0,
    }));
  }

  /**
   * Keeps up to `count` of A's re-randomisers for B's EC key ready (at most
   * RERANDOMIZER_POOL_CAPACITY): encryptions of the identity (r'G, r'Y) that ecBlind uses
   * first. They depend on no data, so idle workers make them in the background, as for the
   * 'pool' encryption mode; server A asks for as many as its largest join needs. Each is
   * a one-time secret: handed out once, wiped from the pool, wiped by ecBlind after use.
   */
  prepareRerandomizers(ecPublicKey: Uint8Array, count: number): void {
    assertPoint('ecPublicKey', ecPublicKey);
    const target = Math.min(RERANDOMIZER_POOL_CAPACITY, Math.max(0, Math.floor(count)));
    this.rerandomizerTargets.set(rerandomizerPoolId(ecPublicKey), target);
    this.refillRerandomizers(ecPublicKey);
  }

  /** Refills B's EC key's re-randomisers in the background up to prepareRerandomizers' count. */
  private refillRerandomizers(ecPublicKey: Uint8Array): void {
    const id = rerandomizerPoolId(ecPublicKey);
    this.keepFilled(
      id,
      this.rerandomizers,
      EC_CIPHERTEXT_WORDS,
      RERANDOMIZER_FILL_STEP,
      () => this.rerandomizerTargets.get(id) ?? 0,
      (n) => this.makeRerandomizers(ecPublicKey, n),
    );
  }

  /** Re-randomisers ready for B's EC key (prepareRerandomizers). */
  rerandomizerPoolSize(ecPublicKey: Uint8Array): number {
    return this.rerandomizers.size(rerandomizerPoolId(ecPublicKey));
  }

  /** `count` fresh (r'G, r'Y) under Y, r' from node:crypto (drawn here, wiped after). */
  private makeRerandomizers(ecPublicKey: Uint8Array, count: number): Promise<Uint32Array> {
    const ecKey = wordsOf(ecPublicKey);
    return this.ecRandomized(count, EC_CIPHERTEXT_WORDS, {}, (rand) => ({
      op: 'ecRerandomizers',
      ecKey,
      count,
      input: new Uint32Array(0),
      rand,
      randWords: EC_POINT_WORDS,
      first: 0,
    })).then((batch) => batch.data);
  }

  /**
   * §3.2 step 2 (server A): (alpha R + r'G, alpha C + r'Y) for each 16-word ciphertext
   * (R, C) under B's EC key Y: an encryption of alpha T that shares no randomness with its
   * input. (r'G, r'Y) come from the re-randomiser pool (prepareRerandomizers) first, the
   * rest are made now with r' fresh from node:crypto. `alpha` (32 bytes, in [1, L)) stays
   * the caller's to wipe; this call wipes every copy it makes and every re-randomiser.
   */
  async ecBlind(
    ecPublicKey: Uint8Array,
    ciphertexts: PackedBatch,
    alpha: Uint8Array,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    assertPoint('ecPublicKey', ecPublicKey);
    assertScalar('alpha', alpha);
    checkPacked(ciphertexts, EC_CIPHERTEXT_WORDS, 'ciphertexts');
    if (this.closed) throw new EngineClosedError();
    const id = rerandomizerPoolId(ecPublicKey);
    const ecKey = wordsOf(ecPublicKey);
    const secret = wordsOf(alpha);
    const { count, data: input } = ciphertexts;
    let rand: Uint32Array | undefined;
    try {
      rand = await this.fromPool(this.rerandomizers, id, EC_CIPHERTEXT_WORDS, count, (n) =>
        this.makeRerandomizers(ecPublicKey, n),
      );
      const task = {
        op: 'ecBlind',
        ecKey,
        alpha: secret,
        count,
        input,
        rand,
        randWords: EC_CIPHERTEXT_WORDS,
        first: 0,
      } as const;
      return { words: EC_CIPHERTEXT_WORDS, count, data: await this.run(task, options.signal) };
    } finally {
      secret.fill(0);
      rand?.fill(0);
      this.refillRerandomizers(ecPublicKey);
    }
  }

  /**
   * §3.2 step 3 (server B): C - xR for each 16-word ciphertext (R, C) under B's EC key, as
   * 8-word canonical encodings (equal points, equal words). A point that is not a canonical
   * encoding, or the identity, is an InvalidPointError naming its index.
   */
  async ecDecrypt(
    ecSecretKey: Uint8Array,
    ciphertexts: PackedBatch,
    options: CallOptions = {},
  ): Promise<PackedBatch> {
    assertSecretKey('ecSecretKey', ecSecretKey);
    checkPacked(ciphertexts, EC_CIPHERTEXT_WORDS, 'ciphertexts');
    const x = wordsOf(ecSecretKey);
    try {
      const task = {
        op: 'ecDecrypt',
        ecKey: x,
        count: ciphertexts.count,
        input: ciphertexts.data,
        first: 0,
      } as const;
      return { words: EC_POINT_WORDS, count: ciphertexts.count, data: await this.run(task, options.signal) };
    } finally {
      x.fill(0);
    }
  }

  /** Runs the EC task `make` builds around one fresh scalar per value (r or r'), drawn here and wiped after. */
  private async ecRandomized(
    count: number,
    outWords: number,
    options: CallOptions,
    make: (rand: Uint32Array) => KernelTask,
  ): Promise<PackedBatch> {
    if (this.closed) throw new EngineClosedError();
    const scalars = randomScalars(count);
    const rand = new Uint32Array(scalars.buffer, scalars.byteOffset, scalars.byteLength / 4);
    try {
      return { words: outWords, count, data: await this.run(make(rand), options.signal) };
    } finally {
      rand.fill(0);
    }
  }

  /** Checked bigint ciphertexts under `key`, packed at n^2 words. */
  private packCiphertexts(key: KeyMaterial, values: readonly bigint[], name = 'ciphertexts'): PackedBatch {
    const primes = key.p === undefined ? undefined : { p: key.p, q: key.q! };
    return pack(checkCiphertexts(values, key.n, name, primes), keyWords(key).n2);
  }

  /** A packed batch of ciphertexts under `key`, checked as packCiphertexts checks bigints. */
  private checkedPacked(key: KeyMaterial, batch: PackedBatch, name = 'ciphertexts'): PackedBatch {
    checkPacked(batch, keyWords(key).n2, name);
    const primes = key.p === undefined ? undefined : { p: key.p, q: key.q! };
    checkPackedCiphertexts(batch, key.n, name, primes);
    return batch;
  }

  /** base^e mod modulus for an odd modulus of up to 8192 bits. */
  async modPow(
    bases: readonly bigint[],
    exponents: bigint | readonly bigint[],
    modulus: bigint,
    options: ExponentOptions = {},
  ): Promise<bigint[]> {
    const m = checkModulus(modulus);
    const bs = checkBases(bases, m);
    const es = checkExponents(exponents, bs.length);
    const words = wordsFor(m);
    const secret = options.secret ?? false;
    const input = pack(bs, words).data;
    const task = { op: 'modPow', modulus: m, count: bs.length, input, ...packExponents(es), secret } as const;
    const data = await this.run(task, options.signal);
    return unpack({ words, count: bs.length, data });
  }

  /**
   * Encrypts a stream of plaintexts of any length with bounded memory, results in input
   * order (see stream.ts); the AbortSignal cancels, onProgress reports done/total.
   */
  encryptStream(
    publicKey: PublicKey,
    plaintexts: Iterable<bigint> | AsyncIterable<bigint>,
    options: EncryptOptions & StreamOptions = {},
  ): AsyncGenerator<bigint> {
    return mapInChunks(
      plaintexts,
      (chunk, signal) => this.encrypt(publicKey, chunk, { ...options, signal }),
      {
        ...this.streamDefaults(),
        ...options,
      },
    );
  }

  /** Decrypts a stream of ciphertexts with bounded memory, in order. */
  decryptStream(
    privateKey: PrivateKey,
    ciphertexts: Iterable<bigint> | AsyncIterable<bigint>,
    options: StreamOptions = {},
  ): AsyncGenerator<bigint> {
    return mapInChunks(ciphertexts, (chunk, signal) => this.decrypt(privateKey, chunk, { signal }), {
      ...this.streamDefaults(),
      ...options,
    });
  }

  private streamDefaults(): { chunkSize: number; inFlight: number } {
    return { chunkSize: 256, inFlight: Math.max(2, 2 * this.runner.workers) };
  }

  /** Refills the 'pool' mode's r^n for `key` in the background, up to the pool's capacity. */
  private keepPoolFull(key: KeyMaterial): void {
    this.keepFilled(
      key.fingerprint,
      this.pool,
      keyWords(key).n2,
      1,
      () => this.pool.capacity,
      (n) => this.randomFactors(key, n),
    );
  }

  /**
   * Fills `pool`'s values for `id` in the background, `step` values per worker at a time and
   * only while no caller's work is queued, up to `target()` (read again each step: a later
   * request may change it). A failed fill only means the next call computes its own.
   */
  private keepFilled(
    id: string,
    pool: RandomnessPool,
    words: number,
    step: number,
    target: () => number,
    make: (count: number) => Promise<Uint32Array>,
  ): void {
    if (!this.backgroundFill || this.filling.has(id)) return;
    this.filling.add(id);
    const fill = async (): Promise<void> => {
      while (!this.closed && pool.size(id) < target()) {
        // yield to callers: start a fill only when no caller's shard is queued or running
        await this.runner.whenIdle();
        if (this.closed) break;
        const count = Math.min(Math.max(1, this.runner.workers) * step, target() - pool.size(id));
        if (count <= 0) break;
        const data = await make(count);
        if (this.closed) data.fill(0);
        else pool.add(id, data, words, count);
      }
    };
    const done: Promise<void> = fill()
      .catch(() => {})
      .finally(() => {
        this.filling.delete(id);
        this.fills.delete(done);
      });
    this.fills.add(done);
  }

  /** Rejects data made under another key (fingerprints differ). */
  static requireSameKey(expected: string, got: string): void {
    if (expected !== got) throw new KeyMismatchError('batch was made under another key', { expected, got });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.fills);
    this.pool.clear();
    this.rerandomizers.clear();
    await this.runner.close();
  }
}

/** A copy of 32-byte encodings or scalars as words: a task's buffers are its own (and may be wiped). */
function wordsOf(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

function checkPacked(batch: PackedBatch, words: number, name: string): void {
  if (batch.words !== words || batch.data.length !== batch.count * words) {
    throw new BatchLengthError(
      `${name}: expected ${batch.count} values of ${words} words, got ${batch.data.length} words`,
    );
  }
}

/**
 * Extended Euclid in BigInt on this thread: ciphertexts and n are public, so variable
 * time leaks nothing, and one inverse costs about as much as a few dozen modular
 * multiplications, far below a task's packing and dispatch.
 */
function inverses(key: KeyMaterial, cs: readonly bigint[], closed: boolean): bigint[] {
  if (closed) throw new EngineClosedError();
  const n2 = key.n * key.n;
  return cs.map((c) => modInverse(c, n2));
}

/** The common number of key columns of the join's rows (>= 1); 0 when both sides are empty. */
function checkKeyRows(left: unknown, right: unknown): number {
  let keyCols = 0;
  for (const [name, rows] of [
    ['left', left],
    ['rightInverse', right],
  ] as const) {
    if (!Array.isArray(rows)) throw new InvalidArgumentError(`${name}: expected an array of rows`);
    for (let i = 0; i < rows.length; i++) {
      const row: unknown = rows[i];
      if (!Array.isArray(row)) throw new InvalidArgumentError(`${name}[${i}]: expected an array of bigint`);
      if (row.length === 0) {
        throw new InvalidArgumentError(`${name}[${i}]: a row needs at least one key column`, { index: i });
      }
      if (keyCols === 0) keyCols = row.length;
      if (row.length !== keyCols) {
        throw new BatchLengthError(`${name}[${i}] has ${row.length} key columns, expected ${keyCols}`, {
          index: i,
          keyCols,
          got: row.length,
        });
      }
    }
  }
  return keyCols;
}

/** Rows of ciphertexts, each checked (range, coprime to n); errors name row and column. */
function checkRows(rows: readonly (readonly bigint[])[], n: bigint, name: string): void {
  for (const [i, row] of rows.entries()) checkCiphertexts(row, n, `${name}[${i}]`);
}

/** Values of one row table: the comb's teeth x blocks powers. */
const JOIN_POWERS = JOIN_COMB.teeth * JOIN_COMB.blocks;

/** Exponents packed at a common width; a single exponent is broadcast (stride 0). */
function packExponents(es: readonly bigint[]): { exp: Uint32Array; expWords: number; expStride: number } {
  let expWords = 1;
  for (const e of es) expWords = Math.max(expWords, wordsFor(e));
  return { exp: pack(es, expWords).data, expWords, expStride: es.length === 1 ? 0 : expWords };
}

/** createEngine({ backend, workers }) as DESIGN §6 specifies. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const backend = options.backend ?? 'wasm';
  const { encryption, randomnessPoolCapacity } = options;
  if (backend === 'bigint') {
    return new Engine(backend, new InThreadRunner(new BigintBackend()), encryption, randomnessPoolCapacity);
  }
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) {
    throw new InvalidArgumentError(`workers: expected a non-negative integer, got ${workers}`);
  }
  const local = async () =>
    workers === 0
      ? new InThreadRunner(await WasmBackend.create())
      : new PoolRunner({ workers, filename: options.workerFilename });
  if (options.queue) {
    // loaded on use: without a queue, nothing of BullMQ or ioredis is imported
    const { QueueRunner } = await import('../queue/runner.js');
    const { queuedOps, ...settings } = options.queue;
    const route = queuedOps ? { runner: await local(), queued: queuedOps } : undefined;
    const runner = await QueueRunner.open(settings, route).catch(async (err) => {
      await route?.runner.close();
      throw err;
    });
    return new Engine(backend, runner, encryption, randomnessPoolCapacity);
  }
  return new Engine(backend, await local(), encryption, randomnessPoolCapacity);
}
