// The hashed equi-join (DESIGN §3.2): linear time. A sends B the tags of both tables,
// each side shuffled with a secret permutation; B groups equal tags and answers a group
// number per tag; A undoes the shuffles and pairs rows of equal groups.
import type { PrivateKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { randomBelow } from '../engine/modular.js';
import { MalformedMessageError } from '../errors.js';
import { concat, gather, type PackedBatch, repeat, toWire, unpack } from '../protocol/batch.js';
import { expectType, type MessageOf } from '../protocol/messages.js';
import { type Pair, pairsFromGroups } from './pairs.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation, undoPermutation } from './shuffle.js';

/** §3.2 at A: masked tags E(t + s) of both tables, each side shuffled, grouped by B. */
export async function hashedJoin(
  run: QueryRun,
  leftTags: PackedBatch,
  rightTags: PackedBatch,
): Promise<Pair[]> {
  const { engine, publicKey } = run;
  const rows = leftTags.count;
  const cols = rightTags.count;
  if (rows === 0 || cols === 0) return [];
  // one fresh mask s per query: B sees t + s, never t
  const [maskCipher] = await engine.encrypt(publicKey, [randomBelow(publicKey.n)]);
  const permLeft = randomPermutation(rows);
  const permRight = randomPermutation(cols);
  const shuffled = concat([gather(leftTags, permLeft), gather(rightTags, permRight)]);
  const masked = await engine.addPacked(publicKey, shuffled, repeat(maskCipher, rows + cols, shuffled.words));
  const reply = expectType(
    await run.send({
      type: 'tag-batch',
      queryId: run.queryId,
      seq: run.nextSeq(),
      sideCounts: [rows, cols],
      ...toWire(masked, run.fingerprint),
    }),
    'tag-groups',
  );
  if (reply.groups.length !== rows + cols) throw new MalformedMessageError('tag-groups: wrong count');
  const groupsLeft = undoPermutation(reply.groups.subarray(0, rows), permLeft);
  const groupsRight = undoPermutation(reply.groups.subarray(rows), permRight);
  run.onProgress?.('join', rows + cols, rows + cols);
  return pairsFromGroups(groupsLeft, groupsRight);
}

/**
 * §3.2 at B: the tag of E(t + s) is (t + s) mod p, which is equal exactly when t is (t has
 * 224 bits, far below p). Group numbers go by first appearance in the shuffled batch.
 */
export async function groupTags(
  engine: Engine,
  privateKey: PrivateKey,
  message: MessageOf<'tag-batch'>,
  tags: PackedBatch,
): Promise<MessageOf<'tag-groups'>> {
  if (message.sideCounts[0] + message.sideCounts[1] !== tags.count) {
    throw new MalformedMessageError('tag-batch: side counts do not add up to the batch');
  }
  const plain = await engine.decryptModP(privateKey, unpack(tags));
  const group = new Map<bigint, number>();
  const groups = new Uint32Array(plain.length);
  plain.forEach((tag, k) => {
    let g = group.get(tag);
    if (g === undefined) {
      g = group.size;
      group.set(tag, g);
    }
    groups[k] = g;
  });
  return { type: 'tag-groups', queryId: message.queryId, seq: message.seq, groups };
}
