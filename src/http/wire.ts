// What both ends of the HTTP transport agree on: one endpoint, POST /v1/message, whose
// request and response bodies are codec bytes (src/protocol/codec.ts) sent as
// application/octet-stream; an Idempotency-Key header on every request; a typed error
// travels as an encoded 'error' message with a non-200 status.
import { randomUUID } from 'node:crypto';
import type { ErrorDetails, FedjoinError } from '../errors.js';
import { encodeMessage } from '../protocol/codec.js';

export const MESSAGE_PATH = '/v1/message';
export const BINARY_TYPE = 'application/octet-stream';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{16,128}$/;

/** A fresh Idempotency-Key: a random UUID. */
export function newIdempotencyKey(): string {
  return randomUUID();
}

export function isIdempotencyKey(value: unknown): value is string {
  return typeof value === 'string' && IDEMPOTENCY_KEY.test(value);
}

/** The codec bytes of the 'error' message that carries `err` (undefined details dropped). */
export function errorBody(err: FedjoinError): Uint8Array {
  return encodeMessage({ type: 'error', code: err.code, message: err.message, details: clean(err.details) });
}

function clean(details: ErrorDetails): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(details)) if (v !== undefined) out[k] = v;
  return out;
}
