/**
 * Exact-version installs, the same wherever they run: the package manager's command line that
 * installs exactly a job's versions (the agent runs it on its host, the SSH executor on a remote
 * one), the packages an apt simulation would touch, and what changed between two package lists.
 */
import { InputError } from '../errors.js';
import type { InventoryFormat } from '../inventory/index.js';
import type { InstalledPackage } from '../types.js';
import type { PackageTarget } from './rollout-model.js';

export interface CommandLine {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** What an install did to one package (name and architecture): `from` is absent for a new one. */
export interface Replacement {
  name: string;
  from?: string;
  to: string;
}

/** Names and versions passed to a package manager: never an option (`-…`), never shell syntax. */
export const PACKAGE_TOKEN = /^[A-Za-z0-9_][A-Za-z0-9._+~:^-]*$/;

/**
 * The package manager's command that installs exactly `targets`. A directory root is reached with
 * apt's `Dir` (through `aptConfig`, so the root's own apt.conf.d is read instead of the host's) and
 * dpkg's `--root`, dnf's `--installroot`, apk's `--root`.
 *
 * @example installCommandLine('rpm', '/', [{ name: 'openssl-libs', version: '1:3.0.7-28.el9_4' }], {})
 *   // { command: 'dnf', args: ['install', '-y', '--setopt=install_weak_deps=False', 'openssl-libs-1:3.0.7-28.el9_4'] }
 */
export function installCommandLine(format: InventoryFormat, root: string, targets: PackageTarget[], options: { simulate?: boolean; aptConfig?: string }): CommandLine {
  const live = root === '/';
  switch (format) {
    case 'dpkg-status':
      return {
        command: 'apt-get',
        ...(options.aptConfig ? { env: { APT_CONFIG: options.aptConfig } } : {}),
        args: [
          '-q', '-y', '--no-install-recommends', '--allow-downgrades', '-o', 'APT::Get::Upgrade-Allow-New=false',
          '-o', 'Dpkg::Use-Pty=0', '-o', 'DPkg::Lock::Timeout=120', '-o', 'DPkg::Options::=--force-confdef', '-o', 'DPkg::Options::=--force-confold',
          ...(live ? [] : ['-o', `Dir::State::status=${root.replace(/\/+$/, '')}/var/lib/dpkg/status`, '-o', `DPkg::Options::=--root=${root}`, '-o', 'APT::Sandbox::User=root']),
          ...(options.simulate ? ['--simulate'] : []),
          'install', ...targets.map((target) => `${target.name}=${target.version}`),
        ],
      };
    case 'rpm':
      return { command: 'dnf', args: ['install', '-y', '--setopt=install_weak_deps=False', ...(live ? [] : [`--installroot=${root}`]), ...targets.map((target) => `${target.name}-${target.version}`)] };
    case 'apk':
      return { command: 'apk', args: ['add', ...(live ? [] : ['--root', root]), ...targets.map((target) => `${target.name}=${target.version}`)] };
    default:
      throw new InputError(`a ${format} package database has no package manager fleetpatch drives`, { file: root });
  }
}

/** Names of the packages an `apt-get --simulate` transaction installs, upgrades, downgrades or removes. */
export function aptSimulationChanges(output: string): string[] {
  return [...output.matchAll(/^(?:Inst|Remv|Purg) (\S+)/gm)].map((match) => match[1]!.replace(/:[a-z0-9-]+$/, ''));
}

/** Each installed package (name and architecture) whose version differs from the one before. */
export function changedPackages(before: InstalledPackage[], after: InstalledPackage[]): Replacement[] {
  const beforeByKey = new Map(before.map((pkg) => [packageKey(pkg), pkg.version]));
  return after.flatMap((pkg) => {
    const from = beforeByKey.get(packageKey(pkg));
    return from === pkg.version ? [] : [{ name: pkg.name, ...(from === undefined ? {} : { from }), to: pkg.version }];
  });
}

/** Names of the packages installed, removed or at another version after than before. */
export function changedNames(before: InstalledPackage[], after: InstalledPackage[]): string[] {
  const versionOf = (list: InstalledPackage[]) => new Map(list.map((pkg) => [packageKey(pkg), pkg.version]));
  const [was, is] = [versionOf(before), versionOf(after)];
  const changed = new Set<string>();
  for (const pkg of [...before, ...after]) if (was.get(packageKey(pkg)) !== is.get(packageKey(pkg))) changed.add(pkg.name);
  return [...changed];
}

/** The installed versions of `name`, for a message: `1.0-1, 1.1-1` or `none`. */
export function versionsOf(packages: InstalledPackage[], name: string): string {
  const versions = packages.filter((pkg) => pkg.name === name).map((pkg) => pkg.version);
  return versions.length > 0 ? versions.join(', ') : 'none';
}

function packageKey(pkg: InstalledPackage): string {
  return `${pkg.name}\u0000${pkg.arch ?? ''}`;
}

/**
 * An exact install judged from the package lists before and after it: what it replaced of the
 * targets, and what went wrong besides the command's own exit (a target not at its version, a
 * package outside the job changed). The agent and the SSH executor judge their installs alike.
 *
 * @example judgeInstall([{ name: 'libssl3', version: '3.0.15-1' }], before, after) // { replaced: [{ name: 'libssl3', from: '3.0.11-1', to: '3.0.15-1' }], problems: [] }
 */
export function judgeInstall(targets: readonly PackageTarget[], before: InstalledPackage[], after: InstalledPackage[]): { replaced: Replacement[]; problems: string[] } {
  const targetNames = new Set(targets.map((target) => target.name));
  const replaced = changedPackages(before, after).filter((change) => targetNames.has(change.name));
  const problems: string[] = [];
  const missed = targets.filter((target) => !after.some((pkg) => pkg.name === target.name && pkg.version === target.version));
  if (missed.length > 0) problems.push(`not at the target version: ${missed.map((target) => `${target.name} (wanted ${target.version}, have ${versionsOf(after, target.name)})`).join(', ')}`);
  const outside = changedNames(before, after).filter((name) => !targetNames.has(name));
  if (outside.length > 0) problems.push(`packages outside the job changed: ${outside.join(', ')}`);
  return { replaced, problems };
}
