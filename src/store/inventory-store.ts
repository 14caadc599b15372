/**
 * Hosts and what they run. Package versions are stored once per distinct tuple and each host
 * points at a content-addressed package set, so 10,000 hosts built from one baseline cost one
 * list.
 */
import type pg from 'pg';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import type { DatedUpdate } from './available-update-store.js';
import { preparedStatement } from './prepared-statement.js';

type Queryable = pg.Pool | pg.PoolClient;

const PACKAGE_BATCH = 5_000;

export interface StoredPackageVersion extends InstalledPackage {
  key: number;
}

function tupleKey(pkg: InstalledPackage): string {
  return [pkg.ecosystem, pkg.name, pkg.version, pkg.arch ?? '', pkg.sourceName ?? '', pkg.sourceVersion ?? '', pkg.epochKnown === false ? 'f' : 't'].join('\u0000');
}

/**
 * Keys of the given package versions, inserting the ones not stored yet, and how many were new.
 * Returns a map from each package's tuple to its key; duplicates in the input are stored once.
 * Rows found are confirmed: `last_used_at` moves to now when it is older than `touchSeconds`, so a
 * key a process caches for at most that long is never pruned under it (see `prunePackages`).
 */
export async function ensurePackageVersions(db: Queryable, packages: Iterable<InstalledPackage>, touchSeconds: number): Promise<{ keys: Map<string, number>; inserted: number }> {
  const distinct = new Map<string, InstalledPackage>();
  for (const pkg of packages) distinct.set(tupleKey(pkg), pkg);
  const keys = new Map<string, number>();
  let inserted = 0;
  let pending = [...distinct.values()];
  // A row a prune deleted between this insert and the touch is missing afterwards: inserted anew.
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === 3) throw new Error(`package versions kept disappearing while being stored (${pending.length} left)`);
    const vanished: InstalledPackage[] = [];
    for (let start = 0; start < pending.length; start += PACKAGE_BATCH) {
      const batch = pending.slice(start, start + PACKAGE_BATCH);
      const columns = [
        batch.map((pkg) => pkg.ecosystem),
        batch.map((pkg) => pkg.name),
        batch.map((pkg) => pkg.version),
        batch.map((pkg) => pkg.arch ?? ''),
        batch.map((pkg) => pkg.sourceName ?? ''),
        batch.map((pkg) => pkg.sourceVersion ?? ''),
        batch.map((pkg) => pkg.epochKnown !== false),
      ];
      // One round trip: the missing ones are inserted (RETURNING gives their keys) and the others
      // read from the table. Found rows not confirmed lately are touched, locked in key order
      // (concurrent check-ins touching the same rows wait for each other instead of deadlocking). A
      // recent row cannot be pruned; an old one is alive only if the touch found it. A row another
      // transaction inserted after this statement's snapshot is neither inserted nor found: it is
      // looked up again by the next attempt.
      const result = await db.query<PackageRow & { alive: boolean; inserted: boolean }>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
                  AS u(ecosystem, name, version, arch, source_name, source_version, epoch_known)
         ), inserted AS (
           INSERT INTO package_versions (ecosystem, name, version, arch, source_name, source_version, epoch_known)
           SELECT * FROM input ORDER BY 1, 2, 3
           ON CONFLICT DO NOTHING
           RETURNING key, ecosystem, name, version, arch, source_name, source_version, epoch_known
         ), found AS (
           SELECT p.key, p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version, p.epoch_known,
                  p.last_used_at >= now() - make_interval(secs => $8) AS recent
             FROM package_versions p
             JOIN input u
               ON (p.ecosystem, p.name, p.version, p.arch, p.source_name, p.source_version, p.epoch_known)
                = (u.ecosystem, u.name, u.version, u.arch, u.source_name, u.source_version, u.epoch_known)
         ), touched AS (
           UPDATE package_versions p SET last_used_at = now()
            WHERE p.key IN (SELECT o.key FROM package_versions o WHERE o.key IN (SELECT key FROM found WHERE NOT recent) ORDER BY o.key FOR UPDATE)
           RETURNING p.key
         )
         SELECT i.key, i.ecosystem, i.name, i.version, i.arch, i.source_name, i.source_version, i.epoch_known, true AS alive, true AS inserted
           FROM inserted i
         UNION ALL
         SELECT f.key, f.ecosystem, f.name, f.version, f.arch, f.source_name, f.source_version, f.epoch_known,
                f.recent OR t.key IS NOT NULL AS alive, false AS inserted
           FROM found f LEFT JOIN touched t ON t.key = f.key`,
        [...columns, touchSeconds],
      );
      const alive = new Set<string>();
      for (const row of result.rows) {
        if (row.inserted) inserted++;
        if (!row.alive) continue;
        const tuple = tupleKey(packageOfRow(row));
        keys.set(tuple, row.key);
        alive.add(tuple);
      }
      for (const pkg of batch) if (!alive.has(tupleKey(pkg))) vanished.push(pkg);
    }
    pending = vanished;
  }
  return { keys, inserted };
}

const SET_BATCH = 500;
const HOST_BATCH = 1_000;

/**
 * Inserts the package sets not stored yet and returns the keys of all of them, in input order.
 * Found sets are confirmed as `ensurePackageVersions` confirms versions.
 */
export async function ensurePackageSets(db: Queryable, sets: Array<{ digest: string; packageKeys: number[] }>, touchSeconds: number): Promise<number[]> {
  const keyByDigest = new Map<string, number>();
  let pending = sets;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt === 3) throw new Error(`package sets kept disappearing while being stored (${pending.length} left)`);
    const vanished: typeof sets = [];
    for (let start = 0; start < pending.length; start += SET_BATCH) {
      const batch = pending.slice(start, start + SET_BATCH);
      // One round trip, as in ensurePackageVersions: new sets inserted, known ones found and confirmed.
      const result = await db.query<{ key: number; digest: string; alive: boolean }>(
        `WITH input AS (
           SELECT r.digest, ARRAY(SELECT jsonb_array_elements_text(r.package_keys)::integer) AS package_keys
             FROM jsonb_to_recordset($1::jsonb) AS r(digest text, package_keys jsonb)
         ), inserted AS (
           INSERT INTO package_sets (digest, package_keys)
           SELECT digest, package_keys FROM input ORDER BY digest
           ON CONFLICT (digest) DO NOTHING
           RETURNING key, digest
         ), found AS (
           SELECT key, digest, last_used_at >= now() - make_interval(secs => $2) AS recent FROM package_sets WHERE digest IN (SELECT digest FROM input)
         ), touched AS (
           UPDATE package_sets s SET last_used_at = now()
            WHERE s.key IN (SELECT o.key FROM package_sets o WHERE o.key IN (SELECT key FROM found WHERE NOT recent) ORDER BY o.key FOR UPDATE)
           RETURNING s.key
         )
         SELECT i.key, i.digest, true AS alive FROM inserted i
         UNION ALL
         SELECT f.key, f.digest, f.recent OR t.key IS NOT NULL AS alive FROM found f LEFT JOIN touched t ON t.key = f.key`,
        [JSON.stringify(batch.map((entry) => ({ digest: entry.digest, package_keys: entry.packageKeys }))), touchSeconds],
      );
      for (const row of result.rows) if (row.alive) keyByDigest.set(row.digest, row.key);
      for (const entry of batch) if (!keyByDigest.has(entry.digest)) vanished.push(entry);
    }
    pending = vanished;
  }
  return sets.map((entry) => keyByDigest.get(entry.digest)!);
}

export interface PruneReport {
  packageSets: number;
  packageVersions: number;
}

/**
 * Deletes package sets no host points at and package versions no set or finding names, once they
 * have gone unconfirmed for `graceSeconds`, up to `batch` of each. Safe beside check-ins of any
 * process: a process trusts a cached key only for the touch interval (a fraction of the grace),
 * rows a check-in is confirming or referencing are locked and skipped, and a version deleted
 * between a check-in's lookup and its use is inserted again under a new key by the next lookup.
 */
export async function prunePackages(client: pg.PoolClient, graceSeconds: number, batch: number): Promise<PruneReport> {
  const sets = await client.query(
    `DELETE FROM package_sets d USING (
       SELECT s.key FROM package_sets s
        WHERE s.last_used_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.package_set_key = s.key)
        ORDER BY s.last_used_at LIMIT $2
        FOR UPDATE SKIP LOCKED
     ) doomed
     WHERE d.key = doomed.key`,
    [graceSeconds, batch],
  );
  const candidates = await client.query<{ key: number }>(
    `SELECT v.key FROM package_versions v
      WHERE v.last_used_at < now() - make_interval(secs => $1)
        AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.package_key = v.key)
      ORDER BY v.last_used_at LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [graceSeconds, batch],
  );
  let versions = 0;
  if (candidates.rows.length > 0) {
    const keys = candidates.rows.map((row) => row.key);
    // One pass over every set's keys (no index can answer "which sets contain k" cheaply, and
    // check-ins must not maintain one); `= ANY` of a long array is hashed.
    const referenced = await client.query<{ k: number }>(
      'SELECT DISTINCT k FROM package_sets s CROSS JOIN LATERAL unnest(s.package_keys) AS k WHERE k = ANY($1::integer[])',
      [keys],
    );
    const kept = new Set(referenced.rows.map((row) => row.k));
    const unreferenced = keys.filter((key) => !kept.has(key));
    if (unreferenced.length > 0) {
      await client.query('DELETE FROM package_version_matches WHERE package_key = ANY($1::integer[])', [unreferenced]);
      versions = (await client.query('DELETE FROM package_versions WHERE key = ANY($1::integer[])', [unreferenced])).rowCount ?? 0;
    }
    // Versions that stay are referenced: confirmed, so they are not candidates again for a grace.
    if (kept.size > 0) await client.query('UPDATE package_versions SET last_used_at = now() WHERE key = ANY($1::integer[])', [[...kept]]);
  }
  return { packageSets: sets.rowCount ?? 0, packageVersions: versions };
}

export interface HostRecord {
  inventory: HostInventory;
  bucket: string;
  team: string;
  agentVersion?: string;
  bootId?: string;
  /** Digest of the package list as the agent computed it: the base of its next delta. */
  inventoryDigest?: string;
  packageSetKey: number;
  source: string;
  seenAt: Date;
  /** How many upgrades the package manager offers (the list goes to `host_available_updates`). */
  availableUpdateCount?: number;
}

export interface UpsertedHost {
  key: number;
  /** True when the host did not exist before. */
  created: boolean;
  /** The findings digest stored before this upsert (null when never evaluated). */
  findingsDigest: string | null;
}

/** Run on every check-in: prepared once per connection. */
const UPSERT_HOSTS = preparedStatement('upsert-hosts', `INSERT INTO hosts AS h (name, inventory_digest, bucket, team, agent_version, boot_id, os_id, os_id_like, os_version, os_ecosystem, os_pretty_name, arch,
                               running_kernel, reboot_required, boot_time, labels, package_set_key, inventory_source,
                               inventory_updated_at, last_seen_at, available_update_count)
       SELECT r.name, r.inventory_digest, r.bucket, r.team, r.agent_version, r.boot_id, r.os_id, r.os_id_like, r.os_version, r.os_ecosystem, r.os_pretty_name, r.arch,
              r.running_kernel, r.reboot_required, r.boot_time, r.labels, r.package_set_key, r.inventory_source, r.seen_at, r.seen_at,
              r.available_update_count
         FROM jsonb_to_recordset($1::jsonb) AS r(name text, inventory_digest text, bucket text, team text, agent_version text, boot_id text, os_id text, os_id_like jsonb,
              os_version text, os_ecosystem text, os_pretty_name text, arch text, running_kernel text, reboot_required boolean,
              boot_time timestamptz, labels jsonb, package_set_key integer, inventory_source text, seen_at timestamptz,
              available_update_count integer)
        ORDER BY r.name
       ON CONFLICT (name) DO UPDATE SET
         bucket = excluded.bucket, team = excluded.team, inventory_digest = excluded.inventory_digest,
         agent_version = coalesce(excluded.agent_version, h.agent_version), boot_id = coalesce(excluded.boot_id, h.boot_id),
         os_id = excluded.os_id, os_id_like = excluded.os_id_like, os_version = excluded.os_version, os_ecosystem = excluded.os_ecosystem,
         os_pretty_name = excluded.os_pretty_name, arch = excluded.arch, running_kernel = excluded.running_kernel,
         reboot_required = excluded.reboot_required, boot_time = excluded.boot_time,
         labels = excluded.labels, package_set_key = excluded.package_set_key,
         inventory_source = excluded.inventory_source, inventory_updated_at = excluded.inventory_updated_at,
         last_seen_at = excluded.last_seen_at, available_update_count = excluded.available_update_count
       RETURNING key, name, (xmax = 0) AS created, findings_digest`);

/**
 * Inserts or updates hosts and returns their keys in input order. Labels are replaced, not merged:
 * a label the host no longer reports is gone.
 */
export async function upsertHosts(db: Queryable, records: HostRecord[]): Promise<UpsertedHost[]> {
  const byName = new Map<string, UpsertedHost>();
  for (let start = 0; start < records.length; start += HOST_BATCH) {
    const batch = records.slice(start, start + HOST_BATCH);
    const rows = batch.map(({ inventory, bucket, team, agentVersion, bootId, inventoryDigest, packageSetKey, source, seenAt, availableUpdateCount }) => ({
      name: inventory.hostname,
      inventory_digest: inventoryDigest ?? null,
      bucket,
      team,
      agent_version: agentVersion ?? null,
      boot_id: bootId ?? null,
      os_id: inventory.os?.id ?? null,
      os_id_like: inventory.os?.idLike ?? null,
      os_version: inventory.os?.versionId ?? null,
      os_ecosystem: inventory.osEcosystem ?? null,
      os_pretty_name: inventory.os?.prettyName ?? null,
      arch: inventory.arch ?? null,
      running_kernel: inventory.kernel.running ?? null,
      reboot_required: inventory.rebootRequired,
      boot_time: inventory.bootTime?.toISOString() ?? null,
      labels: inventory.labels,
      package_set_key: packageSetKey,
      inventory_source: source,
      seen_at: seenAt.toISOString(),
      available_update_count: availableUpdateCount ?? null,
    }));
    const result = await db.query<{ key: number; name: string; created: boolean; findings_digest: string | null }>(UPSERT_HOSTS([JSON.stringify(rows)]));
    for (const row of result.rows) byName.set(row.name, { key: row.key, created: row.created, findingsDigest: row.findings_digest });
  }
  return records.map((record) => byName.get(record.inventory.hostname)!);
}

export interface HostSummary {
  key: number;
  name: string;
  osEcosystem?: string;
  runningKernel?: string;
  rebootRequired: boolean;
  packageSetKey?: number;
  availableUpdates?: DatedUpdate[];
}

interface HostRow {
  key: number;
  name: string;
  os_ecosystem: string | null;
  running_kernel: string | null;
  reboot_required: boolean;
  package_set_key: number | null;
  available_updates: DatedUpdate[] | null;
}

function hostSummaryOf(row: HostRow): HostSummary {
  const host: HostSummary = { key: row.key, name: row.name, rebootRequired: row.reboot_required };
  if (row.os_ecosystem !== null) host.osEcosystem = row.os_ecosystem;
  if (row.running_kernel !== null) host.runningKernel = row.running_kernel;
  if (row.package_set_key !== null) host.packageSetKey = row.package_set_key;
  if (row.available_updates !== null) host.availableUpdates = row.available_updates;
  return host;
}

const HOST_COLUMNS = 'h.key, h.name, h.os_ecosystem, h.running_kernel, h.reboot_required, h.package_set_key, u.updates AS available_updates';
const HOSTS_WITH_UPDATES = 'hosts h LEFT JOIN host_available_updates u ON u.host_key = h.key';

/** Hosts by key, or every host when `hostKeys` is undefined. */
export async function loadHosts(db: Queryable, hostKeys?: number[]): Promise<HostSummary[]> {
  const result = hostKeys === undefined
    ? await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM ${HOSTS_WITH_UPDATES} ORDER BY h.key`)
    : await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM ${HOSTS_WITH_UPDATES} WHERE h.key = ANY($1) ORDER BY h.key`, [hostKeys]);
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
