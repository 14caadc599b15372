/**
 * Asks the host's package manager what it would upgrade, with a dry run that changes nothing:
 * `apt-get --simulate dist-upgrade`, `dnf check-update --cacheonly`, `apk version -l '<'`. Only the
 * package metadata already on the host is read; refreshing it stays the job of the OS's own timers
 * (apt-daily, dnf-makecache), so a check-in never waits on a mirror.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseApkVersion, parseAptSimulation, parseDnfCheckUpdate } from '../domain/inventory/available-updates.js';
import type { InventoryFormat } from '../domain/inventory/index.js';
import type { AvailableUpdate, InstalledPackage } from '../domain/types.js';

interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const TIMEOUT_MS = 120_000;

function run(command: string, args: string[]): Promise<CommandResult | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, LC_ALL: 'C' }, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ENOENT') resolve(undefined);
      else resolve({ exitCode: typeof code === 'number' ? code : error ? -1 : 0, stdout, stderr });
    });
  });
}

/**
 * The host's available upgrades, or undefined when its package manager is absent or fails (the
 * reason goes to `log`): "unknown" must never read as "up to date".
 *
 * @example await collectAvailableUpdates('/', 'dpkg-status', packages, console.warn)
 */
export async function collectAvailableUpdates(root: string, format: InventoryFormat, installed: InstalledPackage[], log: (message: string) => void): Promise<AvailableUpdate[] | undefined> {
  const live = root === '/';
  if (format === 'dpkg-status') {
    // Without package lists apt reports nothing to upgrade, which would read as "up to date".
    const lists = join(root, 'var/lib/apt/lists');
    if (!existsSync(lists) || !readdirSync(lists).some((file) => file.includes('_Packages'))) {
      log(`no apt package lists in ${lists} (apt-get update has not run); available updates not reported`);
      return undefined;
    }
    const args = ['--simulate', '-qq', '-o', 'Debug::NoLocking=true', ...(live ? [] : ['-o', `Dir=${root}`]), 'dist-upgrade'];
    const result = await run('apt-get', args);
    return result && succeeded('apt-get', result, [0], log) ? parsedOrLogged(() => parseAptSimulation(result.stdout, 'apt-get --simulate dist-upgrade'), log) : undefined;
  }
  if (format === 'rpm') {
    const args = ['check-update', '--cacheonly', '-q', ...(live ? [] : [`--installroot=${root}`])];
    // check-update exits 100 when updates are available, 0 when there are none.
    const result = (await run('dnf', args)) ?? (await run('yum', args));
    return result && succeeded('dnf check-update', result, [0, 100], log) ? parsedOrLogged(() => parseDnfCheckUpdate(result.stdout, 'dnf check-update', installed), log) : undefined;
  }
  if (format === 'apk') {
    const result = await run('apk', ['version', '-l', '<', ...(live ? [] : ['--root', root])]);
    return result && succeeded('apk version', result, [0], log) ? parsedOrLogged(() => parseApkVersion(result.stdout, 'apk version'), log) : undefined;
  }
  return undefined;
}

function succeeded(command: string, result: CommandResult, okCodes: number[], log: (message: string) => void): boolean {
  if (okCodes.includes(result.exitCode)) return true;
  log(`${command} failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}; available updates not reported`);
  return false;
}

/** Output this parser cannot read costs the update list, never the check-in. */
function parsedOrLogged(parse: () => AvailableUpdate[], log: (message: string) => void): AvailableUpdate[] | undefined {
  try {
    return parse();
  } catch (error) {
    log(`${(error as Error).message}; available updates not reported`);
    return undefined;
  }
}
