/** `fleetpatch hosts`: the hosts in the database with their kernel, reboot state and open findings. */
import type { Command } from 'commander';
import { listHosts, type HostListing } from '../../store/finding-queries.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';

export function registerHostsCommand(program: Command): Command {
  return program
    .command('hosts')
    .description('List the hosts fleetpatch knows.')
    .option('--json', 'print a JSON array')
    .action(async (options: { json?: boolean }) => {
      const hosts = await withDatabase(createProgress(!options.json), (database) => listHosts(database.pool));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(hosts, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatHosts(hosts));
    });
}

/** The host table; names and kernels come from hosts, so the table escapes and cuts them. */
export function formatHosts(hosts: HostListing[]): string {
  if (hosts.length === 0) return 'no hosts\n';
  return renderTable(hosts, [
    { header: 'HOST', value: (host) => host.name },
    { header: 'OS', value: (host) => host.osEcosystem ?? '-', maxWidth: 24 },
    { header: 'KERNEL', value: (host) => host.runningKernel ?? '-', maxWidth: 32 },
    { header: 'REBOOT', value: (host) => (host.rebootRequired ? 'required' : '') },
    { header: 'PACKAGES', value: (host) => String(host.packages), align: 'right' },
    { header: 'OPEN', value: (host) => String(host.openFindings), align: 'right' },
    { header: 'LAST SEEN', value: (host) => host.lastSeenAt?.toISOString().slice(0, 16).replace('T', ' ') ?? '-' },
  ]);
}
