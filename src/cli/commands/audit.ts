/**
 * `fleetpatch audit log | verify | checkpoint`: read the audit log, prove it untouched against the
 * signed checkpoints outside the database, and sign a checkpoint on demand. `verify` exits 1 when
 * the log fails verification (the command ran and found what it looks for, as `--fail-on` does).
 */
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import { createCheckpoint, verifyAuditLog, type AuditVerifyReport } from '../../store/audit-checkpoints.js';
import { listAudit, type AuditListing } from '../../store/audit-log.js';
import { fleetpatchHome } from '../../store/fleetpatch-home.js';
import { withDatabase } from '../database-session.js';
import { ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { escapeControlCharacters, renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

/** `audit verify` found the log or a checkpoint tampered with. */
const VERIFICATION_FAILED = ExitCode.findingsPresent;

/** How many problems the text report lists; `--json` lists them all. */
const PROBLEMS_SHOWN = 20;

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('The append-only audit log of every state change: list it, verify it, checkpoint it.');
  audit
    .command('log')
    .description('List audit entries, newest first.')
    .option('--since <date>', 'only entries recorded at or after this ISO date or time')
    .option('--action <name>', 'only this action (api-token.created) or family (api-token)')
    .option('--limit <n>', 'at most this many entries', parsePositiveInteger, 100)
    .option('--json', 'print a JSON array')
    .action(async (options: { since?: string; action?: string; limit: number; json?: boolean }) => {
      const since = options.since === undefined ? undefined : new Date(options.since);
      if (since && Number.isNaN(since.getTime())) throw new InputError(`not a date: ${options.since}`, { field: '--since' }, 'use an ISO date or time such as 2027-01-31 or 2027-01-31T09:00:00Z');
      const entries = await withDatabase(createProgress(!options.json), (database) =>
        listAudit(database.pool, { ...(since ? { since } : {}), ...(options.action ? { action: options.action } : {}), limit: options.limit }));
      if (options.json) return print(entries);
      process.stdout.write(entries.length === 0 ? 'no audit entries\n' : renderTable(entries, [
        { header: 'SEQ', value: (entry: AuditListing) => String(entry.seq), align: 'right' },
        { header: 'AT', value: (entry) => entry.at.slice(0, 19).replace('T', ' ') },
        { header: 'ACTOR', value: (entry) => entry.actor, maxWidth: 32 },
        { header: 'ACTION', value: (entry) => entry.action },
        { header: 'SUBJECT', value: (entry) => entry.subject, maxWidth: 40 },
        { header: 'REASON', value: (entry) => entry.reason ?? '', maxWidth: 48 },
      ]));
    });
  audit
    .command('verify')
    .description('Re-hash every entry, rebuild the tree, check every checkpoint\'s signature and that the log extends it; exit 1 naming the first bad entry.')
    .option('--checkpoints <dir>', 'the checkpoint files to hold the log against (default: <home>/audit/checkpoints; point it at your off-site copy)')
    .option('--public-key <file>', 'the trusted public key (default: <home>/audit/signing-key.pub.pem)')
    .option('--json', 'print the report as JSON')
    .action(async (options: { checkpoints?: string; publicKey?: string; json?: boolean }) => {
      const report = await withDatabase(createProgress(!options.json), (database) =>
        verifyAuditLog(database.pool, { home: fleetpatchHome(), ...(options.checkpoints ? { checkpointsDirectory: options.checkpoints } : {}), ...(options.publicKey ? { publicKeyFile: options.publicKey } : {}) }));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.ok) process.exitCode = VERIFICATION_FAILED;
    });
  audit
    .command('checkpoint')
    .description('Sign the log\'s current tree head now: recorded in the database and written to <home>/audit/checkpoints.')
    .option('--json', 'print the checkpoint as JSON')
    .action(async (options: { json?: boolean }) => {
      const result = await withDatabase(createProgress(!options.json), (database) => createCheckpoint(database.pool, fleetpatchHome()));
      if (options.json) return print(result ?? null);
      if (!result) return void process.stdout.write('the audit log is empty: nothing to sign\n');
      process.stdout.write(`${result.created ? 'signed' : 'already signed'} checkpoint at size ${result.checkpoint.treeSize} (root ${result.checkpoint.rootHash}): ${result.file}\n`);
    });
}

function formatReport(report: AuditVerifyReport): string {
  const lines = [
    `${report.size} entries, tree head ${report.rootHash}`,
    `${report.checkpointsChecked} checkpoints checked (trusted key ${report.trustedKeyId ?? 'none'}, files in ${report.checkpointsDirectory}); ${report.anchoredSize === 0 ? 'no entry anchored outside the database yet' : `entries 1–${report.anchoredSize} anchored outside the database`}, ${Math.max(0, report.size - report.anchoredSize)} after the last checkpoint file`,
  ];
  if (report.ok) return `${[...lines, 'audit log verified'].join('\n')}\n`;
  lines.push(`audit log FAILED verification: first bad entry ${report.firstBadSeq ?? '(none: a checkpoint itself is bad)'}`);
  for (const problem of report.problems.slice(0, PROBLEMS_SHOWN)) lines.push(`  ${escapeControlCharacters(problem.message)}`);
  if (report.problems.length > PROBLEMS_SHOWN) lines.push(`  … and ${report.problems.length - PROBLEMS_SHOWN} more (--json lists them all)`);
  return `${lines.join('\n')}\n`;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
