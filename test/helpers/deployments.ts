// Two ways to deploy every role for the attack tests (DESIGN §1.1): in one process on the
// in-process transport, or each role on its own HttpTransport with its own certificate
// and port, over mutual TLS. Either way a test can play a deviating role through the
// real message path: `as(role)` speaks with that role's identity, and `rewrite` changes
// what server A sends before it leaves A.
import type { PublicKey } from 'paillier-bigint';
import { generateJoinSecret } from '../../src/data/join-key.js';
import type { Engine } from '../../src/engine/engine.js';
import { generateKeys } from '../../src/engine/keys.js';
import { HttpTransport } from '../../src/http/transport.js';
import type { Message } from '../../src/protocol/messages.js';
import {
  type Handler,
  InProcessTransport,
  type RoleName,
  type Transport,
} from '../../src/protocol/transport.js';
import { Client } from '../../src/roles/client.js';
import { DataOwner } from '../../src/roles/data-owner.js';
import { publishedKey } from '../../src/roles/federation.js';
import { ROLES } from '../../src/roles/names.js';
import { ServerA } from '../../src/roles/server-a.js';
import { ServerB, type ServerBOptions } from '../../src/roles/server-b.js';
import { makePki, type Pki } from './pki.js';

/** Changes a message server A is about to send; return it unchanged to pass it on. */
export type Rewrite = (message: Message, to: RoleName) => Message;

export interface Deployment {
  kind: 'in-process' | 'https';
  client: Client;
  serverB: ServerB;
  publicKey: PublicKey;
  owner(name: string): DataOwner;
  /** Sends `message` to `to` as `role` would: with its certificate, over HTTPS. */
  as(role: RoleName): { request(to: RoleName, message: Message): Promise<Message> };
  /** Server A's outgoing messages pass through this while it is set. */
  rewrite?: Rewrite;
  close(): Promise<void>;
}

export interface DeploymentOptions {
  engine: Engine;
  bits?: number;
  policy?: ServerBOptions['policy'];
  log?: ServerBOptions['log'];
  /** Owner names that will share tables (each gets a certificate over HTTPS). */
  owners: string[];
}

/** A transport whose outgoing requests from server A pass through the deployment's rewrite. */
class RewritingTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly deployment: () => Deployment,
  ) {}
  register(role: RoleName, handler: Handler): void {
    this.inner.register(role, handler);
  }
  request(from: RoleName, to: RoleName, message: Message): Promise<Message> {
    const rewrite = this.deployment().rewrite;
    return this.inner.request(from, to, from === ROLES.serverA && rewrite ? rewrite(message, to) : message);
  }
}

export async function inProcessDeployment(options: DeploymentOptions): Promise<Deployment> {
  const { engine } = options;
  const transport = new InProcessTransport();
  const keys = await generateKeys(options.bits ?? 1024);
  const serverB = new ServerB({ engine, transport, keys, policy: options.policy, log: options.log });
  const publicKey = keys.publicKey;
  const deployment: Deployment = {
    kind: 'in-process',
    client: new Client({ transport }),
    serverB,
    publicKey,
    owner: ownersOn(engine, () => transport, publicKey),
    as: (role) => ({ request: (to, message) => transport.request(role, to, message) }),
    close: async () => {},
  };
  new ServerA({ engine, transport: new RewritingTransport(transport, () => deployment), publicKey });
  return deployment;
}

/** Every role on its own HTTPS service with its own certificate, wired by URL. */
export async function httpsDeployment(options: DeploymentOptions): Promise<Deployment> {
  const { engine } = options;
  const roles = [ROLES.serverA, ROLES.serverB, ROLES.client, ...options.owners.map(ROLES.owner)];
  const pki: Pki = await makePki(roles);
  const transports: HttpTransport[] = [];
  const peers: Record<string, string> = {};
  const transport = async (role: string) => {
    const t = new HttpTransport({ role, peers, tls: await pki.creds(role), retries: 1 });
    transports.push(t);
    return t;
  };
  // every certified role may connect: each role itself checks who may send what
  const serve = async (t: HttpTransport, role: string) => {
    const server = await t.serve();
    peers[role] = server.url;
    for (const other of transports) other.setPeer(role, server.url);
  };
  const keys = await generateKeys(options.bits ?? 1024);
  const tClient = await transport(ROLES.client);
  const client = new Client({ transport: tClient });
  await serve(tClient, ROLES.client);
  const tB = await transport(ROLES.serverB);
  const serverB = new ServerB({ engine, transport: tB, keys, policy: options.policy, log: options.log });
  await serve(tB, ROLES.serverB);
  const tA = await transport(ROLES.serverA);
  const ownerTransports = new Map<string, HttpTransport>();
  for (const name of options.owners) ownerTransports.set(name, await transport(ROLES.owner(name)));
  // as the other roles get it: from B's published message
  const publicKey = publishedKey(serverB.publicKeyMessage());
  const deployment: Deployment = {
    kind: 'https',
    client,
    serverB,
    publicKey,
    owner: ownersOn(engine, (name) => ownerTransports.get(name)!, publicKey),
    as: (role) => {
      const t = [...transports].find((x) => x.role === role);
      if (!t) throw new Error(`no certificate for ${role} in this deployment`);
      return { request: (to, message) => t.request(role, to, message) };
    },
    close: async () => {
      for (const t of transports) await t.close();
      await pki.cleanup();
    },
  };
  new ServerA({ engine, transport: new RewritingTransport(tA, () => deployment), publicKey });
  await serve(tA, ROLES.serverA);
  return deployment;
}

/** Owners sharing one join secret, one DataOwner per name. */
function ownersOn(engine: Engine, transportOf: (name: string) => Transport, publicKey: PublicKey) {
  const joinSecret = generateJoinSecret();
  const owners = new Map<string, DataOwner>();
  return (name: string): DataOwner => {
    let owner = owners.get(name);
    if (!owner) {
      owner = new DataOwner({ name, engine, transport: transportOf(name), publicKey, joinSecret });
      owners.set(name, owner);
    }
    return owner;
  };
}

/** Both deployments, for `describe.each`. */
export const DEPLOYMENTS = [
  ['in-process', inProcessDeployment],
  ['over HTTPS with mTLS', httpsDeployment],
] as const;
