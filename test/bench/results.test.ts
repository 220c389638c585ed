// Where bench results go (bench/lib/results.ts): every run to the results folder, named for
// its bench, date and host; a baseline is refused while the load average exceeds the core
// count, unless forced, and nothing is refused when no baseline is asked for.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environment } from '../../bench/lib/environment.js';
import {
  BaselineRefusedError,
  checkBaselineLoad,
  numberArg,
  outputOptions,
  stringArg,
  writeResults,
} from '../../bench/lib/results.js';

const at = (loadAverage: number) => ({ ...environment(), cores: 2, loadAverage });

describe('checkBaselineLoad', () => {
  it('refuses a baseline while the load average exceeds the cores, unless forced', () => {
    expect(() => checkBaselineLoad({ baseline: true }, at(2.01))).toThrow(BaselineRefusedError);
    expect(() => checkBaselineLoad({ baseline: true }, at(2.01))).toThrow(/load average is 2.01 on 2 cores/);
    expect(() => checkBaselineLoad({ baseline: true, force: true }, at(6))).not.toThrow();
    expect(() => checkBaselineLoad({ baseline: true }, at(2))).not.toThrow();
  });

  it('lets a plain run through whatever the load', () => {
    expect(() => checkBaselineLoad({}, at(6))).not.toThrow();
    expect(() => checkBaselineLoad(outputOptions(['--out', '/tmp/x']), at(6))).not.toThrow();
  });
});

describe('outputOptions', () => {
  it('reads --out, --baseline and --force among other arguments', () => {
    expect(outputOptions(['--nested', '100', '--baseline', '--out', 'dir'])).toEqual({
      out: 'dir',
      baseline: true,
      force: false,
    });
    expect(outputOptions(['20000', '--force'])).toEqual({ baseline: false, force: true });
  });
});

describe('numberArg and stringArg', () => {
  it('read the value after --<name>, or the fallback without the flag', () => {
    const argv = ['node', 'queue.js', '--bits', '1024', '--only', 'jobs,kill', '--baseline'];
    expect(numberArg(argv, 'bits', 2048)).toBe(1024);
    expect(numberArg(argv, 'rows', 100)).toBe(100);
    expect(stringArg(argv, 'only', 'jobs,scaling')).toBe('jobs,kill');
    expect(stringArg(argv, 'tile', '4x4')).toBe('4x4');
  });
});

describe('writeResults', () => {
  it('writes the run as <suite>-<date>-<host>.json and .md, and no baseline unless asked', async () => {
    const out = await mkdtemp(join(tmpdir(), 'fedjoin-results-'));
    try {
      const env = { ...environment(), host: 'test host' };
      const date = new Date('2026-11-25T17:59:03.176Z');
      const files = await writeResults(
        { schema: 'fedjoin-bench/1', suite: 'join', date, environment: env, rows: [] },
        '# table',
        { out },
      );
      expect(files.baseline).toBeUndefined();
      expect((await readdir(out)).sort()).toEqual([
        'join-2026-11-25T175903Z-test_host.json',
        'join-2026-11-25T175903Z-test_host.md',
      ]);
      expect(JSON.parse(await readFile(files.json, 'utf8'))).toMatchObject({ suite: 'join', rows: [] });
      expect(await readFile(files.markdown, 'utf8')).toBe('# table\n');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
