// A host's counts (host list, fleet summary, /metrics, the check-in's answer) are the findings
// rows, one per (host, advisory, package name), whatever collapses onto one row: a package
// installed for two architectures, two versions of one library in a lockfile, two kernels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { HostInventory, InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { fleetSummary, hostPage } from '../src/store/fleet-queries.js';
import { TWO_KERNELS_DPKG_STATUS } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { almaLinuxAdvisories, realBaselines } from './simulated-fleet.js';

const NOW = new Date('2026-11-21T00:00:00Z');

function inventory(hostname: string, packages: InstalledPackage[], extra: Partial<HostInventory> = {}): HostInventory {
  return { hostname, packages, kernel: { installed: [] }, rebootRequired: false, labels: { bucket: 'counts', team: 'counts' }, ...extra };
}

/** Open findings rows of a host by severity, as the findings API lists them. */
async function findingRows(database: TestDatabase, hostname: string): Promise<Record<string, number>> {
  const result = await database.pool.query<{ severity: string; n: number }>(
    `SELECT a.severity, count(*)::integer AS n FROM findings f JOIN hosts h ON h.key = f.host_key JOIN advisories a ON a.key = f.advisory_key
      WHERE h.name = $1 AND f.resolved_at IS NULL AND f.state IN ('vulnerable', 'pending-reboot') GROUP BY a.severity`,
    [hostname],
  );
  const counts: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0, other: 0 };
  for (const row of result.rows) counts[row.severity in counts ? row.severity : 'other']! += row.n;
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);

describe('finding counts equal the findings rows', () => {
  let database: TestDatabase;
  let detection: DetectionService;
  const alma9 = realBaselines().get('AlmaLinux:9')!;
  const multilib = new Set(['glibc', 'openssl-libs', 'zlib', 'libxml2', 'systemd-libs']);

  beforeAll(async () => {
    database = await createTestDatabase();
    detection = new DetectionService();
    const lodash = advisoryFromOsv({
      schema_version: '1.6.0', id: 'GHSA-counts-lodash', modified: '2026-11-01T00:00:00Z', summary: 'lodash: prototype pollution',
      database_specific: { severity: 'HIGH' },
      affected: [{ package: { ecosystem: 'npm', name: 'lodash' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }] }],
    }, { file: 'lodash.json' });
    const linux = advisoryFromOsv({
      schema_version: '1.6.0', id: 'DSA-counts-linux', modified: '2026-11-01T00:00:00Z', summary: 'linux: every kernel on disk',
      affected: [{ package: { ecosystem: 'Debian:12', name: 'linux' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '99.0-1' }] }] }],
    }, { file: 'linux.json' });
    await importAdvisories(database.pool, detection, new MemoryFeed('counts', [...(await almaLinuxAdvisories([9])), lodash, linux]));
  }, 120_000);
  afterAll(async () => database?.drop());

  const cases: Array<[string, () => HostInventory]> = [
    ['packages installed for two architectures', () => inventory('multiarch-1', [
      ...alma9.filter((pkg) => multilib.has(pkg.name)),
      ...alma9.filter((pkg) => multilib.has(pkg.name)).map((pkg) => ({ ...pkg, arch: 'i686' })),
    ], { osEcosystem: 'AlmaLinux:9' })],
    ['a whole multilib host', () => inventory('multiarch-2', [...alma9, ...alma9.filter((pkg) => multilib.has(pkg.name)).map((pkg) => ({ ...pkg, arch: 'i686' }))], { osEcosystem: 'AlmaLinux:9' })],
    ['two vulnerable versions of one library in a lockfile', () => inventory('lockfile-1', [
      { ecosystem: 'npm', name: 'lodash', version: '4.17.15' },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.20' },
    ])],
    ['a vulnerable and a fixed version of one library', () => inventory('lockfile-2', [
      { ecosystem: 'npm', name: 'lodash', version: '4.17.21' },
      { ecosystem: 'npm', name: 'lodash', version: '4.17.15' },
    ])],
    ['two vulnerable kernels, one running', () => {
      const { packages } = parseInventory({ text: TWO_KERNELS_DPKG_STATUS, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' });
      return inventory('kernels-1', packages, { osEcosystem: 'Debian:12', kernel: { installed: [], running: '6.1.0-17-amd64' } });
    }],
  ];

  it.each(cases)('%s', async (_name, build) => {
    const host = build();
    const report = await importInventories(database.pool, detection, [host], { source: 'test', now: NOW });
    const rows = await findingRows(database, host.hostname);
    expect(total(rows)).toBeGreaterThan(0);
    expect(report.findings).toBe(total(rows));
    const page = await hostPage(database.pool, { search: host.hostname, offset: 0, limit: 10, staleAfterSeconds: 3600, now: NOW });
    expect(page.hosts.find((listed) => listed.name === host.hostname)!.openFindings).toEqual(rows);
    // The same inventory listed in another order changes nothing.
    const again = await importInventories(database.pool, detection, [{ ...host, packages: [...host.packages].reverse() }], { source: 'test', now: NOW });
    expect(again).toMatchObject({ hostsChanged: 0, findings: total(rows) });
  });

  it('the fleet summary adds up the rows', async () => {
    const summary = await fleetSummary(database.pool, { staleAfterSeconds: 3600, now: NOW });
    const all = await database.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM findings WHERE resolved_at IS NULL AND state IN ('vulnerable', 'pending-reboot')");
    expect(total(summary.fleet.openFindings)).toBe(all.rows[0]!.n);
  });
});
