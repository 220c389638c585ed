// ristretto255 for the hashed join's EC ElGamal tags (issue 10, DESIGN §3.2): libsodium's
// WASM build (called raw, as src/ec does, and through its wrapper API) against
// @noble/curves (pure JS), per group operation, bytes in and bytes out; then src/ec's
// per-row costs: owner tagging, A's blinding, B's decryption. One thread; check, then time.
// Writes bench/results/ec-<date>-<host>.{json,md} (lib/results.ts).
// Run: npm run bench:ec [-- --quick] [--out DIR] [--baseline]
import { randomBytes } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import sodium from 'libsodium-wrappers-sumo';
import { Bench } from 'tinybench';
import { canonicalKey, generateJoinSecret } from '../src/data/join-key.js';
import { blindAndRerandomize, decryptPoints, encryptTags, generateEcKey } from '../src/ec/elgamal.js';
import { hashToGroupBatch } from '../src/ec/hash-to-group.js';
import { lib, libsodiumVersion, randomScalars } from '../src/ec/ristretto.js';
import { describeEnvironment, loadAverage } from './lib/environment.js';
import { exitOnRefusal, startRun, writeResults } from './lib/results.js';
import { keep } from './lib/sink.js';

const quick = process.argv.includes('--quick');
/** Rounds interleave the rows, so a burst of load from other processes hits all of them. */
const ROUNDS = quick ? 1 : 3;
const ROUND_MS = quick ? 100 : 300;
/** A sample loops calls until it lasts about this long, far above the clock's resolution. */
const SAMPLE_MS = 2;
const ROTATION = 16;
/** Rows per src/ec batch in the per-row table. */
const BATCH = 256;

type Result = Uint8Array | boolean;

interface Row {
  label: string;
  run(i: number): Result;
}

interface Case {
  id: string;
  title: string;
  /** Units per call: 1 for a group operation, BATCH for a src/ec batch. */
  perCall: number;
  rows: Row[];
  /**
   * For randomised rows: a canonical form of a result on input j (its decryption), to be
   * compared across rows and with `expected`. Deterministic rows are compared as bytes.
   */
  canonical?(j: number, result: Result): string;
  expected?(j: number): string;
}

interface Measured {
  caseId: string;
  label: string;
  samples: number;
  /** p50 CPU time per op (or per row), microseconds */
  p50Us: number;
  wallP50Us: number;
}

const Point = ristretto255.Point;
const hex = (r: Result): string => (typeof r === 'boolean' ? String(r) : Buffer.from(r).toString('hex'));

// Fixed inputs, ROTATION of each: scalars, points, 64-byte strings.
const scalars = Array.from({ length: ROTATION }, () => randomScalars(1));
const points = scalars.map((k) => sodium.crypto_scalarmult_ristretto255_base(k));
const others = Array.from({ length: ROTATION }, () =>
  sodium.crypto_scalarmult_ristretto255_base(randomScalars(1)),
);
const wides = Array.from({ length: ROTATION }, () => randomBytes(64));
const nobleScalars = scalars.map((k) => bytesToNumberLE(k));
const noblePoints = points.map((p) => Point.fromBytes(p));

/** The inputs copied once into libsodium's memory, with an output slot, for the raw rows. */
const heap = (() => {
  const at = lib._malloc(ROTATION * (32 * 3 + 64) + 32);
  const s = at;
  const p = s + 32 * ROTATION;
  const q = p + 32 * ROTATION;
  const w = q + 32 * ROTATION;
  const out = w + 64 * ROTATION;
  for (let i = 0; i < ROTATION; i++) {
    lib.HEAPU8.set(scalars[i], s + 32 * i);
    lib.HEAPU8.set(points[i], p + 32 * i);
    lib.HEAPU8.set(others[i], q + 32 * i);
    lib.HEAPU8.set(wides[i], w + 64 * i);
  }
  return {
    s: (i: number) => s + 32 * i,
    p: (i: number) => p + 32 * i,
    q: (i: number) => q + 32 * i,
    w: (i: number) => w + 64 * i,
    out,
  };
})();

function raw(status: number): Uint8Array {
  if (status !== 0) throw new Error('libsodium raw call failed');
  return lib.HEAPU8.slice(heap.out, heap.out + 32);
}

const primitives: Case[] = [
  {
    id: 'scalarmult',
    title: 'variable-base scalar multiplication k*P',
    perCall: 1,
    rows: [
      {
        label: 'libsodium raw',
        run: (i) => raw(lib._crypto_scalarmult_ristretto255(heap.out, heap.s(i), heap.p((i + 1) % ROTATION))),
      },
      {
        label: 'libsodium wrapper',
        run: (i) => sodium.crypto_scalarmult_ristretto255(scalars[i], points[(i + 1) % ROTATION]),
      },
      {
        label: 'noble',
        run: (i) =>
          Point.fromBytes(points[(i + 1) % ROTATION])
            .multiply(nobleScalars[i])
            .toBytes(),
      },
    ],
  },
  {
    id: 'scalarmult_base',
    title: 'fixed-base scalar multiplication k*G',
    perCall: 1,
    rows: [
      {
        label: 'libsodium raw',
        run: (i) => raw(lib._crypto_scalarmult_ristretto255_base(heap.out, heap.s(i))),
      },
      { label: 'libsodium wrapper', run: (i) => sodium.crypto_scalarmult_ristretto255_base(scalars[i]) },
      { label: 'noble', run: (i) => Point.BASE.multiply(nobleScalars[i]).toBytes() },
    ],
  },
  {
    id: 'add',
    title: 'point addition P + Q',
    perCall: 1,
    rows: [
      {
        label: 'libsodium raw',
        run: (i) => raw(lib._crypto_core_ristretto255_add(heap.out, heap.p(i), heap.q(i))),
      },
      { label: 'libsodium wrapper', run: (i) => sodium.crypto_core_ristretto255_add(points[i], others[i]) },
      { label: 'noble', run: (i) => Point.fromBytes(points[i]).add(Point.fromBytes(others[i])).toBytes() },
    ],
  },
  {
    id: 'sub',
    title: 'point subtraction P - Q',
    perCall: 1,
    rows: [
      {
        label: 'libsodium raw',
        run: (i) => raw(lib._crypto_core_ristretto255_sub(heap.out, heap.p(i), heap.q(i))),
      },
      { label: 'libsodium wrapper', run: (i) => sodium.crypto_core_ristretto255_sub(points[i], others[i]) },
      {
        label: 'noble',
        run: (i) => Point.fromBytes(points[i]).subtract(Point.fromBytes(others[i])).toBytes(),
      },
    ],
  },
  {
    id: 'from_hash',
    title: 'from-hash map, 64 bytes -> point (RFC 9496 §4.3.4)',
    perCall: 1,
    rows: [
      {
        label: 'libsodium raw',
        run: (i) => raw(lib._crypto_core_ristretto255_from_hash(heap.out, heap.w(i))),
      },
      { label: 'libsodium wrapper', run: (i) => sodium.crypto_core_ristretto255_from_hash(wides[i]) },
      { label: 'noble', run: (i) => ristretto255_hasher.deriveToCurve!(wides[i]).toBytes() },
    ],
  },
  {
    id: 'decode',
    title: 'decode and validate an encoding',
    perCall: 1,
    rows: [
      { label: 'libsodium raw', run: (i) => lib._crypto_core_ristretto255_is_valid_point(heap.p(i)) === 1 },
      { label: 'libsodium wrapper', run: (i) => sodium.crypto_core_ristretto255_is_valid_point(points[i]) },
      { label: 'noble', run: (i) => Point.fromBytes(points[i]).is0() === false },
    ],
  },
  {
    id: 'encode',
    title: 'encode a point (libsodium encodes inside every op; no separate call)',
    perCall: 1,
    rows: [{ label: 'noble', run: (i) => noblePoints[i].toBytes() }],
  },
];

// src/ec per row, at BATCH rows per call
const ecKey = generateEcKey();
const joinSecret = generateJoinSecret();
const keys = Array.from({ length: ROTATION }, (_, j) =>
  Array.from({ length: BATCH }, (_, i) => canonicalKey([BigInt(j * BATCH + i), `name ${i % 97}`])),
);
const tags = keys.map((k) => hashToGroupBatch(k, joinSecret));
const cts = tags.map((t) => encryptTags(ecKey.publicKey, t, randomScalars(BATCH)));
const alpha = randomScalars(1);
const blinded = cts.map((c) => blindAndRerandomize(ecKey.publicKey, c, alpha, randomScalars(BATCH)));

/**
 * A's step with r'G and r'Y made ahead of time (e.g. by idle workers, as the Paillier
 * randomness pool): online alpha R + Z1, alpha C + Z2. Raw, to size that option.
 */
const pooled = (() => {
  // one (r'G, r'Y) pair per call stands in for a pool of them: the online cost per row is the same
  const zeros = cts.map(() => {
    const r = randomScalars(1);
    return Buffer.concat([
      sodium.crypto_scalarmult_ristretto255_base(r),
      sodium.crypto_scalarmult_ristretto255(r, ecKey.publicKey),
    ]);
  });
  const at = lib._malloc(32 + 64 * BATCH + 64 + 64 * BATCH);
  const a = at;
  const z = a + 32;
  const inAt = z + 64;
  const out = inAt + 64 * BATCH;
  lib.HEAPU8.set(alpha, a);
  return (j: number): Uint8Array => {
    lib.HEAPU8.set(zeros[j], z);
    lib.HEAPU8.set(cts[j], inAt);
    for (let i = 0; i < BATCH; i++) {
      const R = inAt + 64 * i;
      const o = out + 64 * i;
      lib._crypto_scalarmult_ristretto255(o, a, R);
      lib._crypto_core_ristretto255_add(o, o, z);
      lib._crypto_scalarmult_ristretto255(o + 32, a, R + 32);
      lib._crypto_core_ristretto255_add(o + 32, o + 32, z + 32);
    }
    return lib.HEAPU8.slice(out, out + 64 * BATCH);
  };
})();

const decrypted = (r: Result) => hex(decryptPoints(ecKey.secretKey, r as Uint8Array));

const perRow: Case[] = [
  {
    id: 'owner.tag',
    title: `owner: hash to group + draw r + encrypt (tagging), batch ${BATCH}`,
    perCall: BATCH,
    rows: [
      {
        label: 'src/ec',
        run: (j) => encryptTags(ecKey.publicKey, hashToGroupBatch(keys[j], joinSecret), randomScalars(BATCH)),
      },
    ],
    canonical: (_, r) => decrypted(r),
    expected: (j) => hex(tags[j]),
  },
  {
    id: 'owner.hash',
    title: `owner: hashToGroupBatch only (2 HMAC + from-hash), batch ${BATCH}`,
    perCall: BATCH,
    rows: [{ label: 'src/ec', run: (j) => hashToGroupBatch(keys[j], joinSecret) }],
  },
  {
    id: 'owner.encrypt',
    title: `owner: randomScalars + encryptTags only, batch ${BATCH}`,
    perCall: BATCH,
    rows: [{ label: 'src/ec', run: (j) => encryptTags(ecKey.publicKey, tags[j], randomScalars(BATCH)) }],
    canonical: (_, r) => decrypted(r),
    expected: (j) => hex(tags[j]),
  },
  {
    id: 'a.blind',
    title: `A: randomScalars + blindAndRerandomize, batch ${BATCH}`,
    perCall: BATCH,
    rows: [
      {
        label: 'src/ec',
        run: (j) => blindAndRerandomize(ecKey.publicKey, cts[j], alpha, randomScalars(BATCH)),
      },
      { label: "raw, r'G and r'Y precomputed", run: (j) => pooled(j) },
    ],
    canonical: (_, r) => decrypted(r),
    expected: (j) => decrypted(blinded[j]),
  },
  {
    id: 'b.decrypt',
    title: `B: decryptPoints, batch ${BATCH}`,
    perCall: BATCH,
    rows: [{ label: 'src/ec', run: (j) => decryptPoints(ecKey.secretKey, blinded[j]) }],
  },
];

/**
 * Before anything is timed, every row of a case must give the same result on every input
 * (randomised rows: the same decryption), and the expected one where the case knows it.
 */
function check(c: Case): void {
  const form = (i: number, r: Result) => (c.canonical ? c.canonical(i, r) : hex(r));
  for (let i = 0; i < ROTATION; i++) {
    const expected = c.expected ? c.expected(i) : form(i, c.rows[0].run(i));
    for (const row of c.rows) {
      if (form(i, row.run(i)) !== expected)
        throw new Error(`${c.id}: ${row.label} gives a wrong result on input ${i}`);
    }
  }
}

/** Samples of one row over one round: CPU and wall time per unit, in microseconds. */
async function timeRound(c: Case, row: Row, calls: number, cpu: number[], wall: number[]): Promise<void> {
  let next = 0;
  const bench = new Bench({ time: ROUND_MS, iterations: 3, warmup: false, throws: true });
  bench.add(row.label, () => {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let k = 0; k < calls; k++) keep(row.run(next++ % ROTATION));
    const w = performance.now() - wall0;
    const t = process.cpuUsage(cpu0);
    cpu.push((t.user + t.system) / calls / c.perCall);
    wall.push((w * 1000) / calls / c.perCall);
  });
  await bench.run();
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) / 2;
  return (s[Math.floor(pos)] + s[Math.ceil(pos)]) / 2;
}

async function measure(cases: Case[]): Promise<Measured[]> {
  const state = cases.flatMap((c) =>
    c.rows.map((row) => {
      // warm up (V8 tiers WASM and JS up) and size a sample from the warm calls
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < (quick ? 30 : 100)) keep(row.run(n++ % ROTATION));
      const callMs = (performance.now() - t0) / n;
      return {
        c,
        row,
        calls: Math.max(1, Math.ceil(SAMPLE_MS / callMs)),
        cpu: [] as number[],
        wall: [] as number[],
      };
    }),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of state) await timeRound(s.c, s.row, s.calls, s.cpu, s.wall);
  }
  return state.map((s) => ({
    caseId: s.c.id,
    label: s.row.label,
    samples: s.cpu.length,
    p50Us: p50(s.cpu),
    wallP50Us: p50(s.wall),
  }));
}

const us = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ratio = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(1)}x`);

function primitiveTable(all: Measured[]): string[] {
  const lines = [
    '| operation | libsodium raw us | libsodium wrapper us | noble us | wrapper / raw | noble / raw |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of primitives) {
    const get = (label: string) => all.find((m) => m.caseId === c.id && m.label === label)?.p50Us;
    const [r, w, n] = [get('libsodium raw'), get('libsodium wrapper'), get('noble')];
    const cell = (x: number | undefined) => (x === undefined ? '-' : us(x));
    lines.push(
      `| ${c.title} | ${cell(r)} | ${cell(w)} | ${cell(n)} | ${ratio(r && w && w / r)} | ${ratio(r && n && n / r)} |`,
    );
  }
  return lines;
}

function perRowTable(all: Measured[]): string[] {
  const lines = ['| step | implementation | us/row | rows/s on one core |', '| --- | --- | ---: | ---: |'];
  for (const c of perRow) {
    for (const m of all.filter((x) => x.caseId === c.id)) {
      lines.push(`| ${c.title} | ${m.label} | ${us(m.p50Us)} | ${(1e6 / m.p50Us).toFixed(0)} |`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const { output, date, environment: env, warning } = startRun(process.argv);
  const started = performance.now();
  for (const c of [...primitives, ...perRow]) check(c);
  console.error('checked: every implementation agrees on every input; timing...');
  const prim = await measure(primitives);
  const rows = await measure(perRow);
  const tagging = rows.find((m) => m.caseId === 'owner.tag')!;
  const loadAtEnd = loadAverage();
  const markdown = [
    '# ristretto255 bench (issue 10)',
    '',
    `${date.toISOString()}: ${describeEnvironment(env)}; load average at the end ${loadAtEnd}. libsodium ${libsodiumVersion} (libsodium-wrappers-sumo), @noble/curves.`,
    ...(warning ? ['', warning] : []),
    '',
    `Single thread, ${quick ? 'quick' : 'full'} run (${((performance.now() - started) / 1000).toFixed(0)} s). p50 CPU time per operation, bytes in and bytes out (noble: fromBytes, op, toBytes). Raw = libsodium's WASM exports on its own memory, as src/ec calls them; wrapper = its JS API, which allocates and copies per call.`,
    '',
    ...primitiveTable(prim),
    '',
    `### src/ec per row (batch ${BATCH})`,
    '',
    ...perRowTable(rows),
    '',
    `Owner tagging: ${(1e6 / tagging.p50Us).toFixed(0)} rows/s per core (target 5,000): ${1e6 / tagging.p50Us >= 5000 ? 'holds' : 'missed'}.`,
  ].join('\n');
  const files = await writeResults(
    {
      schema: 'fedjoin-bench/1',
      suite: 'ec',
      date,
      environment: env,
      loadAtEnd,
      quick,
      batch: BATCH,
      libsodium: libsodiumVersion,
      primitives: prim,
      perRow: rows,
    },
    markdown,
    output,
  );
  console.log(markdown);
  console.error(`wrote ${files.json} and ${files.markdown}`);
}

await main().catch(exitOnRefusal);
