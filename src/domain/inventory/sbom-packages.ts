/**
 * Shared last step of the SBOM parsers: each component's purl becomes a package, and every
 * component that does not is counted and explained by reason rather than dropped in silence.
 */
import type { InstalledPackage } from '../types.js';
import { packageFromPurl, type PurlContext, type PurlSkipReason } from './package-from-purl.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { parsePurl } from './purl.js';

/** One SBOM component or package, reduced to what becomes an installed package. */
export interface SbomEntry {
  purl: string | undefined;
  /** JSON path of the purl, named in errors: `components[3].purl`. */
  field: string;
  source?: { name: string; version?: string };
}

type SkipReason = PurlSkipReason | 'no-purl';

const SKIP_EXPLANATIONS: Record<SkipReason, string> = {
  'no-purl': 'have no purl',
  'no-version': 'have a purl without a version',
  'unsupported-type': 'have a purl type with no OSV ecosystem',
  'unknown-distro': 'are OS packages whose distribution is unknown (no usable distro qualifier or operating-system component; give --distro)',
};

/**
 * @example sbomPackages([{ purl: 'pkg:npm/ms@2.1.3', field: 'components[0].purl' }], 'bom.json', undefined).packages
 *   // [{ ecosystem: 'npm', name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3' }]
 */
export function sbomPackages(entries: SbomEntry[], fileName: string, fallbackOsEcosystem: string | undefined): ParsedInventory {
  const packages: InstalledPackage[] = [];
  const skippedByReason = new Map<SkipReason, number>();
  const skip = (reason: SkipReason) => skippedByReason.set(reason, (skippedByReason.get(reason) ?? 0) + 1);
  for (const entry of entries) {
    if (entry.purl === undefined || entry.purl === '') {
      skip('no-purl');
      continue;
    }
    const context: PurlContext = {};
    if (fallbackOsEcosystem !== undefined) context.fallbackOsEcosystem = fallbackOsEcosystem;
    if (entry.source !== undefined) context.source = entry.source;
    const outcome = packageFromPurl(parsePurl(entry.purl, { file: fileName, field: entry.field }), entry.purl, context);
    if ('package' in outcome) packages.push(outcome.package);
    else skip(outcome.skipped);
  }
  let skipped = 0;
  const warnings: string[] = [];
  for (const [reason, count] of skippedByReason) {
    skipped += count;
    warnings.push(`${count} component(s) skipped: they ${SKIP_EXPLANATIONS[reason]}`);
  }
  return { packages, skipped, warnings };
}
