// Wiring every role onto one transport: B makes its keys (Paillier, and EC for the hashed
// join) and publishes the public ones; A, the owners and the client take them from that
// published message. The demo and the tests build their pipelines with this; over HTTP
// each role would run alone.
import type { PublicKey } from 'paillier-bigint';
import { generateJoinSecret } from '../data/join-key.js';
import type { Engine } from '../engine/engine.js';
import { type ServerBPublicKey, verifiedPublicKey } from '../engine/keys.js';
import { InvalidKeyError } from '../errors.js';
import type { MessageOf } from '../protocol/messages.js';
import { InProcessTransport } from '../protocol/transport.js';
import { Client } from './client.js';
import { Coordinator } from './coordinator.js';
import { DataOwner } from './data-owner.js';
import { ServerA } from './server-a.js';
import { ServerB, type ServerBOptions, type ServerBPolicy } from './server-b.js';

export interface FederationOptions {
  engine: Engine;
  /** Key size (default 2048). */
  bits?: number;
  /** Record every role's view (leakage tests). */
  recordViews?: boolean;
  /** The transport to wire the roles on (tests pass one that intercepts messages). */
  transport?: InProcessTransport;
  policy?: Partial<ServerBPolicy>;
  /** Server B's local log (refusal reasons). */
  log?: ServerBOptions['log'];
}

export interface Federation {
  transport: InProcessTransport;
  serverA: ServerA;
  serverB: ServerB;
  client: Client;
  coordinator: Coordinator;
  /** The data owner `name` (one per name), holding the owners' shared join secret. */
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
    ...(options.log ? { log: options.log } : {}),
  });
  const publicKey = publishedKey(serverB.publicKeyMessage());
  const serverA = new ServerA({ engine, transport, publicKey });
  const client = new Client({ transport });
  const coordinator = new Coordinator({ engine, transport, publicKey });
  const joinSecret = generateJoinSecret();
  const owners = new Map<string, DataOwner>();
  const owner = (name: string) => {
    let o = owners.get(name);
    if (!o) {
      o = new DataOwner({ name, engine, transport, publicKey, joinSecret });
      owners.set(name, o);
    }
    return o;
  };
  return { transport, serverA, serverB, client, coordinator, publicKey, owner };
}

/** B's public keys from its public-key message; each key must match its fingerprint. */
export function publishedKey(message: MessageOf<'public-key'>): ServerBPublicKey {
  return verifiedPublicKey(
    message,
    (key) =>
      new InvalidKeyError(
        key === 'ec'
          ? "public-key: B's EC key does not match its fingerprint"
          : "public-key: B's key does not match its fingerprint",
      ),
  );
}
