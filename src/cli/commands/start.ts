/**
 * `fleetpatch start`: the main job on this machine. Starts the embedded database (or uses
 * DATABASE_URL), collects this host's real inventory, syncs advisories for its ecosystems and shows
 * what is open. An unreachable feed is said plainly, with how to point at a mirror.
 */
import type { Command } from 'commander';
import { importAdvisories } from '../../app/advisory-import.js';
import { DetectionService } from '../../app/detection-service.js';
import { importInventories } from '../../app/inventory-import.js';
import { collectHostFacts } from '../../agent/host-facts.js';
import { FeedUnreachableError } from '../../feeds/advisory-feed.js';
import { listFindings } from '../../store/finding-queries.js';
import { openFeedFor } from '../advisory-source.js';
import { withDatabase } from '../database-session.js';
import { ExitCode } from '../exit-codes.js';
import { createProgress } from '../progress.js';
import { formatFindings } from './findings.js';

interface StartOptions {
  root: string;
  advisories?: string;
  json?: boolean;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Scan this machine: store its inventory on the embedded database, sync advisories, show open findings.')
    .option('--root <dir>', 'read the host from a mounted filesystem instead of /', '/')
    .option('--advisories <dir|zip|url>', 'advisory source (default: $FLEETPATCH_ADVISORIES, else the public OSV bucket)')
    .option('--json', 'print the open findings as JSON')
    .action(async (options: StartOptions) => {
      const progress = createProgress(!options.json);
      const inventory = await collectHostFacts({ root: options.root });
      progress.note(
        `${inventory.hostname}: ${inventory.os?.prettyName ?? inventory.os?.id ?? 'unknown OS'}, ${inventory.packages.length} packages, ` +
          `kernel ${inventory.kernel.running ?? 'unknown'}${inventory.rebootRequired ? ', reboot required' : ''}`,
      );
      await withDatabase(progress, async (database) => {
        progress.note(`database: ${database.describe()}`);
        const detection = await DetectionService.load(database.pool);
        await importInventories(database.pool, detection, [inventory], { source: `agent:${options.root}` });
        const feed = openFeedFor(options.advisories, new Set(inventory.packages.map((pkg) => pkg.ecosystem)));
        progress.note(`syncing advisories from ${feed.location}`);
        try {
          const report = await importAdvisories(database.pool, detection, feed, {
            progress: (message) => progress.note(message),
            onCount: (done, total) => progress.count('advisories read', done, total),
          });
          progress.done();
          progress.note(`${report.imported} new or changed advisories, ${report.unchanged} unchanged`);
        } catch (error) {
          if (!(error instanceof FeedUnreachableError)) throw error;
          progress.done();
          process.stderr.write(`fleetpatch: ${error.message}\n`);
          process.exitCode = ExitCode.unavailable;
        }
        const findings = await listFindings(database.pool, { host: inventory.hostname });
        process.stdout.write(options.json ? `${JSON.stringify(findings, null, 2)}\n` : formatFindings(findings));
      });
    });
}
