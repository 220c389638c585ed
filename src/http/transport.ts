// The HTTP transport (issue 6): the same `Transport` interface as InProcessTransport, so
// roles run unchanged in separate processes. request() posts the message's codec bytes to
// the peer's URL from a peer table {role -> url} over mutual TLS, retries transient
// failures (connection refused or reset, timeouts, 502/503/504/429) with the *same*
// Idempotency-Key so the peer applies the request once, and rebuilds typed errors from the
// 'error' message the peer sends. A process holds one identity (`role`, its certificate);
// register() + serve() run that role's handler as an HTTPS service (server.ts).
import { Agent, request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import {
  type ErrorRecord,
  FedjoinError,
  fromRecord,
  InvalidArgumentError,
  PeerAuthError,
  TransportError,
} from '../errors.js';
import { decodeMessage, encodeMessage } from '../protocol/codec.js';
import { type Message, parseMessage } from '../protocol/messages.js';
import type { Handler, RoleName, Transport } from '../protocol/transport.js';
import type { TlsCredentials } from './ca.js';
import { roleOfCertificate } from './identity.js';
import { type RoleServer, type ServeConfig, serveRole } from './server.js';
import { BINARY_TYPE, IDEMPOTENCY_HEADER, MESSAGE_PATH, newIdempotencyKey } from './wire.js';

export interface HttpTransportOptions {
  /** The role this process speaks as; `tls` must hold that role's certificate. */
  role: RoleName;
  /** role -> base URL (https://host:port) of every peer this process sends to. */
  peers: Record<RoleName, string>;
  tls: TlsCredentials;
  /** Deadline of one attempt, ms, from connect to the last response byte (default 300 s). */
  timeoutMs?: number;
  /** Further attempts after a transient failure (default 4). */
  retries?: number;
  /** First back-off, ms, doubled each retry with jitter, capped by maxRetryDelayMs (default 100). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Largest response accepted, bytes (default 512 MiB). */
  maxResponseBytes?: number;
}

interface RawResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
}

/** HTTP statuses worth another attempt: the peer is restarting, overloaded or behind a failing proxy. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/** Socket errors worth another attempt: the peer is down, restarting, or the connection was lost. */
const RETRY_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ATTEMPT_TIMEOUT',
]);

export class HttpTransport implements Transport {
  readonly role: RoleName;
  private readonly peers: Map<RoleName, URL>;
  private readonly agent: Agent;
  private readonly handlers = new Map<RoleName, Handler>();
  private readonly servers: RoleServer[] = [];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxResponseBytes: number;
  /** Bytes of request bodies sent (every attempt) and of response bodies received, for reports. */
  bytesSent = 0;
  bytesReceived = 0;
  /** Attempts repeated after a transient failure. */
  retriesMade = 0;

  constructor(private readonly options: HttpTransportOptions) {
    this.role = options.role;
    this.peers = new Map(Object.entries(options.peers).map(([role, url]) => [role, peerUrl(role, url)]));
    this.timeoutMs = options.timeoutMs ?? 300_000;
    this.retries = options.retries ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 512 * 1024 * 1024;
    this.agent = new Agent({
      keepAlive: true,
      key: options.tls.key,
      cert: options.tls.cert,
      ca: options.tls.ca,
      minVersion: 'TLSv1.2',
    });
  }

  /** Adds or changes a peer's URL (a role started later on an ephemeral port). */
  setPeer(role: RoleName, url: string): void {
    this.peers.set(role, peerUrl(role, url));
  }

  register(role: RoleName, handler: Handler): void {
    this.handlers.set(role, handler);
  }

  /** Serves this process's role (its registered handler) over HTTPS with this transport's credentials. */
  async serve(config: Omit<ServeConfig, 'tls'> & { tls?: TlsCredentials } = {}): Promise<RoleServer> {
    const handler = this.handlers.get(this.role);
    if (!handler) throw new InvalidArgumentError(`serve: no handler registered for ${this.role}`);
    const server = await serveRole(this.role, handler, { ...config, tls: config.tls ?? this.options.tls });
    this.servers.push(server);
    return server;
  }

  /** Sends `message` to `to` and returns its validated reply; an 'error' reply is thrown typed. */
  request(from: RoleName, to: RoleName, message: Message): Promise<Message> {
    return this.requestBytes(from, to, encodeMessage(message));
  }

  /**
   * Posts already-encoded bytes (request() is this plus encodeMessage). `idempotencyKey`
   * defaults to a fresh key; every retry of this call reuses it.
   */
  async requestBytes(
    from: RoleName,
    to: RoleName,
    bytes: Uint8Array,
    idempotencyKey = newIdempotencyKey(),
  ): Promise<Message> {
    if (from !== this.role) {
      throw new InvalidArgumentError(`request: this transport speaks as ${this.role}, not ${from}`);
    }
    const url = this.peers.get(to);
    if (!url) throw new InvalidArgumentError(`request: no URL for role ${to} in the peer table`);
    let attempt = 0;
    for (;;) {
      let response: RawResponse;
      try {
        response = await this.post(url, to, bytes, idempotencyKey);
      } catch (err) {
        if (err instanceof FedjoinError) throw err;
        const code = errorCode(err);
        if (RETRY_CODES.has(code) && attempt < this.retries) {
          await this.backOff(attempt++);
          continue;
        }
        throw classify(err, to, attempt + 1);
      }
      if (RETRY_STATUSES.has(response.status) && attempt < this.retries) {
        await this.backOff(attempt++);
        continue;
      }
      return this.interpret(response, to, attempt + 1);
    }
  }

  /** Closes the services this transport started and its pooled connections. */
  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
    this.agent.destroy();
  }

  private interpret(response: RawResponse, to: RoleName, attempts: number): Message {
    let message: Message | undefined;
    if (response.contentType.startsWith(BINARY_TYPE)) {
      // a reply is validated exactly as a request is: codec, then schema (MalformedMessageError)
      message = parseMessage(decodeMessage(response.body));
      if (message.type === 'error') throw fromRecord(message as unknown as ErrorRecord);
      if (response.status === 200) return message;
    }
    throw new TransportError(`${to}: answered HTTP ${response.status} without a fedjoin reply`, {
      to,
      status: response.status,
      attempts,
    });
  }

  private backOff(attempt: number): Promise<void> {
    this.retriesMade++;
    const ceiling = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    return new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** One attempt: POST, collect the body (bounded), or fail with the socket's error. */
  private post(url: URL, to: RoleName, bytes: Uint8Array, key: string): Promise<RawResponse> {
    return new Promise((resolvePost, rejectPost) => {
      // every way out clears the attempt's deadline, so no timer outlives the request
      let timer: NodeJS.Timeout | undefined;
      const resolve = (value: RawResponse) => {
        clearTimeout(timer);
        resolvePost(value);
      };
      const reject = (err: unknown) => {
        clearTimeout(timer);
        rejectPost(err);
      };
      const req = httpsRequest(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port,
          path: MESSAGE_PATH,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': BINARY_TYPE,
            'content-length': bytes.byteLength,
            accept: BINARY_TYPE,
            [IDEMPOTENCY_HEADER]: key,
          },
          // Authenticate the server as the role we meant to reach: its certificate must
          // chain to the role CA (checked by TLS) and name `to` (checked here). Host names
          // are not what identifies a role, so they are not checked.
          checkServerIdentity: (_host: string, cert: PeerCertificate) => {
            const role = roleOfCertificate(cert);
            return role === to
              ? undefined
              : new PeerAuthError(`${to}: the server's certificate names ${role ?? 'no fedjoin role'}`, {
                  to,
                  got: role ?? '',
                });
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (length > this.maxResponseBytes) {
              req.destroy(
                new TransportError(`${to}: response over ${this.maxResponseBytes} bytes`, {
                  to,
                  limit: this.maxResponseBytes,
                }),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            this.bytesReceived += length;
            const body = Buffer.concat(chunks, length);
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
            });
          });
          res.on('error', (err) => reject(err));
        },
      );
      timer = setTimeout(() => {
        const err = new Error(`attempt timed out after ${this.timeoutMs} ms`) as NodeJS.ErrnoException;
        err.code = 'ATTEMPT_TIMEOUT';
        req.destroy(err);
      }, this.timeoutMs);
      req.on('error', reject);
      this.bytesSent += bytes.byteLength;
      req.end(bytes);
    });
  }
}

function peerUrl(role: string, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`peers.${role}: not a URL`);
  }
  if (parsed.protocol !== 'https:') throw new InvalidArgumentError(`peers.${role}: expected an https URL`);
  return parsed;
}

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * A failed attempt as a typed error: TLS alerts and certificate verification failures are
 * authentication refusals (PeerAuthError, not retried); anything else is a TransportError.
 */
function classify(err: unknown, to: RoleName, attempts: number): FedjoinError {
  const code = errorCode(err);
  const reason = (err as Error | undefined)?.message?.split('\n')[0]?.slice(0, 200) ?? String(err);
  if (/^ERR_SSL_|^ERR_TLS_|CERT|^UNABLE_TO_|^DEPTH_ZERO|^EPROTO$/.test(code)) {
    return new PeerAuthError(`${to}: TLS refused the connection (${code})`, { to, cause: code });
  }
  return new TransportError(`${to}: ${reason}${attempts > 1 ? ` after ${attempts} attempts` : ''}`, {
    to,
    cause: code,
    attempts,
  });
}
