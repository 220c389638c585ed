// A free TCP port on loopback, for the servers the demo and the tests start on this
// machine: role processes (deployment.ts) and a redis-server (src/queue/local.ts).
import { createServer } from 'node:net';

/** The kernel's pick, released just before the caller binds it (another process may take it first). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
