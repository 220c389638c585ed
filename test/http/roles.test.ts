// The real roles over HTTPS (issue 6): server A, server B, the client and two data owners,
// each with its own HttpTransport, certificate and port, run the secure join; the answers
// equal the in-process federation's on the same tables. Uses the BigInt engine and a
// 1024-bit key to stay fast; the multi-process demo is the CLI's job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJoinSecret } from '../../src/data/join-key.js';
import type { Cell } from '../../src/data/table.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { HttpTransport } from '../../src/http/transport.js';
import { allowedCallers } from '../../src/protocol/authorization.js';
import { Client } from '../../src/roles/client.js';
import { DataOwner } from '../../src/roles/data-owner.js';
import { createFederation, publishedKey } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { ServerA } from '../../src/roles/server-a.js';
import { ServerB } from '../../src/roles/server-b.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { keyedTable } from '../helpers/tables.js';

const rows = (n: number, mul: number): Cell[][] =>
  Array.from({ length: n }, (_, i) => [BigInt(i % 4), BigInt((i * mul) % 97)]);
const left = keyedTable('lt', 'x', rows(6, 13));
const right = keyedTable('rt', 'y', rows(5, 29));
const SQL = 'SELECT COUNT(*), SUM(a.x), SUM(b.y) FROM lt a JOIN rt b ON a.k = b.k';

let pki: Pki;
let engine: Engine;
const transports: HttpTransport[] = [];

beforeAll(async () => {
  pki = await makePki(['server-a', 'server-b', 'client', 'owner:left', 'owner:right']);
  engine = await createEngine({ backend: 'bigint' });
});
afterAll(async () => {
  for (const t of transports) await t.close();
  await engine?.close();
  await pki?.cleanup();
});

async function transport(role: string, peers: Record<string, string> = {}): Promise<HttpTransport> {
  const t = new HttpTransport({ role, peers, tls: await pki.creds(role), retries: 2 });
  transports.push(t);
  return t;
}

interface Deployment {
  client: Client;
  bytes: () => number;
}

/** Every role on its own transport, certificate and ephemeral port, wired by URL. */
async function deployOverHttps(): Promise<Deployment> {
  const tClient = await transport(ROLES.client);
  const client = new Client({ transport: tClient });
  const clientServer = await tClient.serve({ allowedPeers: [ROLES.serverB] });

  const tB = await transport(ROLES.serverB, { [ROLES.client]: clientServer.url });
  const serverB = await ServerB.create({ engine, transport: tB, bits: 1024, policy: { minGroupSize: 1 } });
  const bServer = await tB.serve({ allowedPeers: allowedCallers(ROLES.serverB) });
  tClient.setPeer(ROLES.serverB, bServer.url);
  const publicKey = publishedKey(serverB.publicKeyMessage());

  const tA = await transport(ROLES.serverA, { [ROLES.serverB]: bServer.url });
  new ServerA({ engine, transport: tA, publicKey });
  const aServer = await tA.serve({ allowedPeers: [ROLES.client, 'owner:*'] });
  tClient.setPeer(ROLES.serverA, aServer.url);

  const joinSecret = generateJoinSecret();
  for (const [name, table] of [
    ['left', left],
    ['right', right],
  ] as const) {
    const t = await transport(ROLES.owner(name), {
      [ROLES.serverA]: aServer.url,
      [ROLES.serverB]: bServer.url,
    });
    await new DataOwner({ name, engine, transport: t, publicKey, joinSecret }).shareTable(table, {
      joinKeys: [['k']],
    });
  }
  return { client, bytes: () => transports.reduce((sum, t) => sum + t.bytesSent, 0) };
}

describe('roles as HTTPS services', () => {
  let overHttps: Deployment;
  let inProcess: Client;
  beforeAll(async () => {
    overHttps = await deployOverHttps();
    const fed = await createFederation({ engine, bits: 1024, policy: { minGroupSize: 1 } });
    await fed.owner('left').shareTable(left, { joinKeys: [['k']] });
    await fed.owner('right').shareTable(right, { joinKeys: [['k']] });
    inProcess = fed.client;
  });

  it.each(['hashed', 'nested'] as const)(
    'answer a %s-join aggregate as the in-process roles do',
    async (mode) => {
      const before = overHttps.bytes();
      const remote = await overHttps.client.query(SQL, { mode });
      const local = await inProcess.query(SQL, { mode });
      expect(remote.rowsJoined).toBeGreaterThan(0);
      expect(remote.rowsJoined).toBe(local.rowsJoined);
      expect(remote.items).toEqual(local.items);
      expect(overHttps.bytes()).toBeGreaterThan(before);
    },
  );
});
