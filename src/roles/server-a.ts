// Server A (DESIGN §1, §3): holds the owners' encrypted tables (src/join/table-store.ts)
// and B's public keys only (Paillier, and the EC key of the hashed join's tags). It
// answers a client's query by running the join with B's help (src/join/nested.ts,
// hashed.ts), then summing the query's columns for B to decrypt as totals
// (aggregates.ts) or delivering the joined rows' features to B (features.ts).
// Federated feature extraction is in server-a-training.ts.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { type EcPublicKey, ecKeyOf } from '../engine/keys.js';
import { InvalidKeyError, MalformedMessageError, PeerAuthError, QueryError } from '../errors.js';
import { type JoinedColumn, sendTotals } from '../join/aggregates.js';
import { hashedJoin } from '../join/hashed.js';
import { nestedJoin } from '../join/nested.js';
import {
  type JoinContext,
  type Joined,
  type JoinMode,
  joinedPairs,
  type ProgressListener,
  withQuery,
} from '../join/query-run.js';
import { type StoredTable, TableStore } from '../join/table-store.js';
import { authorize } from '../protocol/authorization.js';
import { batchShape, gather, type PackedBatch } from '../protocol/batch.js';
import type { Message, MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import type { ColumnRef, Query } from '../query/plan.js';
import { declaredJoinKey, requireAggregateQuery, validateQuery } from '../query/sql.js';
import { featureName, ROLES } from './names.js';
import { extractFeatures } from './server-a-training.js';

export type { Phase, ProgressListener } from '../join/query-run.js';

export class ServerA {
  private readonly tables: TableStore;
  private readonly context: JoinContext;
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
      ecKey: ecKeyOf(publicKey),
      ...batchShape(publicKey),
      send: (message) => transport.request(ROLES.serverA, ROLES.serverB, message),
    };
    this.tables = new TableStore(this.context);
    transport.register(ROLES.serverA, (message, from) => this.receive(message, from));
  }

  set onProgress(listener: ProgressListener | undefined) {
    this.context.onProgress = listener;
  }

  private async receive(message: Message, from: string): Promise<Message> {
    authorize(ROLES.serverA, message, from);
    switch (message.type) {
      case 'encrypted-table':
        // under the sender's own name: nobody can replace another owner's partition
        if (from !== ROLES.owner(message.owner)) {
          throw new PeerAuthError(`${from} may not send a table as owner ${message.owner}`, { from });
        }
        this.tables.store(message, message.owner);
        // idle workers make the next hashed run's re-randomisers ahead (§3.2, engine.ts)
        if (this.context.ecKey) {
          this.context.engine.prepareRerandomizers(
            this.context.ecKey.publicKey,
            this.tables.largestHashedJoinRows(),
          );
        }
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

  /**
   * An aggregate query the client has submitted to B under the same id: the join, then
   * the SUM / AVG totals for B. The answer goes from B to the client; A reports only that
   * it ran (the join's size stays with A: the client's count comes from B).
   */
  private async runQuery(message: MessageOf<'query'>): Promise<MessageOf<'query-result'>> {
    const plan = this.validPlan(message.plan);
    requireAggregateQuery(plan);
    const timingsMs: Record<string, number> = {};
    await this.join(message.queryId, message.mode, plan, timingsMs, async (joined) => {
      const start = performance.now();
      const items = plan.select.flatMap((item) =>
        item.kind === 'sum' || item.kind === 'avg' ? [this.joinedColumn(joined, item)] : [],
      );
      await sendTotals(joined.run, items);
      timingsMs.aggregates = performance.now() - start;
    });
    return { type: 'query-result', queryId: message.queryId, timingsMs };
  }

  /**
   * Opens a run of query `queryId` at B, joins the plan's tables in `mode`, runs `then` on
   * the joined pairs, and closes the run (query-run.ts; a run B lost is run again).
   * Returns the number of joined pairs.
   */
  async join(
    queryId: string,
    mode: JoinMode,
    plan: Query,
    timingsMs: Record<string, number>,
    then: (joined: Joined) => Promise<void>,
  ): Promise<number> {
    const left = this.tables.get(plan.tables[0].name);
    const right = this.tables.get(plan.tables[1].name);
    return withQuery(
      this.context,
      mode,
      queryId,
      async (run) => {
        const start = performance.now();
        const pairs =
          mode === 'hashed'
            ? await hashedJoin(run, this.ecKey(), ...joinKeysFor(mode, plan, left, right))
            : await nestedJoin(run, ...joinKeysFor(mode, plan, left, right));
        timingsMs[`join (${mode})`] = performance.now() - start;
        await then(joinedPairs(run, pairs, left, right, plan));
        return pairs.length;
      },
      () => this.reopened++,
    );
  }

  /** B's EC key, which hashed joins need (tables with tags are stored only under it). */
  private ecKey(): EcPublicKey {
    if (!this.context.ecKey) {
      throw new InvalidKeyError(
        "server A holds no EC key of server B's: hashed joins need B's current public key",
      );
    }
    return this.context.ecKey;
  }

  /** Column `ref` of the joined rows: left row i or right row j of each pair, qualified name. */
  joinedColumn(joined: Joined, ref: ColumnRef): JoinedColumn {
    const onLeft = ref.table === joined.plan.tables[0].name;
    const source = onLeft ? joined.left : joined.right;
    // qualified names: B maps them to the model's feature order
    const meta = { ...source.columnMeta(ref.column), name: featureName(ref) };
    return { meta, values: gather(source.column(ref.column), joined.rows(onLeft ? 0 : 1)) };
  }

  /** The engine, key and B's channel, for the training step. */
  get joinContext(): JoinContext {
    return this.context;
  }
}

/** Why a join key has no data for the mode: both owners must have made it for that mode. */
const UNDECLARED: Record<JoinMode, (keys: string) => string> = {
  hashed: (keys) => `no hashed join tag for ${keys}: both owners must declare that key, or use mode nested`,
  nested: (keys) => `no nested join key for ${keys}: both owners must declare that key`,
};

/**
 * Both tables' data for the plan's join key in `mode`, hashed tags (§3.2) or folded nested-loop
 * keys (§3.1), each made over the key's columns in the order its owner declared them.
 */
function joinKeysFor(
  mode: JoinMode,
  plan: Query,
  left: StoredTable,
  right: StoredTable,
): [PackedBatch, PackedBatch] {
  const declared = declaredJoinKey(plan, left.declaredKeys(mode), right.declaredKeys(mode));
  if (!declared) {
    const keys = plan.joinKeys.map((k) => `${k.left.column} = ${k.right.column}`).join(' AND ');
    throw new QueryError(UNDECLARED[mode](keys), { part: 'join key' });
  }
  return [left.joinKey(mode, declared.left), right.joinKey(mode, declared.right)];
}
