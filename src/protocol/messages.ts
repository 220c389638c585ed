// Every message the roles exchange (DESIGN §1, §3), as zod schemas: a role validates each
// message at receipt (parseMessage) and never trusts a field it did not validate.
// Ciphertext batches are packed u32 words (`data`, `words` per value) under a key
// `fingerprint`: Paillier ciphertexts under B's Paillier key, or the hashed join's
// ristretto255 ElGamal tags (16 words: R || C) under B's EC key. No message to server B
// carries a row identity.
import { z } from 'zod';
import { EC_CIPHERTEXT_WORDS } from '../ec/sizes.js';
import { MalformedMessageError } from '../errors.js';
import { columnRefSchema, queryPlanSchema } from '../query/plan.js';

const id = z.string().min(1).max(128);
const fingerprint = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();
const words = z.number().int().positive().max(512);
const packed = z.custom<Uint32Array>((v) => v instanceof Uint32Array, 'expected a packed Uint32Array');
const columnType = z.enum(['integer', 'decimal', 'string']);
export const joinModes = ['hashed', 'nested'] as const;
export type JoinMode = (typeof joinModes)[number];
/** Words of one EC ElGamal tag: R || C, two 32-byte ristretto255 encodings. */
export const TAG_WORDS = EC_CIPHERTEXT_WORDS;
/** Most tags in one tag-batch (§3.2: A sends them in bounded batches). */
export const TAG_BATCH_MAX_ROWS = 4096;
/** In tag-groups: the row's key is in one table only, so B answers no group for it. */
export const NO_GROUP = 0xffffffff;
const ecPublicKey = z.object({
  /** Y, the 32-byte ristretto255 encoding, hex */
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  /** SHA-256 of Y's encoding, hex */
  fingerprint,
});

export const columnMeta = z.object({
  name: z.string().min(1).max(128),
  type: columnType,
  /** fixed-point fraction bits for decimals (DESIGN §2); 0 for integers and strings */
  fractionBits: z.number().int().min(0).max(64),
});
export type ColumnMeta = z.infer<typeof columnMeta>;

const columnRef = columnRefSchema;
const queryPlan = queryPlanSchema;

/** A batch of ciphertexts: count values of `words` words each, under `fingerprint`. */
const batch = { fingerprint, count, words, data: packed };

const weights = z.object({ weights: z.array(z.number()), bias: z.number() });
/** Pooled per-feature standardisation (DESIGN §4: owners' statistics for their own columns). */
const standardization = z.object({ mean: z.array(z.number()), std: z.array(z.number().positive()) });
const dpRequest = z.object({ epsilon: z.number().positive(), delta: z.number().positive().lt(1) });
const contribution = z.object({
  type: z.literal('contribution'),
  trainingId: id,
  round: count,
  nonce: z.string().regex(/^[0-9a-f]{32,128}$/),
  owner: id,
  features: z.array(z.string()).min(1),
  /** which of the features, then the bias, the contributor trained: B counts contributors with it */
  present: z.array(z.boolean()).min(2),
  signature: z.string().min(1).max(512),
  fingerprint,
  count,
  words,
  data: packed,
});
/** How server B fitted a round's model (src/fl/refine.ts FitReport); null for the owners' round 0. */
const fitReport = z
  .object({
    method: z.enum(['newton', 'dp-sgd']),
    l2: z.number().positive(),
    tolerance: z.number().positive().nullable(),
    iterations: count,
    gradientNorm: z.number().nonnegative().nullable(),
  })
  .nullable();

export const messageSchemas = {
  /**
   * B -> everyone: the Paillier public key and its fingerprint, and B's EC key of the
   * hashed join with its own (null: B's key file predates it, and B joins nested only).
   */
  'public-key': z.object({
    type: z.literal('public-key'),
    n: z.bigint().positive(),
    g: z.bigint().positive(),
    fingerprint,
    ec: ecPublicKey.nullable(),
  }),
  /** owner -> A: a table encrypted column by column, plus hashed join tags (§3.2). */
  'encrypted-table': z.object({
    type: z.literal('encrypted-table'),
    table: id,
    owner: id,
    fingerprint,
    rowCount: count,
    words,
    columns: z.array(columnMeta).max(1024),
    columnData: z.array(packed),
    /**
     * hashed-join tags, one per declared key (ordered column list): per row the ElGamal
     * ciphertext (rG, T + rY), TAG_WORDS words, under the B EC key with this fingerprint
     */
    tags: z.array(z.object({ columns: z.array(z.string().min(1)).min(1), fingerprint, data: packed })),
    /** nested-loop keys: one per declared key (ordered column list), each row's folded canonical key */
    nestedKeys: z.array(z.object({ columns: z.array(z.string().min(1)).min(1), data: packed })),
    /** the declared key columns and their types: joinable even when not encrypted as data */
    keyColumns: z.array(z.object({ name: z.string().min(1), type: columnType })),
    /** other owners that may send partitions of this table (a horizontal split); fixed by the first partition */
    coOwners: z.array(id).max(64),
  }),
  /**
   * owner -> B (DESIGN §1.1): the shape of the owner's partition of a table, signed with
   * the owner's registered key: B decodes only with these types, never decrypts a key or
   * identifier column, and bounds every query by these row counts.
   */
  'table-registration': z.object({
    type: z.literal('table-registration'),
    table: id,
    owner: id,
    fingerprint,
    rowCount: count,
    columns: z
      .array(
        columnMeta.extend({
          /** value: may be aggregated or be a feature; key, identifier: never decrypted */
          role: z.enum(['value', 'key', 'identifier']),
          /** |value| <= bound, declared by the owner: a DP sum's sensitivity; null if undeclared */
          bound: z.number().positive().finite().nullable(),
        }),
      )
      .max(1024),
    /** the join keys the owner prepared, each an ordered column list */
    joinKeys: z.array(z.array(id).min(1).max(16)).max(64),
    /** other owners that may register partitions of this table; fixed by the first registration */
    coOwners: z.array(id).max(64),
    /** Ed25519 (base64) over the fields above (src/roles/server-b-registry.ts) */
    signature: z.string().min(1).max(512),
  }),
  /**
   * client -> B: the query the client will send A, or the training it will ask the
   * coordinator for. B authorizes it (tables registered, columns allowed, budget) and
   * from then on serves A only within what it needs.
   */
  'query-submit': z.object({
    type: z.literal('query-submit'),
    queryId: id,
    mode: z.enum(joinModes),
    plan: queryPlan,
    training: z
      .object({
        label: columnRef,
        rounds: z.number().int().min(1).max(100),
        dp: dpRequest.nullable(),
        topK: z.number().int().positive().nullable(),
      })
      .nullable(),
  }),
  /** client -> A: a parsed aggregate query, already submitted to B under the same id. */
  query: z.object({ type: z.literal('query'), queryId: id, mode: z.enum(joinModes), plan: queryPlan }),
  /** A -> client: the query ran (the answer itself comes from B). */
  'query-result': z.object({
    type: z.literal('query-result'),
    queryId: id,
    timingsMs: z.record(z.string(), z.number()),
  }),
  /** A -> B: a run of a submitted query starts; its batches must follow in sequence. */
  'query-open': z.object({
    type: z.literal('query-open'),
    queryId: id,
    mode: z.enum(joinModes),
    fingerprint,
  }),
  /** A -> B: its run of the query is over; client -> B: the client withdraws its query. */
  'query-close': z.object({ type: z.literal('query-close'), queryId: id }),
  /** A -> B: shuffled nested-loop indicators (§3.1). */
  'indicator-batch': z.object({ type: z.literal('indicator-batch'), queryId: id, seq: count, ...batch }),
  /** B -> A: one bit per indicator, 1 where it decrypts to zero. */
  'indicator-bits': z.object({ type: z.literal('indicator-bits'), queryId: id, seq: count, bits: packed }),
  /**
   * A -> B: up to TAG_BATCH_MAX_ROWS tags of one side (0: left table, 1: right), each
   * (alpha R + r'G, alpha C + r'Y) under B's EC key, the side in A's secret order (§3.2).
   * EC ciphertexts only: B never sees a Paillier ciphertext in hashed mode.
   */
  'tag-batch': z.object({
    type: z.literal('tag-batch'),
    queryId: id,
    seq: count,
    side: z.union([z.literal(0), z.literal(1)]),
    fingerprint,
    count: z.number().int().min(1).max(TAG_BATCH_MAX_ROWS),
    words: z.literal(TAG_WORDS),
    data: packed,
  }),
  /**
   * B -> A, after the last tag batch of both sides (each earlier one gets an ack): one word
   * per tag, left tags then right, in the order sent: equal keys share a group number, and
   * a tag whose group has no member on the other side gets NO_GROUP.
   */
  'tag-groups': z.object({ type: z.literal('tag-groups'), queryId: id, seq: count, groups: packed }),
  /**
   * A -> B: `rowCount` shuffled joined rows, slot-packed (§4 step 4, §2 "Packing": blocks of
   * rows in the layouts B derives itself, src/join/packing.ts), columns named table.column;
   * B decodes them with the owners' registered types.
   */
  'feature-batch': z.object({
    type: z.literal('feature-batch'),
    queryId: id,
    seq: count,
    columns: z.array(z.string().min(1).max(260)).min(1).max(1024),
    rowCount: count,
    ...batch,
  }),
  /** A -> B: the homomorphic total of each SUM / AVG item of the query, in select order. */
  'aggregate-request': z.object({
    type: z.literal('aggregate-request'),
    queryId: id,
    seq: count,
    ...batch,
  }),
  /**
   * B -> client: the answer. `count` is the join's row count and each total a fixed-point
   * integer (value = total / 2^fractionBits), one per SUM / AVG item in select order;
   * exact bigints, with discrete Gaussian noise when B's policy has DP on.
   */
  'aggregate-result': z.object({
    type: z.literal('aggregate-result'),
    queryId: id,
    count: z.bigint(),
    totals: z.array(z.object({ value: z.bigint(), fractionBits: z.number().int().min(0).max(64) })),
    /** the DP statement when B adds noise, else null */
    privacy: z.string().nullable(),
  }),
  /** owner -> B: the owner's Ed25519 public key (SPKI PEM), registered before training. */
  'owner-key': z.object({ type: z.literal('owner-key'), owner: id, publicKey: z.string().min(1).max(4096) }),
  /**
   * owner -> B: the owner takes part in one training, signed with its registered key
   * (src/fl/contribution.ts signEnrolment); B picks round participants from enrolments only.
   */
  enrol: z.object({
    type: z.literal('enrol'),
    trainingId: id,
    owner: id,
    signature: z.string().min(1).max(512),
  }),
  /** client -> coordinator: train a model over the join (issue 5). */
  train: z.object({
    type: z.literal('train'),
    trainingId: id,
    mode: z.enum(joinModes),
    plan: queryPlan,
    label: columnRef,
    rounds: z.number().int().min(1).max(100),
    dp: dpRequest.nullable(),
    topK: z.number().int().positive().nullable(),
  }),
  /** coordinator -> owner: the count, mean and M2 of the features it holds, for pooled standardisation. */
  'stats-request': z.object({
    type: z.literal('stats-request'),
    trainingId: id,
    features: z.array(columnRef),
  }),
  'column-stats': z.object({
    type: z.literal('column-stats'),
    stats: z.array(
      z.object({ feature: z.string(), count: count, mean: z.number(), m2: z.number().nonnegative() }),
    ),
  }),
  /**
   * coordinator -> B: a round starts; B answers with its nonce. The participants must be the
   * ones B decides (round 0: every enrolled owner; later rounds: server B alone).
   */
  'round-open': z.object({
    type: z.literal('round-open'),
    trainingId: id,
    round: count,
    participants: z.array(id).min(1),
    /** rounds of the whole training, fixed at round 0: B frees the training after the last */
    rounds: z.number().int().min(1).max(100),
  }),
  'round-nonce': z.object({
    type: z.literal('round-nonce'),
    trainingId: id,
    round: count,
    nonce: z.string(),
  }),
  /** coordinator -> owner: round 0, train on the owner's own rows and contribute. */
  'local-train': z.object({
    type: z.literal('local-train'),
    trainingId: id,
    round: count,
    nonce: z.string(),
    features: z.array(columnRef).min(1),
    label: columnRef,
    standardization,
  }),
  /** owner or B -> coordinator: encrypted, signed weights x samples (src/fl/contribution.ts). */
  contribution,
  /** coordinator -> A: extract the joined rows' features for B, guided by the global model (§4 step 4). */
  'extract-features': z.object({
    type: z.literal('extract-features'),
    trainingId: id,
    mode: z.enum(joinModes),
    plan: queryPlan,
    label: columnRef,
    features: z.array(columnRef).min(1),
    global: weights,
    standardization,
  }),
  /** A -> coordinator: where B holds the extracted feature set. */
  'features-ready': z.object({
    type: z.literal('features-ready'),
    featureSetId: id,
  }),
  /**
   * coordinator -> B: fit the model on the feature set from B's last released model (Newton
   * to tolerance, or DP-SGD) and contribute. The parameters are fixed by the first train-round.
   */
  'train-round': z.object({
    type: z.literal('train-round'),
    trainingId: id,
    round: count,
    nonce: z.string(),
    featureSetId: id,
    features: z.array(z.string()).min(1),
    label: z.string(),
    standardization,
    dp: dpRequest.nullable(),
    topK: z.number().int().positive().nullable(),
  }),
  /** coordinator -> B: the homomorphic aggregate and every signed contribution it came from. */
  'aggregate-weights': z.object({
    type: z.literal('aggregate-weights'),
    trainingId: id,
    round: count,
    features: z.array(z.string()).min(1),
    contributions: z.array(contribution),
    ...batch,
  }),
  /** B -> coordinator: the new global model (B decrypted only the aggregate). */
  'global-model': z.object({
    type: z.literal('global-model'),
    trainingId: id,
    round: count,
    weights,
    epsilonSpent: z.number().nonnegative(),
    /** B's log-loss of the model on the joined rows; null in round 0 and with DP */
    lossOnJoined: z.number().nullable(),
    /** coordinates (features, 'bias') too few owners contributed: they kept their previous value */
    withheld: z.array(z.string()),
    /** the top-k features B fits from the next round on; null: every feature */
    selected: z.array(z.string()).nullable(),
    fit: fitReport,
    /** the joined rows B trained on; null in round 0, and with DP (an exact count never leaves B then) */
    rowsJoined: count.nullable(),
  }),
  /** coordinator -> client: the final model and the report. */
  'train-result': z.object({
    type: z.literal('train-result'),
    trainingId: id,
    features: z.array(z.string()),
    weights,
    standardization,
    rounds: count,
    /** null with DP: an exact count never leaves B then */
    rowsJoined: count.nullable(),
    epsilon: z.number().nonnegative().nullable(),
    delta: z.number().nullable(),
    lossPerRound: z.array(z.number().nullable()),
    /** per round, the coordinates B withheld (global-model.withheld) */
    withheldPerRound: z.array(z.array(z.string())),
    /** the top-k features of the final model (the others weigh 0); null without TOPK */
    selected: z.array(z.string()).nullable(),
    /** how B fitted the final model; null when only the owners' round 0 ran */
    fit: fitReport,
    timingsMs: z.record(z.string(), z.number()),
  }),
  /** Any role -> requester: done, nothing to return. */
  ack: z.object({ type: z.literal('ack') }),
  /** Any role -> requester: the request failed; a typed error record. */
  error: z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  }),
} as const;

export type MessageType = keyof typeof messageSchemas;
export type MessageOf<T extends MessageType> = z.infer<(typeof messageSchemas)[T]>;
export type Message = { [T in MessageType]: MessageOf<T> }[MessageType];

/** Validates a decoded message against its type's schema. */
export function parseMessage(value: unknown): Message {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !(type in messageSchemas)) {
    throw new MalformedMessageError(`message: unknown type ${JSON.stringify(type)?.slice(0, 40)}`);
  }
  const result = messageSchemas[type as MessageType].safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedMessageError(`${type}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      type,
    });
  }
  return result.data as Message;
}

/** Narrows a message to the expected type, or rejects it as out of order. */
export function expectType<T extends MessageType>(message: Message, type: T): MessageOf<T> {
  if (message.type !== type) {
    throw new MalformedMessageError(`expected a ${type} message, got ${message.type}`, {
      expected: type,
      got: message.type,
    });
  }
  return message as MessageOf<T>;
}
