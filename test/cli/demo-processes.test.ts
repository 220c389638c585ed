// `fedjoin demo --processes` (issue 6): the demo's queries with A, B, the client and two
// owners as `fedjoin serve` processes give the in-process answers; the report is written.
// Small (1024 bits, an 8 x 8 nested sample, no training: the training over HTTP is covered by
// processes.test.ts, and by the demo at its defaults) to stay fast. Needs `npm run build`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cliMainPath } from '../../src/demo/children.js';

it('fedjoin demo --processes --json: answers over HTTP equal the in-process ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fedjoin-demo-'));
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) =>
        execFile(
          process.execPath,
          [
            cliMainPath(),
            'demo',
            '--processes',
            '--bits',
            '1024',
            '--nested-rows',
            '8',
            '--training-rounds',
            '0',
            '--workers',
            '1',
            '--json',
            '--report',
            join(dir, 'report'),
          ],
          { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
          (err, out, errOut) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: out, stderr: errOut }),
        ),
    );
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(true);
    expect(result.queries.map((q: { mode: string; match: boolean }) => [q.mode, q.match])).toEqual([
      ['hashed', true],
      ['hashed', true],
      ['nested', true],
      ['nested', true],
    ]);
    expect(result.queries[0].values['COUNT(*)']).toBe(250);
    // no training here (--training-rounds 0): processes.test.ts trains over HTTP
    expect(result.training).toEqual([]);
    expect(result.probe.rows).toBe(10_000);
    expect(result.probe.megabytesPerSecond).toBeGreaterThan(0);
    expect(result.wall.ratio).toBeGreaterThan(0);
    const html = await readFile(join(dir, 'report', 'report.html'), 'utf8');
    expect(html).toContain('over HTTP');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 150_000);
