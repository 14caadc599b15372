/**
 * `fleetpatch vex export | import`: the fleet's VEX statements as OpenVEX or CycloneDX, and an
 * OpenVEX document's not_affected statements recorded as risk acceptances (approved by a second
 * person, until an expiry; all or none). Bad input names the file and the field and stores nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { importVexAcceptances, VEX_FORMATS, vexExport, type VexFormat } from '../../app/compliance-service.js';
import { InputError } from '../../domain/errors.js';
import { parseJsonText } from '../../domain/inventory/json-text.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import { parseOpenVex, vexImportPlan } from '../../domain/reporting/vex-input.js';
import { createCheckpoint } from '../../store/audit-checkpoints.js';
import { fleetpatchHome } from '../../store/fleetpatch-home.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { instantOrDay } from './report.js';

export function registerVexCommand(program: Command): void {
  const vex = program.command('vex').description('VEX (vulnerability exploitability exchange): export the fleet\'s statements, import a vendor\'s as risk acceptances.');
  vex
    .command('export')
    .description('The fleet\'s statements: fixed, affected with the action (an accepted risk says who accepted it until when), not_affected only with an attested justification.')
    .option('--format <format>', VEX_FORMATS.join(', '), 'openvex')
    .option('--author <name>', 'who the document says made it', 'fleetpatch')
    .option('--output <file>', 'write the document to this file instead of standard output')
    .action(async (options: { format: string; author: string; output?: string }) => {
      if (!(VEX_FORMATS as readonly string[]).includes(options.format)) throw new InputError(`unknown format: ${options.format}`, { field: '--format' }, `use one of ${VEX_FORMATS.join(', ')}`);
      const document = await withDatabase(createProgress(options.output !== undefined), async (database) => {
        const revision = await latestPolicyRevision(database.pool);
        const policy = revision ? { policy: parsePolicy(revision.text, `policy revision ${revision.revision}`), revision: revision.revision } : undefined;
        return vexExport(database.pool, { format: options.format as VexFormat, now: new Date(), author: options.author, checkpoint: () => createCheckpoint(database.pool, fleetpatchHome()), ...(policy ? { policy } : {}) });
      });
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (options.output === undefined) return void process.stdout.write(text);
      await writeFile(options.output, text).catch((error: NodeJS.ErrnoException) => {
        throw new InputError(`cannot write: ${error.code ?? error.message}`, { file: options.output! });
      });
    });
  vex
    .command('import')
    .description('Record an OpenVEX document\'s not_affected statements as risk acceptances (its other statements are counted and skipped).')
    .argument('<file>', 'the OpenVEX JSON document')
    .requiredOption('--approved-by <name>', 'who approved the acceptances: someone other than --by (four eyes)')
    .requiredOption('--expires <date>', 'when they end (VEX statements have no expiry), e.g. 2027-06-30')
    .option('--by <name>', 'who imports them', `cli:${process.env.USER ?? 'unknown'}`)
    .option('--json', 'print what was recorded as JSON')
    .action(async (file: string, options: { approvedBy: string; expires: string; by: string; json?: boolean }) => {
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new InputError(`cannot read: ${error.code ?? error.message}`, { file });
      });
      const plan = vexImportPlan(parseOpenVex(parseJsonText(text, file), { file }), { file });
      const expiresAt = instantOrDay(options.expires, '--expires', 'end');
      const result = await withDatabase(undefined, (database) =>
        importVexAcceptances(database.pool, { plan, requestedBy: options.by, approvedBy: options.approvedBy, expiresAt, now: new Date(), fields: { approvedBy: '--approved-by', expiresAt: '--expires' } }));
      if (options.json) return void process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      const skipped = Object.entries(result.skipped).map(([status, statements]) => `${statements} ${status}`).join(', ');
      process.stdout.write(`${result.acceptances.length} risk acceptances recorded from ${result.documentId}${skipped ? `; skipped ${skipped}` : ''}\n`);
    });
}
