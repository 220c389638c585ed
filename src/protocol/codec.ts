// The wire format of every protocol message, so the in-process transport and HTTP carry
// the same bytes: "FJ01" | u32 header length | JSON header | padding to 4 | payload.
// In the header a bigint is {"$big": hex} and a Uint32Array (a packed ciphertext batch)
// is {"$bin": [byteOffset, words]} into the payload, so batches are never re-encoded as
// text. Decoding checks every length before reading and reports MalformedMessageError.
import { MalformedMessageError } from '../errors.js';

const MAGIC = 0x31304a46; // "FJ01" little-endian
const PREFIX_BYTES = 8;

export function encodeMessage(message: unknown): Uint8Array {
  const payload: Uint32Array[] = [];
  let payloadWords = 0;
  const header = JSON.stringify(message, (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $big: value.toString(16) };
    if (value instanceof Uint32Array) {
      payload.push(value);
      const ref = { $bin: [payloadWords * 4, value.length] };
      payloadWords += value.length;
      return ref;
    }
    return value;
  });
  const headerBytes = new TextEncoder().encode(header);
  const payloadStart = align4(PREFIX_BYTES + headerBytes.length);
  const out = new Uint8Array(payloadStart + payloadWords * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  let offset = payloadStart;
  for (const batch of payload) {
    out.set(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength), offset);
    offset += batch.byteLength;
  }
  return out;
}

export function decodeMessage(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array) || bytes.length < PREFIX_BYTES) {
    throw new MalformedMessageError('message: shorter than its 8-byte prefix');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC)
    throw new MalformedMessageError('message: bad magic (not a fedjoin message)');
  const headerLength = view.getUint32(4, true);
  if (PREFIX_BYTES + headerLength > bytes.length) {
    throw new MalformedMessageError(
      `message: header of ${headerLength} bytes overruns a ${bytes.length}-byte message`,
    );
  }
  const payloadStart = align4(PREFIX_BYTES + headerLength);
  const payloadBytes = bytes.length - payloadStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength),
    );
  } catch {
    throw new MalformedMessageError('message: header is not UTF-8');
  }
  try {
    return JSON.parse(text, (_key, value: unknown) => {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const record = value as Record<string, unknown>;
        if (typeof record.$big === 'string') return parseBig(record.$big);
        if (Array.isArray(record.$bin)) return readBatch(bytes, payloadStart, payloadBytes, record.$bin);
      }
      return value;
    });
  } catch (err) {
    if (err instanceof MalformedMessageError) throw err;
    throw new MalformedMessageError(`message: header is not valid JSON (${(err as Error).message})`);
  }
}

function parseBig(hex: string): bigint {
  if (!/^-?[0-9a-f]+$/.test(hex)) throw new MalformedMessageError('message: bad bigint encoding');
  return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
}

function readBatch(bytes: Uint8Array, start: number, available: number, ref: unknown[]): Uint32Array {
  const [offset, words] = ref;
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(words) ||
    (offset as number) < 0 ||
    (words as number) < 0
  ) {
    throw new MalformedMessageError('message: bad batch reference');
  }
  const off = offset as number;
  const len = (words as number) * 4;
  if (off % 4 !== 0 || off + len > available) {
    throw new MalformedMessageError(
      `message: batch of ${len} bytes at ${off} overruns a ${available}-byte payload`,
    );
  }
  // copy out: the caller may keep the batch after the message bytes are gone
  return new Uint32Array(bytes.slice(start + off, start + off + len).buffer);
}

function align4(x: number): number {
  return (x + 3) & ~3;
}
