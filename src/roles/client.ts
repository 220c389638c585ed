// The client (DESIGN §1): turns an SQL query into join conditions and feature or
// aggregate requests (src/query/sql.ts), sends them to A, and receives aggregate totals
// from B: COUNT is the joined group size, AVG = SUM / COUNT. It never sees a row.
import { randomBytes } from 'node:crypto';
import type { Table } from '../data/table.js';
import { MalformedMessageError } from '../errors.js';
import { sigmoid } from '../fl/logistic.js';
import { accuracy, auc, logLoss } from '../fl/metrics.js';
import { parseTrainQuery } from '../fl/train-query.js';
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
  /** B's differential-privacy statement when its policy adds noise to aggregates. */
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
  rowsJoined: number;
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
  private nextId = 0;

  constructor(private readonly options: { transport: Transport; name?: string }) {
    options.transport.register(ROLES.client, async (message) => this.receive(message));
  }

  private receive(message: Message): Message {
    // the client receives only B's aggregate answers
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
        plan,
      }),
      'query-result',
    );
    const answer: Answer = {
      kind: reply.kind,
      rowsJoined: reply.rowsJoined,
      values: {},
      columns: reply.columns,
      privacy: null,
      timingsMs: reply.timingsMs,
    };
    if (reply.kind === 'aggregate') Object.assign(answer, this.aggregateValues(plan, reply.serverBQueryId));
    return answer;
  }

  /**
   * Trains a model over the join (issue 5): `sql` is a join query with a TRAIN clause
   * (src/fl/train-query.ts). With `evaluation` rows the client holds (columns named as in
   * the source tables, plus the label), the report gives accuracy, AUC and log-loss.
   */
  async train(sql: string, options: { mode?: JoinMode; evaluation?: Table } = {}): Promise<TrainingReport> {
    const parsed = parseTrainQuery(sql);
    // random: unique across client processes and restarts, which B's training state outlives (issue 14)
    const trainingId = `${this.options.name ?? 'client'}-train-${randomBytes(16).toString('hex')}`;
    const result = expectType(
      await this.options.transport.request(ROLES.client, ROLES.coordinator, {
        type: 'train',
        trainingId,
        mode: options.mode ?? 'hashed',
        plan: parsed.query,
        label: parsed.label,
        rounds: parsed.rounds,
        dp: parsed.dp,
        topK: parsed.topK,
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

  /** B's totals (sent to this client directly, keyed by select index) turned into answers. */
  private aggregateValues(plan: Query, queryId: string): Pick<Answer, 'values' | 'privacy'> {
    const result = this.results.get(queryId);
    if (!result) throw new MalformedMessageError(`no aggregate result from server B for ${queryId}`);
    this.results.delete(queryId);
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
    return { values, privacy: result.privacy };
  }
}
