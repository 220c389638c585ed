// src/ec/elgamal.ts (DESIGN §3.2): B's EC key, the owners' encryption, A's blinding and
// re-randomisation, B's decryption. Properties (decryption inverts encryption, blinding
// gives alpha*T and keeps the equality pattern of one query only), every result
// cross-checked against @noble/curves, batch sizes 0, 1 and many, and bad input.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blindAndRerandomize,
  CIPHERTEXT_BYTES,
  decryptPoints,
  ecFingerprint,
  ecPublicKey,
  encryptTags,
  generateEcKey,
} from '../../src/ec/elgamal.js';
import { randomScalars } from '../../src/ec/ristretto.js';
import {
  BatchLengthError,
  type FedjoinError,
  fromRecord,
  InvalidArgumentError,
  InvalidKeyError,
  InvalidPointError,
} from '../../src/errors.js';
import { at, hex, ref } from '../helpers/ristretto-reference.js';
import { thrown } from '../helpers/thrown.js';

const key = generateEcKey();

/** `count` random points, as T would be: k*G for random k, checked by noble. */
function randomPoints(count: number): Uint8Array {
  const ks = randomScalars(count);
  const out = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) out.set(ref.base(at(ks, i)), i * 32);
  return out;
}

function encrypt(points: Uint8Array): Uint8Array {
  return encryptTags(key.publicKey, points, randomScalars(points.length / 32));
}

function blind(ciphertexts: Uint8Array, alpha: Uint8Array): Uint8Array {
  return blindAndRerandomize(key.publicKey, ciphertexts, alpha, randomScalars(ciphertexts.length / 64));
}

const sizes = fc.integer({ min: 1, max: 6 });

describe('generateEcKey', () => {
  it('gives Y = xG (checked by noble) and a fingerprint = SHA-256 of Y, hex', () => {
    expect(key.secretKey).toHaveLength(32);
    expect(hex(key.publicKey)).toBe(hex(ref.base(key.secretKey)));
    expect(hex(ecPublicKey(key.secretKey))).toBe(hex(key.publicKey));
    expect(key.fingerprint).toBe(createHash('sha256').update(key.publicKey).digest('hex'));
    expect(ecFingerprint(key.publicKey)).toBe(key.fingerprint);
    expect(generateEcKey().fingerprint).not.toBe(key.fingerprint);
  });

  it('refuses a secret key outside [1, L) with InvalidKeyError', () => {
    const e = thrown(() => ecPublicKey(new Uint8Array(32)));
    expect(e).toBeInstanceOf(InvalidKeyError);
    expect(e.code).toBe('INVALID_KEY');
  });
});

describe('encryptTags', () => {
  it('matchesNoble: (R, C) = (rG, T + rY) for the given r', () => {
    fc.assert(
      fc.property(sizes, (count) => {
        const points = randomPoints(count);
        const rs = randomScalars(count);
        const kept = rs.slice();
        const out = encryptTags(key.publicKey, points, rs);
        expect(out).toHaveLength(count * CIPHERTEXT_BYTES);
        for (let i = 0; i < count; i++) {
          const r = at(kept, i);
          expect(hex(at(out, i, 64, 0)), `R[${i}]`).toBe(hex(ref.base(r)));
          expect(hex(at(out, i, 64, 32)), `C[${i}]`).toBe(
            hex(ref.add(at(points, i), ref.mul(r, key.publicKey))),
          );
        }
      }),
      { numRuns: 8 },
    );
  });

  it('is a pure function of its inputs and zeroes the one-time scalars it consumed', () => {
    const points = randomPoints(3);
    const rs = randomScalars(3);
    const copy = rs.slice();
    const first = encryptTags(key.publicKey, points, rs);
    expect(rs.every((b) => b === 0)).toBe(true);
    expect(hex(encryptTags(key.publicKey, points, copy))).toBe(hex(first));
    // zeroed on a throw too: a short scalar buffer
    const short = randomScalars(2);
    expect(thrown(() => encryptTags(key.publicKey, points, short))).toBeInstanceOf(BatchLengthError);
    expect(short.every((b) => b === 0)).toBe(true);
  });

  it('encrypts the same T to different ciphertexts', () => {
    const t = randomPoints(1);
    const twice = Buffer.concat([t, t]);
    const out = encrypt(twice);
    expect(hex(at(out, 0, 64))).not.toBe(hex(at(out, 1, 64)));
    expect(hex(at(out, 0, 64, 32))).not.toBe(hex(at(out, 1, 64, 32)));
  });
});

describe('decryptPoints', () => {
  it('decryptInvertsEncrypt, for batch sizes 0, 1 and many, and matchesNoble', () => {
    for (const count of [0, 1, 40]) {
      const points = randomPoints(count);
      const cts = encrypt(points);
      const out = decryptPoints(key.secretKey, cts);
      expect(hex(out), `count ${count}`).toBe(hex(points));
      for (let i = 0; i < Math.min(count, 3); i++) {
        const expected = ref.sub(at(cts, i, 64, 32), ref.mul(key.secretKey, at(cts, i, 64, 0)));
        expect(hex(at(out, i))).toBe(hex(expected));
      }
    }
  });

  it('shards: a subarray of the batch gives the matching slice of the whole result', () => {
    const cts = encrypt(randomPoints(10));
    const whole = decryptPoints(key.secretKey, cts);
    const shards = [
      [0, 3],
      [3, 4],
      [4, 10],
    ].map(([from, to]) => decryptPoints(key.secretKey, cts.subarray(from * 64, to * 64)));
    expect(hex(Buffer.concat(shards))).toBe(hex(whole));
    expect(shards[0].buffer.byteLength).toBe(3 * 32); // own buffer: transferable as it is
  });

  it('under another key gives another point', () => {
    const points = randomPoints(1);
    expect(hex(decryptPoints(generateEcKey().secretKey, encrypt(points)))).not.toBe(hex(points));
  });
});

describe('blindAndRerandomize', () => {
  it('decrypts to alpha*T (matchesNoble), for batch sizes 0, 1 and many', () => {
    const alpha = randomScalars(1);
    for (const count of [0, 1, 24]) {
      const points = randomPoints(count);
      const out = decryptPoints(key.secretKey, blind(encrypt(points), alpha));
      expect(out).toHaveLength(count * 32);
      for (let i = 0; i < count; i++) {
        expect(hex(at(out, i)), `count ${count}, row ${i}`).toBe(hex(ref.mul(alpha, at(points, i))));
      }
    }
  });

  it("matchesNoble: (alpha R + r'G, alpha C + r'Y) for the given alpha and r'", () => {
    const cts = encrypt(randomPoints(4));
    const alpha = randomScalars(1);
    const fresh = randomScalars(4);
    const kept = fresh.slice();
    const out = blindAndRerandomize(key.publicKey, cts, alpha, fresh);
    for (let i = 0; i < 4; i++) {
      const r = at(kept, i);
      const R = ref.add(ref.mul(alpha, at(cts, i, 64, 0)), ref.base(r));
      const C = ref.add(ref.mul(alpha, at(cts, i, 64, 32)), ref.mul(r, key.publicKey));
      expect(hex(at(out, i, 64, 0)), `R'[${i}]`).toBe(hex(R));
      expect(hex(at(out, i, 64, 32)), `C'[${i}]`).toBe(hex(C));
    }
    expect(fresh.every((b) => b === 0)).toBe(true);
    expect(alpha.some((b) => b !== 0)).toBe(true); // alpha belongs to the caller: kept
  });

  it('keeps the equality pattern within one alpha: equal T stay equal, unequal stay unequal', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 10 }), (pattern) => {
        const distinct = randomPoints(4);
        const points = Buffer.concat(pattern.map((k) => at(distinct, k)));
        const out = decryptPoints(key.secretKey, blind(encrypt(points), randomScalars(1)));
        for (let i = 0; i < pattern.length; i++) {
          for (let j = 0; j < pattern.length; j++) {
            expect(hex(at(out, i)) === hex(at(out, j)), `rows ${i}, ${j}`).toBe(pattern[i] === pattern[j]);
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it('under two alphas gives unrelated points: no value of one query is in the other or equals T', () => {
    const points = randomPoints(8);
    const cts = encrypt(points);
    const a = decryptPoints(key.secretKey, blind(cts, randomScalars(1)));
    const b = decryptPoints(key.secretKey, blind(cts, randomScalars(1)));
    const values = (buf: Uint8Array) => Array.from({ length: 8 }, (_, i) => hex(at(buf, i)));
    const inA = new Set(values(a));
    for (const v of [...values(b), ...values(points)]) expect(inA.has(v)).toBe(false);
  });

  it('re-randomises: no output component equals an input component, and two runs differ', () => {
    const cts = encrypt(randomPoints(6));
    const alpha = randomScalars(1);
    const once = blind(cts, alpha);
    const again = blind(cts, alpha);
    for (let i = 0; i < 6; i++) {
      for (const offset of [0, 32]) {
        expect(hex(at(once, i, 64, offset))).not.toBe(hex(at(cts, i, 64, offset)));
        expect(hex(at(once, i, 64, offset))).not.toBe(hex(at(again, i, 64, offset)));
      }
    }
    expect(hex(decryptPoints(key.secretKey, once))).toBe(hex(decryptPoints(key.secretKey, again)));
  });
});

describe('bad input', () => {
  const good = () => encrypt(randomPoints(3));
  const withBytes = (buf: Uint8Array, offset: number, bytes: Uint8Array) => {
    const out = buf.slice();
    out.set(bytes, offset);
    return out;
  };
  // RFC 9496 A.2: a negative field element, and a non-canonical field encoding
  const negative = Uint8Array.from(
    Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex'),
  );
  const nonCanonical = Uint8Array.from(
    Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'),
  );
  const identity = new Uint8Array(32);

  const table: {
    label: string;
    call: () => unknown;
    cls: new (...args: never[]) => FedjoinError;
    code: string;
    details?: Record<string, unknown>;
  }[] = [
    {
      label: 'public key not a point',
      call: () => encryptTags(negative, randomPoints(1), randomScalars(1)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'publicKey' },
    },
    {
      label: 'public key is the identity',
      call: () => blindAndRerandomize(identity, good(), randomScalars(1), randomScalars(3)),
      details: { name: 'publicKey' },
      cls: InvalidPointError,
      code: 'INVALID_POINT',
    },
    {
      label: 'public key of 33 bytes',
      call: () => encryptTags(new Uint8Array(33), randomPoints(1), randomScalars(1)),
      cls: InvalidArgumentError,
      code: 'INVALID_ARGUMENT',
    },
    {
      label: 'T not canonical',
      call: () => encryptTags(key.publicKey, withBytes(randomPoints(3), 64, nonCanonical), randomScalars(3)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'points', index: 2 },
    },
    {
      label: 'T is the identity',
      call: () => encryptTags(key.publicKey, withBytes(randomPoints(2), 0, identity), randomScalars(2)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'points', index: 0 },
    },
    {
      label: 'fewer scalars than points',
      call: () => encryptTags(key.publicKey, randomPoints(3), randomScalars(2)),
      cls: BatchLengthError,
      code: 'BATCH_LENGTH',
      details: { expected: 3, got: 2 },
    },
    {
      label: 'ragged point buffer',
      call: () => encryptTags(key.publicKey, new Uint8Array(40), randomScalars(1)),
      cls: InvalidArgumentError,
      code: 'INVALID_ARGUMENT',
    },
    {
      label: 'a zero row scalar',
      call: () =>
        encryptTags(key.publicKey, randomPoints(2), withBytes(randomScalars(2), 32, new Uint8Array(32))),
      cls: InvalidArgumentError,
      code: 'INVALID_ARGUMENT',
      details: { index: 1 },
    },
    {
      label: 'R not a point (blinding)',
      call: () => blind(withBytes(good(), 64, negative), randomScalars(1)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 1, component: 'R' },
    },
    {
      label: 'C not a point (blinding)',
      call: () => blind(withBytes(good(), 2 * 64 + 32, nonCanonical), randomScalars(1)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 2, component: 'C' },
    },
    {
      label: 'C is the identity (blinding)',
      call: () => blind(withBytes(good(), 32, identity), randomScalars(1)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 0, component: 'C' },
    },
    {
      label: 'alpha = 0',
      call: () => blind(good(), new Uint8Array(32)),
      cls: InvalidArgumentError,
      code: 'INVALID_ARGUMENT',
    },
    {
      label: 'more fresh scalars than ciphertexts',
      call: () => blindAndRerandomize(key.publicKey, good(), randomScalars(1), randomScalars(4)),
      cls: BatchLengthError,
      code: 'BATCH_LENGTH',
    },
    {
      label: 'R not a point (decryption)',
      call: () => decryptPoints(key.secretKey, withBytes(good(), 0, nonCanonical)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 0, component: 'R' },
    },
    {
      label: 'C not a point (decryption)',
      call: () => decryptPoints(key.secretKey, withBytes(good(), 64 + 32, negative)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 1, component: 'C' },
    },
    {
      label: 'R is the identity (decryption)',
      call: () => decryptPoints(key.secretKey, withBytes(good(), 2 * 64, identity)),
      cls: InvalidPointError,
      code: 'INVALID_POINT',
      details: { name: 'ciphertexts', index: 2, component: 'R' },
    },
    {
      label: 'secret key = L (unreduced)',
      call: () =>
        decryptPoints(
          Uint8Array.from(
            Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'),
          ),
          good(),
        ),
      cls: InvalidKeyError,
      code: 'INVALID_KEY',
    },
    {
      label: 'ragged ciphertext buffer',
      call: () => decryptPoints(key.secretKey, new Uint8Array(96)),
      cls: InvalidArgumentError,
      code: 'INVALID_ARGUMENT',
    },
  ];

  for (const row of table) {
    it(`${row.label}: ${row.cls.name} (${row.code})`, () => {
      const e = thrown(row.call);
      expect(e).toBeInstanceOf(row.cls);
      expect(e.code).toBe(row.code);
      if (row.details) expect(e.details).toMatchObject(row.details);
      // survives a thread boundary as a record
      const rebuilt = fromRecord(JSON.parse(JSON.stringify(e)));
      expect(rebuilt).toBeInstanceOf(row.cls);
      expect(rebuilt.code).toBe(row.code);
    });
  }

  it('never puts a secret or an input point in a message or its details', () => {
    const cts = withBytes(good(), 64, negative);
    const alpha = randomScalars(1);
    const errors = [
      thrown(() => blindAndRerandomize(key.publicKey, cts, alpha, randomScalars(3))),
      thrown(() => decryptPoints(key.secretKey, cts)),
      thrown(() =>
        blindAndRerandomize(
          key.publicKey,
          good(),
          withBytes(alpha, 31, Uint8Array.of(0xff)),
          randomScalars(3),
        ),
      ),
    ];
    const secrets = [alpha, key.secretKey, at(cts, 0, 64), at(cts, 1, 64)].flatMap((s) => [
      hex(s),
      Buffer.from(s).toString('base64'),
    ]);
    for (const e of errors) {
      const text = JSON.stringify(e.toJSON());
      for (const s of secrets) expect(text.includes(s)).toBe(false);
    }
  });
});
