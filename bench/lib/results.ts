// Writes a run to <out>/<iso-date>-<host>.json (everything: environment, settings, each
// row's p50/mean and ratios, target verdicts) and a markdown table (<out>/latest.md for
// the engine suite). Shared by every suite; the JSON's `suite` field says which wrote it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Environment } from './environment.js';

/** '2026-11-25T164609Z': an ISO 8601 instant without ':' (not allowed in Windows names). */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '');
}

export function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '_');
}

export interface ResultFiles {
  json: string;
  markdown: string;
}

export async function writeResults(
  outDir: string,
  record: { suite: string; date: Date; environment: Environment } & Record<string, unknown>,
  markdown: string,
  markdownName = 'latest.md',
): Promise<ResultFiles> {
  await mkdir(outDir, { recursive: true });
  const json = join(outDir, `${fileStamp(record.date)}-${safeHost(record.environment.host)}.json`);
  const md = join(outDir, markdownName);
  await writeFile(json, `${JSON.stringify(record, null, 2)}\n`);
  await writeFile(md, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return { json, markdown: md };
}
