/**
 * What the fleet states about each advisory, in VEX terms, from the evidence rows: fixed and live
 * is `fixed`; a vulnerable kernel that is not running is `not_affected` (not in the execute path);
 * an open finding is `affected` with the action that remedies it. An accepted risk stays
 * `affected`, with an action statement saying who accepted it, until when and why — it becomes
 * `not_affected` only when the acceptance carries a VEX justification its approver attested
 * (DependencyTrack's lesson: a suppression exported as not affected "might be lying").
 */
import { evidenceStatus, type ComplianceEvidenceRow } from './compliance-evidence.js';
import { packageUrl } from './package-url.js';
import type { RiskJustification } from './risk-justification.js';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

/** An evidence row with the package's ecosystem, for its purl. */
export type VexEvidence = ComplianceEvidenceRow & { ecosystem: string };

/** One host product and the package on it the statement is about. */
export interface VexProduct {
  host: string;
  purl: string;
}

export interface VexStatement {
  advisoryId: string;
  aliases: string[];
  status: VexStatus;
  justification?: RiskJustification;
  /** Why it is not affected, in words (with a justification from an acceptance). */
  impactStatement?: string;
  /** What is done about it (affected). */
  actionStatement?: string;
  /** Affected, and an accepted risk says nothing will be done before it expires. */
  riskAccepted?: true;
  /** When what the statement says became true: the latest of its products'. */
  timestamp: Date;
  /** Sorted by host. */
  products: VexProduct[];
}

const day = (date: Date) => date.toISOString().slice(0, 10);
const acceptedBy = (acceptance: NonNullable<ComplianceEvidenceRow['acceptance']>) =>
  `${acceptance.acceptedBy}${acceptance.approvedBy ? ` (approved by ${acceptance.approvedBy})` : ''}`;

/** The status, its words and its time for one row at `now`. */
function stated(row: ComplianceEvidenceRow, now: Date): Omit<VexStatement, 'advisoryId' | 'aliases' | 'products'> {
  const status = evidenceStatus(row, now);
  if (row.findingState === 'fixed') return { status: 'fixed', timestamp: row.liveAt ?? row.detectedAt };
  if (row.findingState === 'not-applicable') return { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path', impactStatement: 'the vulnerable version is installed but not running', timestamp: row.liveAt ?? row.detectedAt };
  const acceptance = row.acceptance;
  if (status === 'excepted' && acceptance) {
    const words = `risk accepted by ${acceptedBy(acceptance)} until ${day(acceptance.expiresAt)}: ${acceptance.reason}`;
    if (acceptance.justification) return { status: 'not_affected', justification: acceptance.justification, impactStatement: words, timestamp: acceptance.acceptedAt };
    return { status: 'affected', actionStatement: words, riskAccepted: true, timestamp: acceptance.acceptedAt };
  }
  const due = row.dueAt ? `, due ${day(row.dueAt)}` : '';
  if (row.findingState === 'pending-reboot') return { status: 'affected', actionStatement: `reboot to run the installed fix${row.fixedVersion ? ` (${row.fixedVersion})` : ''}${due}`, timestamp: row.installedAt ?? row.detectedAt };
  return { status: 'affected', actionStatement: `${row.fixedVersion ? `update to ${row.fixedVersion}` : 'no fix available yet: mitigate'}${due}`, timestamp: row.detectedAt };
}

/**
 * The fleet's statements: rows saying the same thing about the same advisory and package version
 * become one statement over all their hosts. Sorted by advisory, then status and words.
 *
 * @example vexStatements(rows, now)[0] // { advisoryId: 'DSA-5801-1', status: 'affected', actionStatement: 'update to 3.0.15-1~deb12u2, due 2026-12-08', products: [{ host: 'db-1', purl: 'pkg:deb/…' }], … }
 */
export function vexStatements(rows: readonly VexEvidence[], now: Date): VexStatement[] {
  const byContent = new Map<string, VexStatement>();
  for (const row of rows) {
    const statement = stated(row, now);
    const purl = packageUrl(row.ecosystem, row.package, row.installedVersion);
    const key = JSON.stringify([row.advisoryId, purl, statement.status, statement.justification, statement.impactStatement, statement.actionStatement]);
    const existing = byContent.get(key);
    if (existing) {
      existing.products.push({ host: row.host, purl });
      if (statement.timestamp > existing.timestamp) existing.timestamp = statement.timestamp;
    } else {
      byContent.set(key, { advisoryId: row.advisoryId, aliases: row.aliases, ...statement, products: [{ host: row.host, purl }] });
    }
  }
  const order = (statement: VexStatement) => `${statement.advisoryId}\u0000${statement.products[0]!.purl}\u0000${statement.status}\u0000${statement.actionStatement ?? statement.impactStatement ?? ''}`;
  return [...byContent.values()]
    .map((statement) => ({ ...statement, products: statement.products.sort((left, right) => (left.host < right.host ? -1 : left.host > right.host ? 1 : 0)) }))
    .sort((left, right) => (order(left) < order(right) ? -1 : order(left) > order(right) ? 1 : 0));
}
