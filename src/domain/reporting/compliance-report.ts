/**
 * A compliance report: the evidence rows of one scope (an advisory, a bucket, a team, a period),
 * each with its status at the report's time, counted per team and bucket, and the audit checkpoint
 * the report was built from, so an auditor can check it against the signed log
 * (`fleetpatch audit verify`). CSV, JSON and the printable page are the same records: one flat,
 * snake_case record per row (`complianceRecords`), the CSV one line each, the JSON an array.
 */
import { toCsv } from '../csv.js';
import { COMPLIANCE_STATUSES, evidenceStatus, slaBreached, type ComplianceEvidenceRow, type ComplianceStatus } from './compliance-evidence.js';

/** Bumped when a column changes meaning or goes away (a new column does not bump it). */
export const COMPLIANCE_REPORT_SCHEMA_VERSION = 1;

export interface ComplianceReportScope {
  advisory?: string;
  bucket?: string;
  team?: string;
  /** Findings exposed at some time in [from, to]: detected by `to`, not live before `from`. */
  from?: Date;
  to?: Date;
}

/** The signed audit checkpoint a report cites: its tree size and head, as its file under `<home>/audit/checkpoints` has them. */
export interface ReportCheckpoint {
  origin: string;
  treeSize: number;
  rootHash: string;
  signedAt: string;
  keyId: string;
}

export interface ComplianceReport {
  generatedAt: Date;
  scope: ComplianceReportScope;
  /** The policy revision whose SLA clocks set the due times; undefined: no policy, no due times. */
  policyRevision?: number;
  /** Undefined only while the audit log is empty. */
  checkpoint?: ReportCheckpoint;
  rows: ComplianceEvidenceRow[];
}

export type StatusCounts = Record<ComplianceStatus, number> & { total: number };

export const COMPLIANCE_COLUMNS = [
  'host', 'bucket', 'team', 'advisory_id', 'aliases', 'severity', 'known_exploited', 'package', 'installed_version', 'fixed_version',
  'finding_state', 'compliance_status', 'detected_at', 'due_at', 'installed_at', 'live_at', 'sla_breached', 'verified_by', 'rollout_id',
  'acceptance_id', 'acceptance_reason', 'justification', 'accepted_by', 'approved_by', 'acceptance_expires_at', 'last_check_in_at',
  'audit_tree_size', 'audit_root_hash',
] as const;
export type ComplianceColumn = (typeof COMPLIANCE_COLUMNS)[number];
export type ComplianceRecord = Record<ComplianceColumn, string | number | boolean | null>;

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

/**
 * One flat record per row, in the row order; times ISO 8601 UTC, absent values null, aliases
 * separated by spaces.
 *
 * @example complianceRecords(report)[0].compliance_status // 'non-compliant'
 */
export function complianceRecords(report: ComplianceReport): ComplianceRecord[] {
  return report.rows.map((row) => ({
    host: row.host,
    bucket: row.bucket,
    team: row.team,
    advisory_id: row.advisoryId,
    aliases: row.aliases.join(' '),
    severity: row.severity,
    known_exploited: row.knownExploited,
    package: row.package,
    installed_version: row.installedVersion,
    fixed_version: row.fixedVersion ?? null,
    finding_state: row.findingState,
    compliance_status: evidenceStatus(row, report.generatedAt),
    detected_at: row.detectedAt.toISOString(),
    due_at: iso(row.dueAt),
    installed_at: iso(row.installedAt),
    live_at: iso(row.liveAt),
    sla_breached: slaBreached(row, report.generatedAt),
    verified_by: row.verification ?? null,
    rollout_id: row.rolloutId ?? null,
    acceptance_id: row.acceptance?.id ?? null,
    acceptance_reason: row.acceptance?.reason ?? null,
    justification: row.acceptance?.justification ?? null,
    accepted_by: row.acceptance?.acceptedBy ?? null,
    approved_by: row.acceptance?.approvedBy ?? null,
    acceptance_expires_at: iso(row.acceptance?.expiresAt),
    last_check_in_at: iso(row.lastCheckInAt),
    audit_tree_size: report.checkpoint?.treeSize ?? null,
    audit_root_hash: report.checkpoint?.rootHash ?? null,
  }));
}

/** A record's value as the CSV cell and the printable page show it: null empty, booleans as words. */
export function recordCell(value: ComplianceRecord[ComplianceColumn]): string {
  return value === null ? '' : String(value);
}

/** RFC 4180, a header of the column names, one line per row (formula-looking cells defused). */
export function complianceCsv(report: ComplianceReport): string {
  return toCsv(COMPLIANCE_COLUMNS, complianceRecords(report).map((record) => COMPLIANCE_COLUMNS.map((column) => recordCell(record[column]))));
}

const emptyCounts = (): StatusCounts => ({ ...(Object.fromEntries(COMPLIANCE_STATUSES.map((status) => [status, 0])) as Record<ComplianceStatus, number>), total: 0 });

function countBy(records: readonly ComplianceRecord[], key: 'team' | 'bucket'): Array<{ name: string; counts: StatusCounts }> {
  const groups = new Map<string, StatusCounts>();
  for (const record of records) {
    const name = String(record[key]);
    const counts = groups.get(name) ?? emptyCounts();
    counts[record.compliance_status as ComplianceStatus]++;
    counts.total++;
    groups.set(name, counts);
  }
  return [...groups].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([name, counts]) => ({ name, counts }));
}

/**
 * The report as JSON: the same records as the CSV under `rows`, with what it covers, when it was
 * made, the checkpoint it cites, and the counts per status, team and bucket. With `rowLimit`, only
 * the first rows are listed (a page showing a fleet); the counts and `rows_total` are of all rows.
 */
export function complianceJson(report: ComplianceReport, rowLimit = Number.POSITIVE_INFINITY) {
  const rows = complianceRecords(report);
  const total = emptyCounts();
  for (const record of rows) {
    total[record.compliance_status as ComplianceStatus]++;
    total.total++;
  }
  return {
    schema_version: COMPLIANCE_REPORT_SCHEMA_VERSION,
    generated_at: report.generatedAt.toISOString(),
    scope: {
      advisory: report.scope.advisory ?? null,
      bucket: report.scope.bucket ?? null,
      team: report.scope.team ?? null,
      from: iso(report.scope.from),
      to: iso(report.scope.to),
    },
    policy_revision: report.policyRevision ?? null,
    audit_checkpoint: report.checkpoint
      ? { origin: report.checkpoint.origin, tree_size: report.checkpoint.treeSize, root_hash: report.checkpoint.rootHash, signed_at: report.checkpoint.signedAt, key_id: report.checkpoint.keyId }
      : null,
    columns: COMPLIANCE_COLUMNS,
    summary: total,
    by_team: countBy(rows, 'team'),
    by_bucket: countBy(rows, 'bucket'),
    rows_total: rows.length,
    rows: rows.length > rowLimit ? rows.slice(0, rowLimit) : rows,
  };
}
export type ComplianceReportJson = ReturnType<typeof complianceJson>;
