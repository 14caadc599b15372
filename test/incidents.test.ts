// Incidents on a real PostgreSQL: an advisory import that brings a KEV-listed critical advisory
// affecting hosts in three buckets opens exactly one incident (with its opened event and audit
// entry), a second import of it opens none, an advisory that meets no trigger opens none; the
// scope counts the hosts per bucket and team, an accepted risk excluded with its reason; an
// operator opens one for another advisory, and is refused a second for the same one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { IncidentConflict, incidentDetail, incidentOpener, openIncident } from '../src/app/incident-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { policyOwnership } from '../src/domain/policy/ownership.js';
import { parsePolicy } from '../src/domain/policy/policy-document.js';
import type { HostInventory } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { replaceKevCatalogue } from '../src/store/advisory-store.js';
import { listAudit } from '../src/store/audit-log.js';
import { acceptRisk } from '../src/store/finding-queries.js';
import { incidentEvents, listIncidents } from '../src/store/incident-store.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import { DEBIAN_ADVISORIES, TWO_KERNELS_DPKG_STATUS } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const POLICY = parsePolicy(`version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: web, owner: web-team, match: { labels: { role: web } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: batch, owner: data-platform, match: { labels: { role: batch } }, strategy: { kind: in-place }, windows: [nightly] }
emergency:
  statusEvery: 1h
`, 'fleetpatch.yaml');

const NOW = new Date('2026-12-01T10:00:00Z');

function advisory(id: string, options: { alias: string; severity: string; modified?: string; name?: string; summary: string }) {
  return advisoryFromOsv({
    id, modified: options.modified ?? '2026-11-30T00:00:00Z', published: '2026-11-30T00:00:00Z', aliases: [options.alias], summary: options.summary,
    database_specific: { severity: options.severity },
    affected: [{ package: { ecosystem: 'Debian:12', name: options.name ?? 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
  }, { file: `${id}.json` });
}

const host = (hostname: string, role: string, packageName = 'libfp1', source = 'libfp'): HostInventory => ({
  hostname, osEcosystem: 'Debian:12', rebootRequired: false, labels: { role }, kernel: { installed: [] },
  packages: [{ ecosystem: 'Debian:12', name: packageName, version: '1.0-1', arch: 'amd64', sourceName: source, sourceVersion: '1.0-1' }],
});

describe('incidents opened by advisory imports', () => {
  let database: TestDatabase;
  let detection: DetectionService;
  const openIncidents = incidentOpener(() => POLICY.emergency, () => NOW);

  beforeAll(async () => {
    database = await createTestDatabase();
    detection = await DetectionService.load(database.pool);
    await replaceKevCatalogue(database.pool, [{ cveId: 'CVE-2026-7001', dateAdded: '2026-11-30', dueDate: '2026-12-14', knownRansomwareCampaignUse: false, vendorProject: 'fp', product: 'libfp' }]);
    await importInventories(database.pool, detection, [
      host('db-1', 'db'), host('db-2', 'db'), host('web-1', 'web'), host('batch-1', 'batch'), host('batch-2', 'batch'),
      host('web-2', 'web', 'libother1', 'libother'), host('web-3', 'web', 'libquiet1', 'libquiet'),
    ], { source: 'test', ownership: policyOwnership(POLICY), now: NOW });
    await acceptRisk(database.pool, { advisoryId: 'CVE-2026-7001', hostName: 'batch-1', reason: 'batch-1 is air-gapped', acceptedBy: 'alice', expiresAt: new Date('2027-01-01T00:00:00Z') });
  });
  afterAll(async () => database?.drop());

  it('opens exactly one incident for a KEV-listed critical advisory affecting hosts in three buckets, and none when it is imported again', async () => {
    const kev = advisory('DSA-7001-1', { alias: 'CVE-2026-7001', severity: 'critical', summary: 'libfp: remote code execution' });
    const report = await importAdvisories(database.pool, detection, new MemoryFeed('debian', [kev]), { now: NOW, openIncidents });
    expect(report.incidentsOpened).toHaveLength(1);
    const [incident] = await listIncidents(database.pool);
    expect(incident).toMatchObject({ id: report.incidentsOpened![0], state: 'open', advisories: ['DSA-7001-1'], openedBy: 'system:emergency', openedAt: NOW, statusEveryMs: 3_600_000, title: 'DSA-7001-1: libfp: remote code execution' });
    // batch-1's finding is under an accepted risk: four hosts are affected, not five.
    expect(incident!.triggerReason).toBe('DSA-7001-1 affects 4 hosts and meets the emergency triggers: critical severity; known exploited (CISA KEV)');
    expect(await incidentEvents(database.pool, incident!.id)).toEqual([{ kind: 'opened', at: NOW, by: 'system:emergency', advisories: ['DSA-7001-1'], reason: incident!.triggerReason }]);
    const audit = await listAudit(database.pool, { action: 'incident' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'incident.opened', actor: 'system:emergency', subject: `incident:${incident!.id}`, details: { advisories: ['DSA-7001-1'], triggers: ['severity', 'known-exploited'], affectedHosts: 4 } });

    // The same record again is unchanged; a newer revision of it is covered by the open incident.
    expect((await importAdvisories(database.pool, detection, new MemoryFeed('debian', [kev]), { now: NOW, openIncidents })).incidentsOpened).toBeUndefined();
    const revised = advisory('DSA-7001-1', { alias: 'CVE-2026-7001', severity: 'critical', summary: 'libfp: remote code execution', modified: '2026-12-01T00:00:00Z' });
    expect((await importAdvisories(database.pool, detection, new MemoryFeed('debian', [revised]), { now: NOW, openIncidents })).incidentsOpened).toEqual([]);
    // So is another record of the same CVE.
    const usn = advisory('FP-7001-2', { alias: 'CVE-2026-7001', severity: 'critical', summary: 'libfp again' });
    expect((await importAdvisories(database.pool, detection, new MemoryFeed('other', [usn]), { now: NOW, openIncidents })).incidentsOpened).toEqual([]);
    expect(await listIncidents(database.pool)).toHaveLength(1);

    // The scope: per bucket and team, the accepted risk excluded with its reason.
    const detail = await incidentDetail(database.pool, incident!.id, { now: NOW, staleAfterMs: 3_600_000 });
    expect(detail.scope.total).toEqual({ hosts: 5, vulnerable: 4, pendingReboot: 0, live: 0, excluded: 1, unknown: 0 });
    expect(detail.scope.byBucket).toEqual([
      { bucket: 'batch', counts: { hosts: 2, vulnerable: 1, pendingReboot: 0, live: 0, excluded: 1, unknown: 0 } },
      { bucket: 'databases', counts: { hosts: 2, vulnerable: 2, pendingReboot: 0, live: 0, excluded: 0, unknown: 0 } },
      { bucket: 'web', counts: { hosts: 1, vulnerable: 1, pendingReboot: 0, live: 0, excluded: 0, unknown: 0 } },
    ]);
    expect(detail.scope.byTeam.map((team) => [team.team, team.counts.hosts])).toEqual([['data-platform', 4], ['web-team', 1]]);
    expect(detail.scope.hosts.find((scoped) => scoped.name === 'batch-1')!.exclusionReasons).toEqual(['accepted risk: batch-1 is air-gapped (accepted by alice until 2027-01-01)']);
    expect(detail.scope.closable).toBe(false);
    expect(detail.durations.timeToDetectMs).toBe(NOW.getTime() - Date.parse('2026-11-30T00:00:00Z'));
  });

  it('opens none for an advisory that meets no trigger, nor for a triggering one that affects no host', async () => {
    const before = (await listIncidents(database.pool)).length;
    const medium = advisory('DSA-7002-1', { alias: 'CVE-2026-7002', severity: 'medium', name: 'libother', summary: 'libother: a medium flaw' });
    const report = await importAdvisories(database.pool, detection, new MemoryFeed('debian-2', [medium]), { now: NOW, openIncidents });
    expect(report.hostsReevaluated).toBe(1);
    expect(report.incidentsOpened).toEqual([]);
    const nobody = advisory('DSA-7003-1', { alias: 'CVE-2026-7003', severity: 'critical', name: 'libnobody', summary: 'libnobody: critical, but nobody runs it' });
    expect((await importAdvisories(database.pool, detection, new MemoryFeed('debian-3', [nobody]), { now: NOW, openIncidents })).incidentsOpened).toBeUndefined();
    expect(await listIncidents(database.pool)).toHaveLength(before);
  });

  it('lets an operator open one for any stored advisory (by CVE), audited, and refuses a second for it', async () => {
    const id = await openIncident(database.pool, { advisory: 'CVE-2026-7002', reason: 'exploit published on a mailing list', actor: 'cli:alice', now: NOW, emergency: POLICY.emergency });
    const detail = await incidentDetail(database.pool, id, { now: NOW, staleAfterMs: 3_600_000 });
    expect(detail.incident).toMatchObject({ advisories: ['DSA-7002-1'], openedBy: 'cli:alice', triggerReason: 'exploit published on a mailing list' });
    expect(detail.scope.total.hosts).toBe(1);
    expect(detail.events.map((event) => event.kind)).toEqual(['opened']);
    expect((await listAudit(database.pool, { action: 'incident.opened', limit: 1 }))[0]).toMatchObject({ actor: 'cli:alice', subject: `incident:${id}`, details: { triggers: [] } });
    const refused = await openIncident(database.pool, { advisory: 'DSA-7002-1', reason: 'again', actor: 'cli:bob', now: NOW }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IncidentConflict);
    expect((refused as IncidentConflict).message).toMatch(new RegExp(`INC-${id} is open and already covers DSA-7002-1`));
    const unknown = await openIncident(database.pool, { advisory: 'CVE-1999-0001', reason: 'x', actor: 'cli:bob', now: NOW }).catch((error: unknown) => error);
    expect((unknown as Error).message).toBe('field advisory: no advisory CVE-1999-0001 is stored');
  });

  it('counts a host live once it boots the fixed kernel (the old kernel on disk is then not-applicable), from its boot time', async () => {
    const kernelHost = (running: string, bootTime?: Date): HostInventory => ({
      hostname: 'k-1', osEcosystem: 'Debian:12', os: { id: 'debian', idLike: [], versionId: '12' }, rebootRequired: false, labels: { role: 'db' },
      packages: parseInventory({ text: TWO_KERNELS_DPKG_STATUS, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' }).packages,
      kernel: { running, installed: [] }, ...(bootTime ? { bootTime } : {}),
    });
    const ownership = policyOwnership(POLICY);
    await importInventories(database.pool, detection, [kernelHost('6.1.0-17-amd64')], { source: 'test', ownership, now: NOW });
    const linux = advisoryFromOsv(DEBIAN_ADVISORIES.find((record) => record.id === 'DSA-9003-1')!, { file: 'DSA-9003-1.json' });
    const [id] = (await importAdvisories(database.pool, detection, new MemoryFeed('kernels', [linux]), { now: NOW, openIncidents })).incidentsOpened!;
    const before = await incidentDetail(database.pool, id!, { now: NOW, staleAfterMs: 3_600_000 });
    expect(before.scope.total).toMatchObject({ hosts: 1, pendingReboot: 1 });
    expect(before.scope.closeBlockers.map((blocker) => blocker.text)).toEqual(['databases: 1 host patched but pending reboot (k-1)']);

    const booted = new Date(NOW.getTime() + 20 * 60_000);
    const later = new Date(NOW.getTime() + 30 * 60_000);
    await importInventories(database.pool, detection, [kernelHost('6.1.0-18-amd64', booted)], { source: 'test', ownership, now: later });
    const after = await incidentDetail(database.pool, id!, { now: later, staleAfterMs: 3_600_000 });
    expect(after.scope.total).toMatchObject({ hosts: 1, pendingReboot: 0, live: 1 });
    expect(after.scope.closable).toBe(true);
    expect(after.durations.timeToLiveMs).toBe(20 * 60_000);
  });
});
