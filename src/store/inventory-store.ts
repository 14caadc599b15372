/**
 * Hosts and what they run. Package versions are stored once per distinct tuple and each host
 * points at a content-addressed package set, so 10,000 hosts built from one baseline cost one
 * list, and "who runs this version" is a GIN lookup.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { HostInventory, InstalledPackage } from '../domain/types.js';

type Queryable = pg.Pool | pg.PoolClient;

const PACKAGE_BATCH = 5_000;

export interface StoredPackageVersion extends InstalledPackage {
  key: number;
}

function tupleKey(pkg: InstalledPackage): string {
  return [pkg.ecosystem, pkg.name, pkg.version, pkg.arch ?? '', pkg.sourceName ?? '', pkg.sourceVersion ?? '', pkg.epochKnown === false ? 'f' : 't'].join('\u0000');
}

/**
 * Keys of the given package versions, inserting the ones not stored yet. Returns a map from each
 * package's tuple to its key; duplicates in the input are stored once.
 */
export async function ensurePackageVersions(db: Queryable, packages: Iterable<InstalledPackage>): Promise<Map<string, number>> {
  const distinct = new Map<string, InstalledPackage>();
  for (const pkg of packages) distinct.set(tupleKey(pkg), pkg);
  const keys = new Map<string, number>();
  const all = [...distinct.values()];
  for (let start = 0; start < all.length; start += PACKAGE_BATCH) {
    const batch = all.slice(start, start + PACKAGE_BATCH);
    const columns = [
      batch.map((pkg) => pkg.ecosystem),
      batch.map((pkg) => pkg.name),
      batch.map((pkg) => pkg.version),
      batch.map((pkg) => pkg.arch ?? ''),
      batch.map((pkg) => pkg.sourceName ?? ''),
      batch.map((pkg) => pkg.sourceVersion ?? ''),
      batch.map((pkg) => pkg.epochKnown !== false),
    ];
    // Insert the missing ones first, then read every key back: ON CONFLICT DO NOTHING returns no
    // row for tuples that already existed.
    await db.query(
      `INSERT INTO package_versions (ecosystem, name, version, arch, source_name, source_version, epoch_known)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
       ORDER BY 1, 2, 3
       ON CONFLICT DO NOTHING`,
      columns,
    );
    const result = await db.query<{ key: number; ecosystem: string; name: string; version: string; arch: string; source_name: string; source_version: string; epoch_known: boolean }>(
      `SELECT p.key, p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version, p.epoch_known
         FROM package_versions p
         JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
              AS u(ecosystem, name, version, arch, source_name, source_version, epoch_known)
           ON (p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version, p.epoch_known)
            = (u.ecosystem, u.name, u.version, u.arch, u.source_name, u.source_version, u.epoch_known)`,
      columns,
    );
    for (const row of result.rows) keys.set(tupleKey(packageOfRow(row)), row.key);
  }
  return keys;
}

/** The key of the package set holding exactly these package version keys. */
export async function ensurePackageSet(db: Queryable, packageKeys: number[]): Promise<number> {
  const sorted = [...new Set(packageKeys)].sort((a, b) => a - b);
  const digest = createHash('sha256').update(sorted.join(',')).digest('hex');
  const result = await db.query<{ key: number }>(
    `WITH inserted AS (
       INSERT INTO package_sets (digest, package_keys) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING RETURNING key
     )
     SELECT key FROM inserted UNION ALL SELECT key FROM package_sets WHERE digest = $1`,
    [digest, sorted],
  );
  return result.rows[0]!.key;
}

export interface HostRecord {
  inventory: HostInventory;
  packageSetKey: number;
  source: string;
  seenAt: Date;
}

/** Inserts or updates a host and returns its key. */
export async function upsertHost(db: Queryable, record: HostRecord): Promise<number> {
  const { inventory } = record;
  const result = await db.query<{ key: number }>(
    `INSERT INTO hosts (name, os_id, os_version, os_ecosystem, os_pretty_name, arch, running_kernel, reboot_required,
                        boot_time, labels, package_set_key, inventory_source, inventory_updated_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
     ON CONFLICT (name) DO UPDATE SET
       os_id = excluded.os_id, os_version = excluded.os_version, os_ecosystem = excluded.os_ecosystem,
       os_pretty_name = excluded.os_pretty_name, arch = excluded.arch, running_kernel = excluded.running_kernel,
       reboot_required = excluded.reboot_required, boot_time = excluded.boot_time,
       labels = hosts.labels || excluded.labels, package_set_key = excluded.package_set_key,
       inventory_source = excluded.inventory_source, inventory_updated_at = excluded.inventory_updated_at,
       last_seen_at = excluded.last_seen_at
     RETURNING key`,
    [
      inventory.hostname,
      inventory.os?.id ?? null,
      inventory.os?.versionId ?? null,
      inventory.osEcosystem ?? null,
      inventory.os?.prettyName ?? null,
      inventory.arch ?? null,
      inventory.kernel.running ?? null,
      inventory.rebootRequired,
      inventory.bootTime ?? null,
      JSON.stringify(inventory.labels),
      record.packageSetKey,
      record.source,
      record.seenAt,
    ],
  );
  return result.rows[0]!.key;
}

export interface HostSummary {
  key: number;
  name: string;
  osEcosystem?: string;
  runningKernel?: string;
  rebootRequired: boolean;
  packageSetKey?: number;
}

interface HostRow {
  key: number;
  name: string;
  os_ecosystem: string | null;
  running_kernel: string | null;
  reboot_required: boolean;
  package_set_key: number | null;
}

function hostSummaryOf(row: HostRow): HostSummary {
  const host: HostSummary = { key: row.key, name: row.name, rebootRequired: row.reboot_required };
  if (row.os_ecosystem !== null) host.osEcosystem = row.os_ecosystem;
  if (row.running_kernel !== null) host.runningKernel = row.running_kernel;
  if (row.package_set_key !== null) host.packageSetKey = row.package_set_key;
  return host;
}

/** Hosts by key, or every host when `hostKeys` is undefined. */
export async function loadHosts(db: Queryable, hostKeys?: number[]): Promise<HostSummary[]> {
  const result = hostKeys === undefined
    ? await db.query<HostRow>('SELECT key, name, os_ecosystem, running_kernel, reboot_required, package_set_key FROM hosts ORDER BY key')
    : await db.query<HostRow>('SELECT key, name, os_ecosystem, running_kernel, reboot_required, package_set_key FROM hosts WHERE key = ANY($1) ORDER BY key', [hostKeys]);
  return result.rows.map(hostSummaryOf);
}

/** Package keys of the given package sets. */
export async function loadPackageSets(db: Queryable, setKeys: number[]): Promise<Map<number, number[]>> {
  const result = await db.query<{ key: number; package_keys: number[] }>('SELECT key, package_keys FROM package_sets WHERE key = ANY($1)', [setKeys]);
  return new Map(result.rows.map((row) => [row.key, row.package_keys]));
}

/** Package versions by key, or all of them. */
export async function loadPackageVersions(db: Queryable, packageKeys?: number[]): Promise<Map<number, StoredPackageVersion>> {
  const select = 'SELECT key, ecosystem, name, version, arch, source_name, source_version, epoch_known FROM package_versions';
  const result = packageKeys === undefined
    ? await db.query<PackageRow>(select)
    : await db.query<PackageRow>(`${select} WHERE key = ANY($1)`, [packageKeys]);
  return new Map(result.rows.map((row) => [row.key, { key: row.key, ...packageOfRow(row) }]));
}

/** Keys of hosts whose package set contains any of the given package versions. */
export async function hostsWithPackages(db: Queryable, packageKeys: number[]): Promise<number[]> {
  if (packageKeys.length === 0) return [];
  const result = await db.query<{ key: number }>(
    `SELECT h.key FROM hosts h JOIN package_sets s ON s.key = h.package_set_key WHERE s.package_keys && $1::integer[]`,
    [packageKeys],
  );
  return result.rows.map((row) => row.key);
}

interface PackageRow {
  key: number;
  ecosystem: string;
  name: string;
  version: string;
  arch: string;
  source_name: string;
  source_version: string;
  epoch_known: boolean;
}

function packageOfRow(row: Omit<PackageRow, 'key'>): InstalledPackage {
  const pkg: InstalledPackage = { ecosystem: row.ecosystem, name: row.name, version: row.version };
  if (row.arch !== '') pkg.arch = row.arch;
  if (row.source_name !== '') pkg.sourceName = row.source_name;
  if (row.source_version !== '') pkg.sourceVersion = row.source_version;
  if (!row.epoch_known) pkg.epochKnown = false;
  return pkg;
}

export { tupleKey as packageTupleKey };
