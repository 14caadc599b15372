/**
 * Read side of findings: what `fleetpatch findings`, the API and reports list, with accepted risks
 * and exploit signals applied at read time (an acceptance expires without anyone rewriting rows).
 */
import type pg from 'pg';
import type { RiskJustification } from '../domain/reporting/risk-justification.js';
import type { FindingState, Severity } from '../domain/types.js';
import { auditActor, auditedChange } from './audit-log.js';

type Queryable = pg.Pool | pg.PoolClient;

export interface FindingFilter {
  host?: string;
  advisory?: string;
  severity?: Severity[];
  states?: FindingState[];
  limit?: number;
  offset?: number;
}

export interface FindingRow {
  host: string;
  /** The host's bucket, which the policy gives a criticality. */
  bucket: string;
  ecosystem: string;
  package: string;
  sourcePackage: string;
  installedVersion: string;
  advisoryId: string;
  aliases: string[];
  related: string[];
  summary?: string;
  fixedVersion?: string;
  severity: Severity;
  cvssScore?: number;
  knownExploited: boolean;
  epss?: number;
  state: FindingState;
  stateReason?: string;
  firstSeenAt: Date;
  resolvedAt?: Date;
  internetFacing: boolean;
}

interface Row {
  host: string;
  bucket: string;
  ecosystem: string;
  package: string;
  source_name: string;
  installed_version: string;
  advisory_id: string;
  aliases: string[];
  related: string[];
  summary: string | null;
  fixed_version: string | null;
  severity: Severity;
  cvss_score: number | null;
  known_exploited: boolean;
  epss: number | null;
  state: FindingState;
  state_reason: string | null;
  first_seen_at: Date;
  resolved_at: Date | null;
  internet_facing: boolean;
  total: number;
}

/** Open findings by default (vulnerable, pending-reboot, accepted); filter by host, advisory (id or alias), severity, state. */
export async function listFindings(db: Queryable, filter: FindingFilter = {}): Promise<FindingRow[]> {
  return (await findingPage(db, filter)).findings;
}

/** A page of findings and how many match in all, so a reader can tell a page from the whole. */
export async function findingPage(db: Queryable, filter: FindingFilter = {}): Promise<{ findings: FindingRow[]; total: number }> {
  const states = filter.states ?? ['vulnerable', 'pending-reboot', 'accepted'];
  const result = await db.query<Row>(
    `WITH scoped AS (
       SELECT h.name AS host, h.bucket, p.ecosystem, p.name AS package, p.source_name, p.version AS installed_version,
              a.id AS advisory_id, a.aliases, a.related, a.summary, f.fixed_version, a.severity, a.cvss_score,
              EXISTS (SELECT 1 FROM kev_entries k WHERE k.cve_id = ANY(a.aliases || a.related)) AS known_exploited,
              (SELECT max(e.epss) FROM epss_scores e WHERE e.cve_id = ANY(a.aliases || a.related)) AS epss,
              CASE WHEN f.resolved_at IS NULL AND f.state IN ('vulnerable', 'pending-reboot') AND EXISTS (
                     SELECT 1 FROM risk_acceptances r
                      WHERE (r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases || a.related)) AND r.expires_at > now()
                        AND (r.host_name IS NULL OR r.host_name = h.name)
                        AND (r.package_name IS NULL OR r.package_name = f.package_name))
                   THEN 'accepted' ELSE f.state END AS state,
              f.state_reason, f.first_seen_at, f.resolved_at,
              coalesce(h.labels ->> 'internet-facing', 'false') = 'true' AS internet_facing
         FROM findings f
         JOIN hosts h ON h.key = f.host_key
         JOIN advisories a ON a.key = f.advisory_key
         JOIN package_versions p ON p.key = f.package_key
        WHERE ($1::text IS NULL OR h.name = $1)
          AND ($2::text IS NULL OR a.id = $2 OR $2 = ANY(a.aliases) OR $2 = ANY(a.related))
          AND ($3::text[] IS NULL OR a.severity = ANY($3))
     )
     SELECT *, count(*) OVER ()::integer AS total FROM scoped WHERE state = ANY($4)
      ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END,
               host, package, advisory_id
      OFFSET $6 LIMIT $5`,
    [filter.host ?? null, filter.advisory ?? null, filter.severity ?? null, states, filter.limit ?? null, filter.offset ?? 0],
  );
  // A page past the end has no rows to carry the total; count again only then.
  const total = result.rows[0]?.total ?? ((filter.offset ?? 0) > 0 ? (await findingPage(db, { ...filter, offset: 0, limit: 1 })).total : 0);
  return { findings: result.rows.map(findingOf), total };
}

function findingOf(row: Row): FindingRow {
  const finding: FindingRow = {
    host: row.host,
    bucket: row.bucket,
    ecosystem: row.ecosystem,
    package: row.package,
    sourcePackage: row.source_name === '' ? row.package : row.source_name,
    installedVersion: row.installed_version,
    advisoryId: row.advisory_id,
    aliases: row.aliases,
    related: row.related,
    severity: row.severity,
    knownExploited: row.known_exploited,
    state: row.state,
    firstSeenAt: row.first_seen_at,
    internetFacing: row.internet_facing,
  };
  if (row.summary !== null) finding.summary = row.summary;
  if (row.fixed_version !== null) finding.fixedVersion = row.fixed_version;
  if (row.cvss_score !== null) finding.cvssScore = row.cvss_score;
  if (row.epss !== null) finding.epss = row.epss;
  if (row.state_reason !== null) finding.stateReason = row.state_reason;
  if (row.resolved_at !== null) finding.resolvedAt = row.resolved_at;
  return finding;
}

export interface RiskAcceptance {
  advisoryId: string;
  hostName?: string;
  packageName?: string;
  reason: string;
  acceptedBy: string;
  /** Who approved it (src/domain/reporting/risk-acceptance.ts decides who may); none on rows from before approvers. */
  approvedBy?: string;
  /** Set when the approver attests the flaw cannot be exploited here: VEX then says not_affected. */
  justification?: RiskJustification;
  /** The VEX document (its @id) the acceptance was imported from. */
  importedFrom?: string;
  expiresAt: Date;
}

/** Records an accepted risk, and its audit entry in the same transaction. `acceptedBy` without a kind is a CLI user. */
export async function acceptRisk(db: Queryable, acceptance: RiskAcceptance): Promise<number> {
  return auditedChange(
    db,
    async (client) => (await client.query<{ id: number }>(
      `INSERT INTO risk_acceptances (advisory_id, host_name, package_name, reason, accepted_by, expires_at, approved_by, justification, imported_from)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [acceptance.advisoryId, acceptance.hostName ?? null, acceptance.packageName ?? null, acceptance.reason, acceptance.acceptedBy, acceptance.expiresAt,
        acceptance.approvedBy ?? null, acceptance.justification ?? null, acceptance.importedFrom ?? null],
    )).rows[0]!.id,
    (id) => ({
      action: 'risk.accepted',
      actor: auditActor(acceptance.acceptedBy, 'cli'),
      subject: `risk-acceptance:${id}`,
      reason: acceptance.reason,
      details: {
        advisoryId: acceptance.advisoryId, hostName: acceptance.hostName ?? null, packageName: acceptance.packageName ?? null, expiresAt: acceptance.expiresAt.toISOString(),
        ...(acceptance.approvedBy !== undefined ? { approvedBy: acceptance.approvedBy } : {}),
        ...(acceptance.justification !== undefined ? { justification: acceptance.justification } : {}),
        ...(acceptance.importedFrom !== undefined ? { importedFrom: acceptance.importedFrom } : {}),
      },
    }),
  );
}

export interface HostListing {
  name: string;
  osEcosystem?: string;
  runningKernel?: string;
  rebootRequired: boolean;
  packages: number;
  openFindings: number;
  lastSeenAt?: Date;
  labels: Record<string, string>;
}

export async function listHosts(db: Queryable): Promise<HostListing[]> {
  const result = await db.query<{
    name: string; os_ecosystem: string | null; running_kernel: string | null; reboot_required: boolean;
    packages: number; open_findings: number; last_seen_at: Date | null; labels: Record<string, string>;
  }>(
    `SELECT h.name, h.os_ecosystem, h.running_kernel, h.reboot_required, coalesce(cardinality(s.package_keys), 0) AS packages,
            (SELECT count(*)::integer FROM findings f WHERE f.host_key = h.key AND f.resolved_at IS NULL AND f.state <> 'not-applicable') AS open_findings,
            h.last_seen_at, h.labels
       FROM hosts h LEFT JOIN package_sets s ON s.key = h.package_set_key
      ORDER BY h.name`,
  );
  return result.rows.map((row) => {
    const host: HostListing = { name: row.name, rebootRequired: row.reboot_required, packages: row.packages, openFindings: row.open_findings, labels: row.labels };
    if (row.os_ecosystem !== null) host.osEcosystem = row.os_ecosystem;
    if (row.running_kernel !== null) host.runningKernel = row.running_kernel;
    if (row.last_seen_at !== null) host.lastSeenAt = row.last_seen_at;
    return host;
  });
}

export interface AdvisoryImpactRow {
  bucket: string;
  team: string;
  state: FindingState;
  hosts: number;
}

/**
 * Hosts an advisory (id or CVE) touches, by bucket, owner team and state: who is affected and who
 * owns them. Accepted risks are shown as their own state.
 */
export async function advisoryImpact(db: Queryable, advisory: string): Promise<AdvisoryImpactRow[]> {
  const result = await db.query<{ bucket: string; team: string; state: FindingState; hosts: number }>(
    `WITH target AS (
       SELECT key FROM advisories WHERE id = $1 OR $1 = ANY(aliases) OR $1 = ANY(related)
     ), touched AS (
       SELECT f.host_key, min(CASE f.state WHEN 'vulnerable' THEN 0 WHEN 'pending-reboot' THEN 1 ELSE 2 END) AS rank
         FROM findings f
        WHERE f.advisory_key IN (SELECT key FROM target) AND f.state <> 'not-applicable'
        GROUP BY f.host_key
     )
     SELECT h.bucket, h.team,
            (ARRAY['vulnerable', 'pending-reboot', 'fixed'])[t.rank + 1] AS state, count(*)::integer AS hosts
       FROM touched t JOIN hosts h ON h.key = t.host_key
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`,
    [advisory],
  );
  return result.rows;
}
