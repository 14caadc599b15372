// One host cannot grow the server without bound: per check-in quotas on packages and on versions
// new to the fleet, a few slots for large check-ins, and pruning of package rows nothing references
// any more, safe beside check-ins of another process whose catalog still remembers pruned rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane, QuotaExceeded, TooBusy, type CheckInLimits } from '../src/app/control-plane.js';
import { DetectionService } from '../src/app/detection-service.js';
import { LABEL_OWNERSHIP } from '../src/domain/policy/ownership.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { packageListDigest, type CheckIn } from '../src/protocol/agent-protocol.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

function packages(prefix: string, count: number): InstalledPackage[] {
  return Array.from({ length: count }, (_unused, index) => ({ ecosystem: 'AlmaLinux:9', name: `${prefix}-${index}`, version: `1.${index}-1.el9`, arch: 'x86_64' }));
}

function fullCheckIn(list: InstalledPackage[]): CheckIn {
  return { kind: 'full', rebootRequired: false, osEcosystem: 'AlmaLinux:9', packageDigest: packageListDigest(list), packages: list, labels: {} } as CheckIn;
}

async function count(database: TestDatabase, table: string): Promise<number> {
  return Number((await database.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

/** Every key a set or finding names exists: nothing pruned was still referenced. */
async function danglingKeys(database: TestDatabase): Promise<number> {
  const result = await database.pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM package_sets s CROSS JOIN LATERAL unnest(s.package_keys) k WHERE NOT EXISTS (SELECT 1 FROM package_versions v WHERE v.key = k))
          + (SELECT count(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM package_versions v WHERE v.key = f.package_key)) AS n`,
  );
  return Number(result.rows[0]!.n);
}

describe('package limits and pruning', () => {
  let database: TestDatabase;
  const limits: Partial<CheckInLimits> = { maxPackages: 300, maxNewPackageVersions: 150, largeCheckInPackages: 100, maxConcurrentLargeCheckIns: 1, retryAfterSeconds: 7 };
  const controlPlane = (detection = new DetectionService()) => new ControlPlane(database.pool, detection, { ownership: LABEL_OWNERSHIP, staleAfterSeconds: 3600, limits });

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('refuses a host listing more packages than the quota, storing nothing', async () => {
    const plane = controlPlane();
    await expect(plane.checkIn('big-1', fullCheckIn(packages('big', 301)))).rejects.toBeInstanceOf(QuotaExceeded);
    expect(await count(database, 'package_versions')).toBe(0);
    expect(await count(database, 'hosts')).toBe(0);
  });

  it('refuses more versions new to the fleet than the quota in one check-in, storing nothing', async () => {
    const plane = controlPlane();
    await expect(plane.checkIn('new-1', fullCheckIn(packages('new', 151).slice(0, 99).concat(packages('other', 52))))).rejects.toThrow(/151 package versions new to the fleet/);
    expect(await count(database, 'package_versions')).toBe(0);
    // Within the quota it is taken; the same versions again are not new.
    await plane.checkIn('new-1', fullCheckIn(packages('new', 99)));
    await plane.checkIn('new-2', fullCheckIn([...packages('new', 99), ...packages('more', 99)]));
    expect(await count(database, 'package_versions')).toBe(198);
  });

  it('takes large check-ins a few at a time and answers the others TooBusy with a retry time', async () => {
    const plane = controlPlane();
    const results = await Promise.allSettled([plane.checkIn('large-1', fullCheckIn(packages('new', 120))), plane.checkIn('large-2', fullCheckIn(packages('new', 120)))]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((result) => result.status === 'rejected')!.reason as TooBusy;
    expect(refused).toBeInstanceOf(TooBusy);
    expect(refused.retryAfterSeconds).toBe(7);
    // Small check-ins need no slot, and the slot is free again afterwards.
    await Promise.all([plane.checkIn('small-1', fullCheckIn(packages('new', 10))), plane.checkIn('large-2', fullCheckIn(packages('new', 120)))]);
  });

  it('stores check-ins that arrive together in batches, and one by one when a batch is over a quota only in all', async () => {
    const plane = controlPlane();
    const before = await count(database, 'package_versions');
    // Twelve at once: four go out alone, the rest wait and go together, 8 × 40 = 320 versions new
    // to the fleet in all, over the 150 of one check-in; each alone is within it, so each is taken.
    const lists = Array.from({ length: 12 }, (_unused, index) => packages(`batch${index}`, 40));
    const results = await Promise.all(lists.map((list, index) => plane.checkIn(`batch-${index}`, fullCheckIn(list))));
    expect(results.map((result) => result.packages)).toEqual(lists.map(() => 40));
    expect(results.map((result) => result.packageDigest)).toEqual(lists.map((list) => packageListDigest(list)));
    expect(await count(database, 'package_versions')).toBe(before + 12 * 40);
    const stored = await database.pool.query<{ name: string; packages: number }>("SELECT h.name, cardinality(s.package_keys) AS packages FROM hosts h JOIN package_sets s ON s.key = h.package_set_key WHERE h.name LIKE 'batch-%' ORDER BY h.name");
    expect(stored.rows).toHaveLength(12);
    expect(stored.rows.every((row) => row.packages === 40)).toBe(true);
  });

  it('prunes sets and versions nothing references once their grace has passed, beside another process that cached them', async () => {
    // Another replica (its own catalog, trusting cached rows for one second) stored `gone-*` for a host.
    const other = controlPlane(new DetectionService({ trustSeconds: 1, maxVersions: 10_000, maxSets: 1_000 }));
    await other.checkIn('moving-1', fullCheckIn(packages('gone', 80)));
    const plane = controlPlane();
    // The host now runs something else: the old set and its versions are unreferenced.
    await plane.checkIn('moving-1', fullCheckIn(packages('kept', 80)));
    const versionsBefore = await count(database, 'package_versions');
    expect(await plane.prunePackages()).toEqual({ packageSets: 0, packageVersions: 0 });
    // Two hours pass for the database; the other replica's trust in its cache has run out too.
    await database.pool.query("UPDATE package_versions SET last_used_at = now() - interval '2 hours'");
    await database.pool.query("UPDATE package_sets SET last_used_at = now() - interval '2 hours'");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const pruned = await plane.prunePackages();
    expect(pruned.packageVersions).toBe(80);
    expect(pruned.packageSets).toBeGreaterThanOrEqual(1);
    expect(await count(database, 'package_versions')).toBe(versionsBefore - 80);
    expect(await danglingKeys(database)).toBe(0);
    // Referenced rows were confirmed by the prune: not candidates again at once.
    expect(await plane.prunePackages()).toEqual({ packageSets: 0, packageVersions: 0 });
    // The replica whose catalog remembered the pruned rows stores them anew.
    await other.checkIn('moving-2', fullCheckIn(packages('gone', 80)));
    expect(await danglingKeys(database)).toBe(0);
    const hostSet = await database.pool.query<{ n: number }>("SELECT cardinality(s.package_keys) AS n FROM hosts h JOIN package_sets s ON s.key = h.package_set_key WHERE h.name = 'moving-2'");
    expect(hostSet.rows[0]!.n).toBe(80);
  });

  it('check-ins of two processes racing a prune never leave a key to nothing', async () => {
    const first = controlPlane(new DetectionService({ trustSeconds: 0, maxVersions: 10_000, maxSets: 1_000 }));
    const second = controlPlane(new DetectionService({ trustSeconds: 0, maxVersions: 10_000, maxSets: 1_000 }));
    const lists = [packages('race-a', 60), packages('race-b', 60), [...packages('race-a', 30), ...packages('race-b', 30)]];
    const deadline = Date.now() + 3_000;
    let round = 0;
    while (Date.now() < deadline) {
      await database.pool.query("UPDATE package_versions SET last_used_at = now() - interval '2 hours'; UPDATE package_sets SET last_used_at = now() - interval '2 hours'");
      const list = lists[round % lists.length]!;
      await Promise.all([
        first.checkIn(`race-${round % 3}`, fullCheckIn(list)),
        second.checkIn(`race-${(round + 1) % 3}`, fullCheckIn(lists[(round + 1) % lists.length]!)),
        first.prunePackages(),
      ]);
      round++;
    }
    expect(round).toBeGreaterThan(3);
    expect(await danglingKeys(database)).toBe(0);
    const hosts = await database.pool.query<{ name: string; n: number }>(
      "SELECT h.name, (SELECT count(*) FROM unnest(s.package_keys) k JOIN package_versions v ON v.key = k)::integer AS n FROM hosts h JOIN package_sets s ON s.key = h.package_set_key WHERE h.name LIKE 'race-%'",
    );
    for (const host of hosts.rows) expect(host.n).toBe(60);
  }, 30_000);
});
