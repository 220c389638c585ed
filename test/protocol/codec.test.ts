// The wire format and message validation: round trips keep bigints and packed batches
// exact; every malformed input is a MalformedMessageError naming what is wrong.
import { describe, expect, it } from 'vitest';
import { MalformedMessageError } from '../../src/errors.js';
import { decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import { expectType, parseMessage } from '../../src/protocol/messages.js';

const fp = 'ab'.repeat(32);
const batch = {
  type: 'indicator-batch',
  queryId: 'q1',
  seq: 3,
  fingerprint: fp,
  count: 2,
  words: 3,
  data: new Uint32Array([1, 2, 3, 0xffffffff, 0, 7]),
} as const;

describe('codec', () => {
  it('round-trips bigints and packed batches exactly', () => {
    const key = {
      type: 'public-key',
      n: (1n << 2047n) + 12345n,
      g: (1n << 2047n) + 12346n,
      fingerprint: fp,
      ec: null,
    } as const;
    expect(parseMessage(decodeMessage(encodeMessage(key)))).toEqual(key);
    const back = parseMessage(decodeMessage(encodeMessage(batch)));
    expect(back).toEqual(batch);
    expect((back as typeof batch).data).toBeInstanceOf(Uint32Array);
  });

  const corrupt = (edit: (bytes: Uint8Array) => Uint8Array): unknown => {
    try {
      return parseMessage(decodeMessage(edit(encodeMessage(batch))));
    } catch (err) {
      return err;
    }
  };
  const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['too short', (b) => b.subarray(0, 5), /prefix/],
    ['bad magic', (b) => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x)), /magic/],
    [
      'header overrun',
      (b) => {
        const c = b.slice();
        new DataView(c.buffer).setUint32(4, 1 << 30, true);
        return c;
      },
      /overruns/,
    ],
    ['payload cut off', (b) => b.subarray(0, b.length - 4), /overruns/],
    ['header not JSON', (b) => Uint8Array.from(b, (x, i) => (i === 8 ? 0x7b ^ 0x20 : x)), /JSON/],
  ];
  it.each(cases)('rejects a message that is %s', (_name, edit, pattern) => {
    const error = corrupt(edit);
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect((error as MalformedMessageError).code).toBe('MALFORMED_MESSAGE');
    expect((error as Error).message).toMatch(pattern);
  });

  it('rejects unknown types, schema violations and out-of-order types by name', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'launch-missiles' }, /unknown type/],
      [{ ...batch, fingerprint: 'zz' }, /indicator-batch: fingerprint/],
      [{ ...batch, seq: -1 }, /indicator-batch: seq/],
      [{ ...batch, data: [1, 2, 3] }, /indicator-batch: data/],
      [{ type: 'query', queryId: 'q', mode: 'sideways', plan: {} }, /query: mode/],
    ];
    for (const [value, pattern] of cases) {
      const error = (() => {
        try {
          return parseMessage(decodeMessage(encodeMessage(value)));
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(MalformedMessageError);
      expect((error as Error).message).toMatch(pattern);
    }
    expect(() => expectType(parseMessage(batch), 'tag-groups')).toThrow(MalformedMessageError);
  });
});
