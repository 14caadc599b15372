// Available updates on a real PostgreSQL: dated by the fleet's first sight of each candidate, shown
// per host, and counted in days behind beside the advisory fixes (never twice for one package).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { AvailableUpdate, HostInventory } from '../src/domain/types.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { listFindings } from '../src/store/finding-queries.js';
import { fleetSummary, hostDetail } from '../src/store/fleet-queries.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const DAY_MS = 86_400_000;
const PUBLISHED = Date.parse('2026-09-30T00:00:00Z'); // DSA-9001-1, util-linux
const FIRST_SEEN = new Date('2026-11-01T00:00:00Z');
const NOW = new Date('2026-11-21T00:00:00Z');

const UUID_UPDATE: AvailableUpdate = { name: 'libuuid1', arch: 'amd64', installedVersion: '2.38.1-5+deb12u3', candidateVersion: '2.38.1-5+deb12u4', repository: 'Debian-Security:12/stable-security' };
const BASH_UPDATE: AvailableUpdate = { name: 'bash', arch: 'amd64', installedVersion: '5.2.15-2+b7', candidateVersion: '5.2.15-2+b8', repository: 'Debian:12.8/stable' };

function host(hostname: string, availableUpdates?: AvailableUpdate[]): HostInventory {
  const text = readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8');
  const { packages } = parseInventory({ text, fileName: 'status', format: 'dpkg-status', osEcosystem: 'Debian:12' });
  return {
    hostname,
    osEcosystem: 'Debian:12',
    packages,
    kernel: { installed: [] },
    rebootRequired: false,
    labels: { bucket: 'web', team: 'web' },
    ...(availableUpdates ? { availableUpdates } : {}),
  };
}

describe('available updates', () => {
  let database: TestDatabase;
  let detection: DetectionService;
  let advisoryFixes: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    detection = await DetectionService.load(database.pool);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-osv-'));
    const record = DEBIAN_ADVISORIES.find((advisory) => advisory.id === 'DSA-9001-1')!;
    writeFileSync(join(directory, 'DSA-9001-1.json'), JSON.stringify(record));
    await importAdvisories(database.pool, detection, openAdvisoryFeed(directory));
    await importInventories(database.pool, detection, [host('web-1', [UUID_UPDATE, BASH_UPDATE]), host('web-2')], { source: 'test', now: FIRST_SEEN });
    advisoryFixes = (await listFindings(database.pool, { host: 'web-1' })).filter((finding) => finding.fixedVersion !== undefined).length;
  });
  afterAll(async () => database?.drop());

  it('dates each candidate from the first time the fleet saw it, not from the latest report', async () => {
    await importInventories(database.pool, detection, [host('web-1', [UUID_UPDATE, BASH_UPDATE])], { source: 'test', now: new Date('2026-11-11T00:00:00Z') });
    const detail = await hostDetail(database.pool, 'web-1', { staleAfterSeconds: 3600, now: NOW });
    expect(detail!.availableUpdates).toEqual([
      { ...BASH_UPDATE, availableSince: FIRST_SEEN.toISOString() },
      { ...UUID_UPDATE, availableSince: FIRST_SEEN.toISOString() },
    ]);
    expect((await hostDetail(database.pool, 'web-2', { staleAfterSeconds: 3600, now: NOW }))!.availableUpdates).toBeUndefined();
  });


  it('counts updates no finding covers as open fixes in days behind', async () => {
    expect(advisoryFixes).toBeGreaterThan(0);
    const summary = await fleetSummary(database.pool, { staleAfterSeconds: 3600 * 24 * 365, now: NOW });
    const advisoryAge = (NOW.getTime() - PUBLISHED) / DAY_MS;
    const bashAge = (NOW.getTime() - FIRST_SEEN.getTime()) / DAY_MS;
    // web-1: its advisory fixes and bash (libuuid1 is one of the advisory fixes); web-2: the advisory fixes only.
    const expected = (2 * advisoryFixes * advisoryAge + bashAge) / (2 * advisoryFixes + 1);
    expect(summary.fleet.daysBehind).toBe(Math.round(expected * 10) / 10);
    expect(summary.fleet.availableUpdates).toBe(2);
    expect(summary.buckets).toEqual([expect.objectContaining({ name: 'web', hosts: 2, availableUpdates: 2 })]);
  });

  it('drops an update from days behind once the host no longer offers it', async () => {
    await importInventories(database.pool, detection, [host('web-1', [UUID_UPDATE])], { source: 'test', now: NOW });
    const summary = await fleetSummary(database.pool, { staleAfterSeconds: 3600 * 24 * 365, now: NOW });
    expect(summary.fleet.daysBehind).toBe(Math.round(((NOW.getTime() - PUBLISHED) / DAY_MS) * 10) / 10);
    expect(summary.fleet.availableUpdates).toBe(1);
  });

  it('keeps the update-based part of days behind when an advisory sync re-evaluates the host', async () => {
    await importInventories(database.pool, detection, [host('web-1', [UUID_UPDATE, BASH_UPDATE])], { source: 'test', now: NOW });
    const before = await fleetSummary(database.pool, { staleAfterSeconds: 3600 * 24 * 365, now: NOW });
    await database.pool.query('UPDATE hosts SET findings_digest = NULL');
    const client = await database.pool.connect();
    try {
      await detection.evaluateHosts(client, undefined, NOW);
    } finally {
      client.release();
    }
    expect(await fleetSummary(database.pool, { staleAfterSeconds: 3600 * 24 * 365, now: NOW })).toEqual(before);
  });

  it('moves a first sighting back when an import dated earlier reports the same candidate', async () => {
    const earlier = new Date('2026-10-20T00:00:00Z');
    await importInventories(database.pool, detection, [host('web-3', [BASH_UPDATE])], { source: 'backfill', now: earlier });
    const backfilled = await hostDetail(database.pool, 'web-3', { staleAfterSeconds: 3600, now: NOW });
    expect(backfilled!.availableUpdates).toEqual([{ ...BASH_UPDATE, availableSince: earlier.toISOString() }]);
  });

  it('takes concurrent check-ins of hosts sharing new packages and new candidates without a deadlock', async () => {
    for (let round = 0; round < 5; round++) {
      const base = host(`twin-${round}`);
      // Every host in a round runs the same never-seen versions and is offered the same never-seen candidates.
      const packages = base.packages.map((pkg, index) => (index % 50 === 0 ? { ...pkg, version: `${pkg.version}+round${round}` } : pkg));
      const updates = packages.slice(0, 40).map((pkg) => ({ name: pkg.name, installedVersion: pkg.version, candidateVersion: `${pkg.version}+next${round}` }));
      const twins = Array.from({ length: 6 }, (_unused, index) => ({ ...base, hostname: `twin-${round}-${index}`, packages: packages.map((pkg) => ({ ...pkg })), availableUpdates: updates }));
      await Promise.all(twins.map((twin) => importInventories(database.pool, detection, [twin], { source: 'agent', now: NOW })));
    }
    const stored = await database.pool.query<{ n: number }>("SELECT count(*)::integer AS n FROM hosts WHERE name LIKE 'twin-%' AND available_update_count = 40");
    expect(stored.rows[0]!.n).toBe(30);
  });
});
