/** `fleetpatch advisories import|sync`: load OSV advisories into the database and re-evaluate the hosts they touch. */
import type { Command } from 'commander';
import { importAdvisories, type AdvisoryImportReport } from '../../app/advisory-import.js';
import { DetectionService } from '../../app/detection-service.js';
import { incidentLabel, incidentOpener } from '../../app/incident-service.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { openAdvisoryFeed } from '../../feeds/open-feed.js';
import { advisoryLocation, bucketFolders } from '../advisory-source.js';
import { withDatabase } from '../database-session.js';
import { collect } from '../inventory-input.js';
import { createProgress, type Progress } from '../progress.js';

export function registerAdvisoriesCommand(program: Command): void {
  const advisories = program.command('advisories').description('OSV advisories in the database.');
  advisories
    .command('import')
    .description('Import OSV advisories from a directory, a .zip or a mirror URL (only new or changed records).')
    .argument('<location>', 'directory, .zip, or http(s) URL of a mirror laid out like the OSV bucket')
    .option('--ecosystem <name>', 'for URLs: bucket folder to read, e.g. Debian, AlmaLinux (repeatable)', collect)
    .option('--json', 'print the import report as JSON')
    .action(async (location: string, options: { ecosystem?: string[]; json?: boolean }) => {
      const progress = createProgress(!options.json);
      await runImport(location, options.ecosystem ?? [], progress, options.json ?? false);
    });
  advisories
    .command('sync')
    .description('Sync advisories for the ecosystems the stored hosts use, from $FLEETPATCH_ADVISORIES or the public OSV bucket.')
    .option('--url <location>', 'mirror URL, directory or .zip instead of the default')
    .option('--ecosystem <name>', 'bucket folder to read in addition to those the hosts use (repeatable)', collect)
    .option('--json', 'print the import report as JSON')
    .action(async (options: { url?: string; ecosystem?: string[]; json?: boolean }) => {
      const progress = createProgress(!options.json);
      const hostEcosystems = await withDatabase(undefined, async (database) => {
        const result = await database.pool.query<{ ecosystem: string }>('SELECT DISTINCT ecosystem FROM package_versions');
        return result.rows.map((row) => row.ecosystem);
      });
      await runImport(advisoryLocation(options.url), bucketFolders([...hostEcosystems, ...(options.ecosystem ?? [])]), progress, options.json ?? false);
    });
}

async function runImport(location: string, ecosystems: string[], progress: Progress, json: boolean): Promise<void> {
  const feed = openAdvisoryFeed(location, ecosystems);
  progress.note(`reading advisories from ${feed.location}${ecosystems.length > 0 ? ` (${ecosystems.join(', ')})` : ''}`);
  const report = await withDatabase(progress, async (database) => {
    const detection = await DetectionService.load(database.pool);
    // The emergency triggers of the applied policy open incidents; without one, none open by themselves.
    const revision = await latestPolicyRevision(database.pool);
    const emergency = revision ? parsePolicy(revision.text, `policy revision ${revision.revision}`).emergency : undefined;
    return importAdvisories(database.pool, detection, feed, {
      openIncidents: incidentOpener(() => emergency),
      progress: (message) => progress.note(message),
      onCount: (done, total) => progress.count('advisories read', done, total),
    });
  });
  progress.done();
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report));
}

function describeReport(report: AdvisoryImportReport): string {
  const evaluation = report.evaluation ? `; ${report.evaluation.opened} finding(s) opened, ${report.evaluation.resolved} resolved` : '';
  const incidents = report.incidentsOpened?.length ? `; opened incident${report.incidentsOpened.length === 1 ? '' : 's'} ${report.incidentsOpened.map(incidentLabel).join(', ')}` : '';
  return `imported ${report.imported} advisories (${report.withdrawn} withdrawn, ${report.unchanged} unchanged); re-evaluated ${report.hostsReevaluated} host(s)${evaluation}${incidents}\n`;
}
