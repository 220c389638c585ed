// Server A (DESIGN §1, §3): holds the owners' encrypted tables and the public key only.
// It runs the join with B's help: nested-loop indicators (§3.1) or masked hashed tags
// (§3.2), every batch to B shuffled with a secret permutation that A undoes on the
// reply; then sums the query's columns homomorphically for B to decrypt as totals, or
// sends B re-randomised, shuffled feature vectors of the joined rows.
import type { PublicKey } from 'paillier-bigint';
import { sumVectors } from '../engine/aggregate.js';
import type { Engine } from '../engine/engine.js';
import { fingerprint } from '../engine/keys.js';
import { pack, unpack, wordsFor } from '../engine/limbs.js';
import { randomBelow } from '../engine/modular.js';
import { KeyMismatchError, MalformedMessageError, QueryError } from '../errors.js';
import { GLOBAL_SCORE } from '../fl/refine.js';
import { type Pair, pairsFromBits, pairsFromGroups } from '../join/pairs.js';
import { applyPermutation, randomPermutation, undoPermutation } from '../join/shuffle.js';
import type { ColumnMeta, Message, MessageOf } from '../protocol/messages.js';
import { expectType } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { isAggregateQuery, type Query, validateQuery } from '../query/sql.js';
import { ROLES } from './names.js';
import { QUERY_NOT_OPEN } from './server-b.js';

/** Indicators per batch sent to B (one tile of left rows x all right rows). */
const INDICATORS_PER_BATCH = 1024;
/** Joined rows per feature batch sent to B. */
const FEATURE_ROWS_PER_BATCH = 512;
/** Times A runs a query again after server B lost it (restarted mid-query). */
const MAX_REOPENS = 3;
/** Fraction bits of the weights in the encrypted global score (features carry 32). */
const SCORE_WEIGHT_BITS = 16;

export type Phase = 'join' | 'aggregate' | 'features';
export type ProgressListener = (phase: Phase, done: number, total: number) => void;

/** One query in flight: its id at B and its batch sequence. */
interface QueryRun {
  queryId: string;
  nextSeq: () => number;
}

interface StoredTable {
  meta: MessageOf<'encrypted-table'>;
  /** 'data:' / 'tag:' / 'nested:' + name -> those ciphertexts, unpacked on first use */
  columns: Map<string, bigint[]>;
}

export class ServerA {
  private readonly tables = new Map<string, StoredTable>();
  private readonly partitions = new Map<string, Map<string, MessageOf<'encrypted-table'>>>();
  private readonly keyFingerprint: string;
  private queries = 0;
  /** Queries run again because server B had lost them (it restarted mid-query). */
  reopened = 0;
  onProgress?: ProgressListener;

  constructor(private readonly options: { engine: Engine; transport: Transport; publicKey: PublicKey }) {
    this.keyFingerprint = fingerprint(options.publicKey.n);
    options.transport.register(ROLES.serverA, (message) => this.receive(message));
  }

  private async receive(message: Message): Promise<Message> {
    switch (message.type) {
      case 'encrypted-table':
        return this.storeTable(message);
      case 'query':
        return this.runQuery(message);
      case 'extract-features':
        return this.extractFeatures(message);
      default:
        throw new MalformedMessageError(`server A does not accept ${message.type} messages`, {
          type: message.type,
        });
    }
  }

  private storeTable(message: MessageOf<'encrypted-table'>): Message {
    if (message.fingerprint !== this.keyFingerprint) {
      throw new KeyMismatchError(`table ${message.table} is under another key`, {
        expected: this.keyFingerprint,
        got: message.fingerprint,
      });
    }
    const words = wordsFor(this.options.publicKey.n ** 2n);
    const expected = message.rowCount * words;
    if (message.words !== words || message.columnData.length !== message.columns.length) {
      throw new MalformedMessageError(`table ${message.table}: column data does not match its columns`);
    }
    const all = [
      ...message.columnData,
      ...message.tags.map((t) => t.data),
      ...message.nestedKeys.map((k) => k.data),
    ];
    for (const data of all) {
      if (data.length !== expected) {
        throw new MalformedMessageError(
          `table ${message.table}: a column holds ${data.length} words, not ${expected}`,
        );
      }
    }
    // owners holding rows of the same table (a horizontal split) each send a partition;
    // A joins over their concatenation, in the order the owners first sent theirs
    const parts = this.partitions.get(message.table) ?? new Map<string, MessageOf<'encrypted-table'>>();
    parts.set(message.owner, message);
    const meta = concatenatePartitions([...parts.values()]);
    this.partitions.set(message.table, parts);
    this.tables.set(message.table, { meta, columns: new Map() });
    return { type: 'ack' };
  }

  private table(name: string): StoredTable {
    const table = this.tables.get(name);
    if (!table) throw new QueryError(`no encrypted table ${name} at server A`, { part: 'table' });
    return table;
  }

  /** One packed column of a table as bigints, unpacked on first use and kept. */
  private unpacked(table: StoredTable, cacheKey: string, data: Uint32Array): bigint[] {
    let values = table.columns.get(cacheKey);
    if (!values) {
      values = unpack({ words: table.meta.words, count: table.meta.rowCount, data });
      table.columns.set(cacheKey, values);
    }
    return values;
  }

  private ciphertexts(table: StoredTable, column: string): bigint[] {
    const k = table.meta.columns.findIndex((c) => c.name === column);
    if (k < 0) {
      throw new QueryError(`table ${table.meta.table} has no encrypted column ${column}`, { part: 'column' });
    }
    return this.unpacked(table, `data:${column}`, table.meta.columnData[k]);
  }

  private columnMeta(table: StoredTable, column: string): ColumnMeta {
    return table.meta.columns.find((c) => c.name === column)!;
  }

  private send(message: Message): Promise<Message> {
    return this.options.transport.request(ROLES.serverA, ROLES.serverB, message);
  }

  private async runQuery(message: MessageOf<'query'>): Promise<MessageOf<'query-result'>> {
    const plan = this.validPlan(message.plan as Query);
    const aggregate = isAggregateQuery(plan);
    const timingsMs: Record<string, number> = {};
    const columns: string[] = [];
    const rowsJoined = await this.withJoin(
      message.queryId,
      message.mode,
      plan,
      timingsMs,
      async (run, pairs, left, right) => {
        const start = performance.now();
        if (aggregate) {
          await this.aggregates(run.queryId, plan, left, right, pairs);
        } else {
          const refs = plan.select.filter((s) => s.kind === 'column');
          const joined = refs.map((ref) => this.joinedColumn(pairs, plan.tables[0].name, ref, left, right));
          await this.sendFeatures(run, joined);
          // (re)set: a query that B lost and A re-opened runs this again
          columns.splice(0, columns.length, ...joined.map((c) => c.meta.name));
        }
        timingsMs[aggregate ? 'aggregates' : 'features'] = performance.now() - start;
      },
    );
    return {
      type: 'query-result',
      queryId: message.queryId,
      kind: aggregate ? 'aggregate' : 'features',
      rowsJoined,
      columns,
      timingsMs,
    };
  }

  private validPlan(plan: Query): Query {
    const schemas = [...this.tables.values()].map((t) => {
      const data = t.meta.columns.map(({ name, type }) => ({ name, type }));
      const keys = t.meta.keyColumns.filter((k) => !data.some((c) => c.name === k.name));
      return { name: t.meta.table, columns: [...data, ...keys] };
    });
    return validateQuery(plan, schemas);
  }

  /**
   * Opens a query at B, joins the plan's tables in `mode`, runs `then` on the joined pairs,
   * and closes the query whatever happens. Returns the number of joined pairs. When B
   * answers that it does not hold the query open (it restarted and lost its in-memory
   * state), the whole query runs again under a fresh query id, at most MAX_REOPENS times:
   * B's partial state for the old id died with it, so no row is counted twice or lost.
   */
  private async withJoin(
    id: string,
    mode: 'hashed' | 'nested',
    plan: Query,
    timingsMs: Record<string, number>,
    then: (run: QueryRun, pairs: Pair[], left: StoredTable, right: StoredTable) => Promise<void>,
  ): Promise<number> {
    const left = this.table(plan.tables[0].name);
    const right = this.table(plan.tables[1].name);
    for (let attempt = 0; ; attempt++) {
      const queryId = `${id}#${++this.queries}`;
      // B requires the batches of a query in one sequence, whatever their kind
      let seq = 0;
      const run: QueryRun = { queryId, nextSeq: () => seq++ };
      try {
        await this.send({ type: 'query-open', queryId, mode, fingerprint: this.keyFingerprint });
        try {
          const start = performance.now();
          const pairs =
            mode === 'hashed'
              ? await this.hashedJoin(run, plan, left, right)
              : await this.nestedJoin(run, plan, left, right);
          timingsMs[`join (${mode})`] = performance.now() - start;
          await then(run, pairs, left, right);
          return pairs.length;
        } finally {
          await this.send({ type: 'query-close', queryId });
        }
      } catch (err) {
        const lost =
          err instanceof MalformedMessageError &&
          err.details.reason === QUERY_NOT_OPEN &&
          err.details.queryId === queryId;
        if (!lost || attempt >= MAX_REOPENS) throw err;
        this.reopened++;
      }
    }
  }

  /**
   * §4 step 4: the training features of each joined pair for B, guided by the global model:
   * the top-k features by |w| (weights act on standardised features, so magnitudes
   * compare), the label, and the encrypted global score E(sum_k v_k x_k), v_k = w_k / std_k,
   * which B checks against the features it decrypts. Feature set id: the query id at B.
   */
  private async extractFeatures(
    message: MessageOf<'extract-features'>,
  ): Promise<MessageOf<'features-ready'>> {
    const { global, standardization, topK, features, label } = message;
    const byWeight = features
      .map((_, k) => k)
      .sort((a, b) => Math.abs(global.weights[b]) - Math.abs(global.weights[a]));
    const keep = new Set(topK ? byWeight.slice(0, topK) : byWeight);
    const selected = features.filter((_, k) => keep.has(k));
    const select = [...features, label].map((c) => ({ kind: 'column' as const, ...c }));
    const plan = this.validPlan({ ...(message.plan as Query), select });
    let featureSetId = '';
    const rowsJoined = await this.withJoin(
      message.trainingId,
      message.mode,
      plan,
      {},
      async (run, pairs, left, right) => {
        featureSetId = run.queryId;
        const joined = features.map((ref) => this.joinedColumn(pairs, plan.tables[0].name, ref, left, right));
        const labelColumn = this.joinedColumn(pairs, plan.tables[0].name, label, left, right);
        const v = global.weights.map((w, k) => w / standardization.std[k]);
        const score = await this.weightedSums(joined, v, pairs.length);
        const scoreMeta: ColumnMeta = {
          name: GLOBAL_SCORE,
          type: 'decimal',
          fractionBits: 32 + SCORE_WEIGHT_BITS,
        };
        await this.sendFeatures(run, [
          ...joined.filter((_, k) => keep.has(k)),
          labelColumn,
          { meta: scoreMeta, values: score },
        ]);
      },
    );
    return {
      type: 'features-ready',
      featureSetId,
      rowsJoined,
      selected: selected.map((c) => `${c.table}.${c.column}`),
    };
  }

  /**
   * E(sum_k v_k x_k) per row for real weights v: E(x)^round(|v| 2^(SCORE_WEIGHT_BITS + 32 - F_x)), the
   * positive and negative terms multiplied separately and the negatives inverted once per
   * row, so every exponent stays short.
   */
  private async weightedSums(
    columns: { meta: ColumnMeta; values: bigint[] }[],
    v: number[],
    rows: number,
  ): Promise<bigint[]> {
    const { engine, publicKey } = this.options;
    let positive: bigint[] = new Array(rows).fill(1n); // 1 = E(0) with r = 1
    let negative: bigint[] = new Array(rows).fill(1n);
    for (const [k, { meta, values }] of columns.entries()) {
      // every term at 32 + SCORE_WEIGHT_BITS fraction bits, whatever the column's own scale
      const scale = BigInt(Math.round(Math.abs(v[k]) * 2 ** (SCORE_WEIGHT_BITS + 32 - meta.fractionBits)));
      if (scale === 0n || rows === 0) continue;
      const term = await engine.multiply(publicKey, values, scale);
      if (v[k] > 0) positive = await engine.add(publicKey, positive, term);
      else negative = await engine.add(publicKey, negative, term);
    }
    if (rows === 0) return [];
    return engine.add(publicKey, positive, await engine.inverse(publicKey, negative));
  }

  /** §3.1: indicators for every (left, right) pair, tile by tile, each tile shuffled. */
  private async nestedJoin(
    { queryId, nextSeq }: QueryRun,
    plan: Query,
    left: StoredTable,
    right: StoredTable,
  ): Promise<Pair[]> {
    const { engine, publicKey } = this.options;
    const leftKeys = plan.joinKeys.map((k) => this.nestedKey(left, k.left.column));
    const rightKeys = plan.joinKeys.map((k) => this.nestedKey(right, k.right.column));
    const rows = left.meta.rowCount;
    const cols = right.meta.rowCount;
    if (rows === 0 || cols === 0) return [];
    // E(b)^-1 once per right row and key column
    const inverses = await Promise.all(rightKeys.map((column) => engine.inverse(publicKey, column)));
    const rightInverse = Array.from({ length: cols }, (_, j) => inverses.map((column) => column[j]));
    const tileRows = Math.max(1, Math.floor(INDICATORS_PER_BATCH / cols));
    const pairs: Pair[] = [];
    for (let start = 0; start < rows; start += tileRows) {
      const end = Math.min(rows, start + tileRows);
      const leftRows = Array.from({ length: end - start }, (_, i) =>
        leftKeys.map((column) => column[start + i]),
      );
      const indicators = await engine.joinIndicators(publicKey, leftRows, rightInverse);
      const perm = randomPermutation(indicators.length);
      const reply = expectType(
        await this.send({
          type: 'indicator-batch',
          queryId,
          seq: nextSeq(),
          ...this.batch(applyPermutation(indicators, perm)),
        }),
        'indicator-bits',
      );
      if (reply.bits.length !== indicators.length)
        throw new MalformedMessageError('indicator-bits: wrong count');
      const bits = undoPermutation(
        Array.from(reply.bits, (b) => b === 1),
        perm,
      );
      pairs.push(...pairsFromBits(bits, start, cols));
      this.onProgress?.('join', end * cols, rows * cols);
    }
    return pairs;
  }

  /** §3.2: masked tags E(t + s) of both tables, each side shuffled, grouped by B. */
  private async hashedJoin(
    { queryId, nextSeq }: QueryRun,
    plan: Query,
    left: StoredTable,
    right: StoredTable,
  ): Promise<Pair[]> {
    const { engine, publicKey } = this.options;
    const leftTags = this.tagColumn(
      left,
      plan.joinKeys.map((k) => k.left.column),
    );
    const rightTags = this.tagColumn(
      right,
      plan.joinKeys.map((k) => k.right.column),
    );
    const rows = left.meta.rowCount;
    const cols = right.meta.rowCount;
    if (rows === 0 || cols === 0) return [];
    // one fresh mask s per query: B sees t + s, never t
    const [maskCipher] = await engine.encrypt(publicKey, [randomBelow(publicKey.n)]);
    const masked = await engine.add(
      publicKey,
      [...leftTags, ...rightTags],
      new Array(rows + cols).fill(maskCipher),
    );
    const permLeft = randomPermutation(rows);
    const permRight = randomPermutation(cols);
    const shuffled = [
      ...applyPermutation(masked.slice(0, rows), permLeft),
      ...applyPermutation(masked.slice(rows), permRight),
    ];
    const reply = expectType(
      await this.send({
        type: 'tag-batch',
        queryId,
        seq: nextSeq(),
        sideCounts: [rows, cols],
        ...this.batch(shuffled),
      }),
      'tag-groups',
    );
    if (reply.groups.length !== rows + cols) throw new MalformedMessageError('tag-groups: wrong count');
    const groupsLeft = undoPermutation(reply.groups.subarray(0, rows), permLeft);
    const groupsRight = undoPermutation(reply.groups.subarray(rows), permRight);
    this.onProgress?.('join', rows + cols, rows + cols);
    return pairsFromGroups(groupsLeft, groupsRight);
  }

  /** The canonical nested-loop key ciphertexts an owner made for `column`. */
  private nestedKey(table: StoredTable, column: string): bigint[] {
    const key = table.meta.nestedKeys.find((k) => k.column === column);
    if (!key) {
      throw new QueryError(
        `table ${table.meta.table} has no join key on ${column}: its owner must encrypt with that key`,
        { part: 'join key' },
      );
    }
    return this.unpacked(table, `nested:${column}`, key.data);
  }

  /** The hashed tags an owner made for exactly these key columns, in this order. */
  private tagColumn(table: StoredTable, columns: string[]): bigint[] {
    const tag = table.meta.tags.find((t) => t.columns.join('\u0000') === columns.join('\u0000'));
    if (!tag) {
      throw new QueryError(
        `table ${table.meta.table} has no hashed join tag for (${columns.join(', ')}): its owner must encrypt with that key, or use mode nested`,
        { part: 'join key' },
      );
    }
    return this.unpacked(table, `tag:${columns.join('\u0000')}`, tag.data);
  }

  private batch(values: readonly bigint[]): {
    fingerprint: string;
    count: number;
    words: number;
    data: Uint32Array;
  } {
    const words = wordsFor(this.options.publicKey.n ** 2n);
    return { fingerprint: this.keyFingerprint, count: values.length, words, data: pack(values, words).data };
  }

  /** Column `column` of the joined rows: left row i or right row j of each pair. */
  private joinedColumn(
    pairs: Pair[],
    leftTable: string,
    ref: { table: string; column: string },
    left: StoredTable,
    right: StoredTable,
  ) {
    const onLeft = ref.table === leftTable;
    const source = onLeft ? left : right;
    const values = this.ciphertexts(source, ref.column);
    // qualified names: B maps them to the model's feature order
    const meta = { ...this.columnMeta(source, ref.column), name: `${ref.table}.${ref.column}` };
    return { meta, values: pairs.map(([i, j]) => values[onLeft ? i : j]) };
  }

  /** SUM / AVG totals over the join, homomorphically; B decrypts totals only (COUNT is the group size). */
  private async aggregates(
    queryId: string,
    plan: Query,
    left: StoredTable,
    right: StoredTable,
    pairs: Pair[],
  ) {
    const { engine, publicKey } = this.options;
    const items: { label: string; column: ColumnMeta }[] = [];
    const summed: bigint[][] = [];
    for (const [index, item] of plan.select.entries()) {
      if (item.kind === 'count' || item.kind === 'column') continue;
      const column = this.joinedColumn(pairs, plan.tables[0].name, item, left, right);
      if (column.meta.type === 'string') {
        throw new QueryError(`${item.kind.toUpperCase()}(${item.column}): a string column cannot be summed`, {
          part: 'aggregate',
        });
      }
      items.push({ label: String(index), column: column.meta });
      summed.push(column.values);
    }
    // every column summed in the same rounds: row r of the join is the vector of its items
    const rows = pairs.map((_, r) => summed.map((values) => values[r]));
    const totals = await sumVectors(engine, publicKey, rows, summed.length);
    this.onProgress?.('aggregate', items.length, items.length);
    await this.send({
      type: 'aggregate-request',
      queryId,
      groupSize: pairs.length,
      items,
      ...this.batch(totals),
    });
  }

  /** §4 step 4: joined columns, row by row, re-randomised and shuffled, to B in batches. */
  private async sendFeatures(
    { queryId, nextSeq }: QueryRun,
    columns: { meta: ColumnMeta; values: bigint[] }[],
  ) {
    const { engine, publicKey } = this.options;
    const rowCount = columns[0]?.values.length ?? 0;
    const perm = randomPermutation(rowCount);
    for (let start = 0; start < rowCount; start += FEATURE_ROWS_PER_BATCH) {
      const rows = perm.subarray(start, start + FEATURE_ROWS_PER_BATCH);
      const flat = Array.from(rows).flatMap((r) => columns.map((c) => c.values[r]));
      const fresh = await engine.rerandomize(publicKey, flat);
      await this.send({
        type: 'feature-batch',
        queryId,
        seq: nextSeq(),
        columns: columns.map((c) => c.meta),
        ...this.batch(fresh),
      });
      this.onProgress?.('features', start + rows.length, rowCount);
    }
  }
}

/** One table from its owners' partitions: same schema and keys required, rows concatenated. */
function concatenatePartitions(parts: MessageOf<'encrypted-table'>[]): MessageOf<'encrypted-table'> {
  const [first] = parts;
  if (parts.length === 1) return first;
  const shape = (p: MessageOf<'encrypted-table'>) =>
    JSON.stringify([
      p.columns,
      p.keyColumns,
      p.tags.map((t) => t.columns),
      p.nestedKeys.map((k) => k.column),
    ]);
  for (const p of parts) {
    if (shape(p) !== shape(first)) {
      throw new MalformedMessageError(
        `table ${first.table}: the partition from ${p.owner} has another schema or keys`,
      );
    }
  }
  const concat = (pick: (p: MessageOf<'encrypted-table'>) => Uint32Array) => {
    const out = new Uint32Array(parts.reduce((n, p) => n + pick(p).length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(pick(p), offset);
      offset += pick(p).length;
    }
    return out;
  };
  return {
    ...first,
    owner: parts.map((p) => p.owner).join('+'),
    rowCount: parts.reduce((n, p) => n + p.rowCount, 0),
    columnData: first.columnData.map((_, k) => concat((p) => p.columnData[k])),
    tags: first.tags.map((t, k) => ({ columns: t.columns, data: concat((p) => p.tags[k].data) })),
    nestedKeys: first.nestedKeys.map((key, k) => ({
      ...key,
      data: concat((p) => p.nestedKeys[k].data),
    })),
  };
}
