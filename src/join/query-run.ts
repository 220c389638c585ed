// One run of a query between A and B (DESIGN §3): A opens it at B, sends its batches in
// one numbered sequence whatever their kind, and closes it. If B answers that it does
// not hold the run open (it restarted and lost its in-memory state), the whole query
// runs again, at most MAX_REOPENS times: B's partial state died with it, so no row is
// counted twice or lost, and B counts the runs against the query.
import type { PublicKey } from 'paillier-bigint';
import type { Engine } from '../engine/engine.js';
import type { EcPublicKey } from '../engine/keys.js';
import { MalformedMessageError } from '../errors.js';
import type { JoinMode, Message } from '../protocol/messages.js';
import type { Query } from '../query/plan.js';
import type { Pair } from './pairs.js';
import type { StoredTable } from './table-store.js';

/** details.reason of the error B answers for a batch of a query it does not hold open. */
export const QUERY_NOT_OPEN = 'not-open';
/** Times A runs a query again after server B lost it (restarted mid-query). */
const MAX_REOPENS = 3;

export type { JoinMode } from '../protocol/messages.js';
export type Phase = 'join' | 'aggregate' | 'features';
export type ProgressListener = (phase: Phase, done: number, total: number) => void;

/** What A's protocol steps work with: the engine, B's public keys, and a way to reach B. */
export interface JoinContext {
  engine: Engine;
  publicKey: PublicKey;
  /** B's EC key of the hashed join (§3.2); null when B's published key has none */
  ecKey: EcPublicKey | null;
  /** the key's fingerprint, carried by every batch */
  fingerprint: string;
  /** words of one ciphertext (mod n^2) */
  words: number;
  send(message: Message): Promise<Message>;
  onProgress?: ProgressListener;
}

/** One query in flight at B: its id there and its batch sequence. */
export interface QueryRun extends JoinContext {
  queryId: string;
  nextSeq(): number;
}

/** A query's joined pairs, the two tables they index, and the run they were joined in. */
export interface Joined {
  run: QueryRun;
  pairs: Pair[];
  left: StoredTable;
  right: StoredTable;
  plan: Query;
  /** Each pair's row of the left (side 0) or right (side 1) table, in pair order. */
  rows(side: 0 | 1): Uint32Array;
}

/** The join of `pairs`; each side's row indices are made on first use, once for all its columns. */
export function joinedPairs(
  run: QueryRun,
  pairs: Pair[],
  left: StoredTable,
  right: StoredTable,
  plan: Query,
): Joined {
  const rows: [Uint32Array?, Uint32Array?] = [];
  return {
    run,
    pairs,
    left,
    right,
    plan,
    rows: (side) => (rows[side] ??= Uint32Array.from(pairs, (pair) => pair[side])),
  };
}

/**
 * Opens a run of query `queryId` at B in `mode`, runs `body`, and closes the run whatever
 * happens; opens another run when B lost this one.
 */
export async function withQuery<T>(
  context: JoinContext,
  mode: JoinMode,
  queryId: string,
  body: (run: QueryRun) => Promise<T>,
  onReopen?: () => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    // B requires the batches of a query in one sequence, whatever their kind
    let seq = 0;
    const run: QueryRun = { ...context, queryId, nextSeq: () => seq++ };
    try {
      await context.send({ type: 'query-open', queryId, mode, fingerprint: context.fingerprint });
      try {
        return await body(run);
      } finally {
        await context.send({ type: 'query-close', queryId });
      }
    } catch (err) {
      const lost =
        err instanceof MalformedMessageError &&
        err.details.reason === QUERY_NOT_OPEN &&
        err.details.queryId === queryId;
      if (!lost || attempt >= MAX_REOPENS) throw err;
      onReopen?.();
    }
  }
}
