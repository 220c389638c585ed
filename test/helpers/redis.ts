// A redis-server of each test's own (issue 13): a free loopback port, a temporary directory,
// no snapshot and no append-only file, stopped afterwards. No mock Redis: where
// redis-server is not installed (.ci/run installs Debian's), the queue tests skip, saying so.
import {
  findRedisServer,
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from '../../src/queue/local.js';

export const haveRedis = findRedisServer() !== null;
if (!haveRedis) {
  console.warn('queue tests skipped: redis-server is not installed (Debian: apt-get install redis-server)');
}

/** Runs `fn` against a fresh redis-server, stopped whatever happens. */
export async function withRedis<T>(
  fn: (server: RedisServer) => Promise<T>,
  options: RedisServerOptions = {},
): Promise<T> {
  const server = await startRedisServer(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
