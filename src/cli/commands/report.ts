/**
 * `fleetpatch report compliance`: the compliance report of an advisory, bucket, team and period
 * as CSV, JSON, a printable HTML page or that page as PDF (printed by headless Chromium), built by
 * the service the API uses. The audit log is checkpointed first and the report names that
 * checkpoint: `fleetpatch audit verify` holds the log against it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { complianceReport } from '../../app/compliance-service.js';
import { InputError } from '../../domain/errors.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import { complianceCsv, complianceJson, type ComplianceReportScope } from '../../domain/reporting/compliance-report.js';
import { complianceHtml } from '../../domain/reporting/compliance-html.js';
import { dateTimeProblem } from '../../domain/well-formed-text.js';
import { createCheckpoint } from '../../store/audit-checkpoints.js';
import { fleetpatchHome } from '../../store/fleetpatch-home.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';

const FORMATS = ['csv', 'json', 'html', 'pdf'] as const;
/** How long Chromium may take to print a report (a fleet's is thousands of pages). */
const PRINT_TIMEOUT_MS = 600_000;
type ReportFormat = (typeof FORMATS)[number];

interface ReportOptions {
  advisory?: string;
  bucket?: string;
  team?: string;
  from?: string;
  to?: string;
  format: string;
  output?: string;
  chromium: string;
  json?: boolean;
}

/**
 * An ISO time, or a date: as a `start` its first instant (UTC), as an `end` its last, so
 * `--from 2026-11-01 --to 2026-11-30` is the whole of November.
 *
 * @example instantOrDay('2026-11-30', '--to', 'end') // 2026-11-30T23:59:59.999Z
 */
export function instantOrDay(text: string, field: string, edge: 'start' | 'end'): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const start = instantOrDay(`${text}T00:00:00Z`, field, 'start');
    return edge === 'start' ? start : new Date(start.getTime() + 86_400_000 - 1);
  }
  const problem = dateTimeProblem(text);
  if (problem !== undefined) throw new InputError(problem, { field }, 'use a date such as 2026-11-30 or a time such as 2026-11-30T12:00:00Z');
  return new Date(text);
}

function scopeOf(options: ReportOptions): ComplianceReportScope {
  const scope: ComplianceReportScope = {};
  if (options.advisory) scope.advisory = options.advisory;
  if (options.bucket) scope.bucket = options.bucket;
  if (options.team) scope.team = options.team;
  if (options.from) scope.from = instantOrDay(options.from, '--from', 'start');
  if (options.to) scope.to = instantOrDay(options.to, '--to', 'end');
  if (scope.from && scope.to && scope.from > scope.to) throw new InputError('--from is after --to', { field: '--from' });
  return scope;
}

export function registerReportCommand(program: Command): void {
  const report = program.command('report').description('Reports for auditors, built from the database and citing a signed audit checkpoint.');
  report
    .command('compliance')
    .description('One evidence row per host × advisory × package (detected, due, installed, live, how verified, by which rollout, the accepted risk with its approver and expiry) and its status; pending reboot past due is non-compliant, an accepted risk excepted.')
    .option('--advisory <id>', 'only this advisory (its id or an alias such as a CVE)')
    .option('--bucket <name>', 'only hosts of this bucket')
    .option('--team <name>', 'only hosts of this owner team')
    .option('--from <date>', 'only findings exposed at or after this date or time (not live before it)')
    .option('--to <date>', 'only findings detected by this date or time')
    .option('--format <format>', `${FORMATS.join(', ')} (html: a page to print or attach; pdf: that page printed, needs --output)`, 'csv')
    .option('--output <file>', 'write the report to this file instead of standard output')
    .option('--chromium <path>', 'the Chromium that prints --format pdf', process.env.FLEETPATCH_CHROMIUM ?? 'chromium')
    .option('--json', 'the same as --format json')
    .action(async (options: ReportOptions) => {
      const format = (options.json ? 'json' : options.format) as ReportFormat;
      if (!FORMATS.includes(format)) throw new InputError(`unknown format: ${options.format}`, { field: '--format' }, `use one of ${FORMATS.join(', ')}`);
      if (format === 'pdf' && options.output === undefined) throw new InputError('a PDF is written to a file', { field: '--output' }, 'give --output report.pdf');
      const scope = scopeOf(options);
      const built = await withDatabase(createProgress(options.output !== undefined), async (database) => {
        const revision = await latestPolicyRevision(database.pool);
        const policy = revision ? { policy: parsePolicy(revision.text, `policy revision ${revision.revision}`), revision: revision.revision } : undefined;
        return complianceReport(database.pool, { scope, now: new Date(), checkpoint: () => createCheckpoint(database.pool, fleetpatchHome()), ...(policy ? { policy } : {}) });
      });
      if (format === 'pdf') {
        await printPdf(complianceHtml(built), resolve(options.output!), options.chromium);
      } else {
        const text = format === 'csv' ? complianceCsv(built) : format === 'html' ? complianceHtml(built) : `${JSON.stringify(complianceJson(built), null, 2)}\n`;
        if (options.output === undefined) return void process.stdout.write(text);
        await writeFile(options.output, text).catch((error: NodeJS.ErrnoException) => {
          throw new InputError(`cannot write: ${error.code ?? error.message}`, { file: options.output! });
        });
      }
      const checkpoint = built.checkpoint ? `audit checkpoint ${built.checkpoint.treeSize} (root ${built.checkpoint.rootHash}): check it with fleetpatch audit verify` : 'no audit checkpoint: the audit log is empty';
      process.stderr.write(`${built.rows.length} evidence rows written to ${options.output}; ${checkpoint}\n`);
    });
}

/**
 * Prints the page to `output` with headless Chromium (its print stylesheet: A4 landscape). As root,
 * Chromium needs --no-sandbox; the page has no script and loads nothing.
 */
async function printPdf(page: string, output: string, chromium: string): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'fleetpatch-report-'));
  try {
    const file = join(directory, 'report.html');
    await writeFile(file, page);
    const flags = ['--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--no-pdf-header-footer', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
    await promisify(execFile)(chromium, [...flags, `--user-data-dir=${join(directory, 'profile')}`, `--print-to-pdf=${output}`, pathToFileURL(file).href], { timeout: PRINT_TIMEOUT_MS }).catch((error: NodeJS.ErrnoException & { stderr?: string }) => {
      const why = error.code === 'ENOENT' ? `${chromium} not found` : (error.stderr ?? error.message).trim().split('\n').at(-1);
      throw new InputError(`cannot print the PDF: ${why}`, { field: '--chromium' }, 'install Chromium, or name it with --chromium PATH (or FLEETPATCH_CHROMIUM)');
    });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
