/** What every inventory parser returns. */
import type { InstalledPackage } from '../types.js';

export interface ParsedInventory {
  packages: InstalledPackage[];
  /** Records present but not installed packages (e.g. dpkg `deinstall ok config-files`), or without a purl. */
  skipped: number;
  warnings: string[];
}
