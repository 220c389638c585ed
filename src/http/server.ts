// A role as an HTTPS service (issue 6), on Fastify: POST /v1/message takes codec bytes,
// validates them as the in-process transport does (decodeMessage + parseMessage), hands
// the message to the role's handler with the sender's role *as its client certificate
// proves it*, and answers with the reply's codec bytes. Mutual TLS: the server requires a
// client certificate from the role CA (requestCert + rejectUnauthorized), then checks that
// it names a fedjoin role this server accepts; everything else is refused before the body
// is read. Every request carries an Idempotency-Key; a retry is answered from a bounded
// cache and never applied twice (idempotency.ts).
import type { Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  FedjoinError,
  InvalidArgumentError,
  MalformedMessageError,
  PeerAuthError,
  TransportError,
} from '../errors.js';
import { decodeMessage, encodeMessage } from '../protocol/codec.js';
import { parseMessage } from '../protocol/messages.js';
import type { Handler, RoleName } from '../protocol/transport.js';
import type { TlsCredentials } from './ca.js';
import { IdempotencyCache, type IdempotencyOptions, type StoredReply } from './idempotency.js';
import { isRoleName, roleAllowed, roleOfCertificate } from './identity.js';
import { BINARY_TYPE, errorBody, IDEMPOTENCY_HEADER, isIdempotencyKey, MESSAGE_PATH } from './wire.js';

export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024 * 1024;

export interface ServeConfig {
  /** This role's key and certificate, and the role CA that client certificates must chain to. */
  tls: TlsCredentials;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: an ephemeral port, read it from the returned url). */
  port?: number;
  /**
   * Roles allowed to call this one: exact names or '<kind>:*' (e.g. 'owner:*'). Default:
   * any role the CA certified.
   */
  allowedPeers?: string[];
  /** Largest request body accepted, bytes (default 256 MiB: a 10,000-row table at 2048 bits fits). */
  bodyLimitBytes?: number;
  /** Time allowed to receive a whole request, ms (default 120 s; slow senders are cut off). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections close after this, ms (default 30 s). */
  keepAliveTimeoutMs?: number;
  /** TLS handshakes must finish within this, ms (default 10 s). */
  handshakeTimeoutMs?: number;
  idempotency?: IdempotencyOptions;
  /**
   * Called with an unexpected (non-fedjoin) error from the handler, which the peer only
   * sees as HTTP 500. The default logs nothing: error text may come from any library.
   */
  onInternalError?: (err: unknown) => void;
}

export interface RoleServer {
  role: RoleName;
  /** https://host:port, for the peers' tables. */
  url: string;
  port: number;
  /** Requests applied, and requests answered from the idempotency cache. */
  stats: { applied: number; replayed: number; refused: number };
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's role, from its verified client certificate (set by the onRequest hook). */
    peerRole: string;
  }
}

/** Starts `role`'s HTTPS service with `handler`; resolves once it is listening. */
export async function serveRole(role: RoleName, handler: Handler, config: ServeConfig): Promise<RoleServer> {
  if (!isRoleName(role))
    throw new InvalidArgumentError(`role: not a fedjoin role name: ${role.slice(0, 80)}`);
  const cache = new IdempotencyCache(config.idempotency);
  const stats = { applied: 0, replayed: 0, refused: 0 };
  const app = Fastify<HttpsServer>({
    https: {
      key: config.tls.key,
      cert: config.tls.cert,
      ca: config.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: config.handshakeTimeoutMs ?? 10_000,
    },
    bodyLimit: config.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    requestTimeout: config.requestTimeoutMs ?? 120_000,
    keepAliveTimeout: config.keepAliveTimeoutMs ?? 30_000,
    return503OnClosing: true,
    logger: false,
  });
  app.decorateRequest('peerRole', '');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(BINARY_TYPE, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const refuse = (reply: FastifyReply, status: number, err: FedjoinError): FastifyReply => {
    stats.refused++;
    return reply
      .code(status)
      .type(BINARY_TYPE)
      .send(Buffer.from(errorBody(err)));
  };

  // Authorization runs before the body is read: an unknown role cannot make us buffer anything.
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket as TLSSocket;
    const peer = socket.authorized ? roleOfCertificate(socket.getPeerCertificate()) : undefined;
    if (peer === undefined) {
      return refuse(reply, 403, new PeerAuthError(`${role}: client certificate names no fedjoin role`));
    }
    if (!roleAllowed(peer, config.allowedPeers)) {
      return refuse(reply, 403, new PeerAuthError(`${role}: role ${peer} may not call ${role}`, { peer }));
    }
    request.peerRole = peer;
  });

  app.post(MESSAGE_PATH, async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (!isIdempotencyKey(key)) {
      return refuse(
        reply,
        400,
        new InvalidArgumentError(`${IDEMPOTENCY_HEADER}: expected 16-128 [A-Za-z0-9_-]`),
      );
    }
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    const outcome = await cache.run(request.peerRole, key, bytes, () => {
      stats.applied++;
      return apply(bytes, request.peerRole);
    });
    if (outcome.kind === 'conflict') {
      return refuse(
        reply,
        422,
        new InvalidArgumentError(`${IDEMPOTENCY_HEADER}: key reused with a different body`),
      );
    }
    if (outcome.kind === 'replayed') stats.replayed++;
    return reply.code(outcome.reply.status).type(BINARY_TYPE).send(Buffer.from(outcome.reply.body));
  });

  /** Decodes, validates and handles one message; never throws (the result is cached). */
  async function apply(bytes: Uint8Array, peer: string): Promise<StoredReply> {
    try {
      const message = parseMessage(decodeMessage(bytes));
      const answer = await handler(message, peer);
      return { status: 200, body: encodeMessage(answer) };
    } catch (err) {
      if (err instanceof MalformedMessageError) return { status: 400, body: errorBody(err) };
      if (err instanceof FedjoinError) return { status: 422, body: errorBody(err) };
      config.onInternalError?.(err);
      return { status: 500, body: errorBody(new TransportError(`${role}: internal error`, { status: 500 })) };
    }
  }

  // Fastify's own refusals (body too large, wrong content type, timeouts) as typed errors too.
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) config.onInternalError?.(err);
    const text = status >= 500 ? 'internal error' : `${err.code ?? 'refused'}: ${err.message}`;
    return refuse(reply, status, new TransportError(`${role}: ${text}`, { status }));
  });
  app.setNotFoundHandler((request, reply) =>
    refuse(
      reply,
      404,
      new TransportError(`${role}: no route ${request.method} ${request.url.slice(0, 80)}`, { status: 404 }),
    ),
  );

  await app.listen({ host: config.host ?? '127.0.0.1', port: config.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    role,
    url: `https://${host}:${address.port}`,
    port: address.port,
    stats,
    close: () => app.close(),
  };
}
