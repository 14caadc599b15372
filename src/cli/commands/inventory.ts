/** `fleetpatch inventory import`: store a host's inventory file and evaluate its findings at once. */
import type { Command } from 'commander';
import { DetectionService } from '../../app/detection-service.js';
import { importInventories } from '../../app/inventory-import.js';
import { InputError } from '../../domain/errors.js';
import { hostNameProblem } from '../../domain/host-name.js';
import { policyOwnership } from '../../domain/policy/ownership.js';
import { readPolicy } from '../../domain/policy/policy-document.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { collect, readInventoryFile, type InventoryFileOptions } from '../inventory-input.js';
import { createProgress } from '../progress.js';

interface ImportOptions extends InventoryFileOptions {
  host: string;
  json?: boolean;
}

export function registerInventoryCommand(program: Command): void {
  const inventory = program.command('inventory').description('Host inventories in the database.');
  inventory
    .command('import')
    .description('Import one host\'s inventory file and re-evaluate its findings.')
    .argument('<file>', 'dpkg status, rpm -qa output, apk db, CycloneDX or SPDX SBOM, or a lockfile')
    .requiredOption('--host <name>', 'host name')
    .option('--format <format>', 'auto, dpkg-status, rpm, apk, cyclonedx, spdx, npm-lock, pipfile-lock, go-mod', 'auto')
    .option('--os-release <file>', 'the host\'s /etc/os-release (for dpkg, rpm and apk lists)')
    .option('--distro <name:version>', 'the distribution instead of --os-release, e.g. debian:12')
    .option('--running-kernel <release>', '`uname -r` of the host')
    .option('--reboot-required', 'the host reports that a reboot is required')
    .option('--label <key=value>', 'host label (repeatable)', collect)
    .option('--json', 'print the import report as JSON')
    .action(async (file: string, options: ImportOptions) => {
      const problem = hostNameProblem(options.host);
      if (problem) throw new InputError(problem, { field: '--host' });
      const progress = createProgress(!options.json);
      const { inventory: hostInventory, format, warnings } = await readInventoryFile(file, options.host, options);
      for (const warning of warnings) progress.note(`warning: ${warning}`);
      const report = await withDatabase(progress, async (database) => {
        const detection = await DetectionService.load(database.pool);
        // The applied policy decides the host's bucket and team, as it does for agents' check-ins.
        const revision = await latestPolicyRevision(database.pool);
        const reading = revision ? readPolicy(revision.text) : undefined;
        return importInventories(database.pool, detection, [hostInventory], {
          source: `${format}:${file}`,
          progress: (message) => progress.note(message),
          ...(reading?.ok ? { ownership: policyOwnership(reading.policy) } : {}),
        });
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ host: options.host, format, packages: hostInventory.packages.length, ...report }, null, 2)}\n`);
      } else {
        process.stdout.write(`${options.host}: ${hostInventory.packages.length} packages (${format}); ${report.findings} finding(s): ${report.opened} new, ${report.resolved} resolved\n`);
      }
    });
}
