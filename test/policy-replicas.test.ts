// Two real `fleetpatch server` processes on one PostgreSQL: a policy applied through one is in force
// on the other within a notification round trip, and a server given a bad --policy file refuses to
// start with exit 2 and the line and column.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { apiGet, apiSend, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const POLICY = `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "03:00", duration: 2h }
buckets:
  - name: databases
    owner: dba
    match: { labels: { role: database } }
    strategy: { kind: in-place }
    windows: [nightly]
`;

describe('policy on two replicas', () => {
  let database: TestDatabase;
  let first: ServerProcess;
  let second: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await startServerProcess({ DATABASE_URL: database.connectionString });
    second = await startServerProcess({ DATABASE_URL: database.connectionString });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.drop();
  });

  const revisionOn = async (server: ServerProcess) => (await apiGet<{ revision: { revision: number } | null }>(server, '/api/v1/policy', first.adminToken)).body.revision?.revision;

  it('puts a revision applied through one replica in force on the other', async () => {
    expect(await revisionOn(second)).toBeUndefined();
    const applied = await apiSend<{ revision: { revision: number } }>(first, 'PUT', '/api/v1/policy', first.adminToken, { text: POLICY, message: 'first' });
    expect(applied.status).toBe(201);
    for (let attempt = 0; attempt < 100 && (await revisionOn(second)) !== 1; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await revisionOn(second)).toBe(1);
    const onSecond = await apiGet<{ origin: string; policy: { buckets: Array<{ owner: string }> } }>(second, '/api/v1/policy', first.adminToken);
    expect(onSecond.body.origin).toBe('revision');
    expect(onSecond.body.policy.buckets[0]!.owner).toBe('dba');

    // And back: the second applies, the first follows.
    expect((await apiSend(second, 'PUT', '/api/v1/policy', first.adminToken, { text: POLICY.replace('owner: dba', 'owner: data-platform'), message: 'second' })).status).toBe(201);
    for (let attempt = 0; attempt < 100 && (await revisionOn(first)) !== 2; attempt++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await revisionOn(first)).toBe(2);
  });

  it('refuses to start a server on a bad --policy file (exit 2, line and column)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fleetpatch-bad-policy-')), 'fleetpatch.yaml');
    writeFileSync(file, POLICY.replace('strategy:', 'stratgy:'));
    const result = await runCli(['server', '--port', '0', '--sync-interval', '0', '--policy', file], { DATABASE_URL: database.connectionString });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:8:5: error: buckets[0].stratgy: unknown key "stratgy"; did you mean "strategy"?`);
    expect(result.stderr).toMatch(/fleetpatch: .*fleetpatch\.yaml, line 5, column 5, field buckets\[0\]\.strategy: missing "strategy"/);
  });
});
