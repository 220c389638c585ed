// The client (DESIGN §1): turns an SQL query into a plan (src/query/sql.ts), submits it
// to B, which authorizes it, then asks A to run it (or the coordinator, for a training),
// and receives the answer from B: the join's count and a total per SUM / AVG item, exact
// bigints (noisy while B's policy has DP on). AVG = SUM / COUNT here. It never sees a row.

import { randomBytes } from 'node:crypto';
import { ratioToNumber } from '../data/fixed-point.js';
import type { Table } from '../data/table.js';
import { MalformedMessageError } from '../errors.js';
import { sigmoid } from '../fl/logistic.js';
import { accuracy, auc, logLoss } from '../fl/metrics.js';
import { parseTrainQuery } from '../fl/train-query.js';
import { authorize } from '../protocol/authorization.js';
import type { JoinMode, Message, MessageOf } from '../protocol/messages.js';
import { expectType } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { parseQuery, type Query, requireAggregateQuery } from '../query/sql.js';
import { ROLES } from './names.js';

export type { JoinMode } from '../protocol/messages.js';

/** One select item's answer. */
export interface AnswerItem {
  /** e.g. 'COUNT(*)', 'SUM(h.salary)', 'AVG(l.worst_area)' (aliases as written) */
  label: string;
  kind: 'count' | 'sum' | 'avg';
  /**
   * COUNT and SUM of an integer column: an exact bigint. SUM of a decimal column: the
   * fixed-point total as a double; AVG: the exact ratio rounded to a double.
   */
  value: bigint | number;
}

export interface Answer {
  queryId: string;
  /** Every select item, in select order, duplicates included. */
  items: AnswerItem[];
  /** B's count of the joined rows (noisy while B's policy has DP on). */
  rowsJoined: bigint;
  /** B's differential-privacy statement when its policy adds noise, else null. */
  privacy: string | null;
  timingsMs: Record<string, number>;
}

/** The final model: weights over standardised features, with the standardisation. */
export interface TrainedModel {
  /** qualified feature names, table.column */
  features: string[];
  weights: number[];
  bias: number;
  standardization: { mean: number[]; std: number[] };
}

export interface TrainingReport {
  model: TrainedModel;
  rounds: number;
  /** the joined rows B trained on; null with DP (an exact count never leaves B then) */
  rowsJoined: number | null;
  epsilon: number | null;
  delta: number | null;
  /** B's log-loss of each round's global model on the joined rows (null in round 0 and with DP) */
  lossPerRound: (number | null)[];
  /** per round, the coordinates (features, 'bias') B withheld: too few owners contributed them */
  withheldPerRound: string[][];
  /** with TOPK, the features B selected after round 1 (the others weigh 0); else null */
  selected: string[] | null;
  /** how B fitted the final model: method, L2 lambda, tolerance, iterations, gradient norm */
  fit: MessageOf<'train-result'>['fit'];
  timingsMs: Record<string, number>;
  evaluation?: { rows: number; accuracy: number; auc: number; logLoss: number };
}

/** Probabilities of `model` on a table whose columns carry the features' column names. */
export function predictTable(model: TrainedModel, table: Table): number[] {
  const columns = model.features.map((f, k) => {
    const values = table.column(f.slice(f.indexOf('.') + 1)).values;
    return values.map((v) => (Number(v) - model.standardization.mean[k]) / model.standardization.std[k]);
  });
  return Array.from({ length: table.rowCount }, (_, r) =>
    sigmoid(columns.reduce((z, c, k) => z + model.weights[k] * c[r], model.bias)),
  );
}

function evaluate(model: TrainedModel, table: Table, label: string) {
  const p = predictTable(model, table);
  const y = table.column(label).values.map(Number);
  return { rows: table.rowCount, accuracy: accuracy(y, p), auc: auc(y, p), logLoss: logLoss(y, p) };
}

export class Client {
  private readonly results = new Map<string, MessageOf<'aggregate-result'>>();

  constructor(private readonly options: { transport: Transport; name?: string }) {
    options.transport.register(ROLES.client, async (message, from) => {
      authorize(ROLES.client, message, from);
      return this.receive(message);
    });
  }

  private receive(message: Message): Message {
    // the client receives only B's aggregate answers
    const result = expectType(message, 'aggregate-result');
    this.results.set(result.queryId, result);
    return { type: 'ack' };
  }

  /** A fresh query id: unique across client processes and restarts (B refuses a reused one). */
  private newId(kind: string): string {
    return `${this.options.name ?? 'client'}-${kind}-${randomBytes(16).toString('hex')}`;
  }

  /**
   * An aggregate query: submitted to B (which authorizes it against the owners'
   * registrations and its policy), then run by A; B sends the answer here directly.
   */
  async query(sql: string, options: { mode?: JoinMode } = {}): Promise<Answer> {
    const plan = parseQuery(sql);
    requireAggregateQuery(plan);
    const queryId = this.newId('query');
    const mode = options.mode ?? 'hashed';
    const { transport } = this.options;
    await transport.request(ROLES.client, ROLES.serverB, {
      type: 'query-submit',
      queryId,
      mode,
      plan,
      training: null,
    });
    const reply = expectType(
      await transport.request(ROLES.client, ROLES.serverA, { type: 'query', queryId, mode, plan }),
      'query-result',
    );
    const result = this.results.get(queryId);
    if (!result) throw new MalformedMessageError(`no answer from server B for query ${queryId}`);
    this.results.delete(queryId);
    return { queryId, ...answerItems(plan, result), privacy: result.privacy, timingsMs: reply.timingsMs };
  }

  /**
   * Trains a model over the join (issue 5): `sql` is a join query with a TRAIN clause
   * (src/fl/train-query.ts). With `evaluation` rows the client holds (columns named as in
   * the source tables, plus the label), the report gives accuracy, AUC and log-loss.
   */
  async train(sql: string, options: { mode?: JoinMode; evaluation?: Table } = {}): Promise<TrainingReport> {
    const parsed = parseTrainQuery(sql);
    const trainingId = this.newId('train');
    const mode = options.mode ?? 'hashed';
    const { label, rounds, dp, topK } = parsed;
    const { transport } = this.options;
    await transport.request(ROLES.client, ROLES.serverB, {
      type: 'query-submit',
      queryId: trainingId,
      mode,
      plan: parsed.query,
      training: { label, rounds, dp, topK },
    });
    const result = expectType(
      await transport.request(ROLES.client, ROLES.coordinator, {
        type: 'train',
        trainingId,
        mode,
        plan: parsed.query,
        label,
        rounds,
        dp,
        topK,
      }),
      'train-result',
    );
    const model: TrainedModel = {
      features: result.features,
      weights: result.weights.weights,
      bias: result.weights.bias,
      standardization: result.standardization,
    };
    const report: TrainingReport = {
      model,
      rounds: result.rounds,
      rowsJoined: result.rowsJoined,
      epsilon: result.epsilon,
      delta: result.delta,
      lossPerRound: result.lossPerRound,
      withheldPerRound: result.withheldPerRound,
      selected: result.selected,
      fit: result.fit,
      timingsMs: result.timingsMs,
    };
    if (options.evaluation) report.evaluation = evaluate(model, options.evaluation, parsed.label.column);
    return report;
  }
}

/** Each select item's value from B's count and totals (one total per SUM / AVG item, in order). */
export function answerItems(
  plan: Query,
  result: MessageOf<'aggregate-result'>,
): Pick<Answer, 'items' | 'rowsJoined'> {
  let next = 0;
  const items = plan.select.flatMap((item): AnswerItem[] => {
    if (item.kind === 'column') return [];
    if (item.kind === 'count') return [{ label: 'COUNT(*)', kind: 'count', value: result.count }];
    const alias = plan.tables.find((t) => t.name === item.table)?.alias ?? item.table;
    const label = `${item.kind.toUpperCase()}(${alias}.${item.column})`;
    const { value, fractionBits } = result.totals[next++];
    const scale = 1n << BigInt(fractionBits);
    if (item.kind === 'avg')
      return [{ label, kind: 'avg', value: ratioToNumber(value, scale * result.count) }];
    return [{ label, kind: 'sum', value: fractionBits === 0 ? value : ratioToNumber(value, scale) }];
  });
  return { items, rowsJoined: result.count };
}
