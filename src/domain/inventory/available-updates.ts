/**
 * Updates a host's package manager would install, read from its own dry run (apt-get --simulate,
 * dnf check-update, apk version): what "behind" means for a host, security advisory or not.
 * Only upgrades of installed packages count; packages a full upgrade would newly install (a new
 * kernel image, say) arrive through an upgrade of an installed package and are not listed twice.
 */
import { InputError } from '../errors.js';
import type { AvailableUpdate, InstalledPackage } from '../types.js';
import { comparatorFor } from '../versions/index.js';

// Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
const APT_INST = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+)(?: (.*?))? \[([^\]]+)\]\)/;
const dpkg = comparatorFor('dpkg');

/**
 * Parses `apt-get --simulate dist-upgrade` output: the upgrades of installed packages.
 *
 * @example parseAptSimulation('Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])', 'apt-get')
 */
export function parseAptSimulation(text: string, fileName: string): AvailableUpdate[] {
  const updates: AvailableUpdate[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (!line.startsWith('Inst ')) continue;
    const match = APT_INST.exec(line);
    if (!match) throw new InputError(`unrecognised apt simulation line ${JSON.stringify(line.slice(0, 80))}`, { file: fileName, line: index + 1 });
    const [, qualifiedName, installedVersion, candidateVersion, repository, arch] = match as unknown as [string, string, string | undefined, string, string | undefined, string];
    // A new install is not an upgrade; a reinstall or a pinned downgrade is not one either.
    if (installedVersion === undefined || dpkg.compare(candidateVersion, installedVersion) <= 0) continue;
    const update: AvailableUpdate = { name: qualifiedName.replace(/:[a-z0-9-]+$/, ''), installedVersion, candidateVersion, arch };
    if (repository) update.repository = repository;
    updates.push(update);
  }
  return updates;
}

/** Lines of `dnf check-update` that end the update list or are not part of it. */
const DNF_SECTION_END = /^(Obsoleting Packages|Security:|Moving Packages)/;
const DNF_NOISE = /^(Last metadata expiration check|Updating Subscription|This system is|Waiting for process|Repository .* is listed more than once)/;

/**
 * Parses `dnf check-update` (or `yum check-update`) output: `name.arch  [epoch:]version-release
 * repository` triples, which dnf wraps onto two lines when the name is long. Installed versions are
 * taken from the host's inventory.
 *
 * @example parseDnfCheckUpdate('openssl-libs.x86_64  1:3.0.7-28.el9_4  baseos', 'dnf', installed)
 */
export function parseDnfCheckUpdate(text: string, fileName: string, installed: InstalledPackage[]): AvailableUpdate[] {
  const installedByNameArch = new Map(installed.map((pkg) => [`${pkg.name}.${pkg.arch ?? ''}`, pkg.version]));
  const updates: AvailableUpdate[] = [];
  let pending: { tokens: string[]; line: number } | undefined;
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (DNF_SECTION_END.test(line)) break;
    if (line.trim() === '' || DNF_NOISE.test(line)) continue;
    const tokens = line.trim().split(/\s+/);
    pending = pending ? { tokens: [...pending.tokens, ...tokens], line: pending.line } : { tokens, line: index + 1 };
    if (pending.tokens.length < 3) continue;
    if (pending.tokens.length > 3) throw new InputError(`expected "name.arch version repository", found ${JSON.stringify(pending.tokens.join(' ').slice(0, 80))}`, { file: fileName, line: pending.line });
    const [nameArch, candidateVersion, repository] = pending.tokens as [string, string, string];
    const dot = nameArch.lastIndexOf('.');
    if (dot <= 0) throw new InputError(`expected "name.arch", found ${JSON.stringify(nameArch)}`, { file: fileName, line: pending.line });
    const update: AvailableUpdate = { name: nameArch.slice(0, dot), arch: nameArch.slice(dot + 1), candidateVersion, repository };
    const installedVersion = installedByNameArch.get(nameArch);
    if (installedVersion !== undefined) update.installedVersion = installedVersion;
    updates.push(update);
    pending = undefined;
  }
  if (pending) throw new InputError(`incomplete update line ${JSON.stringify(pending.tokens.join(' '))}`, { file: fileName, line: pending.line });
  return updates;
}

// busybox-1.36.1-r5                       < 1.36.1-r7
const APK_VERSION_LINE = /^(.+)-([^-]+-r\d+)\s+<\s+(\S+)/;

/**
 * Parses `apk version -l '<'` output (installed package, `<`, available version).
 *
 * @example parseApkVersion('busybox-1.36.1-r5   < 1.36.1-r7', 'apk')
 */
export function parseApkVersion(text: string, fileName: string): AvailableUpdate[] {
  const updates: AvailableUpdate[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '' || line.startsWith('Installed:') || line.startsWith('WARNING') || line.startsWith('fetch ')) continue;
    const match = APK_VERSION_LINE.exec(line.trim());
    if (!match) throw new InputError(`expected "name-version < version", found ${JSON.stringify(line.slice(0, 80))}`, { file: fileName, line: index + 1 });
    const [, name, installedVersion, candidateVersion] = match as unknown as [string, string, string, string];
    updates.push({ name, installedVersion, candidateVersion });
  }
  return updates;
}
