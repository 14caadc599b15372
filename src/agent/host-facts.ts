/**
 * Collects a host's real facts for the inventory stage: OS release, installed packages from the
 * dpkg, apk or rpm database, running kernel, reboot-required state, boot time and, on request, the
 * upgrades its package manager offers. Reads a mounted root (`--root DIR`) as readily as the live
 * system, so images and test trees scan the same way.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { arch as processArch, hostname as osHostname, release as osKernelRelease } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../domain/errors.js';
import { isKernelPackage } from '../domain/inventory/kernel.js';
import { parseInventory, type InventoryFormat } from '../domain/inventory/index.js';
import { osvEcosystemFor } from '../domain/inventory/os-ecosystem.js';
import { parseOsRelease } from '../domain/inventory/os-release.js';
import { RPM_QUERY_FORMAT } from '../domain/inventory/rpm-qa.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { collectAvailableUpdates } from './available-updates.js';

const execFileAsync = promisify(execFile);

export interface CollectOptions {
  /** Filesystem root to read; `/` for the live host. */
  root: string;
  hostname?: string;
  labels?: Record<string, string>;
  /** Also ask the package manager what it would upgrade (a dry run); problems go to `log`. */
  availableUpdates?: { log: (message: string) => void };
}

/** Package managers whose database rpm-based systems consult before rebooting (needs-restarting -r). */
const RPM_REBOOT_PACKAGES = ['kernel', 'kernel-core', 'kernel-rt', 'glibc', 'linux-firmware', 'systemd', 'udev', 'openssl-libs', 'gnutls', 'dbus', 'dbus-broker', 'dbus-daemon'];

/**
 * @example const inventory = await collectHostFacts({ root: '/' })
 */
export async function collectHostFacts(options: CollectOptions): Promise<HostInventory> {
  const { root } = options;
  const live = root === '/';
  const osReleasePath = [join(root, 'etc/os-release'), join(root, 'usr/lib/os-release')].find((path) => existsSync(path));
  if (!osReleasePath) throw new InputError('no os-release file found', { file: join(root, 'etc/os-release') }, 'is --root the root of a Linux filesystem?');
  const os = parseOsRelease(await readFile(osReleasePath, 'utf8'), osReleasePath);
  const osEcosystem = osvEcosystemFor(os);
  const { text, fileName, format } = await readPackageDatabase(root, live);
  const parsed = parseInventory({ text, fileName, format, ...(osEcosystem ? { osEcosystem } : {}) });
  const scheme = osEcosystem ? versionSchemeFor(osEcosystem) : undefined;
  const runningKernel = await readRunningKernel(root, live);
  const bootTime = await readBootTime(root, live);
  const rebootRequired = await readRebootRequired(root, live, format, bootTime);
  const inventory: HostInventory = {
    hostname: options.hostname ?? (await readHostname(root, live)),
    os,
    packages: parsed.packages,
    kernel: {
      installed: scheme ? parsed.packages.filter((pkg) => isKernelPackage(pkg, scheme)) : [],
      ...(runningKernel ? { running: runningKernel } : {}),
    },
    rebootRequired,
    labels: options.labels ?? {},
    arch: live ? machineArch() : (parsed.packages.find((pkg) => pkg.arch && pkg.arch !== 'all' && pkg.arch !== 'noarch')?.arch ?? machineArch()),
  };
  if (osEcosystem) inventory.osEcosystem = osEcosystem;
  if (bootTime) inventory.bootTime = bootTime;
  if (options.availableUpdates) {
    const updates = await collectAvailableUpdates(root, format, parsed.packages, options.availableUpdates.log);
    if (updates) inventory.availableUpdates = updates;
  }
  return inventory;
}

/**
 * The packages installed in `root` and the database format they came from: what a job compares
 * before and after it installs. With `hostExec` (the agent's `--host-exec` prefix) the job acts on
 * the host through that prefix, and so does this read wherever it runs a command: `rpm -qa` runs
 * as `<prefix> rpm -qa …` on the host's own root. Database files (dpkg's status, apk's installed)
 * are still read under `root`, the host's root as this process sees it: the same file the
 * package manager wrote.
 *
 * @example const { format, packages } = await readInstalledPackages('/')
 * @example await readInstalledPackages('/host', { hostExec: ['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--'] })
 */
export async function readInstalledPackages(root: string, options: { hostExec?: string[] } = {}): Promise<{ format: InventoryFormat; packages: InstalledPackage[] }> {
  const osReleasePath = [join(root, 'etc/os-release'), join(root, 'usr/lib/os-release')].find((path) => existsSync(path));
  const osEcosystem = osReleasePath ? osvEcosystemFor(parseOsRelease(await readFile(osReleasePath, 'utf8'), osReleasePath)) : undefined;
  const { text, fileName, format } = await readPackageDatabase(root, root === '/', options.hostExec);
  // Names and versions are all a job compares, so a root without a known release still reads.
  return { format, packages: parseInventory({ text, fileName, format, osEcosystem: osEcosystem ?? 'unknown' }).packages };
}

/** `hostExec`: rpm is run through this prefix on the host's own root instead of with `--root`. */
async function readPackageDatabase(root: string, live: boolean, hostExec?: string[]): Promise<{ text: string; fileName: string; format: InventoryFormat }> {
  const dpkgStatus = join(root, 'var/lib/dpkg/status');
  if (existsSync(dpkgStatus)) return { text: await readFile(dpkgStatus, 'utf8'), fileName: dpkgStatus, format: 'dpkg-status' };
  const apkInstalled = [join(root, 'lib/apk/db/installed'), join(root, 'usr/lib/apk/db/installed')].find((path) => existsSync(path));
  if (apkInstalled) return { text: await readFile(apkInstalled, 'utf8'), fileName: apkInstalled, format: 'apk' };
  if (existsSync(join(root, 'var/lib/rpm')) || existsSync(join(root, 'usr/lib/sysimage/rpm'))) {
    const query = ['-qa', '--queryformat', RPM_QUERY_FORMAT];
    const prefix = hostExec ?? [];
    const [command, ...args] = prefix.length > 0 ? [...prefix, 'rpm', ...query] : ['rpm', ...(live ? [] : ['--root', root]), ...query];
    const { stdout } = await execFileAsync(command!, args, { maxBuffer: 256 * 1024 * 1024 });
    return { text: stdout, fileName: prefix.length > 0 ? `rpm -qa (through ${prefix[0]})` : `rpm -qa (${root})`, format: 'rpm' };
  }
  throw new InputError('no package database found (looked for dpkg, apk and rpm)', { file: root });
}

async function readRunningKernel(root: string, live: boolean): Promise<string | undefined> {
  if (live) return osKernelRelease();
  return readTrimmed(join(root, 'proc/sys/kernel/osrelease'));
}

/** Boot time from /proc/stat `btime` (seconds since the epoch). */
async function readBootTime(root: string, live: boolean): Promise<Date | undefined> {
  const stat = await readTrimmed(join(live ? '/' : root, 'proc/stat'));
  const seconds = stat?.match(/^btime (\d+)$/m)?.[1];
  return seconds ? new Date(Number(seconds) * 1000) : undefined;
}

/**
 * Debian and Ubuntu write /var/run/reboot-required. On rpm systems apply needs-restarting -r's
 * rule: a reboot is needed when a core package (kernel, glibc, systemd, …) was installed after boot.
 */
async function readRebootRequired(root: string, live: boolean, format: InventoryFormat, bootTime: Date | undefined): Promise<boolean> {
  if (existsSync(join(root, 'var/run/reboot-required')) || existsSync(join(root, 'run/reboot-required'))) return true;
  if (format !== 'rpm' || !bootTime) return false;
  const args = [...(live ? [] : ['--root', root]), '-q', '--queryformat', '%{INSTALLTIME}\\n', ...RPM_REBOOT_PACKAGES];
  // rpm exits non-zero when some of the names are not installed; the installed ones still print.
  const output = await execFileAsync('rpm', args).then(({ stdout }) => stdout, (error: { stdout?: string }) => error.stdout ?? '');
  return output.split('\n').some((line) => /^\d+$/.test(line) && Number(line) * 1000 > bootTime.getTime());
}

/** The kernel's id of the current boot (`/proc/sys/kernel/random/boot_id`): it changes on every boot. */
export async function readBootId(root: string): Promise<string | undefined> {
  return readTrimmed(join(root, 'proc/sys/kernel/random/boot_id'));
}

async function readHostname(root: string, live: boolean): Promise<string> {
  if (live) return osHostname();
  return (await readTrimmed(join(root, 'etc/hostname'))) ?? 'unnamed-root';
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

function machineArch(): string {
  return ({ x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', s390x: 's390x', ppc64: 'ppc64le' } as Record<string, string>)[processArch()] ?? processArch();
}
