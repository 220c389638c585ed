// Server A (DESIGN §1, §3): holds the owners' encrypted tables (src/join/table-store.ts)
// and the public key only. It answers a client's query by running the join with B's help
// (src/join/nested.ts, hashed.ts), then summing the query's columns for B to decrypt as
// totals (aggregates.ts) or delivering the joined rows' features to B (features.ts).
// Federated feature extraction is in server-a-training.ts.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError } from '../errors.js';
import { type JoinedColumn, sendTotals } from '../join/aggregates.js';
import { sendFeatures } from '../join/features.js';
import { hashedJoin } from '../join/hashed.js';
import { nestedJoin } from '../join/nested.js';
import {
  type JoinContext,
  type Joined,
  type JoinMode,
  type ProgressListener,
  withQuery,
} from '../join/query-run.js';
import { TableStore } from '../join/table-store.js';
import { batchShape, gather } from '../protocol/batch.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import type { ColumnRef, Query } from '../query/plan.js';
import { isAggregateQuery, validateQuery } from '../query/sql.js';
import { ROLES } from './names.js';
import { extractFeatures } from './server-a-training.js';

export type { Phase, ProgressListener } from '../join/query-run.js';

export class ServerA {
  private readonly tables: TableStore;
  private readonly context: JoinContext;
  private queries = 0;
  /** Queries run again because server B had lost them (it restarted mid-query). */
  reopened = 0;

  constructor({
    engine,
    transport,
    publicKey,
  }: { engine: Engine; transport: Transport; publicKey: PublicKey }) {
    this.context = {
      engine,
      publicKey,
      ...batchShape(publicKey),
      send: (message) => transport.request(ROLES.serverA, ROLES.serverB, message),
    };
    this.tables = new TableStore(this.context);
    transport.register(ROLES.serverA, (message) => this.receive(message));
  }

  set onProgress(listener: ProgressListener | undefined) {
    this.context.onProgress = listener;
  }

  private async receive(message: Message): Promise<Message> {
    switch (message.type) {
      case 'encrypted-table':
        this.tables.store(message, message.owner);
        return { type: 'ack' };
      case 'query':
        return this.runQuery(message);
      case 'extract-features':
        return extractFeatures(this, message);
      default:
        throw new MalformedMessageError(`server A does not accept ${message.type} messages`, {
          type: message.type,
        });
    }
  }

  /** `plan` checked against the stored tables, in their spelling. */
  validPlan(plan: Query): Query {
    return validateQuery(plan, this.tables.schemas());
  }

  private async runQuery(message: MessageOf<'query'>): Promise<MessageOf<'query-result'>> {
    const plan = this.validPlan(message.plan);
    const aggregate = isAggregateQuery(plan);
    const timingsMs: Record<string, number> = {};
    let columns: string[] = [];
    const { rowsJoined, queryId } = await this.join(
      message.queryId,
      message.mode,
      plan,
      timingsMs,
      async (joined) => {
        const start = performance.now();
        if (aggregate) {
          const items = plan.select.flatMap((item, index) =>
            item.kind === 'sum' || item.kind === 'avg'
              ? [{ index, column: this.joinedColumn(joined, item) }]
              : [],
          );
          await sendTotals(joined.run, items, joined.pairs.length);
        } else {
          const refs = plan.select.filter((s) => s.kind === 'column');
          const joinedColumns = refs.map((ref) => this.joinedColumn(joined, ref));
          await sendFeatures(joined.run, joinedColumns);
          columns = joinedColumns.map((c) => c.meta.name);
        }
        timingsMs[aggregate ? 'aggregates' : 'features'] = performance.now() - start;
      },
    );
    return {
      type: 'query-result',
      queryId: message.queryId,
      serverBQueryId: queryId,
      kind: aggregate ? 'aggregate' : 'features',
      rowsJoined,
      columns,
      timingsMs,
    };
  }

  /**
   * Opens a query at B, joins the plan's tables in `mode`, runs `then` on the joined pairs,
   * and closes the query (query-run.ts; a query B lost runs again). Returns the number of
   * joined pairs and B's id of the query.
   */
  async join(
    id: string,
    mode: JoinMode,
    plan: Query,
    timingsMs: Record<string, number>,
    then: (joined: Joined) => Promise<void>,
  ): Promise<{ rowsJoined: number; queryId: string }> {
    const left = this.tables.get(plan.tables[0].name);
    const right = this.tables.get(plan.tables[1].name);
    const fresh = () => `${id}#${++this.queries}`;
    return withQuery(
      this.context,
      mode,
      fresh,
      async (run) => {
        const start = performance.now();
        const pairs =
          mode === 'hashed'
            ? await hashedJoin(
                run,
                left.tag(plan.joinKeys.map((k) => k.left.column)),
                right.tag(plan.joinKeys.map((k) => k.right.column)),
              )
            : await nestedJoin(
                run,
                plan.joinKeys.map((k) => left.nestedKey(k.left.column)),
                plan.joinKeys.map((k) => right.nestedKey(k.right.column)),
              );
        timingsMs[`join (${mode})`] = performance.now() - start;
        await then({ run, pairs, left, right, plan });
        return { rowsJoined: pairs.length, queryId: run.queryId };
      },
      () => this.reopened++,
    );
  }

  /** Column `ref` of the joined rows: left row i or right row j of each pair, qualified name. */
  joinedColumn({ pairs, left, right, plan }: Joined, ref: ColumnRef): JoinedColumn {
    const onLeft = ref.table === plan.tables[0].name;
    const source = onLeft ? left : right;
    const rows = Uint32Array.from(pairs, ([i, j]) => (onLeft ? i : j));
    // qualified names: B maps them to the model's feature order
    const meta = { ...source.columnMeta(ref.column), name: `${ref.table}.${ref.column}` };
    return { meta, values: gather(source.column(ref.column), rows) };
  }

  /** The engine, key and B's channel, for the training step. */
  get joinContext(): JoinContext {
    return this.context;
  }
}
