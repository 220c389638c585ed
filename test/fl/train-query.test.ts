// The TRAIN clause (src/fl/train-query.ts): defaults, DP and TOPK, and the refusals, each a
// QueryError naming the clause. TOPK needs a round that ranks every feature and one that refits.
import { describe, expect, test } from 'vitest';
import { QueryError } from '../../src/errors.js';
import { DEFAULT_ROUNDS, parseTrainQuery } from '../../src/fl/train-query.js';

const JOIN = 'SELECT h.a, l.b FROM hospital h JOIN lab l ON h.id = l.id';

describe('parseTrainQuery', () => {
  test('reads label, rounds, DP and TOPK', () => {
    expect(parseTrainQuery(`${JOIN} TRAIN LOGISTIC LABEL h.y`)).toMatchObject({
      label: { table: 'hospital', column: 'y' },
      rounds: DEFAULT_ROUNDS,
      dp: null,
      topK: null,
    });
    expect(
      parseTrainQuery(`${JOIN} TRAIN LOGISTIC LABEL h.y ROUNDS 4 EPSILON 3 DELTA 1e-5 TOPK 1`),
    ).toMatchObject({
      rounds: 4,
      dp: { epsilon: 3, delta: 1e-5 },
      topK: 1,
    });
  });

  test.each([
    ['no clause', JOIN],
    ['unknown alias', `${JOIN} TRAIN LOGISTIC LABEL x.y`],
    ['ROUNDS 0', `${JOIN} TRAIN LOGISTIC LABEL h.y ROUNDS 0`],
    ['EPSILON 0', `${JOIN} TRAIN LOGISTIC LABEL h.y EPSILON 0 DELTA 1e-5`],
    ['TOPK 0', `${JOIN} TRAIN LOGISTIC LABEL h.y TOPK 0`],
    ['TOPK with 2 rounds', `${JOIN} TRAIN LOGISTIC LABEL h.y ROUNDS 2 TOPK 1`],
  ])('refuses %s', (_name, sql) => {
    const error = (() => {
      try {
        parseTrainQuery(sql);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).code).toBe('UNSUPPORTED_QUERY');
  });
});
