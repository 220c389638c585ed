// What server B keeps across restarts (DESIGN §1.1): the owners' table registrations,
// the privacy ledger, and the queries it has authorized with the runs A has opened for
// them, so that neither a budget nor a run count resets when B restarts. One JSON
// document, written whole to a temporary file, synced and renamed over the old one (0600),
// or kept in memory only when no file is given (tests, the in-process demo).
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LedgerEntry } from '../privacy/ledger.js';
import { writeFileAtomicSync } from '../serve/files.js';
import type { AuthorizedQuery } from './server-b-gate.js';
import type { Registration } from './server-b-registry.js';

const VERSION = 1;

export interface ServerBStateData {
  version: number;
  /** table -> owner -> its registered partition */
  registrations: Record<string, Record<string, Registration>>;
  ledger: Record<string, LedgerEntry>;
  queries: Record<string, AuthorizedQuery>;
}

export class ServerBState {
  private constructor(
    readonly data: ServerBStateData,
    private readonly file?: string,
  ) {}

  /**
   * The document in `file` (a fresh one if the file does not exist, its directory made),
   * or in memory only. Fields a newer B no longer keeps (a ledger entry's old `queries`
   * count) are carried along unread.
   */
  static open(file?: string): ServerBState {
    let data: ServerBStateData = { version: VERSION, registrations: {}, ledger: {}, queries: {} };
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      try {
        data = JSON.parse(readFileSync(file, 'utf8')) as ServerBStateData;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (data.version !== VERSION) throw new Error(`${file}: unknown state version ${data.version}`);
    }
    return new ServerBState(data, file);
  }

  save(): void {
    if (this.file)
      writeFileAtomicSync(this.file, JSON.stringify(this.data), { secret: true, overwrite: true });
  }
}
