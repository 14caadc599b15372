/**
 * The advisory model detection works on: an OSV record reduced to what matching, prioritisation
 * and reporting need. `osv-record.ts` validates raw OSV JSON and converts it into this.
 */
import type { Severity } from '../types.js';

/** One OSV range event; exactly one key is set, as in the OSV schema. */
export type RangeEvent =
  | { introduced: string }
  | { fixed: string }
  | { last_affected: string }
  | { limit: string };

export interface AffectedRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT';
  events: RangeEvent[];
}

export interface AffectedPackage {
  /** OSV ecosystem with its release suffix, e.g. `Debian:12`, `AlmaLinux:9`, `PyPI`. */
  ecosystem: string;
  /** Package name as the ecosystem keys advisories (Debian source package, rpm binary name, apk origin). */
  name: string;
  ranges: AffectedRange[];
  /** Exact affected versions (`affected[].versions`). */
  versions: string[];
}

export interface CvssScore {
  /** `CVSS_V3` or `CVSS_V4` (`CVSS_V2` vectors are kept but not scored). */
  type: 'CVSS_V2' | 'CVSS_V3' | 'CVSS_V4';
  vector: string;
  /** Base score computed from the vector (never trusted from free text); undefined for v2. */
  baseScore?: number;
}

export interface Advisory {
  id: string;
  /** Other ids of the same issue, CVE ids first among them when present. */
  aliases: string[];
  /**
   * Ids of related issues: for distribution errata (ALSA, RHSA) the CVEs the update fixes. Searches
   * by CVE and the KEV/EPSS signals look at aliases and related ids alike.
   */
  related: string[];
  /** OSV `modified`: imports skip records whose modified time is unchanged. */
  modified: Date;
  published?: Date;
  /** Set when the record was withdrawn; withdrawn advisories never produce findings. */
  withdrawn?: Date;
  summary?: string;
  /** Worst of: CVSS base score band, the ecosystem's own severity word. */
  severity: Severity;
  cvss: CvssScore[];
  affected: AffectedPackage[];
  /** Advisory page or other references, in feed order. */
  references: string[];
}
