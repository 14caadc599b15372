/** `fleetpatch findings`: open findings from the database, with filters; `findings accept` records an accepted risk. */
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import { riskScore, type Criticality } from '../../domain/prioritization/risk-score.js';
import { readPolicy } from '../../domain/policy/policy-document.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { SEVERITY_ORDER, type FindingState, type Severity } from '../../domain/types.js';
import { checkRiskApproval } from '../../domain/reporting/risk-acceptance.js';
import { isRiskJustification, RISK_JUSTIFICATIONS } from '../../domain/reporting/risk-justification.js';
import { acceptRisk, listFindings, type FindingRow } from '../../store/finding-queries.js';
import { withDatabase } from '../database-session.js';
import { ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { findingColumns, renderTable } from '../table.js';

const STATES: FindingState[] = ['vulnerable', 'pending-reboot', 'fixed', 'accepted', 'not-applicable'];

export function registerFindingsCommand(program: Command): void {
  const findings = program
    .command('findings')
    .description('List findings stored in the database (open ones by default).')
    // `findings accept --advisory X --host Y`: options after `accept` are its own, not the listing
    // filters of the same names (the program is positional too, see main.ts).
    .enablePositionalOptions()
    .option('--host <name>', 'only this host')
    .option('--advisory <id>', 'only this advisory (id or alias such as a CVE id)')
    .option('--severity <list>', 'comma-separated severities: critical,high,medium,low,none,unknown')
    .option('--state <list>', `comma-separated states (default: vulnerable,pending-reboot,accepted): ${STATES.join(',')}`)
    .option('--limit <n>', 'at most this many rows', parsePositiveInteger)
    .option('--fail-on <severity>', 'exit 1 when an open finding of at least this severity exists')
    .option('--json', 'print a JSON array')
    .action(async (options: { host?: string; advisory?: string; severity?: string; state?: string; limit?: number; failOn?: string; json?: boolean }) => {
      const filter = {
        ...(options.host ? { host: options.host } : {}),
        ...(options.advisory ? { advisory: options.advisory } : {}),
        ...(options.severity ? { severity: parseList(options.severity, SEVERITY_ORDER, '--severity') } : {}),
        ...(options.state ? { states: parseList(options.state, STATES, '--state') } : {}),
        ...(options.limit ? { limit: options.limit } : {}),
      };
      const failOn = options.failOn ? parseList(options.failOn, SEVERITY_ORDER, '--fail-on')[0] : undefined;
      const { rows, criticality } = await withDatabase(createProgress(!options.json), async (database) => ({ rows: await listFindings(database.pool, filter), criticality: await bucketCriticality(database.pool) }));
      process.stdout.write(options.json ? `${JSON.stringify(rows.map((row) => withRisk(row, criticality)), null, 2)}\n` : formatFindings(rows, criticality));
      if (failOn && rows.some((row) => isOpen(row.state) && atLeast(row.severity, failOn))) process.exitCode = ExitCode.findingsPresent;
    });

  findings
    .command('accept')
    .description('Accept the risk of an advisory (on one host or package, or everywhere) until a date, with a reason.')
    .requiredOption('--advisory <id>', 'advisory id or CVE alias')
    .requiredOption('--reason <text>', 'why the risk is accepted (kept in the audit trail)')
    .requiredOption('--expires <date>', 'ISO date the acceptance ends, e.g. 2027-01-31')
    .option('--host <name>', 'only on this host')
    .option('--package <name>', 'only for this package')
    .option('--by <name>', 'who accepts it', process.env.USER ?? 'unknown')
    .requiredOption('--approved-by <name>', 'who approved it: someone other than --by (four eyes)')
    .option('--justification <name>', `attested: the flaw cannot be exploited here, so VEX exports say not_affected: ${RISK_JUSTIFICATIONS.join(', ')}`)
    .option('--json', 'print the recorded acceptance as JSON')
    .action(async (options: { advisory: string; reason: string; expires: string; host?: string; package?: string; by: string; approvedBy: string; justification?: string; json?: boolean }) => {
      const expiresAt = new Date(options.expires);
      if (Number.isNaN(expiresAt.getTime())) throw new InputError(`not a date: ${options.expires}`, { field: '--expires' }, 'use an ISO date such as 2027-01-31');
      if (expiresAt.getTime() <= Date.now()) throw new InputError('the expiry must be in the future', { field: '--expires' });
      checkRiskApproval({ acceptedBy: options.by, approvedBy: options.approvedBy }, '--approved-by');
      const justification = options.justification;
      if (justification !== undefined && !isRiskJustification(justification)) throw new InputError(`unknown justification: ${justification}`, { field: '--justification' }, `use one of ${RISK_JUSTIFICATIONS.join(', ')}`);
      const id = await withDatabase(undefined, (database) =>
        acceptRisk(database.pool, {
          advisoryId: options.advisory,
          reason: options.reason,
          acceptedBy: options.by,
          approvedBy: options.approvedBy,
          expiresAt,
          ...(justification ? { justification } : {}),
          ...(options.host ? { hostName: options.host } : {}),
          ...(options.package ? { packageName: options.package } : {}),
        }),
      );
      if (options.json) {
        const acceptance = { id, advisory: options.advisory, host: options.host ?? null, package: options.package ?? null, reason: options.reason, acceptedBy: options.by, approvedBy: options.approvedBy, justification: justification ?? null, expiresAt };
        process.stdout.write(`${JSON.stringify(acceptance, null, 2)}\n`);
        return;
      }
      process.stdout.write(`accepted risk #${id}: ${options.advisory} until ${expiresAt.toISOString().slice(0, 10)}\n`);
    });
}

/** Each bucket's criticality in the applied policy (none applied: every bucket counts as medium). */
async function bucketCriticality(pool: import('pg').Pool): Promise<Map<string, Criticality>> {
  const revision = await latestPolicyRevision(pool);
  if (!revision) return new Map();
  const reading = readPolicy(revision.text);
  return reading.ok ? new Map(reading.policy.buckets.map((bucket) => [bucket.name, bucket.criticality])) : new Map();
}

function withRisk(row: FindingRow, criticality: ReadonlyMap<string, Criticality> = new Map()) {
  const bucketCriticality = criticality.get(row.bucket);
  const risk = riskScore({
    severity: row.severity,
    ...(bucketCriticality ? { criticality: bucketCriticality } : {}),
    knownExploited: row.knownExploited,
    internetFacing: row.internetFacing,
    ...(row.cvssScore !== undefined ? { cvssScore: row.cvssScore } : {}),
    ...(row.epss !== undefined ? { epss: row.epss } : {}),
  });
  return { ...row, riskScore: risk.score, riskExplanation: risk.explanation };
}

export function formatFindings(rows: FindingRow[], criticality: ReadonlyMap<string, Criticality> = new Map()): string {
  if (rows.length === 0) return 'no findings\n';
  return renderTable(rows.map((row) => withRisk(row, criticality)), [{ header: 'HOST', value: (row) => row.host, maxWidth: 28 }, ...findingColumns<ReturnType<typeof withRisk>>()]);
}

function isOpen(state: FindingState): boolean {
  return state === 'vulnerable' || state === 'pending-reboot';
}

function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_ORDER.indexOf(severity) <= SEVERITY_ORDER.indexOf(threshold);
}

function parseList<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((item) => item.trim().toLowerCase());
  const unknown = items.filter((item) => !allowed.includes(item as T));
  if (unknown.length > 0) throw new InputError(`unknown value ${unknown.join(', ')}`, { field: flag }, `choose from ${allowed.join(', ')}`);
  return items as T[];
}

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InputError(`not a positive whole number: ${value}`);
  return number;
}
