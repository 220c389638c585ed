// `fedjoin demo` flags that do not combine are a usage error (exit 2) before anything
// starts. Run in this process through the CLI's run(): nothing here needs `npm run build`.
import { afterEach, expect, it, vi } from 'vitest';
import { EXIT_USAGE } from '../../src/cli/exit-codes.js';
import { run } from '../../src/cli/program.js';

afterEach(() => {
  vi.restoreAllMocks();
});

it('refuses --workers-redis with --processes (exit 2), whichever comes first', async () => {
  for (const flags of [
    ['--processes', '--workers-redis'],
    ['--workers-redis', '--processes'],
  ]) {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const code = await run(['demo', ...flags, '--no-report']);
    vi.restoreAllMocks();
    expect(code, stderr).toBe(EXIT_USAGE);
    expect(stderr).toContain('--workers-redis and --processes do not combine');
  }
}, 20_000);
