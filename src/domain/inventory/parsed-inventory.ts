/** What every inventory parser returns: the installed packages and an account of what it left out. */
import type { InstalledPackage } from '../types.js';

export interface ParsedInventory {
  packages: InstalledPackage[];
  /**
   * Records present in the file that did not become packages: dpkg `deinstall ok config-files`,
   * SBOM components without a usable purl, lockfile entries without a pinned registry version.
   */
  skipped: number;
  /** One sentence per kind of thing skipped or guessed, for the operator. */
  warnings: string[];
}
