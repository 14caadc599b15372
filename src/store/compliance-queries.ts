/**
 * The reads of compliance reports and VEX: the evidence rows of a scope (host × advisory ×
 * package, with the host's bucket, team and last check-in, the advisory's SLA inputs, the
 * acceptance that covers the row and the rollout that fixed it), in one statement whatever the
 * fleet's size. What a row means — its due time, its status — is decided in `src/domain/reporting`.
 */
import type pg from 'pg';
import type { ComplianceEvidenceRow, EvidenceFindingState } from '../domain/reporting/compliance-evidence.js';
import type { ComplianceReportScope } from '../domain/reporting/compliance-report.js';
import type { RiskJustification } from '../domain/reporting/risk-justification.js';
import type { Severity } from '../domain/types.js';

type Queryable = pg.Pool | pg.PoolClient;

/** An evidence row before the policy's SLA clocks give it a due time, with what they need and the package's ecosystem. */
export type StoredEvidence = Omit<ComplianceEvidenceRow, 'dueAt'> & { ecosystem: string; published?: Date; kevDueDate?: Date };

interface Row {
  host: string; bucket: string; team: string; last_seen_at: Date | null;
  advisory_id: string; aliases: string[]; severity: Severity; published: Date | null; kev_cve: string | null; kev_due: Date | null;
  ecosystem: string; package_name: string; installed_version: string; fixed_version: string | null;
  state: EvidenceFindingState; first_seen_at: Date; installed_at: Date | null; live_at: Date | null;
  rollout_id: number | null; rollout_host_state: string | null;
  acceptance_id: number | null; reason: string | null; justification: RiskJustification | null; accepted_by: string | null; approved_by: string | null;
  accepted_at: Date | null; expires_at: Date | null;
}

/**
 * Every finding in `scope`, sorted by host, advisory and package. The acceptance shown is the one
 * in force at `now` (the latest), else the latest that expired. The rollout is the one the host
 * was in when the fix was installed: created by then, the host finished after; the engine verified
 * the fix when that host `succeeded` (its reboot seen by boot id, its post-check passed).
 *
 * @example await complianceEvidence(pool, { team: 'data-platform', from, to }, now) // [{ host: 'db-1', advisoryId: 'DSA-5801-1', … }]
 */
export async function complianceEvidence(db: Queryable, scope: ComplianceReportScope, now: Date): Promise<StoredEvidence[]> {
  const result = await db.query<Row>(
    `-- Each advisory's KEV listing and whether any acceptance names it, worked out once, not per finding.
     WITH scoped_advisories AS MATERIALIZED (
       SELECT a.key, a.id, a.aliases || a.related AS aliases, a.severity, a.published, k.cve_id AS kev_cve, k.due_date AS kev_due,
              EXISTS (SELECT 1 FROM risk_acceptances r WHERE r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases || a.related)) AS accepted
         FROM advisories a
         LEFT JOIN LATERAL (SELECT cve_id, due_date FROM kev_entries WHERE cve_id = ANY(a.aliases || a.related || a.id) ORDER BY due_date LIMIT 1) k ON true
        WHERE ($1::text IS NULL OR a.id = $1 OR $1 = ANY(a.aliases) OR $1 = ANY(a.related))
          AND EXISTS (SELECT 1 FROM findings f WHERE f.advisory_key = a.key)
     ),
     scoped_acceptances AS MATERIALIZED (
       SELECT r.*, a.key AS advisory_key FROM risk_acceptances r JOIN scoped_advisories a ON a.accepted AND (r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases))
     )
     SELECT h.name AS host, h.bucket, h.team, h.last_seen_at,
            a.id AS advisory_id, a.aliases, a.severity, a.published, a.kev_cve, a.kev_due,
            p.ecosystem, f.package_name, p.version AS installed_version, f.fixed_version,
            f.state, f.first_seen_at, f.installed_at,
            -- A kernel that no longer runs went live when the host booted the fixed one.
            CASE WHEN f.state = 'not-applicable' THEN h.boot_time ELSE f.resolved_at END AS live_at,
            ro.rollout_id, ro.state AS rollout_host_state,
            r.id AS acceptance_id, r.reason, r.justification, r.accepted_by, r.approved_by, r.created_at AS accepted_at, r.expires_at
       FROM scoped_advisories a
       JOIN findings f ON f.advisory_key = a.key
       JOIN hosts h ON h.key = f.host_key
       JOIN package_versions p ON p.key = f.package_key
       -- Looked up only for the findings of an advisory someone accepted a risk of.
       LEFT JOIN LATERAL (
         SELECT r.* FROM scoped_acceptances r
          WHERE a.accepted AND r.advisory_key = a.key
            AND (r.host_name IS NULL OR r.host_name = h.name) AND (r.package_name IS NULL OR r.package_name = f.package_name)
          ORDER BY (r.expires_at > $6) DESC, r.id DESC LIMIT 1) r ON true
       LEFT JOIN LATERAL (
         SELECT rh.rollout_id, rh.state FROM rollout_hosts rh JOIN rollouts ro ON ro.id = rh.rollout_id
          WHERE rh.host = h.name AND rh.state IN ('succeeded', 'succeeded-reboot-pending')
            AND rh.state_since >= coalesce(f.installed_at, f.resolved_at) AND ro.created_at <= coalesce(f.installed_at, f.resolved_at)
          ORDER BY rh.state_since LIMIT 1) ro ON f.installed_at IS NOT NULL OR f.resolved_at IS NOT NULL
      WHERE ($2::text IS NULL OR h.bucket = $2) AND ($3::text IS NULL OR h.team = $3)
        AND ($5::timestamptz IS NULL OR f.first_seen_at <= $5)
        AND ($4::timestamptz IS NULL OR f.resolved_at IS NULL OR f.resolved_at >= $4)
      ORDER BY h.name, a.id, f.package_name`,
    [scope.advisory ?? null, scope.bucket ?? null, scope.team ?? null, scope.from ?? null, scope.to ?? null, now],
  );
  return result.rows.map(evidenceOf);
}

function evidenceOf(row: Row): StoredEvidence {
  const evidence: StoredEvidence = {
    host: row.host, bucket: row.bucket, team: row.team, advisoryId: row.advisory_id, aliases: row.aliases, severity: row.severity,
    knownExploited: row.kev_cve !== null, ecosystem: row.ecosystem, package: row.package_name, installedVersion: row.installed_version,
    findingState: row.state, detectedAt: row.first_seen_at,
  };
  if (row.fixed_version !== null) evidence.fixedVersion = row.fixed_version;
  if (row.installed_at !== null) evidence.installedAt = row.installed_at;
  if (row.live_at !== null && row.state !== 'vulnerable' && row.state !== 'pending-reboot') evidence.liveAt = row.live_at;
  if (row.last_seen_at !== null) evidence.lastCheckInAt = row.last_seen_at;
  if (row.published !== null) evidence.published = row.published;
  if (row.kev_due !== null) evidence.kevDueDate = row.kev_due;
  if (row.rollout_id !== null) evidence.rolloutId = row.rollout_id;
  if (evidence.liveAt !== undefined) evidence.verification = row.rollout_host_state === 'succeeded' ? 'rollout' : 'check-in';
  if (row.acceptance_id !== null) {
    evidence.acceptance = { id: row.acceptance_id, reason: row.reason!, acceptedBy: row.accepted_by!, acceptedAt: row.accepted_at!, expiresAt: row.expires_at! };
    if (row.justification !== null) evidence.acceptance.justification = row.justification;
    if (row.approved_by !== null) evidence.acceptance.approvedBy = row.approved_by;
  }
  return evidence;
}
