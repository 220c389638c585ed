// `fedjoin serve client`'s query feed: queries as JSON lines on stdin, answered one at a
// time, in order, as 'answer' / 'trained' / 'query-error' log lines (src/serve/log.ts) that
// carry the request's id, so a supervisor (src/demo/processes.ts, the CLI tests) can match them.
import { createInterface } from 'node:readline';
import type { JoinMode } from '../../roles/client.js';
import type { TableConfig } from '../../serve/config.js';
import type { Log } from '../../serve/log.js';
import { type ClientContext, loadTable } from '../../serve/start-role.js';

export interface ClientRequest {
  id?: string | number;
  sql: string;
  mode?: JoinMode;
  /**
   * Training queries (a TRAIN clause) only: evaluation rows the client holds, a CSV with the
   * features' column names and the label; the report then gives accuracy, AUC and log-loss.
   */
  evaluation?: { csv: string; schema?: TableConfig['schema'] };
}

/** A join query with a TRAIN clause (src/fl/train-query.ts) goes to the coordinator. */
function isTrainingSql(sql: string): boolean {
  return /\bTRAIN\s+LOGISTIC\b/i.test(sql);
}

/**
 * Answers stdin's queries; a training query (TRAIN LOGISTIC ...) is sent to the coordinator
 * and answered as a 'trained' line with the training report.
 */
export function answerStdin(ctx: ClientContext, log: Log): void {
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  // one query at a time, in order
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    chain = chain.then(async () => {
      let request: ClientRequest;
      try {
        request = JSON.parse(line) as ClientRequest;
        if (typeof request.sql !== 'string') throw new Error('expected {"sql": "...", "mode": "hashed"}');
      } catch (err) {
        log('query-error', { error: { code: 'USAGE', message: (err as Error).message } });
        return;
      }
      const start = performance.now();
      try {
        if (isTrainingSql(request.sql)) {
          const evaluation = request.evaluation ? loadTable(request.evaluation) : undefined;
          const report = await ctx.client.train(request.sql, {
            mode: request.mode ?? 'hashed',
            ...(evaluation ? { evaluation } : {}),
          });
          log('trained', { id: request.id ?? null, ms: performance.now() - start, report });
          return;
        }
        const answer = await ctx.client.query(request.sql, { mode: request.mode ?? 'hashed' });
        log('answer', { id: request.id ?? null, ms: performance.now() - start, answer });
      } catch (err) {
        log('query-error', { id: request.id ?? null, error: errorRecord(err) });
      }
    });
  });
}

function errorRecord(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'ERROR',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}
