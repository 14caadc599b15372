/**
 * Compliance reports: the audit log is checkpointed first (signed, written outside the database),
 * then the evidence of the scope is read and given its due times by the SLA clocks of the policy
 * in force, so the report names a checkpoint an auditor can hold against the log with
 * `fleetpatch audit verify`, and every entry the report's data rests on is under it.
 */
import type pg from 'pg';
import type { SignedCheckpoint } from '../domain/audit/checkpoint.js';
import { slaDueTime } from '../domain/planning/sla.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import type { ComplianceEvidenceRow } from '../domain/reporting/compliance-evidence.js';
import type { ComplianceReport, ComplianceReportScope } from '../domain/reporting/compliance-report.js';
import { complianceEvidence, type StoredEvidence } from '../store/compliance-queries.js';

/** Signs the audit log's current head (the server's schedule, or `createCheckpoint` for the CLI); undefined for an empty log. */
export type AuditCheckpointer = () => Promise<{ checkpoint: SignedCheckpoint } | undefined>;

export interface ComplianceReportRequest {
  scope: ComplianceReportScope;
  now: Date;
  /** The policy whose SLA clocks give the due times; without one, no row is due. */
  policy?: { policy: Policy; revision?: number };
  checkpoint: AuditCheckpointer;
}

export async function complianceReport(pool: pg.Pool, request: ComplianceReportRequest): Promise<ComplianceReport> {
  const signed = await request.checkpoint();
  const evidence = await complianceEvidence(pool, request.scope, request.now);
  const report: ComplianceReport = { generatedAt: request.now, scope: request.scope, rows: evidence.map((stored) => withDueTime(stored, request.policy?.policy)) };
  if (request.policy?.revision !== undefined) report.policyRevision = request.policy.revision;
  if (signed) {
    const { origin, treeSize, rootHash, signedAt, keyId } = signed.checkpoint;
    report.checkpoint = { origin, treeSize, rootHash, signedAt, keyId };
  }
  return report;
}

/** The evidence row of a stored finding, due when the policy's SLA clocks say. */
export function withDueTime(stored: StoredEvidence, policy: Policy | undefined): ComplianceEvidenceRow {
  const { ecosystem: _ecosystem, published, kevDueDate, ...row } = stored;
  const due = policy ? slaDueTime(policy, { severity: row.severity, firstSeenAt: row.detectedAt, published, knownExploited: row.knownExploited, kevDueDate }) : undefined;
  return due === undefined ? row : { ...row, dueAt: new Date(due) };
}
