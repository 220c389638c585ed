// The configuration of one role process (issue 6): a JSON file (--config, or the path in
// $FEDJOIN_CONFIG) plus environment overrides, validated with zod. Relative paths in the
// file resolve against the file's directory, so a config and the files it names can be
// copied together. Secrets never live here: B's passphrase comes from $FEDJOIN_PASSPHRASE
// (or a prompt), and the file only names the key file, the credentials directory and the
// owners' join secret file.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';
import { isRoleName } from '../http/identity.js';

export const CONFIG_ENV = 'FEDJOIN_CONFIG';

const engineSchema = z
  .object({
    backend: z.enum(['wasm', 'bigint']).optional(),
    workers: z.number().int().min(0).max(256).optional(),
    encryption: z.enum(['standard', 'djn', 'pool']).optional(),
    /** Run the engine's tasks on `fedjoin worker` processes through Redis (DESIGN §7, docs/DEPLOYMENT.md). */
    queue: z
      .object({
        redis: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
        /** Whose queue (default: the config's role). */
        role: z.enum(['server-a', 'server-b']),
        caFile: z.string().min(1).optional(),
        secretFile: z.string().min(1).optional(),
        parallelism: z.number().int().min(1).max(1_000_000).optional(),
        attempts: z.number().int().min(1).max(20).optional(),
        lockDurationMs: z.number().int().min(100).optional(),
        stalledIntervalMs: z.number().int().min(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const tableSchema = z
  .object({
    /** The owner's plaintext CSV file. */
    csv: z.string().min(1),
    /** Table name at A (default: the file name without extension). */
    name: z.string().min(1).max(64).optional(),
    /** Columns to encrypt as values (default: every column that is neither a join key nor an identifier). */
    columns: z.array(z.string().min(1)).optional(),
    /** Columns that identify a person or row: registered with B as never decryptable (DESIGN §1.1). */
    identifiers: z.array(z.string().min(1)).default([]),
    /** |value| <= bound per column: a DP sum's sensitivity; a SUM over a column without one is refused under DP. */
    bounds: z.record(z.string(), z.number().positive().finite()).default({}),
    /** The other owners holding partitions of this table (a horizontal split); only they may add one. */
    coOwners: z.array(z.string().min(1)).default([]),
    /** Join keys, each an ordered column list, e.g. [["id"]]. */
    joinKeys: z.array(z.array(z.string().min(1)).min(1)).default([]),
    /** Join modes to prepare the keys for (default both). */
    joinModes: z
      .array(z.enum(['hashed', 'nested']))
      .min(1)
      .optional(),
    /** Explicit column types (default: inferred from the CSV). */
    schema: z.record(z.string(), z.enum(['integer', 'decimal', 'string'])).optional(),
  })
  .strict();

export const roleConfigSchema = z
  .object({
    /** The role this file is for; checked against `serve <role>` when given. */
    role: z.string().optional(),
    listen: z
      .object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535).optional(),
      })
      .strict()
      .default({}),
    /** Directory holding ca.crt and this role's <role>.crt / <role>.key (from `fedjoin init`). */
    credentials: z.string().min(1),
    /** role -> https://host:port of every peer this role sends to. */
    peers: z.record(z.string(), z.string().url()).default({}),
    /** Roles allowed to call this one (exact names or 'owner:*'); default: per role, see serve.ts. */
    allowedPeers: z.array(z.string().min(1)).optional(),
    /** B's public key: a `.pub.json` from `fedjoin keygen`, or the key file itself (clear part only). */
    publicKey: z.string().min(1).optional(),
    engine: engineSchema.default({}),
    transport: z
      .object({
        timeoutMs: z.number().int().positive().optional(),
        retries: z.number().int().min(0).max(20).optional(),
        retryDelayMs: z.number().int().min(1).optional(),
        maxRetryDelayMs: z.number().int().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Largest request body accepted, bytes (default 256 MiB). */
    bodyLimitBytes: z.number().int().positive().optional(),
    /** Log one JSON line per message received (type, query id, seq: never contents). */
    logMessages: z.boolean().default(false),
    /** server-b: the sealed key file from `fedjoin keygen`. */
    keyFile: z.string().min(1).optional(),
    /** server-b: its policy (DESIGN §1.1; docs/DEPLOYMENT.md "B's policy"). */
    policy: z
      .object({
        /** aggregates over fewer joined rows are refused (default 10) */
        minGroupSize: z.number().int().min(1).optional(),
        /** differential privacy on every release: on by default when served; false: exact answers */
        privacy: z
          .union([
            z.literal(false),
            z
              .object({
                epsilonCap: z.number().positive().finite(),
                delta: z.number().positive().lt(1),
                aggregateEpsilon: z.number().positive().finite(),
                maxAborts: z.number().int().min(0),
              })
              .partial()
              .strict(),
          ])
          .optional(),
        /** runs A may open for one query (a run is repeated when B restarts; default 4) */
        maxRuns: z.number().int().min(1).max(64).optional(),
        minOwners: z.number().int().min(1).optional(),
        minContributors: z.number().int().min(1).optional(),
        requireDp: z.boolean().optional(),
        trainingIdleMs: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    /** server-b: where it keeps registrations, the privacy ledger and authorized queries (default: <keyFile>.state.json). */
    stateFile: z.string().min(1).optional(),
    /**
     * Tests and demos only: accept keys under 2048 bits and scrypt cost under 2^15 for a
     * served B, which refuses them otherwise. Logged loudly at start-up.
     */
    insecureForTests: z.boolean().default(false),
    /** coordinator: the owners enrolled in training. */
    owners: z.array(z.string().min(1)).default([]),
    /** owners: the file holding the owners' shared join secret K (hex; A and B never get it). */
    joinSecretFile: z.string().min(1).optional(),
    /** owners: the tables to encrypt and hand to A. */
    tables: z.array(tableSchema).default([]),
    /** owners: take part in training with this table (serve then keeps running). */
    training: tableSchema.optional(),
    /** owners, demos only: also send a table of this many rows (own ciphertexts repeated) and time it. */
    throughputProbeRows: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict();

export type RoleConfig = z.infer<typeof roleConfigSchema>;
export type TableConfig = z.infer<typeof tableSchema>;
/** What a config file or a caller writes: defaults not yet filled in. */
export type RoleConfigInput = z.input<typeof roleConfigSchema>;
export type TableConfigInput = z.input<typeof tableSchema>;

/** A table's config with its defaults filled in (for tables given on the command line). */
export function tableConfig(input: TableConfigInput): TableConfig {
  return tableSchema.parse(input);
}

/** Reads, merges with the environment, validates and resolves a role's config. */
export async function loadRoleConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ config: RoleConfig; path: string }> {
  const file = path ?? env[CONFIG_ENV];
  if (!file) {
    throw new InvalidArgumentError(`config: pass --config <file> or set ${CONFIG_ENV}`);
  }
  const absolute = resolve(file);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(absolute, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InvalidArgumentError(`config ${file}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`);
  }
  const merged = applyEnv(raw, env);
  const parsed = roleConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidArgumentError(`config ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const config = parsed.data;
  for (const role of Object.keys(config.peers)) {
    if (!isRoleName(role)) throw new InvalidArgumentError(`config ${file}: peers: bad role name ${role}`);
  }
  const base = dirname(absolute);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const table = (t: TableConfig): TableConfig => ({ ...t, csv: at(t.csv) });
  const { queue } = config.engine;
  return {
    path: absolute,
    config: {
      ...config,
      credentials: at(config.credentials),
      ...(queue
        ? {
            engine: {
              ...config.engine,
              queue: {
                ...queue,
                ...(queue.caFile ? { caFile: at(queue.caFile) } : {}),
                ...(queue.secretFile ? { secretFile: at(queue.secretFile) } : {}),
              },
            },
          }
        : {}),
      ...(config.publicKey ? { publicKey: at(config.publicKey) } : {}),
      ...(config.keyFile ? { keyFile: at(config.keyFile) } : {}),
      ...(config.stateFile ? { stateFile: at(config.stateFile) } : {}),
      ...(config.joinSecretFile ? { joinSecretFile: at(config.joinSecretFile) } : {}),
      tables: config.tables.map(table),
      ...(config.training ? { training: table(config.training) } : {}),
    },
  };
}

/**
 * The engine's job queue (DESIGN §7) from FEDJOIN_REDIS_URL, FEDJOIN_REDIS_CA and
 * FEDJOIN_QUEUE_SECRET_FILE over the file's engine.queue; its role defaults to the config's.
 */
function applyQueueEnv(out: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  const engine = { ...((out.engine as Record<string, unknown> | undefined) ?? {}) };
  if (!engine.queue && !env.FEDJOIN_REDIS_URL) return;
  const queue = { ...((engine.queue as Record<string, unknown> | undefined) ?? {}) };
  if (env.FEDJOIN_REDIS_URL) queue.redis = env.FEDJOIN_REDIS_URL;
  if (env.FEDJOIN_REDIS_CA) queue.caFile = env.FEDJOIN_REDIS_CA;
  if (env.FEDJOIN_QUEUE_SECRET_FILE) queue.secretFile = env.FEDJOIN_QUEUE_SECRET_FILE;
  if (queue.role === undefined && typeof out.role === 'string') queue.role = out.role;
  out.engine = { ...engine, queue };
}

/**
 * Environment overrides (they win over the file): FEDJOIN_LISTEN_HOST, FEDJOIN_LISTEN_PORT,
 * FEDJOIN_CREDENTIALS, FEDJOIN_KEY_FILE, FEDJOIN_PUBLIC_KEY, and FEDJOIN_PEERS (a JSON
 * object role -> URL merged over the file's peers).
 */
function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const listen = { ...((out.listen as Record<string, unknown> | undefined) ?? {}) };
  if (env.FEDJOIN_LISTEN_HOST) listen.host = env.FEDJOIN_LISTEN_HOST;
  if (env.FEDJOIN_LISTEN_PORT) {
    if (!/^\d+$/.test(env.FEDJOIN_LISTEN_PORT))
      throw new InvalidArgumentError('FEDJOIN_LISTEN_PORT: expected a port number');
    listen.port = Number(env.FEDJOIN_LISTEN_PORT);
  }
  out.listen = listen;
  if (env.FEDJOIN_CREDENTIALS) out.credentials = env.FEDJOIN_CREDENTIALS;
  if (env.FEDJOIN_KEY_FILE) out.keyFile = env.FEDJOIN_KEY_FILE;
  if (env.FEDJOIN_PUBLIC_KEY) out.publicKey = env.FEDJOIN_PUBLIC_KEY;
  applyQueueEnv(out, env);
  if (env.FEDJOIN_PEERS) {
    let peers: unknown;
    try {
      peers = JSON.parse(env.FEDJOIN_PEERS);
    } catch {
      throw new InvalidArgumentError('FEDJOIN_PEERS: expected a JSON object role -> URL');
    }
    out.peers = { ...((out.peers as Record<string, unknown> | undefined) ?? {}), ...(peers as object) };
  }
  return out;
}
