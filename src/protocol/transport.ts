// Transports between roles. Every message crosses as bytes (codec.ts) and is validated
// at receipt (messages.ts), so the in-process transport exercises exactly what HTTP
// will carry. A handler's typed error returns to the requester as an 'error' message
// and is rebuilt there. The in-process transport can record each role's view: every
// message it received, for the leakage tests (DESIGN §1).
import { type ErrorRecord, FedjoinError, fromRecord } from '../errors.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { type Message, parseMessage } from './messages.js';

export type RoleName = string;
export type Handler = (message: Message, from: RoleName) => Promise<Message>;

export interface Transport {
  register(role: RoleName, handler: Handler): void;
  /** Sends `message` to `to` and returns its validated reply; an 'error' reply is thrown. */
  request(from: RoleName, to: RoleName, message: Message): Promise<Message>;
}

export interface ViewEntry {
  from: RoleName;
  message: Message;
  bytes: number;
}

export class InProcessTransport implements Transport {
  private readonly handlers = new Map<RoleName, Handler>();
  /** role -> every message it received, in order (only when recording). */
  readonly views = new Map<RoleName, ViewEntry[]>();
  /** Bytes moved, for reports. */
  bytesSent = 0;

  constructor(private readonly record = false) {}

  register(role: RoleName, handler: Handler): void {
    this.handlers.set(role, handler);
  }

  async request(from: RoleName, to: RoleName, message: Message): Promise<Message> {
    const handler = this.handlers.get(to);
    if (!handler) throw new Error(`no role ${to} on this transport`);
    const received = this.deliver(from, to, encodeMessage(message));
    let reply: Message;
    try {
      reply = await handler(received, from);
    } catch (err) {
      if (!(err instanceof FedjoinError)) throw err;
      reply = { type: 'error', ...err.toJSON(), details: cleanDetails(err.toJSON()) };
    }
    const back = this.deliver(to, from, encodeMessage(reply));
    if (back.type === 'error') throw fromRecord(back as ErrorRecord);
    return back;
  }

  /** Decodes and validates bytes as the receiving role would, recording its view. */
  private deliver(from: RoleName, to: RoleName, bytes: Uint8Array): Message {
    this.bytesSent += bytes.length;
    const message = parseMessage(decodeMessage(bytes));
    if (this.record) {
      const view = this.views.get(to) ?? [];
      view.push({ from, message, bytes: bytes.length });
      this.views.set(to, view);
    }
    return message;
  }
}

function cleanDetails(record: ErrorRecord): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(record.details)) if (v !== undefined) out[k] = v;
  return out;
}
