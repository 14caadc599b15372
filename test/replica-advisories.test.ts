// Two real server processes on one PostgreSQL, and the CLI beside them: an advisory imported
// through any one of them is matched by the others on their next check-in, and no check-in
// resolves a finding against an index older than what the database holds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageListDigest } from '../src/protocol/agent-protocol.js';
import { runCli } from './cli.js';
import { apiGet, apiSend, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const PACKAGES = [
  { ecosystem: 'Debian:12', name: 'libuuid1', version: '2.38.1-5+deb12u3', arch: 'amd64', sourceName: 'util-linux', sourceVersion: '2.38.1-5+deb12u3' },
  { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' },
];

function advisoryDirectory(id: string, sourcePackage: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-replica-osv-'));
  writeFileSync(join(directory, `${id}.json`), JSON.stringify({
    schema_version: '1.6.0',
    id,
    modified: '2026-11-01T00:00:00Z',
    published: '2026-11-01T00:00:00Z',
    summary: `${sourcePackage}: still vulnerable in every released version`,
    affected: [{ package: { ecosystem: 'Debian:12', name: sourcePackage }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '99.0-1' }] }] }],
  }));
  return directory;
}

interface FindingRow { advisoryId: string; state: string; package: string }

describe('advisories imported by another process', () => {
  let database: TestDatabase;
  let first: ServerProcess;
  let second: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.connectionString };
    first = await startServerProcess(env, ['--advisories', mkdtempSync(join(tmpdir(), 'fleetpatch-empty-osv-'))]);
    // The second replica syncs from a directory holding an advisory the first has never read.
    second = await startServerProcess(env, ['--advisories', advisoryDirectory('REPLICA-2026-0001', 'util-linux')]);
  }, 60_000);
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
  });

  const token = () => first.adminToken;
  const checkIn = async (server: ServerProcess, hostname: string) => {
    const response = await apiSend<{ findings: number; opened: number; resolved: number }>(server, 'PUT', `/api/v1/hosts/${hostname}/inventory`, token(), {
      kind: 'full', rebootRequired: false, osEcosystem: 'Debian:12', packageDigest: packageListDigest(PACKAGES), packages: PACKAGES,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };
  const openAdvisories = async (server: ServerProcess, hostname: string) =>
    (await apiGet<FindingRow[]>(server, `/api/v1/findings?host=${hostname}`, token())).body.map((finding) => `${finding.advisoryId}:${finding.state}`).sort();
  const resolvedFindings = async () => Number((await database.pool.query<{ count: string }>("SELECT count(*) FROM findings WHERE state = 'fixed' OR resolved_at IS NOT NULL")).rows[0]!.count);

  it('a sync on one replica is matched by the other, which resolves nothing', async () => {
    expect(await checkIn(first, 'replica-1')).toMatchObject({ findings: 0 });
    const sync = await apiSend<{ imported: number; hostsReevaluated: number }>(second, 'POST', '/api/v1/advisories/sync', token(), {});
    expect(sync.body).toMatchObject({ imported: 1, hostsReevaluated: 1 });
    expect(await openAdvisories(first, 'replica-1')).toEqual(['REPLICA-2026-0001:vulnerable']);

    // The unchanged inventory again, through the replica that did not import: still vulnerable.
    expect(await checkIn(first, 'replica-1')).toMatchObject({ findings: 1, opened: 0, resolved: 0 });
    // A host the other replica has never evaluated is matched against the new advisory too.
    expect(await checkIn(first, 'replica-2')).toMatchObject({ findings: 1, opened: 1 });
    expect(await openAdvisories(second, 'replica-2')).toEqual(['REPLICA-2026-0001:vulnerable']);
    expect(await resolvedFindings()).toBe(0);
  }, 60_000);

  it('an import by the CLI on the same database is matched by both replicas', async () => {
    const imported = await runCli(['advisories', 'import', advisoryDirectory('REPLICA-2026-0002', 'bash')], { DATABASE_URL: database.connectionString });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('re-evaluated 2 host(s)');
    for (const [server, hostname] of [[first, 'replica-1'], [second, 'replica-2'], [second, 'replica-1'], [first, 'replica-2']] as const) {
      expect(await checkIn(server, hostname)).toMatchObject({ findings: 2, resolved: 0 });
    }
    expect(await checkIn(second, 'replica-3')).toMatchObject({ findings: 2, opened: 2 });
    for (const hostname of ['replica-1', 'replica-2', 'replica-3']) {
      expect(await openAdvisories(first, hostname)).toEqual(['REPLICA-2026-0001:vulnerable', 'REPLICA-2026-0002:vulnerable']);
    }
    expect(await resolvedFindings()).toBe(0);
  }, 60_000);

  it('check-ins racing an import on the other replica never resolve what it imported', async () => {
    const racing = advisoryDirectory('REPLICA-2026-0003', 'util-linux');
    const importing = runCli(['advisories', 'import', racing], { DATABASE_URL: database.connectionString });
    const hosts = ['replica-1', 'replica-2', 'replica-3'];
    // Check-ins on both replicas while the import runs, and after it.
    for (let round = 0; round < 6; round++) {
      await Promise.all(hosts.map((hostname, index) => checkIn(index % 2 === 0 ? first : second, hostname)));
    }
    expect((await importing).code).toBe(0);
    await Promise.all(hosts.map((hostname, index) => checkIn(index % 2 === 0 ? second : first, hostname)));
    for (const hostname of hosts) {
      expect(await openAdvisories(second, hostname)).toEqual(['REPLICA-2026-0001:vulnerable', 'REPLICA-2026-0002:vulnerable', 'REPLICA-2026-0003:vulnerable']);
    }
    expect(await resolvedFindings()).toBe(0);
  }, 90_000);
});
