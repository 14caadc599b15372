/** Picks the comparator of a version scheme: the single place that lists them all. */
import type { VersionScheme } from '../types.js';
import { apkComparator } from './apk.js';
import type { VersionComparator } from './comparator.js';
import { dpkgComparator } from './dpkg.js';
import { pep440Comparator } from './pep440.js';
import { rpmComparator } from './rpm.js';
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
