// The nested-loop indicator join (DESIGN §3.1, the patent's protocol). A: for every pair
// (i, j) of left and right rows, I_ij = prod_c (E(a_ic) E(b_jc)^-1)^rho_ijc, tile by tile.
// Both tables' rows are put in a fresh secret order before tiles are cut, and each tile
// is shuffled again before it goes to B: B learns how many pairs of a tile match, tied
// to no row. B: one zero test per indicator, one bit back. A undoes both shuffles and
// keeps the matching pairs.
import type { PrivateKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError } from '../errors.js';
import { gather, interleave, type PackedBatch, toWire } from '../protocol/batch.js';
import { expectType, type MessageOf } from '../protocol/messages.js';
import { type Pair, pairsFromBits } from './pairs.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation, undoPermutation } from './shuffle.js';

/** Indicators per batch sent to B (one tile of left rows x all right rows). */
const INDICATORS_PER_BATCH = 1024;

/** §3.1 at A: the matching pairs of `left` and `right`, given each side's key columns. */
export async function nestedJoin(
  run: QueryRun,
  leftKeys: readonly PackedBatch[],
  rightKeys: readonly PackedBatch[],
): Promise<Pair[]> {
  const { engine, publicKey } = run;
  const keyCols = leftKeys.length;
  const rows = leftKeys[0].count;
  const cols = rightKeys[0].count;
  if (rows === 0 || cols === 0) return [];
  // rows in a secret order, so a tile is no run of the owner's rows
  const rowOrder = randomPermutation(rows);
  const colOrder = randomPermutation(cols);
  // row-major key rows; E(b)^-1 once per right row and key column
  const left = interleave(leftKeys.map((k) => gather(k, rowOrder)));
  const rightInverse = await engine.inversePacked(
    publicKey,
    interleave(rightKeys.map((k) => gather(k, colOrder))),
  );
  const tileRows = Math.max(1, Math.floor(INDICATORS_PER_BATCH / cols));
  const pairs: Pair[] = [];
  for (let start = 0; start < rows; start += tileRows) {
    const end = Math.min(rows, start + tileRows);
    const tile = {
      words: left.words,
      count: (end - start) * keyCols,
      data: left.data.subarray(start * keyCols * left.words, end * keyCols * left.words),
    };
    const indicators = await engine.joinIndicatorsPacked(publicKey, tile, rightInverse, keyCols);
    const perm = randomPermutation(indicators.count);
    const reply = expectType(
      await run.send({
        type: 'indicator-batch',
        queryId: run.queryId,
        seq: run.nextSeq(),
        ...toWire(gather(indicators, perm), run.fingerprint),
      }),
      'indicator-bits',
    );
    if (reply.bits.length !== indicators.count)
      throw new MalformedMessageError('indicator-bits: wrong count');
    const bits = undoPermutation(
      Array.from(reply.bits, (b) => b === 1),
      perm,
    );
    for (const [i, j] of pairsFromBits(bits, start, cols)) pairs.push([rowOrder[i], colOrder[j]]);
    run.onProgress?.('join', end * cols, rows * cols);
  }
  // in left-then-right row order, as the plaintext join lists them
  return pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/** §3.1 at B: one bit per shuffled indicator, 1 where it decrypts to zero. */
export async function zeroTestIndicators(
  engine: Engine,
  privateKey: PrivateKey,
  message: MessageOf<'indicator-batch'>,
  indicators: PackedBatch,
): Promise<MessageOf<'indicator-bits'>> {
  const bits = await engine.zeroTestPacked(privateKey, indicators);
  return { type: 'indicator-bits', queryId: message.queryId, seq: message.seq, bits };
}
