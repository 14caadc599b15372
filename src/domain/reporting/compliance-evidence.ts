/**
 * Compliance evidence: one row per host × advisory × package, as an auditor samples it (detected
 * when, due when, fixed when, live when, how that was confirmed, by which rollout, any accepted
 * risk with its approver and expiry), and the compliance status of a row at a moment. Pending
 * reboot is not compliant (the fix is on disk, the flaw still runs: AWS SSM counts it the same);
 * an accepted risk in force is excepted, not compliant.
 */
import type { Severity } from '../types.js';
import type { RiskJustification } from './risk-justification.js';

/** Detection's verdict on the finding, as stored. */
export type EvidenceFindingState = 'vulnerable' | 'pending-reboot' | 'fixed' | 'not-applicable';

/**
 * How the fix was confirmed: `rollout` when the rollout engine saw the host through its steps
 * (the upgrade, the reboot it verified by the boot id, the post-check), `check-in` when detection
 * judged the fix running from the host's own inventory and nothing of fleetpatch's installed it.
 */
export type EvidenceVerification = 'rollout' | 'check-in';

/** An accepted risk covering the row. Acceptances recorded before approvers existed have none. */
export interface EvidenceAcceptance {
  id: number;
  reason: string;
  justification?: RiskJustification;
  acceptedBy: string;
  approvedBy?: string;
  acceptedAt: Date;
  expiresAt: Date;
}

export interface ComplianceEvidenceRow {
  host: string;
  bucket: string;
  team: string;
  advisoryId: string;
  /** The advisory's aliases and related ids (CVE ids mostly). */
  aliases: string[];
  severity: Severity;
  knownExploited: boolean;
  package: string;
  installedVersion: string;
  fixedVersion?: string;
  findingState: EvidenceFindingState;
  /** The host's first sight of the finding. */
  detectedAt: Date;
  /** From the policy's SLA clocks; undefined when the policy sets no SLA for the severity. */
  dueAt?: Date;
  /** When the fixed version was installed. */
  installedAt?: Date;
  /** When the fix was judged running (for a kernel no longer running: the host's boot). */
  liveAt?: Date;
  lastCheckInAt?: Date;
  verification?: EvidenceVerification;
  rolloutId?: number;
  acceptance?: EvidenceAcceptance;
}

/**
 * `compliant`: the fix is live. `non-compliant`: open (vulnerable or pending reboot) past its due
 * time. `excepted`: open under an accepted risk in force. `open`: open and not yet due, or no SLA
 * applies. `not-applicable`: detection says the vulnerable code is not what runs (a kernel on disk
 * only); it is no exposure, and no remediation either.
 */
export const COMPLIANCE_STATUSES = ['compliant', 'non-compliant', 'excepted', 'open', 'not-applicable'] as const;
export type ComplianceStatus = (typeof COMPLIANCE_STATUSES)[number];

/**
 * The row's compliance status at `now`; an acceptance counts only until it expires.
 *
 * @example evidenceStatus({ ...row, findingState: 'pending-reboot', dueAt: new Date('2026-12-01T00:00:00Z') }, new Date('2026-12-02T00:00:00Z')) // 'non-compliant'
 */
export function evidenceStatus(row: Pick<ComplianceEvidenceRow, 'findingState' | 'dueAt' | 'acceptance'>, now: Date): ComplianceStatus {
  if (row.findingState === 'fixed') return 'compliant';
  if (row.findingState === 'not-applicable') return 'not-applicable';
  if (row.acceptance !== undefined && row.acceptance.expiresAt.getTime() > now.getTime()) return 'excepted';
  if (row.dueAt !== undefined && row.dueAt.getTime() <= now.getTime()) return 'non-compliant';
  return 'open';
}

/**
 * Whether the row missed its due time: still open past it (an acceptance does not stop the clock),
 * or made live after it.
 */
export function slaBreached(row: Pick<ComplianceEvidenceRow, 'findingState' | 'dueAt' | 'liveAt'>, now: Date): boolean {
  if (row.dueAt === undefined || row.findingState === 'not-applicable') return false;
  const closedAt = row.findingState === 'fixed' ? row.liveAt : undefined;
  return (closedAt ?? now).getTime() > row.dueAt.getTime();
}
