// `fedjoin demo --workers-redis` (issue 13, item 6): the demo starts its own redis-server
// and 2 `fedjoin worker` processes, A's nested-join tiles run on them, and every answer
// still matches the plaintext join; nothing is left running. Small keys keep it short.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliMainPath } from '../../src/demo/children.js';
import { haveRedis } from '../helpers/redis.js';

describe.skipIf(!haveRedis)('fedjoin demo --workers-redis', () => {
  it('runs the nested join tiles on 2 worker processes and answers as the plaintext join does', async () => {
    const args = ['demo', '--workers-redis', '--bits', '1024', '--nested-rows', '12'];
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [cliMainPath(), ...args, '--training-rounds', '0', '--workers', '1', '--no-report'],
        { timeout: 120_000 },
        (err, out) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code, stdout.slice(-2000)).toBe(0);
    expect(stdout).toMatch(/^queue: A's join tiles go to 2 fedjoin worker processes/m);
    expect(stdout).toMatch(/^ok: (\d+) of \1 answers match the plaintext join/m);
    const [, first, second] =
      /queue: the workers ran (\d+) and (\d+) join jobs; redis-server stopped/.exec(stdout) ?? [];
    expect(Number(first) + Number(second)).toBeGreaterThan(0);
  });
});
