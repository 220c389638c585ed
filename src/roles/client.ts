// The client (DESIGN §1): turns an SQL query into join conditions and feature or
// aggregate requests (src/query/sql.ts), sends them to A, and receives aggregate totals
// from B: COUNT is the joined group size, AVG = SUM / COUNT. It never sees a row.
import { MalformedMessageError } from '../errors.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import { expectType } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { parseQuery, type Query } from '../query/sql.js';
import { ROLES } from './names.js';

export type JoinMode = 'hashed' | 'nested';

export interface Answer {
  kind: 'aggregate' | 'features';
  rowsJoined: number;
  /** Aggregate answers by select item label, e.g. 'AVG(h.mean_radius)'. */
  values: Record<string, number>;
  /** Columns delivered to B, for feature queries. */
  columns: string[];
  timingsMs: Record<string, number>;
}

export class Client {
  private readonly results = new Map<string, MessageOf<'aggregate-result'>>();
  private nextId = 0;

  constructor(private readonly options: { transport: Transport; name?: string }) {
    options.transport.register(ROLES.client, async (message) => this.receive(message));
  }

  private receive(message: Message): Message {
    const result = expectType(message, 'aggregate-result');
    this.results.set(result.queryId, result);
    return { type: 'ack' };
  }

  async query(sql: string, options: { mode?: JoinMode } = {}): Promise<Answer> {
    const plan = parseQuery(sql);
    const queryId = `${this.options.name ?? 'client'}-${++this.nextId}`;
    const reply = expectType(
      await this.options.transport.request(ROLES.client, ROLES.serverA, {
        type: 'query',
        queryId,
        mode: options.mode ?? 'hashed',
        plan: plan as MessageOf<'query'>['plan'],
      }),
      'query-result',
    );
    const answer: Answer = {
      kind: reply.kind,
      rowsJoined: reply.rowsJoined,
      values: {},
      columns: reply.columns,
      timingsMs: reply.timingsMs,
    };
    if (reply.kind === 'aggregate') answer.values = this.aggregateValues(plan, queryId);
    return answer;
  }

  /** B's totals (sent to this client directly, keyed by select index) turned into answers. */
  private aggregateValues(plan: Query, queryId: string): Record<string, number> {
    const prefix = `${queryId}#`;
    const key = [...this.results.keys()].find((k) => k.startsWith(prefix));
    const result = key ? this.results.get(key) : undefined;
    if (!key || !result) throw new MalformedMessageError(`no aggregate result from server B for ${queryId}`);
    this.results.delete(key);
    const totals = new Map(result.totals.map((t) => [Number(t.label), t.value]));
    const values: Record<string, number> = {};
    plan.select.forEach((item, index) => {
      if (item.kind === 'column') return;
      const alias = plan.tables.find((t) => t.name === (item.kind === 'count' ? '' : item.table))?.alias;
      const label =
        item.kind === 'count' ? 'COUNT(*)' : `${item.kind.toUpperCase()}(${alias}.${item.column})`;
      const total = totals.get(index);
      values[label] =
        item.kind === 'count' ? result.groupSize : item.kind === 'sum' ? total! : total! / result.groupSize;
    });
    return values;
  }
}
