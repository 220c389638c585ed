// Server B as the gatekeeper (DESIGN §1.1). B decrypts, zero-tests or groups only for a
// query that the client itself submitted to B, over tables whose owners registered them,
// in the query's declared mode, and within what the registered sizes imply: at most
// rows(L) x rows(R) indicators, or at most rows(L) and rows(R) tags of each side per run
// (grouped once both are complete), then at most one feature row per joined pair, or one
// total per SUM / AVG item, once. B counts the join itself (matches, or pairs of equal
// tags): the count it releases is its own, never A's. Anything else aborts the query with
// one opaque refusal; the reason goes to B's local log only, and the abort counts against
// the client.
import type { SlotLayout } from '../engine/slots.js';
import { MalformedMessageError, PeerAuthError, PolicyRefusedError, QueryError } from '../errors.js';
import { DEFAULT_ORDERS } from '../fl/rdp-accountant.js';
import { type FeaturePacking, featureCiphertexts, featurePacking, totalLayouts } from '../join/packing.js';
import { QUERY_NOT_OPEN } from '../join/query-run.js';
import type { PrivacyLedger } from '../privacy/ledger.js';
import { addNoise, noiseScale, rhoFor, zcdpCurve } from '../privacy/release.js';
import type { PackedBatch } from '../protocol/batch.js';
import type { ColumnMeta, JoinMode, MessageOf } from '../protocol/messages.js';
import type { ColumnRef, Query } from '../query/plan.js';
import { orientJoinKeys, requireAggregateQuery, validateQuery } from '../query/sql.js';
import { featureName, ROLES } from './names.js';
import {
  encodingOf,
  type RegisteredColumn,
  type RegisteredTable,
  type TableRegistry,
} from './server-b-registry.js';

export type TrainingRequest = NonNullable<MessageOf<'query-submit'>['training']>;

/** A query B has authorized; persisted, so a restart keeps its runs and status. */
export interface AuthorizedQuery {
  queryId: string;
  client: string;
  mode: JoinMode;
  /** the plan in the registered spelling */
  plan: Query;
  training: TrainingRequest | null;
  tables: [string, string];
  /** runs A has opened so far */
  runs: number;
  status: 'open' | 'answered' | 'aborted' | 'withdrawn' | 'finished';
}

export interface PrivacyPolicy {
  /** total epsilon per (client, set of tables), at `delta` */
  epsilonCap: number;
  delta: number;
  /** epsilon of one aggregate query (count and totals together) */
  aggregateEpsilon: number;
  /** aborted queries per (client, set of tables) before B refuses every further one */
  maxAborts: number;
}

export interface GatePolicy {
  /** aggregates over fewer joined rows (B's count, noisy while DP is on) are refused */
  minGroupSize: number;
  /** differential privacy on every release, or null for exact answers */
  privacy: PrivacyPolicy | null;
  /** runs A may open for one aggregate query (a run is repeated when B restarts) */
  maxRuns: number;
  /** refuse trainings without DP (always so while `privacy` is on) */
  requireDp: boolean;
}

/** One run of a query at B, in memory: what A has sent and what it may still send. */
export interface Run {
  query: AuthorizedQuery;
  nextSeq: number;
  /** nested: indicators received, and how many were zero */
  indicators: number;
  matches: number;
  /** hashed: tags received of each side, and their decrypted points until both sides are in */
  tags: [number, number];
  tagPoints: [PackedBatch[], PackedBatch[]];
  /** the join's size once its join phase is complete */
  joined: number | null;
  /** feature rows received, and the feature set's columns (fixed by the first batch) */
  featureRows: number;
  featureColumns: string[] | null;
  answered: boolean;
}

export type GateLog = (event: string, fields: Record<string, unknown>) => void;

/**
 * B's one answer to anything it will not do (the gate's and the trainings' alike): the
 * reason goes to B's own log only, `undo` drops what the refused request had started, and
 * the sender gets the opaque PolicyRefusedError, the same whatever the reason.
 */
export function refuseOpaquely(
  log: GateLog | undefined,
  event: string,
  fields: Record<string, unknown>,
  undo?: () => void,
): never {
  log?.(event, fields);
  undo?.();
  throw new PolicyRefusedError();
}

export class QueryGate {
  private readonly runs = new Map<string, Run>();

  constructor(
    private readonly queries: Record<string, AuthorizedQuery>,
    private readonly registry: TableRegistry,
    private readonly ledger: PrivacyLedger,
    private readonly policy: GatePolicy,
    private readonly save: () => void,
    private readonly log: GateLog = () => {},
  ) {}

  /** Refuses opaquely: the reason is logged here, the sender learns nothing. */
  refuse(reason: string, fields: Record<string, unknown> = {}, query?: AuthorizedQuery): never {
    const who = query ? { queryId: query.queryId, client: query.client } : {};
    return refuseOpaquely(this.log, 'refused', { reason, ...fields, ...who }, () => {
      if (query?.status === 'open') this.abort(query);
    });
  }

  /** An open query ends refused, and the abort counts against its client. */
  private abort(query: AuthorizedQuery): void {
    query.status = 'aborted';
    this.runs.delete(query.queryId);
    this.ledger.abort(query.client, query.tables);
    this.save();
  }

  /**
   * A client's query or training: checked against the registrations (QueryError names
   * what the client got wrong in its own query), then against the policy and budget
   * (an opaque refusal), and authorized.
   */
  submit(message: MessageOf<'query-submit'>, from: string): void {
    if (this.queries[message.queryId]) this.refuse('query id reused', { queryId: message.queryId, from });
    const tables = message.plan.tables.map((t) => this.table(t.name)) as [RegisteredTable, RegisteredTable];
    const plan = validateQuery(
      message.plan,
      tables.map((t) => ({ name: t.name, columns: t.columns })),
    );
    const training = message.training
      ? { ...message.training, label: this.column(plan, message.training.label).ref }
      : null;
    const oriented = orientJoinKeys(plan, tables[0].joinKeys, tables[1].joinKeys);
    if (message.mode === 'hashed' && !oriented) {
      throw new QueryError('the ON clause is no join key both owners registered', { part: 'join key' });
    }
    this.checkUses(plan, tables, training);
    const names = [tables[0].name, tables[1].name] as [string, string];
    if (!this.ledger.mayQuery(from, names))
      this.refuse('too many aborted queries', { client: from, tables: names });
    const privacy = this.policy.privacy;
    if (privacy && !training) {
      const curve = zcdpCurve(rhoFor(privacy.aggregateEpsilon, privacy.delta), DEFAULT_ORDERS);
      if (!this.ledger.charge(from, names, curve))
        this.refuse('privacy budget spent', { client: from, tables: names });
    }
    // B's policy is no secret: say what the client must add (the budget, below, stays opaque)
    if (training && !training.dp && (privacy || this.policy.requireDp)) {
      throw new QueryError(
        "server B's policy requires differential privacy: add EPSILON e DELTA d to TRAIN",
        {
          part: 'TRAIN clause',
        },
      );
    }
    if (privacy && training?.dp) {
      if (!this.ledger.reserve(from, names, message.queryId, training.dp.epsilon)) {
        this.refuse('privacy budget spent', { client: from, tables: names });
      }
    }
    this.queries[message.queryId] = {
      queryId: message.queryId,
      client: from,
      mode: message.mode,
      plan: oriented ?? plan,
      training,
      tables: names,
      runs: 0,
      status: 'open',
    };
    this.save();
    this.log('authorized', { queryId: message.queryId, client: from, mode: message.mode, tables: names });
  }

  private table(name: string): RegisteredTable {
    const spelled = this.registry.names().find((t) => t.toLowerCase() === name.toLowerCase());
    const table = spelled === undefined ? undefined : this.registry.get(spelled);
    if (!table)
      throw new QueryError(`unknown table "${name}": no owner registered it with server B`, {
        part: 'table',
      });
    return table;
  }

  private column(plan: Query, ref: ColumnRef): { ref: ColumnRef; column: RegisteredColumn } {
    const table = this.table(ref.table);
    const column = table.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
    if (!column || !plan.tables.some((t) => t.name === table.name)) {
      throw new QueryError(`no column ${ref.table}.${ref.column} in the query's tables`, { part: 'column' });
    }
    return { ref: { table: table.name, column: column.name }, column };
  }

  /** What a query may do with each column: join on keys, aggregate or learn from values only. */
  private checkUses(plan: Query, tables: RegisteredTable[], training: TrainingRequest | null): void {
    for (const [side, key] of [
      [0, plan.joinKeys.map((k) => k.left.column)],
      [1, plan.joinKeys.map((k) => k.right.column)],
    ] as const) {
      for (const name of key) {
        if (tables[side].columns.find((c) => c.name === name)?.role !== 'key') {
          throw new QueryError(`${tables[side].name}.${name} is not a registered join key`, {
            part: 'join key',
          });
        }
      }
    }
    const numericValue = (ref: ColumnRef, use: string) => {
      const { column } = this.column(plan, ref);
      if (column.role !== 'value') {
        throw new QueryError(
          `${featureName(ref)} is ${column.role === 'key' ? 'a join key' : 'an identifier'}: never ${use}`,
          { part: 'column' },
        );
      }
      if (column.type === 'string')
        throw new QueryError(`${featureName(ref)} is a string column: not ${use}`, { part: 'column' });
    };
    if (!training) requireAggregateQuery(plan);
    for (const item of plan.select) {
      if (item.kind === 'sum' || item.kind === 'avg') {
        numericValue(item, 'aggregated');
        if (this.policy.privacy && !this.column(plan, item).column.bound) {
          throw new QueryError(
            `${featureName(item)} has no declared bound: server B adds DP noise to sums, scaled by the bound its owner declares`,
            { part: 'column' },
          );
        }
      }
      if (item.kind === 'column') numericValue(item, 'a feature');
    }
    if (training) numericValue(training.label, 'a label');
  }

  /** A opens a run of an authorized query: the only way batches of it are served. */
  open(message: MessageOf<'query-open'>): Run {
    const query = this.queries[message.queryId];
    if (!query) this.refuse('run of a query no client submitted', { queryId: message.queryId });
    if (query.status !== 'open') this.refuse(`run of a query that is ${query.status}`, {}, query);
    if (message.mode !== query.mode)
      this.refuse('run in another mode than submitted', { mode: message.mode }, query);
    const maxRuns = (query.training ? query.training.rounds : 1) + this.policy.maxRuns - 1;
    if (query.runs >= maxRuns) this.refuse('too many runs', { runs: query.runs }, query);
    query.runs++;
    this.save();
    const run: Run = {
      query,
      nextSeq: 0,
      indicators: 0,
      matches: 0,
      tags: [0, 0],
      tagPoints: [[], []],
      joined: null,
      featureRows: 0,
      featureColumns: null,
      answered: false,
    };
    this.runs.set(query.queryId, run);
    return run;
  }

  /**
   * The open run a batch belongs to, in sequence. A run B does not hold (it restarted)
   * is answered 'not-open', which A meets by opening another run: that says nothing A
   * does not know.
   */
  batch(message: { queryId: string; seq: number }): Run {
    const run = this.runs.get(message.queryId);
    if (!run) {
      const query = this.queries[message.queryId];
      if (query?.status !== 'open') this.refuse('batch of no open query', { queryId: message.queryId });
      throw new MalformedMessageError(`query ${message.queryId} is not open at server B`, {
        queryId: message.queryId,
        reason: QUERY_NOT_OPEN,
      });
    }
    if (message.seq !== run.nextSeq) this.refuse('batch out of sequence', { seq: message.seq }, run.query);
    run.nextSeq++;
    return run;
  }

  /** Nested mode: `count` more indicators, within rows(L) x rows(R) per run. */
  indicators(run: Run, count: number): void {
    const { query } = run;
    if (query.mode !== 'nested') this.refuse('indicators in hashed mode', {}, query);
    if (run.joined !== null || run.indicators + count > this.pairs(query)) {
      this.refuse('more indicators than the tables have pairs', { count }, query);
    }
    run.indicators += count;
  }

  /** Nested mode: the zero bits of an indicator batch; the join is complete after the last. */
  indicatorBits(run: Run, bits: Uint32Array): void {
    for (const b of bits) run.matches += b;
    if (run.indicators === this.pairs(run.query)) run.joined = run.matches;
  }

  /**
   * Hashed mode: `count` more tags of one side, within that table's registered rows (so no
   * row is looked at twice in a run). Returns whether both sides are now complete: only
   * then does B group them.
   */
  tags(run: Run, side: 0 | 1, count: number): boolean {
    const { query } = run;
    if (query.mode !== 'hashed' || run.joined !== null) this.refuse('tags out of place', {}, query);
    const registered = query.tables.map((t) => this.registry.get(t)!.rowCount);
    if (run.tags[side] + count > registered[side])
      this.refuse('more tags than the registered rows', { side }, query);
    run.tags[side] += count;
    return run.tags[0] === registered[0] && run.tags[1] === registered[1];
  }

  /**
   * Hashed mode: the join size B counted when it grouped the tags (groupTags: pairs of
   * equal tags across the sides); the join phase is complete.
   */
  tagGroups(run: Run, joined: number): void {
    run.joined = joined;
    run.tagPoints = [[], []];
  }

  /**
   * A training's feature batch of `rows` rows in `ciphertexts` packed ciphertexts under n:
   * after the join, columns the training asked for (plus the label and A's global score), the
   * same in every batch, exactly the blocks B's own packing of those rows needs
   * (featurePacking), at most one row per pair. Returns the owners' registered encodings and
   * that packing to decode with.
   */
  features(
    run: Run,
    columns: readonly string[],
    rows: number,
    ciphertexts: number,
    extra: ColumnMeta[],
    n: bigint,
  ): { encodings: ColumnMeta[]; packing: FeaturePacking } {
    const { query } = run;
    const training = query.training;
    if (!training || run.joined === null) this.refuse('features outside a training', {}, query);
    if (run.featureColumns && run.featureColumns.join('\u0000') !== columns.join('\u0000')) {
      this.refuse('feature columns changed within a run', {}, query);
    }
    run.featureColumns ??= [...columns];
    const allowed = new Map<string, ColumnMeta>();
    for (const s of query.plan.select) {
      if (s.kind === 'column')
        allowed.set(featureName(s), this.encoding({ table: s.table, column: s.column }));
    }
    allowed.set(featureName(training.label), this.encoding(training.label));
    for (const e of extra) allowed.set(e.name, e);
    if (new Set(columns).size !== columns.length) this.refuse('a feature column twice', {}, query);
    const encodings = columns.map((name) => {
      const encoding = allowed.get(name);
      if (!encoding) this.refuse('a column the training did not ask for', {}, query);
      return { ...encoding, name };
    });
    // rows, not ciphertexts, are what the join bounds
    const packing = featurePacking(n, encodings);
    if (ciphertexts !== featureCiphertexts(packing, rows)) {
      this.refuse('feature batch is not the blocks of its rows', {}, query);
    }
    if (run.featureRows + rows > run.joined) this.refuse('more feature rows than joined pairs', {}, query);
    run.featureRows += rows;
    return { encodings, packing };
  }

  /**
   * An aggregate request: after the join, once, the totals of the SUM / AVG items packed in
   * the layouts B derives from its own count of the join (totalLayouts).
   */
  aggregate(run: Run, ciphertexts: number, n: bigint): { encodings: ColumnMeta[]; layouts: SlotLayout[] } {
    const { query } = run;
    if (query.training || run.joined === null || run.answered)
      this.refuse('aggregate out of place', {}, query);
    const items = totalItems(query);
    const layouts = totalLayouts(n, items.length, run.joined);
    if (ciphertexts !== layouts.length) this.refuse('totals differ from the query', {}, query);
    run.answered = true;
    return { encodings: items.map((item) => this.encoding(item)), layouts };
  }

  /**
   * The client's answer from the exact totals B unpacked: B's own count, each total exact,
   * both with discrete Gaussian noise while DP is on; refused below the minimum group size.
   */
  answer(
    run: Run,
    exact: readonly bigint[],
    encodings: readonly ColumnMeta[],
  ): MessageOf<'aggregate-result'> {
    const { query } = run;
    const privacy = this.policy.privacy;
    let count = BigInt(run.joined!);
    let totals = exact;
    let statement: string | null = null;
    if (privacy) {
      // submit made sure every summed column declares a bound
      const bounds = totalItems(query).map((item) => this.registered(item).bound!);
      const rho = rhoFor(privacy.aggregateEpsilon, privacy.delta);
      const sensitivities = bounds.map((bound, k) =>
        BigInt(Math.ceil(bound * 2 ** encodings[k].fractionBits)),
      );
      [count, ...totals] = addNoise(
        [
          { value: count, sensitivity: 1n },
          ...totals.map((value, k) => ({ value, sensitivity: sensitivities[k] })),
        ],
        rho,
      );
      if (count < 0n) count = 0n;
      const spent = this.ledger.spent(query.client, query.tables);
      statement =
        `(${privacy.aggregateEpsilon}, ${privacy.delta})-DP per joined pair: discrete Gaussian noise on the count ` +
        `(sd ${noiseScale(totals.length + 1, rho).toPrecision(3)}) and on each sum (sd that times the column's declared bound); ` +
        `this client has spent epsilon ${spent.toPrecision(3)} of ${privacy.epsilonCap} on these tables`;
    }
    if (count < BigInt(this.policy.minGroupSize)) this.refuse('group below the minimum size', {}, query);
    query.status = 'answered';
    this.save();
    return {
      type: 'aggregate-result',
      queryId: query.queryId,
      count,
      totals: totals.map((value, k) => ({ value, fractionBits: encodings[k].fractionBits })),
      privacy: statement,
    };
  }

  /** A's end of its run, or the submitting client's withdrawal of its query. */
  close(message: MessageOf<'query-close'>, from: string): void {
    const query = this.queries[message.queryId];
    if (!query) this.refuse('close of an unknown query', { queryId: message.queryId, from });
    if (from === ROLES.serverA) {
      this.runs.delete(query.queryId);
      return;
    }
    if (from !== query.client)
      throw new PeerAuthError(`${from} may not close another client's query`, { from });
    this.runs.delete(query.queryId);
    if (query.status === 'open') query.status = 'withdrawn';
    this.save();
  }

  /** The authorized query `queryId`, if there is one. */
  queryOf(queryId: string): AuthorizedQuery | undefined {
    return this.queries[queryId];
  }

  /** The authorized training `trainingId`, if it is still open. */
  training(trainingId: string): AuthorizedQuery | undefined {
    const query = this.queries[trainingId];
    return query?.training && query.status === 'open' ? query : undefined;
  }

  /** A training is over: its reservation becomes what it spent, and its state goes. */
  finishTraining(trainingId: string, rdp: readonly number[] | null): void {
    const query = this.queries[trainingId];
    if (!query?.training) return;
    if (this.policy.privacy)
      this.ledger.settle(query.client, query.tables, trainingId, rdp ?? DEFAULT_ORDERS.map(() => 0));
    query.status = 'finished';
    this.runs.delete(trainingId);
    this.save();
  }

  private pairs(query: AuthorizedQuery): number {
    const [left, right] = query.tables.map((t) => this.registry.get(t)!.rowCount);
    return left * right;
  }

  /** A column of an authorized query (registered spelling: submit checked it exists). */
  private registered(ref: ColumnRef): RegisteredColumn {
    return this.registry.column(ref)!;
  }

  private encoding(ref: ColumnRef): ColumnMeta {
    return { ...encodingOf(this.registered(ref)), name: featureName(ref) };
  }
}

/** The SUM / AVG items of a query, in SELECT order: one total each. */
function totalItems(query: AuthorizedQuery): ColumnRef[] {
  return query.plan.select.flatMap((s) => (s.kind === 'sum' || s.kind === 'avg' ? [s] : []));
}
