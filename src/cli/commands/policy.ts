/**
 * `fleetpatch policy check | windows | apply | show | history | diff`: judge a policy file like a
 * compiler (one `FILE:LINE:COLUMN: level: field: message` line per problem), show what its windows
 * mean as dates, store it as a revision, and read the revisions back. Exit codes: 2 when the file
 * has an error (nothing is stored), 1 for warnings under `--strict`, 0 otherwise.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { unifiedPolicyDiff } from '../../app/policy-diff.js';
import { reassignHosts } from '../../app/host-reassignment.js';
import { applyPolicy, storedSelectableHosts } from '../../app/policy-service.js';
import { InputError } from '../../domain/errors.js';
import { describeRecurrence, nextOccurrences, type WindowOccurrence } from '../../domain/policy/maintenance-window.js';
import { policyOwnership } from '../../domain/policy/ownership.js';
import { closest, parsePolicy } from '../../domain/policy/policy-document.js';
import { formatPolicyIssue, hasErrors, judgePolicy, type PolicyIssue } from '../../domain/policy/policy-report.js';
import { latestPolicyRevision, listPolicyRevisions, policyRevision, type PolicyRevision, type PolicyRevisionSummary } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { escapeControlCharacters, renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

const AUTHOR = `cli:${process.env.USER ?? 'unknown'}`;
const MAX_OCCURRENCES = 1_000;

export function registerPolicyCommand(program: Command): void {
  const policy = program.command('policy').description('The policy file (fleetpatch.yaml): check it, see its windows, apply it as a revision, read the history.');
  policy
    .command('check')
    .description('Check a policy file: every problem as FILE:LINE:COLUMN: error|warning: field: message; exit 2 on errors.')
    .argument('<file>', 'the policy file')
    .option('--json', 'print the problems as JSON')
    .option('--against-fleet', 'also check the stored hosts (DATABASE_URL or the embedded home): hosts that no bucket matches')
    .option('--strict', 'warnings fail too (exit 1)')
    .action(async (file: string, options: { json?: boolean; againstFleet?: boolean; strict?: boolean }) => {
      const text = await readPolicyFile(file);
      const hosts = options.againstFleet ? await withDatabase(createProgress(!options.json), (database) => storedSelectableHosts(database.pool)) : undefined;
      const judgement = judgePolicy(text, { now: new Date(), ...(hosts ? { hosts } : {}) });
      const errors = judgement.issues.filter((issue) => issue.level === 'error').length;
      const warnings = judgement.issues.length - errors;
      if (options.json) {
        print({ file, ok: errors === 0, errors, warnings, ...(hosts ? { hostsChecked: hosts.length } : {}), issues: judgement.issues });
      } else {
        printIssues(file, judgement.issues, process.stdout);
        const what = judgement.policy ? ` (${judgement.policy.buckets.length} buckets, ${Object.keys(judgement.policy.windows).length} windows${hosts ? `, ${hosts.length} stored hosts` : ''})` : '';
        process.stderr.write(`${file}: ${errors === 0 && warnings === 0 ? 'ok' : `${count(errors, 'error')}, ${count(warnings, 'warning')}`}${what}\n`);
      }
      if (errors > 0) process.exitCode = ExitCode.inputError;
      else if (warnings > 0 && options.strict) process.exitCode = ExitCode.findingsPresent;
    });
  policy
    .command('windows')
    .description('The next occurrences of each maintenance window: local and UTC start and end, admission end, DST notes.')
    .argument('<file>', 'the policy file')
    .option('--window <name>', 'only this window')
    .option('--from <time>', 'list occurrences not ended at this ISO date or time (default: now)')
    .option('--count <n>', 'occurrences per window', parsePositiveInteger, 5)
    .option('--json', 'print JSON')
    .action(async (file: string, options: { window?: string; from?: string; count: number; json?: boolean }) => {
      const parsed = parsePolicy(await readPolicyFile(file), file);
      const from = options.from === undefined ? new Date() : new Date(options.from);
      if (Number.isNaN(from.getTime())) throw new InputError(`not a date or time: ${options.from}`, { field: '--from' }, 'use ISO 8601, e.g. 2026-03-08 or 2026-03-08T00:00:00-05:00');
      if (options.count > MAX_OCCURRENCES) throw new InputError(`at most ${MAX_OCCURRENCES} occurrences per window`, { field: '--count' });
      const names = Object.keys(parsed.windows);
      if (options.window !== undefined && !parsed.windows[options.window]) {
        const suggestion = closest(options.window, names);
        throw new InputError(`no window named ${JSON.stringify(options.window)} in ${file}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`, { field: '--window' }, `its windows: ${names.join(', ') || 'none'}`);
      }
      const windows = (options.window !== undefined ? [options.window] : names).map((name) => {
        const window = parsed.windows[name]!;
        return { name, timeZone: window.timeZone, recurrence: describeRecurrence(window.recurrence), start: window.start, occurrences: nextOccurrences(window, from, options.count) };
      });
      if (options.json) {
        return print(windows.map((window) => ({ ...window, occurrences: window.occurrences.map((occurrence) => ({ ...occurrence, start: occurrence.start.toISOString(), end: occurrence.end.toISOString(), admissionEnd: occurrence.admissionEnd.toISOString() })) })));
      }
      if (windows.length === 0) return void process.stdout.write(`${file} defines no windows\n`);
      const rows = windows.flatMap((window) => (window.occurrences.length > 0 ? window.occurrences : [undefined]).map((occurrence) => ({ window, occurrence })));
      process.stdout.write(renderTable(rows, [
        { header: 'WINDOW', value: (row) => row.window.name },
        { header: 'ZONE', value: (row) => row.window.timeZone },
        { header: 'LOCAL START', value: (row) => row.occurrence?.localStart ?? '' },
        { header: 'LOCAL END', value: (row) => row.occurrence?.localEnd ?? '' },
        { header: 'UTC START', value: (row) => (row.occurrence ? utc(row.occurrence.start) : '') },
        { header: 'UTC END', value: (row) => (row.occurrence ? utc(row.occurrence.end) : '') },
        { header: 'ADMITS UNTIL (UTC)', value: (row) => (row.occurrence ? utc(row.occurrence.admissionEnd) : '') },
        { header: 'NOTE', value: (row) => (row.occurrence ? transitionNote(row.window.start, row.occurrence) : `${row.window.recurrence}: no occurrence from ${utc(from)} on`), maxWidth: 80 },
      ]));
      process.stderr.write(windows.map((window) => `${window.name}: ${window.recurrence} at ${window.start} ${window.timeZone}`).join('\n') + '\n');
    });
  policy
    .command('apply')
    .description('Store a policy file as the next revision (content hash, author, message, diff), audited; a file with errors stores nothing (exit 2), identical content is a no-op.')
    .argument('<file>', 'the policy file')
    .option('--message <text>', 'why it changes (kept with the revision and in the audit log)', '')
    .action(async (file: string, options: { message: string }) => {
      const text = await readPolicyFile(file);
      const judgement = judgePolicy(text, { now: new Date() });
      printIssues(file, judgement.issues, process.stderr);
      if (hasErrors(judgement)) {
        process.stderr.write(`${file}: not applied; nothing was stored\n`);
        process.exitCode = ExitCode.inputError;
        return;
      }
      const progress = createProgress();
      await withDatabase(progress, async (database) => {
        const result = await applyPolicy(database.pool, { text, judgement, author: AUTHOR, message: options.message, source: file });
        if (result.status === 'unchanged') {
          process.stdout.write(`${file} is identical to revision ${result.revision.revision} (${result.revision.contentHash.slice(0, 12)}); nothing stored\n`);
          return;
        }
        const hosts = await reassignHosts(database.pool, policyOwnership(result.policy));
        process.stdout.write(`applied ${file} as revision ${result.revision.revision} (${result.revision.contentHash.slice(0, 12)}); ${hosts.moved} of ${hosts.hosts} hosts changed bucket or team\n`);
      });
    });
  policy
    .command('show')
    .description('Print the text of the policy in force (the latest revision) or of --revision N.')
    .option('--revision <n>', 'this revision', parsePositiveInteger)
    .option('--json', 'print the revision as JSON (with its diff)')
    .action(async (options: { revision?: number; json?: boolean }) => {
      const revision = await withDatabase(createProgress(false), (database) => readRevision(database.pool, options.revision));
      if (!revision) return void process.stderr.write('no policy revision has been applied yet\n');
      if (options.json) return print(revision);
      process.stdout.write(revision.text);
    });
  policy
    .command('history')
    .description('Every applied revision, newest first.')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const revisions = await withDatabase(createProgress(!options.json), (database) => listPolicyRevisions(database.pool));
      if (options.json) return print(revisions);
      process.stdout.write(revisions.length === 0 ? 'no policy revision has been applied yet\n' : renderTable(revisions, [
        { header: 'REV', value: (revision: PolicyRevisionSummary) => String(revision.revision), align: 'right' },
        { header: 'APPLIED (UTC)', value: (revision) => utc(revision.appliedAt) },
        { header: 'AUTHOR', value: (revision) => revision.author, maxWidth: 32 },
        { header: 'SOURCE', value: (revision) => revision.source, maxWidth: 40 },
        { header: 'HASH', value: (revision) => revision.contentHash.slice(0, 12) },
        { header: 'MESSAGE', value: (revision) => revision.message, maxWidth: 60 },
      ]));
    });
  policy
    .command('diff')
    .description('Unified diff between two revisions or files: none given, the latest revision against its predecessor; one, it against the latest revision; a number is a revision, anything else a file.')
    .argument('[a]', 'revision number or file (the old side)')
    .argument('[b]', 'revision number or file (the new side; default the latest revision)')
    .action(async (a: string | undefined, b: string | undefined) => {
      const output = await withDatabase(createProgress(false), async (database) => {
        if (a === undefined) {
          const latest = await latestPolicyRevision(database.pool);
          if (!latest) throw new InputError('no policy revision has been applied yet');
          return latest.diff;
        }
        const [old, current] = [await side(database.pool, a), b === undefined ? await side(database.pool, undefined) : await side(database.pool, b)];
        if (old.text === current.text) {
          process.stderr.write(`${old.label} and ${current.label} are identical\n`);
          return '';
        }
        return unifiedPolicyDiff(old.label, current.label, old.text, current.text);
      });
      process.stdout.write(output);
    });
}

/** A revision (a whole number) or a file, as one side of a diff; undefined is the latest revision. */
async function side(pool: import('pg').Pool, reference: string | undefined): Promise<{ label: string; text: string }> {
  if (reference === undefined || /^\d+$/.test(reference)) {
    const revision = await readRevision(pool, reference === undefined ? undefined : Number(reference));
    if (!revision) throw new InputError(reference === undefined ? 'no policy revision has been applied yet' : `no policy revision ${reference}`, { field: 'revision' }, 'fleetpatch policy history lists them');
    return { label: `revision ${revision.revision}`, text: revision.text };
  }
  return { label: reference, text: await readPolicyFile(reference) };
}

async function readRevision(pool: import('pg').Pool, revision: number | undefined): Promise<PolicyRevision | undefined> {
  if (revision === undefined) return latestPolicyRevision(pool);
  const found = await policyRevision(pool, revision);
  if (!found) throw new InputError(`no policy revision ${revision}`, { field: '--revision' }, 'fleetpatch policy history lists them');
  return found;
}

async function readPolicyFile(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read the policy: ${error.code ?? error.message}`, { file });
  });
}

function printIssues(file: string, issues: PolicyIssue[], stream: NodeJS.WritableStream): void {
  if (issues.length > 0) stream.write(issues.map((issue) => escapeControlCharacters(formatPolicyIssue(file, issue))).join('\n') + '\n');
}

/** What a DST change did to an occurrence's start, in words. */
function transitionNote(writtenStart: string, occurrence: WindowOccurrence): string {
  if (occurrence.transition === 'gap') return `DST gap: ${writtenStart} does not exist on ${occurrence.localDate}; starts at the transition`;
  if (occurrence.transition === 'overlap') return `DST overlap: ${writtenStart} happens twice on ${occurrence.localDate}; the first is used`;
  return '';
}

function utc(instant: Date): string {
  return `${instant.toISOString().slice(0, 16)}Z`;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
