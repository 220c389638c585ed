// The nested-loop indicator join (DESIGN §3.1, the patent's protocol). A: for every pair
// (i, j) of left and right rows, I_ij = (E(a_i) E(b_j)^-1)^rho_ij over one folded key
// (src/data/nested-key.ts), from per-row comb tables built once per query, tile by tile.
// Both tables' rows are put in a fresh secret order before tiles are cut, and each tile
// is shuffled again before it goes to B: B learns how many pairs of a tile match, tied
// to no row. B: one zero test per indicator, one bit back. A undoes both shuffles and
// keeps the matching pairs.
import type { PrivateKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import { MalformedMessageError } from '../errors.js';
import { concat, gather, type PackedBatch, slice, toWire } from '../protocol/batch.js';
import { expectType, type MessageOf } from '../protocol/messages.js';
import { type Pair, pairsFromBits } from './pairs.js';
import type { QueryRun } from './query-run.js';
import { randomPermutation, undoPermutation } from './shuffle.js';

/** Most indicators in one tile, the batch B zero-tests and answers at once. */
const INDICATORS_PER_TILE = 1024;
/**
 * Most right rows in a tile. Every shard of a tile (a few of its left rows) gets all the
 * tile's right tables, so 32 keeps a shard's WASM memory near (rows + 32) x 7.5 KB at a
 * 2048-bit n, and leaves 32 left rows a tile to spread over the workers; a left row's
 * tables go into digit form once per shard (15 products against 32 x 640 for its pairs).
 * docs/DECISIONS.md, "Nested-loop join by algorithm", has the sizing.
 */
const MAX_TILE_COLS = 32;

/** Tile sides for rows x cols pairs: at most MAX_TILE_COLS by INDICATORS_PER_TILE, balanced. */
export function tileShape(rows: number, cols: number): { tileRows: number; tileCols: number } {
  const tileCols = Math.ceil(cols / Math.ceil(cols / MAX_TILE_COLS));
  const rowsFit = Math.max(1, Math.floor(INDICATORS_PER_TILE / tileCols));
  return { tileRows: Math.ceil(rows / Math.ceil(rows / rowsFit)), tileCols };
}

/** §3.1 at A: the matching pairs of `left` and `right`, given each side's folded key ciphertexts. */
export async function nestedJoin(
  run: QueryRun,
  leftKey: PackedBatch,
  rightKey: PackedBatch,
): Promise<Pair[]> {
  const { engine, publicKey } = run;
  const rows = leftKey.count;
  const cols = rightKey.count;
  if (rows === 0 || cols === 0) return [];
  // rows in a secret order, so a tile is no run of the owner's rows
  const rowOrder = randomPermutation(rows);
  const colOrder = randomPermutation(cols);
  // E(b)^-1 once per right row, then every row's comb table once per query: one task for
  // both sides, so it spreads over all the workers
  const rightInverse = await engine.inversePacked(publicKey, gather(rightKey, colOrder));
  const tables = await engine.joinTablesPacked(publicKey, concat([gather(leftKey, rowOrder), rightInverse]));
  const leftTables = slice(tables, 0, rows);
  const rightTables = slice(tables, rows, rows + cols);
  const { tileRows, tileCols } = tileShape(rows, cols);
  const tiles: { row: number; col: number }[] = [];
  for (let row = 0; row < rows; row += tileRows)
    for (let col = 0; col < cols; col += tileCols) tiles.push({ row, col });
  const abort = new AbortController();
  const indicatorsOf = ({ row, col }: { row: number; col: number }) => {
    const left = slice(leftTables, row, Math.min(rows, row + tileRows));
    const right = slice(rightTables, col, Math.min(cols, col + tileCols));
    const pending = engine.joinPairsPacked(publicKey, left, right, { signal: abort.signal });
    pending.catch(() => {}); // awaited below, unless the query failed first
    return pending;
  };
  const pairs: Pair[] = [];
  let done = 0;
  let next = indicatorsOf(tiles[0]);
  try {
    for (const [t, tile] of tiles.entries()) {
      const indicators = await next;
      // the next tile's pairs run while B zero-tests this one
      if (t + 1 < tiles.length) next = indicatorsOf(tiles[t + 1]);
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
      const width = Math.min(cols, tile.col + tileCols) - tile.col;
      for (const [i, j] of pairsFromBits(bits, tile.row, tile.col, width))
        pairs.push([rowOrder[i], colOrder[j]]);
      done += indicators.count;
      run.onProgress?.('join', done, rows * cols);
    }
  } finally {
    // a failed query stops the tile still in flight
    abort.abort();
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
