// Where the hashed join's time goes (issue 10 item 8): the in-process transport, timing
// every message of one type on its way from A to B, in wall time and in the process's CPU
// time (worker threads included). The round trip minus B's handler is the transfer
// (encode, decode and schema checks on both sides); the join minus the round trips is A's
// part (blinding, shuffles, the pairs). Nothing else runs during a round trip: A waits.
import type { Message } from '../../src/protocol/messages.js';
import { type Handler, InProcessTransport, type RoleName } from '../../src/protocol/transport.js';
import { ROLES } from '../../src/roles/names.js';

export class SplitTransport extends InProcessTransport {
  /** Milliseconds of A's requests of the timed type, end to end, and of B handling them. */
  roundTripMs = 0;
  serverBMs = 0;
  roundTripCpuMs = 0;
  serverBCpuMs = 0;
  messages = 0;

  constructor(private readonly timed: Message['type']) {
    super(false);
  }

  reset(): void {
    this.roundTripMs = 0;
    this.serverBMs = 0;
    this.roundTripCpuMs = 0;
    this.serverBCpuMs = 0;
    this.messages = 0;
  }

  override register(role: RoleName, handler: Handler): void {
    if (role !== ROLES.serverB) {
      super.register(role, handler);
      return;
    }
    super.register(role, async (message, from) => {
      if (message.type !== this.timed) return handler(message, from);
      const start = performance.now();
      const cpu = cpuMs();
      try {
        return await handler(message, from);
      } finally {
        this.serverBMs += performance.now() - start;
        this.serverBCpuMs += cpuMs() - cpu;
      }
    });
  }

  override async request(from: RoleName, to: RoleName, message: Message): Promise<Message> {
    if (message.type !== this.timed) return super.request(from, to, message);
    const start = performance.now();
    const cpu = cpuMs();
    try {
      return await super.request(from, to, message);
    } finally {
      this.roundTripMs += performance.now() - start;
      this.roundTripCpuMs += cpuMs() - cpu;
      this.messages++;
    }
  }
}

/** User + system CPU time of the whole process (every thread), milliseconds. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
