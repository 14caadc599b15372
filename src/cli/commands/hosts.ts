/** `fleetpatch hosts`: the hosts in the database with their kernel, reboot state and open findings. */
import type { Command } from 'commander';
import { listHosts } from '../../store/finding-queries.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';

export function registerHostsCommand(program: Command): void {
  program
    .command('hosts')
    .description('List the hosts fleetpatch knows.')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const hosts = await withDatabase(createProgress(!options.json), (database) => listHosts(database.pool));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        hosts.length === 0
          ? 'no hosts\n'
          : renderTable(hosts, [
              { header: 'HOST', value: (host) => host.name },
              { header: 'OS', value: (host) => host.osEcosystem ?? '-' },
              { header: 'KERNEL', value: (host) => host.runningKernel ?? '-', maxWidth: 32 },
              { header: 'REBOOT', value: (host) => (host.rebootRequired ? 'required' : '') },
              { header: 'PACKAGES', value: (host) => String(host.packages), align: 'right' },
              { header: 'OPEN', value: (host) => String(host.openFindings), align: 'right' },
              { header: 'LAST SEEN', value: (host) => host.lastSeenAt?.toISOString().slice(0, 16).replace('T', ' ') ?? '-' },
            ]),
      );
    });
}
