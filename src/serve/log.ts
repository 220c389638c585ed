// A role process's log (issue 6): one JSON object per line on stdout, so a supervisor or a
// test can follow it. Events carry names, counts and timings only: never a key, a
// passphrase, a cell or a ciphertext.
import { exactJson } from '../data/exact-json.js';

export type Log = (event: string, fields?: Record<string, unknown>) => void;

export function jsonLog(role: string): Log {
  return (event, fields = {}) =>
    process.stdout.write(`${exactJson({ time: new Date().toISOString(), role, event, ...fields })}\n`);
}

export const silentLog: Log = () => {};
