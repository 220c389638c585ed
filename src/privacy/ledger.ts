// B's privacy ledger (DESIGN §1.1): per client and set of tables, the RDP curve of
// everything released to that client about those tables, composed additively (Mironov
// 2017, Prop. 1) across aggregate queries and trainings, and epsilon reserved by
// trainings in flight. A release that would take the total past the cap is refused.
// Aborted queries are counted too: probing by aborts is bounded. The entries live in B's
// state document (server-b-state.ts), which the gate saves once per operation, the
// ledger's change with its own.
import { DEFAULT_ORDERS, rdpToEpsilon } from '../fl/rdp-accountant.js';

export interface LedgerEntry {
  client: string;
  tables: string[];
  /** RDP at DEFAULT_ORDERS of every release so far */
  rdp: number[];
  /** epsilon held by trainings that have not finished, by training id */
  reserved: Record<string, number>;
  aborts: number;
}

export interface LedgerLimits {
  /** total epsilon per (client, tables) at `delta` */
  epsilonCap: number;
  delta: number;
  /** aborted queries per (client, tables) before every further query is refused */
  maxAborts: number;
}

export class PrivacyLedger {
  constructor(
    private readonly entries: Record<string, LedgerEntry>,
    private readonly limits: LedgerLimits,
  ) {}

  private entry(client: string, tables: readonly string[]): LedgerEntry {
    const sorted = [...tables].sort();
    const key = JSON.stringify([client, sorted]);
    this.entries[key] ??= {
      client,
      tables: sorted,
      rdp: DEFAULT_ORDERS.map(() => 0),
      reserved: {},
      aborts: 0,
    };
    return this.entries[key];
  }

  /** Epsilon at the policy's delta: the releases so far, plus what trainings hold. */
  spent(client: string, tables: readonly string[], extraRdp?: readonly number[]): number {
    const e = this.entry(client, tables);
    const rdp = e.rdp.map((r, i) => r + (extraRdp?.[i] ?? 0));
    const released = rdpToEpsilon(DEFAULT_ORDERS, rdp, this.limits.delta).epsilon;
    return released + Object.values(e.reserved).reduce((a, b) => a + b, 0);
  }

  /** Whether the client may start another query on these tables (aborts under the limit). */
  mayQuery(client: string, tables: readonly string[]): boolean {
    return this.entry(client, tables).aborts < this.limits.maxAborts;
  }

  /** Adds a release's RDP curve if the total stays within the cap; false (and nothing kept) if not. */
  charge(client: string, tables: readonly string[], rdp: readonly number[]): boolean {
    if (this.spent(client, tables, rdp) > this.limits.epsilonCap * (1 + 1e-9)) return false;
    const e = this.entry(client, tables);
    e.rdp = e.rdp.map((r, i) => r + rdp[i]);
    return true;
  }

  /** Holds `epsilon` for a training until it finishes; false if the cap does not allow it. */
  reserve(client: string, tables: readonly string[], id: string, epsilon: number): boolean {
    if (this.spent(client, tables) + epsilon > this.limits.epsilonCap * (1 + 1e-9)) return false;
    const e = this.entry(client, tables);
    e.reserved[id] = epsilon;
    return true;
  }

  /** A training's reservation replaced by what it actually spent. */
  settle(client: string, tables: readonly string[], id: string, rdp: readonly number[]): void {
    const e = this.entry(client, tables);
    delete e.reserved[id];
    e.rdp = e.rdp.map((r, i) => r + rdp[i]);
  }

  /** Counts an aborted query against the client. */
  abort(client: string, tables: readonly string[]): void {
    this.entry(client, tables).aborts++;
  }
}
