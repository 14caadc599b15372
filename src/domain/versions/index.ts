/** Picks the comparator of a version scheme: the single place that lists them all. */
import type { VersionScheme } from '../types.js';
import { apkComparator } from './apk.js';
import type { VersionComparator } from './comparator.js';
import { dpkgComparator, dpkgVersionProblem } from './dpkg.js';
import { pep440Comparator } from './pep440.js';
import { rpmComparator, rpmVersionProblem } from './rpm.js';
import { semverComparator } from './semver.js';

const COMPARATORS: Record<VersionScheme, VersionComparator> = {
  dpkg: dpkgComparator,
  rpm: rpmComparator,
  apk: apkComparator,
  semver: semverComparator,
  pypi: pep440Comparator,
};

export const ALL_SCHEMES = Object.keys(COMPARATORS) as VersionScheme[];

/** @example comparatorFor('dpkg').compare('1.0-1', '1.0-2') // -1 */
export function comparatorFor(scheme: VersionScheme): VersionComparator {
  return COMPARATORS[scheme];
}

/**
 * Why `version` is not a version of `scheme`, or `undefined` when it is one: dpkg's own
 * `parseversion` errors (its warnings pass, as dpkg installs such packages), rpmbuild's rules for
 * epoch, version and release (see `rpmVersionProblem`), apk-tools 3's and the SemVer / PEP 440
 * grammars. For checking versions read from inventories and API bodies before they reach detection.
 *
 * @example versionProblem('dpkg', 'x:1.0-1') // 'invalid dpkg version "x:1.0-1": epoch in version is empty'
 * @example versionProblem('rpm', '3.0.7-6.el9_2') // undefined
 */
export function versionProblem(scheme: VersionScheme, version: string): string | undefined {
  const problem = scheme === 'dpkg' ? dpkgVersionProblem(version) : scheme === 'rpm' ? rpmVersionProblem(version) : COMPARATORS[scheme].isValid(version) ? undefined : `does not follow the ${SCHEME_NAMES[scheme]} version grammar`;
  return problem === undefined ? undefined : `invalid ${scheme} version ${JSON.stringify(version.length > 80 ? `${version.slice(0, 80)}…` : version)}: ${problem}`;
}

const SCHEME_NAMES: Record<VersionScheme, string> = { dpkg: 'Debian', rpm: 'RPM', apk: 'apk-tools', semver: 'SemVer 2.0', pypi: 'PEP 440' };
