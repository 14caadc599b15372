/**
 * Which version scheme orders the versions of an OSV ecosystem, looked up by the ecosystem's base
 * (the part before the first `:`). openEuler and Mageia are rpm distributions OSV also publishes;
 * Maven, RubyGems, NuGet and Packagist have no comparator yet, so they give undefined.
 */
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
