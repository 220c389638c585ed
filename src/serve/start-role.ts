// Starts one role as its own process (issue 6): `fedjoin serve <role>` and the one-shot
// commands (`encrypt`, `query`) build the role from its config on an HttpTransport with its
// own certificate, and serve it over mutual TLS. The roles are the same classes the
// in-process federation wires (src/roles/); only the transport differs.
import { loadCsv } from '../data/csv.js';
import type { Table } from '../data/table.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { fingerprint } from '../engine/keys.js';
import { bitLength } from '../engine/limbs.js';
import { InvalidArgumentError, KeystoreError } from '../errors.js';
import { loadCredentials } from '../http/ca.js';
import { isRoleName } from '../http/identity.js';
import { ObservedTransport, type ReceivedSummary } from '../http/observed-transport.js';
import type { RoleServer } from '../http/server.js';
import { HttpTransport } from '../http/transport.js';
import { loadKey, readKeyInfo } from '../keystore/index.js';
import { allowedCallers } from '../protocol/authorization.js';
import { encodeMessage } from '../protocol/codec.js';
import type { MessageOf } from '../protocol/messages.js';
import type { Transport } from '../protocol/transport.js';
import { Client } from '../roles/client.js';
import { Coordinator } from '../roles/coordinator.js';
import { DataOwner } from '../roles/data-owner.js';
import { ROLES } from '../roles/names.js';
import { ServerA } from '../roles/server-a.js';
import { DEFAULT_PRIVACY, ServerB, type ServerBPolicy } from '../roles/server-b.js';
import type { RoleConfig, TableConfig } from './config.js';
import { loadJoinSecret, loadPublicKey, obtainPassphrase } from './files.js';
import type { Log } from './log.js';

/** The roles `serve` accepts. */
export function checkServeRole(role: string): void {
  const ok =
    ([ROLES.serverA, ROLES.serverB, ROLES.client, ROLES.coordinator] as string[]).includes(role) ||
    (role.startsWith('owner:') && isRoleName(role));
  if (!ok) {
    throw new InvalidArgumentError(
      `role: expected server-a, server-b, client, coordinator or owner:<name>, got ${JSON.stringify(role).slice(0, 80)}`,
    );
  }
}

export interface RoleContext {
  role: string;
  config: RoleConfig;
  http: HttpTransport;
  transport: Transport;
  engine?: Engine;
  server?: RoleServer;
  close(): Promise<void>;
}

/** The smallest key and scrypt cost a served B accepts (tests may lower them: insecureForTests). */
const SERVED_MIN_KEY_BITS = 2048;
const SERVED_MIN_SCRYPT_N = 2 ** 15;

async function context(role: string, config: RoleConfig, log: Log): Promise<RoleContext> {
  const http = new HttpTransport({
    role,
    peers: config.peers,
    tls: await loadCredentials(config.credentials, role),
    ...config.transport,
  });
  const onReceive = config.logMessages
    ? (summary: ReceivedSummary) => log('message', { ...summary })
    : undefined;
  const transport = new ObservedTransport(http, onReceive);
  const ctx: RoleContext = {
    role,
    config,
    http,
    transport,
    close: async () => {
      await http.close();
      await ctx.engine?.close();
    },
  };
  return ctx;
}

async function engineFor(config: RoleConfig): Promise<Engine> {
  return createEngine({ ...config.engine });
}

async function publicKeyOf(config: RoleConfig, role: string) {
  if (!config.publicKey) throw new InvalidArgumentError(`config: ${role} needs publicKey (B's .pub.json)`);
  return loadPublicKey(config.publicKey);
}

async function listen(ctx: RoleContext, log: Log): Promise<RoleServer> {
  const { config, role } = ctx;
  ctx.server = await ctx.http.serve({
    host: config.listen.host ?? '127.0.0.1',
    port: config.listen.port ?? 0,
    // by default every role that may send the role any message (src/protocol/authorization.ts)
    allowedPeers: config.allowedPeers ?? allowedCallers(role),
    ...(config.bodyLimitBytes ? { bodyLimitBytes: config.bodyLimitBytes } : {}),
    onInternalError: (err) => log('internal-error', { name: (err as Error)?.name ?? 'Error' }),
  });
  log('listening', { url: ctx.server.url, port: ctx.server.port, pid: process.pid });
  return ctx.server;
}

/**
 * Server B: opens its sealed key (passphrase from the environment or a prompt), checks the
 * safe minimums a served B keeps (DESIGN §1.1: a 2048-bit key or more, scrypt cost 2^15 or
 * more, the constant-time WASM backend), and serves with its policy (DP on unless the
 * config turns it off), its state file and a local log of what it refuses and why.
 */
export async function startServerB(config: RoleConfig, log: Log): Promise<RoleContext> {
  if (!config.keyFile) throw new InvalidArgumentError('config: server-b needs keyFile');
  if (config.engine.backend === 'bigint') {
    throw new InvalidArgumentError(
      'config: a served server-b runs the wasm backend only (the bigint reference is not constant time)',
    );
  }
  const info = await readKeyInfo(config.keyFile);
  const secret = await obtainPassphrase(`passphrase for ${config.keyFile}: `);
  const keys = await loadKey(config.keyFile, secret);
  const bits = bitLength(keys.publicKey.n);
  if (config.insecureForTests) log('insecure-for-tests', { keyBits: bits, scryptN: info.kdf.N });
  else if (bits < SERVED_MIN_KEY_BITS || info.kdf.N < SERVED_MIN_SCRYPT_N) {
    throw new KeystoreError(
      `${config.keyFile}: a served server-b needs a key of ${SERVED_MIN_KEY_BITS} bits or more (this one has ${bits}) ` +
        `sealed with scrypt N >= 2^15 (this one: N = ${info.kdf.N}); make one with fedjoin keygen`,
    );
  }
  const ctx = await context(ROLES.serverB, config, log);
  ctx.engine = await engineFor(config);
  const policy = servedPolicy(config.policy);
  new ServerB({
    engine: ctx.engine,
    transport: ctx.transport,
    keys,
    policy,
    stateFile: config.stateFile ?? `${config.keyFile}.state.json`,
    log: (event, fields) => log(`b-${event}`, fields),
  });
  log('key', { fingerprint: fingerprint(keys.publicKey.n) });
  log('policy', { ...policy, privacy: policy.privacy ?? false });
  await listen(ctx, log);
  return ctx;
}

/** A served B's policy: the config over the defaults, with DP on unless turned off. */
export function servedPolicy(p: RoleConfig['policy']): Partial<ServerBPolicy> {
  const { privacy, ...rest } = p;
  return { ...rest, privacy: privacy === false ? null : { ...DEFAULT_PRIVACY, ...privacy } };
}

export async function startServerA(config: RoleConfig, log: Log): Promise<RoleContext> {
  const publicKey = await publicKeyOf(config, ROLES.serverA);
  const ctx = await context(ROLES.serverA, config, log);
  ctx.engine = await engineFor(config);
  new ServerA({ engine: ctx.engine, transport: ctx.transport, publicKey });
  log('key', { fingerprint: fingerprint(publicKey.n) });
  await listen(ctx, log);
  return ctx;
}

export async function startCoordinator(config: RoleConfig, log: Log): Promise<RoleContext> {
  const publicKey = await publicKeyOf(config, ROLES.coordinator);
  const ctx = await context(ROLES.coordinator, config, log);
  ctx.engine = await engineFor(config);
  const coordinator = new Coordinator({ engine: ctx.engine, transport: ctx.transport, publicKey });
  for (const owner of config.owners) coordinator.addOwner(owner);
  log('key', { fingerprint: fingerprint(publicKey.n) });
  log('owners', { owners: config.owners });
  await listen(ctx, log);
  return ctx;
}

// ---- client

export interface ClientContext extends RoleContext {
  client: Client;
}

/** The client with its endpoint up (B sends it aggregate answers while a query runs). */
export async function openClient(config: RoleConfig, log: Log): Promise<ClientContext> {
  const ctx = await context(ROLES.client, config, log);
  const client = new Client({ transport: ctx.transport });
  await listen(ctx, log);
  return { ...ctx, client };
}

// ---- owners

export interface ShareRecord {
  owner: string;
  table: string;
  rows: number;
  columns: string[];
  joinKeys: string[][];
  joinModes: string[];
  ciphertexts: number;
  encryptMs: number;
  /** Posting the encrypted table to A: encode, TLS, A's decode + checks + store, reply. */
  sendMs: number;
  bytes: number;
  megabytesPerSecond: number;
}

export interface OwnerContext extends RoleContext {
  name: string;
  owner: DataOwner;
  share(table: TableConfig): Promise<ShareRecord>;
  /** Sends a `rows`-row copy of `message` (its ciphertexts repeated) as <table>_probe and times it. */
  probe(message: MessageOf<'encrypted-table'>, rows: number): Promise<ShareRecord>;
  lastMessage?: MessageOf<'encrypted-table'>;
}

export function loadTable(table: Pick<TableConfig, 'csv' | 'name' | 'schema'>): Table {
  return loadCsv(table.csv, {
    ...(table.name ? { name: table.name } : {}),
    ...(table.schema ? { schema: table.schema } : {}),
  });
}

export async function openOwner(role: string, config: RoleConfig, log: Log): Promise<OwnerContext> {
  const name = role.slice('owner:'.length);
  const publicKey = await publicKeyOf(config, role);
  if (!config.joinSecretFile) throw new InvalidArgumentError(`config: ${role} needs joinSecretFile`);
  const joinSecret = await loadJoinSecret(config.joinSecretFile);
  const base = await context(role, config, log);
  base.engine = await engineFor(config);
  const owner = new DataOwner({
    name,
    engine: base.engine,
    transport: base.transport,
    publicKey,
    joinSecret,
  });
  const send = async (
    message: MessageOf<'encrypted-table'>,
    meta: Omit<ShareRecord, 'sendMs' | 'bytes' | 'megabytesPerSecond'>,
  ): Promise<ShareRecord> => {
    const bytes = encodeMessage(message).byteLength;
    const start = performance.now();
    await base.http.request(role, ROLES.serverA, message);
    const sendMs = performance.now() - start;
    const record = { ...meta, sendMs, bytes, megabytesPerSecond: bytes / 1e6 / (sendMs / 1000) };
    log('shared', { ...record });
    return record;
  };
  const ctx: OwnerContext = {
    ...base,
    name,
    owner,
    share: async (tableConfig) => {
      const table = loadTable(tableConfig);
      const { joinKeys, identifiers, bounds, coOwners } = tableConfig;
      const notValues = new Set([...joinKeys.flat(), ...identifiers]);
      const columns = tableConfig.columns ?? table.columnNames.filter((c) => !notValues.has(c));
      const joinModes = tableConfig.joinModes ?? ['hashed', 'nested'];
      const options = { columns, joinKeys, joinModes, identifiers, bounds, coOwners };
      const start = performance.now();
      const message = await owner.encryptTable(table, options);
      const encryptMs = performance.now() - start;
      ctx.lastMessage = message;
      // B learns the table's shape (signed) before A gets its ciphertexts
      await owner.register(owner.registration(table, message, options));
      return send(message, {
        owner: name,
        table: table.name,
        rows: table.rowCount,
        columns,
        joinKeys,
        joinModes,
        ciphertexts:
          table.rowCount * (message.columns.length + message.tags.length + message.nestedKeys.length),
        encryptMs,
      });
    },
    probe: async (message, rows) => {
      const repeat = (data: Uint32Array) => {
        const words = data.length / message.rowCount; // EC tags have their own stride
        const out = new Uint32Array(rows * words);
        for (let r = 0; r < rows; r++) {
          const from = (r % message.rowCount) * words;
          out.set(data.subarray(from, from + words), r * words);
        }
        return out;
      };
      const copy: MessageOf<'encrypted-table'> = {
        ...message,
        table: `${message.table}_probe`,
        rowCount: rows,
        columnData: message.columnData.map(repeat),
        tags: message.tags.map((t) => ({ ...t, data: repeat(t.data) })),
        nestedKeys: message.nestedKeys.map((k) => ({ ...k, data: repeat(k.data) })),
      };
      return send(copy, {
        owner: name,
        table: copy.table,
        rows,
        columns: copy.columns.map((c) => c.name),
        joinKeys: copy.tags.map((t) => t.columns),
        joinModes: [],
        ciphertexts: rows * (copy.columns.length + copy.tags.length + copy.nestedKeys.length),
        encryptMs: 0,
      });
    },
  };
  return ctx;
}

/**
 * `serve owner:<name>`: encrypts and hands each configured table to A (and the throughput
 * probe, if asked), then, with a training table, registers with B and serves the
 * coordinator's requests. Resolves `keepRunning` false when there is nothing to serve.
 */
export async function startOwner(
  role: string,
  config: RoleConfig,
  log: Log,
): Promise<{ ctx: OwnerContext; keepRunning: boolean; shared: ShareRecord[] }> {
  const ctx = await openOwner(role, config, log);
  const shared: ShareRecord[] = [];
  try {
    for (const table of config.tables) shared.push(await ctx.share(table));
    if (config.throughputProbeRows && ctx.lastMessage) {
      shared.push(await ctx.probe(ctx.lastMessage, config.throughputProbeRows));
    }
    if (config.training) {
      await ctx.owner.joinTraining(loadTable(config.training));
      await listen(ctx, log);
    }
  } catch (err) {
    await ctx.close();
    throw err;
  }
  log('ready', { tables: shared.length });
  return { ctx, keepRunning: config.training !== undefined, shared };
}
