/**
 * Compliance reports and VEX: the audit log is checkpointed first (signed, written outside the
 * database), then the evidence of the scope is read and given its due times by the SLA clocks of
 * the policy in force, so a report or VEX document names a checkpoint an auditor can hold against
 * the log with `fleetpatch audit verify`, and every entry its data rests on is under it.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson } from '../domain/audit/canonical-json.js';
import { InputError } from '../domain/errors.js';
import type { SignedCheckpoint } from '../domain/audit/checkpoint.js';
import { slaDueTime } from '../domain/planning/sla.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import type { ComplianceEvidenceRow } from '../domain/reporting/compliance-evidence.js';
import type { ComplianceReport, ComplianceReportScope, ReportCheckpoint } from '../domain/reporting/compliance-report.js';
import { cycloneDxVex } from '../domain/reporting/cyclonedx-vex.js';
import { openVexDocument } from '../domain/reporting/openvex.js';
import { checkRiskApproval } from '../domain/reporting/risk-acceptance.js';
import type { VexImportPlan } from '../domain/reporting/vex-input.js';
import { vexStatements } from '../domain/reporting/vex-statements.js';
import { complianceEvidence, type StoredEvidence } from '../store/compliance-queries.js';
import { acceptRisk } from '../store/finding-queries.js';
import { withTransaction } from '../store/transaction.js';

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
  const checkpoint = await signedCheckpoint(request.checkpoint);
  const evidence = await complianceEvidence(pool, request.scope, request.now);
  const report: ComplianceReport = { generatedAt: request.now, scope: request.scope, rows: evidence.map((stored) => withDueTime(stored, request.policy?.policy)) };
  if (request.policy?.revision !== undefined) report.policyRevision = request.policy.revision;
  if (checkpoint) report.checkpoint = checkpoint;
  return report;
}

async function signedCheckpoint(checkpointer: AuditCheckpointer): Promise<ReportCheckpoint | undefined> {
  const signed = await checkpointer();
  if (!signed) return undefined;
  const { origin, treeSize, rootHash, signedAt, keyId } = signed.checkpoint;
  return { origin, treeSize, rootHash, signedAt, keyId };
}

export const VEX_FORMATS = ['openvex', 'cyclonedx'] as const;
export type VexFormat = (typeof VEX_FORMATS)[number];

/** The fleet has no finding to make a statement about (a VEX document needs at least one). */
export class NothingToState extends Error {
  override readonly name = 'NothingToState';
}

export interface VexExportRequest {
  format: VexFormat;
  now: Date;
  policy?: { policy: Policy; revision?: number };
  checkpoint: AuditCheckpointer;
  /** Who the document says made it (OpenVEX `author`). */
  author: string;
}

/** The generator's version in VEX documents: package.json's. */
const GENERATOR_VERSION = '0.1.0';

/**
 * The fleet's VEX document. Its id is the SHA-256 of its statements (canonical JSON), so the
 * same statements are the same document whenever exported; `tooling` names the checkpoint.
 */
export async function vexExport(pool: pg.Pool, request: VexExportRequest): Promise<object> {
  const checkpoint = await signedCheckpoint(request.checkpoint);
  const evidence = await complianceEvidence(pool, {}, request.now);
  const statements = vexStatements(evidence.map((stored) => ({ ...withDueTime(stored, request.policy?.policy), ecosystem: stored.ecosystem })), request.now);
  if (statements.length === 0) throw new NothingToState('the fleet has no findings to state anything about');
  // Through JSON first: the statements' dates become the ISO text the documents carry.
  const digest = createHash('sha256').update(canonicalJson(JSON.parse(JSON.stringify(statements)))).digest('hex');
  const tooling = `fleetpatch ${GENERATOR_VERSION}${checkpoint ? `, from audit checkpoint ${checkpoint.treeSize} (root ${checkpoint.rootHash})` : ''}`;
  const facts = { author: request.author, timestamp: request.now, tooling };
  if (request.format === 'cyclonedx') return cycloneDxVex(statements, facts, `urn:uuid:${uuidOf(digest)}`, GENERATOR_VERSION);
  return openVexDocument(statements, { ...facts, id: `urn:fleetpatch:vex:sha256:${digest}` });
}

/** A name-based (version 8, RFC 9562) UUID from the first 128 bits of a hex digest. */
function uuidOf(hex: string): string {
  const bytes = hex.slice(0, 32).split('');
  bytes[12] = '8';
  bytes[16] = ((Number.parseInt(bytes[16]!, 16) & 0x3) | 0x8).toString(16);
  const text = bytes.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20, 32)}`;
}

/** The evidence row of a stored finding, due when the policy's SLA clocks say. */
export function withDueTime(stored: StoredEvidence, policy: Policy | undefined): ComplianceEvidenceRow {
  const { ecosystem: _ecosystem, published, kevDueDate, ...row } = stored;
  const due = policy ? slaDueTime(policy, { severity: row.severity, firstSeenAt: row.detectedAt, published, knownExploited: row.knownExploited, kevDueDate }) : undefined;
  return due === undefined ? row : { ...row, dueAt: new Date(due) };
}

export interface VexImportRequest {
  plan: VexImportPlan;
  /** Who imports it: the acceptances' requester. */
  requestedBy: string;
  approvedBy: string;
  expiresAt: Date;
  now: Date;
  /** How the caller names the approver and expiry fields in errors (`--approved-by`, `approvedBy`). */
  fields: { approvedBy: string; expiresAt: string };
}

export interface VexImportResult {
  documentId: string;
  /** The ids of the acceptances recorded, in the document's order. */
  acceptances: number[];
  skipped: VexImportPlan['skipped'];
}

/**
 * Records a VEX document's `not_affected` statements as acceptances (each audited), all or none:
 * approved by someone other than the importer, expiring when the caller says (VEX has no expiry).
 */
export async function importVexAcceptances(pool: pg.Pool, request: VexImportRequest): Promise<VexImportResult> {
  checkRiskApproval({ acceptedBy: request.requestedBy, approvedBy: request.approvedBy }, request.fields.approvedBy);
  if (request.expiresAt.getTime() <= request.now.getTime()) throw new InputError('the expiry must be in the future', { field: request.fields.expiresAt });
  const acceptances = await withTransaction(pool, async (client) => {
    const ids: number[] = [];
    for (const draft of request.plan.acceptances) {
      ids.push(await acceptRisk(client, { ...draft, acceptedBy: request.requestedBy, approvedBy: request.approvedBy, expiresAt: request.expiresAt, importedFrom: request.plan.documentId }));
    }
    return ids;
  });
  return { documentId: request.plan.documentId, acceptances, skipped: request.plan.skipped };
}
