// Wiring every role onto one transport: B makes the key pair and publishes its public
// key; A, the owners and the client take it from that published message. The demo and
// the tests build their pipelines with this; over HTTP each role would run alone.
import { PublicKey } from 'paillier-bigint';
import { generateJoinSecret } from '../data/join-key.js';
import type { Engine } from '../engine/engine.js';
import type { MessageOf } from '../protocol/messages.js';
import { InProcessTransport } from '../protocol/transport.js';
import { Client } from './client.js';
import { Coordinator } from './coordinator.js';
import { DataOwner } from './data-owner.js';
import { ServerA } from './server-a.js';
import { ServerB, type ServerBPolicy } from './server-b.js';

export interface FederationOptions {
  engine: Engine;
  /** Key size (default 2048). */
  bits?: number;
  /** Record every role's view (leakage tests). */
  recordViews?: boolean;
  /** The transport to wire the roles on (tests pass one that intercepts messages). */
  transport?: InProcessTransport;
  policy?: Partial<ServerBPolicy>;
  /** Server B's local log (what it refuses, and why). */
  log?: (event: string, details: Record<string, unknown>) => void;
}

export interface Federation {
  transport: InProcessTransport;
  serverA: ServerA;
  serverB: ServerB;
  client: Client;
  coordinator: Coordinator;
  /** A data owner holding the owners' shared join secret. */
  owner(name: string): DataOwner;
  publicKey: PublicKey;
}

export async function createFederation(options: FederationOptions): Promise<Federation> {
  const transport = options.transport ?? new InProcessTransport(options.recordViews ?? false);
  const { engine } = options;
  const serverB = await ServerB.create({
    engine,
    transport,
    bits: options.bits,
    policy: options.policy,
    log: options.log,
  });
  const published: MessageOf<'public-key'> = serverB.publicKeyMessage();
  const publicKey = new PublicKey(published.n, published.g);
  const serverA = new ServerA({ engine, transport, publicKey });
  const client = new Client({ transport });
  const coordinator = new Coordinator({ engine, transport, publicKey });
  const joinSecret = generateJoinSecret();
  return {
    transport,
    serverA,
    serverB,
    client,
    coordinator,
    publicKey,
    owner: (name) => new DataOwner({ name, engine, transport, publicKey, joinSecret }),
  };
}
