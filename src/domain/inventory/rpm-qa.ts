/**
 * Parses an rpm package list: the tab-separated `RPM_QUERY_FORMAT` fleetpatch asks rpm for (it
 * carries the epoch), or plain `rpm -qa` NEVRA lines, which drop the epoch and are therefore marked
 * `epochKnown: false` so the matcher applies its missing-epoch rule instead of assuming 0.
 */
import { InputError, type InputLocation } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import { versionProblem } from '../versions/index.js';
import type { ParsedInventory } from './parsed-inventory.js';

/**
 * The `--queryformat` fleetpatch runs: `rpm -qa --queryformat "$RPM_QUERY_FORMAT"`. One line per
 * package with six tab-separated fields: name, epoch (`%{EPOCHNUM}` prints 0 when there is none,
 * unlike `%{EPOCH}` which prints `(none)`), version, release, arch (`(none)` for `gpg-pubkey`) and
 * the source rpm file name (`(none)` for `gpg-pubkey`). The `\t` and `\n` are rpm's own escapes.
 */
export const RPM_QUERY_FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

/**
 * Architectures rpm builds for (rpmrc's arch_canon plus noarch/src). A NEVRA's last dot-separated
 * token is the arch only when it is one of these, so `gpg-pubkey-fd431d51-4ae0493b` (no arch) and
 * `name-1.0-1.el9` lists written with `%{NVR}` keep their full release.
 */
const RPM_ARCHES = new Set([
  'noarch', 'src', 'nosrc',
  'x86_64', 'x86_64_v2', 'x86_64_v3', 'x86_64_v4', 'amd64', 'ia32e', 'em64t',
  'i386', 'i486', 'i586', 'i686', 'athlon', 'geode', 'pentium3', 'pentium4',
  'aarch64', 'arm64', 'armv5tel', 'armv6l', 'armv6hl', 'armv7l', 'armv7hl', 'armv7hnl', 'armv8l', 'armhfp',
  'ppc', 'ppc64', 'ppc64le', 'ppc64p7', 's390', 's390x',
  'riscv64', 'loongarch64', 'mips', 'mipsel', 'mips64', 'mips64el', 'ia64', 'alpha', 'sparc', 'sparc64', 'sparcv9',
]);

/** Built only when an error is thrown, so the per-line path allocates nothing for it. */
function location(file: string, line: number, field?: string): InputLocation {
  return field === undefined ? { file, line } : { file, line, field };
}

/**
 * @example parseRpmQa('bash\t0\t5.1.8\t6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\n', 'rpm-qa', 'AlmaLinux:9').packages[0]
 *   // { ecosystem: 'AlmaLinux:9', name: 'bash', version: '5.1.8-6.el9_1', arch: 'x86_64', epochKnown: true }
 * @example parseRpmQa('bash-5.1.8-6.el9_1.x86_64\n', 'rpm-qa', 'AlmaLinux:9').packages[0]
 *   // { ecosystem: 'AlmaLinux:9', name: 'bash', version: '5.1.8-6.el9_1', arch: 'x86_64', epochKnown: false }
 */
export function parseRpmQa(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  const lines = text.split('\n');
  const withoutArch: number[] = [];
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.length === 0) continue;
    if (line.indexOf('\t') !== -1) {
      packages.push(fromQueryFormat(line, ecosystem, fileName, index + 1));
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const pkg = fromNevra(trimmed, ecosystem, fileName, index + 1);
    if (pkg.arch === undefined && pkg.name !== 'gpg-pubkey') withoutArch.push(index + 1);
    packages.push(pkg);
  }
  const warnings =
    withoutArch.length === 0
      ? []
      : [`${withoutArch.length} NEVRA line(s) end in no known architecture (first: line ${withoutArch[0]}); their release was kept whole`];
  return { packages, skipped: 0, warnings };
}

function fromQueryFormat(line: string, ecosystem: string, file: string, lineNumber: number): InstalledPackage {
  const fields = line.split('\t');
  if (fields.length !== 6) {
    throw new InputError(`expected 6 tab-separated fields (NAME EPOCHNUM VERSION RELEASE ARCH SOURCERPM), found ${fields.length}`, location(file, lineNumber));
  }
  const [name, epoch, version, release, arch, sourceRpm] = fields as [string, string, string, string, string, string];
  if (name === '') throw new InputError('empty package name', location(file, lineNumber, 'NAME'));
  if (!isDigits(epoch)) throw new InputError(`epoch ${JSON.stringify(epoch)} is not a number`, location(file, lineNumber, 'EPOCHNUM'));
  if (version === '') throw new InputError(`package ${name} has an empty version`, location(file, lineNumber, 'VERSION'));
  if (release === '') throw new InputError(`package ${name} has an empty release`, location(file, lineNumber, 'RELEASE'));
  // Checked with the epoch always written, so a colon or hyphen inside VERSION cannot pass as an epoch or release.
  const problem = versionProblem('rpm', `${epoch}:${version}-${release}`);
  if (problem !== undefined) throw new InputError(`package ${name}: ${problem}`, location(file, lineNumber, 'VERSION'));
  const pkg: InstalledPackage = { ecosystem, name, version: epoch === '0' ? `${version}-${release}` : `${epoch}:${version}-${release}`, epochKnown: true };
  if (arch !== '(none)' && arch !== '') pkg.arch = arch;
  const sourceName = sourceRpmName(sourceRpm);
  // Set only when it differs: rpm distributions key advisories by binary name, the source is context.
  if (sourceName !== undefined && sourceName !== name) pkg.sourceName = sourceName;
  return pkg;
}

/**
 * `name-[epoch:]version-release[.arch]`, split from the right because names contain hyphens and
 * dots (`python3.11-libs`) while version and release contain no hyphen.
 */
function fromNevra(nevra: string, ecosystem: string, file: string, lineNumber: number): InstalledPackage {
  if (nevra.indexOf(' ') !== -1) throw new InputError(`expected one name-version-release.arch per line, found ${JSON.stringify(nevra.slice(0, 80))}`, location(file, lineNumber));
  const releaseHyphen = nevra.lastIndexOf('-');
  const versionHyphen = releaseHyphen <= 0 ? -1 : nevra.lastIndexOf('-', releaseHyphen - 1);
  if (versionHyphen <= 0 || releaseHyphen === versionHyphen + 1) {
    throw new InputError(`expected name-version-release.arch, found ${JSON.stringify(nevra.slice(0, 80))}`, location(file, lineNumber));
  }
  const lastDot = nevra.lastIndexOf('.');
  const hasArch = lastDot > releaseHyphen && RPM_ARCHES.has(nevra.slice(lastDot + 1));
  const release = nevra.slice(releaseHyphen + 1, hasArch ? lastDot : undefined);
  if (release === '') throw new InputError(`empty release in ${JSON.stringify(nevra)}`, location(file, lineNumber, 'RELEASE'));
  let version = nevra.slice(versionHyphen + 1, releaseHyphen);
  // `%{NEVRA}` and dnf print `name-epoch:version-release.arch`; then the epoch is known after all.
  const colon = version.indexOf(':');
  let epochKnown = false;
  if (colon !== -1) {
    const epoch = version.slice(0, colon);
    if (!isDigits(epoch)) throw new InputError(`epoch ${JSON.stringify(epoch)} is not a number`, location(file, lineNumber, 'EPOCH'));
    epochKnown = true;
    if (epoch === '0') version = version.slice(colon + 1);
  }
  const pkg: InstalledPackage = { ecosystem, name: nevra.slice(0, versionHyphen), version: `${version}-${release}`, epochKnown };
  checkVersion(pkg, location(file, lineNumber, 'VERSION'));
  if (hasArch) pkg.arch = nevra.slice(lastDot + 1);
  return pkg;
}

/** Refuses an `[epoch:]version-release` rpmbuild would never write (see `versionProblem`). */
function checkVersion(pkg: InstalledPackage, where: InputLocation): void {
  const problem = versionProblem('rpm', pkg.version);
  if (problem !== undefined) throw new InputError(`package ${pkg.name}: ${problem}`, where);
}

/** `bash-5.1.8-6.el9_1.src.rpm` → `bash`; `(none)` → undefined. */
function sourceRpmName(sourceRpm: string): string | undefined {
  const suffix = sourceRpm.endsWith('.src.rpm') ? 8 : sourceRpm.endsWith('.nosrc.rpm') ? 10 : 0;
  if (suffix === 0) return undefined;
  const nvr = sourceRpm.slice(0, -suffix);
  const releaseHyphen = nvr.lastIndexOf('-');
  const versionHyphen = releaseHyphen <= 0 ? -1 : nvr.lastIndexOf('-', releaseHyphen - 1);
  return versionHyphen <= 0 ? undefined : nvr.slice(0, versionHyphen);
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return true;
}
