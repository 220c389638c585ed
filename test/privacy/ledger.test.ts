// B's privacy ledger in its state document: what a client spent survives a restart (the
// document is reopened from its file), a state file from before the ledger dropped its
// `queries` count still loads with its budget, and the ledger itself never writes: the
// gate saves the document once per operation.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ORDERS } from '../../src/fl/rdp-accountant.js';
import { type LedgerLimits, PrivacyLedger } from '../../src/privacy/ledger.js';
import { rhoFor, zcdpCurve } from '../../src/privacy/release.js';
import { ServerBState } from '../../src/roles/server-b-state.js';

const LIMITS: LedgerLimits = { epsilonCap: 3, delta: 1e-6, maxAborts: 2 };
const TABLES = ['staff', 'medium'];
const curve = zcdpCurve(rhoFor(1, LIMITS.delta), DEFAULT_ORDERS);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fedjoin-ledger-state-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the privacy ledger in B state', () => {
  it('keeps what a client spent across a restart, written only when the state is saved', () => {
    // a directory that does not exist yet: opening the state makes it
    const file = join(dir, 'nested', 'state.json');
    const state = ServerBState.open(file);
    const ledger = new PrivacyLedger(state.data.ledger, LIMITS);
    expect(ledger.charge('client', TABLES, curve)).toBe(true);
    expect(ledger.reserve('client', TABLES, 'training-1', 0.5)).toBe(true);
    ledger.abort('client', TABLES);
    const spent = ledger.spent('client', TABLES);
    expect(() => readFileSync(file)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    state.save();
    const reopened = new PrivacyLedger(ServerBState.open(file).data.ledger, LIMITS);
    expect(reopened.spent('client', TABLES)).toBe(spent);
    expect(reopened.mayQuery('client', TABLES)).toBe(true);
    reopened.abort('client', TABLES);
    expect(reopened.mayQuery('client', TABLES)).toBe(false);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.values(saved.ledger).map((e) => Object.keys(e as object).sort())).toEqual([
      ['aborts', 'client', 'rdp', 'reserved', 'tables'],
    ]);
  });

  it("loads a state file whose entries still carry the old 'queries' count, budget and all", async () => {
    const file = join(dir, 'old.json');
    const fresh = ServerBState.open();
    new PrivacyLedger(fresh.data.ledger, LIMITS).charge('client', TABLES, curve);
    const old = JSON.parse(JSON.stringify(fresh.data));
    for (const entry of Object.values(old.ledger)) (entry as { queries: number }).queries = 1;
    await writeFile(file, JSON.stringify(old), { mode: 0o600 });
    const ledger = new PrivacyLedger(ServerBState.open(file).data.ledger, LIMITS);
    const charges = (l: PrivacyLedger) => {
      let n = 0;
      while (l.charge('client', TABLES, curve)) n++;
      return n;
    };
    expect(ledger.spent('client', TABLES)).toBeGreaterThan(0);
    // the release the old file records still counts: one fewer fits under the cap
    const allowed = charges(new PrivacyLedger({}, LIMITS));
    expect(allowed).toBeGreaterThan(1);
    expect(charges(ledger)).toBe(allowed - 1);
  });
});
