// The HTTP transport end to end over HTTPS on loopback (issue 6): two roles in this
// process on ephemeral ports, mutual TLS from a role CA, real protocol messages (a
// Paillier ciphertext batch included) carried as codec bytes. Refusals: no client
// certificate, a certificate from another CA, a role not allowed, a server that is not
// the role asked for, tampered bodies, oversized bodies. Idempotency: a retried request
// (same key) is applied once, including when the first response is lost on the wire.
import { request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, generateKeys } from '../../src/engine/keys.js';
import { pack, unpack } from '../../src/engine/limbs.js';
import {
  FedjoinError,
  InvalidArgumentError,
  KeyMismatchError,
  MalformedMessageError,
  PeerAuthError,
  TransportError,
} from '../../src/errors.js';
import type { RoleServer } from '../../src/http/server.js';
import { serveRole } from '../../src/http/server.js';
import { HttpTransport } from '../../src/http/transport.js';
import { newIdempotencyKey } from '../../src/http/wire.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import { expectType, type Message, type MessageOf } from '../../src/protocol/messages.js';
import type { Handler } from '../../src/protocol/transport.js';
import { makePki, type Pki } from '../helpers/pki.js';
import { rejection } from '../helpers/thrown.js';

// A 1024-bit Paillier key (tests may use 1024, DESIGN §2).
const keys = await generateKeys(1024);
const fp = fingerprint(keys.publicKey.n);
const WORDS = 64; // 2048-bit ciphertexts under a 1024-bit key

let pki: Pki;
let serverB: RoleServer;
/** Every message B's handler saw, with the sender as its certificate proved it. */
const seenByB: { from: string; type: string }[] = [];

/** B's handler: zero-tests an indicator batch by decrypting (the test's stand-in for ServerB). */
const handlerB: Handler = async (message, from) => {
  seenByB.push({ from, type: message.type });
  if (message.type === 'public-key') return { type: 'ack' };
  const batch = expectType(message, 'indicator-batch');
  if (batch.fingerprint !== fp) {
    throw new KeyMismatchError('indicator-batch: batch under another key', {
      expected: fp,
      got: batch.fingerprint,
    });
  }
  const plain = unpack(batch).map((c) => keys.privateKey.decrypt(c));
  return {
    type: 'indicator-bits',
    queryId: batch.queryId,
    seq: batch.seq,
    bits: Uint32Array.from(plain, (m) => (m === 0n ? 1 : 0)),
  };
};

function transportFor(role: string, creds: Awaited<ReturnType<Pki['creds']>>, peers: Record<string, string>) {
  return new HttpTransport({ role, peers, tls: creds, retries: 2, retryDelayMs: 20 });
}

beforeAll(async () => {
  pki = await makePki(['server-a', 'server-b', 'client', 'owner:hospital'], ['server-a']);
  serverB = await serveRole('server-b', handlerB, {
    tls: await pki.creds('server-b'),
    allowedPeers: ['server-a', 'client'],
  });
});
afterAll(async () => {
  await serverB?.close();
  await pki?.cleanup();
});

function indicatorBatch(plaintexts: bigint[], seq = 0): MessageOf<'indicator-batch'> {
  const packed = pack(
    plaintexts.map((m) => keys.publicKey.encrypt(m)),
    WORDS,
  );
  return { type: 'indicator-batch', queryId: 'q1', seq, fingerprint: fp, ...packed };
}

describe('messages over HTTPS with mutual TLS', () => {
  let a: HttpTransport;
  beforeAll(async () => {
    a = transportFor('server-a', await pki.creds('server-a'), { 'server-b': serverB.url });
  });
  afterAll(() => a.close());

  it('carries a Paillier ciphertext batch and returns the typed reply', async () => {
    const plaintexts = [0n, 5n, 0n, keys.publicKey.n - 1n, 1n, 0n];
    const reply = expectType(
      await a.request('server-a', 'server-b', indicatorBatch(plaintexts)),
      'indicator-bits',
    );
    expect([...reply.bits]).toEqual([1, 0, 1, 0, 0, 1]);
    expect(seenByB.at(-1)).toEqual({ from: 'server-a', type: 'indicator-batch' });
    // the batch crossed as raw words: ~6 x 256 bytes of payload, not JSON text
    expect(a.bytesSent).toBeGreaterThanOrEqual(6 * WORDS * 4);
    expect(a.bytesSent).toBeLessThan(6 * WORDS * 4 + 512);
  });

  it('carries bigints exactly (public-key message)', async () => {
    const message: Message = {
      type: 'public-key',
      n: keys.publicKey.n,
      g: keys.publicKey.g,
      fingerprint: fp,
      ec: { publicKey: Buffer.from(keys.ec!.publicKey).toString('hex'), fingerprint: keys.ec!.fingerprint },
    };
    expect(await a.request('server-a', 'server-b', message)).toEqual({ type: 'ack' });
  });

  it("rebuilds the handler's typed error with its class, code and details", async () => {
    const batch = { ...indicatorBatch([1n]), fingerprint: 'ab'.repeat(32) };
    const error = await rejection(a.request('server-a', 'server-b', batch));
    expect(error).toBeInstanceOf(KeyMismatchError);
    expect(error.code).toBe('KEY_MISMATCH');
    expect(error.details).toEqual({ expected: fp, got: 'ab'.repeat(32) });
  });

  it('refuses to speak as a role other than its own', async () => {
    const error = await rejection(a.request('client', 'server-b', { type: 'ack' }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('tampered bodies are refused by the codec or the schema', () => {
  let a: HttpTransport;
  beforeAll(async () => {
    a = transportFor('server-a', await pki.creds('server-a'), { 'server-b': serverB.url });
  });
  afterAll(() => a.close());

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['bad magic', () => flip(encodeMessage(indicatorBatch([1n])), 0), /magic/],
    [
      'a batch reference past the payload',
      () => encodeMessage(indicatorBatch([1n, 2n])).subarray(0, 400),
      /overruns/,
    ],
    ['a header that is not JSON', () => flip(encodeMessage(indicatorBatch([1n])), 8), /JSON/],
    [
      'a field that fails its schema',
      () => encodeMessage({ ...indicatorBatch([1n]), fingerprint: 'not-hex' }),
      /fingerprint/,
    ],
    ['an unknown message type', () => encodeMessage({ type: 'drop-tables' }), /unknown type/],
  ];
  it.each(cases)('%s', async (_name, body, pattern) => {
    const before = seenByB.length;
    const error = await rejection(a.requestBytes('server-a', 'server-b', body()));
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error.code).toBe('MALFORMED_MESSAGE');
    expect(error.message).toMatch(pattern);
    expect(seenByB.length).toBe(before); // the handler never saw it
  });

  it('refuses a body over the size limit with HTTP 413', async () => {
    const small = await serveRole('server-b', handlerB, {
      tls: await pki.creds('server-b'),
      bodyLimitBytes: 1024,
    });
    const t = transportFor('server-a', await pki.creds('server-a'), { 'server-b': small.url });
    try {
      const error = await rejection(t.request('server-a', 'server-b', indicatorBatch([1n, 2n, 3n, 4n, 5n])));
      expect(error).toBeInstanceOf(TransportError);
      expect(error.code).toBe('TRANSPORT');
      expect(error.details.status).toBe(413);
    } finally {
      await t.close();
      await small.close();
    }
  });
});

describe('peers that are not who they must be are refused', () => {
  it('refuses a client without a certificate at the TLS handshake', async () => {
    const before = seenByB.length;
    const { ca } = await pki.creds('server-a');
    const url = new URL(serverB.url);
    const outcome = await new Promise<string>((resolve) => {
      const req = httpsRequest(
        {
          hostname: url.hostname,
          port: url.port,
          path: '/v1/message',
          method: 'POST',
          ca,
          headers: { 'content-type': 'application/octet-stream', 'idempotency-key': newIdempotencyKey() },
        },
        (res) => resolve(`answered ${res.statusCode}`),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end(encodeMessage({ type: 'ack' }));
    });
    expect(outcome).toMatch(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_.*HANDSHAKE.*|ECONNRESET)$/);
    expect(seenByB.length).toBe(before);
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const before = seenByB.length;
    const t = transportFor('server-a', await pki.foreign('server-a'), { 'server-b': serverB.url });
    try {
      const error = await rejection(t.request('server-a', 'server-b', { type: 'ack' }));
      // TLS 1.3 sends the server's "unknown CA" alert after the client's Finished, so the
      // client sees either the alert or the connection reset that carries it.
      expect(error).toBeInstanceOf(FedjoinError);
      expect(['PEER_AUTH', 'TRANSPORT']).toContain(error.code);
      expect(seenByB.length).toBe(before);
    } finally {
      await t.close();
    }
  });

  it('refuses a role the server does not allow (HTTP 403, PeerAuthError)', async () => {
    const before = seenByB.length;
    const t = transportFor('owner:hospital', await pki.creds('owner:hospital'), { 'server-b': serverB.url });
    try {
      const error = await rejection(t.request('owner:hospital', 'server-b', { type: 'ack' }));
      expect(error).toBeInstanceOf(PeerAuthError);
      expect(error.code).toBe('PEER_AUTH');
      expect(error.message).toMatch(/owner:hospital may not call server-b/);
      expect(seenByB.length).toBe(before);
    } finally {
      await t.close();
    }
  });

  it('refuses a server that is not the role asked for, without retrying', async () => {
    const fakeB = await serveRole('server-a', handlerB, { tls: await pki.creds('server-a') });
    const t = transportFor('client', await pki.creds('client'), { 'server-b': fakeB.url });
    try {
      const error = await rejection(t.request('client', 'server-b', { type: 'ack' }));
      expect(error).toBeInstanceOf(PeerAuthError);
      expect(error.code).toBe('PEER_AUTH');
      expect(error.message).toMatch(/names server-a/);
      expect(t.retriesMade).toBe(0);
    } finally {
      await t.close();
      await fakeB.close();
    }
  });

  it('refuses a server whose certificate comes from another CA', async () => {
    const foreignB = await serveRole('server-a', handlerB, { tls: await pki.foreign('server-a') });
    const t = transportFor('client', await pki.creds('client'), { 'server-a': foreignB.url });
    try {
      const error = await rejection(t.request('client', 'server-a', { type: 'ack' }));
      expect(error).toBeInstanceOf(PeerAuthError);
      expect(error.code).toBe('PEER_AUTH');
    } finally {
      await t.close();
      await foreignB.close();
    }
  });
});

describe('idempotency keys: a retried request is applied once', () => {
  let applied = 0;
  let onApply: () => Promise<void> = async () => {};
  let server: RoleServer;
  let proxy: DroppingProxy;
  let a: HttpTransport;
  const counting: Handler = async (message) => {
    applied++;
    await onApply();
    const bits = expectType(message, 'indicator-bits').bits;
    return { type: 'indicator-bits', queryId: 'q', seq: applied, bits };
  };
  const request = (seq: number): MessageOf<'indicator-bits'> => ({
    type: 'indicator-bits',
    queryId: 'q',
    seq,
    bits: new Uint32Array([seq]),
  });

  beforeAll(async () => {
    server = await serveRole('server-b', counting, { tls: await pki.creds('server-b') });
    proxy = await DroppingProxy.start(server.port);
    a = transportFor('server-a', await pki.creds('server-a'), { 'server-b': server.url });
  });
  afterAll(async () => {
    await a.close();
    await proxy.close();
    await server.close();
  });

  it('answers a repeat of the same key from the cache', async () => {
    const key = newIdempotencyKey();
    const bytes = encodeMessage(request(1));
    const first = await a.requestBytes('server-a', 'server-b', bytes, key);
    const second = await a.requestBytes('server-a', 'server-b', bytes, key);
    expect(applied).toBe(1);
    expect(second).toEqual(first);
    expect(server.stats).toMatchObject({ applied: 1, replayed: 1 });
  });

  it('applies concurrent duplicates once', async () => {
    const start = applied;
    const key = newIdempotencyKey();
    const bytes = encodeMessage(request(2));
    const replies = await Promise.all(
      Array.from({ length: 5 }, () => a.requestBytes('server-a', 'server-b', bytes, key)),
    );
    expect(applied - start).toBe(1);
    for (const reply of replies) expect(reply).toEqual(replies[0]);
  });

  it('applies the same body under a fresh key again', async () => {
    const start = applied;
    await a.request('server-a', 'server-b', request(3));
    await a.request('server-a', 'server-b', request(3));
    expect(applied - start).toBe(2);
  });

  it('refuses a key reused with a different body', async () => {
    const key = newIdempotencyKey();
    await a.requestBytes('server-a', 'server-b', encodeMessage(request(4)), key);
    const error = await rejection(a.requestBytes('server-a', 'server-b', encodeMessage(request(5)), key));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/different body/);
  });

  it('retries after the response is lost on the wire and still applies once', async () => {
    const start = applied;
    // The first connection through the proxy is cut once the server has the request, so the
    // reply never reaches the client; the client retries with the same key on a new one.
    // (The proxy is TCP-level: TLS stays end to end between client and server.)
    proxy.dropNext = true;
    onApply = async () => {
      proxy.cutDropped();
      await new Promise((r) => setTimeout(r, 30));
    };
    try {
      const t = new HttpTransport({
        role: 'server-a',
        peers: { 'server-b': `https://127.0.0.1:${proxy.port}` },
        tls: await pki.creds('server-a'),
        retries: 3,
        retryDelayMs: 20,
      });
      try {
        const reply = expectType(await t.request('server-a', 'server-b', request(6)), 'indicator-bits');
        expect([...reply.bits]).toEqual([6]);
        expect(t.retriesMade).toBeGreaterThanOrEqual(1);
      } finally {
        await t.close();
      }
    } finally {
      onApply = async () => {};
    }
    expect(applied - start).toBe(1);
    expect(proxy.connections).toBeGreaterThanOrEqual(2);
    expect(server.stats.replayed).toBeGreaterThanOrEqual(1);
  });

  it('retries after an attempt times out and joins the request still running, not a second one', async () => {
    const start = applied;
    onApply = () => new Promise((r) => setTimeout(r, 400));
    const t = new HttpTransport({
      role: 'server-a',
      peers: { 'server-b': server.url },
      tls: await pki.creds('server-a'),
      timeoutMs: 250,
      retries: 3,
      retryDelayMs: 10,
    });
    try {
      const reply = expectType(await t.request('server-a', 'server-b', request(9)), 'indicator-bits');
      expect([...reply.bits]).toEqual([9]);
      expect(t.retriesMade).toBeGreaterThanOrEqual(1);
    } finally {
      onApply = async () => {};
      await t.close();
    }
    expect(applied - start).toBe(1);
  });

  it('retries while the peer is down and reaches it once it is up', async () => {
    const spare = await serveRole('server-b', counting, { tls: await pki.creds('server-b') });
    const port = spare.port;
    await spare.close();
    const t = new HttpTransport({
      role: 'server-a',
      peers: { 'server-b': `https://127.0.0.1:${port}` },
      tls: await pki.creds('server-a'),
      retries: 6,
      retryDelayMs: 50,
    });
    let restarted: RoleServer | undefined;
    const start = applied;
    try {
      const pending = t.request('server-a', 'server-b', request(7));
      await new Promise((r) => setTimeout(r, 120));
      restarted = await serveRole('server-b', counting, { tls: await pki.creds('server-b'), port });
      expect(expectType(await pending, 'indicator-bits').bits[0]).toBe(7);
      expect(t.retriesMade).toBeGreaterThanOrEqual(1);
      expect(applied - start).toBe(1);
    } finally {
      await t.close();
      await restarted?.close();
    }
  });

  it('gives up with a TransportError when the peer never comes back', async () => {
    const spare = await serveRole('server-b', counting, { tls: await pki.creds('server-b') });
    const port = spare.port;
    await spare.close();
    const t = new HttpTransport({
      role: 'server-a',
      peers: { 'server-b': `https://127.0.0.1:${port}` },
      tls: await pki.creds('server-a'),
      retries: 2,
      retryDelayMs: 10,
    });
    try {
      const error = await rejection(t.request('server-a', 'server-b', request(8)));
      expect(error).toBeInstanceOf(TransportError);
      expect(error.details).toMatchObject({ to: 'server-b', cause: 'ECONNREFUSED', attempts: 3 });
    } finally {
      await t.close();
    }
  });
});

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] ^= 0x01;
  return copy;
}

/** A TCP proxy to a local port that can cut the next connection on demand (a lost response). */
class DroppingProxy {
  dropNext = false;
  connections = 0;
  private dropped: Socket[] = [];
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<DroppingProxy> {
    let proxy!: DroppingProxy;
    const server = createServer((client) => {
      proxy.connections++;
      const upstream = tcpConnect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        proxy.open.add(s);
        s.on('close', () => proxy.open.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      if (proxy.dropNext) {
        proxy.dropNext = false;
        proxy.dropped = [client, upstream];
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new DroppingProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Cuts the marked connection, both sides, before the server's reply can pass. */
  cutDropped(): void {
    for (const s of this.dropped) s.destroy();
    this.dropped = [];
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
