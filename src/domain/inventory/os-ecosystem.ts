/**
 * Derives the OSV ecosystem of a host's OS packages from its os-release, with the release suffix
 * OSV uses: `Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.18`, `AlmaLinux:9`, `Rocky Linux:9`,
 * `Red Hat:enterprise_linux:9`.
 */
import type { OsRelease } from '../types.js';

/**
 * @example osvEcosystemFor({ id: 'ubuntu', idLike: ['debian'], versionId: '22.04' }) // 'Ubuntu:22.04:LTS'
 */
export function osvEcosystemFor(os: OsRelease): string | undefined {
  const version = os.versionId;
  if (!version) return undefined;
  const major = version.split('.')[0]!;
  switch (os.id) {
    case 'debian':
      return `Debian:${major}`;
    case 'ubuntu': {
      const [year, month] = version.split('.');
      // LTS releases come every two years in April.
      const lts = month === '04' && Number(year) % 2 === 0;
      return `Ubuntu:${version}${lts ? ':LTS' : ''}`;
    }
    case 'alpine':
      return `Alpine:v${version.split('.').slice(0, 2).join('.')}`;
    case 'almalinux':
      return `AlmaLinux:${major}`;
    case 'rocky':
      return `Rocky Linux:${major}`;
    case 'rhel':
      return `Red Hat:enterprise_linux:${major}`;
    case 'opensuse-leap':
      return `openSUSE:Leap ${version}`;
    case 'sles':
      return `SUSE:Linux Enterprise Server ${major}`;
    case 'openeuler':
      return `openEuler:${version}`;
    default:
      return undefined;
  }
}

/**
 * Parses a `--distro` flag such as `debian:12`, `ubuntu:22.04`, `alpine:3.18` or `almalinux:9`.
 *
 * @example osReleaseFromDistro('debian:12') // { id: 'debian', idLike: [], versionId: '12' }
 */
export function osReleaseFromDistro(distro: string): OsRelease | undefined {
  const match = /^([a-z-]+):(\d+(?:\.\d+)*)$/i.exec(distro.trim());
  if (!match) return undefined;
  const id = match[1]!.toLowerCase();
  return { id: id === 'rocky-linux' ? 'rocky' : id, idLike: [], versionId: match[2]! };
}
