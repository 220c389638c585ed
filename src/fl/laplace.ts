// The Laplace mechanism for aggregate answers (issue 5 item 6: DP also covers the join's
// aggregate queries): each released total gets Laplace(sensitivity / epsilon_i) noise, the
// query's epsilon split evenly over its released values (basic composition). Sensitivity of
// a COUNT is 1 and of a SUM the column's declared bound, per joined pair (the privacy unit:
// a source row matching k rows of the other table counts k times). Noise from node:crypto.
import { SecureRandom } from './random.js';

const random = new SecureRandom();

/** A draw from Laplace(0, scale): inverse CDF of a uniform in (-1/2, 1/2). */
export function laplace(scale: number): number {
  const u = random.uniform() - 0.5;
  return -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
}

export interface AggregatePrivacy {
  /** epsilon for one whole aggregate query, split over its released values */
  epsilon: number;
  /** |value| bound per column (table.column), declared by its owner: the SUM sensitivity */
  bounds: Record<string, number>;
}

/** The noisy totals and the statement that goes with them. */
export function privatize(
  totals: readonly { label: string; value: number; column: string }[],
  groupSize: number,
  privacy: AggregatePrivacy,
): { groupSize: number; totals: { label: string; value: number }[]; statement: string } {
  const releases = totals.length + 1;
  const eps = privacy.epsilon / releases;
  const noisy = totals.map((t) => {
    const bound = privacy.bounds[t.column];
    if (!(bound > 0)) throw new RangeError(`no declared bound for ${t.column}`);
    return { label: t.label, value: t.value + laplace(bound / eps) };
  });
  return {
    groupSize: Math.max(0, Math.round(groupSize + laplace(1 / eps))),
    totals: noisy,
    statement:
      `epsilon-DP (epsilon ${privacy.epsilon}, delta 0) per joined pair: Laplace noise on the count ` +
      `(sensitivity 1) and on each sum (sensitivity = the column's declared bound), epsilon split over ${releases} values`,
  };
}
