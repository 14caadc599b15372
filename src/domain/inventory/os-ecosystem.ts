/**
 * Derives the OSV ecosystem of a host's OS packages from its os-release, in the exact spelling OSV
 * uses, because advisories are indexed by that string: `Debian:12`, `Ubuntu:22.04:LTS`,
 * `Alpine:v3.18`, `AlmaLinux:9`, `Rocky Linux:9`, `Red Hat:enterprise_linux:9`,
 * `openSUSE:Leap 15.5`, `SUSE:Linux Enterprise Server 15 SP5`.
 */
import { InputError } from '../errors.js';
import type { OsRelease } from '../types.js';
import { parseDistroFlag } from './distro-flag.js';

/**
 * Undefined when fleetpatch knows no advisory ecosystem for the release (an unknown distribution,
 * Debian testing/sid without VERSION_ID, Alpine edge).
 *
 * Red Hat: OSV splits RHEL advisories by repository stream (`Red Hat:enterprise_linux:9::baseos`,
 * `…::appstream`); a host draws from several streams, so fleetpatch names the release without a
 * stream, `Red Hat:enterprise_linux:<major>`, and detection's `ecosystemKey` lets it meet every
 * stream. The product and major come from `CPE_NAME` (`cpe:/o:redhat:enterprise_linux:9::baseos`)
 * when present, else from `VERSION_ID`.
 *
 * @example osvEcosystemFor({ id: 'ubuntu', idLike: ['debian'], versionId: '22.04' }) // 'Ubuntu:22.04:LTS'
 * @example osvEcosystemFor({ id: 'sles', idLike: ['suse'], versionId: '15.5' }) // 'SUSE:Linux Enterprise Server 15 SP5'
 */
export function osvEcosystemFor(os: OsRelease): string | undefined {
  if (os.id === 'rhel') return redHatEcosystem(os);
  if (os.id === 'opensuse-tumbleweed') return 'openSUSE:Tumbleweed';
  const version = os.versionId;
  if (!version || !/^\d+(\.\d+)*$/.test(version)) return undefined;
  const [major, minor] = version.split('.') as [string, string | undefined];
  switch (os.id) {
    case 'debian':
      return `Debian:${major}`;
    case 'ubuntu':
      if (minor === undefined) return undefined;
      // LTS releases come every two years in April (18.04, 20.04, 22.04, 24.04); OSV requires the suffix.
      return `Ubuntu:${major}.${minor}${minor === '04' && Number(major) % 2 === 0 ? ':LTS' : ''}`;
    case 'alpine':
      return minor === undefined ? undefined : `Alpine:v${major}.${minor}`;
    case 'almalinux':
      return `AlmaLinux:${major}`;
    case 'rocky':
      return `Rocky Linux:${major}`;
    case 'opensuse-leap':
      return minor === undefined ? undefined : `openSUSE:Leap ${major}.${minor}`;
    case 'sles':
      return `SUSE:Linux Enterprise Server ${major}${minor !== undefined && minor !== '0' ? ` SP${minor}` : ''}`;
    default:
      return undefined;
  }
}

function redHatEcosystem(os: OsRelease): string | undefined {
  // cpe:/o:redhat:enterprise_linux:9::baseos, cpe:/o:redhat:enterprise_linux:7.9:GA:server
  const cpe = /^cpe:\/o:redhat:([a-z_]+):(\d+)/.exec(os.cpeName ?? '');
  if (cpe) return `Red Hat:${cpe[1]}:${cpe[2]}`;
  const major = /^(\d+)/.exec(os.versionId ?? '')?.[1];
  return major === undefined ? undefined : `Red Hat:enterprise_linux:${major}`;
}

/**
 * The `--distro` flag as an `OsRelease`, or undefined when it cannot be read.
 *
 * @deprecated use `parseDistroFlag`, whose error says what is wrong; kept while the CLI calls it.
 * @example osReleaseFromDistro('debian:12') // { id: 'debian', idLike: [], versionId: '12' }
 */
export function osReleaseFromDistro(distro: string): OsRelease | undefined {
  try {
    return parseDistroFlag(distro);
  } catch (error) {
    if (error instanceof InputError) return undefined;
    throw error;
  }
}
