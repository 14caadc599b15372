/**
 * Parses the rpm package list. fleetpatch asks rpm for `RPM_QUERY_FORMAT` (tab-separated, with the
 * epoch, which plain `rpm -qa` drops); plain `rpm -qa` NEVRA lines are accepted too, marked
 * `epochKnown: false` so the matcher applies the missing-epoch rule instead of assuming 0.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';

/** `rpm -qa --queryformat "$RPM_QUERY_FORMAT"`: name, epoch, version, release, arch, source rpm. */
export const RPM_QUERY_FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n';

/**
 * @example parseRpmQa('bash\t0\t5.1.8\t6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\n', 'rpm-qa', 'AlmaLinux:9')
 */
export function parseRpmQa(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '').trim();
    if (line === '') continue;
    const where = { file: fileName, line: index + 1 };
    packages.push(line.includes('\t') ? fromQueryFormat(line, ecosystem, where) : fromNevra(line, ecosystem, where));
  }
  return { packages, skipped: 0, warnings: [] };
}

function fromQueryFormat(line: string, ecosystem: string, where: { file: string; line: number }): InstalledPackage {
  const fields = line.split('\t');
  if (fields.length !== 6) throw new InputError(`expected 6 tab-separated fields (${RPM_QUERY_FORMAT.replace(/\\[tn]/g, ' ').trim()}), found ${fields.length}`, where);
  const [name, epoch, version, release, arch, sourceRpm] = fields as [string, string, string, string, string, string];
  if (!/^\d+$/.test(epoch)) throw new InputError(`epoch ${JSON.stringify(epoch)} is not a number`, { ...where, field: 'EPOCHNUM' });
  if (name === '' || version === '') throw new InputError('empty name or version', { ...where, field: name === '' ? 'NAME' : 'VERSION' });
  const pkg: InstalledPackage = { ecosystem, name, version: `${epoch === '0' ? '' : `${epoch}:`}${version}-${release}`, epochKnown: true };
  if (arch !== '(none)') pkg.arch = arch;
  const sourceName = sourceRpmName(sourceRpm);
  if (sourceName) pkg.sourceName = sourceName;
  return pkg;
}

const RPM_ARCHES = new Set(['x86_64', 'noarch', 'i686', 'i586', 'i386', 'aarch64', 'ppc64le', 'ppc64', 's390x', 'armv7hl', 'armhfp', 'riscv64', 'src']);

/** `name-version-release.arch`, split from the right (names may contain hyphens). */
function fromNevra(nevra: string, ecosystem: string, where: { file: string; line: number }): InstalledPackage {
  const lastDot = nevra.lastIndexOf('.');
  const releaseHyphen = nevra.lastIndexOf('-');
  const versionHyphen = releaseHyphen === -1 ? -1 : nevra.lastIndexOf('-', releaseHyphen - 1);
  if (versionHyphen <= 0) throw new InputError(`expected name-version-release.arch, found ${JSON.stringify(nevra)}`, where);
  // gpg-pubkey-<id>-<date> entries have no arch.
  const hasArch = lastDot > releaseHyphen && RPM_ARCHES.has(nevra.slice(lastDot + 1));
  const release = nevra.slice(releaseHyphen + 1, hasArch ? lastDot : undefined);
  const pkg: InstalledPackage = {
    ecosystem,
    name: nevra.slice(0, versionHyphen),
    version: `${nevra.slice(versionHyphen + 1, releaseHyphen)}-${release}`,
    epochKnown: false,
  };
  if (hasArch) pkg.arch = nevra.slice(lastDot + 1);
  return pkg;
}

/** `bash-5.1.8-6.el9_1.src.rpm` → `bash`. */
function sourceRpmName(sourceRpm: string): string | undefined {
  const match = /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(sourceRpm);
  return match?.[1];
}
