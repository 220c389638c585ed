// The training form of a query (issue 5 item 7): an SQL join query followed by
//   TRAIN LOGISTIC LABEL t.col [ROUNDS r] [EPSILON e DELTA d] [TOPK k]
// The SELECT list names the features (the label may be listed or not); the clause is not
// SQL, so it is split off here and the rest goes to the SQL parser. TOPK needs 3 rounds:
// round 1 ranks every feature, a later one refits on the k selected (docs/DECISIONS.md "Federated learning").
import { QueryError } from '../errors.js';
import { parseQuery, type Query } from '../query/sql.js';

export interface TrainQuery {
  query: Query;
  label: { table: string; column: string };
  rounds: number;
  dp: { epsilon: number; delta: number } | null;
  topK: number | null;
}

export const DEFAULT_ROUNDS = 3;

const CLAUSE =
  /\s+TRAIN\s+LOGISTIC\s+LABEL\s+([A-Za-z_][\w]*)\.([A-Za-z_][\w]*)(?:\s+ROUNDS\s+(\d+))?(?:\s+EPSILON\s+([0-9.eE+-]+)\s+DELTA\s+([0-9.eE+-]+))?(?:\s+TOPK\s+(\d+))?\s*;?\s*$/i;

export function parseTrainQuery(sql: string): TrainQuery {
  const match = CLAUSE.exec(sql);
  if (!match) {
    throw new QueryError(
      'training query: expected "<join query> TRAIN LOGISTIC LABEL t.col [ROUNDS r] [EPSILON e DELTA d] [TOPK k]"',
      { part: 'TRAIN clause' },
    );
  }
  const query = parseQuery(sql.slice(0, match.index));
  const alias = match[1].toLowerCase();
  const table = query.tables.find((t) => t.alias.toLowerCase() === alias || t.name.toLowerCase() === alias);
  if (!table) throw new QueryError(`TRAIN LABEL: unknown table alias ${match[1]}`, { part: 'TRAIN clause' });
  const rounds = match[3] === undefined ? DEFAULT_ROUNDS : Number(match[3]);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
    throw new QueryError(`ROUNDS: expected 1 to 100, got ${match[3]}`, { part: 'TRAIN clause' });
  }
  let dp: TrainQuery['dp'] = null;
  if (match[4] !== undefined) {
    const epsilon = Number(match[4]);
    const delta = Number(match[5]);
    if (!(epsilon > 0) || !(delta > 0 && delta < 1)) {
      throw new QueryError('EPSILON must be > 0 and DELTA in (0, 1)', { part: 'TRAIN clause' });
    }
    dp = { epsilon, delta };
  }
  const topK = match[6] === undefined ? null : Number(match[6]);
  if (topK !== null && topK < 1) throw new QueryError('TOPK must be at least 1', { part: 'TRAIN clause' });
  if (topK !== null && rounds < 3) {
    throw new QueryError(
      `TOPK needs ROUNDS 3 or more (got ${rounds}): round 1 fits every feature, a later round the k selected`,
      { part: 'TRAIN clause' },
    );
  }
  if (query.select.some((s) => s.kind !== 'column')) {
    throw new QueryError('a training query selects feature columns, not aggregates', {
      part: 'TRAIN clause',
    });
  }
  return { query, label: { table: table.name, column: match[2] }, rounds, dp, topK };
}
