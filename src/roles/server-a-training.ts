// Server A's part in federated training (DESIGN §4 step 4), mirroring server-b-training.ts:
// once per training it joins the query's tables and delivers to B the requested features
// of the joined rows, the label, and the encrypted score of the warm-start model
// E(sum_k v_k x_k), v_k = w_k / std_k, which B checks against the features it decrypts.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { GLOBAL_SCORE, GLOBAL_SCORE_FRACTION_BITS } from '../fl/refine.js';
import type { JoinedColumn } from '../join/aggregates.js';
import { sendFeatures } from '../join/features.js';
import { checkScoreScales } from '../join/packing.js';
import type { JoinContext, Joined, JoinMode } from '../join/query-run.js';
import { type PackedBatch, repeat } from '../protocol/batch.js';
import type { ColumnMeta, MessageOf } from '../protocol/messages.js';
import type { ColumnRef, Query } from '../query/plan.js';

/** What the training step needs of server A: its plan check, its join, its joined columns. */
export interface JoiningServer {
  readonly joinContext: JoinContext;
  validPlan(plan: Query): Query;
  join(
    id: string,
    mode: JoinMode,
    plan: Query,
    timingsMs: Record<string, number>,
    then: (joined: Joined) => Promise<void>,
  ): Promise<number>;
  joinedColumn(joined: Joined, ref: ColumnRef): JoinedColumn;
}

/** §4 step 4: the round's features for B; the feature set id is B's id of the query. */
export async function extractFeatures(
  serverA: JoiningServer,
  message: MessageOf<'extract-features'>,
): Promise<MessageOf<'features-ready'>> {
  const { global, standardization, features, label } = message;
  const select = [...features, label].map((c) => ({ kind: 'column' as const, ...c }));
  const plan = serverA.validPlan({ ...message.plan, select });
  // the stored spelling of each ref (select order): a joined column's side and name are
  // taken from it, never from the client's spelling
  const refs = plan.select.flatMap((s) => (s.kind === 'column' ? [s] : []));
  const { engine, publicKey } = serverA.joinContext;
  await serverA.join(message.trainingId, message.mode, plan, {}, async (joined) => {
    const columns = refs.slice(0, features.length).map((ref) => serverA.joinedColumn(joined, ref));
    const labelColumn = serverA.joinedColumn(joined, refs[features.length]);
    const v = global.weights.map((w, k) => w / standardization.std[k]);
    const score = await weightedSums(engine, publicKey, columns, v, joined.pairs.length);
    const scoreMeta: ColumnMeta = {
      name: GLOBAL_SCORE,
      type: 'decimal',
      fractionBits: GLOBAL_SCORE_FRACTION_BITS,
    };
    await sendFeatures(joined.run, [...columns, labelColumn, { meta: scoreMeta, values: score }]);
  });
  return { type: 'features-ready', featureSetId: message.trainingId };
}

/**
 * E(sum_k v_k x_k) per row for real weights v: E(x)^round(|v| 2^(GLOBAL_SCORE_FRACTION_BITS - F_x)),
 * the positive and negative terms multiplied separately and the negatives inverted once
 * per row, so every exponent stays short; the scales must keep it in its slot (packing.ts).
 */
async function weightedSums(
  engine: Engine,
  publicKey: PublicKey,
  columns: readonly JoinedColumn[],
  v: readonly number[],
  rows: number,
): Promise<PackedBatch> {
  const words = columns[0]?.values.words ?? 1;
  // 1 = E(0) with r = 1: the score when every term is 0
  const zero = () => repeat(1n, rows, words);
  if (rows === 0) return zero();
  // every term at the score's fraction bits, whatever the column's own scale
  const scales = columns.map(({ meta }, k) =>
    BigInt(Math.round(Math.abs(v[k]) * 2 ** (GLOBAL_SCORE_FRACTION_BITS - meta.fractionBits))),
  );
  // the score is packed in a slot of its own width: refuse a model it would not fit
  checkScoreScales(scales);
  // each sum starts at its first term: an inverse per row only when a weight is negative
  let positive: PackedBatch | undefined;
  let negative: PackedBatch | undefined;
  const plus = (sum: PackedBatch | undefined, term: PackedBatch) =>
    sum ? engine.addPacked(publicKey, sum, term) : term;
  for (const [k, { values }] of columns.entries()) {
    const scale = scales[k];
    if (scale === 0n) continue;
    const term = await engine.multiplyPacked(publicKey, values, scale);
    if (v[k] > 0) positive = await plus(positive, term);
    else negative = await plus(negative, term);
  }
  if (!negative) return positive ?? zero();
  const inverse = await engine.inversePacked(publicKey, negative);
  return positive ? engine.addPacked(publicKey, positive, inverse) : inverse;
}
