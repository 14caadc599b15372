/** `fleetpatch scan`: one inventory file against advisories, no database; prints findings. */
import type { Command } from 'commander';
import { scanInventory, type ScanFinding } from '../../app/scan-once.js';
import { InputError } from '../../domain/errors.js';
import { SEVERITY_ORDER, type Severity } from '../../domain/types.js';
import { openFeedFor } from '../advisory-source.js';
import { ExitCode } from '../exit-codes.js';
import { collect, readInventoryFile, type InventoryFileOptions } from '../inventory-input.js';
import { createProgress } from '../progress.js';
import { readEpssFile, readKevFile } from '../../feeds/signal-files.js';
import { findingColumns, renderTable } from '../table.js';

interface ScanOptions extends InventoryFileOptions {
  inventory: string;
  host?: string;
  advisories?: string;
  kev?: string;
  epss?: string;
  json?: boolean;
  failOn?: string;
}

export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description('Scan one inventory file (dpkg status, rpm -qa, apk db, CycloneDX, SPDX, lockfile) against advisories, without a database.')
    .requiredOption('--inventory <file>', 'the inventory file')
    .option('--format <format>', 'auto, dpkg-status, rpm, apk, cyclonedx, spdx, npm-lock, pipfile-lock, go-mod', 'auto')
    .option('--os-release <file>', 'the host\'s /etc/os-release (for dpkg, rpm and apk lists)')
    .option('--distro <name:version>', 'the distribution instead of --os-release, e.g. debian:12, ubuntu:22.04, alpine:3.18, almalinux:9')
    .option('--running-kernel <release>', '`uname -r` of the host, so kernels are judged on the running one')
    .option('--advisories <dir|zip|url>', 'OSV advisories: a directory, a .zip, or a mirror URL (default: $FLEETPATCH_ADVISORIES, else the public OSV bucket)')
    .option('--kev <file>', 'CISA KEV catalogue JSON')
    .option('--epss <file>', 'FIRST EPSS scores CSV')
    .option('--host <name>', 'host name to report', 'scanned-host')
    .option('--label <key=value>', 'host label (repeatable), e.g. internet-facing=true', collect)
    .option('--fail-on <severity>', 'exit 1 when a finding of at least this severity is vulnerable or pending reboot')
    .option('--json', 'print a JSON array of findings')
    .action(async (options: ScanOptions) => {
      const progress = createProgress(!options.json);
      const { inventory, format, warnings } = await readInventoryFile(options.inventory, options.host ?? 'scanned-host', options);
      progress.note(`${inventory.packages.length} packages from ${options.inventory} (${format}${inventory.osEcosystem ? `, ${inventory.osEcosystem}` : ''})`);
      for (const warning of warnings) progress.note(`warning: ${warning}`);
      const ecosystems = new Set(inventory.packages.map((pkg) => pkg.ecosystem));
      const feed = openFeedFor(options.advisories, ecosystems);
      progress.note(`reading advisories from ${feed.location}`);
      const batch = await feed.read({ onProgress: (done, total) => progress.count('advisories', done, total) });
      progress.done();
      if (batch.errors.length > 0) throw new InputError(`${batch.errors.length} invalid advisory record(s), first: ${batch.errors[0]!.message}`, { file: feed.location });
      const kev = options.kev ? await readKevFile(options.kev) : undefined;
      const epss = options.epss ? await readEpssFile(options.epss) : undefined;
      const result = scanInventory(inventory, batch.advisories, {
        ...(kev ? { kev: kev.byCve } : {}),
        ...(epss ? { epss: epss.byCve } : {}),
      });
      for (const warning of result.warnings.slice(0, 5)) progress.note(`warning: ${warning.advisoryId} ${warning.name}: ${warning.message}`);
      process.stdout.write(options.json ? `${JSON.stringify(result.findings, null, 2)}\n` : formatScan(result.findings, batch.advisories.length));
      const threshold = options.failOn ? severityThreshold(options.failOn) : undefined;
      if (threshold && result.findings.some((finding) => (finding.state === 'vulnerable' || finding.state === 'pending-reboot') && SEVERITY_ORDER.indexOf(finding.severity) <= SEVERITY_ORDER.indexOf(threshold))) {
        process.exitCode = ExitCode.findingsPresent;
      }
    });
}

function severityThreshold(value: string): Severity {
  if ((SEVERITY_ORDER as readonly string[]).includes(value)) return value as Severity;
  throw new InputError(`unknown severity ${JSON.stringify(value)}`, { field: '--fail-on' }, `choose one of ${SEVERITY_ORDER.join(', ')}`);
}

function formatScan(findings: ScanFinding[], advisories: number): string {
  const open = findings.filter((finding) => finding.state !== 'not-applicable');
  const table = open.length === 0 ? '' : renderTable(open, findingColumns<ScanFinding>());
  const notApplicable = findings.length - open.length;
  return `${table}${open.length} finding(s) from ${advisories} advisories${notApplicable > 0 ? `; ${notApplicable} on kernels that are not running (not applicable)` : ''}\n`;
}
