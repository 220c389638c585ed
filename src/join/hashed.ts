// The hashed equi-join (DESIGN §3.2): linear time, on ristretto255 ElGamal tags under B's
// EC key. A raises every tag of both tables to a fresh secret alpha per run, re-randomises
// it (re-randomisers made ahead by idle workers, engine.ts), shuffles each table and sends
// the tags to B in bounded batches, blinding the next while B decrypts one; B decrypts alpha T,
// groups equal points across the tables once both are complete, and answers a group only
// for rows whose group has members on both sides. B sees one run's equality pattern and
// nothing it can link to another run; A sees nothing of the rows that match no row.

import { randomScalars } from '../ec/ristretto.js';
import type { EcPublicKey } from '../engine/keys.js';
import type { PackedBatch } from '../engine/limbs.js';
import { MalformedMessageError } from '../errors.js';
import { gather, slice } from '../protocol/batch.js';
import { expectType, type Message, NO_GROUP, TAG_BATCH_MAX_ROWS, TAG_WORDS } from '../protocol/messages.js';
import { type Pair, pairsFromGroups } from './pairs.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation, undoPermutation } from './shuffle.js';

/**
 * §3.2 at A: the matching pairs of two tables from their stored tags (TAG_WORDS words per
 * row, under B's EC key `ecKey`). alpha lives for this run only and is wiped after it.
 */
export async function hashedJoin(
  run: QueryRun,
  ecKey: EcPublicKey,
  leftTags: PackedBatch,
  rightTags: PackedBatch,
): Promise<Pair[]> {
  const sides = [leftTags, rightTags] as const;
  const total = leftTags.count + rightTags.count;
  if (leftTags.count === 0 || rightTags.count === 0) return [];
  const perms = sides.map((tags) => randomPermutation(tags.count));
  const batches: { side: 0 | 1; tags: PackedBatch }[] = [];
  for (const side of [0, 1] as const) {
    const shuffled = gather(sides[side], perms[side]);
    for (let start = 0; start < shuffled.count; start += TAG_BATCH_MAX_ROWS) {
      batches.push({
        side,
        tags: slice(shuffled, start, Math.min(shuffled.count, start + TAG_BATCH_MAX_ROWS)),
      });
    }
  }
  const alpha = randomScalars(1);
  // ecBlind copies alpha before its first await, so wiping it once the last call started is safe
  const blind = (k: number) => run.engine.ecBlind(ecKey.publicKey, batches[k].tags, alpha);
  let reply: Message | undefined;
  let sent = 0;
  let next = blind(0);
  try {
    for (let k = 0; k < batches.length; k++) {
      const blinded = await next;
      // A blinds the next batch while B decrypts this one
      if (k + 1 < batches.length) next = blind(k + 1);
      reply = await run.send({
        type: 'tag-batch',
        queryId: run.queryId,
        seq: run.nextSeq(),
        side: batches[k].side,
        fingerprint: ecKey.fingerprint,
        count: blinded.count,
        words: TAG_WORDS,
        data: blinded.data,
      });
      sent += blinded.count;
      // B answers the groups only once it holds both tables' tags
      if (sent < total) expectType(reply, 'ack');
      run.onProgress?.('join', sent, total);
    }
  } finally {
    // a batch blinded ahead of a failed send is dropped
    next.catch(() => {});
    alpha.fill(0);
  }
  const { groups } = expectType(reply!, 'tag-groups');
  if (groups.length !== total) throw new MalformedMessageError('tag-groups: wrong count');
  return pairsFromGroups(
    undoPermutation(groups.subarray(0, leftTags.count), perms[0]),
    undoPermutation(groups.subarray(leftTags.count), perms[1]),
  );
}

/**
 * §3.2 at B: one group number per decrypted tag, the left table's in the order received,
 * then the right's. Equal points (canonical encodings: equal words) share a group; a group
 * with no member on the other side answers NO_GROUP for each of its rows. Numbers go by
 * first appearance: A's shuffle already hides which row that is. `joined` is the join's
 * size, the pairs of equal tags across the sides: B's own count, from the same tally.
 */
export function groupTags(
  left: readonly PackedBatch[],
  right: readonly PackedBatch[],
): { groups: Uint32Array; joined: number } {
  const sides = [left, right];
  const counts = new Map<string, [number, number]>();
  const keys: string[][] = [[], []];
  for (const side of [0, 1] as const) {
    for (const points of sides[side]) {
      const bytes = Buffer.from(points.data.buffer, points.data.byteOffset, points.data.byteLength);
      for (let i = 0; i < points.count; i++) {
        const key = bytes.toString('base64', i * points.words * 4, (i + 1) * points.words * 4);
        const seen = counts.get(key) ?? [0, 0];
        seen[side]++;
        counts.set(key, seen);
        keys[side].push(key);
      }
    }
  }
  const numbers = new Map<string, number>();
  const groups = new Uint32Array(keys[0].length + keys[1].length);
  let k = 0;
  for (const key of [...keys[0], ...keys[1]]) {
    const [l, r] = counts.get(key)!;
    if (l > 0 && r > 0 && !numbers.has(key)) numbers.set(key, numbers.size);
    groups[k++] = numbers.get(key) ?? NO_GROUP;
  }
  let joined = 0;
  for (const [l, r] of counts.values()) joined += l * r;
  return { groups, joined };
}
