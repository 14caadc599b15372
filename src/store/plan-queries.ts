/**
 * What the planner reads: every host with its ownership, labels, freshness, reboot state, open
 * findings (with KEV and EPSS signals and publication dates) and pending upgrades. Read in host
 * batches, so a 100,000-host fleet with a million open findings never sits in one result set.
 */
import type pg from 'pg';
import { isKernelPackage } from '../domain/inventory/kernel.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { PlanFinding, PlanHost } from '../domain/planning/plan-types.js';
import type { Severity } from '../domain/types.js';

type Queryable = pg.Pool | pg.PoolClient;

const HOST_BATCH = 5_000;

export interface PlanHostFilter {
  bucket?: string;
  team?: string;
  host?: string;
}

interface HostRow {
  key: number;
  name: string;
  bucket: string;
  team: string;
  labels: Record<string, string>;
  last_seen_at: Date | null;
  reboot_required: boolean;
  os_ecosystem: string | null;
  updates: Array<{ name: string; installedVersion?: string; candidateVersion: string; availableSince: string }> | null;
}

interface FindingRow {
  host_key: number;
  advisory_id: string;
  severity: Severity;
  package_name: string;
  ecosystem: string;
  version: string;
  fixed_version: string | null;
  state: 'vulnerable' | 'pending-reboot';
  first_seen_at: Date;
  published: Date | null;
  kev_due: Date | null;
  known_exploited: boolean;
  epss: number | null;
}

/**
 * @example const hosts = await loadPlanHosts(pool, { bucket: 'databases' })
 */
export async function loadPlanHosts(db: Queryable, filter: PlanHostFilter = {}, progress?: (loaded: number) => void): Promise<PlanHost[]> {
  const hostRows = await db.query<HostRow>(
    `SELECT h.key, h.name, h.bucket, h.team, h.labels, h.last_seen_at, h.reboot_required, h.os_ecosystem, u.updates
       FROM hosts h LEFT JOIN host_available_updates u ON u.host_key = h.key
      WHERE ($1::text IS NULL OR h.bucket = $1) AND ($2::text IS NULL OR h.team = $2) AND ($3::text IS NULL OR h.name = $3)
      ORDER BY h.key`,
    [filter.bucket ?? null, filter.team ?? null, filter.host ?? null],
  );
  const hosts: PlanHost[] = [];
  for (let start = 0; start < hostRows.rows.length; start += HOST_BATCH) {
    const batch = hostRows.rows.slice(start, start + HOST_BATCH);
    const byKey = new Map<number, PlanHost>();
    for (const row of batch) {
      const host: PlanHost = {
        name: row.name,
        bucket: row.bucket,
        team: row.team,
        labels: row.labels,
        rebootRequired: row.reboot_required,
        findings: [],
        availableUpdates: (row.updates ?? []).map((update) => ({
          name: update.name,
          ecosystem: row.os_ecosystem ?? 'unknown',
          ...(update.installedVersion !== undefined ? { installedVersion: update.installedVersion } : {}),
          candidateVersion: update.candidateVersion,
          availableSince: new Date(update.availableSince),
        })),
      };
      if (row.last_seen_at) host.lastSeenAt = row.last_seen_at;
      byKey.set(row.key, host);
      hosts.push(host);
    }
    const findings = await db.query<FindingRow>(
      `SELECT f.host_key, a.id AS advisory_id, a.severity, f.package_name, p.ecosystem, p.version, f.fixed_version, f.state, f.first_seen_at, a.published,
              k.due_date AS kev_due, k.cve_id IS NOT NULL AS known_exploited, e.epss
         FROM findings f
         JOIN advisories a ON a.key = f.advisory_key
         JOIN package_versions p ON p.key = f.package_key
         LEFT JOIN LATERAL (SELECT cve_id, due_date FROM kev_entries WHERE cve_id = ANY(a.aliases || a.related || a.id) ORDER BY due_date LIMIT 1) k ON true
         LEFT JOIN LATERAL (SELECT max(epss) AS epss FROM epss_scores WHERE cve_id = ANY(a.aliases || a.related || a.id)) e ON true
        WHERE f.host_key = ANY($1::integer[]) AND f.resolved_at IS NULL AND f.state IN ('vulnerable', 'pending-reboot')`,
      [batch.map((row) => row.key)],
    );
    for (const row of findings.rows) {
      const scheme = versionSchemeFor(row.ecosystem);
      const finding: PlanFinding = {
        advisoryId: row.advisory_id,
        severity: row.severity,
        packageName: row.package_name,
        ecosystem: row.ecosystem,
        installedVersion: row.version,
        state: row.state,
        firstSeenAt: row.first_seen_at,
        knownExploited: row.known_exploited,
        needsReboot: scheme !== undefined && isKernelPackage({ ecosystem: row.ecosystem, name: row.package_name, version: row.version }, scheme),
      };
      if (row.fixed_version !== null) finding.fixedVersion = row.fixed_version;
      if (row.published) finding.published = row.published;
      if (row.kev_due) finding.kevDueDate = row.kev_due;
      if (row.epss !== null) finding.epss = row.epss;
      byKey.get(row.host_key)!.findings.push(finding);
    }
    progress?.(hosts.length);
  }
  return hosts;
}

/** The hosts that run a package (by binary or source name), for the what-if. */
export async function hostsRunningPackage(db: Queryable, packageName: string): Promise<Array<{ name: string; bucket: string; labels: Record<string, string> }>> {
  const result = await db.query<{ name: string; bucket: string; labels: Record<string, string> }>(
    `SELECT h.name, h.bucket, h.labels FROM hosts h
      WHERE h.package_set_key IN (
        SELECT s.key FROM package_sets s WHERE s.package_keys && ARRAY(SELECT key FROM package_versions WHERE name = $1 OR source_name = $1))
      ORDER BY h.name`,
    [packageName],
  );
  return result.rows;
}
