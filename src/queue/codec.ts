// Kernel tasks and their results as bytes for the queue (DESIGN §7). A task is a u32
// header length, a JSON header (every field that is not a buffer, bigints as hex, and of
// the key only fingerprint, n and g: p and q never leave the caller, nor does B's EC secret x,
// named by its public key's fingerprint instead), then each buffer's words. A reply is a status byte, then the result's words or an error record.
import { ecFingerprint, ecPublicKey } from '../ec/elgamal.js';
import type { KeyMaterial } from '../engine/keys.js';
import { needsPrivateKey } from '../engine/shard.js';
import type { KernelTask } from '../engine/tasks.js';
import { type ErrorRecord, isErrorRecord, MalformedMessageError } from '../errors.js';

// words travel as their in-memory bytes: every platform Node runs fedjoin on is little-endian
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error('fedjoin queue: big-endian hosts are not supported');
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

interface TaskHeader {
  fields: Record<string, Json>;
  /** Buffer fields in payload order, with their length in words. */
  buffers: [string, number][];
  /** The task's key carried p and q: only a worker holding that key may run it. */
  private: boolean;
  /** Buffers left out of this job, in the call's shared part. */
  shared: string[];
}

const bigintJson = (value: bigint): Json => ({ $hex: value.toString(16) });

function publicKeyJson(key: KeyMaterial): Json {
  return { fingerprint: key.fingerprint, n: bigintJson(key.n), g: bigintJson(key.g) };
}

function fromJson(value: Json): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    if (typeof value.$hex === 'string') return BigInt(`0x${value.$hex}`);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  }
  return value;
}

function bytesOf(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/**
 * The task as byte parts (header length, header, buffers), ready to seal without a copy.
 * Buffers named in `shared` stay out: every shard of a call has the same one (the join's
 * right tables), sent once per call (encodeShared) instead of once per job.
 */
export function encodeTask(task: KernelTask, shared: ReadonlySet<string> = new Set()): Uint8Array[] {
  const header: TaskHeader = { fields: {}, buffers: [], private: needsPrivateKey(task), shared: [...shared] };
  const buffers: Uint8Array[] = [];
  for (const [name, value] of Object.entries(task)) {
    if (task.op === 'ecDecrypt' && name === 'ecKey') {
      // B's EC secret x stays on B's host, as p and q do: the job names the key, B's worker adds x
      header.fields.ecFingerprint = ecFingerprint(ecPublicKey(bytesOf(value as Uint32Array)));
    } else if (value instanceof Uint32Array) {
      if (shared.has(name)) continue;
      header.buffers.push([name, value.length]);
      buffers.push(bytesOf(value));
    } else if (name === 'key') {
      header.fields.key = publicKeyJson(value as KeyMaterial);
    } else if (typeof value === 'bigint') {
      header.fields[name] = bigintJson(value);
    } else {
      header.fields[name] = value as Json;
    }
  }
  return withHeader(header, buffers);
}

/** A call's shared buffers as byte parts. */
export function encodeShared(task: KernelTask, shared: ReadonlySet<string>): Uint8Array[] {
  const entries = Object.entries(task).filter(([name]) => shared.has(name)) as [string, Uint32Array][];
  return withHeader(
    { fields: {}, buffers: entries.map(([name, value]) => [name, value.length]), private: false, shared: [] },
    entries.map(([, value]) => bytesOf(value)),
  );
}

function withHeader(header: TaskHeader, buffers: Uint8Array[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return [length, json, ...buffers];
}

/**
 * The task back from its bytes; its key has the public part only (the worker adds p, q),
 * and the buffers named in `shared` are still to be added from the call's shared part.
 */
export function decodeTask(bytes: Buffer): { task: KernelTask; private: boolean; shared: string[] } {
  const { header, fields } = decodeParts(bytes);
  if (typeof fields.op !== 'string') throw notATask();
  const shared = Array.isArray(header.shared) ? header.shared.filter((name) => typeof name === 'string') : [];
  return { task: fields as unknown as KernelTask, private: header.private === true, shared };
}

/** A call's shared buffers back from their bytes. */
export function decodeShared(bytes: Buffer): Record<string, Uint32Array> {
  return decodeParts(bytes).fields as Record<string, Uint32Array>;
}

const notATask = () => new MalformedMessageError('queue job: not a fedjoin task');

function decodeParts(bytes: Buffer): { header: TaskHeader; fields: Record<string, unknown> } {
  if (bytes.length < 4) throw notATask();
  const headerBytes = bytes.readUInt32LE(0);
  let header: TaskHeader;
  try {
    header = JSON.parse(bytes.subarray(4, 4 + headerBytes).toString('utf8')) as TaskHeader;
  } catch {
    throw notATask();
  }
  if (!header || typeof header.fields !== 'object' || !Array.isArray(header.buffers)) throw notATask();
  const fields = fromJson(header.fields) as Record<string, unknown>;
  let offset = 4 + headerBytes;
  for (const [name, words] of header.buffers) {
    const end = offset + 4 * words;
    if (!Number.isInteger(words) || words < 0 || end > bytes.length) throw notATask();
    // a fresh copy: a buffer's words must start on a 4-byte boundary, the job's bytes need not
    const data = new Uint32Array(words);
    bytesOf(data).set(bytes.subarray(offset, end));
    fields[name] = data;
    offset = end;
  }
  if (offset !== bytes.length) throw notATask();
  return { header, fields };
}

const REPLY_OK = 0;
const REPLY_ERROR = 1;

/** A result's reply parts: status, then the words. */
export function encodeResult(words: Uint32Array): Uint8Array[] {
  return [Uint8Array.of(REPLY_OK), bytesOf(words)];
}

/** A failure's reply parts: status, then the error record (codes, indices, bit sizes: no secret). */
export function encodeFailure(record: ErrorRecord): Uint8Array[] {
  return [Uint8Array.of(REPLY_ERROR), Buffer.from(JSON.stringify(record), 'utf8')];
}

export function decodeReply(bytes: Buffer): Uint32Array | ErrorRecord {
  if (bytes[0] === REPLY_OK && (bytes.length - 1) % 4 === 0) {
    const words = new Uint32Array((bytes.length - 1) / 4);
    bytesOf(words).set(bytes.subarray(1));
    return words;
  }
  if (bytes[0] === REPLY_ERROR) {
    const record: unknown = JSON.parse(bytes.subarray(1).toString('utf8'));
    if (isErrorRecord(record)) return record;
  }
  throw new MalformedMessageError('queue reply: not a fedjoin result');
}

/** A reply as pushed to the runner's list: u32 length, {call, shard} in clear, the sealed body. */
export function replyFrame(call: string, shard: number, sealed: Buffer): Buffer {
  const header = Buffer.from(JSON.stringify({ call, shard }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([length, header, sealed]);
}

export function parseReplyFrame(frame: Buffer): { call: string; shard: number; sealed: Buffer } | null {
  if (frame.length < 4) return null;
  const length = frame.readUInt32LE(0);
  try {
    const { call, shard } = JSON.parse(frame.subarray(4, 4 + length).toString('utf8')) as {
      call: unknown;
      shard: unknown;
    };
    if (typeof call !== 'string' || !Number.isInteger(shard)) return null;
    return { call, shard: shard as number, sealed: frame.subarray(4 + length) };
  } catch {
    return null;
  }
}
