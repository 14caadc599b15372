/** Which version scheme orders the versions of an OSV ecosystem. */
import type { VersionScheme } from '../types.js';

const SCHEME_BY_BASE: Record<string, VersionScheme> = {
  Debian: 'dpkg',
  Ubuntu: 'dpkg',
  AlmaLinux: 'rpm',
  'Rocky Linux': 'rpm',
  'Red Hat': 'rpm',
  openSUSE: 'rpm',
  SUSE: 'rpm',
  openEuler: 'rpm',
  Mageia: 'rpm',
  Alpine: 'apk',
  npm: 'semver',
  Go: 'semver',
  'crates.io': 'semver',
  PyPI: 'pypi',
};

/**
 * @example versionSchemeFor('Ubuntu:Pro:22.04:LTS') // 'dpkg'
 */
export function versionSchemeFor(ecosystem: string): VersionScheme | undefined {
  const colon = ecosystem.indexOf(':');
  return SCHEME_BY_BASE[colon === -1 ? ecosystem : ecosystem.slice(0, colon)];
}
