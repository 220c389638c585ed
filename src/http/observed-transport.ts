// A role process's view of its HttpTransport: requests pass through; each message
// received is reported (type, ids and seq only: never a field's contents, so a log of it
// leaks nothing the wire framing does not).
import type { Message } from '../protocol/messages.js';
import type { Handler, RoleName, Transport } from '../protocol/transport.js';
import type { HttpTransport } from './transport.js';

/** What may be said about a message received: its type, sender, query or training id, seq, round. */
export interface ReceivedSummary {
  type: Message['type'];
  from: RoleName;
  queryId?: string;
  seq?: number;
  trainingId?: string;
  round?: number;
}

export class ObservedTransport implements Transport {
  constructor(
    readonly http: HttpTransport,
    private readonly onReceive?: (summary: ReceivedSummary) => void,
  ) {}

  register(role: RoleName, handler: Handler): void {
    this.http.register(role, async (message, from) => {
      this.onReceive?.(summarise(message, from));
      return handler(message, from);
    });
  }

  request(from: RoleName, to: RoleName, message: Message): Promise<Message> {
    return this.http.request(from, to, message);
  }
}

function summarise(message: Message, from: RoleName): ReceivedSummary {
  const m = message as { queryId?: string; seq?: number; trainingId?: string; round?: number };
  return {
    type: message.type,
    from,
    ...(m.queryId === undefined ? {} : { queryId: m.queryId }),
    ...(m.seq === undefined ? {} : { seq: m.seq }),
    ...(m.trainingId === undefined ? {} : { trainingId: m.trainingId }),
    ...(m.round === undefined ? {} : { round: m.round }),
  };
}
