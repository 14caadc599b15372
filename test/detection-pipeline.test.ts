// The detection pipeline on a real PostgreSQL: advisories and inventories in, findings with
// states, history, kernel rules and atomic rejection of bad input out.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { InputError } from '../src/domain/errors.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { HostInventory } from '../src/domain/types.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { listFindings } from '../src/store/finding-queries.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES, TWO_KERNELS_DPKG_STATUS } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

function advisoryDirectory(records: readonly unknown[]): string {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-osv-'));
  for (const record of records) writeFileSync(join(directory, `${(record as { id: string }).id}.json`), JSON.stringify(record));
  return directory;
}

function debianHost(hostname: string, dpkgStatus: string, runningKernel?: string): HostInventory {
  const { packages } = parseInventory({ text: dpkgStatus, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' });
  return {
    hostname,
    osEcosystem: 'Debian:12',
    os: { id: 'debian', idLike: [], versionId: '12' },
    packages,
    kernel: runningKernel ? { running: runningKernel, installed: [] } : { installed: [] },
    rebootRequired: false,
    labels: {},
  };
}

const imageStatus = () => readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8');

async function count(database: TestDatabase, table: string): Promise<number> {
  return Number((await database.pool.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
}

describe('detection pipeline', () => {
  let database: TestDatabase;
  let detection: DetectionService;

  beforeAll(async () => {
    database = await createTestDatabase();
    detection = await DetectionService.load(database.pool);
    await importAdvisories(database.pool, detection, openAdvisoryFeed(advisoryDirectory(DEBIAN_ADVISORIES)));
  });
  afterAll(async () => database.drop());

  it('matches Debian packages by source package and source version', async () => {
    await importInventories(database.pool, detection, [debianHost('web-1', imageStatus())], { source: 'test' });
    const findings = await listFindings(database.pool, { host: 'web-1' });
    expect(findings.map((finding) => finding.advisoryId)).toEqual(expect.arrayContaining(['DSA-9001-1']));
    expect(findings.some((finding) => finding.advisoryId === 'DSA-9002-1')).toBe(false); // at the fixed version
    expect(findings.some((finding) => finding.advisoryId === 'DSA-9004-1')).toBe(false); // withdrawn
    expect(findings.some((finding) => finding.advisoryId === 'USN-9005-1')).toBe(false); // other distribution
    const libuuid = findings.find((finding) => finding.package === 'libuuid1')!;
    expect(libuuid).toMatchObject({
      sourcePackage: 'util-linux',
      installedVersion: '2.38.1-5+deb12u3',
      fixedVersion: '2.38.1-5+deb12u4',
      severity: 'high',
      state: 'vulnerable',
      aliases: ['CVE-2026-1001'],
    });
    // Every binary of the util-linux source is a finding of its own.
    expect(findings.filter((finding) => finding.sourcePackage === 'util-linux').length).toBeGreaterThan(3);
  });

  it('finds by CVE alias', async () => {
    const findings = await listFindings(database.pool, { advisory: 'CVE-2026-1001' });
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((finding) => finding.advisoryId))).toEqual(new Set(['DSA-9001-1']));
  });

  it('judges kernels on the running kernel: pending reboot while the old one runs', async () => {
    await importInventories(database.pool, detection, [debianHost('db-1', TWO_KERNELS_DPKG_STATUS, '6.1.0-17-amd64')], { source: 'test' });
    const findings = await listFindings(database.pool, { host: 'db-1', states: ['vulnerable', 'pending-reboot', 'not-applicable'] });
    expect(findings.map((finding) => [finding.package, finding.advisoryId, finding.state])).toEqual([
      ['linux-image-6.1.0-17-amd64', 'DSA-9003-1', 'pending-reboot'],
    ]);
    expect(findings[0]!.stateReason).toContain('6.1.76-1');

    // After the reboot into 6.1.0-18 the old kernel on disk is not a finding; the kernel one is fixed.
    await importInventories(database.pool, detection, [debianHost('db-1', TWO_KERNELS_DPKG_STATUS, '6.1.0-18-amd64')], { source: 'test' });
    const open = await listFindings(database.pool, { host: 'db-1' });
    expect(open).toEqual([]);
    const all = await listFindings(database.pool, { host: 'db-1', states: ['vulnerable', 'pending-reboot', 'fixed', 'not-applicable'] });
    expect(all.map((finding) => [finding.package, finding.state])).toEqual([['linux-image-6.1.0-17-amd64', 'not-applicable']]);
  });

  it('keeps first-seen and resolves fixed findings with a timestamp', async () => {
    const before = (await listFindings(database.pool, { host: 'web-1', advisory: 'DSA-9001-1' }))[0]!;
    const upgraded = imageStatus().replaceAll('2.38.1-5+deb12u3', '2.38.1-5+deb12u4');
    const later = new Date(before.firstSeenAt.getTime() + 3_600_000);
    const report = await importInventories(database.pool, detection, [debianHost('web-1', upgraded)], { source: 'test', now: later });
    expect(report.resolved).toBeGreaterThan(3);
    const fixed = await listFindings(database.pool, { host: 'web-1', advisory: 'DSA-9001-1', states: ['fixed'] });
    expect(fixed.length).toBe(report.resolved);
    expect(fixed[0]!.firstSeenAt).toEqual(before.firstSeenAt);
    expect(fixed[0]!.resolvedAt).toEqual(later);
  });

  it('re-evaluates only affected hosts when a new advisory arrives', async () => {
    const newAdvisory = { id: 'DSA-9006-1', modified: '2026-11-01T00:00:00Z', summary: 'bash: new issue', affected: [{ package: { ecosystem: 'Debian:12', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.2.15-3' }] }] }] };
    const report = await importAdvisories(database.pool, detection, openAdvisoryFeed(advisoryDirectory([...DEBIAN_ADVISORIES, newAdvisory])));
    expect(report.imported).toBe(1);
    expect(report.unchanged).toBe(DEBIAN_ADVISORIES.length);
    expect(report.hostsReevaluated).toBe(2);
    const findings = await listFindings(database.pool, { advisory: 'DSA-9006-1' });
    expect(new Set(findings.map((finding) => finding.host))).toEqual(new Set(['web-1', 'db-1']));
  });

  it('refuses a batch with one malformed advisory whole, naming file and field', async () => {
    const advisoriesBefore = await count(database, 'advisories');
    const findingsBefore = await count(database, 'findings');
    const good = { id: 'DSA-9007-1', modified: '2026-11-02T00:00:00Z', affected: [{ package: { ecosystem: 'Debian:12', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] }] };
    const bad = { id: 'DSA-9008-1', modified: '2026-11-02T00:00:00Z', affected: [{ package: { ecosystem: 'Debian:12', name: 'bash' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '1' }] }] }] };
    const error = await importAdvisories(database.pool, detection, openAdvisoryFeed(advisoryDirectory([good, bad]))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/DSA-9008-1\.json, field affected\[0\]\.ranges\[0\]\.events\[0\]: .*exactly one of/);
    expect(await count(database, 'advisories')).toBe(advisoriesBefore);
    expect(await count(database, 'findings')).toBe(findingsBefore);
  });
  it('answers each host of a batch with its own findings, opened and resolved', async () => {
    const upgraded = imageStatus().replaceAll('2.38.1-5+deb12u3', '2.38.1-5+deb12u4');
    const first = await importInventories(database.pool, detection, [debianHost('batch-vulnerable', imageStatus()), debianHost('batch-patched', upgraded)], { source: ['test:a', 'test:b'] });
    const [vulnerable, patched] = first.hostKeys.map((key) => first.byHost.get(key)!);
    // The patched host lacks util-linux's findings; each host's opened findings are its own.
    expect(vulnerable!.findings).toBeGreaterThan(patched!.findings);
    expect([vulnerable!.opened, patched!.opened]).toEqual([vulnerable!.findings, patched!.findings]);
    expect(first.opened).toBe(vulnerable!.findings + patched!.findings);
    // The vulnerable host patched, beside an unchanged one: only its own finding resolves.
    const second = await importInventories(database.pool, detection, [debianHost('batch-patched', upgraded), debianHost('batch-vulnerable', upgraded)], { source: 'test' });
    const counts = second.hostKeys.map((key) => second.byHost.get(key)!);
    expect(counts.map((host) => [host.opened, host.resolved])).toEqual([[0, 0], [0, vulnerable!.findings - patched!.findings]]);
    expect(counts[1]!.findings).toBe(patched!.findings);
    const sources = await database.pool.query<{ name: string; inventory_source: string }>("SELECT name, inventory_source FROM hosts WHERE name LIKE 'batch-%' ORDER BY name");
    expect(sources.rows).toEqual([{ name: 'batch-patched', inventory_source: 'test' }, { name: 'batch-vulnerable', inventory_source: 'test' }]);
  });
});
