// An incident end to end in a real server on a real PostgreSQL, on an injected clock: a synced
// KEV-listed critical advisory affecting hosts in three buckets opens it; a host patched but
// waiting for its reboot keeps it from closing (a 409 naming the host); once that host checks in
// with the fix live, it closes (audited); the exported timeline has every event, in Markdown and
// JSON, and the CLI reads the same incident.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { SimulatedHost } from '../src/simulator/simulated-agent.js';
import { replaceKevCatalogue } from '../src/store/advisory-store.js';
import { listAudit } from '../src/store/audit-log.js';
import { runCli } from './cli.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const ADVISORY = advisoryFromOsv({
  id: 'DSA-9400-1', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T06:00:00Z', aliases: ['CVE-2026-9400'], summary: 'glibc: remote code execution',
  database_specific: { severity: 'critical' },
  affected: [{ package: { ecosystem: 'Debian:12', name: 'glibc' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.36-9+deb12u9' }] }] }],
}, { file: 'DSA-9400-1.json' });
const libc = (version: string): InstalledPackage => ({ ecosystem: 'Debian:12', name: 'libc6', version, arch: 'amd64', sourceName: 'glibc', sourceVersion: version });
const FIXED = [{ name: 'libc6', version: '2.36-9+deb12u9' }];

interface Incident { id: number; label: string; state: string; advisories: string[]; openedBy: string; scope: { total: Record<string, number>; closable: boolean } }
interface Detail { incident: Incident; scope: { byBucket: Array<{ bucket: string; counts: Record<string, number> }>; closable: boolean; closeBlockers: Array<{ text: string }> }; events: Array<{ kind: string; at: string }>; durations: { timeToDetectMs?: number; timeToLiveMs?: number; liveWithinTarget?: boolean } }

describe('an incident from sync to close', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let clock = new Date('2026-12-01T09:00:00Z');
  let token = '';
  const hosts = new Map<string, SimulatedHost>();

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as T };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-incident-'));
    chmodSync(home, 0o755);
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: web, owner: web-team, match: { labels: { role: web } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: batch, owner: data-platform, match: { labels: { role: batch } }, strategy: { kind: in-place }, windows: [nightly] }
emergency: { target: 24h }
`);
    await replaceKevCatalogue(database.pool, [{ cveId: 'CVE-2026-9400', dateAdded: '2026-11-30', dueDate: '2026-12-14', knownRansomwareCampaignUse: true, vendorProject: 'GNU', product: 'glibc' }]);
    server = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('test', [ADVISORY]),
      syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: () => undefined, now: () => clock, snapshotIntervalMs: 3_600_000,
      // Without the emergency rollouts and the status cadence (test/incident-emergency.test.ts has them): this test patches its hosts by hand.
      rolloutEngine: { scheduleIntervalMs: 3_600_000 },
    });
    token = server.firstStart!.adminToken;
    for (const [name, role] of [['db-1', 'db'], ['web-1', 'web'], ['batch-1', 'batch']] as const) {
      hosts.set(name, new SimulatedHost({ serverUrl: server.url, token, name, labels: { role }, os: { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, osEcosystem: 'Debian:12', packages: [libc('2.36-9+deb12u7')], now: () => clock }));
    }
    for (const host of hosts.values()) await host.checkIn();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('opens on sync, stays open while a host waits for its reboot, closes once it is live, and exports every event', async () => {
    await server.syncAdvisories();
    const listed = await api<Incident[]>('GET', '/api/v1/incidents');
    expect(listed.body).toHaveLength(1);
    const incident = listed.body[0]!;
    expect(incident).toMatchObject({ state: 'open', advisories: ['DSA-9400-1'], openedBy: 'system:emergency', scope: { total: { hosts: 3, vulnerable: 3 }, closable: false } });
    const openedAt = clock;
    // A second sync brings nothing new and opens nothing.
    await server.syncAdvisories();
    expect((await api<Incident[]>('GET', '/api/v1/incidents')).body).toHaveLength(1);

    // web-1 and batch-1 are patched and rebooted; db-1 is patched but waits for its reboot.
    clock = new Date('2026-12-01T10:00:00Z');
    for (const name of ['web-1', 'batch-1']) {
      const host = hosts.get(name)!;
      host.install(FIXED);
      host.reboot();
      await host.checkIn();
    }
    const db = hosts.get('db-1')!;
    db.install(FIXED);
    await db.checkIn();

    const waiting = await api<Detail>('GET', `/api/v1/incidents/${incident.id}`);
    expect(waiting.status).toBe(200);
    expect(waiting.body.scope.byBucket).toEqual([
      { bucket: 'batch', counts: { hosts: 1, vulnerable: 0, pendingReboot: 0, live: 1, excluded: 0, unknown: 0 } },
      { bucket: 'databases', counts: { hosts: 1, vulnerable: 0, pendingReboot: 1, live: 0, excluded: 0, unknown: 0 } },
      { bucket: 'web', counts: { hosts: 1, vulnerable: 0, pendingReboot: 0, live: 1, excluded: 0, unknown: 0 } },
    ]);
    const refused = await api<{ error: { code: string; message: string; field: string; blockers: string[] } }>('POST', `/api/v1/incidents/${incident.id}/close`, { reason: 'looks done' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'incident-conflict', field: 'id', blockers: ['databases: 1 host patched but pending reboot (db-1)'] });
    expect(refused.body.error.message).toBe(`INC-${incident.id} cannot close yet: databases: 1 host patched but pending reboot (db-1)`);
    expect(await listAudit(database.pool, { action: 'incident.closed' })).toEqual([]);

    // db-1 reboots into the fix and checks in: every host is live.
    clock = new Date('2026-12-01T11:30:00Z');
    db.reboot();
    // Every agent checks in (one not seen for over the hour would be unknown and block closing).
    for (const host of hosts.values()) await host.checkIn();
    clock = new Date('2026-12-01T11:45:00Z');
    const closed = await api<Incident>('POST', `/api/v1/incidents/${incident.id}/close`, { reason: 'every host patched and live' });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: incident.id, state: 'closed', closedBy: 'token:initial admin', closeReason: 'every host patched and live' });
    expect((await listAudit(database.pool, { action: 'incident.closed' }))[0]).toMatchObject({ actor: 'token:initial admin', subject: `incident:${incident.id}`, details: { hosts: 3, live: 3, excluded: 0 } });
    const again = await api<{ error: { code: string } }>('POST', `/api/v1/incidents/${incident.id}/close`, { reason: 'twice' });
    expect(again.status).toBe(409);

    const detail = (await api<Detail>('GET', `/api/v1/incidents/${incident.id}`)).body;
    expect(detail.events.map((event) => [event.kind, event.at])).toEqual([['opened', openedAt.toISOString()], ['closed', '2026-12-01T11:45:00.000Z']]);
    expect(detail.durations).toMatchObject({ timeToDetectMs: openedAt.getTime() - Date.parse('2026-11-30T06:00:00Z'), timeToLiveMs: Date.parse('2026-12-01T11:30:00Z') - openedAt.getTime(), liveWithinTarget: true });

    const json = await api<{ incident: { id: string }; events: Array<{ kind: string }> }>('GET', `/api/v1/incidents/${incident.id}/timeline?format=json`);
    expect(json.body.incident.id).toBe(`INC-${incident.id}`);
    expect(json.body.events.map((event) => event.kind)).toEqual(detail.events.map((event) => event.kind));
    const markdown = await api('GET', `/api/v1/incidents/${incident.id}/timeline?format=markdown`);
    expect(markdown.contentType).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain(`- 2026-12-01 09:00 UTC: opened by system:emergency for DSA-9400-1: DSA-9400-1 affects 3 hosts and meets the emergency triggers: critical severity; known exploited (CISA KEV)`);
    expect(markdown.text).toContain('- 2026-12-01 11:45 UTC: closed by token:initial admin: every host patched and live');
    expect(markdown.text).toContain('- Time to live (opened to the last host running the fix): 2h30m, within the target');
    expect(markdown.text.match(/^- 2026-/gm)).toHaveLength(detail.events.length);

    // Unknown ids, advisories and bad formats name their field; a covered advisory cannot open a second incident.
    const unknownAdvisory = await api<{ error: { code: string; field: string } }>('POST', '/api/v1/incidents', { advisory: 'CVE-1999-0001', reason: 'test' });
    expect([unknownAdvisory.status, unknownAdvisory.body.error]).toEqual([404, expect.objectContaining({ code: 'unknown-advisory', field: 'advisory' })]);
    const reopened = await api<{ id: number; label: string }>('POST', '/api/v1/incidents', { advisory: 'CVE-2026-9400', reason: 'regression drill', commander: 'alice' });
    expect(reopened.status).toBe(201);
    const covered = await api<{ error: { code: string; field: string; message: string } }>('POST', '/api/v1/incidents', { advisory: 'DSA-9400-1', reason: 'again' });
    expect([covered.status, covered.body.error.field, covered.body.error.message]).toEqual([409, 'advisory', `${reopened.body.label} is open and already covers DSA-9400-1`]);
    expect((await api<{ error: { field: string } }>('GET', '/api/v1/incidents/999')).status).toBe(404);
    const badFormat = await api<{ error: { field: string } }>('GET', `/api/v1/incidents/${incident.id}/timeline?format=pdf`);
    expect([badFormat.status, badFormat.body.error.field]).toEqual([400, 'format']);

    // The CLI reads the same incident (a wide staleness: its clock is the wall clock, not the test's).
    const env = { DATABASE_URL: database.connectionString };
    const cliList = await runCli(['incident', 'list', '--json', '--stale-after', '999999999'], env);
    expect(cliList.code).toBe(0);
    expect((JSON.parse(cliList.stdout) as Incident[]).map((row) => [row.label, row.state, row.scope.total.live])).toEqual([[reopened.body.label, 'open', 3], [`INC-${incident.id}`, 'closed', 3]]);
    const cliShow = await runCli(['incident', 'show', `INC-${incident.id}`, '--json', '--stale-after', '999999999'], env);
    expect((JSON.parse(cliShow.stdout) as Detail).events.map((event) => event.kind)).toEqual(['opened', 'closed']);
    const cliTimeline = await runCli(['incident', 'timeline', String(incident.id), '--markdown', '--stale-after', '999999999'], env);
    expect(cliTimeline.stdout).toBe(markdown.text);
    const cliBad = await runCli(['incident', 'show', 'twelve'], env);
    expect(cliBad.code).toBe(2);
    expect(cliBad.stderr).toMatch(/field ID: not an incident id: "twelve"/);
  }, 120_000);
});
